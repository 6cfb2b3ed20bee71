//! The routes: `POST /v1/validate`, `POST /v1/daos/{id}/export` and `GET
//! /v1/daos/{id}/access-log` (rate limited per client address), `GET /v1/health` and
//! `GET /v1/metrics`; the shapes of their answers; serving until shutdown.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
	extract::{ConnectInfo, DefaultBodyLimit, Request, State},
	http::{header, HeaderMap, StatusCode},
	middleware::{self, Next},
	response::{IntoResponse, Response},
	routing::{get, post},
	Json, Router,
};
use codec::Encode;
use datacoop_primitives::contribution::{Scores, Verdict};
use serde::{Deserialize, Serialize};

use super::{ApiError, App};

/// A signed attestation, as the JSON answer of `POST /v1/validate`.
#[derive(Serialize, Deserialize, Debug)]
pub struct AttestationJson {
	pub contribution: u64,
	pub dao: u32,
	pub verdict: String,
	pub reason: Option<String>,
	pub scores: ScoresJson,
	pub fingerprint: String,
	pub measurement: String,
	pub valid_until: u32,
	/// SCALE encoding of the attestation, 0x-hex.
	pub attestation: String,
	/// sr25519 signature over `signing_payload(attestation, genesis)`, 0x-hex.
	pub signature: String,
}

/// An attestation's scores in JSON: parts per million.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoresJson {
	pub authenticity: u32,
	pub ownership: u32,
	pub quality: u32,
	pub uniqueness: u32,
	pub overall: u32,
}

impl From<Scores> for ScoresJson {
	fn from(scores: Scores) -> ScoresJson {
		ScoresJson {
			authenticity: scores.authenticity.deconstruct(),
			ownership: scores.ownership.deconstruct(),
			quality: scores.quality.deconstruct(),
			uniqueness: scores.uniqueness.deconstruct(),
			overall: scores.overall.deconstruct(),
		}
	}
}

#[derive(Deserialize)]
struct ValidateRequest {
	contribution: u64,
}

/// The media type of SCALE-encoded answers.
pub const SCALE: &str = "application/scale";

/// The service's routes.
pub fn router(app: Arc<App>) -> Router {
	let limited = Router::new()
		.route("/v1/validate", post(post_validate))
		.route("/v1/daos/{id}/export", post(super::export::post_export))
		.route("/v1/daos/{id}/access-log", get(super::access::get_access_log))
		.route("/v1/daos/{id}/query", post(super::query::post_query))
		.layer(middleware::from_fn_with_state(app.clone(), rate_limit));
	Router::new()
		.merge(limited)
		.route("/v1/health", get(get_health))
		.route("/v1/metrics", get(get_metrics))
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

async fn post_validate(
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
	let (verdict, reason) = match &attestation.verdict {
		Verdict::Valid => ("valid", None),
		Verdict::Invalid { reason } => {
			("invalid", Some(String::from_utf8_lossy(reason).into_owned()))
		},
	};
	Json(AttestationJson {
		contribution: attestation.contribution_id,
		dao: attestation.dao_id,
		verdict: verdict.into(),
		reason,
		scores: attestation.scores.into(),
		fingerprint: format!("0x{}", hex::encode(attestation.fingerprint.0)),
		measurement: format!("0x{}", hex::encode(attestation.measurement.0)),
		valid_until: attestation.valid_until,
		attestation: format!("0x{}", hex::encode(attestation.encode())),
		signature: format!("0x{}", hex::encode(signature.0)),
	})
	.into_response()
}

async fn get_health(State(app): State<Arc<App>>) -> Response {
	let best = match app.chain().await {
		Ok(chain) => chain.at_best().await.map(|at| at.number()).map_err(ApiError::from),
		Err(e) => Err(e),
	};
	if let Err(e) = &best {
		tracing::warn!(detail = e.detail.as_deref().unwrap_or("-"), "health: {}", e.message);
		app.forget_chain().await;
	}
	let daos: Vec<_> = app
		.key_sets
		.iter()
		.map(|k| {
			serde_json::json!({
				"name": k.name,
				"dao": k.dao_id(),
				"attestation_signer": format!("0x{}", hex::encode(k.signer)),
				"measurement": format!("0x{}", hex::encode(k.measurement)),
				"indexed": k.judge.index().len().ok(),
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

async fn get_metrics(State(app): State<Arc<App>>) -> Response {
	let mut text = String::new();
	if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &app.metrics.registry) {
		return ApiError::internal("metrics", e).into_response();
	}
	([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
		.into_response()
}
