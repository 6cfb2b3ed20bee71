//! From a contribution id to a signed attestation: what `POST /v1/validate` does. Read the
//! contribution and its DAO at the chain's best block; take the key set bound to that DAO
//! (another DAO with the same keys is refused); give the kept answer again if there is one;
//! else fetch the blob (as the storage policy allows, within its deadlines), decrypt it,
//! check the contributor's statement inside, judge the data ([`Judge::judge`]) and sign.
//!
//! [`Judge::judge`]: crate::Judge::judge

use std::{sync::Arc, time::Instant};

use axum::http::StatusCode;
use datacoop_client::Status;
use datacoop_envelope::{decrypt, Identity, Parallelism};
use datacoop_primitives::contribution::{
	signing_payload, split_statement, statement_payload, Attestation, Reason, Statement, Verdict,
	MAX_REASON_LEN,
};
use datacoop_storage::BlobHash;
use sp_core::{crypto::Pair as _, H256};
use zeroize::Zeroizing;

use super::{ApiError, App, BoundKeySet, SignedAttestation};
use crate::{
	fetch::{self, Fetched},
	Judgement, Ledger,
};

/// A Pending contribution as the chain records it: what judging needs of it.
#[derive(Clone, Debug)]
pub struct Submission {
	pub id: u64,
	pub dao_id: u32,
	/// The contributor's account, SS58.
	pub contributor: String,
	/// The storage URL the contributor submitted (bytes, as on chain).
	pub url: Vec<u8>,
	pub ciphertext_hash: [u8; 32],
	pub ciphertext_size: u64,
}

/// What the contribution's DAO registered on chain about its collective.
#[derive(Clone, Copy, Debug)]
pub struct Registered {
	pub attestation_signer: [u8; 32],
	pub measurement: [u8; 32],
}

/// The reason signed when the data does not start with a contributor statement.
pub const NO_STATEMENT: &str =
	"no contributor statement before the data (contribute with the datacoop wallet)";
/// The reason signed when the statement's signature does not verify.
pub const BAD_STATEMENT: &str = "the contributor statement's signature does not verify";
/// The reason signed when the statement is for another chain or DAO.
pub const ELSEWHERE_STATEMENT: &str = "the contributor statement is for another chain or DAO";
/// The reason signed when the statement names another account than the submitter: someone
/// submitted a copy of another contributor's ciphertext.
pub const NOT_SUBMITTERS: &str = "not the submitter's data";
/// The reason signed when storage holds the blob with another size than declared.
pub const SIZE_DIFFERS: &str = "the blob's size is not the declared size";
/// The reason signed when the blob does not open with the DAO's key.
pub const NOT_FOR_THIS_DAO: &str = "not encrypted to the DAO's key, or damaged";

impl App {
	/// Judges contribution `id`, read from the chain at its best block, and signs the
	/// attestation.
	pub async fn validate(&self, id: u64) -> Result<SignedAttestation, ApiError> {
		let chain = self.chain().await?;
		let at = match chain.at_best().await {
			Ok(at) => at,
			Err(e) => {
				self.forget_chain().await;
				return Err(e.into());
			},
		};
		let contribution = at.contribution(id).await?.ok_or_else(|| {
			ApiError::new(StatusCode::NOT_FOUND, "unknown", format!("no contribution #{id}"))
		})?;
		if contribution.status != Status::Pending {
			return Err(ApiError::new(
				StatusCode::CONFLICT,
				"judged",
				format!("contribution #{id} was already judged"),
			));
		}
		let dao_id = contribution.dao_id;
		let dao = at.dao(dao_id).await?.ok_or_else(|| {
			ApiError::new(StatusCode::NOT_FOUND, "unknown", format!("no DAO #{dao_id}"))
		})?;
		let submission = Submission {
			id,
			dao_id,
			contributor: contribution.contributor.to_string(),
			url: contribution.url,
			ciphertext_hash: contribution.ciphertext_hash.0,
			ciphertext_size: contribution.ciphertext_size,
		};
		let registered = Registered {
			attestation_signer: dao.collective.attestation_signer,
			measurement: dao.collective.measurement.0,
		};
		let number = at.number();
		self.attest(&at, number, chain.genesis_hash(), &submission, &registered).await
	}

	/// The key set bound to DAO `dao_id`. Another DAO that registered a key set this server
	/// holds is refused (403): a copy of a DAO's keys gets nothing judged, so nobody can
	/// have a victim's data judged there first.
	fn key_set_for(
		&self,
		dao_id: u32,
		registered: &Registered,
	) -> Result<Arc<BoundKeySet>, ApiError> {
		if let Some(key_set) = self.key_sets.iter().find(|k| k.dao_id() == dao_id) {
			if key_set.signer != registered.attestation_signer {
				return Err(ApiError::new(
					StatusCode::CONFLICT,
					"keys",
					format!(
						"DAO #{dao_id} registers another attestation key than the one this server holds for it ({:?})",
						key_set.name
					),
				));
			}
			return Ok(key_set.clone());
		}
		if self.key_sets.iter().any(|k| k.signer == registered.attestation_signer) {
			return Err(ApiError::new(
				StatusCode::FORBIDDEN,
				"not_bound",
				format!(
					"DAO #{dao_id} registered keys this server holds for another DAO: it serves them for that DAO only"
				),
			));
		}
		Err(ApiError::new(
			StatusCode::NOT_FOUND,
			"not_served",
			format!("this server does not serve DAO #{dao_id}"),
		))
	}

	/// Judges `submission` (Pending at block `now`, whose DAO registered `registered`) with
	/// the chain as `ledger` says, and signs the attestation for the chain `genesis`. What
	/// `validate` does once it has read the chain.
	pub async fn attest<L: Ledger>(
		&self,
		ledger: &L,
		now: u32,
		genesis: [u8; 32],
		submission: &Submission,
		registered: &Registered,
	) -> Result<SignedAttestation, ApiError> {
		let (id, dao_id) = (submission.id, submission.dao_id);
		let key_set = self.key_set_for(dao_id, registered)?;
		if registered.measurement != key_set.measurement {
			return Err(ApiError::new(
				StatusCode::CONFLICT,
				"measurement",
				format!(
					"DAO #{dao_id} registered measurement 0x{}, but this server reports 0x{} for {:?} (another binary or other rules)",
					hex::encode(registered.measurement),
					hex::encode(key_set.measurement),
					key_set.name
				),
			));
		}
		if submission.ciphertext_size > self.limits.max_ciphertext {
			return Err(ApiError::new(
				StatusCode::PAYLOAD_TOO_LARGE,
				"too_large",
				format!(
					"contribution #{id} has {} bytes, more than the {} this server takes (--max-size)",
					submission.ciphertext_size, self.limits.max_ciphertext
				),
			));
		}
		let kept = || {
			let answers = key_set.answers.lock().expect("not poisoned");
			answers.get(dao_id, id, &submission.ciphertext_hash, now)
		};
		let repeated = |answer| {
			self.metrics.outcome("repeated");
			tracing::debug!(contribution = id, dao = dao_id, "answered again");
			Ok(answer)
		};
		if let Some(answer) = kept() {
			return repeated(answer);
		}
		// Another request may be judging it now: wait for it (not holding a worker), then
		// give its answer. If it failed (storage down, say), judge it here.
		let _judging = key_set.judging.lock(id).await;
		if let Some(answer) = kept() {
			return repeated(answer);
		}
		let _permit = tokio::time::timeout(self.limits.queue_wait, self.workers.acquire())
			.await
			.map_err(|_| {
				ApiError::new(
					StatusCode::SERVICE_UNAVAILABLE,
					"busy",
					"every worker is busy; try again",
				)
			})?
			.map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "shutting down"))?;
		self.metrics.in_flight.inc();
		let started = Instant::now();
		let judged = self.fetch_and_judge(ledger, genesis, submission, &key_set).await;
		self.metrics.in_flight.dec();
		let judgement = judged?;
		self.metrics.seconds.observe(started.elapsed().as_secs_f64());

		let attestation = Attestation {
			dao_id,
			contribution_id: id,
			contributor: account_bytes(&submission.contributor)?,
			ciphertext_hash: H256(submission.ciphertext_hash),
			fingerprint: H256(judgement.fingerprint),
			scores: judgement.scores,
			verdict: match &judgement.invalid {
				None => Verdict::Valid,
				Some(reason) => Verdict::Invalid { reason: short_reason(reason) },
			},
			measurement: H256(key_set.measurement),
			valid_until: now.saturating_add(self.limits.validity_blocks),
		};
		let signature = key_set.pair.sign(&signing_payload(&attestation, &H256(genesis)));
		key_set.answers.lock().expect("not poisoned").keep(now, (attestation.clone(), signature));
		self.metrics.outcome(if judgement.invalid.is_none() { "valid" } else { "invalid" });
		tracing::info!(
			contribution = id,
			dao = dao_id,
			verdict = judgement.invalid.as_deref().unwrap_or("valid"),
			overall = judgement.scores.overall.deconstruct(),
			ms = started.elapsed().as_millis() as u64,
			"attested"
		);
		Ok((attestation, signature))
	}

	/// Fetches the blob (as the policy allows, within its deadlines), decrypts it, checks the
	/// contributor's statement and judges the data with the key set's judge. A blob the
	/// contributor got wrong is judged Invalid here, with a fixed reason.
	async fn fetch_and_judge<L: Ledger>(
		&self,
		ledger: &L,
		genesis: [u8; 32],
		submission: &Submission,
		key_set: &Arc<BoundKeySet>,
	) -> Result<Judgement, ApiError> {
		let id = submission.id;
		let hash = BlobHash(submission.ciphertext_hash);
		let source = match self.policy.source(&submission.url, &hash) {
			Ok(source) => source,
			Err(refused) => {
				tracing::info!(
					contribution = id,
					"storage URL refused, no request made: {refused}"
				);
				return Ok(Judgement::invalid(refused.to_string()));
			},
		};
		let fetched = fetch::fetch(
			&source.client,
			&source.hash,
			submission.ciphertext_size,
			self.policy.deadlines(),
		)
		.await;
		let ciphertext = match fetched {
			Ok(Fetched::Blob(blob)) => blob,
			Ok(Fetched::SizeDiffers { stored }) => {
				tracing::info!(
					contribution = id,
					stored,
					declared = submission.ciphertext_size,
					"the blob's size is not the declared size"
				);
				return Ok(Judgement::invalid(SIZE_DIFFERS.into()));
			},
			Err(e) => {
				tracing::warn!(
					contribution = id,
					storage = source.client.base(),
					"fetching the blob: {e}: {}",
					e.detail().unwrap_or("-")
				);
				return Err(e.into());
			},
		};
		let expected = Statement {
			genesis_hash: H256(genesis),
			dao_id: submission.dao_id,
			contributor: account_bytes(&submission.contributor)?,
		};
		let decrypting = key_set.clone();
		let (plain_len, opened) = tokio::task::spawn_blocking(move || {
			open(&decrypting.identity, &ciphertext, &expected, id)
		})
		.await
		.map_err(|e| ApiError::internal("panic", e))?;
		self.metrics.plaintext_bytes.inc_by(plain_len);
		match opened {
			Ok(data) => Ok(key_set.judge.judge(id, &submission.contributor, data, ledger).await?),
			Err(reason) => Ok(Judgement::invalid(reason.into())),
		}
	}
}

/// A contribution's data: its plaintext after the contributor's statement, zeroed when
/// dropped.
struct Data {
	plain: Zeroizing<Vec<u8>>,
	start: usize,
}

impl AsRef<[u8]> for Data {
	fn as_ref(&self) -> &[u8] {
		&self.plain[self.start..]
	}
}

/// Decrypts contribution `id`'s `ciphertext` with `identity` and checks the statement before
/// its data against `expected`: the data, or the fixed reason signed instead; and the
/// plaintext's size, for the metrics.
fn open(
	identity: &Identity,
	ciphertext: &[u8],
	expected: &Statement,
	id: u64,
) -> (u64, Result<Data, &'static str>) {
	let mut plain = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
	let opened =
		decrypt(std::slice::from_ref(identity), ciphertext, &mut *plain, &Parallelism::OneCore);
	match opened {
		Ok(n) => match submitters_data(&plain, expected) {
			Ok(data) => {
				// The data is what follows the statement: the end of the plaintext.
				let start = plain.len() - data.len();
				(n, Ok(Data { plain, start }))
			},
			Err(reason) => {
				tracing::info!(contribution = id, "{reason}");
				(n, Err(reason))
			},
		},
		Err(e) => {
			tracing::info!(contribution = id, "cannot be decrypted: {e}");
			(0, Err(NOT_FOR_THIS_DAO))
		},
	}
}

/// The data after the contributor's statement, if the statement is well formed, signed by
/// the account it names, and names `expected` (this chain, this DAO, the account that
/// submitted the contribution on chain); else the fixed reason why not.
pub fn submitters_data<'a>(
	plain: &'a [u8],
	expected: &Statement,
) -> Result<&'a [u8], &'static str> {
	let (statement, signature, data) = split_statement(plain).map_err(|_| NO_STATEMENT)?;
	// Signed raw (the wallet) or wrapped in `<Bytes>` … `</Bytes>` (a browser extension's
	// `signRaw`, for contributions from the web page).
	datacoop_auth::verify(&statement.contributor, &statement_payload(&statement), &signature)
		.map_err(|_| BAD_STATEMENT)?;
	if statement.genesis_hash != expected.genesis_hash || statement.dao_id != expected.dao_id {
		return Err(ELSEWHERE_STATEMENT);
	}
	if statement.contributor != expected.contributor {
		return Err(NOT_SUBMITTERS);
	}
	Ok(data)
}

/// The 32 bytes of an SS58 account id the node gave.
fn account_bytes(ss58: &str) -> Result<[u8; 32], ApiError> {
	<sp_core::crypto::AccountId32 as sp_core::crypto::Ss58Codec>::from_ss58check(ss58)
		.map(Into::into)
		.map_err(|_| {
			ApiError::new(
				StatusCode::BAD_GATEWAY,
				"node",
				"the node named a contributor that is not an account",
			)
		})
}

/// A reason cut to what the chain keeps, at a character boundary.
fn short_reason(reason: &str) -> Reason {
	let mut end = reason.len().min(MAX_REASON_LEN as usize);
	while !reason.is_char_boundary(end) {
		end -= 1;
	}
	Reason::truncate_from(reason.as_bytes()[..end].to_vec())
}
