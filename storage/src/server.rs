//! The HTTP face of a [`Store`].
//!
//! | request | answer |
//! |---|---|
//! | `PUT /blobs/0x<hash>` + bytes + upload token | 201 kept, 200 already there (bytes checked), 400 the bytes hash to something else, 401 no valid token for this upload, 408 too slow, 413 too large, 429 over a quota or rate, 503 too many uploaders tracked |
//! | `POST /blobs` + bytes + upload token | the same, kept under the hash of what came (for uploads that learn their hash only at the end, as when encrypting while uploading) |
//! | `GET /blobs/0x<hash>` | 200 the bytes, 206 with `Range: bytes=…` (one range), 416 outside the blob, 404 none |
//! | `HEAD /blobs/0x<hash>` | 200 with `Content-Length`, or 404 |
//! | `GET /health` | 200 `{"status": "ok", "max_size": N}` |
//!
//! PUT and POST answer with JSON `{"hash": "0x…", "size": N, "created": bool}`; errors with
//! `{"error": "…"}` (one line).
//!
//! Uploads need a token signed by a chain account ([`crate::token`]) and are held to the
//! account's quota and rate ([`crate::limits`]) and to [`UploadTimeouts`]; an upload refused or
//! cut off keeps nothing. Reads are public: a blob is ciphertext, public by design, and the
//! collective servers and validators that read it hold no upload token.

use std::{
	io,
	net::SocketAddr,
	ops::Range,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};

use axum::{
	body::Body,
	extract::{ConnectInfo, DefaultBodyLimit, Path, State},
	http::{header, HeaderMap, HeaderValue, StatusCode},
	response::{IntoResponse, Response},
	routing::{get, post},
	Json, Router,
};
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};

use crate::{
	hash::BlobHash,
	limits::{Ledger, Limits, Refusal},
	store::{Store, StoreError},
	token::{TokenError, UploadToken, SCHEME},
};

/// What the service needs to answer requests.
pub struct Service {
	pub store: Store,
	/// The largest blob kept, in bytes.
	pub max_size: u64,
	pub timeouts: UploadTimeouts,
	/// Web pages that may call the service from a browser (CORS): what `--cors-origin` says.
	pub cors: Cors,
	ledger: Mutex<Ledger>,
}

/// Which web pages' scripts may read answers and upload (Cross-Origin Resource Sharing).
/// Uploads are authorized by the signed token in their `Authorization` header, never by
/// cookies, so CORS is not what protects them; it decides which pages a browser lets use
/// the service at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Cors {
	/// No CORS headers: browsers keep other origins' scripts out (the default).
	#[default]
	None,
	/// Any origin (`*`).
	Any,
	/// These origins (`scheme://host[:port]`, as browsers send them).
	Origins(Vec<HeaderValue>),
}

impl Cors {
	/// From `--cors-origin` values: `*` alone, or origins such as `http://127.0.0.1:9980`. An
	/// origin with a path, a query or no host, or `*` among origins, is refused with the reason.
	pub fn parse(values: &[String]) -> Result<Cors, String> {
		if values.is_empty() {
			return Ok(Cors::None);
		}
		if values.iter().any(|v| v.trim() == "*") {
			if values.len() > 1 {
				return Err(
					"CORS origin `*` allows every origin: give it alone, or only origins".into()
				);
			}
			return Ok(Cors::Any);
		}
		let origins = values
			.iter()
			.map(|v| {
				let v = v.trim().trim_end_matches('/');
				let url = url::Url::parse(v).map_err(|e| format!("CORS origin {v:?}: {e}"))?;
				let origin = url.origin().ascii_serialization();
				if !matches!(url.scheme(), "http" | "https") || origin != v {
					return Err(format!(
						"CORS origin {v:?}: an origin is scheme://host[:port] and nothing more (as {origin:?})"
					));
				}
				HeaderValue::from_str(v).map_err(|e| format!("CORS origin {v:?}: {e}"))
			})
			.collect::<Result<Vec<_>, _>>()?;
		Ok(Cors::Origins(origins))
	}

	fn layer(&self) -> Option<tower_http::cors::CorsLayer> {
		use tower_http::cors::{AllowOrigin, CorsLayer};
		let origin = match self {
			Cors::None => return None,
			Cors::Any => AllowOrigin::any(),
			Cors::Origins(list) => AllowOrigin::list(list.clone()),
		};
		Some(
			CorsLayer::new()
				.allow_origin(origin)
				.allow_methods([
					axum::http::Method::GET,
					axum::http::Method::HEAD,
					axum::http::Method::POST,
					axum::http::Method::PUT,
				])
				.allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::RANGE])
				.expose_headers([header::CONTENT_LENGTH, header::CONTENT_RANGE])
				.max_age(Duration::from_secs(3600)),
		)
	}
}

impl Service {
	pub fn new(store: Store, max_size: u64, limits: Limits, timeouts: UploadTimeouts) -> Service {
		Service {
			store,
			max_size,
			timeouts,
			cors: Cors::None,
			ledger: Mutex::new(Ledger::new(limits)),
		}
	}

	/// The same service, answering CORS requests as `cors` says.
	pub fn with_cors(mut self, cors: Cors) -> Service {
		self.cors = cors;
		self
	}

	fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
		// Every critical section leaves the ledger consistent: a panic elsewhere cannot have
		// broken it half way.
		self.ledger.lock().unwrap_or_else(|e| e.into_inner())
	}
}

/// How slow an upload may be before it is cut (and nothing of it kept).
#[derive(Clone, Copy, Debug)]
pub struct UploadTimeouts {
	/// No byte of the body for this long: cut.
	pub read: Duration,
	/// Not finished within `max(floor, size / min_rate)` (size: what the token allows): cut.
	pub floor: Duration,
	/// Bytes per second.
	pub min_rate: u64,
}

impl Default for UploadTimeouts {
	fn default() -> Self {
		UploadTimeouts {
			read: Duration::from_secs(30),
			floor: Duration::from_secs(60),
			min_rate: 64 << 10,
		}
	}
}

impl UploadTimeouts {
	/// The whole time an upload of at most `size` bytes may take.
	pub fn total(&self, size: u64) -> Duration {
		let proportional = Duration::from_secs(size / self.min_rate.max(1));
		proportional.max(self.floor)
	}
}

fn unix_now() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs())
		.unwrap_or(0)
}

/// The routes, ready to serve.
pub fn router(service: Arc<Service>) -> Router {
	let cors = service.cors.layer();
	let router = Router::new()
		.route("/health", get(health))
		.route("/blobs", post(post_blob))
		.route("/blobs/{hash}", get(get_blob).head(head_blob).put(put_blob))
		// Bodies stream to the store, which enforces `max_size` itself.
		.layer(DefaultBodyLimit::disable())
		.with_state(service);
	match cors {
		Some(layer) => router.layer(layer),
		None => router,
	}
}

/// How long a client may take to send a request's headers; also how long an idle kept-alive
/// connection stays open. Without it, connections that never finish their headers would pile
/// up until the process runs out of file descriptors.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves until the future `shutdown` completes, then finishes the requests under way.
pub async fn serve(
	listener: tokio::net::TcpListener,
	service: Arc<Service>,
	shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
	let header_timeout = service.timeouts.read.min(HEADER_TIMEOUT);
	let app = router(service);
	let graceful = hyper_util::server::graceful::GracefulShutdown::new();
	let mut shutdown = std::pin::pin!(shutdown);
	loop {
		let (tcp, peer) = tokio::select! {
			accepted = listener.accept() => match accepted {
				Ok(a) => a,
				Err(e) => {
					// Out of file descriptors, say: wait a little rather than spin.
					tracing::warn!("cannot accept a connection: {e}");
					tokio::time::sleep(Duration::from_millis(100)).await;
					continue;
				},
			},
			() = &mut shutdown => break,
		};
		let app = app.clone();
		let handler = hyper::service::service_fn(
			move |mut request: hyper::Request<hyper::body::Incoming>| {
				request.extensions_mut().insert(ConnectInfo(peer));
				// A router is always ready: no poll_ready needed.
				tower_service::Service::call(&mut app.clone(), request)
			},
		);
		let connection = hyper::server::conn::http1::Builder::new()
			.timer(hyper_util::rt::TokioTimer::new())
			.header_read_timeout(header_timeout)
			.serve_connection(hyper_util::rt::TokioIo::new(tcp), handler);
		let connection = graceful.watch(connection);
		tokio::spawn(async move {
			if let Err(e) = connection.await {
				tracing::debug!(%peer, "connection ended: {e}");
			}
		});
	}
	drop(listener);
	graceful.shutdown().await;
	Ok(())
}

async fn health(State(service): State<Arc<Service>>) -> Response {
	Json(serde_json::json!({ "status": "ok", "max_size": service.max_size })).into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
	(status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

// The error is the HTTP answer itself, built once on a refused request: boxing it would cost
// every handler an allocation to save stack on a path that ends the request.
#[allow(clippy::result_large_err)]
fn parse_hash(s: &str) -> Result<BlobHash, Response> {
	s.parse().map_err(|e| error(StatusCode::BAD_REQUEST, format!("{s}: {e}")))
}

fn store_error(e: StoreError) -> Response {
	match e {
		StoreError::HashMismatch { .. } => error(StatusCode::BAD_REQUEST, e.to_string()),
		StoreError::TooLarge { .. } => closing(error(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())),
		StoreError::Body(ref cause) if cause.kind() == io::ErrorKind::TimedOut => {
			closing(error(StatusCode::REQUEST_TIMEOUT, e.to_string()))
		},
		// The client went away or sent garbage; nothing was kept.
		StoreError::Body(_) => closing(error(StatusCode::BAD_REQUEST, e.to_string())),
		StoreError::Io(_) | StoreError::Object(_) => {
			tracing::error!("store failure: {e}");
			error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
		},
	}
}

/// The rest of the body is not read: the connection cannot carry another request, and a
/// client must not put it back in its pool.
fn closing(mut r: Response) -> Response {
	r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
	r
}

fn unauthorized(e: TokenError) -> Response {
	let mut r = closing(error(StatusCode::UNAUTHORIZED, e.to_string()));
	r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(SCHEME));
	r
}

fn refused(e: Refusal) -> Response {
	let status = match e {
		Refusal::Replayed => return unauthorized(TokenError::Replayed),
		Refusal::Full => StatusCode::SERVICE_UNAVAILABLE,
		Refusal::AccountRate { .. } | Refusal::Quota { .. } | Refusal::AddressRate => {
			StatusCode::TOO_MANY_REQUESTS
		},
	};
	let mut r = closing(error(status, e.to_string()));
	if let Some(s) = e.retry_after() {
		r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
	}
	r
}

async fn put_blob(
	State(service): State<Arc<Service>>,
	ConnectInfo(peer): ConnectInfo<SocketAddr>,
	Path(hash): Path<String>,
	headers: HeaderMap,
	body: Body,
) -> Response {
	let hash = match parse_hash(&hash) {
		Ok(h) => h,
		Err(r) => return closing(r),
	};
	receive(service, peer, Some(hash), &headers, body).await
}

async fn post_blob(
	State(service): State<Arc<Service>>,
	ConnectInfo(peer): ConnectInfo<SocketAddr>,
	headers: HeaderMap,
	body: Body,
) -> Response {
	receive(service, peer, None, &headers, body).await
}

/// Checks an upload's token against this upload and the limits; on success the upload is
/// admitted (nonce remembered, size charged) and the token returned.
#[allow(clippy::result_large_err)] // the error is the HTTP answer, as for parse_hash
fn admit(
	service: &Service,
	peer: SocketAddr,
	expected: Option<&BlobHash>,
	headers: &HeaderMap,
) -> Result<UploadToken, Response> {
	let now = unix_now();
	// Counted before anything costs: the signature check is the dearest part.
	service.ledger().request_from(peer.ip(), now).map_err(refused)?;
	let token: UploadToken = match headers.get(header::AUTHORIZATION) {
		None => return Err(unauthorized(TokenError::Missing)),
		Some(v) => v
			.to_str()
			.map_err(|_| TokenError::Malformed("not ASCII"))
			.and_then(str::parse)
			.map_err(unauthorized)?,
	};
	token.check_time(now).map_err(unauthorized)?;
	if token.size > service.max_size {
		return Err(store_error(StoreError::TooLarge { limit: service.max_size }));
	}
	// Refuse before reading a byte when the client says more is coming than allowed.
	let declared = headers
		.get(header::CONTENT_LENGTH)
		.and_then(|v| v.to_str().ok())
		.and_then(|v| v.parse::<u64>().ok());
	if declared.is_some_and(|n| n > service.max_size) {
		return Err(store_error(StoreError::TooLarge { limit: service.max_size }));
	}
	if declared.is_some_and(|n| n > token.size) {
		return Err(unauthorized(TokenError::Exceeded { size: token.size }));
	}
	token.verify(expected).map_err(unauthorized)?;
	service
		.ledger()
		.admit(token.account, token.nonce, token.time, token.size, now)
		.map_err(refused)?;
	Ok(token)
}

/// An admitted upload's charge: settled (the unsent part given back) when the upload ends,
/// however it ends (also when the connection drops and the request is abandoned).
struct Charge {
	service: Arc<Service>,
	account: [u8; 32],
	reserved: u64,
	sent: Arc<AtomicU64>,
}

impl Drop for Charge {
	fn drop(&mut self) {
		let sent = self.sent.load(Ordering::Relaxed);
		self.service.ledger().settle(self.account, self.reserved, sent);
	}
}

async fn receive(
	service: Arc<Service>,
	peer: SocketAddr,
	expected: Option<BlobHash>,
	headers: &HeaderMap,
	body: Body,
) -> Response {
	let token = match admit(&service, peer, expected.as_ref(), headers) {
		Ok(t) => t,
		Err(r) => {
			tracing::info!(%peer, expected = ?expected, "upload refused before its body");
			return r;
		},
	};
	let charge = Charge {
		service: service.clone(),
		account: token.account,
		reserved: token.size,
		sent: Arc::new(AtomicU64::new(0)),
	};
	let timeouts = service.timeouts;
	let deadline = tokio::time::Instant::now() + timeouts.total(token.size);
	let stream = body.into_data_stream().map_err(io::Error::other);
	let stream = paced(stream, timeouts.read, deadline, charge.sent.clone());
	// The store stops reading past the token's size (which is at most max_size).
	let result = service.store.put(expected, stream, token.size).await;
	drop(charge);
	let account = hex::encode(token.account);
	match result {
		Ok(stored) => {
			if stored.created {
				tracing::info!(hash = %stored.hash, size = stored.size, %account, "kept");
			}
			let status = if stored.created { StatusCode::CREATED } else { StatusCode::OK };
			(status, Json(stored)).into_response()
		},
		Err(StoreError::TooLarge { .. }) => {
			tracing::warn!(%account, "upload refused: longer than its token allows");
			unauthorized(TokenError::Exceeded { size: token.size })
		},
		Err(e) => {
			tracing::warn!(expected = ?expected, %account, "upload refused: {e}");
			store_error(e)
		},
	}
}

/// The body, cut off (with a `TimedOut` error) after `read` without a byte or at `deadline`;
/// the bytes that went by are counted into `sent`.
fn paced<S>(
	body: S,
	read: Duration,
	deadline: tokio::time::Instant,
	sent: Arc<AtomicU64>,
) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin
where
	S: Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static,
{
	Box::pin(futures::stream::unfold(Some(body), move |state| {
		let sent = sent.clone();
		async move {
			let mut body = state?;
			let idle = tokio::time::Instant::now() + read;
			let until = idle.min(deadline);
			match tokio::time::timeout_at(until, body.next()).await {
				Ok(Some(Ok(chunk))) => {
					sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
					Some((Ok(chunk), Some(body)))
				},
				Ok(Some(Err(e))) => Some((Err(e), None)),
				Ok(None) => None,
				Err(_) => {
					let why = if until == deadline {
						"the upload did not finish in the time its size allows"
					} else {
						"no bytes arrived for the read timeout"
					};
					Some((Err(io::Error::new(io::ErrorKind::TimedOut, why)), None))
				},
			}
		}
	}))
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
	fn cors_origins_are_origins_and_nothing_more() {
		let parse = |v: &[&str]| Cors::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
		assert_eq!(parse(&[]), Ok(Cors::None));
		assert_eq!(parse(&["*"]), Ok(Cors::Any));
		assert_eq!(
			parse(&["http://127.0.0.1:9980/", "https://coop.example"]),
			Ok(Cors::Origins(vec![
				HeaderValue::from_static("http://127.0.0.1:9980"),
				HeaderValue::from_static("https://coop.example"),
			]))
		);
		for bad in [
			&["http://127.0.0.1:9980/index.html"][..],
			&["http://127.0.0.1:9980?x=1"],
			&["ftp://files.example"],
			&["127.0.0.1:9980"],
			&["HTTP://Coop.Example"],
			&["*", "http://127.0.0.1:9980"],
		] {
			assert!(parse(bad).is_err(), "{bad:?}");
		}
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
