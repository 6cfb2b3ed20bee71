//! Judging one contribution: the proof of contribution.
//!
//! Given a contribution's data (its plaintext after the contributor's statement, decrypted in
//! memory, never written anywhere), a DAO's rules say whether it is valid and how much it is
//! worth:
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
//!   near duplicates through MinHash against the DAO's past contributions that still count on
//!   chain: uniqueness is 1 − resemblance to the closest one.
//!
//! Overall = authenticity × quality × ownership × uniqueness, each a [`Permill`], each product
//! rounded down (a score never rounds up).
//!
//! [`Judge::judge`] is the one way to judge: the server runs it for every contribution it
//! could decrypt, and the tests and the benchmark run it as it is, with a stand-in for the
//! chain (a [`Ledger`]).

use std::sync::Arc;

use datacoop_client::{At, Error as ChainError, Status};
use datacoop_primitives::contribution::Scores;
use sp_runtime::Permill;
use tokio::sync::Mutex;

use crate::{
	records::{self, FormatError, Owner},
	Distinct, Index, IndexError, Keys, Match, RecordLimits, Rules, Sketch,
};

/// The judgement of one contribution.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
	pub scores: Scores,
	/// `None`: valid. `Some(reason)`: invalid, the reason (at most 128 bytes).
	pub invalid: Option<String>,
	/// Keyed fingerprint of the normalized records (zero if they could not be read).
	pub fingerprint: [u8; 32],
	/// The MinHash sketch of its records, under which a valid contribution is indexed.
	pub sketch: Option<Sketch>,
	/// The closest past contribution.
	pub closest: Match,
}

impl Judgement {
	/// Invalid for `reason`, with nothing read: zero scores, no fingerprint.
	pub fn invalid(reason: String) -> Judgement {
		Judgement {
			scores: Scores::default(),
			invalid: Some(reason),
			fingerprint: [0; 32],
			sketch: None,
			closest: Match::None,
		}
	}
}

/// What judging reads from the chain, at the block it judges at: [`At`], or a stand-in in
/// tests and benchmarks.
pub trait Ledger: Sync {
	/// The contribution of DAO `dao_id` accepted with this fingerprint, if any.
	fn accepted_with(
		&self,
		dao_id: u32,
		fingerprint: [u8; 32],
	) -> impl std::future::Future<Output = Result<Option<u64>, ChainError>> + Send;

	/// Whether contribution `id` still counts in DAO `dao_id`: it is that DAO's, and Pending
	/// or Accepted.
	fn counts(
		&self,
		dao_id: u32,
		id: u64,
	) -> impl std::future::Future<Output = Result<bool, ChainError>> + Send;
}

impl Ledger for At {
	async fn accepted_with(
		&self,
		dao_id: u32,
		fingerprint: [u8; 32],
	) -> Result<Option<u64>, ChainError> {
		self.contribution_by_fingerprint(dao_id, fingerprint).await
	}

	async fn counts(&self, dao_id: u32, id: u64) -> Result<bool, ChainError> {
		Ok(self.contribution(id).await?.is_some_and(|c| {
			c.dao_id == dao_id && matches!(c.status, Status::Pending | Status::Accepted { .. })
		}))
	}
}

/// Why a contribution could not be judged (never the contributor's fault, so no verdict).
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
	/// The chain could not be read.
	#[error(transparent)]
	Chain(#[from] ChainError),
	/// The DAO's index could not be read or written.
	#[error(transparent)]
	Index(#[from] IndexError),
	/// Reading the data panicked (a bug): what the task said.
	#[error("judging panicked: {0}")]
	Panicked(String),
}

/// One DAO's judge: its rules, its fingerprint keys and its index of past contributions.
pub struct Judge {
	dao_id: u32,
	/// Shared with the blocking thread that reads each contribution.
	rules: Arc<Rules>,
	keys: Arc<Keys>,
	index: Index,
	/// One contribution at a time from the index lookup to its indexing, so two near copies
	/// judged at once cannot both pass for unique.
	one_at_a_time: Mutex<()>,
}

impl Judge {
	/// The judge of DAO `dao_id`'s contributions by `rules` and `keys`, against the past
	/// contributions in `index`. The index is tied to that DAO for good (see [`Index::bind`]):
	/// one written for another DAO is refused.
	pub fn new(dao_id: u32, rules: Rules, keys: Keys, index: Index) -> Result<Judge, IndexError> {
		index.bind(dao_id)?;
		Ok(Judge {
			dao_id,
			rules: Arc::new(rules),
			keys: Arc::new(keys),
			index,
			one_at_a_time: Mutex::new(()),
		})
	}

	/// The on-chain DAO judged for.
	pub fn dao_id(&self) -> u32 {
		self.dao_id
	}

	/// Its past contributions.
	pub fn index(&self) -> &Index {
		&self.index
	}

	/// Judges `data`, contribution `id` of the DAO by `contributor` (SS58), against the DAO's
	/// past contributions that still count on chain as `ledger` says: an exact copy of one is
	/// Invalid, a near one lowers uniqueness. A valid contribution is indexed before this
	/// returns, so the next one judged is compared with it even before its attestation lands;
	/// if the chain never accepts it, it is forgotten the next time it comes up.
	///
	/// The data is read on a blocking thread (parsing, schema checks and hashing are the costly
	/// part), then dropped there.
	pub async fn judge<L: Ledger>(
		&self,
		id: u64,
		contributor: &str,
		data: impl AsRef<[u8]> + Send + 'static,
		ledger: &L,
	) -> Result<Judgement, JudgeError> {
		let (rules, keys, contributor) =
			(self.rules.clone(), self.keys.clone(), contributor.to_owned());
		let assessment =
			tokio::task::spawn_blocking(move || assess(data.as_ref(), &contributor, &rules, &keys))
				.await
				.map_err(|e| JudgeError::Panicked(e.to_string()))?;

		let _one_at_a_time = self.one_at_a_time.lock().await;
		let closest = match &assessment {
			Assessment::Invalid(_) => Match::None,
			Assessment::Read { fingerprint, sketch, .. } => {
				match ledger.accepted_with(self.dao_id, *fingerprint).await? {
					Some(other) if other != id => Match::Exact { contribution: other },
					_ => self.closest_that_counts(ledger, id, fingerprint, sketch).await?,
				}
			},
		};
		let judgement = assessment.conclude(closest);
		if let (None, Some(sketch)) = (&judgement.invalid, &judgement.sketch) {
			self.index.add(id, &judgement.fingerprint, sketch)?;
		}
		Ok(judgement)
	}

	/// The closest contribution in the DAO's index that still counts on chain (that DAO's,
	/// Pending or Accepted), leaving contribution `id` out (judged again, it is no copy of
	/// itself). Entries that do not count are forgotten on the way: rejected or cancelled
	/// ones, and any of another DAO (an index written before key sets were bound).
	async fn closest_that_counts<L: Ledger>(
		&self,
		ledger: &L,
		id: u64,
		fingerprint: &[u8; 32],
		sketch: &Sketch,
	) -> Result<Match, JudgeError> {
		for _ in 0..16 {
			let found = self.index.closest_except(fingerprint, sketch, Some(id))?;
			let other = match found {
				Match::Exact { contribution } | Match::Near { contribution, .. } => contribution,
				Match::None => return Ok(found),
			};
			if ledger.counts(self.dao_id, other).await? {
				return Ok(found);
			}
			tracing::info!(
				dao = self.dao_id,
				contribution = other,
				"forgetting a contribution the chain did not accept"
			);
			self.index.forget(other)?;
		}
		// Sixteen stale entries in a row: judge against the next without checking it.
		Ok(self.index.closest_except(fingerprint, sketch, Some(id))?)
	}
}

/// What a contribution is worth on its own, before it is compared with the DAO's past ones.
// One lives per judgement, on the stack of one call: boxing the sketch would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Assessment {
	/// Unreadable or out of bounds, for this reason.
	Invalid(String),
	/// Read: its keyed fingerprint and MinHash sketch, and the scores that do not depend on
	/// other contributions.
	Read { fingerprint: [u8; 32], sketch: Sketch, quality: Permill, ownership: Permill },
}

/// Reads `data` in the DAO's format and scores what can be scored without the index. The
/// costly part of judging (parsing, schema checks, hashing); the index lookup is cheap.
fn assess(data: &[u8], contributor: &str, rules: &Rules, keys: &Keys) -> Assessment {
	let size = data.len() as u64;
	if size < rules.min_bytes || size > rules.max_bytes {
		return Assessment::Invalid(format!(
			"{size} bytes of data, outside {}..={}",
			rules.min_bytes, rules.max_bytes
		));
	}
	let owner = rules.owner_field.as_deref().map(|field| Owner { field, account: contributor });
	let limits =
		RecordLimits { max_records: rules.max_records, max_record_bytes: rules.max_record_bytes };
	let records = match records::read(data, &rules.format, owner, limits, keys) {
		Ok(r) => r,
		Err(FormatError(reason)) => return Assessment::Invalid(reason),
	};
	let n = records.hashes.len() as u64;
	let distinct = Distinct::of(records.hashes);
	// `from_rational` rounds down, and takes a share of nothing (no fields, say) as 100 %.
	let quality = Permill::from_rational(records.fields - records.empty_fields, records.fields)
		* Permill::from_rational(distinct.len() as u64, n)
		* Permill::from_rational(n, rules.target_records.max(1));
	let ownership = match owner {
		None => Permill::one(),
		Some(_) => Permill::from_rational(records.owned, n),
	};
	Assessment::Read {
		fingerprint: keys.fingerprint(&distinct),
		sketch: keys.sketch(&distinct),
		quality,
		ownership,
	}
}

impl Assessment {
	/// The judgement, given the closest past contribution: an exact copy is invalid, a near
	/// one lowers uniqueness to 1 − resemblance.
	fn conclude(self, closest: Match) -> Judgement {
		let (fingerprint, sketch, quality, ownership) = match self {
			Assessment::Invalid(reason) => return Judgement::invalid(reason),
			Assessment::Read { fingerprint, sketch, quality, ownership } => {
				(fingerprint, sketch, quality, ownership)
			},
		};
		if let Match::Exact { contribution } = closest {
			let mut j = Judgement::invalid(format!("duplicate of contribution #{contribution}"));
			j.fingerprint = fingerprint;
			j.closest = closest;
			return j;
		}
		let uniqueness = match closest {
			Match::Near { resemblance, .. } => Permill::from_float(1.0 - resemblance),
			_ => Permill::one(),
		};
		let authenticity = Permill::one();
		Judgement {
			scores: Scores {
				authenticity,
				ownership,
				quality,
				uniqueness,
				overall: authenticity * quality * ownership * uniqueness,
			},
			invalid: None,
			fingerprint,
			sketch: Some(sketch),
			closest,
		}
	}
}
