//! Aggregate queries without the network: synthetic chat exports (100 channels, 10,000
//! contributors, ages) of 10^4 and 10^6 records in all, ingested into the query engine
//! ([`Engine::ingest`], the refiner's path after decryption), then a count and a mean of the
//! age grouped by channel: the exact answer ([`Engine::exact`]) and its noisy release
//! ([`dp::release`]), what `POST /v1/daos/{id}/query` computes. Prints the peak RSS (`VmHWM`)
//! once the 10^6 records are in.
//!
//!   cargo bench -p datacoop-collective --bench query

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use datacoop_collective::{
	dp,
	engine::{AggregateQuery, Engine, Stat},
	records::{Format, Limits},
	rules::{AggregateRules, GroupKind},
};
use serde_json::json;

const CONTRIBUTORS: u64 = 10_000;
const CHANNELS: u64 = 100;
const LIMITS: Limits = Limits { max_records: 1 << 24, max_record_bytes: 1 << 20 };

fn rules() -> AggregateRules {
	AggregateRules {
		group_by: BTreeMap::from([
			("/at".to_owned(), GroupKind::Day),
			("/channel".to_owned(), GroupKind::Category),
		]),
		values: BTreeMap::from([("/age".to_owned(), [0.0, 120.0])]),
		min_group_size: 5,
		max_records_per_contributor: 100,
		epsilon_per_grant: 10.0,
		max_epsilon_per_query: 1.0,
	}
}

fn format() -> Format {
	Format::Json { records: Some("/messages".into()), schema: None }
}

/// One contribution per contributor, `records / CONTRIBUTORS` messages each: channels and
/// ages spread by a cheap hash, a timestamp a minute apart.
fn contributions(records: u64) -> Vec<(u64, Vec<u8>)> {
	let each = (records / CONTRIBUTORS).max(1);
	(0..CONTRIBUTORS)
		.map(|c| {
			let messages: Vec<_> = (0..each)
				.map(|i| {
					let h = (c * 1_000_003 + i * 7_919).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
					let (at, channel) = (1_700_000_000 + 60 * (c * each + i), h % CHANNELS);
					json!({"account": format!("contributor-{c}"), "text": "some words", "at": at,
						"channel": format!("channel-{channel}"), "age": 18 + (h >> 8) % 70})
				})
				.collect();
			(c, serde_json::to_vec(&json!({"messages": messages})).unwrap())
		})
		.collect()
}

fn ingest(rules: &AggregateRules, contributions: &[(u64, Vec<u8>)]) -> Engine {
	let mut engine = Engine::new(rules).unwrap();
	for (contributor, plain) in contributions {
		engine.ingest(*contributor, plain, &format(), rules, LIMITS).unwrap();
	}
	engine
}

/// The peak resident set of this process, as the kernel reports it.
fn peak_rss() -> String {
	std::fs::read_to_string("/proc/self/status")
		.ok()
		.and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
		.unwrap_or_else(|| "VmHWM: unknown".to_owned())
}

fn bench(c: &mut Criterion) {
	let rules = rules();
	let query = AggregateQuery {
		stats: vec![Stat::Count, Stat::Mean("/age".into())],
		group_by: vec!["/channel".into()],
		epsilon: 1.0,
	};
	let mut group = c.benchmark_group("query");
	group.sample_size(10);
	for records in [10_000u64, 1_000_000] {
		let contributions = contributions(records);
		group.throughput(Throughput::Elements(records));
		group.bench_with_input(BenchmarkId::new("ingest", records), &contributions, |b, cs| {
			b.iter(|| ingest(&rules, cs))
		});
		let engine = ingest(&rules, &contributions);
		assert_eq!(engine.rows(), records);
		drop(contributions);
		eprintln!("{records} records in the engine; {}", peak_rss());
		group.throughput(Throughput::Elements(1));
		group.bench_function(BenchmarkId::new("count and mean by channel, exact", records), |b| {
			b.iter(|| engine.exact(&query, rules.min_group_size).unwrap())
		});
		let exact = engine.exact(&query, rules.min_group_size).unwrap();
		eprintln!("{} of {CHANNELS} channels answered", exact.len());
		group
			.bench_function(BenchmarkId::new("count and mean by channel, release", records), |b| {
				b.iter(|| dp::release(&exact, &query, &rules).unwrap())
			});
		group.bench_function(
			BenchmarkId::new("count and mean by channel, exact + release", records),
			|b| {
				b.iter(|| {
					let exact = engine.exact(&query, rules.min_group_size).unwrap();
					dp::release(&exact, &query, &rules).unwrap()
				})
			},
		);
	}
	group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
