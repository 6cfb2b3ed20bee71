//! A DAO's rules: the format its contributions must have, their size bounds, the record count
//! that earns full quality, the field naming the data's owner, and the bounds on what judging
//! holds in memory. Part of the measurement (see `measurement`): other rules, another
//! measurement. Read from a file in one place, [`Rules::read`], which also checks them.

use std::path::Path;

use serde::{Deserialize, Serialize};

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
		Ok(())
	}
}
