//! # The collective server's proof of contribution
//!
//! Given a contribution's plaintext (decrypted in memory, never written anywhere), a DAO's
//! rules say whether it is valid and how much it is worth:
//!
//! - **authenticity**: it parses in the DAO's format (JSON with a JSON Schema per record, CSV
//!   with required columns, or raw lines) and its size is within bounds; otherwise the
//!   contribution is Invalid with the reason (stored on chain);
//! - **quality**: a score, not a yes/no: the share of non-empty fields, times the share of
//!   distinct records, times how close the record count comes to the DAO's target;
//! - **ownership**: when the DAO names an owner field, the share of records whose owner field
//!   is the contributor's SS58 address (exports carry the account that made them; a DAO
//!   that wants more, such as a platform signature, adds it to its schema and checks it
//!   upstream). Without an owner field, ownership is not judged (100 %);
//! - **uniqueness**: an exact keyed fingerprint of the normalized records (the same data in
//!   another order or encryption is the same contribution: Invalid, "duplicate of #N"), and
//!   near duplicates through MinHash against the DAO's past contributions: uniqueness is
//!   1 − resemblance to the closest one.
//!
//! Overall = authenticity × quality × ownership × uniqueness, in parts per million.

pub mod chain;
pub mod fetch;
pub mod index;
pub mod records;
pub mod sealed;
pub mod server;

use serde::{Deserialize, Serialize};

pub use index::{Distinct, Index, IndexError, Keys, Match, Signature};
pub use records::{Format, FormatError, Limits as RecordLimits, Owner, Records};

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

impl Rules {
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

/// Parts per million, as the chain's `Permill`.
pub type Ppm = u32;
const FULL: Ppm = 1_000_000;

/// Scores, as the attestation carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scores {
	pub authenticity: Ppm,
	pub ownership: Ppm,
	pub quality: Ppm,
	pub uniqueness: Ppm,
	pub overall: Ppm,
}

impl Scores {
	fn zero() -> Scores {
		Scores { authenticity: 0, ownership: 0, quality: 0, uniqueness: 0, overall: 0 }
	}
}

/// The judgement of one contribution.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
	pub scores: Scores,
	/// `None`: valid. `Some(reason)`: invalid, the reason (at most 128 bytes).
	pub invalid: Option<String>,
	/// Keyed fingerprint of the normalized records (zero if they could not be read).
	pub fingerprint: [u8; 32],
	/// Kept to add the contribution to the index once the chain accepts it.
	pub signature: Option<Signature>,
	/// The closest past contribution.
	pub closest: Match,
}

fn ratio(part: u64, whole: u64) -> Ppm {
	if whole == 0 {
		return FULL;
	}
	((part.min(whole) as u128 * FULL as u128) / whole as u128) as Ppm
}

fn times(a: Ppm, b: Ppm) -> Ppm {
	((a as u64 * b as u64) / FULL as u64) as Ppm
}

/// Judges `plain`, contributed by `contributor` (SS58), against the DAO's `rules`, `keys`
/// and past contributions in `index`: [`assess`], then [`Assessment::conclude`] against the
/// closest contribution in the index.
pub fn judge(
	plain: &[u8],
	contributor: &str,
	rules: &Rules,
	keys: &Keys,
	index: &Index,
) -> Result<Judgement, IndexError> {
	let assessment = assess(plain, contributor, rules, keys);
	let closest = match &assessment {
		Assessment::Invalid(_) => Match::None,
		Assessment::Read { fingerprint, signature, .. } => index.closest(fingerprint, signature)?,
	};
	Ok(assessment.conclude(closest))
}

/// What a contribution is worth on its own, before it is compared with the DAO's past ones.
#[derive(Clone, Debug)]
pub enum Assessment {
	/// Unreadable or out of bounds, for this reason.
	Invalid(String),
	/// Read: its keyed fingerprint and MinHash signature, and the scores that do not depend
	/// on other contributions.
	Read { fingerprint: [u8; 32], signature: Signature, quality: Ppm, ownership: Ppm },
}

/// Reads `plain` in the DAO's format and scores what can be scored without the index. The
/// costly part of judging (parsing, schema checks, hashing); the index lookup is cheap.
pub fn assess(plain: &[u8], contributor: &str, rules: &Rules, keys: &Keys) -> Assessment {
	let size = plain.len() as u64;
	if size < rules.min_bytes || size > rules.max_bytes {
		return Assessment::Invalid(format!(
			"{size} bytes of data, outside {}..={}",
			rules.min_bytes, rules.max_bytes
		));
	}
	let owner = rules.owner_field.as_deref().map(|field| Owner { field, account: contributor });
	let limits =
		RecordLimits { max_records: rules.max_records, max_record_bytes: rules.max_record_bytes };
	let records = match records::read(plain, &rules.format, owner, limits, keys) {
		Ok(r) => r,
		Err(FormatError(reason)) => return Assessment::Invalid(reason),
	};
	let n = records.hashes.len() as u64;
	let distinct = Distinct::of(records.hashes);
	let quality = times(
		times(
			ratio(records.fields - records.empty_fields, records.fields),
			ratio(distinct.len() as u64, n),
		),
		ratio(n, rules.target_records.max(1)),
	);
	let ownership = match owner {
		None => FULL,
		Some(_) => ratio(records.owned, n),
	};
	Assessment::Read {
		fingerprint: keys.fingerprint(&distinct),
		signature: keys.signature(&distinct),
		quality,
		ownership,
	}
}

impl Assessment {
	/// The judgement, given the closest past contribution: an exact copy is invalid, a near
	/// one lowers uniqueness to 1 − resemblance.
	pub fn conclude(self, closest: Match) -> Judgement {
		let invalid = |reason: String| Judgement {
			scores: Scores::zero(),
			invalid: Some(reason),
			fingerprint: [0; 32],
			signature: None,
			closest: Match::None,
		};
		let (fingerprint, signature, quality, ownership) = match self {
			Assessment::Invalid(reason) => return invalid(reason),
			Assessment::Read { fingerprint, signature, quality, ownership } => {
				(fingerprint, signature, quality, ownership)
			},
		};
		if let Match::Exact { contribution } = closest {
			let mut j = invalid(format!("duplicate of contribution #{contribution}"));
			j.fingerprint = fingerprint;
			j.closest = closest;
			return j;
		}
		let uniqueness = match closest {
			Match::Near { resemblance, .. } => {
				((1.0 - resemblance).clamp(0.0, 1.0) * FULL as f64) as Ppm
			},
			_ => FULL,
		};
		let authenticity = FULL;
		let overall = times(times(times(authenticity, quality), ownership), uniqueness);
		Judgement {
			scores: Scores { authenticity, ownership, quality, uniqueness, overall },
			invalid: None,
			fingerprint,
			signature: Some(signature),
			closest,
		}
	}
}
