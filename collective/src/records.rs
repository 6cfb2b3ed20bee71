//! A contribution's plaintext read as records, in the DAO's format, normalized so that the
//! same data gives the same records however it was written.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Keys;

/// The format a DAO accepts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Format {
	/// One JSON document: an array of records, or one object holding an array of records at
	/// `records` (a JSON pointer such as `/messages`), or one object as a single record.
	/// Each record must match `schema` (JSON Schema) when one is given.
	Json {
		#[serde(default)]
		records: Option<String>,
		#[serde(default)]
		schema: Option<Value>,
	},
	/// CSV with a header row that has at least `required_columns`.
	Csv { required_columns: Vec<String> },
	/// Anything, one record per non-empty line (UTF-8 or not).
	Raw,
}

/// What reading found: a keyed hash of each record's normalized form (the records themselves
/// are not kept: the fingerprint, the MinHash signature and the distinct count need only
/// these), and counts for the scores.
#[derive(Debug, Default)]
pub struct Records {
	/// [`Keys::record_hash`] of each record, in the order read, repeats included.
	pub hashes: Vec<u128>,
	/// Fields seen, and how many of them were empty (`""`, `null`, `[]`, `{}` or an empty
	/// CSV cell).
	pub fields: u64,
	pub empty_fields: u64,
	/// Records whose ownership field names the contributor (see [`Owner`]).
	pub owned: u64,
}

/// Which field of a record names the account the data belongs to (a JSON pointer within a
/// record, or a CSV column), and the contributor's account (SS58) to compare it with.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
	pub field: &'a str,
	pub account: &'a str,
}

/// Why the plaintext is not in the DAO's format: the reason stored on chain (short).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

fn bad(reason: impl Into<String>) -> FormatError {
	let mut r: String = reason.into();
	// On-chain reasons are at most 128 bytes.
	if r.len() > 120 {
		let mut cut = 120;
		while !r.is_char_boundary(cut) {
			cut -= 1;
		}
		r.truncate(cut);
		r.push('…');
	}
	FormatError(r)
}

/// Reads `plain` as `format`, hashing each record's normalized form with `keys`, counting
/// the records `owner` names as the contributor's.
pub fn read(
	plain: &[u8],
	format: &Format,
	owner: Option<Owner<'_>>,
	keys: &Keys,
) -> Result<Records, FormatError> {
	let mut out = Records::default();
	match format {
		Format::Json { records, schema } => {
			read_json(plain, records.as_deref(), schema.as_ref(), owner, keys, &mut out)?
		},
		Format::Csv { required_columns } => {
			read_csv(plain, required_columns, owner, keys, &mut out)?
		},
		Format::Raw => read_raw(plain, keys, &mut out),
	}
	Ok(out)
}

fn count_fields(value: &Value, out: &mut Records) {
	match value {
		Value::Object(map) => {
			for v in map.values() {
				out.fields += 1;
				let empty = match v {
					Value::Null => true,
					Value::String(s) => s.trim().is_empty(),
					Value::Array(a) => a.is_empty(),
					Value::Object(o) => o.is_empty(),
					_ => false,
				};
				out.empty_fields += u64::from(empty);
			}
		},
		_ => out.fields += 1,
	}
}

/// Checks, counts and hashes JSON records one at a time, as the parser meets them.
struct JsonRecords<'a> {
	validator: Option<jsonschema::Validator>,
	owner: Option<Owner<'a>>,
	keys: &'a Keys,
	out: &'a mut Records,
	/// The canonical form of the record being hashed (reused).
	canonical: Vec<u8>,
}

impl JsonRecords<'_> {
	fn take(&mut self, record: &Value) -> Result<(), FormatError> {
		let i = self.out.hashes.len();
		if let Some(v) = &self.validator {
			if !v.is_valid(record) {
				// The reason goes on chain: it names where and which rule, never the value
				// (the validator's own message quotes the data).
				let (at, rule) = v
					.iter_errors(record)
					.next()
					.map(|e| (e.instance_path().to_string(), e.schema_path().to_string()))
					.unwrap_or_default();
				return Err(bad(format!("record {i} breaks the schema at {at} (rule {rule})")));
			}
		}
		count_fields(record, self.out);
		if let Some(owner) = self.owner {
			let named = record.pointer(owner.field).and_then(Value::as_str);
			self.out.owned += u64::from(named == Some(owner.account));
		}
		// serde_json's maps are sorted by key: this is a canonical form of the record.
		self.canonical.clear();
		serde_json::to_writer(&mut self.canonical, record).expect("a Value always serializes");
		self.out.hashes.push(self.keys.record_hash(&self.canonical));
		Ok(())
	}
}

/// Where the walk to the records stopped, when it did not reach the end of the document.
enum Stop {
	/// A record was refused.
	Record(FormatError),
	/// What the pointer names is not an array.
	NotAnArray,
	/// The object holding the records names them twice.
	Twice,
}

/// Walks a JSON document to the array at `tokens` (a JSON pointer, split) without building
/// the document, and hands each of its elements to `records` as it is parsed: memory holds one
/// record at a time, whatever the document's size.
struct Walk<'r, 'a> {
	tokens: &'r [String],
	records: &'r mut JsonRecords<'a>,
	found: &'r mut bool,
	stop: &'r mut Option<Stop>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Walk<'_, '_> {
	type Value = ();

	fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
		d.deserialize_any(self)
	}
}

/// Ends the walk early: the parser's error only carries it out, `stop` says why.
fn stop_at<E: serde::de::Error>(slot: &mut Option<Stop>, why: Stop) -> Result<(), E> {
	*slot = Some(why);
	Err(E::custom("stopped"))
}

impl Walk<'_, '_> {
	/// A scalar: at the pointer's end, not an array of records; before it, the pointer
	/// leads nowhere.
	fn not_an_array<E: serde::de::Error>(self) -> Result<(), E> {
		if self.tokens.is_empty() {
			*self.found = true;
			return stop_at(self.stop, Stop::NotAnArray);
		}
		Ok(())
	}
}

macro_rules! scalar_visits {
	($($name:ident: $t:ty),*) => {$(
		fn $name<E: serde::de::Error>(self, _: $t) -> Result<(), E> {
			self.not_an_array()
		}
	)*};
}

impl<'de> serde::de::Visitor<'de> for Walk<'_, '_> {
	type Value = ();

	fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
		f.write_str("a JSON document")
	}

	scalar_visits!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

	fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
		self.not_an_array()
	}

	fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
		let Walk { tokens, records, found, stop } = self;
		match tokens.split_first() {
			None => {
				*found = true;
				stop_at(stop, Stop::NotAnArray)
			},
			Some((token, rest)) => {
				while let Some(key) = map.next_key::<String>()? {
					if key == *token {
						if *found {
							return stop_at(stop, Stop::Twice);
						}
						map.next_value_seed(Walk {
							tokens: rest,
							records: &mut *records,
							found: &mut *found,
							stop: &mut *stop,
						})?;
					} else {
						map.next_value::<serde::de::IgnoredAny>()?;
					}
				}
				Ok(())
			},
		}
	}

	fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
		let Walk { tokens, records, found, stop } = self;
		match tokens.split_first() {
			None => {
				*found = true;
				while let Some(record) = seq.next_element::<Value>()? {
					if let Err(e) = records.take(&record) {
						return stop_at(stop, Stop::Record(e));
					}
				}
				Ok(())
			},
			Some((token, rest)) => {
				// An array index, as JSON pointers write it (no sign, no leading zero).
				let wanted =
					token.parse::<usize>().ok().filter(|_| token == "0" || !token.starts_with('0'));
				let mut i = 0usize;
				loop {
					if Some(i) == wanted {
						let walk = Walk {
							tokens: rest,
							records: &mut *records,
							found: &mut *found,
							stop: &mut *stop,
						};
						if seq.next_element_seed(walk)?.is_none() {
							return Ok(());
						}
					} else if seq.next_element::<serde::de::IgnoredAny>()?.is_none() {
						return Ok(());
					}
					i += 1;
				}
			},
		}
	}
}

/// The tokens of a JSON pointer (RFC 6901): `/a/b~1c` is `a`, `b/c`.
fn pointer_tokens(pointer: &str) -> Result<Vec<String>, FormatError> {
	if pointer.is_empty() {
		return Ok(Vec::new());
	}
	let Some(rest) = pointer.strip_prefix('/') else {
		return Err(bad(format!("the DAO's records pointer {pointer:?} does not start with /")));
	};
	Ok(rest.split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

fn read_json(
	plain: &[u8],
	pointer: Option<&str>,
	schema: Option<&Value>,
	owner: Option<Owner<'_>>,
	keys: &Keys,
	out: &mut Records,
) -> Result<(), FormatError> {
	let validator = match schema {
		Some(s) => Some(
			jsonschema::validator_for(s)
				.map_err(|e| bad(format!("the DAO's schema is invalid: {e}")))?,
		),
		None => None,
	};
	let mut records = JsonRecords { validator, owner, keys, out, canonical: Vec::new() };
	let not_json = |e: serde_json::Error| bad(format!("not JSON: {e}"));
	let p = pointer.unwrap_or("");
	let first = plain.iter().find(|b| !b.is_ascii_whitespace());
	match pointer {
		// No pointer and not an array: the whole document is one record.
		None if first != Some(&b'[') => {
			let doc: Value = serde_json::from_slice(plain).map_err(not_json)?;
			records.take(&doc)?;
		},
		_ => {
			let tokens = pointer_tokens(p)?;
			let (mut found, mut stop) = (false, None);
			let mut de = serde_json::Deserializer::from_slice(plain);
			let walk =
				Walk { tokens: &tokens, records: &mut records, found: &mut found, stop: &mut stop };
			let walked =
				serde::de::DeserializeSeed::deserialize(walk, &mut de).and_then(|()| de.end());
			if let Err(e) = walked {
				return Err(match stop {
					Some(Stop::Record(reason)) => reason,
					Some(Stop::NotAnArray) => bad(format!("{p} is not an array of records")),
					Some(Stop::Twice) => bad(format!("{p} appears twice in the document")),
					None => not_json(e),
				});
			}
			if !found {
				return Err(bad(format!("no {p} in the document")));
			}
		},
	}
	if out.hashes.is_empty() {
		return Err(bad("no records"));
	}
	Ok(())
}

fn read_csv(
	plain: &[u8],
	required: &[String],
	owner: Option<Owner<'_>>,
	keys: &Keys,
	out: &mut Records,
) -> Result<(), FormatError> {
	let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(plain);
	let headers = reader.headers().map_err(|e| bad(format!("not CSV: {e}")))?.clone();
	let names: Vec<String> = headers.iter().map(|h| h.trim().to_owned()).collect();
	for column in required {
		if !names.iter().any(|n| n == column) {
			return Err(bad(format!("no column {column:?}")));
		}
	}
	let owner_index = owner.and_then(|o| names.iter().position(|n| n == o.field));
	let mut row = csv::StringRecord::new();
	let mut record = Vec::new();
	let mut i = 0u64;
	loop {
		i += 1;
		match reader.read_record(&mut row) {
			Ok(true) => {},
			Ok(false) => break,
			Err(e) => return Err(bad(format!("CSV row {i}: {e}"))),
		}
		// The normalized record: trimmed cells joined by the unit separator.
		record.clear();
		for (j, cell) in row.iter().enumerate() {
			let cell = cell.trim();
			out.fields += 1;
			out.empty_fields += u64::from(cell.is_empty());
			if j > 0 {
				record.push(0x1f);
			}
			record.extend_from_slice(cell.as_bytes());
		}
		if let (Some(k), Some(owner)) = (owner_index, owner) {
			out.owned += u64::from(row.get(k).map(str::trim) == Some(owner.account));
		}
		out.hashes.push(keys.record_hash(&record));
	}
	if out.hashes.is_empty() {
		return Err(bad("no rows"));
	}
	Ok(())
}

fn read_raw(plain: &[u8], keys: &Keys, out: &mut Records) {
	// A final newline ends the last line; it does not start an empty one.
	let plain = plain.strip_suffix(b"\n").unwrap_or(plain);
	for line in plain.split(|&b| b == b'\n') {
		let line = line.strip_suffix(b"\r").unwrap_or(line);
		out.fields += 1;
		if line.iter().all(u8::is_ascii_whitespace) {
			out.empty_fields += 1;
			continue;
		}
		out.hashes.push(keys.record_hash(line));
	}
}

#[cfg(test)]
mod tests {
	use serde_json::json;

	use super::*;

	fn keys() -> Keys {
		Keys::new([4; 32])
	}
	const JSON: Format = Format::Json { records: None, schema: None };

	#[test]
	fn json_records_are_canonical_whatever_the_key_order_and_spacing() {
		let a = read(br#"[{"b":1,"a":"x"}]"#, &JSON, None, &keys()).unwrap();
		let b = read(b"[ {\"a\" : \"x\",\n \"b\": 1} ]", &JSON, None, &keys()).unwrap();
		assert_eq!(a.hashes, b.hashes);
		assert_eq!(a.hashes.len(), 1);
		// a single object is one record; the same record in an array hashes the same
		let c = read(br#" {"a":"x","b":1}"#, &JSON, None, &keys()).unwrap();
		assert_eq!(a.hashes, c.hashes);
		assert_ne!(a.hashes, read(br#"[{"b":2,"a":"x"}]"#, &JSON, None, &keys()).unwrap().hashes);
	}

	#[test]
	fn schemas_and_pointers() {
		let format = Format::Json {
			records: Some("/messages".into()),
			schema: Some(
				json!({"type": "object", "required": ["text", "at"], "properties": {"at": {"type": "integer"}}}),
			),
		};
		let read = |doc: &[u8]| read(doc, &format, None, &keys());
		let ok = read(br#"{"before":{"x":[1,{"y":null}]},"messages":[{"text":"hi","at":1},{"text":"","at":2}],"after":3}"#)
			.unwrap();
		assert_eq!((ok.hashes.len(), ok.fields, ok.empty_fields), (2, 4, 1));
		let e =
			read(br#"{"messages":[{"text":"hi","at":1},{"text":"hi","at":"noon"}]}"#).unwrap_err();
		assert!(
			e.0.contains("record 1 breaks the schema at /at (rule /properties/at/type)"),
			"{e}"
		);
		// the reason goes on chain: it must not quote the contributor's data
		assert!(!e.0.contains("noon"), "{e}");
		for (doc, reason) in [
			(&br#"{"other":[]}"#[..], "no /messages in the document"),
			(br#"{"other":{"messages":[{"text":"hi","at":1}]}}"#, "no /messages in the document"),
			(br#"[{"messages":[]}]"#, "no /messages in the document"),
			(br#"{"messages":[]}"#, "no records"),
			(br#"{"messages":{"text":"hi","at":1}}"#, "/messages is not an array of records"),
			(br#"{"messages":"hi"}"#, "/messages is not an array of records"),
			(br#"{"messages":[{"text":"a","at":1}],"messages":[]}"#, "/messages appears twice"),
		] {
			let e = read(doc).unwrap_err();
			assert!(e.0.starts_with(reason), "{}: {e}", String::from_utf8_lossy(doc));
		}
		for doc in [&b"{"[..], b"", b"{\"messages\":[{\"text\":\"hi\",\"at\":1}]} x", b"[1,]"] {
			let e = read(doc).unwrap_err();
			assert!(e.0.starts_with("not JSON"), "{}: {e}", String::from_utf8_lossy(doc));
		}
	}

	#[test]
	fn pointers_reach_into_arrays_and_escaped_keys() {
		let at = |pointer: &str, doc: &[u8]| {
			let format = Format::Json { records: Some(pointer.into()), schema: None };
			read(doc, &format, None, &keys()).map(|r| r.hashes.len())
		};
		assert_eq!(at("/1/m", br#"[{"m":[1]},{"m":[1,2,3]}]"#), Ok(3));
		assert_eq!(at("/a~1b/c~0d", br#"{"a/b":{"c~d":[{},{}]}}"#), Ok(2));
		assert_eq!(at("", br#"[1,2]"#), Ok(2));
		assert!(at("/01/m", br#"[{"m":[1]},{"m":[1,2,3]}]"#).is_err());
		assert!(at("messages", br#"{"messages":[1]}"#)
			.unwrap_err()
			.0
			.contains("does not start with /"));
	}

	#[test]
	fn deep_nesting_is_refused_not_a_crash() {
		let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
		let e = read(deep.as_bytes(), &JSON, None, &keys()).unwrap_err();
		assert!(e.0.starts_with("not JSON"), "{e}");
	}

	#[test]
	fn owners_are_counted_in_json_and_csv() {
		let owner = Some(Owner { field: "/account", account: "5Grw" });
		let format = Format::Json { records: None, schema: None };
		let r = read(
			br#"[{"account":"5Grw"},{"account":"5Eve"},{"other":1},{"account":"5Grw"}]"#,
			&format,
			owner,
			&keys(),
		)
		.unwrap();
		assert_eq!((r.hashes.len(), r.owned), (4, 2));
	}

	#[test]
	fn csv_columns_rows_and_owners() {
		let format = Format::Csv { required_columns: vec!["account".into(), "text".into()] };
		let owner = Some(Owner { field: "account", account: "5Grw" });
		let r =
			read(b"account,text\n5Grw,hello\n5Grw, \n5Eve,hi\n", &format, owner, &keys()).unwrap();
		assert_eq!((r.hashes.len(), r.fields, r.empty_fields, r.owned), (3, 6, 1, 2));
		// cells are trimmed: the same rows written with spaces are the same records
		let spaced =
			read(b"account , text\n 5Grw ,hello\n5Grw,\n5Eve , hi\n", &format, owner, &keys())
				.unwrap();
		assert_eq!(r.hashes, spaced.hashes);
		assert!(read(b"text\nhello\n", &format, None, &keys())
			.unwrap_err()
			.0
			.contains("no column \"account\""));
		assert!(read(b"account,text\nx\n", &format, None, &keys())
			.unwrap_err()
			.0
			.contains("CSV row 1"));
		assert!(read(b"account,text\n", &format, None, &keys()).unwrap_err().0.contains("no rows"));
	}

	#[test]
	fn raw_lines_skip_blank_ones() {
		let r = read(b"a\r\n\n  \nb\na\n", &Format::Raw, None, &keys()).unwrap();
		assert_eq!((r.hashes.len(), r.fields, r.empty_fields), (3, 5, 2));
		assert_eq!(r.hashes[0], r.hashes[2], "a CR before the newline is not part of the line");
	}

	#[test]
	fn long_reasons_fit_on_chain() {
		let e = bad("é".repeat(200));
		assert!(e.0.len() <= 128);
	}
}
