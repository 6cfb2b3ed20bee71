//! The proof of contribution on realistic exports: valid, broken, duplicate, near copy,
//! someone else's data, thin data; and nothing lost across a reopen of the index.

use datacoop_collective::{
	judge, Format, Index, Keys, Match, Rules, DEFAULT_MAX_RECORDS, DEFAULT_MAX_RECORD_BYTES,
};
use serde_json::json;

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
	}
}

fn export(owner: &str, range: std::ops::Range<u32>) -> Vec<u8> {
	let messages: Vec<_> = range
		.map(|i| json!({"account": owner, "text": format!("message {i} about topic {}", i % 7), "at": 1_700_000_000 + i}))
		.collect();
	serde_json::to_vec(&json!({"messages": messages})).unwrap()
}

#[test]
fn a_full_export_scores_full_and_its_copies_do_not() {
	let dir = tempfile::tempdir().unwrap();
	let index = Index::open(&dir.path().join("dao0.redb")).unwrap();
	let keys = Keys::new([9; 32]);
	let rules = rules();

	let first = judge(&export(BOB, 0..200), BOB, &rules, &keys, &index).unwrap();
	assert_eq!(first.invalid, None);
	assert_eq!(first.scores.overall, 1_000_000, "{:?}", first.scores);
	index.add(0, &first.fingerprint, first.signature.as_ref().unwrap()).unwrap();

	// The same data again (another encryption, another order): a duplicate.
	let mut reordered: serde_json::Value = serde_json::from_slice(&export(BOB, 0..200)).unwrap();
	reordered["messages"].as_array_mut().unwrap().reverse();
	let again =
		judge(&serde_json::to_vec(&reordered).unwrap(), BOB, &rules, &keys, &index).unwrap();
	assert_eq!(again.invalid.as_deref(), Some("duplicate of contribution #0"));
	assert_eq!(again.closest, Match::Exact { contribution: 0 });

	// A near copy (190 of 210 records shared): valid, but uniqueness and overall fall.
	let near = judge(&export(BOB, 20..230), BOB, &rules, &keys, &index).unwrap();
	assert_eq!(near.invalid, None);
	assert!(near.scores.uniqueness < 300_000, "{:?}", near.scores);
	assert!(near.scores.overall < 300_000);

	// New data: unique again.
	let fresh = judge(&export(BOB, 1000..1200), BOB, &rules, &keys, &index).unwrap();
	assert!(fresh.scores.uniqueness > 950_000, "{:?}", fresh.scores);

	// Reopened, the index still knows contribution #0.
	drop(index);
	let index = Index::open(&dir.path().join("dao0.redb")).unwrap();
	let again = judge(&export(BOB, 0..200), BOB, &rules, &keys, &index).unwrap();
	assert_eq!(again.closest, Match::Exact { contribution: 0 });
}

#[test]
fn broken_foreign_thin_and_sloppy_data() {
	let dir = tempfile::tempdir().unwrap();
	let index = Index::open(&dir.path().join("i.redb")).unwrap();
	let keys = Keys::new([9; 32]);
	let rules = rules();

	let broken = br#"{"messages":[{"account":"x","text":"hi","at":"yesterday"}]}"#;
	let j = judge(broken, BOB, &rules, &keys, &index).unwrap();
	assert_eq!(
		j.invalid.as_deref(),
		Some("record 0 breaks the schema (rule /properties/at/type)"),
		"{j:?}"
	);
	assert_eq!(j.scores.overall, 0);

	let j = judge(b"not json at all", BOB, &rules, &keys, &index).unwrap();
	assert!(j.invalid.unwrap().starts_with("not JSON"));

	let j = judge(b"{}", BOB, &rules, &keys, &index).unwrap();
	assert!(j.invalid.unwrap().contains("outside"), "too small");

	// Eve contributes Bob's export: ownership 0, overall 0 (valid format, worthless).
	let j = judge(&export(BOB, 0..200), EVE, &rules, &keys, &index).unwrap();
	assert_eq!((j.scores.ownership, j.scores.overall), (0, 0));

	// 25 records where the DAO wants 100: quarter quality.
	let j = judge(&export(BOB, 0..25), BOB, &rules, &keys, &index).unwrap();
	assert_eq!(j.scores.quality, 250_000);

	// Half the texts empty: half quality from that factor (a third of the fields).
	let mut sloppy: serde_json::Value = serde_json::from_slice(&export(BOB, 0..100)).unwrap();
	for (i, m) in sloppy["messages"].as_array_mut().unwrap().iter_mut().enumerate() {
		if i % 2 == 0 {
			m["text"] = json!("");
		}
	}
	let j = judge(&serde_json::to_vec(&sloppy).unwrap(), BOB, &rules, &keys, &index).unwrap();
	assert_eq!(j.scores.quality, 833_333, "{:?}", j.scores); // 250 of 300 fields filled
}

#[test]
fn csv_and_raw_daos() {
	let dir = tempfile::tempdir().unwrap();
	let index = Index::open(&dir.path().join("i.redb")).unwrap();
	let keys = Keys::new([3; 32]);
	let csv_rules = Rules {
		format: Format::Csv { required_columns: vec!["account".into(), "song".into()] },
		min_bytes: 1,
		max_bytes: 1 << 20,
		target_records: 2,
		owner_field: Some("account".into()),
		max_records: DEFAULT_MAX_RECORDS,
		max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
	};
	let plays = format!("account,song,at\n{BOB},Song A,1\n{BOB},Song B,2\n");
	let j = judge(plays.as_bytes(), BOB, &csv_rules, &keys, &index).unwrap();
	assert_eq!(j.scores.overall, 1_000_000, "{j:?}");
	let j = judge(b"song\nx\n", BOB, &csv_rules, &keys, &index).unwrap();
	assert!(j.invalid.unwrap().contains("no column \"account\""));

	let raw = Rules {
		format: Format::Raw,
		min_bytes: 1,
		max_bytes: 1 << 20,
		target_records: 3,
		owner_field: None,
		max_records: DEFAULT_MAX_RECORDS,
		max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
	};
	let j = judge(b"line one\nline two\n\nline two\n", BOB, &raw, &keys, &index).unwrap();
	// 4 lines: 3 records (2 distinct) and 1 empty line → 3/4 filled × 2/3 distinct × 3/3 of
	// the target
	// (rounded down at each product: a score never rounds up)
	assert_eq!(j.scores.quality, 499_999, "{:?}", j.scores);
}

/// Attack: a payload of tiny records within the DAO's byte bounds (a million and one `{}`:
/// 3 MB) that would cost 16 bytes of state per record. Refused by the default max_records
/// of rules that do not name one, with a fixed reason, before the rest is read.
#[test]
fn many_tiny_records_are_refused_by_the_default_max_records() {
	let dir = tempfile::tempdir().unwrap();
	let index = Index::open(&dir.path().join("i.redb")).unwrap();
	let keys = Keys::new([9; 32]);
	let rules: Rules = serde_json::from_value(json!({
		"format": {"kind": "json", "records": "/messages"},
		"min_bytes": 10, "max_bytes": 100_000_000, "target_records": 100
	}))
	.unwrap();
	assert_eq!((rules.max_records, rules.max_record_bytes), (1_000_000, 1 << 20));
	let mut tiny = String::from("{\"messages\":[");
	tiny.push_str(&"{},".repeat(DEFAULT_MAX_RECORDS as usize));
	tiny.push_str("{}], and then no JSON at all");
	let j = judge(tiny.as_bytes(), BOB, &rules, &keys, &index).unwrap();
	assert_eq!(j.invalid.as_deref(), Some("more than 1000000 records (the DAO's max_records)"));
	assert_eq!(j.scores.overall, 0);
	// Rules past the ceilings are refused when they are set up.
	let mut greedy = rules.clone();
	greedy.max_records = u64::MAX;
	assert!(greedy.check().unwrap_err().contains("max_records"));
}
