//! `datacoop-collective run`: the HTTP service that judges contributions.
//!
//! - `POST /v1/validate` `{"contribution": ID}`: reads the contribution and its DAO at the
//!   chain's best block, finds the key set this server binds to that DAO id (one key set
//!   serves exactly one DAO: another DAO that registered the same keys is refused), fetches
//!   the ciphertext by the submitted hash from storage the operator allows (see `fetch`; the
//!   storage client checks the bytes against the hash), decrypts it in memory, judges it,
//!   and answers the signed attestation: JSON for people and scripts, or the SCALE encoding
//!   of `(Attestation, Signature)` when asked with `Accept: application/scale` (what the
//!   off-chain worker does: no JSON parser in the runtime).
//! - `POST /v1/daos/{id}/export` and `GET /v1/daos/{id}/access-log`: the DAO's data for the
//!   holder of a live `Full` grant, re-encrypted to the grantee's key, and the log of every
//!   such release for the DAO's token holders; each request signed by the grantee's (holder's)
//!   chain account (see `access` for the checks, `export` for the stream).
//! - `GET /v1/health`: the DAOs served, the node, the index sizes. `GET /v1/metrics`:
//!   Prometheus text.
//!
//! What the contributor got wrong (a URL outside the storage policy or naming another blob, a
//! size that differs, a file not encrypted to the DAO's key, data that breaks the rules) is
//! judged **Invalid**, signed, with a fixed reason (docs/collective.md lists them). What is
//! not their fault for certain (storage or node unreachable or slow, blob not there yet, the
//! server busy or misconfigured) is an HTTP error and no attestation: the contribution stays
//! Pending and the off-chain worker asks again later. Neither ever carries what an upstream
//! service said: that goes to the log.
//!
//! Plaintext exists only in memory (zeroed when dropped) and is never logged; logs name
//! contributions by id. Requests are bounded in size (4 KiB bodies), in rate (a token bucket
//! per client address) and in concurrency (`workers` validations at once; a request waits
//! `queue_wait` for a slot, then gets 503 with Retry-After).
//!
//! Here: the service's state ([`App`]) and the key sets it serves ([`BoundKeySet`]).
//! - `handlers`: the routes, rate limiting, the answers' shapes, serving until shutdown;
//! - `validate`: from a contribution id to a signed attestation (the chain read, the checks,
//!   fetch, decrypt, the contributor's statement, [`Judge::judge`], signing);
//! - `access`: who may have a DAO's data (signed requests, grants, nonces, the access log);
//! - `export`: a Full grantee's export, streamed in constant memory;
//! - `cache`: each contribution judged once (one judgement at a time, kept answers);
//! - `metrics`: the Prometheus metrics;
//! - `error`: the HTTP errors answered instead of an attestation.

mod access;
mod cache;
mod error;
mod export;
mod handlers;
mod metrics;
mod query;
mod validate;

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use datacoop_envelope::Identity;
use datacoop_primitives::contribution::Attestation;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sp_core::{crypto::Pair as _, sr25519};
use tokio::sync::{RwLock, Semaphore};
use zeroize::Zeroizing;

pub use access::{MAX_LOG_PAGE, NODE_DEADLINE};
pub use error::ApiError;
pub use export::RECHECK;
pub use handlers::{router, serve, AttestationJson, ScoresJson, SCALE};
pub use validate::{
	submitters_data, Registered, Submission, BAD_STATEMENT, ELSEWHERE_STATEMENT, NOT_FOR_THIS_DAO,
	NOT_SUBMITTERS, NO_STATEMENT, SIZE_DIFFERS,
};

use datacoop_client::Chain;

use crate::{
	access_db::AccessDb,
	dao_dir::{DaoDir, SetupError},
	fetch::HostPolicy,
	measurement,
	sealed::Sealer,
	Judge, Rules,
};
use cache::{AttestationCache, ContributionLocks};
use metrics::Metrics;

/// An attestation and the attestation key's signature over it (over
/// `signing_payload(attestation, genesis)`): what the server answers and the chain takes.
pub type SignedAttestation = (Attestation<u32>, sr25519::Signature);

/// A key set this server serves, and the on-chain DAO it is bound to.
pub struct BoundKeySet {
	/// The key set's name on this server (its directory).
	pub name: String,
	/// Judges the bound DAO's contributions: its rules, fingerprint keys and index.
	judge: Judge,
	/// Decrypts contributions.
	identity: Identity,
	/// Nonces, catalog and access log: what was released of the DAO's data.
	access: AccessDb,
	/// The rules: which fields an anonymized copy releases, and how.
	rules: Rules,
	/// Keys each grant's pseudonyms (see `anonymize::PseudonymKey`).
	pseudonym_root: Zeroizing<[u8; 32]>,
	/// The DAO's records refined for aggregate queries (in memory), if its rules answer them.
	refined: std::sync::Mutex<Option<query::Refined>>,
	/// Signs attestations.
	pair: sr25519::Pair,
	/// The attestation key, as the DAO registers it.
	pub signer: [u8; 32],
	/// What the DAO registers for this binary and these rules.
	pub measurement: [u8; 32],
	/// Attestations signed and still valid: every validator's off-chain worker asks for the
	/// same contribution, and each gets the one answer, judged once.
	answers: std::sync::Mutex<AttestationCache>,
	/// Contributions being judged now: the workers ask at about the same block, so a request
	/// for a contribution already being judged waits for that judgement's answer instead of
	/// fetching, decrypting and judging it again.
	judging: ContributionLocks,
}

impl BoundKeySet {
	/// Opens the key set in `dir`, which must be bound to a DAO: unseals its secrets, reads
	/// and checks its rules, opens its index (which must be that DAO's). `binary`: this
	/// program's hash, for the measurement.
	pub fn open(
		dir: &DaoDir,
		sealer: &Sealer,
		binary: &[u8; 32],
	) -> Result<BoundKeySet, SetupError> {
		let dao_id =
			dir.bound_dao()?.ok_or_else(|| SetupError::NotBound { name: dir.name().into() })?;
		let secrets = dir.secrets(sealer)?;
		let rules = dir.rules()?;
		let measurement = measurement::of(binary, &rules);
		let judge = Judge::new(dao_id, rules.clone(), secrets.fingerprint_keys(), dir.index()?)
			.map_err(|source| SetupError::Index { name: dir.name().into(), source })?;
		let pair = secrets.attestation_pair();
		let access = dir.access_db(dao_id)?;
		let refined = match &rules.aggregate {
			None => None,
			Some(aggregate) => {
				Some(query::Refined::new(crate::engine::Engine::new(aggregate).map_err(|e| {
					SetupError::File { path: dir.name().into(), why: e.to_string() }
				})?))
			},
		};
		Ok(BoundKeySet {
			access,
			rules,
			pseudonym_root: Zeroizing::new(secrets.pseudonym_root()),
			refined: std::sync::Mutex::new(refined),
			name: dir.name().into(),
			judge,
			identity: secrets.identity(),
			signer: pair.public().0,
			pair,
			measurement,
			answers: Default::default(),
			judging: Default::default(),
		})
	}

	/// The on-chain DAO this key set serves, and no other.
	pub fn dao_id(&self) -> u32 {
		self.judge.dao_id()
	}
}

/// How the service runs.
#[derive(Clone, Debug)]
pub struct Limits {
	/// Largest ciphertext fetched and decrypted, in bytes.
	pub max_ciphertext: u64,
	/// Validations at once.
	pub workers: usize,
	/// How long a request waits for a free worker before 503.
	pub queue_wait: Duration,
	/// Validate requests per second per client address, and the burst allowed.
	pub rate_per_second: NonZeroU32,
	pub burst: NonZeroU32,
	/// Blocks an attestation stays valid after the block it was judged at.
	pub validity_blocks: u32,
	/// Exports at once.
	pub exports: usize,
}

/// The shared state of the service.
pub struct App {
	key_sets: Vec<Arc<BoundKeySet>>,
	node_url: String,
	chain: RwLock<Option<Chain>>,
	/// Where blobs may be fetched from, and the deadlines of a fetch.
	policy: HostPolicy,
	limits: Limits,
	workers: Semaphore,
	exports: Arc<Semaphore>,
	/// Accounts with an export running: one at a time each, so one grantee cannot hold
	/// every export slot.
	exporting: std::sync::Mutex<std::collections::HashSet<[u8; 32]>>,
	/// Accounts with a query running: one each at a time.
	querying: std::sync::Mutex<std::collections::HashSet<[u8; 32]>>,
	rate: DefaultKeyedRateLimiter<IpAddr>,
	metrics: Metrics,
}

impl App {
	/// The service for `key_sets` (each bound to another DAO), reading the chain at
	/// `node_url`, fetching blobs as `policy` allows.
	pub fn new(
		key_sets: Vec<BoundKeySet>,
		node_url: String,
		policy: HostPolicy,
		limits: Limits,
	) -> Result<App, SetupError> {
		for (i, first) in key_sets.iter().enumerate() {
			if let Some(second) = key_sets[i + 1..].iter().find(|k| k.dao_id() == first.dao_id()) {
				return Err(SetupError::SameDao {
					first: first.name.clone(),
					second: second.name.clone(),
					dao_id: first.dao_id(),
				});
			}
		}
		Ok(App {
			key_sets: key_sets.into_iter().map(Arc::new).collect(),
			node_url,
			chain: RwLock::new(None),
			policy,
			workers: Semaphore::new(limits.workers.max(1)),
			exports: Arc::new(Semaphore::new(limits.exports.max(1))),
			exporting: Default::default(),
			querying: Default::default(),
			rate: RateLimiter::keyed(
				Quota::per_second(limits.rate_per_second).allow_burst(limits.burst),
			),
			limits,
			metrics: Metrics::new(),
		})
	}

	/// The key sets served.
	pub fn key_sets(&self) -> &[Arc<BoundKeySet>] {
		&self.key_sets
	}

	/// The node connection, made (again) when needed: a node restart costs the requests made
	/// while it is down, not the service.
	async fn chain(&self) -> Result<Chain, ApiError> {
		if let Some(chain) = self.chain.read().await.as_ref() {
			return Ok(chain.clone());
		}
		let mut slot = self.chain.write().await;
		if let Some(chain) = slot.as_ref() {
			return Ok(chain.clone());
		}
		let chain = Chain::connect(&self.node_url).await?;
		*slot = Some(chain.clone());
		Ok(chain)
	}

	async fn forget_chain(&self) {
		*self.chain.write().await = None;
	}
}
