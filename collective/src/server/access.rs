//! Who may have a DAO's data: the checks every data request passes before anything is read
//! from storage or decrypted, cheapest first.
//!
//! 1. The `Authorization: DatacoopAccess <account>:<time>:<nonce>:<signature>` header parses
//!    (else 400 `bad_request`).
//! 2. This server holds the key set bound to the DAO (else 403 `not_served`).
//! 3. The signature verifies over the request rebuilt from the path, the body, the header
//!    and **this server's** genesis hash (else 403 `bad_signature`): a request signed for
//!    another chain, DAO, operation or parameters does not.
//! 4. It was signed within `MAX_SKEW` of the server's clock (else 403 `stale`).
//! 5. At the chain's finalized block, read within [`NODE_DEADLINE`]: the DAO registers this
//!    key set's attestation key and measurement (else 403 `keys` / `measurement`); and for
//!    an export, the account holds a live grant (else 403 `expired` or `no_grant`) of a scope
//!    this server exports (else 403 `scope`; an anonymized grant of a DAO whose rules release
//!    no field: 403 `not_offered`); for the access log, it holds the DAO's tokens
//!    (else 403 `not_holder`).
//! 6. The nonce is spent, with the access record of what will be released, in one
//!    transaction ([`AccessDb::admit`]): a nonce used before gets 403 `replayed`.
//!
//! A refusal is logged as one line (kind, DAO, account) and counted; it is not an access
//! record. A node that does not answer in time is 504 `node_timeout`, never a refusal and
//! never a release.
//!
//! [`AccessDb::admit`]: crate::access_db::AccessDb::admit

use std::{
	sync::Arc,
	time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
	extract::{rejection::QueryRejection, Path, Query, State},
	http::{header, HeaderMap, StatusCode},
	response::{IntoResponse, Response},
	Json,
};
use codec::Encode;
use datacoop_auth::{check_time, decimal, fixed_hex, header_fields, verify, AuthError, MAX_SKEW};
use datacoop_client::{At, GrantInfo};
use datacoop_primitives::{
	access::{
		log_head_payload, request_payload, AccessRecord, AccessRequest, LogHead, Operation,
		Released, SCHEME,
	},
	governance::Scope,
};
use serde::Deserialize;
use sp_core::crypto::Pair as _;

use super::{ApiError, App, BoundKeySet};
use crate::access_db::Refused;

/// How long the node has to answer each read of a data request.
pub const NODE_DEADLINE: Duration = Duration::from_secs(10);

/// The header's fields as signed: account, time, nonce, signature.
struct Signed {
	account: [u8; 32],
	time: u64,
	nonce: [u8; 16],
	signature: [u8; 64],
}

const USAGE: &str = "expected Authorization: DatacoopAccess <account hex>:<unix time>:<nonce 32 hex>:<signature 128 hex>";

fn parse(headers: &HeaderMap) -> Result<Signed, AuthError> {
	let value = headers
		.get(header::AUTHORIZATION)
		.ok_or(AuthError::Malformed(USAGE))?
		.to_str()
		.map_err(|_| AuthError::Malformed(USAGE))?;
	let f = header_fields(value, SCHEME, 4, USAGE)?;
	Ok(Signed {
		account: fixed_hex(f[0], "the account is not 64 hex digits")?,
		time: decimal(f[1], "the time is not unix seconds")?,
		nonce: fixed_hex(f[2], "the nonce is not 32 hex digits")?,
		signature: fixed_hex(f[3], "the signature is not 128 hex digits")?,
	})
}

/// Unix seconds now.
pub(super) fn now() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A request that passed every check but the nonce.
pub(super) struct Authorized {
	pub key_set: Arc<BoundKeySet>,
	pub request: AccessRequest,
	pub genesis: [u8; 32],
	/// The finalized block the grant was read at.
	pub at: At,
	/// The grant, for an export.
	pub grant: Option<GrantInfo>,
}

impl Authorized {
	/// Refuses a request whose nonce was spent before (a replay), before any work is done
	/// for it; spending the nonce checks again, in its transaction.
	pub(super) fn not_replayed(&self) -> Result<(), ApiError> {
		let spent = (self.key_set.access.nonce_spent(&self.request.account, &self.request.nonce))
			.map_err(|e| ApiError::internal("access_db", e))?;
		if spent {
			return Err(ApiError::new(
				StatusCode::FORBIDDEN,
				"replayed",
				crate::access_db::Refused::Replayed.to_string(),
			));
		}
		Ok(())
	}
}

/// The node did not answer a data request's read in time.
pub(super) fn node_timeout() -> ApiError {
	ApiError::new(
		StatusCode::GATEWAY_TIMEOUT,
		"node_timeout",
		"the node did not answer in time; try again",
	)
}

fn forbidden(kind: &'static str, message: impl Into<String>) -> ApiError {
	ApiError::new(StatusCode::FORBIDDEN, kind, message)
}

impl App {
	/// Runs checks 1 to 5 on a request for `operation` on DAO `dao_id`.
	pub(super) async fn authorize(
		&self,
		dao_id: u32,
		headers: &HeaderMap,
		operation: Operation,
	) -> Result<Authorized, ApiError> {
		let signed = parse(headers)
			.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string()))?;
		let key_set =
			self.key_sets.iter().find(|k| k.dao_id() == dao_id).cloned().ok_or_else(|| {
				forbidden("not_served", format!("this server does not serve DAO #{dao_id}"))
			})?;
		let chain = self.chain().await?;
		let genesis = chain.genesis_hash();
		let request = AccessRequest {
			genesis_hash: genesis,
			dao_id,
			account: signed.account,
			operation,
			time: signed.time,
			nonce: signed.nonce,
		};
		verify(&signed.account, &request_payload(&request), &signed.signature)
			.map_err(|e| forbidden("bad_signature", e.to_string()))?;
		check_time(signed.time, now()).map_err(|e| forbidden("stale", e.to_string()))?;

		let at = self.within(chain.at_finalized()).await?;
		let dao = self
			.within(at.dao(dao_id))
			.await?
			.ok_or_else(|| forbidden("not_served", format!("DAO #{dao_id} is not on chain")))?;
		if dao.collective.attestation_signer != key_set.signer {
			return Err(forbidden(
				"keys",
				format!("DAO #{dao_id} now registers another collective's keys: this server no longer serves it"),
			));
		}
		if dao.collective.measurement.0 != key_set.measurement {
			return Err(forbidden(
				"measurement",
				format!("DAO #{dao_id} registers another measurement than this server's (another binary or other rules): nothing is released under rules the DAO did not register"),
			));
		}
		let who = signed.account.into();
		let grant = match &request.operation {
			Operation::Export { .. } => {
				let grant = self.live_grant(&at, dao_id, &who).await?;
				match grant.scope {
					Scope::Full => {},
					Scope::Anonymized if key_set.rules.fields.is_some() => {},
					Scope::Anonymized => {
						return Err(forbidden(
							"not_offered",
							format!("DAO #{dao_id}'s rules release no field in anonymized copies (no `fields` rules)"),
						))
					},
					Scope::Aggregate { .. } => {
						return Err(forbidden(
							"scope",
							format!(
								"grant #{} is {}: an export needs a full or anonymized grant",
								grant.id,
								scope_name(&grant.scope)
							),
						))
					},
				}
				Some(grant)
			},
			Operation::Query { .. } => {
				let grant = self.live_grant(&at, dao_id, &who).await?;
				if !matches!(grant.scope, Scope::Aggregate { .. }) {
					return Err(forbidden(
						"scope",
						format!(
							"grant #{} is {}: a query needs an aggregate grant",
							grant.id,
							scope_name(&grant.scope)
						),
					));
				}
				if key_set.rules.aggregate.is_none() {
					return Err(forbidden(
						"not_offered",
						format!("DAO #{dao_id}'s rules answer no aggregate queries"),
					));
				}
				Some(grant)
			},
			Operation::AccessLog { .. } => {
				if self.within(at.token_balance(dao_id, &who)).await? == 0 {
					return Err(forbidden(
						"not_holder",
						format!("the access log of DAO #{dao_id} is for its token holders"),
					));
				}
				None
			},
		};
		Ok(Authorized { key_set, request, genesis, at, grant })
	}

	/// `who`'s live grant to DAO `dao_id`'s data at `at`, or why there is none.
	async fn live_grant(
		&self,
		at: &At,
		dao_id: u32,
		who: &datacoop_client::AccountId32,
	) -> Result<GrantInfo, ApiError> {
		if let Some(grant) = self.within(at.live_grant(dao_id, who)).await? {
			return Ok(grant);
		}
		let expired = match self.within(at.grant_of(dao_id, who)).await? {
			Some(id) => self.within(at.grant(id)).await?,
			None => None,
		};
		Err(match expired {
			Some(g) => forbidden(
				"expired",
				format!("grant #{} to DAO #{dao_id}'s data expired at block {}", g.id, g.expires),
			),
			None => forbidden(
				"no_grant",
				format!("this account holds no grant to DAO #{dao_id}'s data (never granted, revoked or pruned)"),
			),
		})
	}

	/// A chain read within [`NODE_DEADLINE`]: a node that does not answer is 504, one that
	/// fails 502 (and the connection is made again next time).
	pub(super) async fn within<T>(
		&self,
		read: impl std::future::Future<Output = Result<T, datacoop_client::Error>>,
	) -> Result<T, ApiError> {
		match tokio::time::timeout(NODE_DEADLINE, read).await {
			Ok(Ok(value)) => Ok(value),
			Ok(Err(e)) => {
				self.forget_chain().await;
				Err(e.into())
			},
			Err(_) => {
				self.forget_chain().await;
				Err(node_timeout())
			},
		}
	}

	/// Check 6: spends the request's nonce and logs `released` (if any) in one transaction.
	pub(super) fn admit(
		&self,
		authorized: &Authorized,
		released: Option<Released>,
	) -> Result<(), ApiError> {
		let request = &authorized.request;
		let now = now();
		let record = released.map(|released| AccessRecord {
			seq: 0,
			time: now,
			block: authorized.at.number(),
			account: request.account,
			grant_id: authorized.grant.as_ref().map_or(0, |g| g.id),
			request_nonce: request.nonce,
			released,
		});
		// Kept past the time window: a request older than that is stale anyway.
		let expires = request.time.saturating_add(MAX_SKEW).max(now).saturating_add(1);
		match authorized.key_set.access.admit(
			&request.account,
			&request.nonce,
			now,
			expires,
			record,
		) {
			Ok(_) => Ok(()),
			Err(Refused::Replayed) => Err(forbidden("replayed", Refused::Replayed.to_string())),
			Err(e @ Refused::Budget { .. }) => Err(ApiError::internal("access_db", e)),
			Err(Refused::Db(e)) => Err(ApiError::internal("access_db", e)),
		}
	}

	/// Logs a refusal: one line and a count, no access record.
	pub(super) fn refused(&self, dao_id: u32, headers: &HeaderMap, error: &ApiError) {
		self.metrics.outcome(error.kind);
		let account = parse(headers).map(|s| hex::encode(s.account)).unwrap_or_default();
		tracing::info!(
			dao = dao_id,
			account,
			kind = error.kind,
			status = error.status.as_u16(),
			"data request refused"
		);
	}
}

/// Records per access log page at most (and when the query names no limit).
pub const MAX_LOG_PAGE: u32 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogQuery {
	#[serde(default)]
	from: u64,
	limit: Option<u32>,
}

/// `GET /v1/daos/{id}/access-log?from=S&limit=N`, signed as `Operation::AccessLog { from: S,
/// limit: N }` (N is 1000 when not given) by a holder of the DAO's tokens: the records from
/// S, the hash before them, and the log's head signed by the attestation key.
pub(super) async fn get_access_log(
	State(app): State<Arc<App>>,
	Path(dao_id): Path<u32>,
	query: Result<Query<LogQuery>, QueryRejection>,
	headers: HeaderMap,
) -> Response {
	match app.access_log(dao_id, query, &headers).await {
		Ok(body) => Json(body).into_response(),
		Err(e) => {
			app.refused(dao_id, &headers, &e);
			e.into_response()
		},
	}
}

impl App {
	async fn access_log(
		&self,
		dao_id: u32,
		query: Result<Query<LogQuery>, QueryRejection>,
		headers: &HeaderMap,
	) -> Result<serde_json::Value, ApiError> {
		let Query(query) = query.map_err(|e| {
			ApiError::new(
				StatusCode::BAD_REQUEST,
				"bad_request",
				format!("expected ?from=S&limit=N: {e}"),
			)
		})?;
		let limit = query.limit.unwrap_or(MAX_LOG_PAGE);
		if limit == 0 || limit > MAX_LOG_PAGE {
			return Err(ApiError::new(
				StatusCode::BAD_REQUEST,
				"bad_request",
				format!("limit must be 1 to {MAX_LOG_PAGE}"),
			));
		}
		let operation = Operation::AccessLog { from: query.from, limit };
		let authorized = self.authorize(dao_id, headers, operation).await?;
		self.admit(&authorized, None)?;
		let key_set = &authorized.key_set;
		let page = key_set
			.access
			.log_page(query.from, limit)
			.map_err(|e| ApiError::internal("access_db", e))?;
		let head = LogHead {
			dao_id,
			count: page.count,
			hash: page.head,
			time: now(),
			request_nonce: authorized.request.nonce,
		};
		let signature = key_set.pair.sign(&log_head_payload(&head, &authorized.genesis));
		let hex = |bytes: &[u8]| format!("0x{}", hex::encode(bytes));
		Ok(serde_json::json!({
			"records": page.records.iter().map(|r| hex(r)).collect::<Vec<_>>(),
			"previous": hex(&page.previous),
			"head": hex(&head.encode()),
			"signature": hex(&signature.0),
		}))
	}
}

/// A scope as people and the wallet write it.
pub(super) fn scope_name(scope: &Scope) -> String {
	match scope {
		Scope::Full => "full".into(),
		Scope::Anonymized => "anonymized".into(),
		Scope::Aggregate { min_group_size } => format!("aggregate:{min_group_size}"),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use axum::http::HeaderValue;

	fn headers(value: &str) -> HeaderMap {
		let mut h = HeaderMap::new();
		h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
		h
	}

	#[test]
	fn the_header_parses_strictly() {
		let good = format!(
			"DatacoopAccess {}:1700000000:{}:{}",
			"ab".repeat(32),
			"cd".repeat(16),
			"ef".repeat(64)
		);
		let s = parse(&headers(&good)).unwrap();
		assert_eq!(
			(s.account, s.time, s.nonce, s.signature),
			([0xab; 32], 1_700_000_000, [0xcd; 16], [0xef; 64])
		);
		for bad in [
			good.replace("DatacoopAccess", "DatacoopUpload"),
			good.replace(":1700000000:", ":-1:"),
			good.replace(":1700000000:", ":17e8:"),
			format!("{good}:00"),
			good.replacen("ab", "a", 1),
			good.replacen("cd", "zz", 1),
			format!("DatacoopAccess {}", "a".repeat(400)),
		] {
			assert!(parse(&headers(&bad)).is_err(), "{bad}");
		}
		assert!(parse(&HeaderMap::new()).is_err());
	}
}
