//! `POST /v1/daos/{id}/query`: an `Aggregate` grantee's question, answered inside the server
//! with differential privacy, never with rows.
//!
//! The body is the query (JSON, see [`AggregateQuery`]); the request is signed as
//! `Operation::Query { body_hash }`, BLAKE2-256 of the exact body bytes. After the checks of
//! `access` (an `Aggregate` grant; a DAO whose rules have an `aggregate` section): the query is
//! checked against the rules, its privacy cost computed ([`dp::cost`]) and spent from the
//! grant's budget with the request's nonce in one transaction (403 `budget` past it); then the
//! DAO's accepted contributions not yet in the engine are fetched, decrypted and refined into
//! it (in memory only: plaintext never touches the disk, SQLite's temporary store included),
//! the exact groups computed (those of fewer distinct contributors than the minimum dropped)
//! and released with noise ([`dp::release`]); the release is logged before it is answered.

use std::{
	collections::{HashMap, HashSet},
	io::{self, Read},
	sync::Arc,
	time::{Duration, Instant},
};

use axum::{
	body::Bytes,
	extract::{Path, State},
	http::{HeaderMap, StatusCode},
	response::{IntoResponse, Response},
	Json,
};
use blake2::{digest::consts::U32, Blake2b, Digest};
use datacoop_envelope::{decrypting_reader, Parallelism};
use datacoop_primitives::{
	access::{AccessRecord, Operation, Released},
	contribution::STATEMENT_LINE_LEN,
	governance::Scope,
};
use zeroize::Zeroizing;

use super::{
	access::now,
	export::{blob, Running},
	ApiError, App, BoundKeySet,
};
use crate::{
	access_db::{CatalogEntry, Refused},
	dp,
	engine::{AggregateQuery, Engine},
	RecordLimits,
};

/// The refined records of a DAO, in memory, and what is in them.
pub(super) struct Refined {
	engine: Engine,
	/// Contributions ingested.
	ingested: HashSet<u64>,
	/// Contributions that could not be refined for a lasting reason, and when each is tried
	/// again: answers leave them out and say so.
	left_out: HashMap<u64, Instant>,
	/// Each contributor's local number: the engine counts distinct contributors by it and
	/// never sees an account.
	contributors: HashMap<[u8; 32], u64>,
}

impl Refined {
	pub(super) fn new(engine: Engine) -> Refined {
		Refined {
			engine,
			ingested: HashSet::new(),
			left_out: HashMap::new(),
			contributors: HashMap::new(),
		}
	}
}

pub(super) async fn post_query(
	State(app): State<Arc<App>>,
	Path(dao_id): Path<u32>,
	headers: HeaderMap,
	body: Bytes,
) -> Response {
	match app.clone().query(dao_id, &headers, body).await {
		Ok(answer) => Json(answer).into_response(),
		Err(e) => {
			app.refused(dao_id, &headers, &e);
			e.into_response()
		},
	}
}

fn not_offered() -> ApiError {
	ApiError::new(StatusCode::FORBIDDEN, "not_offered", "this DAO answers no aggregate queries")
}

fn bad_request(message: impl Into<String>) -> ApiError {
	ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// How long a contribution left out of answers waits before it is tried again.
const RETRY_LEFT_OUT: Duration = Duration::from_secs(600);

/// Why a contribution could not be refined.
enum RefineError {
	/// A failure that passes by itself (storage down, slow, cut off): the query fails and
	/// spends nothing.
	Passing(ApiError),
	/// A lasting one (storage lost the blob or serves other bytes, data that does not decrypt
	/// or read as the rules say): answers leave the contribution out, and say so, until it
	/// is tried again after [`RETRY_LEFT_OUT`].
	Lasting(String),
}

/// Whether an I/O failure reading a blob from storage passes by itself.
fn passing(e: &io::Error) -> bool {
	use datacoop_storage::ClientError as C;
	use io::ErrorKind as K;
	if let Some(client) = e.get_ref().and_then(|inner| inner.downcast_ref::<C>()) {
		return !matches!(
			client,
			C::NotFound { .. }
				| C::BadBlob { .. }
				| C::TooLarge { .. }
				| C::BadUrl(_)
				| C::BadBlobUrl(_)
		);
	}
	matches!(
		e.kind(),
		K::TimedOut
			| K::ConnectionRefused
			| K::ConnectionReset
			| K::ConnectionAborted
			| K::BrokenPipe
			| K::Interrupted
	)
}

/// How long a query may refine new contributions before its budget is spent: past it, the
/// query is refused (503, nothing spent) and what was refined stays for the next one, so no
/// query holds the DAO's engine for longer.
const CATCH_UP_DEADLINE: Duration = Duration::from_secs(60);

/// Brings `refined` up to `entries` (the catalog's, in acceptance order), refining each one
/// it lacks with `refine`: a lasting failure leaves the contribution out until `now +`
/// [`RETRY_LEFT_OUT`]; a passing one ends the catch-up with its error, and so does a
/// `deadline` passed before a contribution still to refine.
fn catch_up_with<'a>(
	refined: &mut Refined,
	entries: impl IntoIterator<Item = &'a CatalogEntry>,
	now: Instant,
	deadline: Option<Instant>,
	mut refine: impl FnMut(&mut Refined, &CatalogEntry) -> Result<(), RefineError>,
) -> Result<(), ApiError> {
	for entry in entries {
		if refined.ingested.contains(&entry.id)
			|| refined.left_out.get(&entry.id).is_some_and(|&retry| now < retry)
		{
			continue;
		}
		if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
			return Err(ApiError::new(
				StatusCode::SERVICE_UNAVAILABLE,
				"catching_up",
				"the server is still refining this DAO's newest contributions; ask again \
				 shortly (nothing was spent)",
			));
		}
		match refine(refined, entry) {
			Ok(()) => {
				refined.left_out.remove(&entry.id);
			},
			Err(RefineError::Passing(e)) => return Err(e),
			Err(RefineError::Lasting(why)) => {
				tracing::warn!(contribution = entry.id, %why, "left out of aggregate answers");
				refined.left_out.insert(entry.id, now + RETRY_LEFT_OUT);
			},
		}
	}
	Ok(())
}

/// Millionths of ε, rounded up: what the budget ledger counts.
fn micro(epsilon: f64) -> u64 {
	(epsilon * 1e6).ceil() as u64
}

impl App {
	async fn query(
		self: Arc<App>,
		dao_id: u32,
		headers: &HeaderMap,
		body: Bytes,
	) -> Result<serde_json::Value, ApiError> {
		let body_hash: [u8; 32] = Blake2b::<U32>::digest(&body).into();
		let query: AggregateQuery = serde_json::from_slice(&body)
			.map_err(|e| bad_request(format!("not an aggregate query: {e}")))?;
		let authorized = self.authorize(dao_id, headers, Operation::Query { body_hash }).await?;
		let key_set = authorized.key_set.clone();
		let rules = key_set.rules.aggregate.clone().ok_or_else(|| {
			ApiError::new(
				StatusCode::FORBIDDEN,
				"not_offered",
				"this DAO answers no aggregate queries",
			)
		})?;
		query.check(&rules).map_err(|e| bad_request(e.to_string()))?;
		let cost = dp::cost(&query, &rules).map_err(|e| bad_request(e.to_string()))?;
		let grant = authorized.grant.clone().expect("a query is authorized with its grant");
		// Before any work: a replay of an answered query, or a second query of the account
		// while one runs (the catalog walk and refining are the costly part, done before the
		// nonce is spent).
		authorized.not_replayed()?;
		// Held by the blocking work below, not only by this handler: a client that hangs up
		// ends the handler, not the refining it started.
		let running =
			Arc::new(Running::query(&self, authorized.request.account).ok_or_else(|| {
				ApiError::new(
					StatusCode::TOO_MANY_REQUESTS,
					"query_running",
					"a query of this account is running; wait for its answer",
				)
			})?);
		// A grant whose budget cannot pay for this query is refused before any work (and
		// again, atomically, when the budget is spent).
		let (cost_micro, budget) = (micro(cost), micro(rules.epsilon_per_grant));
		let left = (key_set.access.budget_left(grant.id, budget))
			.map_err(|e| ApiError::internal("access_db", e))?;
		if cost_micro > left {
			let refused = Refused::Budget { grant: grant.id, budget, left, cost: cost_micro };
			return Err(ApiError::new(StatusCode::FORBIDDEN, "budget", refused.to_string()));
		}
		let Scope::Aggregate { min_group_size } = grant.scope else {
			return Err(ApiError::internal(
				"scope",
				"a query authorized without an aggregate grant",
			));
		};
		self.catalogue(&authorized).await?;
		// The engine catches up with the catalog before any budget is spent: a contribution
		// that cannot be refined now (storage down, say) fails the query and costs the grant
		// nothing.
		let finalized = authorized.at.number();
		{
			let (app, key_set, handle) =
				(self.clone(), key_set.clone(), tokio::runtime::Handle::current());
			let running = running.clone();
			tokio::task::spawn_blocking(move || {
				let _running = running;
				app.catch_up(&key_set, &handle, finalized)
			})
			.await
			.map_err(|e| ApiError::internal("panic", e))??;
		}
		let request = &authorized.request;
		let expires =
			request.time.saturating_add(datacoop_auth::MAX_SKEW).max(now()).saturating_add(1);
		let spend = key_set.access.spend(
			&request.account,
			&request.nonce,
			now(),
			expires,
			grant.id,
			micro(cost),
			micro(rules.epsilon_per_grant),
		);
		let left = match spend {
			Ok(left) => left,
			Err(Refused::Replayed) => {
				return Err(ApiError::new(
					StatusCode::FORBIDDEN,
					"replayed",
					Refused::Replayed.to_string(),
				))
			},
			Err(e @ Refused::Budget { .. }) => {
				return Err(ApiError::new(StatusCode::FORBIDDEN, "budget", e.to_string()))
			},
			Err(Refused::Db(e)) => return Err(ApiError::internal("access_db", e)),
		};
		let app = self.clone();
		let handle = tokio::runtime::Handle::current();
		let answered = tokio::task::spawn_blocking(move || {
			let _running = running;
			app.answer(&key_set, &handle, finalized, &query, min_group_size)
		})
		.await
		.map_err(|e| ApiError::internal("panic", e))??;
		let (released, records, left_out) = answered;
		let record = AccessRecord {
			seq: 0,
			time: now(),
			block: finalized,
			account: authorized.request.account,
			grant_id: grant.id,
			request_nonce: authorized.request.nonce,
			released: Released::Query {
				body_hash,
				epsilon_micro: micro(cost),
				groups: released.groups.len() as u32,
				records,
			},
		};
		authorized.key_set.access.log(record).map_err(|e| ApiError::internal("access_db", e))?;
		self.metrics.outcome("query");
		let bounds: Vec<(String, f64)> = released
			.scales
			.iter()
			.map(|(name, scale)| (name.clone(), dp::bound_99_9(*scale)))
			.collect();
		Ok(serde_json::json!({
			"groups": released.groups,
			"epsilon_spent": released.epsilon_spent,
			"epsilon_left": left as f64 / 1e6,
			"scales": released.scales,
			"bound_99_9": bounds,
			"grant": grant.id,
			"finalized": finalized,
			"records": records,
			"left_out": left_out,
		}))
	}

	/// Brings the engine up to the catalog at `finalized`, then answers `query`: the noisy
	/// groups, the records they are over and the contributions left out of them (they could
	/// not be refined). Runs on a blocking thread.
	fn answer(
		&self,
		key_set: &Arc<BoundKeySet>,
		handle: &tokio::runtime::Handle,
		finalized: u32,
		query: &AggregateQuery,
		min_group: u32,
	) -> Result<(dp::Released, u64, Vec<u64>), ApiError> {
		let mut refined = key_set.refined.lock().unwrap_or_else(|e| e.into_inner());
		let refined = refined.as_mut().ok_or_else(not_offered)?;
		// Caught up before the budget was spent; another query may have moved the catalog on
		// since, which this brings in too.
		self.ingest_missing(key_set, handle, refined, finalized, None)?;
		let exact =
			refined.engine.exact(query, min_group).map_err(|e| bad_request(e.to_string()))?;
		let rules = refined.engine.rules().clone();
		let released =
			dp::release(&exact, query, &rules).map_err(|e| ApiError::internal("dp", e))?;
		let mut left_out: Vec<u64> = refined.left_out.keys().copied().collect();
		left_out.sort_unstable();
		Ok((released, refined.engine.rows(), left_out))
	}

	/// Brings the engine up to the catalog at `finalized`. Runs on a blocking thread.
	fn catch_up(
		&self,
		key_set: &Arc<BoundKeySet>,
		handle: &tokio::runtime::Handle,
		finalized: u32,
	) -> Result<(), ApiError> {
		let mut refined = key_set.refined.lock().unwrap_or_else(|e| e.into_inner());
		let refined = refined.as_mut().ok_or_else(not_offered)?;
		let deadline = Instant::now() + CATCH_UP_DEADLINE;
		self.ingest_missing(key_set, handle, refined, finalized, Some(deadline))
	}

	/// Refines the catalog's contributions accepted by `finalized` that the engine lacks.
	fn ingest_missing(
		&self,
		key_set: &BoundKeySet,
		handle: &tokio::runtime::Handle,
		refined: &mut Refined,
		finalized: u32,
		deadline: Option<Instant>,
	) -> Result<(), ApiError> {
		let mut after = None;
		loop {
			let page = key_set
				.access
				.entries_after(after, finalized, 64)
				.map_err(|e| ApiError::internal("access_db", e))?;
			let Some(last) = page.last() else { return Ok(()) };
			after = Some((last.accepted_at, last.id));
			catch_up_with(refined, &page, Instant::now(), deadline, |refined, entry| {
				self.refine(key_set, handle, refined, entry)
			})?;
		}
	}

	/// Fetches, decrypts and refines contribution `entry` into the engine.
	fn refine(
		&self,
		key_set: &BoundKeySet,
		handle: &tokio::runtime::Handle,
		refined: &mut Refined,
		entry: &CatalogEntry,
	) -> Result<(), RefineError> {
		let lasting = |e: &dyn std::fmt::Display| RefineError::Lasting(e.to_string());
		let io = |e: &io::Error| {
			if passing(e) {
				let why = format!("contribution #{}: {e}", entry.id);
				RefineError::Passing(ApiError::internal("refine", why))
			} else {
				lasting(&e)
			}
		};
		if entry.ciphertext_size > self.limits.max_ciphertext {
			return Err(lasting(&"larger than --max-size"));
		}
		let (size, source) = blob(self, handle, entry).map_err(|e| io(&e))?;
		let mut plain = Zeroizing::new(Vec::with_capacity(size as usize));
		decrypting_reader(std::slice::from_ref(&key_set.identity), source, &Parallelism::AllCores)
			.map_err(|e| match e {
				datacoop_envelope::Error::Io(e) => io(&e),
				e => lasting(&e),
			})?
			.read_to_end(&mut plain)
			.map_err(|e| io(&e))?;
		let data = plain.get(STATEMENT_LINE_LEN..).ok_or_else(|| lasting(&"no statement"))?;
		let next = refined.contributors.len() as u64;
		let contributor = *refined.contributors.entry(entry.contributor).or_insert(next);
		let rules = &key_set.rules;
		let aggregate = rules.aggregate.as_ref().ok_or_else(|| lasting(&"no aggregate rules"))?;
		let limits = RecordLimits {
			max_records: rules.max_records,
			max_record_bytes: rules.max_record_bytes,
		};
		refined
			.engine
			.ingest(contributor, data, &rules.format, aggregate, limits)
			.map_err(|e| lasting(&e))?;
		refined.ingested.insert(entry.id);
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn entry(id: u64) -> CatalogEntry {
		CatalogEntry {
			id,
			accepted_at: id as u32,
			ciphertext_hash: [id as u8; 32],
			ciphertext_size: 1,
			url: vec![],
			contributor: [id as u8; 32],
		}
	}

	fn refined() -> Refined {
		let (engine, _) = crate::engine::tests::twelve();
		Refined::new(engine)
	}

	#[test]
	fn a_contribution_that_cannot_be_refined_is_left_out_and_tried_again_later() {
		let entries: Vec<CatalogEntry> = (1..=3).map(entry).collect();
		let mut refined = refined();
		let start = Instant::now();
		let mut tried = Vec::new();
		// #2's blob is gone from storage: the others are refined, #2 left out.
		catch_up_with(&mut refined, &entries, start, None, |r, e| {
			tried.push(e.id);
			if e.id == 2 {
				return Err(RefineError::Lasting("the blob is not in storage".into()));
			}
			r.ingested.insert(e.id);
			Ok(())
		})
		.unwrap();
		assert_eq!(tried, [1, 2, 3]);
		assert_eq!(refined.left_out.keys().copied().collect::<Vec<_>>(), [2]);
		// The next query does not try it again before its time, nor the others at all.
		tried.clear();
		catch_up_with(&mut refined, &entries, start + RETRY_LEFT_OUT / 2, None, |_, e| {
			tried.push(e.id);
			Ok(())
		})
		.unwrap();
		assert!(tried.is_empty());
		// After it, #2 is tried again and, refined, no longer left out.
		catch_up_with(&mut refined, &entries, start + RETRY_LEFT_OUT, None, |r, e| {
			tried.push(e.id);
			r.ingested.insert(e.id);
			Ok(())
		})
		.unwrap();
		assert_eq!(tried, [2]);
		assert!(refined.left_out.is_empty());
	}

	#[test]
	fn storage_that_is_down_fails_the_query_instead() {
		let entries: Vec<CatalogEntry> = (1..=3).map(entry).collect();
		let mut refined = refined();
		let result = catch_up_with(&mut refined, &entries, Instant::now(), None, |r, e| {
			if e.id == 2 {
				let down = ApiError::internal("refine", "storage unreachable");
				return Err(RefineError::Passing(down));
			}
			r.ingested.insert(e.id);
			Ok(())
		});
		assert!(result.is_err());
		assert!(refined.left_out.is_empty(), "nothing is left out for a passing failure");
		assert_eq!(refined.ingested.len(), 1, "the catch-up stops there");
	}

	#[test]
	fn a_catch_up_stops_at_its_deadline_and_the_next_goes_on_from_there() {
		let entries: Vec<CatalogEntry> = (1..=3).map(entry).collect();
		let mut refined = refined();
		let refine = |r: &mut Refined, e: &CatalogEntry| {
			r.ingested.insert(e.id);
			// refining #2 takes until past the deadline
			if e.id == 2 {
				std::thread::sleep(Duration::from_millis(30));
			}
			Ok(())
		};
		let deadline = Instant::now() + Duration::from_millis(20);
		let e = catch_up_with(&mut refined, &entries, Instant::now(), Some(deadline), refine)
			.unwrap_err();
		assert_eq!(e.kind, "catching_up");
		assert_eq!(refined.ingested.len(), 2, "what was refined stays");
		let deadline = Instant::now() + Duration::from_secs(60);
		catch_up_with(&mut refined, &entries, Instant::now(), Some(deadline), refine).unwrap();
		assert_eq!(refined.ingested.len(), 3);
		// Nothing left to refine: a passed deadline refuses nothing.
		catch_up_with(&mut refined, &entries, Instant::now(), Some(Instant::now()), refine)
			.unwrap();
	}

	#[test]
	fn storage_failures_that_pass_are_told_from_lasting_ones() {
		use datacoop_storage::{BlobHash, ClientError};
		let base = "http://127.0.0.1:1".to_owned();
		let gone = ClientError::NotFound { base: base.clone(), hash: BlobHash([1; 32]) };
		assert!(!passing(&io::Error::other(gone)));
		let refused = ClientError::Server { base, status: 503, message: "busy".into() };
		assert!(passing(&io::Error::other(refused)));
		assert!(passing(&io::Error::new(io::ErrorKind::TimedOut, "storage stalled")));
		assert!(passing(&io::Error::new(io::ErrorKind::ConnectionReset, "reset")));
		assert!(!passing(&io::Error::new(io::ErrorKind::InvalidData, "another size")));
		assert!(!passing(&io::Error::other("damaged at chunk 3")));
	}

	#[test]
	fn the_ledger_rounds_the_cost_up() {
		assert_eq!(micro(0.1), 100_000);
		assert_eq!(micro(0.000_000_1), 1);
		assert_eq!(micro(2.0), 2_000_000);
	}
}
