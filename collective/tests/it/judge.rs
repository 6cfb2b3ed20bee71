//! The proof of contribution on realistic exports: valid, broken, duplicate, near copy,
//! someone else's data, thin data; and nothing lost across a reopen of the index. Judged by
//! [`Judge::judge`], the path the server takes, against a chain with nothing else on it.

use std::path::Path;

use datacoop_collective::{
	Format, Index, Judge, Judgement, Keys, Match, Rules, DEFAULT_MAX_RECORDS,
	DEFAULT_MAX_RECORD_BYTES,
};
use serde_json::json;

use crate::Quiet;

const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";

fn rules() -> Rules {
	Rules {
		format: Format::Json {
			records: Some("/messages".into()),
			schema: Some(json!({
				"type": "object",
				"required": ["account", "text", "at"],
				"properties": {"account": {"type": "string"}, "text": {"type": "string"}, "at": {"type": "integer"}}
			})),
		},
		min_bytes: 10,
		max_bytes: 10 << 20,
		target_records: 100,
		owner_field: Some("/account".into()),
		max_records: DEFAULT_MAX_RECORDS,
		max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
		fields: None,
		aggregate: None,
	}
}

fn export(owner: &str, range: std::ops::Range<u32>) -> Vec<u8> {
	let messages: Vec<_> = range
		.map(|i| json!({"account": owner, "text": format!("message {i} about topic {}", i % 7), "at": 1_700_000_000 + i}))
		.collect();
	serde_json::to_vec(&json!({"messages": messages})).unwrap()
}

/// DAO #0's judge by `rules` with `keys`, its index at `index`.
fn judge_at(index: &Path, rules: Rules, keys: Keys) -> Judge {
	Judge::new(0, rules, keys, Index::open(index).unwrap()).unwrap()
}

/// `data` judged as contribution `id` of `contributor`'s.
async fn judged(judge: &Judge, id: u64, contributor: &str, data: &[u8]) -> Judgement {
	judge.judge(id, contributor, data.to_vec(), &Quiet).await.unwrap()
}

#[tokio::test]
async fn a_full_export_scores_full_and_its_copies_do_not() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("dao0.redb");
	let judge = judge_at(&path, rules(), Keys::new([9; 32]));

	let first = judged(&judge, 0, BOB, &export(BOB, 0..200)).await;
	assert_eq!(first.invalid, None);
	assert_eq!(first.scores.overall.deconstruct(), 1_000_000, "{:?}", first.scores);
	// Valid, it is in the index as soon as it is judged.
	assert_eq!(judge.index().len().unwrap(), 1);

	// The same data again (another encryption, another order): a duplicate.
	let mut reordered: serde_json::Value = serde_json::from_slice(&export(BOB, 0..200)).unwrap();
	reordered["messages"].as_array_mut().unwrap().reverse();
	let again = judged(&judge, 1, BOB, &serde_json::to_vec(&reordered).unwrap()).await;
	assert_eq!(again.invalid.as_deref(), Some("duplicate of contribution #0"));
	assert_eq!(again.closest, Match::Exact { contribution: 0 });

	// A near copy (190 of 210 records shared): valid, but uniqueness and overall fall.
	let near = judged(&judge, 2, BOB, &export(BOB, 20..230)).await;
	assert_eq!(near.invalid, None);
	assert!(near.scores.uniqueness.deconstruct() < 300_000, "{:?}", near.scores);
	assert!(near.scores.overall.deconstruct() < 300_000);

	// New data: unique again.
	let fresh = judged(&judge, 3, BOB, &export(BOB, 1000..1200)).await;
	assert!(fresh.scores.uniqueness.deconstruct() > 950_000, "{:?}", fresh.scores);

	// Reopened, the index still knows contribution #0.
	drop(judge);
	let judge = judge_at(&path, rules(), Keys::new([9; 32]));
	let again = judged(&judge, 4, BOB, &export(BOB, 0..200)).await;
	assert_eq!(again.closest, Match::Exact { contribution: 0 });
}

#[tokio::test]
async fn broken_foreign_thin_and_sloppy_data() {
	let dir = tempfile::tempdir().unwrap();
	let judge = judge_at(&dir.path().join("i.redb"), rules(), Keys::new([9; 32]));

	let broken = br#"{"messages":[{"account":"x","text":"hi","at":"yesterday"}]}"#;
	let j = judged(&judge, 0, BOB, broken).await;
	assert_eq!(
		j.invalid.as_deref(),
		Some("record 0 breaks the schema (rule /properties/at/type)"),
		"{j:?}"
	);
	assert_eq!(j.scores.overall.deconstruct(), 0);

	let j = judged(&judge, 1, BOB, b"not json at all").await;
	assert!(j.invalid.unwrap().starts_with("not JSON"));

	let j = judged(&judge, 2, BOB, b"{}").await;
	assert!(j.invalid.unwrap().contains("outside"), "too small");

	// Eve contributes Bob's export: ownership 0, overall 0 (valid format, worthless).
	let j = judged(&judge, 3, EVE, &export(BOB, 0..200)).await;
	assert_eq!((j.scores.ownership.deconstruct(), j.scores.overall.deconstruct()), (0, 0));

	// 25 records where the DAO wants 100: quarter quality.
	let j = judged(&judge, 4, BOB, &export(BOB, 0..25)).await;
	assert_eq!(j.scores.quality.deconstruct(), 250_000);

	// Half the texts empty: half quality from that factor (a third of the fields).
	let mut sloppy: serde_json::Value = serde_json::from_slice(&export(BOB, 0..100)).unwrap();
	for (i, m) in sloppy["messages"].as_array_mut().unwrap().iter_mut().enumerate() {
		if i % 2 == 0 {
			m["text"] = json!("");
		}
	}
	let j = judged(&judge, 5, BOB, &serde_json::to_vec(&sloppy).unwrap()).await;
	assert_eq!(j.scores.quality.deconstruct(), 833_333, "{:?}", j.scores); // 250 of 300 fields filled
}

#[tokio::test]
async fn csv_and_raw_daos() {
	let dir = tempfile::tempdir().unwrap();
	let csv_rules = Rules {
		format: Format::Csv { required_columns: vec!["account".into(), "song".into()] },
		min_bytes: 1,
		max_bytes: 1 << 20,
		target_records: 2,
		owner_field: Some("account".into()),
		max_records: DEFAULT_MAX_RECORDS,
		max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
		fields: None,
		aggregate: None,
	};
	let csv = judge_at(&dir.path().join("csv.redb"), csv_rules, Keys::new([3; 32]));
	let plays = format!("account,song,at\n{BOB},Song A,1\n{BOB},Song B,2\n");
	let j = judged(&csv, 0, BOB, plays.as_bytes()).await;
	assert_eq!(j.scores.overall.deconstruct(), 1_000_000, "{j:?}");
	let j = judged(&csv, 1, BOB, b"song\nx\n").await;
	assert!(j.invalid.unwrap().contains("no column \"account\""));

	let raw_rules = Rules {
		format: Format::Raw,
		min_bytes: 1,
		max_bytes: 1 << 20,
		target_records: 3,
		owner_field: None,
		max_records: DEFAULT_MAX_RECORDS,
		max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
		fields: None,
		aggregate: None,
	};
	let raw = judge_at(&dir.path().join("raw.redb"), raw_rules, Keys::new([3; 32]));
	let j = judged(&raw, 0, BOB, b"line one\nline two\n\nline two\n").await;
	// 4 lines: 3 records (2 distinct) and 1 empty line → 3/4 filled × 2/3 distinct × 3/3 of
	// the target
	// (rounded down at each product: a score never rounds up)
	assert_eq!(j.scores.quality.deconstruct(), 499_999, "{:?}", j.scores);
}

/// Attack: a payload of tiny records within the DAO's byte bounds (a million and one `{}`:
/// 3 MB) that would cost 16 bytes of state per record. Refused by the default max_records
/// of rules that do not name one, with a fixed reason, before the rest is read.
#[tokio::test]
async fn many_tiny_records_are_refused_by_the_default_max_records() {
	let dir = tempfile::tempdir().unwrap();
	let rules: Rules = serde_json::from_value(json!({
		"format": {"kind": "json", "records": "/messages"},
		"min_bytes": 10, "max_bytes": 100_000_000, "target_records": 100
	}))
	.unwrap();
	assert_eq!((rules.max_records, rules.max_record_bytes), (1_000_000, 1 << 20));
	let judge = judge_at(&dir.path().join("i.redb"), rules.clone(), Keys::new([9; 32]));
	let mut tiny = String::from("{\"messages\":[");
	tiny.push_str(&"{},".repeat(DEFAULT_MAX_RECORDS as usize));
	tiny.push_str("{}], and then no JSON at all");
	let j = judged(&judge, 0, BOB, tiny.as_bytes()).await;
	assert_eq!(j.invalid.as_deref(), Some("more than 1000000 records (the DAO's max_records)"));
	assert_eq!(j.scores.overall.deconstruct(), 0);
	// Rules past the ceilings are refused when they are set up.
	let mut greedy = rules.clone();
	greedy.max_records = u64::MAX;
	assert!(greedy.check().unwrap_err().contains("max_records"));
}
