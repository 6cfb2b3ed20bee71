//! The HTTP errors answered instead of an attestation: a status, a kind (the metrics' label)
//! and a fixed message. What an upstream service said is kept for the log, never answered
//! (docs/collective.md lists them).

use axum::{
	http::{header, StatusCode},
	response::{IntoResponse, Response},
	Json,
};

use datacoop_client::Error as ChainError;

use crate::{fetch::FetchError, JudgeError};

/// An error answered instead of an attestation: a status and a fixed message (what an
/// upstream service said is in `detail`, logged, never answered).
#[derive(Debug)]
pub struct ApiError {
	pub status: StatusCode,
	pub message: String,
	/// A short label for the metrics.
	pub kind: &'static str,
	/// For the log only.
	pub(super) detail: Option<String>,
}

impl ApiError {
	pub(super) fn new(
		status: StatusCode,
		kind: &'static str,
		message: impl Into<String>,
	) -> ApiError {
		ApiError { status, kind, message: message.into(), detail: None }
	}

	fn with_detail(mut self, detail: impl std::fmt::Display) -> ApiError {
		self.detail = Some(detail.to_string());
		self
	}

	pub(super) fn internal(kind: &'static str, detail: impl std::fmt::Display) -> ApiError {
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

impl From<JudgeError> for ApiError {
	fn from(e: JudgeError) -> ApiError {
		match e {
			JudgeError::Chain(e) => e.into(),
			JudgeError::Index(e) => ApiError::internal("index", e),
			JudgeError::Panicked(why) => ApiError::internal("panic", why),
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
