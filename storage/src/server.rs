//! The HTTP face of a [`Store`].
//!
//! | request | answer |
//! |---|---|
//! | `PUT /blobs/0x<hash>` + bytes | 201 kept, 200 already there (bytes checked), 400 the bytes hash to something else, 413 too large |
//! | `POST /blobs` + bytes | the same, kept under the hash of what came (for uploads that learn their hash only at the end, as when encrypting while uploading) |
//! | `GET /blobs/0x<hash>` | 200 the bytes, 206 with `Range: bytes=…` (one range), 416 outside the blob, 404 none |
//! | `HEAD /blobs/0x<hash>` | 200 with `Content-Length`, or 404 |
//! | `GET /health` | 200 `{"status": "ok", "max_size": N}` |
//!
//! PUT and POST answer with JSON `{"hash": "0x…", "size": N, "created": bool}`; errors with
//! `{"error": "…"}`.

use std::{net::SocketAddr, ops::Range, sync::Arc};

use axum::{
	body::Body,
	extract::{DefaultBodyLimit, Path, State},
	http::{header, HeaderMap, HeaderValue, StatusCode},
	response::{IntoResponse, Response},
	routing::{get, post},
	Json, Router,
};
use futures::TryStreamExt;

use crate::{
	hash::BlobHash,
	store::{Store, StoreError},
};

/// What the service needs to answer requests.
pub struct Service {
	pub store: Store,
	/// The largest blob kept, in bytes.
	pub max_size: u64,
}

/// The routes, ready to serve.
pub fn router(service: Arc<Service>) -> Router {
	Router::new()
		.route("/health", get(health))
		.route("/blobs", post(post_blob))
		.route("/blobs/{hash}", get(get_blob).head(head_blob).put(put_blob))
		// Bodies stream to the store, which enforces `max_size` itself.
		.layer(DefaultBodyLimit::disable())
		.with_state(service)
}

/// Serves until the future `shutdown` completes, then finishes the requests under way.
pub async fn serve(
	listener: tokio::net::TcpListener,
	service: Arc<Service>,
	shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
	axum::serve(listener, router(service).into_make_service_with_connect_info::<SocketAddr>())
		.with_graceful_shutdown(shutdown)
		.await
}

async fn health(State(service): State<Arc<Service>>) -> Response {
	Json(serde_json::json!({ "status": "ok", "max_size": service.max_size })).into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
	(status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

fn parse_hash(s: &str) -> Result<BlobHash, Response> {
	s.parse().map_err(|e| error(StatusCode::BAD_REQUEST, format!("{s}: {e}")))
}

fn store_error(e: StoreError) -> Response {
	match e {
		StoreError::HashMismatch { .. } => error(StatusCode::BAD_REQUEST, e.to_string()),
		StoreError::TooLarge { .. } => {
			// The rest of the body is not read: the connection cannot carry another request,
			// and a client must not put it back in its pool.
			let mut r = error(StatusCode::PAYLOAD_TOO_LARGE, e.to_string());
			r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
			r
		},
		// The client went away or sent garbage; nothing was kept.
		StoreError::Body(_) => error(StatusCode::BAD_REQUEST, e.to_string()),
		StoreError::Io(_) | StoreError::Object(_) => {
			tracing::error!("store failure: {e}");
			error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
		},
	}
}

async fn put_blob(
	State(service): State<Arc<Service>>,
	Path(hash): Path<String>,
	headers: HeaderMap,
	body: Body,
) -> Response {
	let hash = match parse_hash(&hash) {
		Ok(h) => h,
		Err(r) => return r,
	};
	receive(&service, Some(hash), &headers, body).await
}

async fn post_blob(
	State(service): State<Arc<Service>>,
	headers: HeaderMap,
	body: Body,
) -> Response {
	receive(&service, None, &headers, body).await
}

async fn receive(
	service: &Service,
	expected: Option<BlobHash>,
	headers: &HeaderMap,
	body: Body,
) -> Response {
	// Refuse before reading a byte when the client says how much is coming.
	let declared = headers
		.get(header::CONTENT_LENGTH)
		.and_then(|v| v.to_str().ok())
		.and_then(|v| v.parse::<u64>().ok());
	if declared.is_some_and(|n| n > service.max_size) {
		return store_error(StoreError::TooLarge { limit: service.max_size });
	}
	let stream = body.into_data_stream().map_err(std::io::Error::other);
	match service.store.put(expected, stream, service.max_size).await {
		Ok(stored) => {
			if stored.created {
				tracing::info!(hash = %stored.hash, size = stored.size, "kept");
			}
			let status = if stored.created { StatusCode::CREATED } else { StatusCode::OK };
			(status, Json(stored)).into_response()
		},
		Err(e) => {
			tracing::warn!(expected = ?expected, "upload refused: {e}");
			store_error(e)
		},
	}
}

async fn head_blob(State(service): State<Arc<Service>>, Path(hash): Path<String>) -> Response {
	let hash = match parse_hash(&hash) {
		Ok(h) => h,
		Err(r) => return r,
	};
	match service.store.size(&hash).await {
		Ok(Some(size)) => {
			(StatusCode::OK, [(header::CONTENT_LENGTH, HeaderValue::from(size)), accept_ranges()])
				.into_response()
		},
		Ok(None) => StatusCode::NOT_FOUND.into_response(),
		Err(e) => store_error(e),
	}
}

fn accept_ranges() -> (header::HeaderName, HeaderValue) {
	(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"))
}

async fn get_blob(
	State(service): State<Arc<Service>>,
	Path(hash): Path<String>,
	headers: HeaderMap,
) -> Response {
	let hash = match parse_hash(&hash) {
		Ok(h) => h,
		Err(r) => return r,
	};
	let not_found = || error(StatusCode::NOT_FOUND, format!("no blob {hash}"));
	// A range is checked against the size first; a whole blob is one request to the store.
	let range = match headers.get(header::RANGE) {
		None => None,
		Some(value) => {
			let size = match service.store.size(&hash).await {
				Ok(Some(size)) => size,
				Ok(None) => return not_found(),
				Err(e) => return store_error(e),
			};
			match requested_range(value, size) {
				Ok(r) => r,
				Err(()) => {
					return (
						StatusCode::RANGE_NOT_SATISFIABLE,
						[(
							header::CONTENT_RANGE,
							HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"),
						)],
					)
						.into_response()
				},
			}
		},
	};
	let (size, stream) = match service.store.get(&hash, range.clone()).await {
		Ok(Some(found)) => found,
		// Removed between the two calls: blobs are never removed, but say so properly.
		Ok(None) => return not_found(),
		Err(e) => return store_error(e),
	};
	let mut response = Response::new(Body::from_stream(stream));
	let h = response.headers_mut();
	h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
	h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
	// The name is the hash of the bytes: they never change.
	h.insert(header::ETAG, HeaderValue::from_str(&format!("\"{hash}\"")).expect("ascii"));
	h.insert(
		header::CACHE_CONTROL,
		HeaderValue::from_static("public, max-age=31536000, immutable"),
	);
	match range {
		None => {
			h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
		},
		Some(r) => {
			h.insert(header::CONTENT_LENGTH, HeaderValue::from(r.end - r.start));
			let value = format!("bytes {}-{}/{size}", r.start, r.end - 1);
			h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&value).expect("ascii"));
			*response.status_mut() = StatusCode::PARTIAL_CONTENT;
		},
	}
	response
}

/// The one range a `Range` header asks for, as a half-open range inside `0..size`.
/// `Ok(None)`: serve the whole blob (a header this service does not act on: several ranges,
/// or not a byte range; RFC 9110 lets a server ignore `Range`). `Err`: unsatisfiable (416).
fn requested_range(value: &HeaderValue, size: u64) -> Result<Option<Range<u64>>, ()> {
	let Ok(text) = value.to_str() else { return Ok(None) };
	let Ok(parsed) = http_range_header::parse_range_header(text) else { return Ok(None) };
	let ranges = parsed.validate(size).map_err(|_| ())?;
	match ranges.as_slice() {
		[one] => Ok(Some(*one.start()..one.end().saturating_add(1))),
		_ => Ok(None),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn range(v: &str, size: u64) -> Result<Option<Range<u64>>, ()> {
		requested_range(&HeaderValue::from_str(v).unwrap(), size)
	}

	#[test]
	fn ranges() {
		assert_eq!(range("bytes=0-0", 10), Ok(Some(0..1)));
		assert_eq!(range("bytes=2-", 10), Ok(Some(2..10)));
		assert_eq!(range("bytes=-3", 10), Ok(Some(7..10)));
		assert_eq!(range("bytes=5-100", 10), Ok(Some(5..10)));
		assert_eq!(range("bytes=10-", 10), Err(()));
		assert_eq!(range("bytes=0-1,4-5", 10), Ok(None));
		assert_eq!(range("items=0-1", 10), Ok(None));
		assert_eq!(range("bytes=0-18446744073709551615", 10), Ok(Some(0..10)));
	}
}
