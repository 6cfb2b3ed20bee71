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
	io::Read,
	sync::Arc,
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
	/// Each contributor's local number: the engine counts distinct contributors by it and
	/// never sees an account.
	contributors: HashMap<[u8; 32], u64>,
}

impl Refined {
	pub(super) fn new(engine: Engine) -> Refined {
		Refined { engine, ingested: HashSet::new(), contributors: HashMap::new() }
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
		let (account, nonce) = (authorized.request.account, authorized.request.nonce);
		let spent = (key_set.access.nonce_spent(&account, &nonce))
			.map_err(|e| ApiError::internal("access_db", e))?;
		if spent {
			return Err(ApiError::new(
				StatusCode::FORBIDDEN,
				"replayed",
				Refused::Replayed.to_string(),
			));
		}
		let _running = Running::query(&self, account).ok_or_else(|| {
			ApiError::new(
				StatusCode::TOO_MANY_REQUESTS,
				"query_running",
				"a query of this account is running; wait for its answer",
			)
		})?;
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
			tokio::task::spawn_blocking(move || app.catch_up(&key_set, &handle, finalized))
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
			app.answer(&key_set, &handle, finalized, &query, min_group_size)
		})
		.await
		.map_err(|e| ApiError::internal("panic", e))??;
		let (released, records) = answered;
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
		}))
	}

	/// Brings the engine up to the catalog at `finalized`, then answers `query`: the noisy
	/// groups, and the records they are over. Runs on a blocking thread.
	fn answer(
		&self,
		key_set: &Arc<BoundKeySet>,
		handle: &tokio::runtime::Handle,
		finalized: u32,
		query: &AggregateQuery,
		min_group: u32,
	) -> Result<(dp::Released, u64), ApiError> {
		let mut refined = key_set.refined.lock().unwrap_or_else(|e| e.into_inner());
		let refined = refined.as_mut().ok_or_else(not_offered)?;
		// Caught up before the budget was spent; another query may have moved the catalog on
		// since, which this brings in too.
		self.ingest_missing(key_set, handle, refined, finalized)?;
		let exact =
			refined.engine.exact(query, min_group).map_err(|e| bad_request(e.to_string()))?;
		let rules = refined.engine.rules().clone();
		let released =
			dp::release(&exact, query, &rules).map_err(|e| ApiError::internal("dp", e))?;
		Ok((released, refined.engine.rows()))
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
		self.ingest_missing(key_set, handle, refined, finalized)
	}

	/// Refines the catalog's contributions accepted by `finalized` that the engine lacks.
	fn ingest_missing(
		&self,
		key_set: &BoundKeySet,
		handle: &tokio::runtime::Handle,
		refined: &mut Refined,
		finalized: u32,
	) -> Result<(), ApiError> {
		let mut after = None;
		loop {
			let page = key_set
				.access
				.entries_after(after, finalized, 64)
				.map_err(|e| ApiError::internal("access_db", e))?;
			let Some(last) = page.last() else { return Ok(()) };
			after = Some((last.accepted_at, last.id));
			for entry in page {
				if !refined.ingested.contains(&entry.id) {
					self.refine(key_set, handle, refined, &entry)?;
				}
			}
		}
	}

	/// Fetches, decrypts and refines contribution `entry` into the engine.
	fn refine(
		&self,
		key_set: &BoundKeySet,
		handle: &tokio::runtime::Handle,
		refined: &mut Refined,
		entry: &CatalogEntry,
	) -> Result<(), ApiError> {
		let failed = |e: &dyn std::fmt::Display| {
			ApiError::internal("refine", format!("contribution #{}: {e}", entry.id))
		};
		if entry.ciphertext_size > self.limits.max_ciphertext {
			return Err(failed(&"larger than --max-size"));
		}
		let (size, source) = blob(self, handle, entry).map_err(|e| failed(&e))?;
		let mut plain = Zeroizing::new(Vec::with_capacity(size as usize));
		decrypting_reader(std::slice::from_ref(&key_set.identity), source, &Parallelism::AllCores)
			.map_err(|e| failed(&e))?
			.read_to_end(&mut plain)
			.map_err(|e| failed(&e))?;
		let data = plain.get(STATEMENT_LINE_LEN..).ok_or_else(|| failed(&"no statement"))?;
		let next = refined.contributors.len() as u64;
		let contributor = *refined.contributors.entry(entry.contributor).or_insert(next);
		let rules = &key_set.rules;
		let aggregate = rules.aggregate.as_ref().ok_or_else(|| failed(&"no aggregate rules"))?;
		let limits = RecordLimits {
			max_records: rules.max_records,
			max_record_bytes: rules.max_record_bytes,
		};
		refined
			.engine
			.ingest(contributor, data, &rules.format, aggregate, limits)
			.map_err(|e| failed(&e))?;
		refined.ingested.insert(entry.id);
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_ledger_rounds_the_cost_up() {
		assert_eq!(micro(0.1), 100_000);
		assert_eq!(micro(0.000_000_1), 1);
		assert_eq!(micro(2.0), 2_000_000);
	}
}
