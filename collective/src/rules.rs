//! A DAO's rules: the format its contributions must have, their size bounds, the record count
//! that earns full quality, the field naming the data's owner, the bounds on what judging
//! holds in memory, and what an anonymized copy keeps of each field. Part of the measurement
//! (see `measurement`): other rules, another measurement. Read from a file in one place,
//! [`Rules::read`], which also checks them.

use std::{collections::BTreeMap, fmt, path::Path};

use serde::{
	de::{Error as _, MapAccess, Visitor},
	ser::SerializeMap,
	Deserialize, Deserializer, Serialize, Serializer,
};
use serde_json::Value;

use crate::records::Format;

/// One DAO's proof of contribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rules {
	pub format: Format,
	/// Plaintext size bounds, in bytes.
	pub min_bytes: u64,
	pub max_bytes: u64,
	/// Record count that earns full quality; fewer earn proportionally less.
	pub target_records: u64,
	/// Field (JSON pointer within a record, or CSV column) naming the account the data
	/// belongs to; `None`: ownership is not judged.
	#[serde(default)]
	pub owner_field: Option<String>,
	/// Records a contribution may hold at most; more is Invalid, found while reading (the
	/// reading stops there). Each record costs 16 bytes of state while it is judged, so a
	/// payload of tiny records would otherwise turn 256 MiB into gigabytes.
	#[serde(default = "default_max_records")]
	pub max_records: u64,
	/// Bytes one record may take at most (a JSON record, a CSV row): a record is parsed in
	/// memory, at several times its size, before it is hashed.
	#[serde(default = "default_max_record_bytes")]
	pub max_record_bytes: u64,
	/// What an anonymized copy does with each field of a record (a JSON pointer within a
	/// record, or a CSV column); a field not named is dropped, so a field that appears in
	/// exports later never reaches a copy unseen. `None`: the DAO makes no anonymized copies.
	/// Left out of the canonical JSON when `None`, so the measurement of rules written before
	/// this field existed does not change.
	#[serde(
		default,
		skip_serializing_if = "Option::is_none",
		deserialize_with = "fields_once_each"
	)]
	pub fields: Option<BTreeMap<String, FieldRule>>,
	/// The aggregate queries the DAO answers (counts, sums, means, histograms, approximate
	/// extremes by group, with differential privacy: `engine`, `dp`). `None`: it answers
	/// none. Left out of the canonical JSON when `None`, as `fields` is.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub aggregate: Option<AggregateRules>,
}

/// What aggregate queries may ask, and what each answer may cost in privacy. In a rules
/// file: `{"group_by": {"/channel": "category", "/at": "day"}, "values": {"/age": [0, 120]},
/// "min_group_size": 5, "max_records_per_contributor": 100, "epsilon_per_grant": 2.0,
/// "max_epsilon_per_query": 1.0}`. Fields are JSON pointers within a record, or CSV columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateRules {
	/// The fields answers may be grouped by, and how each is read.
	#[serde(default, deserialize_with = "once_each")]
	pub group_by: BTreeMap<String, GroupKind>,
	/// The numeric fields queries may sum, average, bin or take extremes of, each with its
	/// range `[lo, hi]`: a value outside it is clamped into it when it is read (that bounds
	/// what one record can add to a sum), a value that is not a number is left out.
	#[serde(default, deserialize_with = "once_each")]
	pub values: BTreeMap<String, [f64; 2]>,
	/// Groups of fewer distinct contributors are not answered (not listed, not counted).
	pub min_group_size: u32,
	/// Records of one contributor that answers count at most, over all their contributions
	/// (the first ones read): one contributor's weight in any answer, the unit of privacy.
	#[serde(default = "default_max_records_per_contributor")]
	pub max_records_per_contributor: u32,
	/// The privacy budget (ε) one grant may spend on answers, in all.
	pub epsilon_per_grant: f64,
	/// The ε one query may spend at most.
	pub max_epsilon_per_query: f64,
}

/// How a group field's value is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
	/// The value as text (a string, a number, a boolean), when it is at most 64 characters;
	/// anything else is no value.
	Category,
	/// A timestamp (unix seconds or milliseconds, or RFC 3339) as its UTC day, `YYYY-MM-DD`.
	Day,
}

/// Group fields aggregate rules may name at most.
pub const MAX_GROUP_FIELDS: usize = 16;
/// Value fields aggregate rules may name at most.
pub const MAX_VALUE_FIELDS: usize = 16;
/// The largest `epsilon_per_grant`: past it, an answer protects no one.
pub const MAX_EPSILON_PER_GRANT: f64 = 100.0;
/// `max_records_per_contributor` when the rules do not say.
pub const DEFAULT_MAX_RECORDS_PER_CONTRIBUTOR: u32 = 100;

fn default_max_records_per_contributor() -> u32 {
	DEFAULT_MAX_RECORDS_PER_CONTRIBUTOR
}

/// Reads a map of fields, refusing a field named twice (the last one would silently win, so
/// a file could show voters one range and use another).
fn once_each<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
	d: D,
) -> Result<BTreeMap<String, T>, D::Error> {
	struct Once<T>(std::marker::PhantomData<T>);

	impl<'de, T: Deserialize<'de>> Visitor<'de> for Once<T> {
		type Value = BTreeMap<String, T>;

		fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
			f.write_str("an object naming each field once")
		}

		fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
			let mut out = BTreeMap::new();
			while let Some(name) = map.next_key::<String>()? {
				let value = map
					.next_value::<T>()
					.map_err(|e| A::Error::custom(format!("{name:?}: {e}")))?;
				if out.contains_key(&name) {
					return Err(A::Error::custom(format!("{name:?} is named twice")));
				}
				out.insert(name, value);
			}
			Ok(out)
		}
	}

	d.deserialize_map(Once(std::marker::PhantomData))
}

/// What an anonymized copy does with one field. In a rules file: `"keep"`, `"drop"`,
/// `"pseudonymise"`, `{"pseudonymise": {"domain": "account"}}`, `{"generalise": "day"}` or
/// `{"generalise": {"width": 10}}`.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldRule {
	/// The value as it is.
	Keep,
	/// Nothing: the field is absent from the copy (as if it were not named).
	Drop,
	/// A keyed hash of the value, the same for the same value within one grant's copies.
	/// Fields sharing a `domain` (a sender and a recipient) get the same pseudonym for the
	/// same value, so they still join; without one, the domain is the field's own name.
	Pseudonymise { domain: Option<String> },
	/// A coarser value: the day of a timestamp, the bucket of a number.
	Generalise(Generalise),
}

/// How a generalised field is coarsened.
#[derive(Clone, Debug, PartialEq)]
pub enum Generalise {
	/// A timestamp (unix seconds or milliseconds, or RFC 3339) becomes its UTC day,
	/// `YYYY-MM-DD`.
	Day,
	/// A number v becomes the bucket `lo-hi` of this width that holds it (lo ≤ v < hi).
	Width(f64),
}

/// Fields a DAO's rules may name at most: each costs a lookup per record in every copy.
pub const MAX_FIELDS: usize = 256;

/// The spellings a field's rule has, for error messages.
const FIELD_RULE_FORMS: &str = r#""keep", "drop", "pseudonymise", {"pseudonymise": {"domain": "…"}}, {"generalise": "day"} or {"generalise": {"width": n}}"#;

impl FieldRule {
	/// The rule `value` spells, or why it spells none. Read from a JSON value rather than
	/// derived: serde's untagged enums answer a typo with "did not match any variant", and
	/// a rules file is read by people voting on it.
	fn from_json(value: &Value) -> Result<FieldRule, String> {
		let rule = match value {
			Value::String(s) => match s.as_str() {
				"keep" => Some(FieldRule::Keep),
				"drop" => Some(FieldRule::Drop),
				"pseudonymise" => Some(FieldRule::Pseudonymise { domain: None }),
				_ => None,
			},
			Value::Object(outer) if outer.len() == 1 => {
				let (kind, inner) = outer.iter().next().expect("one entry");
				let only = |key: &str| match inner {
					Value::Object(o) if o.len() == 1 => o.get(key),
					_ => None,
				};
				match kind.as_str() {
					"pseudonymise" => only("domain")
						.and_then(Value::as_str)
						.map(|d| FieldRule::Pseudonymise { domain: Some(d.to_owned()) }),
					"generalise" if inner.as_str() == Some("day") => {
						Some(FieldRule::Generalise(Generalise::Day))
					},
					"generalise" => only("width")
						.and_then(Value::as_f64)
						.map(|w| FieldRule::Generalise(Generalise::Width(w))),
					_ => None,
				}
			},
			_ => None,
		};
		rule.ok_or_else(|| {
			let mut found = value.to_string();
			if found.len() > 80 {
				let mut cut = 80;
				while !found.is_char_boundary(cut) {
					cut -= 1;
				}
				found.truncate(cut);
				found.push('…');
			}
			format!("a field's rule is one of {FIELD_RULE_FORMS}, not {found}")
		})
	}
}

impl Serialize for FieldRule {
	/// Written as it is read (see [`FieldRule`]): a rules file read and written again is the
	/// same rules, and the measurement hashes what is written.
	fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
		#[derive(Serialize)]
		struct Domain<'a> {
			domain: &'a str,
		}
		#[derive(Serialize)]
		struct Width {
			width: f64,
		}
		match self {
			FieldRule::Keep => s.serialize_str("keep"),
			FieldRule::Drop => s.serialize_str("drop"),
			FieldRule::Pseudonymise { domain: None } => s.serialize_str("pseudonymise"),
			FieldRule::Pseudonymise { domain: Some(domain) } => {
				one_entry(s, "pseudonymise", &Domain { domain: domain.as_str() })
			},
			FieldRule::Generalise(Generalise::Day) => one_entry(s, "generalise", "day"),
			FieldRule::Generalise(Generalise::Width(width)) => {
				one_entry(s, "generalise", &Width { width: *width })
			},
		}
	}
}

/// `{key: value}`, the form of the rules that take a parameter.
fn one_entry<S: Serializer, V: Serialize + ?Sized>(
	s: S,
	key: &str,
	value: &V,
) -> Result<S::Ok, S::Error> {
	let mut map = s.serialize_map(Some(1))?;
	map.serialize_entry(key, value)?;
	map.end()
}

impl<'de> Deserialize<'de> for FieldRule {
	fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FieldRule, D::Error> {
		FieldRule::from_json(&Value::deserialize(d)?).map_err(D::Error::custom)
	}
}

/// Reads `fields`, naming the field whose rule is wrong, and refusing a field named twice: a
/// JSON object may repeat a key, and the last one would silently win, so a file could show
/// voters `"drop"` for a field it keeps.
fn fields_once_each<'de, D: Deserializer<'de>>(
	d: D,
) -> Result<Option<BTreeMap<String, FieldRule>>, D::Error> {
	struct Fields;

	impl<'de> Visitor<'de> for Fields {
		type Value = Option<BTreeMap<String, FieldRule>>;

		fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
			f.write_str("an object giving each field's rule")
		}

		fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
			Ok(None)
		}

		fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
			Ok(None)
		}

		fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
			d.deserialize_map(self)
		}

		fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
			let mut fields = BTreeMap::new();
			while let Some(name) = map.next_key::<String>()? {
				let rule = FieldRule::from_json(&map.next_value::<Value>()?)
					.map_err(|why| A::Error::custom(format!("fields {name:?}: {why}")))?;
				if fields.contains_key(&name) {
					return Err(A::Error::custom(format!("fields names {name:?} twice")));
				}
				fields.insert(name, rule);
			}
			Ok(Some(fields))
		}
	}

	d.deserialize_option(Fields)
}

/// `max_records` when the rules do not say: a million records (16 MB of record hashes).
pub const DEFAULT_MAX_RECORDS: u64 = 1_000_000;
/// `max_record_bytes` when the rules do not say: 1 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 1 << 20;
/// The largest `max_records` rules may set: 2^24 records, 256 MiB of record hashes.
pub const MAX_RECORDS_CEILING: u64 = 1 << 24;
/// The largest `max_record_bytes` rules may set: 64 MiB.
pub const MAX_RECORD_BYTES_CEILING: u64 = 64 << 20;

fn default_max_records() -> u64 {
	DEFAULT_MAX_RECORDS
}

fn default_max_record_bytes() -> u64 {
	DEFAULT_MAX_RECORD_BYTES
}

/// Why a rules file cannot be used: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {why}")]
pub struct RulesError {
	pub path: String,
	pub why: String,
}

impl Rules {
	/// The rules in the JSON file at `path`, checked (see [`Rules::check`]).
	pub fn read(path: &Path) -> Result<Rules, RulesError> {
		let fail = |why: String| RulesError { path: path.display().to_string(), why };
		let text = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
		let rules: Rules = serde_json::from_slice(&text).map_err(|e| fail(e.to_string()))?;
		rules.check().map_err(fail)?;
		Ok(rules)
	}

	/// Whether the rules can judge anything: bounds in order and within the ceilings, a
	/// schema that compiles.
	pub fn check(&self) -> Result<(), String> {
		if self.min_bytes > self.max_bytes {
			return Err(format!(
				"min_bytes {} is above max_bytes {}",
				self.min_bytes, self.max_bytes
			));
		}
		if !(1..=MAX_RECORDS_CEILING).contains(&self.max_records) {
			return Err(format!(
				"max_records {} is outside 1..={MAX_RECORDS_CEILING}",
				self.max_records
			));
		}
		if !(1..=MAX_RECORD_BYTES_CEILING).contains(&self.max_record_bytes) {
			return Err(format!(
				"max_record_bytes {} is outside 1..={MAX_RECORD_BYTES_CEILING}",
				self.max_record_bytes
			));
		}
		if let Format::Json { schema: Some(schema), .. } = &self.format {
			jsonschema::validator_for(schema).map_err(|e| format!("the schema is invalid: {e}"))?;
		}
		if let Some(fields) = &self.fields {
			self.check_fields(fields)?;
		}
		if let Some(aggregate) = &self.aggregate {
			self.check_aggregate(aggregate).map_err(|why| format!("aggregate: {why}"))?;
		}
		Ok(())
	}

	/// Whether `aggregate` can answer queries that say what they seem to: fields that can
	/// name something in this format (and never the owner's account as a group), ranges that
	/// are ranges, a budget that protects someone.
	fn check_aggregate(&self, aggregate: &AggregateRules) -> Result<(), String> {
		let json = match &self.format {
			Format::Json { .. } => true,
			Format::Csv { .. } => false,
			Format::Raw => return Err("the raw format has no fields to aggregate".into()),
		};
		if aggregate.group_by.len() > MAX_GROUP_FIELDS {
			return Err(format!("group_by names more than {MAX_GROUP_FIELDS} fields"));
		}
		if aggregate.values.len() > MAX_VALUE_FIELDS {
			return Err(format!("values names more than {MAX_VALUE_FIELDS} fields"));
		}
		for name in aggregate.group_by.keys().chain(aggregate.values.keys()) {
			if json {
				check_pointer(name).map_err(|why| format!("{name:?}: {why}"))?;
			} else if name.is_empty() || name.trim() != name {
				return Err(format!(
					"{name:?}: a CSV column's name is not empty and has no spaces around it"
				));
			}
		}
		if let Some(owner) = &self.owner_field {
			for name in aggregate.group_by.keys() {
				let holds_owner = name == owner
					|| (json
						&& owner
							.strip_prefix(name.as_str())
							.is_some_and(|rest| rest.starts_with('/')));
				if holds_owner {
					return Err(format!(
						"group_by {name:?}: the owner field {owner:?} is never a group (its \
						 values are the contributors' accounts)"
					));
				}
			}
		}
		for (name, &[lo, hi]) in &aggregate.values {
			if !(lo.is_finite() && hi.is_finite() && lo < hi) {
				return Err(format!("values {name:?}: [{lo}, {hi}] is not a range (lo < hi)"));
			}
		}
		if aggregate.min_group_size < 1 {
			return Err("min_group_size is at least 1".into());
		}
		if !(1..=MAX_RECORDS_CEILING).contains(&u64::from(aggregate.max_records_per_contributor)) {
			return Err(format!(
				"max_records_per_contributor {} is outside 1..={MAX_RECORDS_CEILING}",
				aggregate.max_records_per_contributor
			));
		}
		let epsilon = aggregate.epsilon_per_grant;
		if !(epsilon.is_finite() && epsilon > 0.0 && epsilon <= MAX_EPSILON_PER_GRANT) {
			return Err(format!(
				"epsilon_per_grant {epsilon} is not in (0, {MAX_EPSILON_PER_GRANT}]"
			));
		}
		let per_query = aggregate.max_epsilon_per_query;
		if !(per_query.is_finite() && per_query > 0.0 && per_query <= epsilon) {
			return Err(format!(
				"max_epsilon_per_query {per_query} is not in (0, epsilon_per_grant]"
			));
		}
		Ok(())
	}

	/// Whether `fields` makes anonymized copies that say what they seem to: names that can
	/// name something in this format, parameters in range, no field inside another (the
	/// outer field's rule would decide for the inner one, whatever the inner one says), and
	/// the owner's account never in a copy as it is.
	fn check_fields(&self, fields: &BTreeMap<String, FieldRule>) -> Result<(), String> {
		let json = match &self.format {
			Format::Json { .. } => true,
			Format::Csv { .. } => false,
			Format::Raw => return Err("fields: the raw format has no fields to anonymize".into()),
		};
		if fields.len() > MAX_FIELDS {
			return Err(format!("fields names {} fields, more than {MAX_FIELDS}", fields.len()));
		}
		for (name, rule) in fields {
			let fail = |why: &str| -> Result<(), String> { Err(format!("fields {name:?}: {why}")) };
			// A pseudonym hashes its domain, a NUL, then the value: a NUL in a domain (a
			// field's name by default) would let two domains hash alike.
			if name.contains('\0') {
				return fail("a field's name holds no NUL");
			}
			if json {
				if let Err(why) = check_pointer(name) {
					return fail(why);
				}
				// Each '/' after the first ends the pointer of a field that holds this one.
				for (i, _) in name.match_indices('/').skip(1) {
					let outer = &name[..i];
					if fields.contains_key(outer) {
						return Err(format!(
							"fields {outer:?} holds {name:?}: name the inner fields alone"
						));
					}
				}
			} else if name.is_empty() || name.trim() != name {
				// Columns are read trimmed: a name with spaces around it would name none.
				return fail("a CSV column's name is not empty and has no spaces around it");
			}
			match rule {
				FieldRule::Pseudonymise { domain: Some(d) } if d.is_empty() || d.contains('\0') => {
					return fail("a domain is not empty and holds no NUL");
				},
				FieldRule::Generalise(Generalise::Width(w)) if !(w.is_finite() && *w > 0.0) => {
					return fail(&format!("the width {w} is not a positive number"));
				},
				_ => {},
			}
		}
		if let Some(owner) = &self.owner_field {
			for (name, rule) in fields {
				let holds_owner = name == owner
					|| (json
						&& owner
							.strip_prefix(name.as_str())
							.is_some_and(|rest| rest.starts_with('/')));
				if holds_owner && !matches!(rule, FieldRule::Drop | FieldRule::Pseudonymise { .. })
				{
					return Err(format!(
						"fields {name:?}: the owner field {owner:?} is dropped or pseudonymised \
						 (an anonymized copy never carries the owner's account)"
					));
				}
			}
		}
		Ok(())
	}
}

/// Whether `pointer` is a JSON pointer (RFC 6901) to a field of a record: it starts with '/',
/// and each '~' escapes a '~' (`~0`) or a '/' (`~1`).
fn check_pointer(pointer: &str) -> Result<(), &'static str> {
	if !pointer.starts_with('/') {
		return Err("a JSON pointer starts with /");
	}
	let mut rest = pointer;
	while let Some(i) = rest.find('~') {
		rest = &rest[i + 1..];
		if !(rest.starts_with('0') || rest.starts_with('1')) {
			return Err("a ~ in a JSON pointer is ~0 or ~1");
		}
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use serde_json::json;

	use super::*;

	/// Rules for a JSON chat export with `extra` set on them, read and checked as a rules
	/// file is.
	fn rules(extra: Value) -> Result<Rules, String> {
		let mut doc = json!({
			"format": {"kind": "json", "records": "/messages"},
			"min_bytes": 1,
			"max_bytes": 1000,
			"target_records": 10
		});
		for (k, v) in extra.as_object().expect("an object") {
			doc[k] = v.clone();
		}
		let rules: Rules = serde_json::from_value(doc).map_err(|e| e.to_string())?;
		rules.check()?;
		Ok(rules)
	}

	fn refused(extra: Value, why: &str) {
		let e = rules(extra.clone()).expect_err(&extra.to_string());
		assert!(e.contains(why), "{extra}: {e}");
	}

	#[test]
	fn fields_read_in_every_form_and_are_written_as_read() {
		let r = rules(json!({
			"owner_field": "/account",
			"fields": {
				"/account": "pseudonymise", "/text": "drop", "/at": {"generalise": "day"},
				"/age": {"generalise": {"width": 10}}, "/channel": "keep",
				"/to": {"pseudonymise": {"domain": "account"}}
			}
		}))
		.unwrap();
		let fields = r.fields.clone().unwrap();
		assert_eq!(fields["/account"], FieldRule::Pseudonymise { domain: None });
		assert_eq!(fields["/text"], FieldRule::Drop);
		assert_eq!(fields["/at"], FieldRule::Generalise(Generalise::Day));
		assert_eq!(fields["/age"], FieldRule::Generalise(Generalise::Width(10.0)));
		assert_eq!(fields["/channel"], FieldRule::Keep);
		assert_eq!(fields["/to"], FieldRule::Pseudonymise { domain: Some("account".into()) });
		let text = serde_json::to_string(&r).unwrap();
		assert!(text.contains(
			r#""fields":{"/account":"pseudonymise","/age":{"generalise":{"width":10.0}},"/at":{"generalise":"day"},"/channel":"keep","/text":"drop","/to":{"pseudonymise":{"domain":"account"}}}"#
		), "{text}");
		assert_eq!(serde_json::from_str::<Rules>(&text).unwrap(), r);
	}

	#[test]
	fn rules_without_fields_are_written_as_before() {
		let r = rules(json!({})).unwrap();
		assert_eq!(r.fields, None);
		// The measurement hashes this text: it must not change for rules files written
		// before `fields` existed.
		assert_eq!(
			serde_json::to_string(&r).unwrap(),
			r#"{"format":{"kind":"json","records":"/messages","schema":null},"min_bytes":1,"max_bytes":1000,"target_records":10,"owner_field":null,"max_records":1000000,"max_record_bytes":1048576}"#
		);
		let r = rules(json!({"fields": null})).unwrap();
		assert_eq!(r.fields, None);
		assert!(!serde_json::to_string(&r).unwrap().contains("fields"));
	}

	#[test]
	fn misspelt_rules_are_refused_by_name() {
		for rule in [
			json!("hash"),
			json!("Keep"),
			json!(3),
			json!(null),
			json!({"pseudonymise": {"domian": "account"}}),
			json!({"pseudonymise": {"domain": 7}}),
			json!({"pseudonymise": {}}),
			json!({"pseudonymise": "account"}),
			json!({"generalise": "week"}),
			json!({"generalise": {"width": "10"}}),
			json!({"generalise": {"width": 10, "from": 0}}),
			json!({"generalise": "day", "keep": true}),
			json!({"keep": true}),
		] {
			refused(json!({"fields": {"/at": rule}}), "fields \"/at\": a field's rule is one of");
		}
		refused(json!({"fields": ["/at"]}), "an object giving each field's rule");
	}

	#[test]
	fn a_field_named_twice_is_refused() {
		let text = r#"{"format":{"kind":"json"},"min_bytes":1,"max_bytes":10,"target_records":1,
			"fields":{"/account":"drop","/text":"keep","/account":"keep"}}"#;
		let e = serde_json::from_str::<Rules>(text).unwrap_err().to_string();
		assert!(e.contains("fields names \"/account\" twice"), "{e}");
	}

	#[test]
	fn fields_are_checked_against_the_format_and_the_owner() {
		let csv_format = json!({"kind": "csv", "required_columns": ["account"]});
		refused(json!({"format": {"kind": "raw"}, "fields": {}}), "the raw format");
		refused(json!({"fields": {"account": "keep"}}), "starts with /");
		refused(json!({"fields": {"": "keep"}}), "starts with /");
		refused(json!({"fields": {"/a~2b": "keep"}}), "~0 or ~1");
		refused(json!({"fields": {"/a~": "keep"}}), "~0 or ~1");
		rules(json!({"fields": {"/a~1b/c~0d": "keep", "/": "keep"}})).unwrap();
		refused(json!({"format": csv_format, "fields": {"": "keep"}}), "CSV column");
		refused(json!({"format": csv_format, "fields": {" account": "keep"}}), "CSV column");
		rules(json!({"format": csv_format, "fields": {"account": "pseudonymise", "at": "keep"}}))
			.unwrap();
		refused(json!({"fields": {"/a\u{0}b": "keep"}}), "NUL");
		for width in [json!(0), json!(-1), json!(-0.5)] {
			refused(
				json!({"fields": {"/age": {"generalise": {"width": width}}}}),
				"is not a positive number",
			);
		}
		rules(json!({"fields": {"/age": {"generalise": {"width": 0.25}}}})).unwrap();
		let mut r = rules(json!({"fields": {}})).unwrap();
		for w in [f64::NAN, f64::INFINITY] {
			let width = FieldRule::Generalise(Generalise::Width(w));
			r.fields = Some(BTreeMap::from([("/age".to_owned(), width)]));
			assert!(r.check().unwrap_err().contains("is not a positive number"));
		}
		refused(json!({"fields": {"/to": {"pseudonymise": {"domain": ""}}}}), "a domain");
		let inner = json!({"/user": "keep", "/user/name": "drop"});
		refused(json!({ "fields": inner }), "holds \"/user/name\"");
		refused(json!({"fields": {"/user": "drop", "/user/a/b": "keep"}}), "name the inner");
		rules(json!({"fields": {"/user": "keep", "/user2/name": "keep", "/user~1name": "keep"}}))
			.unwrap();

		// the owner's account never leaves as it is
		for rule in [json!("keep"), json!({"generalise": "day"})] {
			refused(
				json!({"owner_field": "/account", "fields": {"/account": rule}}),
				"owner field",
			);
			refused(
				json!({"owner_field": "/user/account", "fields": {"/user": rule}}),
				"owner field",
			);
		}
		refused(
			json!({"format": csv_format, "owner_field": "account", "fields": {"account": "keep"}}),
			"owner field",
		);
		for rule in [json!("drop"), json!("pseudonymise"), json!({"pseudonymise": {"domain": "a"}})]
		{
			rules(json!({"owner_field": "/account", "fields": {"/account": rule}})).unwrap();
		}
		rules(json!({"owner_field": "/account", "fields": {"/text": "keep"}})).unwrap();
		let beside = json!({"/user/name": "keep", "/username": "keep"});
		rules(json!({"owner_field": "/user/account", "fields": beside})).unwrap();

		let many = |n: usize| {
			let fields: serde_json::Map<String, Value> =
				(0..n).map(|i| (format!("/f{i}"), json!("keep"))).collect();
			json!({ "fields": fields })
		};
		rules(many(MAX_FIELDS)).unwrap();
		refused(many(MAX_FIELDS + 1), "more than 256");
	}

	fn aggregate(extra: Value) -> Value {
		let mut a = json!({
			"group_by": {"/channel": "category", "/at": "day"},
			"values": {"/age": [0, 120]},
			"min_group_size": 5,
			"epsilon_per_grant": 2.0,
			"max_epsilon_per_query": 1.0
		});
		for (k, v) in extra.as_object().expect("an object") {
			a[k] = v.clone();
		}
		json!({ "aggregate": a })
	}

	#[test]
	fn aggregate_rules_read_with_their_defaults_and_are_written_as_read() {
		let r = rules(aggregate(json!({}))).unwrap();
		let a = r.aggregate.clone().unwrap();
		assert_eq!(a.group_by["/channel"], GroupKind::Category);
		assert_eq!(a.group_by["/at"], GroupKind::Day);
		assert_eq!(a.values["/age"], [0.0, 120.0]);
		assert_eq!(a.max_records_per_contributor, DEFAULT_MAX_RECORDS_PER_CONTRIBUTOR);
		let text = serde_json::to_string(&r).unwrap();
		assert!(text.contains(r#""aggregate":{"group_by":{"/at":"day","/channel":"category"},"values":{"/age":[0.0,120.0]},"min_group_size":5,"max_records_per_contributor":100,"epsilon_per_grant":2.0,"max_epsilon_per_query":1.0}"#), "{text}");
		assert_eq!(serde_json::from_str::<Rules>(&text).unwrap(), r);
		// rules without it are written as before (rules_without_fields_are_written_as_before)
		assert!(!serde_json::to_string(&rules(json!({})).unwrap()).unwrap().contains("aggregate"));
	}

	#[test]
	fn aggregate_rules_are_checked() {
		let csv_format = json!({"kind": "csv", "required_columns": []});
		refused(
			json!({"format": {"kind": "raw"}, "aggregate": aggregate(json!({}))["aggregate"]}),
			"raw format",
		);
		refused(aggregate(json!({"group_by": {"channel": "category"}})), "starts with /");
		refused(aggregate(json!({"values": {"/a~2": [0, 1]}})), "~0 or ~1");
		refused(aggregate(json!({"values": {"/age": [1, 1]}})), "is not a range");
		refused(aggregate(json!({"values": {"/age": [2, 1]}})), "is not a range");
		refused(aggregate(json!({"group_by": {"/channel": "week"}})), "unknown variant");
		refused(aggregate(json!({"min_group_size": 0})), "min_group_size");
		refused(
			aggregate(json!({"max_records_per_contributor": 0})),
			"max_records_per_contributor",
		);
		refused(aggregate(json!({"epsilon_per_grant": 0.0})), "epsilon_per_grant");
		refused(aggregate(json!({"epsilon_per_grant": 101.0})), "epsilon_per_grant");
		refused(aggregate(json!({"max_epsilon_per_query": 0.0})), "max_epsilon_per_query");
		refused(aggregate(json!({"max_epsilon_per_query": 3.0})), "max_epsilon_per_query");
		refused(aggregate(json!({"delta": 1e-7})), "unknown field");
		refused(
			json!({"owner_field": "/account", "aggregate": aggregate(json!({"group_by": {"/account": "category"}}))["aggregate"]}),
			"owner field",
		);
		let many: serde_json::Map<String, Value> =
			(0..=MAX_GROUP_FIELDS).map(|i| (format!("/g{i}"), json!("category"))).collect();
		refused(aggregate(json!({ "group_by": many })), "more than 16");
		let mut csv =
			aggregate(json!({"group_by": {"channel": "category"}, "values": {"age": [0, 120]}}));
		csv["format"] = csv_format.clone();
		rules(csv).unwrap();
		let mut csv = aggregate(json!({"group_by": {" channel": "category"}, "values": {}}));
		csv["format"] = csv_format;
		refused(csv, "CSV column");
		let mut r = rules(aggregate(json!({}))).unwrap();
		r.aggregate.as_mut().unwrap().values.insert("/x".into(), [0.0, f64::INFINITY]);
		assert!(r.check().unwrap_err().contains("is not a range"));
		let twice = r#"{"format":{"kind":"json"},"min_bytes":1,"max_bytes":10,"target_records":1,
			"aggregate":{"values":{"/age":[0,10],"/age":[0,1000]},"min_group_size":1,
			"epsilon_per_grant":1,"max_epsilon_per_query":1}}"#;
		let e = serde_json::from_str::<Rules>(twice).unwrap_err().to_string();
		assert!(e.contains("\"/age\" is named twice"), "{e}");
	}
}
