//! A contribution's plaintext read as records, in the DAO's format, normalized so that the
//! same data gives the same records however it was written.

use std::{cell::Cell, io, rc::Rc};

use serde::{Deserialize, Serialize};
use serde_json::{value::RawValue, Value};

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
/// are not kept: the fingerprint, the MinHash sketch and the distinct count need only
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

/// How much of a contribution is read: its records are counted, and each is measured, as
/// they are met, so a contribution past a limit is refused without reading the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
	/// Records at most.
	pub max_records: u64,
	/// Bytes of one record at most (a JSON record, a CSV row with its header's width).
	pub max_record_bytes: u64,
}

impl Limits {
	/// The (`n` + 1)-th record is one too many.
	pub(crate) fn count(&self, n: usize) -> Result<(), FormatError> {
		if n as u64 >= self.max_records {
			return Err(bad(format!(
				"more than {} records (the DAO's max_records)",
				self.max_records
			)));
		}
		Ok(())
	}

	pub(crate) fn too_long(&self) -> FormatError {
		bad(format!(
			"a record is longer than {} bytes (the DAO's max_record_bytes)",
			self.max_record_bytes
		))
	}
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

pub(crate) fn bad(reason: impl Into<String>) -> FormatError {
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

/// Reads `plain` as `format` within `limits`, hashing each record's normalized form with
/// `keys`, counting the records `owner` names as the contributor's.
pub fn read(
	plain: &[u8],
	format: &Format,
	owner: Option<Owner<'_>>,
	limits: Limits,
	keys: &Keys,
) -> Result<Records, FormatError> {
	let mut out = Records::default();
	match format {
		Format::Json { records, schema } => {
			read_json(plain, records.as_deref(), schema.as_ref(), owner, limits, keys, &mut out)?
		},
		Format::Csv { required_columns } => {
			read_csv(plain, required_columns, owner, limits, keys, &mut out)?
		},
		Format::Raw => read_raw(plain, limits, keys, &mut out)?,
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
	limits: Limits,
	keys: &'a Keys,
	out: &'a mut Records,
	/// The canonical form of the record being hashed (reused).
	canonical: Vec<u8>,
}

impl JsonRecords<'_> {
	/// A record met in an array, still as text: counted and measured before it is parsed.
	fn take_raw(&mut self, record: &RawValue) -> Result<(), FormatError> {
		self.limits.count(self.out.hashes.len())?;
		if record.get().len() as u64 > self.limits.max_record_bytes {
			return Err(self.limits.too_long());
		}
		let record: Value =
			serde_json::from_str(record.get()).map_err(|e| bad(format!("not JSON: {e}")))?;
		self.take(&record)
	}

	fn take(&mut self, record: &Value) -> Result<(), FormatError> {
		let i = self.out.hashes.len();
		self.limits.count(i)?;
		if let Some(v) = &self.validator {
			if !v.is_valid(record) {
				// The reason goes on chain: it names the record by its index and the rule by
				// its place in the DAO's schema, never anything from the data: not the value
				// (the validator's message quotes it), nor where in the record (the instance
				// path is made of the record's own keys, which can be names or addresses).
				let rule = v
					.iter_errors(record)
					.next()
					.map(|e| e.schema_path().to_string())
					.unwrap_or_default();
				return Err(bad(format!("record {i} breaks the schema (rule {rule})")));
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
				// Each record is borrowed as text first, so that it is counted and measured
				// before anything is built from it.
				while let Some(record) = seq.next_element::<&'de RawValue>()? {
					if let Err(e) = records.take_raw(record) {
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
pub(crate) fn pointer_tokens(pointer: &str) -> Result<Vec<String>, FormatError> {
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
	limits: Limits,
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
	let mut records = JsonRecords { validator, owner, limits, keys, out, canonical: Vec::new() };
	let not_json = |e: serde_json::Error| bad(format!("not JSON: {e}"));
	let p = pointer.unwrap_or("");
	let first = plain.iter().find(|b| !b.is_ascii_whitespace());
	match pointer {
		// No pointer and not an array: the whole document is one record.
		None if first != Some(&b'[') => {
			if plain.len() as u64 > limits.max_record_bytes {
				return Err(limits.too_long());
			}
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

/// The CSV reader's buffer: it reads this far ahead of the row it parses.
pub(crate) const CSV_BUFFER: u64 = 64 << 10;

/// The plaintext as the CSV reader reads it: never more than `end` bytes from the start, an
/// end moved forward row by row, so a row longer than the limit fails while it is read
/// instead of being built in memory first (a row of commas costs 8 bytes per comma there).
pub(crate) struct Capped<'a> {
	pub(crate) rest: &'a [u8],
	pub(crate) given: u64,
	pub(crate) end: Rc<Cell<u64>>,
	/// Set when reading stopped at `end`.
	pub(crate) hit: Rc<Cell<bool>>,
}

impl io::Read for Capped<'_> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		let allowed = self.end.get().saturating_sub(self.given);
		if allowed == 0 && !self.rest.is_empty() {
			self.hit.set(true);
			return Err(io::Error::other("a row is too long"));
		}
		let n = buf.len().min(self.rest.len()).min(usize::try_from(allowed).unwrap_or(usize::MAX));
		buf[..n].copy_from_slice(&self.rest[..n]);
		self.rest = &self.rest[n..];
		self.given += n as u64;
		Ok(n)
	}
}

fn read_csv(
	plain: &[u8],
	required: &[String],
	owner: Option<Owner<'_>>,
	limits: Limits,
	keys: &Keys,
	out: &mut Records,
) -> Result<(), FormatError> {
	let (end, hit) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(false)));
	let input = Capped { rest: plain, given: 0, end: end.clone(), hit: hit.clone() };
	let allow_row_from = |start: u64| {
		end.set(start.saturating_add(limits.max_record_bytes).saturating_add(CSV_BUFFER))
	};
	let mut reader = csv::ReaderBuilder::new()
		.has_headers(true)
		.flexible(false)
		.buffer_capacity(CSV_BUFFER as usize)
		.from_reader(input);
	allow_row_from(0);
	let headers = match reader.headers() {
		Ok(headers) => headers.clone(),
		Err(_) if hit.get() => return Err(limits.too_long()),
		Err(e) => return Err(bad(format!("not CSV: {e}"))),
	};
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
		allow_row_from(reader.position().byte());
		match reader.read_record(&mut row) {
			Ok(true) => {},
			Ok(false) => break,
			Err(_) if hit.get() => return Err(limits.too_long()),
			Err(e) => return Err(bad(format!("CSV row {i}: {e}"))),
		}
		limits.count(out.hashes.len())?;
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

fn read_raw(
	plain: &[u8],
	limits: Limits,
	keys: &Keys,
	out: &mut Records,
) -> Result<(), FormatError> {
	// A final newline ends the last line; it does not start an empty one.
	let plain = plain.strip_suffix(b"\n").unwrap_or(plain);
	for line in plain.split(|&b| b == b'\n') {
		let line = line.strip_suffix(b"\r").unwrap_or(line);
		out.fields += 1;
		if line.iter().all(u8::is_ascii_whitespace) {
			out.empty_fields += 1;
			continue;
		}
		limits.count(out.hashes.len())?;
		out.hashes.push(keys.record_hash(line));
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use serde_json::json;

	use super::*;

	fn keys() -> Keys {
		Keys::new([4; 32])
	}
	const JSON: Format = Format::Json { records: None, schema: None };
	const LIMITS: Limits = Limits { max_records: 1_000, max_record_bytes: 1 << 20 };

	#[test]
	fn json_records_are_canonical_whatever_the_key_order_and_spacing() {
		let a = read(br#"[{"b":1,"a":"x"}]"#, &JSON, None, LIMITS, &keys()).unwrap();
		let b = read(b"[ {\"a\" : \"x\",\n \"b\": 1} ]", &JSON, None, LIMITS, &keys()).unwrap();
		assert_eq!(a.hashes, b.hashes);
		assert_eq!(a.hashes.len(), 1);
		// a single object is one record; the same record in an array hashes the same
		let c = read(br#" {"a":"x","b":1}"#, &JSON, None, LIMITS, &keys()).unwrap();
		assert_eq!(a.hashes, c.hashes);
		assert_ne!(
			a.hashes,
			read(br#"[{"b":2,"a":"x"}]"#, &JSON, None, LIMITS, &keys()).unwrap().hashes
		);
	}

	#[test]
	fn schemas_and_pointers() {
		let format = Format::Json {
			records: Some("/messages".into()),
			schema: Some(
				json!({"type": "object", "required": ["text", "at"], "properties": {"at": {"type": "integer"}}}),
			),
		};
		let read = |doc: &[u8]| read(doc, &format, None, LIMITS, &keys());
		let ok = read(br#"{"before":{"x":[1,{"y":null}]},"messages":[{"text":"hi","at":1},{"text":"","at":2}],"after":3}"#)
			.unwrap();
		assert_eq!((ok.hashes.len(), ok.fields, ok.empty_fields), (2, 4, 1));
		let e =
			read(br#"{"messages":[{"text":"hi","at":1},{"text":"hi","at":"noon"}]}"#).unwrap_err();
		assert_eq!(e.0, "record 1 breaks the schema (rule /properties/at/type)");
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
			read(doc, &format, None, LIMITS, &keys()).map(|r| r.hashes.len())
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
		let e = read(deep.as_bytes(), &JSON, None, LIMITS, &keys()).unwrap_err();
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
			LIMITS,
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
			read(b"account,text\n5Grw,hello\n5Grw, \n5Eve,hi\n", &format, owner, LIMITS, &keys())
				.unwrap();
		assert_eq!((r.hashes.len(), r.fields, r.empty_fields, r.owned), (3, 6, 1, 2));
		// cells are trimmed: the same rows written with spaces are the same records
		let spaced = read(
			b"account , text\n 5Grw ,hello\n5Grw,\n5Eve , hi\n",
			&format,
			owner,
			LIMITS,
			&keys(),
		)
		.unwrap();
		assert_eq!(r.hashes, spaced.hashes);
		assert!(read(b"text\nhello\n", &format, None, LIMITS, &keys())
			.unwrap_err()
			.0
			.contains("no column \"account\""));
		assert!(read(b"account,text\nx\n", &format, None, LIMITS, &keys())
			.unwrap_err()
			.0
			.contains("CSV row 1"));
		assert!(read(b"account,text\n", &format, None, LIMITS, &keys())
			.unwrap_err()
			.0
			.contains("no rows"));
	}

	#[test]
	fn raw_lines_skip_blank_ones() {
		let r = read(b"a\r\n\n  \nb\na\n", &Format::Raw, None, LIMITS, &keys()).unwrap();
		assert_eq!((r.hashes.len(), r.fields, r.empty_fields), (3, 5, 2));
		assert_eq!(r.hashes[0], r.hashes[2], "a CR before the newline is not part of the line");
	}

	/// Attack: a payload of tiny records (`[0,0,0,…]`, one-byte lines, empty CSV rows) turns
	/// 256 MiB of plaintext into gigabytes of per-record state. Past `max_records` it is
	/// refused, and at that record: what follows is not even read (here, broken input after
	/// the limit gives the limit's reason, not a parse error).
	#[test]
	fn tiny_records_past_max_records_are_refused_where_the_limit_is_met() {
		let limits = Limits { max_records: 1_000, max_record_bytes: 1 << 20 };
		let too_many = "more than 1000 records (the DAO's max_records)";
		let json = format!("[{}0, this is not JSON", "0,".repeat(1_000));
		let e = read(json.as_bytes(), &JSON, None, limits, &keys()).unwrap_err();
		assert_eq!(e.0, too_many);
		let at = Format::Json { records: Some("/m".into()), schema: None };
		let json = format!("{{\"m\":[{}{{}}]}}", "{},".repeat(5_000));
		assert_eq!(read(json.as_bytes(), &at, None, limits, &keys()).unwrap_err().0, too_many);
		let csv = format!("a\n{}\"broken", "x\n".repeat(1_001));
		let format = Format::Csv { required_columns: vec![] };
		assert_eq!(read(csv.as_bytes(), &format, None, limits, &keys()).unwrap_err().0, too_many);
		let raw = "x\n".repeat(1_001);
		assert_eq!(
			read(raw.as_bytes(), &Format::Raw, None, limits, &keys()).unwrap_err().0,
			too_many
		);
		// at the limit exactly: read
		let json = format!("[{}0]", "0,".repeat(999));
		assert_eq!(
			read(json.as_bytes(), &JSON, None, limits, &keys()).unwrap().hashes.len(),
			1_000
		);
		let raw = "x\n".repeat(1_000);
		assert_eq!(
			read(raw.as_bytes(), &Format::Raw, None, limits, &keys()).unwrap().hashes.len(),
			1_000
		);
	}

	/// Attack: one huge record (an array of a million zeros, a row of a million commas) is
	/// built in memory at many times its size before it is judged. Past `max_record_bytes`
	/// it is refused before it is built.
	#[test]
	fn records_past_max_record_bytes_are_refused_before_they_are_built() {
		let limits = Limits { max_records: 1_000, max_record_bytes: 10_000 };
		let too_long = "a record is longer than 10000 bytes (the DAO's max_record_bytes)";
		let big = format!("[{}0]", "0,".repeat(1_000_000));
		let doc = format!("[{{\"a\":1}}, {big}]");
		assert_eq!(read(doc.as_bytes(), &JSON, None, limits, &keys()).unwrap_err().0, too_long);
		let doc = format!("{{\"a\":{big}}}");
		assert_eq!(read(doc.as_bytes(), &JSON, None, limits, &keys()).unwrap_err().0, too_long);
		let format = Format::Csv { required_columns: vec![] };
		let csv = format!("a\nx\n{}\n", ",".repeat(1_000_000));
		assert_eq!(read(csv.as_bytes(), &format, None, limits, &keys()).unwrap_err().0, too_long);
		let csv = format!("{}\nx\n", ",".repeat(1_000_000));
		assert_eq!(read(csv.as_bytes(), &format, None, limits, &keys()).unwrap_err().0, too_long);
		// rows and records within the limit, however many bytes in all, are read
		let limits = Limits { max_records: 10_000, ..limits };
		let csv = format!("a,b\n{}", "xxxxxxxx,yyyyyyyy\n".repeat(9_000));
		let r = read(csv.as_bytes(), &format, None, limits, &keys()).unwrap();
		assert_eq!(r.hashes.len(), 9_000);
	}

	/// Attack (privacy): a schema failure's reason goes on chain, and the place in the record
	/// where it failed is made of the record's own keys, which can be people's names or
	/// addresses. The reason names the record by index and the rule by its schema path.
	#[test]
	fn schema_reasons_carry_no_key_from_the_data() {
		let format = Format::Json {
			records: None,
			schema: Some(json!({
				"type": "object",
				"propertyNames": {"maxLength": 40},
				"additionalProperties": {"type": "object", "properties": {"age": {"type": "integer"}}},
				"patternProperties": {"^user:": {"type": "object", "required": ["age"]}}
			})),
		};
		for doc in [
			&br#"[{"bob@example.org":{"age":3}},{"alice@example.com":{"age":"old"}}]"#[..],
			br#"[{"user:alice@example.com":{}}]"#,
			br#"[{"alice@example.com":"x"}]"#,
			br#"[{"alice@example.com, Alice Liddell, 221B Baker Street":{}}]"#,
		] {
			let e = read(doc, &format, None, LIMITS, &keys()).unwrap_err();
			assert!(e.0.contains("breaks the schema (rule /"), "{e}");
			assert!(!e.0.contains("alice") && !e.0.contains("example"), "{e}");
		}
	}

	#[test]
	fn long_reasons_fit_on_chain() {
		let e = bad("é".repeat(200));
		assert!(e.0.len() <= 128);
	}
}
