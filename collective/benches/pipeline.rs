//! The validation pipeline without the network: decrypt a contribution in memory, judge it
//! with [`Judge::judge`], the server's own path (schema, scores, fingerprint, MinHash against
//! a DAO index holding 200 past contributions, and indexing it), and sign the attestation,
//! for a small and a large export; then each stage on its own. Throughput in bytes of
//! plaintext. The chain is a stand-in that holds no other contribution.
//!
//!   cargo bench -p datacoop-collective --bench pipeline

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use datacoop_client::Error as ChainError;
use datacoop_collective::{
	records, Distinct, Format, Index, Judge, Keys, Ledger, Owner, RecordLimits, Rules,
};
use datacoop_envelope::{decrypt, encrypt, Identity, Parallelism};
use datacoop_primitives::contribution::{signing_payload, Attestation, Verdict};
use serde_json::json;
use sp_core::{crypto::Pair as _, sr25519, H256};

const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

/// A chain with no other contribution: nothing accepted, everything in the index counts.
struct Quiet;

impl Ledger for Quiet {
	async fn accepted_with(&self, _: u32, _: [u8; 32]) -> Result<Option<u64>, ChainError> {
		Ok(None)
	}

	async fn counts(&self, _: u32, _: u64) -> Result<bool, ChainError> {
		Ok(true)
	}
}

fn export(first: u32, records: u32) -> Vec<u8> {
	let messages: Vec<_> = (first..first + records)
		.map(|i| json!({"account": BOB, "text": format!("message {i}: some words about topic {}", i % 13), "at": 1_700_000_000u64 + i as u64}))
		.collect();
	serde_json::to_vec(&json!({"messages": messages})).unwrap()
}

/// Decrypts in memory on one core, as the server does.
fn open(collective: &Identity, sealed: &[u8], len: usize) -> Vec<u8> {
	let mut opened = Vec::with_capacity(len);
	decrypt(std::slice::from_ref(collective), sealed, &mut opened, &Parallelism::OneCore).unwrap();
	opened
}

fn pipeline(c: &mut Criterion) {
	let rules = Rules {
		format: Format::Json {
			records: Some("/messages".into()),
			schema: Some(json!({"type": "object", "required": ["account", "text", "at"],
				"properties": {"account": {"type": "string"}, "text": {"type": "string"}, "at": {"type": "integer"}}})),
		},
		min_bytes: 1,
		max_bytes: 1 << 30,
		target_records: 100,
		owner_field: Some("/account".into()),
		max_records: 1 << 24,
		max_record_bytes: 1 << 20,
		fields: None,
		aggregate: None,
	};
	let keys = Keys::new([5; 32]);
	let limits =
		RecordLimits { max_records: rules.max_records, max_record_bytes: rules.max_record_bytes };
	let dir = tempfile::tempdir().unwrap();
	let index = Index::open(&dir.path().join("bench.redb")).unwrap();
	for k in 0..200u32 {
		let past = export(1_000_000 + k * 100, 100);
		let records = records::read(&past, &rules.format, None, limits, &keys).unwrap();
		let distinct = Distinct::of(records.hashes);
		index.add(k as u64, &keys.fingerprint(&distinct), &keys.sketch(&distinct)).unwrap();
	}
	let judge = Judge::new(0, rules.clone(), keys.clone(), index).unwrap();
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let collective = Identity::generate().unwrap();
	let signer = sr25519::Pair::from_seed(&[9; 32]);
	let mut group = c.benchmark_group("validate");
	group.sample_size(10);
	// Each size its own contribution, judged again at every iteration: the index leaves it
	// out of its own comparison, and indexing it again changes nothing.
	for (id, name, records) in [
		(1_000u64, "small (60 records, ~6 KB)", 60u32),
		(1_001, "large (100,000 records, ~10 MB)", 100_000),
	] {
		let plain = export(0, records);
		let mut sealed = Vec::new();
		encrypt(&[collective.to_public()], &plain[..], &mut sealed, &Parallelism::OneCore).unwrap();
		group.throughput(Throughput::Bytes(plain.len() as u64));
		group.bench_with_input(BenchmarkId::from_parameter(name), &sealed, |b, sealed| {
			b.iter(|| {
				let opened = open(&collective, sealed, plain.len());
				let j = runtime.block_on(judge.judge(id, BOB, opened, &Quiet)).unwrap();
				assert!(j.invalid.is_none());
				// and the signature over the attestation, as the server makes it
				let attestation = Attestation {
					dao_id: 0,
					contribution_id: 1,
					contributor: [0; 32],
					ciphertext_hash: H256([1; 32]),
					fingerprint: H256(j.fingerprint),
					scores: Default::default(),
					verdict: Verdict::Valid,
					measurement: H256([2; 32]),
					valid_until: 100u32,
				};
				signer.sign(&signing_payload(&attestation, &H256([3; 32])))
			})
		});
	}
	group.finish();

	// Where the time goes, stage by stage, at both sizes: what grows with size and what not.
	let mut stages = c.benchmark_group("stages");
	stages.sample_size(10);
	for (size, records) in [("small", 60u32), ("large", 100_000)] {
		let plain = export(0, records);
		let mut sealed = Vec::new();
		encrypt(&[collective.to_public()], &plain[..], &mut sealed, &Parallelism::OneCore).unwrap();
		stages.throughput(Throughput::Bytes(plain.len() as u64));
		stages.bench_function(format!("{size}: decrypt"), |b| {
			b.iter(|| open(&collective, &sealed, plain.len()))
		});
		let owner = Some(Owner { field: "/account", account: BOB });
		stages.bench_function(format!("{size}: parse, schema, record hashes"), |b| {
			b.iter(|| records::read(&plain, &rules.format, owner, limits, &keys).unwrap())
		});
		let hashes = records::read(&plain, &rules.format, owner, limits, &keys).unwrap().hashes;
		stages.bench_function(format!("{size}: sort, fingerprint, MinHash"), |b| {
			b.iter(|| {
				let distinct = Distinct::of(hashes.clone());
				(keys.fingerprint(&distinct), keys.sketch(&distinct))
			})
		});
		let distinct = Distinct::of(hashes.clone());
		let (fingerprint, sketch) = (keys.fingerprint(&distinct), keys.sketch(&distinct));
		stages.bench_function(format!("{size}: index lookup"), |b| {
			b.iter(|| judge.index().closest(&fingerprint, &sketch).unwrap())
		});
	}
	stages.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
