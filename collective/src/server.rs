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

use std::{
	net::{IpAddr, SocketAddr},
	num::NonZeroU32,
	path::{Path, PathBuf},
	sync::Arc,
	time::{Duration, Instant},
};

use axum::{
	extract::{ConnectInfo, DefaultBodyLimit, Request, State},
	http::{header, HeaderMap, StatusCode},
	middleware::{self, Next},
	response::{IntoResponse, Response},
	routing::{get, post},
	Json, Router,
};
use codec::Encode;
use datacoop_envelope::{decrypt, Identity, Parallelism};
use datacoop_primitives::contribution::{
	signing_payload, split_statement, statement_payload, Attestation, Reason,
	Scores as ChainScores, Statement, Verdict, MAX_REASON_LEN,
};
use datacoop_storage::BlobHash;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use prometheus_client::{
	metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
	registry::Registry,
};
use serde::{Deserialize, Serialize};
use sp_core::{crypto::Pair as _, sr25519, H256};
use sp_runtime::Permill;
use tokio::sync::{Mutex, RwLock, Semaphore};
use zeroize::Zeroizing;

use crate::{
	assess,
	chain::{At, Chain, ChainError, ContributionStatus},
	fetch::{self, FetchError, Fetched, HostPolicy},
	sealed::{self, Sealer, Secrets},
	Assessment, Index, Judgement, Keys, Match, Rules, Scores,
};

/// The files of one DAO under the server's directory: `daos/<name>/`.
pub const SECRETS_FILE: &str = "secrets.json";
pub const RULES_FILE: &str = "rules.json";
pub const INDEX_FILE: &str = "index.redb";
/// The on-chain DAO the key set serves (`{"dao_id": N}`), written by `bind`.
pub const BINDING_FILE: &str = "dao.json";

/// What a DAO's directory says about the DAO it serves.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
struct Binding {
	dao_id: u32,
}

/// Why a key set cannot be set up, bound or served.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
	#[error("{path}: {why}")]
	File { path: String, why: String },
	#[error("{0}")]
	Seal(#[from] sealed::SealError),
	#[error("{path}: {why}")]
	Rules { path: String, why: String },
	#[error("{name:?} already holds DAO {name:?}'s keys; choose another name")]
	Exists { name: String },
	#[error(
		"{name:?} is not bound to a DAO on chain: datacoop-collective bind --name {name} --dao ID"
	)]
	NotBound { name: String },
	#[error("{name:?} is bound to DAO #{bound}; a key set serves one DAO for good (init another for DAO #{wanted})")]
	BoundElsewhere { name: String, bound: u32, wanted: u32 },
	#[error(
		"{first:?} and {second:?} are both bound to DAO #{dao_id}: a DAO is served by one key set"
	)]
	SameDao { first: String, second: String, dao_id: u32 },
	#[error("the index of {name:?}: {source}")]
	Index { name: String, source: crate::IndexError },
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> SetupError {
	SetupError::File { path: path.display().to_string(), why: e.to_string() }
}

/// Creates DAO `name`'s keys, sealed by `sealer`, and its rules (checked) under `dir`.
/// Answers the public keys to register on chain. An existing key set is never replaced.
pub fn init_dao(
	dir: &Path,
	name: &str,
	rules: &Rules,
	sealer: &Sealer,
) -> Result<sealed::Public, SetupError> {
	let at = dao_dir(dir, name);
	if at.join(SECRETS_FILE).exists() {
		return Err(SetupError::Exists { name: name.into() });
	}
	rules.check().map_err(|why| SetupError::Rules { path: RULES_FILE.into(), why })?;
	std::fs::create_dir_all(&at).map_err(|e| file_error(&at, e))?;
	let text = serde_json::to_vec_pretty(rules).expect("rules serialize");
	std::fs::write(at.join(RULES_FILE), text).map_err(|e| file_error(&at.join(RULES_FILE), e))?;
	Ok(Secrets::generate()?.seal(&at.join(SECRETS_FILE), sealer)?)
}

/// The on-chain DAO key set `name` is bound to, if it is.
pub fn bound_dao(dir: &Path, name: &str) -> Result<Option<u32>, SetupError> {
	let path = dao_dir(dir, name).join(BINDING_FILE);
	let text = match std::fs::read(&path) {
		Ok(text) => text,
		Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
		Err(e) => return Err(file_error(&path, e)),
	};
	let binding: Binding = serde_json::from_slice(&text).map_err(|e| file_error(&path, e))?;
	Ok(Some(binding.dao_id))
}

/// Binds key set `name` to on-chain DAO `dao_id`, for good: binding it again to the same
/// DAO changes nothing, to another is refused. (The caller checks on chain that the DAO
/// registered these keys.)
pub fn bind_dao(dir: &Path, name: &str, dao_id: u32) -> Result<(), SetupError> {
	let at = dao_dir(dir, name);
	if !at.join(SECRETS_FILE).exists() {
		return Err(file_error(
			&at.join(SECRETS_FILE),
			"no such key set (datacoop-collective init)",
		));
	}
	match bound_dao(dir, name)? {
		Some(bound) if bound == dao_id => return Ok(()),
		Some(bound) => {
			return Err(SetupError::BoundElsewhere { name: name.into(), bound, wanted: dao_id })
		},
		None => {},
	}
	// Written aside, then renamed: a crash leaves the key set unbound, never half bound.
	let path = at.join(BINDING_FILE);
	let aside = at.join(format!("{BINDING_FILE}.new"));
	let text = serde_json::to_vec(&Binding { dao_id }).expect("a binding serializes");
	std::fs::write(&aside, text).map_err(|e| file_error(&aside, e))?;
	std::fs::rename(&aside, &path).map_err(|e| file_error(&path, e))
}

/// Where DAO `name`'s files are.
pub fn dao_dir(dir: &Path, name: &str) -> PathBuf {
	dir.join("daos").join(name)
}

/// The names of the DAOs set up under `dir`, sorted.
pub fn dao_names(dir: &Path) -> std::io::Result<Vec<String>> {
	let mut names = Vec::new();
	let daos = dir.join("daos");
	if !daos.exists() {
		return Ok(names);
	}
	for entry in std::fs::read_dir(daos)? {
		let entry = entry?;
		if entry.path().join(SECRETS_FILE).exists() {
			names.push(entry.file_name().to_string_lossy().into_owned());
		}
	}
	names.sort();
	Ok(names)
}

/// BLAKE2-256 of this program's binary, read from disk.
pub fn binary_hash() -> std::io::Result<[u8; 32]> {
	use blake2::{digest::consts::U32, Blake2b, Digest};
	let mut file = std::fs::File::open(std::env::current_exe()?)?;
	let mut hasher = Blake2b::<U32>::new();
	std::io::copy(&mut file, &mut hasher)?;
	Ok(hasher.finalize().into())
}

/// The measurement a DAO registers: BLAKE2-256 over a context, the binary's hash and the
/// DAO's rules in canonical JSON (serde_json sorts object keys). Another binary or other
/// rules give another measurement, and the chain refuses their attestations.
pub fn measurement(binary: &[u8; 32], rules: &Rules) -> [u8; 32] {
	use blake2::{digest::consts::U32, Blake2b, Digest};
	let mut hasher = Blake2b::<U32>::new();
	hasher.update(b"datacoop/measurement/v1");
	hasher.update(binary);
	hasher.update(serde_json::to_vec(rules).expect("rules serialize"));
	hasher.finalize().into()
}

/// One DAO this server judges for: a key set and the on-chain DAO it is bound to.
pub struct Served {
	pub name: String,
	/// The on-chain DAO this key set serves, and no other.
	pub dao_id: u32,
	identity: Identity,
	pair: sr25519::Pair,
	pub signer: [u8; 32],
	keys: Keys,
	pub rules: Rules,
	pub measurement: [u8; 32],
	index: Index,
	/// Judging and indexing one contribution at a time per DAO, so two near copies judged
	/// at once cannot both pass for unique.
	lock: Mutex<()>,
	/// Attestations signed and still valid: every validator's off-chain worker asks for the
	/// same contribution, and each gets the one answer, judged once.
	answers: std::sync::Mutex<Answers>,
	/// Contributions being judged now: the workers ask at about the same block, so a request
	/// for a contribution already being judged waits for that judgement's answer instead of
	/// fetching, decrypting and judging it again.
	turns: Turns,
}

/// One turn per contribution: who holds it is the only request judging that contribution.
#[derive(Default)]
struct Turns {
	by_contribution: std::sync::Mutex<std::collections::HashMap<u64, Arc<Mutex<()>>>>,
}

impl Turns {
	/// Waits until no other request holds contribution `id`'s turn, and takes it.
	async fn take(&self, id: u64) -> tokio::sync::OwnedMutexGuard<()> {
		let turn = {
			let mut by_contribution = self.by_contribution.lock().expect("not poisoned");
			// Turns nobody holds or waits for are dropped here. Clones are made only under
			// this lock, so a count of one cannot grow meanwhile.
			by_contribution.retain(|_, turn| Arc::strong_count(turn) > 1);
			by_contribution.entry(id).or_default().clone()
		};
		turn.lock_owned().await
	}

	/// Contributions with a turn held or awaited (or just given back).
	#[cfg(test)]
	fn len(&self) -> usize {
		self.by_contribution.lock().expect("not poisoned").len()
	}
}

/// Signed attestations by contribution, until they expire; at most `ANSWERS_KEPT`.
#[derive(Default)]
pub struct Answers {
	by_contribution: std::collections::HashMap<u64, (Attestation<u32>, sr25519::Signature)>,
}

/// Answers kept per DAO (about 400 bytes each).
const ANSWERS_KEPT: usize = 4096;
/// A kept answer is given out while at least this many blocks of its validity are left, so it
/// can still reach a block.
const ANSWER_MARGIN: u32 = 3;

impl Answers {
	/// The answer for contribution `id` of DAO `dao_id` with this ciphertext, if one is
	/// kept that is still good at block `now`.
	pub fn get(
		&self,
		dao_id: u32,
		id: u64,
		ciphertext_hash: &[u8; 32],
		now: u32,
	) -> Option<(Attestation<u32>, sr25519::Signature)> {
		let (attestation, signature) = self.by_contribution.get(&id)?;
		let fresh = attestation.valid_until >= now.saturating_add(ANSWER_MARGIN);
		let same =
			attestation.dao_id == dao_id && attestation.ciphertext_hash.0 == *ciphertext_hash;
		(fresh && same).then(|| (attestation.clone(), *signature))
	}

	/// Keeps an answer; drops the expired ones (at block `now`), and the one expiring first
	/// if the cache is full.
	pub fn keep(&mut self, now: u32, attestation: Attestation<u32>, signature: sr25519::Signature) {
		self.by_contribution.retain(|_, (a, _)| a.valid_until >= now);
		if self.by_contribution.len() >= ANSWERS_KEPT {
			let first = self.by_contribution.iter().min_by_key(|(_, (a, _))| a.valid_until);
			if let Some(&id) = first.map(|(id, _)| id) {
				self.by_contribution.remove(&id);
			}
		}
		self.by_contribution.insert(attestation.contribution_id, (attestation, signature));
	}

	pub fn len(&self) -> usize {
		self.by_contribution.len()
	}

	pub fn is_empty(&self) -> bool {
		self.by_contribution.is_empty()
	}
}

impl Served {
	/// Opens key set `name` under `dir`, which must be bound to a DAO: unseals its secrets,
	/// reads and checks its rules, opens its index (which must be that DAO's).
	pub fn open(
		dir: &Path,
		name: &str,
		sealer: &Sealer,
		binary: &[u8; 32],
	) -> Result<Served, SetupError> {
		let at = dao_dir(dir, name);
		let dao_id =
			bound_dao(dir, name)?.ok_or_else(|| SetupError::NotBound { name: name.into() })?;
		let secrets = Secrets::open(&at.join(SECRETS_FILE), sealer)?;
		let rules_path = at.join(RULES_FILE);
		let rules_error =
			|why: String| SetupError::Rules { path: rules_path.display().to_string(), why };
		let text = std::fs::read(&rules_path).map_err(|e| rules_error(e.to_string()))?;
		let rules: Rules = serde_json::from_slice(&text).map_err(|e| rules_error(e.to_string()))?;
		rules.check().map_err(rules_error)?;
		let index_error = |source| SetupError::Index { name: name.into(), source };
		let index = Index::open(&at.join(INDEX_FILE)).map_err(index_error)?;
		index.bind(dao_id).map_err(index_error)?;
		let pair = secrets.attestation_pair();
		Ok(Served {
			name: name.into(),
			dao_id,
			identity: secrets.identity(),
			signer: pair.public().0,
			pair,
			keys: secrets.fingerprint_keys(),
			measurement: measurement(binary, &rules),
			rules,
			index,
			lock: Mutex::new(()),
			answers: Default::default(),
			turns: Default::default(),
		})
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
}

/// The shared state of the service.
pub struct App {
	daos: Vec<Arc<Served>>,
	node_url: String,
	chain: RwLock<Option<Chain>>,
	/// Where blobs may be fetched from, and the deadlines of a fetch.
	policy: HostPolicy,
	limits: Limits,
	workers: Semaphore,
	rate: DefaultKeyedRateLimiter<IpAddr>,
	metrics: Metrics,
}

struct Metrics {
	registry: Registry,
	outcomes: Family<Vec<(String, String)>, Counter>,
	plaintext_bytes: Counter,
	seconds: Histogram,
	in_flight: Gauge,
}

impl Metrics {
	fn new() -> Metrics {
		let mut registry = Registry::with_prefix("datacoop_collective");
		let outcomes = Family::<Vec<(String, String)>, Counter>::default();
		let plaintext_bytes = Counter::default();
		let seconds =
			Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0].into_iter());
		let in_flight = Gauge::default();
		registry.register(
			"validations",
			"Validate requests by outcome (valid, invalid, or the error)",
			outcomes.clone(),
		);
		registry.register("plaintext_bytes", "Bytes of plaintext judged", plaintext_bytes.clone());
		registry.register(
			"validation_seconds",
			"Time to fetch, decrypt, judge and sign one contribution",
			seconds.clone(),
		);
		registry.register("in_flight", "Validations running now", in_flight.clone());
		Metrics { registry, outcomes, plaintext_bytes, seconds, in_flight }
	}

	fn outcome(&self, outcome: &str) {
		self.outcomes.get_or_create(&vec![("outcome".into(), outcome.into())]).inc();
	}
}

/// An error answered instead of an attestation: a status and a fixed message (what an
/// upstream service said is in `detail`, logged, never answered).
#[derive(Debug)]
pub struct ApiError {
	pub status: StatusCode,
	pub message: String,
	/// A short label for the metrics.
	pub kind: &'static str,
	/// For the log only.
	detail: Option<String>,
}

impl ApiError {
	fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
		ApiError { status, kind, message: message.into(), detail: None }
	}

	fn with_detail(mut self, detail: impl std::fmt::Display) -> ApiError {
		self.detail = Some(detail.to_string());
		self
	}

	fn internal(kind: &'static str, detail: impl std::fmt::Display) -> ApiError {
		ApiError::new(
			StatusCode::INTERNAL_SERVER_ERROR,
			kind,
			"internal error; see the server's log",
		)
		.with_detail(detail)
	}
}

impl From<ChainError> for ApiError {
	fn from(e: ChainError) -> ApiError {
		ApiError::new(StatusCode::BAD_GATEWAY, "node", "the node could not be read; try again")
			.with_detail(e)
	}
}

impl From<FetchError> for ApiError {
	fn from(e: FetchError) -> ApiError {
		let (status, kind, message) = match &e {
			FetchError::NotFound => (
				StatusCode::FAILED_DEPENDENCY,
				"no_blob",
				"the contribution's blob is not in storage (yet)",
			),
			FetchError::TimedOut => (
				StatusCode::GATEWAY_TIMEOUT,
				"storage_timeout",
				"storage did not send the blob in time; try again",
			),
			FetchError::Storage(_) => {
				(StatusCode::BAD_GATEWAY, "storage", "storage could not send the blob; try again")
			},
		};
		let error = ApiError::new(status, kind, message);
		match e.detail() {
			Some(detail) => error.with_detail(detail),
			None => error,
		}
	}
}

impl IntoResponse for ApiError {
	fn into_response(self) -> Response {
		let mut response =
			(self.status, Json(serde_json::json!({ "error": self.message }))).into_response();
		if matches!(self.status, StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS) {
			response
				.headers_mut()
				.insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
		}
		response
	}
}

/// A signed attestation, as JSON.
#[derive(Serialize, Deserialize, Debug)]
pub struct Signed {
	pub contribution: u64,
	pub dao: u32,
	pub verdict: String,
	pub reason: Option<String>,
	pub scores: Scores,
	pub fingerprint: String,
	pub measurement: String,
	pub valid_until: u32,
	/// SCALE encoding of the attestation, 0x-hex.
	pub attestation: String,
	/// sr25519 signature over `signing_payload(attestation, genesis)`, 0x-hex.
	pub signature: String,
}

#[derive(Deserialize)]
struct ValidateRequest {
	contribution: u64,
}

/// The media type of SCALE-encoded answers.
pub const SCALE: &str = "application/scale";

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

/// What judging reads from the chain, at the block it judges at: [`At`], or a stand-in in
/// tests.
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
		self.by_fingerprint(dao_id, fingerprint).await
	}

	async fn counts(&self, dao_id: u32, id: u64) -> Result<bool, ChainError> {
		Ok(self.contribution(id).await?.is_some_and(|c| {
			c.dao_id == dao_id
				&& matches!(
					c.status,
					ContributionStatus::Pending | ContributionStatus::Accepted { .. }
				)
		}))
	}
}

impl App {
	/// The service for `daos` (each bound to another DAO), reading the chain at `node_url`,
	/// fetching blobs as `policy` allows.
	pub fn new(
		daos: Vec<Served>,
		node_url: String,
		policy: HostPolicy,
		limits: Limits,
	) -> Result<App, SetupError> {
		for (i, first) in daos.iter().enumerate() {
			if let Some(second) = daos[i + 1..].iter().find(|d| d.dao_id == first.dao_id) {
				return Err(SetupError::SameDao {
					first: first.name.clone(),
					second: second.name.clone(),
					dao_id: first.dao_id,
				});
			}
		}
		Ok(App {
			daos: daos.into_iter().map(Arc::new).collect(),
			node_url,
			chain: RwLock::new(None),
			policy,
			workers: Semaphore::new(limits.workers.max(1)),
			rate: RateLimiter::keyed(
				Quota::per_second(limits.rate_per_second).allow_burst(limits.burst),
			),
			limits,
			metrics: Metrics::new(),
		})
	}

	pub fn daos(&self) -> &[Arc<Served>] {
		&self.daos
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

	/// Judges contribution `id`, read from the chain at its best block, and signs the
	/// attestation.
	pub async fn validate(
		&self,
		id: u64,
	) -> Result<(Attestation<u32>, sr25519::Signature), ApiError> {
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
		if !matches!(contribution.status, ContributionStatus::Pending) {
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
			url: contribution.url.0,
			ciphertext_hash: contribution.ciphertext_hash.0,
			ciphertext_size: contribution.ciphertext_size,
		};
		let registered = Registered {
			attestation_signer: dao.collective.attestation_signer,
			measurement: dao.collective.measurement.0,
		};
		let number = at.number;
		self.attest(&at, number, chain.genesis_hash(), &submission, &registered).await
	}

	/// The key set bound to DAO `dao_id`. Another DAO that registered a key set this server
	/// holds is refused (403): a copy of a DAO's keys gets nothing judged, so nobody can
	/// have a victim's data judged there first.
	fn served_for(&self, dao_id: u32, registered: &Registered) -> Result<Arc<Served>, ApiError> {
		if let Some(served) = self.daos.iter().find(|s| s.dao_id == dao_id) {
			if served.signer != registered.attestation_signer {
				return Err(ApiError::new(
					StatusCode::CONFLICT,
					"keys",
					format!(
						"DAO #{dao_id} registers another attestation key than the one this server holds for it ({:?})",
						served.name
					),
				));
			}
			return Ok(served.clone());
		}
		if self.daos.iter().any(|s| s.signer == registered.attestation_signer) {
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
	) -> Result<(Attestation<u32>, sr25519::Signature), ApiError> {
		let (id, dao_id) = (submission.id, submission.dao_id);
		let served = self.served_for(dao_id, registered)?;
		if registered.measurement != served.measurement {
			return Err(ApiError::new(
				StatusCode::CONFLICT,
				"measurement",
				format!(
					"DAO #{dao_id} registered measurement 0x{}, but this server reports 0x{} for {:?} (another binary or other rules)",
					hex::encode(registered.measurement),
					hex::encode(served.measurement),
					served.name
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
			let answers = served.answers.lock().expect("not poisoned");
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
		let _turn = served.turns.take(id).await;
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
		let judged = self.judge(ledger, genesis, submission, &served).await;
		self.metrics.in_flight.dec();
		let judgement = judged?;
		self.metrics.seconds.observe(started.elapsed().as_secs_f64());

		let attestation = Attestation {
			dao_id,
			contribution_id: id,
			contributor: account_bytes(&submission.contributor)?,
			ciphertext_hash: H256(submission.ciphertext_hash),
			fingerprint: H256(judgement.fingerprint),
			scores: ChainScores {
				authenticity: Permill::from_parts(judgement.scores.authenticity),
				ownership: Permill::from_parts(judgement.scores.ownership),
				quality: Permill::from_parts(judgement.scores.quality),
				uniqueness: Permill::from_parts(judgement.scores.uniqueness),
				overall: Permill::from_parts(judgement.scores.overall),
			},
			verdict: match &judgement.invalid {
				None => Verdict::Valid,
				Some(reason) => Verdict::Invalid { reason: short_reason(reason) },
			},
			measurement: H256(served.measurement),
			valid_until: now.saturating_add(self.limits.validity_blocks),
		};
		let signature = served.pair.sign(&signing_payload(&attestation, &H256(genesis)));
		if let (None, Some(signature)) = (&judgement.invalid, &judgement.signature) {
			// Indexed as soon as it is signed: a near copy judged before this attestation
			// lands is compared with it. If the chain never accepts it, the entry is
			// forgotten the next time it comes up (see `closest_live`).
			let index_result = served.index.add(id, &judgement.fingerprint, signature);
			index_result.map_err(|e| ApiError::internal("index", e))?;
		}
		served.answers.lock().expect("not poisoned").keep(now, attestation.clone(), signature);
		self.metrics.outcome(if judgement.invalid.is_none() { "valid" } else { "invalid" });
		tracing::info!(
			contribution = id,
			dao = dao_id,
			verdict = judgement.invalid.as_deref().unwrap_or("valid"),
			overall = judgement.scores.overall,
			ms = started.elapsed().as_millis() as u64,
			"attested"
		);
		Ok((attestation, signature))
	}

	/// Fetches (as the policy allows, within its deadlines), decrypts and judges; holds the
	/// DAO's lock from the index lookup to the end.
	async fn judge<L: Ledger>(
		&self,
		ledger: &L,
		genesis: [u8; 32],
		submission: &Submission,
		served: &Arc<Served>,
	) -> Result<Judgement, ApiError> {
		let id = submission.id;
		let invalid = |reason: String| Ok(Assessment::Invalid(reason).conclude(Match::None));
		let hash = BlobHash(submission.ciphertext_hash);
		let source = match self.policy.source(&submission.url, &hash) {
			Ok(source) => source,
			Err(refused) => {
				tracing::info!(
					contribution = id,
					"storage URL refused, no request made: {refused}"
				);
				return invalid(refused.to_string());
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
				return invalid(SIZE_DIFFERS.into());
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
		let contributor = submission.contributor.clone();
		let expected = Statement {
			genesis_hash: H256(genesis),
			dao_id: submission.dao_id,
			contributor: account_bytes(&submission.contributor)?,
		};
		let task_served = served.clone();
		let assessment = tokio::task::spawn_blocking(move || {
			let mut plain = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
			let opened = decrypt(
				std::slice::from_ref(&task_served.identity),
				&ciphertext[..],
				&mut *plain,
				&Parallelism::OneCore,
			);
			match opened {
				Ok(n) => match submitters_data(&plain, &expected) {
					Ok(data) => {
						(n, assess(data, &contributor, &task_served.rules, &task_served.keys))
					},
					Err(reason) => {
						tracing::info!(contribution = id, "{reason}");
						(n, Assessment::Invalid(reason.into()))
					},
				},
				Err(e) => {
					tracing::info!(contribution = id, "cannot be decrypted: {e}");
					(0, Assessment::Invalid(NOT_FOR_THIS_DAO.into()))
				},
			}
		})
		.await
		.map_err(|e| ApiError::internal("panic", e))?;
		let (plain_len, assessment) = assessment;
		self.metrics.plaintext_bytes.inc_by(plain_len);

		let _dao = served.lock.lock().await;
		let closest = match &assessment {
			Assessment::Invalid(_) => Match::None,
			Assessment::Read { fingerprint, signature, .. } => {
				match ledger.accepted_with(submission.dao_id, *fingerprint).await? {
					Some(other) if other != id => Match::Exact { contribution: other },
					_ => self.closest_live(ledger, served, id, fingerprint, signature).await?,
				}
			},
		};
		Ok(assessment.conclude(closest))
	}

	/// The closest contribution in the DAO's index that still counts on chain (that DAO's,
	/// Pending or Accepted). Entries that do not are forgotten on the way: rejected or
	/// cancelled ones, and any of another DAO (an index written before key sets were bound).
	async fn closest_live<L: Ledger>(
		&self,
		ledger: &L,
		served: &Served,
		id: u64,
		fingerprint: &[u8; 32],
		signature: &crate::Signature,
	) -> Result<Match, ApiError> {
		let index_error = |e: crate::IndexError| ApiError::internal("index", e);
		for _ in 0..16 {
			let found = served
				.index
				.closest_except(fingerprint, signature, Some(id))
				.map_err(index_error)?;
			let other = match found {
				Match::Exact { contribution } | Match::Near { contribution, .. } => contribution,
				Match::None => return Ok(found),
			};
			if ledger.counts(served.dao_id, other).await? {
				return Ok(found);
			}
			tracing::info!(dao = %served.name, contribution = other, "forgetting a contribution the chain did not accept");
			served.index.forget(other).map_err(index_error)?;
		}
		// Sixteen stale entries in a row: judge against the next without checking it.
		served.index.closest_except(fingerprint, signature, Some(id)).map_err(index_error)
	}
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

/// The data after the contributor's statement, if the statement is well formed, signed by
/// the account it names, and names `expected` (this chain, this DAO, the account that
/// submitted the contribution on chain); else the fixed reason why not.
pub fn submitters_data<'a>(
	plain: &'a [u8],
	expected: &Statement,
) -> Result<&'a [u8], &'static str> {
	let (statement, signature, data) = split_statement(plain).map_err(|_| NO_STATEMENT)?;
	let signed = sr25519::Pair::verify(
		&sr25519::Signature::from_raw(signature),
		statement_payload(&statement),
		&sr25519::Public::from_raw(statement.contributor),
	);
	if !signed {
		return Err(BAD_STATEMENT);
	}
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

/// The reason signed when storage holds the blob with another size than declared.
pub const SIZE_DIFFERS: &str = "the blob's size is not the declared size";
/// The reason signed when the blob does not open with the DAO's key.
pub const NOT_FOR_THIS_DAO: &str = "not encrypted to the DAO's key, or damaged";

/// A reason cut to what the chain keeps, at a character boundary.
fn short_reason(reason: &str) -> Reason {
	let mut end = reason.len().min(MAX_REASON_LEN as usize);
	while !reason.is_char_boundary(end) {
		end -= 1;
	}
	Reason::truncate_from(reason.as_bytes()[..end].to_vec())
}

/// The service's routes.
pub fn router(app: Arc<App>) -> Router {
	let limited = Router::new()
		.route("/v1/validate", post(validate))
		.layer(middleware::from_fn_with_state(app.clone(), rate_limit));
	Router::new()
		.merge(limited)
		.route("/v1/health", get(health))
		.route("/v1/metrics", get(metrics))
		.layer(DefaultBodyLimit::max(4096))
		.with_state(app)
}

/// Serves `app` on `listener` until `shutdown` completes; requests running then finish.
pub async fn serve(
	listener: tokio::net::TcpListener,
	app: Arc<App>,
	shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
	let sweeper = {
		let app = app.clone();
		tokio::spawn(async move {
			loop {
				tokio::time::sleep(Duration::from_secs(60)).await;
				app.rate.retain_recent();
			}
		})
	};
	let served =
		axum::serve(listener, router(app).into_make_service_with_connect_info::<SocketAddr>())
			.with_graceful_shutdown(shutdown)
			.await;
	sweeper.abort();
	served
}

async fn rate_limit(
	State(app): State<Arc<App>>,
	ConnectInfo(peer): ConnectInfo<SocketAddr>,
	request: Request,
	next: Next,
) -> Response {
	if app.rate.check_key(&peer.ip()).is_err() {
		app.metrics.outcome("rate_limited");
		return ApiError::new(
			StatusCode::TOO_MANY_REQUESTS,
			"rate_limited",
			"too many requests from this address; slow down",
		)
		.into_response();
	}
	next.run(request).await
}

async fn validate(
	State(app): State<Arc<App>>,
	headers: HeaderMap,
	body: Result<Json<ValidateRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
	let Json(request) = match body {
		Ok(b) => b,
		Err(e) => {
			app.metrics.outcome("bad_request");
			return ApiError::new(
				StatusCode::BAD_REQUEST,
				"bad_request",
				format!("expected {{\"contribution\": ID}}: {e}"),
			)
			.into_response();
		},
	};
	let (attestation, signature) = match app.validate(request.contribution).await {
		Ok(signed) => signed,
		Err(e) => {
			app.metrics.outcome(e.kind);
			tracing::warn!(
				contribution = request.contribution,
				status = e.status.as_u16(),
				detail = e.detail.as_deref().unwrap_or("-"),
				"{}",
				e.message
			);
			return e.into_response();
		},
	};
	let wants_scale = headers
		.get(header::ACCEPT)
		.and_then(|v| v.to_str().ok())
		.is_some_and(|v| v.contains(SCALE));
	if wants_scale {
		let body = (&attestation, &signature.0).encode();
		return ([(header::CONTENT_TYPE, SCALE)], body).into_response();
	}
	let scores = attestation.scores;
	let (verdict, reason) = match &attestation.verdict {
		Verdict::Valid => ("valid", None),
		Verdict::Invalid { reason } => {
			("invalid", Some(String::from_utf8_lossy(reason).into_owned()))
		},
	};
	Json(Signed {
		contribution: attestation.contribution_id,
		dao: attestation.dao_id,
		verdict: verdict.into(),
		reason,
		scores: Scores {
			authenticity: scores.authenticity.deconstruct(),
			ownership: scores.ownership.deconstruct(),
			quality: scores.quality.deconstruct(),
			uniqueness: scores.uniqueness.deconstruct(),
			overall: scores.overall.deconstruct(),
		},
		fingerprint: format!("0x{}", hex::encode(attestation.fingerprint.0)),
		measurement: format!("0x{}", hex::encode(attestation.measurement.0)),
		valid_until: attestation.valid_until,
		attestation: format!("0x{}", hex::encode(attestation.encode())),
		signature: format!("0x{}", hex::encode(signature.0)),
	})
	.into_response()
}

async fn health(State(app): State<Arc<App>>) -> Response {
	let best = match app.chain().await {
		Ok(chain) => chain.at_best().await.map(|at| at.number).map_err(ApiError::from),
		Err(e) => Err(e),
	};
	if let Err(e) = &best {
		tracing::warn!(detail = e.detail.as_deref().unwrap_or("-"), "health: {}", e.message);
		app.forget_chain().await;
	}
	let daos: Vec<_> = app
		.daos
		.iter()
		.map(|d| {
			serde_json::json!({
				"name": d.name,
				"dao": d.dao_id,
				"attestation_signer": format!("0x{}", hex::encode(d.signer)),
				"measurement": format!("0x{}", hex::encode(d.measurement)),
				"indexed": d.index.len().ok(),
			})
		})
		.collect();
	let body = serde_json::json!({
		"status": if best.is_ok() { "ok" } else { "degraded" },
		"node": match &best { Ok(n) => serde_json::json!({"best_block": n}), Err(e) => serde_json::json!({"error": e.message}) },
		"daos": daos,
		"max_size": app.limits.max_ciphertext,
		"workers": app.limits.workers,
	});
	let status = if best.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
	(status, Json(body)).into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
	let mut text = String::new();
	if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &app.metrics.registry) {
		return ApiError::internal("metrics", e).into_response();
	}
	([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
		.into_response()
}

#[cfg(test)]
mod tests {
	use super::*;

	fn answer(id: u64, hash: u8, valid_until: u32) -> (Attestation<u32>, sr25519::Signature) {
		let attestation = Attestation {
			dao_id: 0,
			contribution_id: id,
			contributor: [0; 32],
			ciphertext_hash: H256([hash; 32]),
			fingerprint: H256([0; 32]),
			scores: Default::default(),
			verdict: Verdict::Valid,
			measurement: H256([0; 32]),
			valid_until,
		};
		(attestation, sr25519::Signature::from_raw([id as u8; 64]))
	}

	#[test]
	fn answers_are_given_again_while_they_can_still_reach_a_block() {
		let mut answers = Answers::default();
		let (a, sig) = answer(7, 1, 120);
		answers.keep(100, a.clone(), sig);
		assert_eq!(answers.get(0, 7, &[1; 32], 100), Some((a.clone(), sig)));
		assert_eq!(answers.get(0, 7, &[1; 32], 117), Some((a, sig)));
		// too close to its end, another ciphertext, another contribution: judged anew
		assert_eq!(answers.get(0, 7, &[1; 32], 118), None);
		assert_eq!(answers.get(0, 7, &[2; 32], 100), None);
		assert_eq!(answers.get(0, 8, &[1; 32], 100), None);
		// another DAO's contribution of the same number: not this answer
		assert_eq!(answers.get(1, 7, &[1; 32], 100), None);
		// expired answers go when another is kept
		let (b, sig) = answer(8, 1, 150);
		answers.keep(121, b, sig);
		assert_eq!((answers.len(), answers.get(0, 8, &[1; 32], 121).is_some()), (1, true));
	}

	#[tokio::test]
	async fn one_request_at_a_time_judges_a_contribution() {
		let turns = Turns::default();
		let held = turns.take(1).await;
		// Contribution 1 waits while its turn is held; another contribution does not.
		let waited = tokio::time::timeout(Duration::from_millis(50), turns.take(1)).await;
		assert!(waited.is_err(), "a second request took a held turn");
		let other = turns.take(2).await;
		let waiting = tokio::spawn({
			let turns = Arc::new(turns);
			async move {
				let turn = turns.take(1).await;
				drop(turn);
				turns
			}
		});
		tokio::time::sleep(Duration::from_millis(20)).await;
		assert!(!waiting.is_finished());
		drop(held);
		let turns = tokio::time::timeout(Duration::from_secs(5), waiting)
			.await
			.expect("the turn is passed on when given back")
			.unwrap();
		// Turns given back are dropped at the next take: the map does not grow.
		drop(other);
		let again = turns.take(3).await;
		assert_eq!(turns.len(), 1);
		drop(again);
	}

	#[test]
	fn the_answers_kept_are_bounded() {
		let mut answers = Answers::default();
		for id in 0..ANSWERS_KEPT as u64 + 10 {
			let (a, sig) = answer(id, 1, 1_000 + id as u32);
			answers.keep(0, a, sig);
		}
		assert_eq!(answers.len(), ANSWERS_KEPT);
		// the ones expiring first made room
		assert_eq!(answers.get(0, 0, &[1; 32], 0), None);
		assert!(answers.get(0, ANSWERS_KEPT as u64 + 9, &[1; 32], 0).is_some());
	}
}
