//! Anonymized copies of a contribution, for `Anonymized` access grants: each record rebuilt
//! from the fields the DAO's rules name (see [`FieldRule`]), each kept, pseudonymised or
//! generalised. A field the rules do not name is not copied: a field that appears in exports
//! later never reaches a grantee before the DAO has voted on what to do with it.
//!
//! Pseudonyms are keyed per grant ([`PseudonymKey::for_grant`]): the same value gets the same
//! pseudonym throughout one grant's copies, and the same grant bought again keeps them, but
//! two grantees' copies do not join on them, and neither says anything about the other.
//!
//! The records are found as judging finds them (`records`), within the same limits, and
//! memory holds one record at a time, whatever the contribution's size. The copy is JSON Lines
//! for JSON DAOs (one record per line) and CSV for CSV DAOs; a raw DAO's lines have no fields,
//! so it offers no anonymized copies.

use std::{
	cell::Cell,
	collections::BTreeMap,
	io::{self, Write},
	rc::Rc,
};

use blake2::{
	digest::{
		consts::{U16, U32},
		KeyInit, Mac,
	},
	Blake2bMac,
};
use serde_json::{value::RawValue, Map, Value};
use zeroize::Zeroize;

use crate::{
	records::{bad, pointer_tokens, Capped, Format, FormatError, Limits, CSV_BUFFER},
	rules::{FieldRule, Generalise},
};

/// Why no anonymized copy was written. On an error, `out` may hold part of the copy: the
/// copy is written as it is made, and the caller discards it.
#[derive(Debug, thiserror::Error)]
pub enum AnonymizeError {
	/// The contribution does not read as the DAO's format. It was judged valid, so only a
	/// change of rules since (a smaller limit, another format) gets here.
	#[error("the contribution does not read as the DAO's format: {0}")]
	Format(#[from] FormatError),
	/// The DAO's format has no fields (raw lines).
	#[error("the DAO's format (raw lines) has no fields to anonymize")]
	NotOffered,
	#[error("writing the anonymized copy: {0}")]
	Io(#[from] io::Error),
}

/// The key of one grant's pseudonyms (zeroed when dropped).
pub struct PseudonymKey([u8; 32]);

impl PseudonymKey {
	/// Grant `grant_id`'s key under DAO `dao_id`, from the DAO's pseudonym root
	/// ([`Secrets::pseudonym_root`](crate::sealed::Secrets::pseudonym_root)). One key per
	/// grant, so two grantees cannot join their copies; the grant's id rather than anything
	/// about its buyer, so the same grant bought again keeps its pseudonyms.
	pub fn for_grant(root: &[u8; 32], dao_id: u32, grant_id: u64) -> PseudonymKey {
		let mut m = <Blake2bMac<U32> as KeyInit>::new_from_slice(root).expect("a 32-byte key");
		m.update(b"datacoop/pseudonym/v1");
		m.update(&dao_id.to_le_bytes());
		m.update(&grant_id.to_le_bytes());
		PseudonymKey(m.finalize().into_bytes().into())
	}

	/// The pseudonym of `value` in `domain`: 32 hex digits of a keyed hash of the domain and
	/// the value's canonical JSON (serde_json sorts object keys), so the same value is the
	/// same pseudonym in every field of that domain, and in no other domain.
	pub fn pseudonym(&self, domain: &str, value: &Value) -> String {
		self.pseudonym_of(domain, &serde_json::to_vec(value).expect("a Value always serializes"))
	}

	/// The pseudonym of the value whose canonical JSON is `canonical`. The NUL after the
	/// domain cannot be part of either: the rules refuse NUL in domains, and JSON escapes it.
	fn pseudonym_of(&self, domain: &str, canonical: &[u8]) -> String {
		let mut m = <Blake2bMac<U16> as KeyInit>::new_from_slice(&self.0).expect("a 32-byte key");
		m.update(domain.as_bytes());
		m.update(&[0]);
		m.update(canonical);
		hex::encode(m.finalize().into_bytes())
	}
}

impl Drop for PseudonymKey {
	fn drop(&mut self) {
		self.0.zeroize();
	}
}

/// Writes to `out` an anonymized copy of `plain` (a contribution's data in `format`, read
/// within `limits`), each record rebuilt from `fields` (as [`Rules::check`] accepts them) with
/// pseudonyms under `key`. Returns the number of records written.
///
/// JSON: one record per line, an object holding the named fields that are not dropped and
/// that the record has, at the same pointers (objects made as needed); a record that is not
/// an object is `{}`. CSV: a header row of the named columns that are not dropped and that
/// the file has, in the file's order, then each row's cells (trimmed, as judging reads them).
///
/// [`Rules::check`]: crate::rules::Rules::check
pub fn anonymize(
	plain: &[u8],
	format: &Format,
	fields: &BTreeMap<String, FieldRule>,
	key: &PseudonymKey,
	limits: Limits,
	out: &mut impl Write,
) -> Result<u64, AnonymizeError> {
	match format {
		Format::Json { records, .. } => {
			anonymize_json(plain, records.as_deref(), fields, key, limits, out)
		},
		Format::Csv { .. } => anonymize_csv(plain, fields, key, limits, out),
		Format::Raw => Err(AnonymizeError::NotOffered),
	}
}

/// What a copy does with a field it keeps in some form (dropped fields have none).
#[derive(Clone, Copy, Debug)]
enum Action<'a> {
	Keep,
	/// In this domain.
	Pseudonymise(&'a str),
	Day,
	Width(f64),
}

impl<'a> Action<'a> {
	/// What `rule` does to the field `name`; `None`: it is dropped.
	fn of(name: &'a str, rule: &'a FieldRule) -> Option<Action<'a>> {
		Some(match rule {
			FieldRule::Keep => Action::Keep,
			FieldRule::Drop => return None,
			FieldRule::Pseudonymise { domain } => {
				Action::Pseudonymise(domain.as_deref().unwrap_or(name))
			},
			FieldRule::Generalise(Generalise::Day) => Action::Day,
			FieldRule::Generalise(Generalise::Width(w)) => Action::Width(*w),
		})
	}

	/// A JSON value's form in the copy: `null` when it cannot be generalised (a day of
	/// something that is not a timestamp, a bucket of something that is not a number).
	fn json(self, value: &Value, key: &PseudonymKey) -> Value {
		let generalised = match self {
			Action::Keep => return value.clone(),
			Action::Pseudonymise(domain) => return Value::String(key.pseudonym(domain, value)),
			Action::Day => match value {
				Value::Number(n) => match n.as_i64() {
					Some(i) => day_of_timestamp(i),
					None => n.as_f64().and_then(day_of_timestamp_f64),
				},
				Value::String(s) => day_of_rfc3339(s),
				_ => None,
			},
			Action::Width(w) => value.as_f64().and_then(|v| bucket(v, w)),
		};
		generalised.map_or(Value::Null, Value::String)
	}

	/// A CSV cell's form in the copy (the cell is trimmed): the pseudonym of the cell as a
	/// JSON string, so a value gets the same pseudonym as in a JSON record; empty when it
	/// cannot be generalised.
	fn cell(self, cell: &str, key: &PseudonymKey) -> String {
		let number = || cell.parse::<f64>().ok().filter(|v| v.is_finite());
		let generalised = match self {
			Action::Keep => return cell.to_owned(),
			Action::Pseudonymise(domain) => {
				let canonical = serde_json::to_vec(cell).expect("a string always serializes");
				return key.pseudonym_of(domain, &canonical);
			},
			Action::Day => match cell.parse::<i64>() {
				Ok(i) => day_of_timestamp(i),
				Err(_) => match number() {
					Some(v) => day_of_timestamp_f64(v),
					None => day_of_rfc3339(cell),
				},
			},
			Action::Width(w) => number().and_then(|v| bucket(v, w)),
		};
		generalised.unwrap_or_default()
	}
}

/// A field of JSON records that a copy keeps in some form.
struct JsonField<'a> {
	pointer: &'a str,
	/// The pointer's tokens: where the field goes in the copy.
	path: Vec<String>,
	action: Action<'a>,
}

/// The fields of `fields` that a JSON copy keeps in some form. A name that is not a JSON
/// pointer to a field (the rules refuse them) names nothing: `""` would name the whole record.
fn json_fields(fields: &BTreeMap<String, FieldRule>) -> Vec<JsonField<'_>> {
	fields
		.iter()
		.filter(|(name, _)| name.starts_with('/'))
		.filter_map(|(name, rule)| {
			Some(JsonField {
				pointer: name,
				path: pointer_tokens(name).ok()?,
				action: Action::of(name, rule)?,
			})
		})
		.collect()
}

/// `record`'s anonymized copy.
fn copy_of(record: &Value, fields: &[JsonField<'_>], key: &PseudonymKey) -> Value {
	let mut copy = Map::new();
	if record.is_object() {
		for field in fields {
			if let Some(value) = record.pointer(field.pointer) {
				put(&mut copy, &field.path, field.action.json(value, key));
			}
		}
	}
	Value::Object(copy)
}

/// Sets `value` at `path` in `copy`, making the objects on the way. A path through something
/// already set that is not an object (a field inside another, which the rules refuse) is
/// left out: the outer field's form stands.
fn put(copy: &mut Map<String, Value>, path: &[String], value: Value) {
	let Some((last, outer)) = path.split_last() else {
		return;
	};
	let mut at = copy;
	for token in outer {
		match at.entry(token.as_str()).or_insert_with(|| Value::Object(Map::new())) {
			Value::Object(inner) => at = inner,
			_ => return,
		}
	}
	at.insert(last.clone(), value);
}

/// Writes JSON records' copies as they are met, counted and measured as judging does.
struct JsonCopy<'a, W> {
	fields: Vec<JsonField<'a>>,
	key: &'a PseudonymKey,
	limits: Limits,
	out: &'a mut W,
	written: u64,
	/// The line being written (reused).
	line: Vec<u8>,
}

impl<W: Write> JsonCopy<'_, W> {
	/// A record met in an array, still as text: counted and measured before it is parsed.
	fn take_raw(&mut self, record: &RawValue) -> Result<(), AnonymizeError> {
		self.limits.count(self.written as usize)?;
		if record.get().len() as u64 > self.limits.max_record_bytes {
			return Err(self.limits.too_long().into());
		}
		let record: Value =
			serde_json::from_str(record.get()).map_err(|e| bad(format!("not JSON: {e}")))?;
		self.take(&record)
	}

	fn take(&mut self, record: &Value) -> Result<(), AnonymizeError> {
		self.limits.count(self.written as usize)?;
		let copy = copy_of(record, &self.fields, self.key);
		self.line.clear();
		serde_json::to_writer(&mut self.line, &copy).expect("a Value always serializes");
		self.line.push(b'\n');
		self.out.write_all(&self.line)?;
		self.written += 1;
		Ok(())
	}
}

fn anonymize_json<W: Write>(
	plain: &[u8],
	pointer: Option<&str>,
	fields: &BTreeMap<String, FieldRule>,
	key: &PseudonymKey,
	limits: Limits,
	out: &mut W,
) -> Result<u64, AnonymizeError> {
	let mut copy =
		JsonCopy { fields: json_fields(fields), key, limits, out, written: 0, line: Vec::new() };
	each_json_record(plain, pointer, limits, &mut |record| match record {
		JsonRecord::Raw(record) => copy.take_raw(record),
		JsonRecord::Whole(record) => copy.take(record),
	})?;
	Ok(copy.written)
}

/// A record of a JSON document, as [`each_json_record`] hands it over.
pub(crate) enum JsonRecord<'a> {
	/// A record met in an array, still as text: the taker counts and measures it (against
	/// the limits) before it parses it.
	Raw(&'a RawValue),
	/// The whole document, which is one record (no records pointer, and not an array):
	/// measured already, and parsed.
	Whole(&'a Value),
}

/// Hands each record of the JSON document `plain` (the records at `pointer`, as
/// [`Format::Json`] says) to `take`, as judging finds them, without building the document:
/// memory holds one record at a time. The taker counts the records against `limits` (and
/// measures those handed over as text); its error ends the walk and is the answer.
/// Anonymized copies and the aggregate engine (`engine`) read records through this.
pub(crate) fn each_json_record(
	plain: &[u8],
	pointer: Option<&str>,
	limits: Limits,
	take: &mut dyn FnMut(JsonRecord<'_>) -> Result<(), AnonymizeError>,
) -> Result<(), AnonymizeError> {
	let not_json = |e: serde_json::Error| bad(format!("not JSON: {e}"));
	let p = pointer.unwrap_or("");
	let first = plain.iter().find(|b| !b.is_ascii_whitespace());
	match pointer {
		// No pointer and not an array: the whole document is one record.
		None if first != Some(&b'[') => {
			if plain.len() as u64 > limits.max_record_bytes {
				return Err(limits.too_long().into());
			}
			let doc: Value = serde_json::from_slice(plain).map_err(not_json)?;
			take(JsonRecord::Whole(&doc))?;
		},
		_ => {
			let tokens = pointer_tokens(p)?;
			let (mut found, mut stop) = (false, None);
			let mut raw = |record: &RawValue| take(JsonRecord::Raw(record));
			let mut de = serde_json::Deserializer::from_slice(plain);
			let walk = Walk { tokens: &tokens, take: &mut raw, found: &mut found, stop: &mut stop };
			let walked =
				serde::de::DeserializeSeed::deserialize(walk, &mut de).and_then(|()| de.end());
			if let Err(e) = walked {
				return Err(match stop {
					Some(Stop::Record(e)) => e,
					Some(Stop::NotAnArray) => bad(format!("{p} is not an array of records")).into(),
					Some(Stop::Twice) => bad(format!("{p} appears twice in the document")).into(),
					None => not_json(e).into(),
				});
			}
			if !found {
				return Err(bad(format!("no {p} in the document")).into());
			}
		},
	}
	Ok(())
}

/// Where the walk to the records stopped, when it did not reach the end of the document.
enum Stop {
	/// A record was refused, or its copy not written.
	Record(AnonymizeError),
	/// What the pointer names is not an array.
	NotAnArray,
	/// The object holding the records names them twice.
	Twice,
}

/// Walks a JSON document to the array at `tokens` without building the document, and hands
/// each of its elements to `take` as it is parsed. The walk `records` makes to judge, with
/// the same answers for the same documents (a test holds them to it); its own here because
/// that one is bound to hashing.
struct Walk<'r, 'f> {
	tokens: &'r [String],
	take: &'r mut (dyn FnMut(&RawValue) -> Result<(), AnonymizeError> + 'f),
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

macro_rules! scalars_are_not_arrays {
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

	scalars_are_not_arrays!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

	fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
		self.not_an_array()
	}

	fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
		let Walk { tokens, take, found, stop } = self;
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
							take: &mut *take,
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
		let Walk { tokens, take, found, stop } = self;
		match tokens.split_first() {
			None => {
				*found = true;
				while let Some(record) = seq.next_element::<&'de RawValue>()? {
					if let Err(e) = take(record) {
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
							take: &mut *take,
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

fn anonymize_csv<W: Write>(
	plain: &[u8],
	fields: &BTreeMap<String, FieldRule>,
	key: &PseudonymKey,
	limits: Limits,
	out: &mut W,
) -> Result<u64, AnonymizeError> {
	// Read as judging reads it: a row longer than the limit fails while it is read.
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
		Err(_) if hit.get() => return Err(limits.too_long().into()),
		Err(e) => return Err(bad(format!("not CSV: {e}")).into()),
	};
	// The copy's columns: named and not dropped, in the file's order (each one, should the
	// file name a column twice).
	let columns: Vec<(usize, &str, Action<'_>)> = headers
		.iter()
		.enumerate()
		.filter_map(|(j, header)| {
			let (name, rule) = fields.get_key_value(header.trim())?;
			Some((j, name.as_str(), Action::of(name, rule)?))
		})
		.collect();
	let written = |e: csv::Error| AnonymizeError::Io(e.into());
	let mut writer = csv::Writer::from_writer(&mut *out);
	writer.write_record(columns.iter().map(|&(_, name, _)| name)).map_err(written)?;
	let mut row = csv::StringRecord::new();
	let mut cells = Vec::with_capacity(columns.len());
	let mut n = 0u64;
	loop {
		allow_row_from(reader.position().byte());
		match reader.read_record(&mut row) {
			Ok(true) => {},
			Ok(false) => break,
			Err(_) if hit.get() => return Err(limits.too_long().into()),
			Err(e) => return Err(bad(format!("CSV row {}: {e}", n + 1)).into()),
		}
		limits.count(n as usize)?;
		cells.clear();
		for &(j, _, action) in &columns {
			cells.push(action.cell(row.get(j).unwrap_or("").trim(), key));
		}
		writer.write_record(&cells).map_err(written)?;
		n += 1;
	}
	writer.flush()?;
	Ok(n)
}

/// Timestamps above this (in absolute value) are milliseconds: 10^11 seconds is the year
/// 5138, 10^11 milliseconds is March 1973.
const MILLISECONDS_ABOVE: u64 = 100_000_000_000;

/// The UTC day of a unix timestamp in seconds, or milliseconds (see `MILLISECONDS_ABOVE`).
pub(crate) fn day_of_timestamp(t: i64) -> Option<String> {
	let seconds = if t.unsigned_abs() > MILLISECONDS_ABOVE { t.div_euclid(1000) } else { t };
	day_of_unix(seconds)
}

pub(crate) fn day_of_timestamp_f64(t: f64) -> Option<String> {
	if !t.is_finite() {
		return None;
	}
	let seconds = if t.abs() > MILLISECONDS_ABOVE as f64 { t / 1000.0 } else { t };
	// Far past the year 9999 either way; keeps the conversion to i64 exact.
	if seconds.abs() > 1e15 {
		return None;
	}
	day_of_unix(seconds.floor() as i64)
}

/// `YYYY-MM-DD` of the UTC day holding unix time `seconds`; `None` outside the years a
/// four-digit year writes.
fn day_of_unix(seconds: i64) -> Option<String> {
	let (y, m, d) = civil_from_days(seconds.div_euclid(86_400));
	(0..=9999).contains(&y).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// The UTC day of an RFC 3339 timestamp (`2023-11-14T22:13:20.5+01:00`; `T` or `t` or a
/// space between date and time, `Z` or `z` or an offset after it). A date alone is its own
/// day. Written here rather than taken from a crate: the collective has no date crate, and
/// only the day is needed.
pub(crate) fn day_of_rfc3339(s: &str) -> Option<String> {
	let b = s.as_bytes();
	let digits = |at: usize, n: usize| -> Option<i64> {
		b.get(at..at + n)?
			.iter()
			.try_fold(0i64, |v, c| c.is_ascii_digit().then(|| v * 10 + i64::from(c - b'0')))
	};
	if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
		return None;
	}
	let (y, m, d) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
	if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
		return None;
	}
	if b.len() == 10 {
		return Some(s.to_owned());
	}
	if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 20 || b[13] != b':' || b[16] != b':' {
		return None;
	}
	let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
	// 60: a leap second, still in its day.
	if hour > 23 || minute > 59 || second > 60 {
		return None;
	}
	let mut rest = &b[19..];
	if let Some(fraction) = rest.strip_prefix(b".") {
		let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
		if n == 0 {
			return None;
		}
		rest = &fraction[n..];
	}
	let offset = match rest {
		[b'Z' | b'z'] => 0,
		[sign @ (b'+' | b'-'), ..] if rest.len() == 6 && rest[3] == b':' => {
			let (oh, om) = (digits(b.len() - 5, 2)?, digits(b.len() - 2, 2)?);
			if oh > 23 || om > 59 {
				return None;
			}
			let offset = (oh * 60 + om) * 60;
			if *sign == b'-' {
				-offset
			} else {
				offset
			}
		},
		_ => return None,
	};
	let local = days_from_civil(y, m, d) * 86_400 + hour * 3_600 + minute * 60 + second.min(59);
	day_of_unix(local - offset)
}

fn days_in_month(y: i64, m: i64) -> i64 {
	match m {
		2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
		2 => 28,
		4 | 6 | 9 | 11 => 30,
		_ => 31,
	}
}

/// Days since 1970-01-01 of the proleptic Gregorian date `y`-`m`-`d` (Howard Hinnant's
/// `days_from_civil`: eras of 400 years, years starting in March so leap days come last).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
	let y = if m <= 2 { y - 1 } else { y };
	let era = y.div_euclid(400);
	let yoe = y.rem_euclid(400);
	let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
	let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	era * 146_097 + doe - 719_468
}

/// The date of day `z` since 1970-01-01 (Hinnant's `civil_from_days`, the inverse of
/// [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
	let z = z + 719_468;
	let era = z.div_euclid(146_097);
	let doe = z.rem_euclid(146_097);
	let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
	let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	let mp = (5 * doy + 2) / 153;
	let d = doy - (153 * mp + 2) / 5 + 1;
	let m = if mp < 10 { mp + 3 } else { mp - 9 };
	(yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The bucket `lo-hi` of width `w` holding `v` (lo = ⌊v / w⌋ × w, hi = lo + w), its bounds
/// written with as many decimals as `w` has (none for a whole width: `30-40`).
fn bucket(v: f64, w: f64) -> Option<String> {
	if !(w.is_finite() && w > 0.0) {
		return None;
	}
	let q = v / w;
	// Binary floating point: 0.3 / 0.1 is 2.9999999999999996. A quotient a few units in the
	// last place from a whole number is that number, so 0.3 is in 0.3-0.4.
	let whole = q.round();
	let n = if (q - whole).abs() <= whole.abs().max(1.0) * 4.0 * f64::EPSILON {
		whole
	} else {
		q.floor()
	};
	let (lo, hi) = (n * w, (n + 1.0) * w);
	if !(lo.is_finite() && hi.is_finite()) {
		return None;
	}
	let decimals = w.to_string().split_once('.').map_or(0, |(_, fraction)| fraction.len());
	// -0.0 would be written "-0".
	let show = |x: f64| format!("{:.decimals$}", if x == 0.0 { 0.0 } else { x });
	Some(format!("{}-{}", show(lo), show(hi)))
}

#[cfg(test)]
mod tests {
	use serde_json::json;

	use super::*;
	use crate::{records, Keys};

	const ROOT: [u8; 32] = [7; 32];
	const LIMITS: Limits = Limits { max_records: 1_000, max_record_bytes: 1 << 20 };
	const ALICE: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
	const BOB: &str = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
	/// Records in an array at the top of the document.
	const ARRAY: Format = Format::Json { records: Some(String::new()), schema: None };

	fn chat_format() -> Format {
		Format::Json { records: Some("/messages".into()), schema: None }
	}

	fn fields(rules: Value) -> BTreeMap<String, FieldRule> {
		serde_json::from_value(rules).unwrap()
	}

	fn chat_fields() -> BTreeMap<String, FieldRule> {
		fields(json!({
			"/account": "pseudonymise", "/text": "drop", "/at": {"generalise": "day"},
			"/age": {"generalise": {"width": 10}}, "/channel": "keep",
		}))
	}

	fn chat() -> Vec<u8> {
		json!({"exported": "2023-11-20", "messages": [
			{"account": ALICE, "to": BOB, "text": "secret words", "at": 1_700_000_000,
				"age": 37, "channel": "general", "email": "alice@example.org"},
			{"account": BOB, "to": ALICE, "text": "more secret words", "at": 1_700_000_000_123u64,
				"age": 41.5, "channel": "random", "email": "bob@example.org"},
			{"account": ALICE, "text": "secret words again", "at": "2023-11-14T23:30:00-05:00",
				"age": "old", "channel": "general", "email": "alice@example.org"},
		]})
		.to_string()
		.into_bytes()
	}

	fn copy(
		plain: &[u8],
		format: &Format,
		fields: &BTreeMap<String, FieldRule>,
		grant: u64,
		limits: Limits,
	) -> Result<(u64, String), AnonymizeError> {
		let key = PseudonymKey::for_grant(&ROOT, 1, grant);
		let mut out = Vec::new();
		let n = anonymize(plain, format, fields, &key, limits, &mut out)?;
		Ok((n, String::from_utf8(out).unwrap()))
	}

	fn lines(copy: &str) -> Vec<Value> {
		copy.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
	}

	#[test]
	fn a_chat_export_keeps_only_what_the_rules_name_in_the_form_they_say() {
		let (n, text) = copy(&chat(), &chat_format(), &chat_fields(), 2, LIMITS).unwrap();
		assert_eq!(n, 3);
		for gone in [
			"secret",
			ALICE,
			BOB,
			"example.org",
			"email",
			"1700000000",
			"exported",
			"41.5",
			"\"to\"",
		] {
			assert!(!text.contains(gone), "{gone} in {text}");
		}
		for kept in ["2023-11-14", "2023-11-15", "30-40", "40-50", "general", "random"] {
			assert!(text.contains(kept), "no {kept} in {text}");
		}
		let copies = lines(&text);
		assert_eq!(copies.len(), 3);
		assert_eq!(copies[0]["at"], "2023-11-14");
		// milliseconds
		assert_eq!(copies[1]["at"], "2023-11-14");
		// 23:30 five hours behind UTC is the next day in UTC
		assert_eq!(copies[2]["at"], "2023-11-15");
		assert_eq!((&copies[0]["age"], &copies[1]["age"]), (&json!("30-40"), &json!("40-50")));
		assert_eq!(copies[2]["age"], Value::Null, "not a number: nothing to generalise");
		// the same account, the same pseudonym within a copy; another account, another one
		let pseudonym = copies[0]["account"].as_str().unwrap();
		assert_eq!(pseudonym.len(), 32);
		assert!(pseudonym.bytes().all(|c| c.is_ascii_hexdigit()));
		assert_eq!(copies[2]["account"], copies[0]["account"]);
		assert_ne!(copies[1]["account"], copies[0]["account"]);
		// only the named fields that are not dropped
		let names: Vec<&str> = copies[0].as_object().unwrap().keys().map(String::as_str).collect();
		assert_eq!(names, ["account", "age", "at", "channel"]);
	}

	#[test]
	fn grants_get_unrelated_pseudonyms_and_a_grant_keeps_its_own() {
		let account = |grant: u64| {
			let (_, text) = copy(&chat(), &chat_format(), &chat_fields(), grant, LIMITS).unwrap();
			lines(&text)[0]["account"].clone()
		};
		assert_eq!(account(2), account(2));
		assert_ne!(account(2), account(3));
		let other_dao = PseudonymKey::for_grant(&ROOT, 2, 2);
		let this_dao = PseudonymKey::for_grant(&ROOT, 1, 2);
		assert_ne!(other_dao.pseudonym("/account", &json!(ALICE)), account(2));
		assert_eq!(this_dao.pseudonym("/account", &json!(ALICE)), account(2));
		let other_root = PseudonymKey::for_grant(&[8; 32], 1, 2);
		assert_ne!(other_root.pseudonym("/account", &json!(ALICE)), account(2));
	}

	#[test]
	fn fields_of_one_domain_join_and_fields_of_two_do_not() {
		let shared = fields(json!({
			"/account": {"pseudonymise": {"domain": "account"}},
			"/to": {"pseudonymise": {"domain": "account"}},
		}));
		let (_, text) = copy(&chat(), &chat_format(), &shared, 2, LIMITS).unwrap();
		let copies = lines(&text);
		// Alice sends the first message and receives the second
		assert_eq!(copies[0]["account"], copies[1]["to"]);
		assert_eq!(copies[1]["account"], copies[0]["to"]);
		assert_ne!(copies[0]["account"], copies[0]["to"]);
		// a field the record lacks is not in its copy
		assert_eq!(copies[2].get("to"), None);
		assert!(copies[2].get("account").is_some());

		let apart = fields(json!({"/account": "pseudonymise", "/to": "pseudonymise"}));
		let (_, text) = copy(&chat(), &chat_format(), &apart, 2, LIMITS).unwrap();
		let copies = lines(&text);
		assert_ne!(copies[0]["account"], copies[1]["to"]);
	}

	/// Pins the derivation: a grant's copies made by another version of this server must
	/// join with those made by this one. Known answers from Python's hashlib.blake2b (keyed
	/// BLAKE2b, RFC 7693).
	#[test]
	fn copies_are_exactly_deterministic() {
		let one = |records: &[u8]| {
			let mut out = Vec::new();
			let key = PseudonymKey::for_grant(&ROOT, 1, 2);
			anonymize(records, &chat_format(), &chat_fields(), &key, LIMITS, &mut out).unwrap();
			String::from_utf8(out).unwrap()
		};
		// another order of keys, other spacing: the same copy
		let spaced = format!(
			"{{ \"messages\" : [ {{\"channel\":\"general\", \"age\":37, \"at\":1700000000, \
			 \"account\":\"{ALICE}\", \"text\":\"secret words\"}} ] }}"
		);
		let expected = format!(
			"{{\"account\":\"{PSEUDONYM_ALICE}\",\"age\":\"30-40\",\"at\":\"2023-11-14\",\
			 \"channel\":\"general\"}}\n"
		);
		assert_eq!(one(spaced.as_bytes()), expected);
		assert_eq!(one(&chat()), one(&chat()));
		let key = PseudonymKey::for_grant(&ROOT, 1, 2);
		assert_eq!(key.pseudonym("/account", &json!(ALICE)), PSEUDONYM_ALICE);
		assert_eq!(hex::encode(key.0), GRANT_KEY);
	}

	/// `PseudonymKey::for_grant(&[7; 32], 1, 2)`.
	const GRANT_KEY: &str = "56efec72e59b1217307f9a6e49c8024ab108a10431ca200c94803d997f417d69";
	/// Alice's account's pseudonym in the domain `/account` under `GRANT_KEY`.
	const PSEUDONYM_ALICE: &str = "fb840e03d9366e7c63ffd9982c1f3d6f";

	#[test]
	fn csv_copies_keep_the_named_columns_in_the_files_order() {
		let csv = format!(
			"account,to,text,at,age,channel,email\n\
			 {ALICE},{BOB},secret words,1700000000,37,general,alice@example.org\n\
			 {BOB},{ALICE},\"more, secret\",2023-11-14T22:13:20Z,41.5,random,bob@example.org\n \
			 {ALICE} ,,x,yesterday,old,general,alice@example.org\n"
		);
		let format = Format::Csv { required_columns: vec!["account".into()] };
		let rules = fields(json!({
			"channel": "keep", "account": "pseudonymise", "text": "drop",
			"at": {"generalise": "day"}, "age": {"generalise": {"width": 10}}, "missing": "keep",
		}));
		let (n, text) = copy(csv.as_bytes(), &format, &rules, 2, LIMITS).unwrap();
		assert_eq!(n, 3);
		// A cell's pseudonym is its value's as a JSON string: the same as in a JSON record.
		let key = PseudonymKey::for_grant(&ROOT, 1, 2);
		let (alice, bob) =
			(key.pseudonym("account", &json!(ALICE)), key.pseudonym("account", &json!(BOB)));
		assert_eq!(
			text,
			format!(
				"account,at,age,channel\n\
				 {alice},2023-11-14,30-40,general\n\
				 {bob},2023-11-14,40-50,random\n\
				 {alice},,,general\n"
			)
		);
		let limits = Limits { max_records: 2, ..LIMITS };
		let e = copy(csv.as_bytes(), &format, &rules, 2, limits).unwrap_err();
		assert!(
			matches!(&e, AnonymizeError::Format(f) if f.0.starts_with("more than 2 records")),
			"{e}"
		);
		// Rows are measured as judging measures them: past the limit and the reader's buffer.
		let limits = Limits { max_record_bytes: 10_000, ..LIMITS };
		let long = format!("account\n{ALICE}\n{}\n", ",".repeat(1_000_000));
		let e = copy(long.as_bytes(), &format, &rules, 2, limits).unwrap_err();
		assert!(matches!(&e, AnonymizeError::Format(f) if f.0.contains("longer than 10000 bytes")));
	}

	#[test]
	fn limits_are_judging_limits() {
		let limits = Limits { max_records: 2, ..LIMITS };
		let e = copy(&chat(), &chat_format(), &chat_fields(), 2, limits).unwrap_err();
		assert!(
			matches!(&e, AnonymizeError::Format(f) if f.0 == "more than 2 records (the DAO's max_records)"),
			"{e}"
		);
		let limits = Limits { max_record_bytes: 100, ..LIMITS };
		let e = copy(&chat(), &chat_format(), &chat_fields(), 2, limits).unwrap_err();
		assert!(matches!(&e, AnonymizeError::Format(f) if f.0.contains("longer than 100 bytes")));
		let one =
			format!(r#"{{"account":"{ALICE}","channel":"general","text":"{}"}}"#, "x".repeat(200));
		let whole = Format::Json { records: None, schema: None };
		let e = copy(one.as_bytes(), &whole, &chat_fields(), 2, limits).unwrap_err();
		assert!(matches!(&e, AnonymizeError::Format(f) if f.0.contains("longer than 100 bytes")));
		let (n, text) = copy(one.as_bytes(), &whole, &chat_fields(), 2, LIMITS).unwrap();
		assert_eq!(n, 1);
		assert_eq!(lines(&text)[0]["channel"], "general");
	}

	#[test]
	fn records_that_are_not_objects_are_empty_objects() {
		let doc = br#"[{"channel":"general","text":"hi"},3,"general",[1,2],null,{}]"#;
		let whole = Format::Json { records: None, schema: None };
		let (n, text) = copy(doc, &whole, &chat_fields(), 2, LIMITS).unwrap();
		assert_eq!(n, 6);
		assert_eq!(text, "{\"channel\":\"general\"}\n{}\n{}\n{}\n{}\n{}\n");
	}

	#[test]
	fn nested_fields_are_copied_at_their_pointers() {
		let doc = br#"[{"user":{"name":"Alice","age":37,"mail":"a@example.org"},"a/b":{"c~d":1},"tags":["x","y"]}]"#;
		let rules = fields(json!({
			"/user/name": "pseudonymise", "/user/age": {"generalise": {"width": 5}},
			"/a~1b/c~0d": "keep", "/tags/1": "keep", "/user/none": "keep",
		}));
		let (_, text) = copy(doc, &ARRAY, &rules, 2, LIMITS).unwrap();
		let copies = lines(&text);
		let key = PseudonymKey::for_grant(&ROOT, 1, 2);
		assert_eq!(
			copies[0],
			json!({
				"user": {"name": key.pseudonym("/user/name", &json!("Alice")), "age": "35-40"},
				"a/b": {"c~d": 1},
				"tags": {"1": "y"},
			})
		);
	}

	#[test]
	fn raw_data_offers_no_copies() {
		let e = copy(b"a line\n", &Format::Raw, &chat_fields(), 2, LIMITS).unwrap_err();
		assert!(matches!(e, AnonymizeError::NotOffered));
	}

	/// The walk to the records is this module's own: it must find what judging finds.
	#[test]
	fn records_are_found_as_judging_finds_them() {
		let keys = Keys::new([4; 32]);
		let at = |pointer: Option<&str>| Format::Json {
			records: pointer.map(str::to_owned),
			schema: None,
		};
		for (format, doc) in [
			(at(None), &br#"[{"a":1},{"a":2}]"#[..]),
			(at(None), br#" {"a":1}"#),
			(at(Some("")), br#"[1,2,3]"#),
			(at(Some("/m")), br#"{"x":[{"m":[]}],"m":[{},{},{}],"y":1}"#),
			(at(Some("/1/m")), br#"[{"m":[1]},{"m":[1,2,3]}]"#),
			(at(Some("/a~1b/c~0d")), br#"{"a/b":{"c~d":[{},{}]}}"#),
			(at(Some("/m")), br#"{"other":[]}"#),
			(at(Some("/m")), br#"{"m":{"a":1}}"#),
			(at(Some("/m")), br#"{"m":[{}],"m":[]}"#),
			(at(Some("/m")), br#"{"m":[{}]} x"#),
			(at(Some("/01/m")), br#"[{"m":[1]},{"m":[1,2,3]}]"#),
			(at(Some("m")), br#"{"m":[1]}"#),
		] {
			let judged = records::read(doc, &format, None, LIMITS, &keys);
			let copied = copy(doc, &format, &chat_fields(), 2, LIMITS);
			match (judged, copied) {
				(Ok(r), Ok((n, _))) => assert_eq!(r.hashes.len() as u64, n),
				(Err(a), Err(AnonymizeError::Format(b))) => assert_eq!(a, b),
				(a, b) => panic!("{}: judged {a:?}, copied {b:?}", String::from_utf8_lossy(doc)),
			}
		}
	}

	#[test]
	fn the_pseudonym_root_is_the_secrets_own() {
		let secrets = crate::sealed::Secrets::generate().unwrap();
		assert_eq!(secrets.pseudonym_root(), secrets.pseudonym_root());
		let other = crate::sealed::Secrets::generate().unwrap();
		assert_ne!(secrets.pseudonym_root(), other.pseudonym_root());
	}

	#[test]
	fn days_of_timestamps() {
		for (t, day) in [
			(0, "1970-01-01"),
			(-1, "1969-12-31"),
			(1_700_000_000, "2023-11-14"),
			(1_700_000_000_000, "2023-11-14"),
			(-1_700_000_000_000, "1916-02-18"),
			(951_782_400, "2000-02-29"),
		] {
			assert_eq!(day_of_timestamp(t).as_deref(), Some(day), "{t}");
		}
		// seconds this large are taken for milliseconds: the last second of 9999 is 1978
		assert_eq!(day_of_unix(253_402_300_799).as_deref(), Some("9999-12-31"));
		assert_eq!(day_of_unix(253_402_300_800), None);
		assert_eq!(day_of_timestamp(253_402_300_799).as_deref(), Some("1978-01-11"));
		assert_eq!(day_of_timestamp(i64::MAX), None);
		assert_eq!(day_of_timestamp(i64::MIN), None);
		assert_eq!(day_of_timestamp_f64(1_700_000_000.9).as_deref(), Some("2023-11-14"));
		assert_eq!(day_of_timestamp_f64(-0.5).as_deref(), Some("1969-12-31"));
		assert_eq!(day_of_timestamp_f64(1e300), None);
		assert_eq!(day_of_timestamp_f64(f64::NAN), None);
		for z in (-800_000..800_000).step_by(97) {
			let (y, m, d) = civil_from_days(z);
			assert!((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d), "{z}");
			assert_eq!(days_from_civil(y, m, d), z);
		}
		assert_eq!(days_from_civil(1970, 1, 1), 0);
		assert_eq!(civil_from_days(-719_468), (0, 3, 1));
	}

	#[test]
	fn days_of_rfc3339_timestamps_are_utc() {
		for (s, day) in [
			("2023-11-14T22:13:20Z", Some("2023-11-14")),
			("2023-11-14t22:13:20.123456z", Some("2023-11-14")),
			("2023-11-14 22:13:20+01:00", Some("2023-11-14")),
			("2023-11-14T23:30:00-05:00", Some("2023-11-15")),
			("2023-11-15T00:30:00+01:00", Some("2023-11-14")),
			("2023-11-14T23:59:60Z", Some("2023-11-14")),
			("2024-02-29", Some("2024-02-29")),
			("2023-02-29", None),
			("2023-11-31T00:00:00Z", None),
			("2023-11-14T24:00:00Z", None),
			("2023-11-14T22:13:20", None),
			("2023-11-14T22:13:20.Z", None),
			("2023-11-14T22:13:20+0100", None),
			("2023-11-14T22:13:20+01:60", None),
			("2023-11-14T22:13Z", None),
			("2023-1-14", None),
			("+2023-11-14", None),
			("yesterday", None),
			("", None),
			("2023-11-14T22:13:20Zjunk", None),
		] {
			assert_eq!(day_of_rfc3339(s).as_deref(), day, "{s}");
		}
	}

	#[test]
	fn buckets() {
		for (v, w, b) in [
			(37.0, 10.0, "30-40"),
			(40.0, 10.0, "40-50"),
			(-3.0, 10.0, "-10-0"),
			(-0.0, 10.0, "0-10"),
			(0.35, 0.1, "0.3-0.4"),
			(0.3, 0.1, "0.3-0.4"),
			(5.0, 2.5, "5.0-7.5"),
			(1_234_567_890_123.0, 1.0, "1234567890123-1234567890124"),
		] {
			assert_eq!(bucket(v, w).as_deref(), Some(b), "{v} by {w}");
		}
		assert_eq!(bucket(1e300, 1e-300), None);
		assert_eq!(bucket(1.0, 0.0), None);
		assert_eq!(bucket(1.0, f64::NAN), None);
		let key = PseudonymKey::for_grant(&ROOT, 1, 2);
		assert_eq!(Action::Width(10.0).cell("37", &key), "30-40");
		assert_eq!(Action::Width(10.0).cell("NaN", &key), "");
		assert_eq!(Action::Day.cell("1700000000", &key), "2023-11-14");
		assert_eq!(Action::Day.cell("1700000000.5", &key), "2023-11-14");
		assert_eq!(Action::Width(10.0).json(&json!("37"), &key), Value::Null);
		assert_eq!(Action::Day.json(&json!(true), &key), Value::Null);
	}
}
