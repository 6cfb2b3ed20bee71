//! `datacoop-collective run`: the HTTP service that judges contributions.
//!
//! - `POST /v1/validate` `{"contribution": ID}`: reads the contribution and its DAO at the
//!   chain's best block, finds the DAO's keys among those this server holds (by the
//!   attestation signer the DAO registered), fetches the ciphertext from storage by the
//!   submitted hash (the storage client checks the bytes against it), decrypts it in memory,
//!   judges it, and answers the signed attestation: JSON for people and scripts, or the SCALE
//!   encoding of `(Attestation, Signature)` when asked with `Accept: application/scale` (what
//!   the off-chain worker does: no JSON parser in the runtime).
//! - `GET /v1/health`: the DAOs served, the node, the index sizes. `GET /v1/metrics`:
//!   Prometheus text.
//!
//! What the contributor got wrong (a URL naming another blob, a size that differs, a file not
//! encrypted to the DAO's key, data that breaks the rules) is judged **Invalid**, signed, with
//! the reason. What is not their fault (storage or node unreachable, blob not there yet, the
//! server busy or misconfigured) is an HTTP error and no attestation: the contribution stays
//! Pending and the off-chain worker asks again later.
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
	signing_payload, Attestation, Reason, Scores as ChainScores, Verdict, MAX_REASON_LEN,
};
use datacoop_storage::{BlobHash, ClientError, StorageClient};
use futures::StreamExt;
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
	sealed::{Sealer, Secrets},
	Assessment, Index, Judgement, Keys, Match, Rules, Scores,
};

/// The files of one DAO under the server's directory: `daos/<name>/`.
pub const SECRETS_FILE: &str = "secrets.json";
pub const RULES_FILE: &str = "rules.json";
pub const INDEX_FILE: &str = "index.redb";

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

/// One DAO this server judges for.
pub struct Served {
	pub name: String,
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
	/// The answer for contribution `id` with this ciphertext, if one is kept that is still
	/// good at block `now`.
	pub fn get(
		&self,
		id: u64,
		ciphertext_hash: &[u8; 32],
		now: u32,
	) -> Option<(Attestation<u32>, sr25519::Signature)> {
		let (attestation, signature) = self.by_contribution.get(&id)?;
		let fresh = attestation.valid_until >= now.saturating_add(ANSWER_MARGIN);
		(fresh && attestation.ciphertext_hash.0 == *ciphertext_hash)
			.then(|| (attestation.clone(), *signature))
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
	/// Opens DAO `name` under `dir`: unseals its secrets, reads its rules, opens its index.
	pub fn open(
		dir: &Path,
		name: &str,
		sealer: &Sealer,
		binary: &[u8; 32],
	) -> Result<Served, String> {
		let at = dao_dir(dir, name);
		let secrets = Secrets::open(&at.join(SECRETS_FILE), sealer).map_err(|e| e.to_string())?;
		let rules_path = at.join(RULES_FILE);
		let rules: Rules = serde_json::from_slice(
			&std::fs::read(&rules_path).map_err(|e| format!("{}: {e}", rules_path.display()))?,
		)
		.map_err(|e| format!("{}: {e}", rules_path.display()))?;
		let index = Index::open(&at.join(INDEX_FILE)).map_err(|e| e.to_string())?;
		let pair = secrets.attestation_pair();
		Ok(Served {
			name: name.into(),
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
	/// Fetch blobs from here instead of the contribution URL's host (same hash).
	storage: Option<StorageClient>,
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

/// An error answered instead of an attestation.
#[derive(Debug)]
pub struct ApiError {
	status: StatusCode,
	message: String,
	/// A short label for the metrics.
	kind: &'static str,
}

impl ApiError {
	fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
		ApiError { status, kind, message: message.into() }
	}
}

impl From<ChainError> for ApiError {
	fn from(e: ChainError) -> ApiError {
		ApiError::new(StatusCode::BAD_GATEWAY, "node", e.to_string())
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

impl App {
	pub fn new(
		daos: Vec<Served>,
		node_url: String,
		storage: Option<StorageClient>,
		limits: Limits,
	) -> App {
		App {
			daos: daos.into_iter().map(Arc::new).collect(),
			node_url,
			chain: RwLock::new(None),
			storage,
			workers: Semaphore::new(limits.workers.max(1)),
			rate: RateLimiter::keyed(
				Quota::per_second(limits.rate_per_second).allow_burst(limits.burst),
			),
			limits,
			metrics: Metrics::new(),
		}
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

	/// Judges contribution `id` and signs the attestation.
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
		let served = self
			.daos
			.iter()
			.find(|s| s.signer == dao.collective.attestation_signer)
			.cloned()
			.ok_or_else(|| {
				ApiError::new(
					StatusCode::NOT_FOUND,
					"not_served",
					format!("this server does not hold DAO #{dao_id}'s attestation key"),
				)
			})?;
		if dao.collective.measurement.0 != served.measurement {
			return Err(ApiError::new(
				StatusCode::CONFLICT,
				"measurement",
				format!(
					"DAO #{dao_id} registered measurement 0x{}, but this server reports 0x{} for {:?} (another binary or other rules)",
					hex::encode(dao.collective.measurement.0),
					hex::encode(served.measurement),
					served.name
				),
			));
		}
		if contribution.ciphertext_size > self.limits.max_ciphertext {
			return Err(ApiError::new(
				StatusCode::PAYLOAD_TOO_LARGE,
				"too_large",
				format!(
					"contribution #{id} has {} bytes, more than the {} this server takes (--max-size)",
					contribution.ciphertext_size, self.limits.max_ciphertext
				),
			));
		}
		let kept = || {
			let answers = served.answers.lock().expect("not poisoned");
			answers.get(id, &contribution.ciphertext_hash.0, at.number)
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
		let judged = self.judge(&at, id, &contribution, &served).await;
		self.metrics.in_flight.dec();
		let judgement = judged?;
		self.metrics.seconds.observe(started.elapsed().as_secs_f64());

		let attestation = Attestation {
			dao_id,
			contribution_id: id,
			ciphertext_hash: H256(contribution.ciphertext_hash.0),
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
			valid_until: at.number.saturating_add(self.limits.validity_blocks),
		};
		let signature =
			served.pair.sign(&signing_payload(&attestation, &H256(chain.genesis_hash())));
		if let (None, Some(signature)) = (&judgement.invalid, &judgement.signature) {
			// Indexed as soon as it is signed: a near copy judged before this attestation
			// lands is compared with it. If the chain never accepts it, the entry is
			// forgotten the next time it comes up (see `closest_live`).
			let index_result = served.index.add(id, &judgement.fingerprint, signature);
			index_result.map_err(|e| {
				ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "index", e.to_string())
			})?;
		}
		served.answers.lock().expect("not poisoned").keep(
			at.number,
			attestation.clone(),
			signature,
		);
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

	/// Fetches, decrypts and judges; holds the DAO's lock from the index lookup to the end.
	async fn judge(
		&self,
		at: &At,
		id: u64,
		contribution: &crate::chain::Contribution,
		served: &Arc<Served>,
	) -> Result<Judgement, ApiError> {
		let invalid = |reason: String| Ok(Assessment::Invalid(reason).conclude(Match::None));
		let url = String::from_utf8_lossy(&contribution.url.0).into_owned();
		let hash = BlobHash(contribution.ciphertext_hash.0);
		let (from_url, named) = match StorageClient::for_blob_url(&url) {
			Ok(pair) => pair,
			Err(_) => return invalid("the storage URL is not a blob URL (…/blobs/0x…)".into()),
		};
		if named != hash {
			return invalid("the storage URL names another blob than the submitted hash".into());
		}
		let storage = self.storage.clone().unwrap_or(from_url);
		let (size, mut stream) = match storage.get(&hash).await {
			Ok(found) => found,
			Err(ClientError::NotFound { .. }) => {
				return Err(ApiError::new(
					StatusCode::FAILED_DEPENDENCY,
					"no_blob",
					format!("the blob of contribution #{id} is not in storage (yet)"),
				))
			},
			Err(e) => return Err(ApiError::new(StatusCode::BAD_GATEWAY, "storage", e.to_string())),
		};
		if size != contribution.ciphertext_size {
			return invalid(format!(
				"storage holds {size} bytes, {} were declared",
				contribution.ciphertext_size
			));
		}
		let mut ciphertext = Vec::with_capacity(size as usize);
		while let Some(chunk) = stream.next().await {
			let chunk = chunk.map_err(|e| {
				ApiError::new(StatusCode::BAD_GATEWAY, "storage", format!("fetching the blob: {e}"))
			})?;
			if ciphertext.len() as u64 + chunk.len() as u64 > size {
				return Err(ApiError::new(
					StatusCode::BAD_GATEWAY,
					"storage",
					"storage sent more than the blob's size",
				));
			}
			ciphertext.extend_from_slice(&chunk);
		}
		let contributor = contribution.contributor.to_string();
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
				Ok(n) => (n, assess(&plain, &contributor, &task_served.rules, &task_served.keys)),
				Err(e) => {
					(0, Assessment::Invalid(format!("cannot be decrypted with the DAO's key: {e}")))
				},
			}
		})
		.await
		.map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "panic", e.to_string()))?;
		let (plain_len, assessment) = assessment;
		self.metrics.plaintext_bytes.inc_by(plain_len);

		let _dao = served.lock.lock().await;
		let closest = match &assessment {
			Assessment::Invalid(_) => Match::None,
			Assessment::Read { fingerprint, signature, .. } => {
				match at.by_fingerprint(contribution.dao_id, *fingerprint).await? {
					Some(other) if other != id => Match::Exact { contribution: other },
					_ => self.closest_live(at, served, id, fingerprint, signature).await?,
				}
			},
		};
		Ok(assessment.conclude(closest))
	}

	/// The closest contribution in the DAO's index that still counts on chain (Pending or
	/// Accepted). Entries the chain rejected or that were cancelled are forgotten on the way.
	async fn closest_live(
		&self,
		at: &At,
		served: &Served,
		id: u64,
		fingerprint: &[u8; 32],
		signature: &crate::Signature,
	) -> Result<Match, ApiError> {
		let index_error = |e: crate::IndexError| {
			ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "index", e.to_string())
		};
		for _ in 0..16 {
			let found = served
				.index
				.closest_except(fingerprint, signature, Some(id))
				.map_err(index_error)?;
			let other = match found {
				Match::Exact { contribution } | Match::Near { contribution, .. } => contribution,
				Match::None => return Ok(found),
			};
			let live = match at.contribution(other).await? {
				Some(c) => matches!(
					c.status,
					ContributionStatus::Pending | ContributionStatus::Accepted { .. }
				),
				None => false,
			};
			if live {
				return Ok(found);
			}
			tracing::info!(dao = %served.name, contribution = other, "forgetting a contribution the chain did not accept");
			served.index.forget(other).map_err(index_error)?;
		}
		// Sixteen stale entries in a row: judge against the next without checking it.
		served.index.closest_except(fingerprint, signature, Some(id)).map_err(index_error)
	}
}

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
		Ok(chain) => chain.at_best().await.map(|at| at.number).map_err(|e| e.to_string()),
		Err(e) => Err(e.message),
	};
	if best.is_err() {
		app.forget_chain().await;
	}
	let daos: Vec<_> = app
		.daos
		.iter()
		.map(|d| {
			serde_json::json!({
				"name": d.name,
				"attestation_signer": format!("0x{}", hex::encode(d.signer)),
				"measurement": format!("0x{}", hex::encode(d.measurement)),
				"indexed": d.index.len().ok(),
			})
		})
		.collect();
	let body = serde_json::json!({
		"status": if best.is_ok() { "ok" } else { "degraded" },
		"node": match &best { Ok(n) => serde_json::json!({"best_block": n}), Err(e) => serde_json::json!({"error": e}) },
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
		return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "metrics", e.to_string())
			.into_response();
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
		assert_eq!(answers.get(7, &[1; 32], 100), Some((a.clone(), sig)));
		assert_eq!(answers.get(7, &[1; 32], 117), Some((a, sig)));
		// too close to its end, another ciphertext, another contribution: judged anew
		assert_eq!(answers.get(7, &[1; 32], 118), None);
		assert_eq!(answers.get(7, &[2; 32], 100), None);
		assert_eq!(answers.get(8, &[1; 32], 100), None);
		// expired answers go when another is kept
		let (b, sig) = answer(8, 1, 150);
		answers.keep(121, b, sig);
		assert_eq!((answers.len(), answers.get(8, &[1; 32], 121).is_some()), (1, true));
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
		assert_eq!(answers.get(0, &[1; 32], 0), None);
		assert!(answers.get(ANSWERS_KEPT as u64 + 9, &[1; 32], 0).is_some());
	}
}
