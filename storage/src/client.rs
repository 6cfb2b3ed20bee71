//! The client the wallet and the collective server use to reach a `datacoop-storage` service.
//!
//! Every request has deadlines ([`Deadlines`]: by default 10 s to connect, 30 s without a
//! byte, 30 s in all for small requests, and a total proportional to the size for uploads)
//! and follows no redirect: a storage service answers itself or not at all.

use std::{
	io,
	time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use reqwest::{header, StatusCode};

use crate::{
	hash::{BlobHash, Hasher},
	token::{UploadToken, Uploader},
};

/// What became of an upload: the service's answer to a PUT or POST (and what a store
/// returns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stored {
	pub hash: BlobHash,
	pub size: u64,
	/// `false`: the blob was already there (the upload was checked, then dropped).
	pub created: bool,
}

/// How long the client waits. The defaults are what the wallet and the collective server use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
	/// To open the connection (TCP and TLS). Default 10 s.
	pub connect: Duration,
	/// Without a byte from the service, once connected (also while a blob streams in).
	/// Default 30 s.
	pub read: Duration,
	/// The whole of a small request (health, HEAD, a range read). Default 30 s.
	pub request: Duration,
	/// An upload may take `max(upload_floor, size / upload_min_rate)` in all. Defaults 120 s
	/// and 32 KiB/s (a 1 GiB upload may take 9 h 6 min).
	pub upload_floor: Duration,
	pub upload_min_rate: u64,
}

impl Default for Deadlines {
	fn default() -> Self {
		Deadlines {
			connect: Duration::from_secs(10),
			read: Duration::from_secs(30),
			request: Duration::from_secs(30),
			upload_floor: Duration::from_secs(120),
			upload_min_rate: 32 << 10,
		}
	}
}

impl Deadlines {
	fn upload(&self, size: u64) -> Duration {
		Duration::from_secs(size / self.upload_min_rate.max(1)).max(self.upload_floor)
	}
}

/// What went wrong, with the storage URL (and the status or the deadline). The messages name
/// no option of the program calling: that program adds its own hint (which of its flags sets
/// the URL, which the deadlines).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
	#[error("storage at {base} is unreachable ({source}): is datacoop-storage running there?")]
	Unreachable { base: String, source: reqwest::Error },
	/// `deadline` says which deadline passed, e.g. `no connection within 10 s`.
	#[error("storage at {base} did not answer in time ({deadline}): {source}")]
	TimedOut { base: String, deadline: String, source: reqwest::Error },
	#[error("no randomness for an upload token's nonce: {0}")]
	NoRandomness(String),
	#[error("storage at {base} refused the request ({status}): {message}")]
	Refused { base: String, status: u16, message: String },
	#[error("storage at {base} has no blob {hash}")]
	NotFound { base: String, hash: BlobHash },
	#[error("storage at {base} kept the upload as {stored}, but what was sent hashes to {sent}: the upload was corrupted on the way; try again")]
	Corrupted { base: String, stored: BlobHash, sent: BlobHash },
	#[error("the blob {hash} from {base} does not hash to its name (got {actual}): the storage service is faulty")]
	BadBlob { base: String, hash: BlobHash, actual: BlobHash },
	#[error("the blob is larger than the {limit} bytes storage at {base} accepts")]
	TooLarge { base: String, limit: u64 },
	#[error("{0}: not a storage URL (http://HOST:PORT or https://…)")]
	BadUrl(String),
	#[error("{0}: not a blob URL (…/blobs/0x<64 hex digits>)")]
	BadBlobUrl(String),
	#[error("the transfer from or to storage at {base} broke off: {source}")]
	Transfer { base: String, source: io::Error },
	#[error("storage at {base} answered {status}: {message}")]
	Server { base: String, status: u16, message: String },
}

/// A storage service, by its base URL (`http://127.0.0.1:9900`).
#[derive(Clone, Debug)]
pub struct StorageClient {
	base: String,
	http: reqwest::Client,
	deadlines: Deadlines,
}

impl StorageClient {
	/// A client with the default [`Deadlines`].
	pub fn new(base: &str) -> Result<StorageClient, ClientError> {
		StorageClient::with_deadlines(base, Deadlines::default())
	}

	pub fn with_deadlines(base: &str, deadlines: Deadlines) -> Result<StorageClient, ClientError> {
		let url = url::Url::parse(base).map_err(|_| ClientError::BadUrl(base.into()))?;
		if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
			return Err(ClientError::BadUrl(base.into()));
		}
		let http = reqwest::Client::builder()
			.connect_timeout(deadlines.connect)
			.read_timeout(deadlines.read)
			.redirect(reqwest::redirect::Policy::none())
			.build()
			.map_err(|e| ClientError::Unreachable { base: base.into(), source: e })?;
		Ok(StorageClient { base: base.trim_end_matches('/').to_owned(), http, deadlines })
	}

	/// The service and blob a blob URL (as recorded on chain) names.
	pub fn for_blob_url(url: &str) -> Result<(StorageClient, BlobHash), ClientError> {
		StorageClient::for_blob_url_with(url, Deadlines::default())
	}

	/// [`StorageClient::for_blob_url`] with other deadlines.
	pub fn for_blob_url_with(
		url: &str,
		deadlines: Deadlines,
	) -> Result<(StorageClient, BlobHash), ClientError> {
		let (base, name) =
			url.rsplit_once("/blobs/").ok_or_else(|| ClientError::BadBlobUrl(url.into()))?;
		let hash = name.parse().map_err(|_| ClientError::BadBlobUrl(url.into()))?;
		Ok((StorageClient::with_deadlines(base, deadlines)?, hash))
	}

	pub fn deadlines(&self) -> Deadlines {
		self.deadlines
	}

	pub fn base(&self) -> &str {
		&self.base
	}

	/// Where the blob `hash` is served: the URL recorded on chain.
	pub fn blob_url(&self, hash: &BlobHash) -> String {
		format!("{}/blobs/{hash}", self.base)
	}

	/// A request that failed before its answer came (`total`: its deadline in all, if any).
	fn unreachable(&self, e: reqwest::Error, total: Option<Duration>) -> ClientError {
		if e.is_timeout() {
			let d = &self.deadlines;
			let deadline = match total {
				_ if e.is_connect() => format!("no connection within {}", secs(d.connect)),
				Some(t) => format!("no byte for {} or not done within {}", secs(d.read), secs(t)),
				None => format!("no byte for {}", secs(d.read)),
			};
			ClientError::TimedOut { base: self.base.clone(), deadline, source: e }
		} else {
			ClientError::Unreachable { base: self.base.clone(), source: e }
		}
	}

	/// A fresh upload token for at most `size` bytes (of `hash`, for a PUT).
	fn token(
		&self,
		uploader: &dyn Uploader,
		hash: Option<&BlobHash>,
		size: u64,
	) -> Result<String, ClientError> {
		let mut nonce = [0u8; 16];
		getrandom::getrandom(&mut nonce).map_err(|e| ClientError::NoRandomness(e.to_string()))?;
		let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
		Ok(UploadToken::sign(uploader, hash, size, now, nonce).header_value())
	}

	async fn fail(&self, response: reqwest::Response) -> ClientError {
		let status = response.status();
		let answer = capped(response, MAX_ANSWER).await.ok();
		let message = match answer
			.and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
		{
			Some(v) => v["error"].as_str().unwrap_or("(no message)").chars().take(500).collect(),
			None => status.canonical_reason().unwrap_or("").to_owned(),
		};
		let base = self.base.clone();
		if status.is_client_error() {
			ClientError::Refused { base, status: status.as_u16(), message }
		} else {
			ClientError::Server { base, status: status.as_u16(), message }
		}
	}

	/// Is the service there? Answers the largest blob it accepts.
	pub async fn health(&self) -> Result<u64, ClientError> {
		let r = self
			.http
			.get(format!("{}/health", self.base))
			.timeout(self.deadlines.request)
			.send()
			.await;
		let r = r.map_err(|e| self.unreachable(e, Some(self.deadlines.request)))?;
		if !r.status().is_success() {
			return Err(self.fail(r).await);
		}
		let v: serde_json::Value = capped(r, MAX_ANSWER)
			.await
			.map_err(|e| self.unreachable(e, Some(self.deadlines.request)))
			.map(|b| serde_json::from_slice(&b).unwrap_or_default())?;
		v["max_size"].as_u64().ok_or_else(|| ClientError::Server {
			base: self.base.clone(),
			status: 200,
			message: "no max_size in /health: is this a datacoop-storage service?".into(),
		})
	}

	/// A service refuses a too large upload as soon as it knows, without reading the rest,
	/// and the client may then see only a broken connection. Say why when that is why.
	async fn explain_break(&self, e: ClientError, sent: u64) -> ClientError {
		if let ClientError::Transfer { .. } = e {
			if let Ok(limit) = self.health().await {
				if sent > limit {
					return ClientError::TooLarge { base: self.base.clone(), limit };
				}
			}
		}
		e
	}

	/// The size of blob `hash`, or `None` if the service does not have it.
	pub async fn size(&self, hash: &BlobHash) -> Result<Option<u64>, ClientError> {
		let r = self
			.http
			.head(self.blob_url(hash))
			.timeout(self.deadlines.request)
			.send()
			.await
			.map_err(|e| self.unreachable(e, Some(self.deadlines.request)))?;
		match r.status() {
			StatusCode::OK => Ok(r
				.headers()
				.get(header::CONTENT_LENGTH)
				.and_then(|v| v.to_str().ok())
				.and_then(|v| v.parse().ok())),
			StatusCode::NOT_FOUND => Ok(None),
			_ => Err(self.fail(r).await),
		}
	}

	/// Uploads `len` bytes whose hash is known, as `uploader`: kept only if they hash to
	/// `hash`.
	pub async fn put<S>(
		&self,
		uploader: &dyn Uploader,
		hash: &BlobHash,
		body: S,
		len: u64,
	) -> Result<Stored, ClientError>
	where
		S: Stream<Item = io::Result<Bytes>> + Send + 'static,
	{
		let request = self
			.http
			.put(self.blob_url(hash))
			.header(header::AUTHORIZATION, self.token(uploader, Some(hash), len)?)
			.header(header::CONTENT_LENGTH, len)
			.timeout(self.deadlines.upload(len))
			.body(reqwest::Body::wrap_stream(body));
		match self.send_upload(request, len).await {
			Err(e) => Err(self.explain_break(e, len).await),
			ok => ok,
		}
	}

	/// Uploads `len` bytes whose hash is learnt only at the end (encrypting while uploading),
	/// as `uploader`. The hash is computed here too as the bytes go, and must match the one
	/// the service kept.
	pub async fn post<S>(
		&self,
		uploader: &dyn Uploader,
		body: S,
		len: u64,
	) -> Result<Stored, ClientError>
	where
		S: Stream<Item = io::Result<Bytes>> + Send + 'static,
	{
		let hasher = std::sync::Arc::new(std::sync::Mutex::new((Hasher::default(), 0u64)));
		let tap = hasher.clone();
		let body = body.inspect_ok(move |chunk| {
			let mut tap = tap.lock().expect("never poisoned");
			tap.0.update(chunk);
			tap.1 += chunk.len() as u64;
		});
		let request = self
			.http
			.post(format!("{}/blobs", self.base))
			.header(header::AUTHORIZATION, self.token(uploader, None, len)?)
			.header(header::CONTENT_LENGTH, len)
			.timeout(self.deadlines.upload(len))
			.body(reqwest::Body::wrap_stream(body));
		let result = self.send_upload(request, len).await;
		let (hasher, _) = std::mem::take(&mut *hasher.lock().expect("never poisoned"));
		let stored = match result {
			Ok(stored) => stored,
			Err(e) => return Err(self.explain_break(e, len).await),
		};
		let sent = hasher.finish();
		if sent != stored.hash {
			return Err(ClientError::Corrupted {
				base: self.base.clone(),
				stored: stored.hash,
				sent,
			});
		}
		Ok(stored)
	}

	/// Sends an upload of `len` bytes (whose deadline in all is `Deadlines::upload(len)`).
	async fn send_upload(
		&self,
		request: reqwest::RequestBuilder,
		len: u64,
	) -> Result<Stored, ClientError> {
		let response = request.send().await.map_err(|e| {
			if e.is_connect() || e.is_timeout() {
				self.unreachable(e, Some(self.deadlines.upload(len)))
			} else {
				ClientError::Transfer { base: self.base.clone(), source: io::Error::other(e) }
			}
		})?;
		if response.status().is_success() {
			let unreadable = |message: String| ClientError::Server {
				base: self.base.clone(),
				status: 200,
				message: format!("unreadable answer: {message}"),
			};
			let bytes =
				capped(response, MAX_ANSWER).await.map_err(|e| unreadable(e.to_string()))?;
			serde_json::from_slice::<Stored>(&bytes).map_err(|e| unreadable(e.to_string()))
		} else {
			Err(self.fail(response).await)
		}
	}

	/// The whole blob as a stream. Its bytes are hashed as they come: the stream ends in an
	/// error, not in its last chunk, if they do not hash to `hash`.
	pub async fn get(
		&self,
		hash: &BlobHash,
	) -> Result<(u64, impl Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static), ClientError>
	{
		let response = self
			.http
			.get(self.blob_url(hash))
			.send()
			.await
			.map_err(|e| self.unreachable(e, None))?;
		match response.status() {
			StatusCode::OK => {},
			StatusCode::NOT_FOUND => {
				return Err(ClientError::NotFound { base: self.base.clone(), hash: *hash })
			},
			_ => return Err(self.fail(response).await),
		}
		let size = response.content_length().unwrap_or(0);
		Ok((size, verified(response, self.base.clone(), *hash)))
	}

	/// Bytes `start..end` of the blob (not checked against the hash: a range cannot be).
	pub async fn get_range(
		&self,
		hash: &BlobHash,
		start: u64,
		end: u64,
	) -> Result<Bytes, ClientError> {
		if end <= start {
			return Ok(Bytes::new());
		}
		let response = self
			.http
			.get(self.blob_url(hash))
			.header(header::RANGE, format!("bytes={start}-{}", end - 1))
			.timeout(self.deadlines.request)
			.send()
			.await
			.map_err(|e| self.unreachable(e, Some(self.deadlines.request)))?;
		match response.status() {
			StatusCode::PARTIAL_CONTENT | StatusCode::OK => {},
			StatusCode::NOT_FOUND => {
				return Err(ClientError::NotFound { base: self.base.clone(), hash: *hash })
			},
			_ => return Err(self.fail(response).await),
		}
		let whole = response.status() == StatusCode::OK;
		// At most what was asked for (from the start, if the range was ignored).
		let wanted = if whole { end } else { end - start };
		let wanted = usize::try_from(wanted).unwrap_or(usize::MAX);
		let bytes = capped(response, wanted).await.map_err(|e| ClientError::Transfer {
			base: self.base.clone(),
			source: io::Error::other(e),
		})?;
		// A server that ignores Range sends everything: cut our part out.
		Ok(if whole {
			let s = (start as usize).min(bytes.len());
			let e = (end as usize).min(bytes.len());
			bytes.slice(s..e)
		} else {
			bytes
		})
	}
}

/// A duration as error messages show it: `30 s`, `1.5 s`.
fn secs(d: Duration) -> String {
	if d.subsec_nanos() == 0 {
		format!("{} s", d.as_secs())
	} else {
		format!("{} s", d.as_secs_f64())
	}
}

/// The largest answer read that is not a blob (JSON answers, error messages).
const MAX_ANSWER: usize = 64 << 10;

/// The first `limit` bytes of the response's body (the rest is not read).
async fn capped(mut response: reqwest::Response, limit: usize) -> Result<Bytes, reqwest::Error> {
	let mut all = bytes::BytesMut::new();
	while all.len() < limit {
		match response.chunk().await? {
			Some(chunk) => {
				let room = limit - all.len();
				all.extend_from_slice(&chunk[..chunk.len().min(room)]);
			},
			None => break,
		}
	}
	Ok(all.freeze())
}

/// The response's bytes, hashed as they go; an error instead of the end if the hash is wrong.
fn verified(
	response: reqwest::Response,
	base: String,
	hash: BlobHash,
) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static {
	let mut hasher = Some(Hasher::default());
	let body = response.bytes_stream().map_err(io::Error::other);
	let end = futures::stream::once(async { None });
	Box::pin(body.map(Some).chain(end).filter_map(move |item| {
		let out = match item {
			Some(Ok(chunk)) => {
				if let Some(h) = hasher.as_mut() {
					h.update(&chunk);
				}
				Some(Ok(chunk))
			},
			Some(Err(e)) => Some(Err(e)),
			None => {
				let actual = hasher.take().unwrap_or_default().finish();
				(actual != hash).then(|| {
					Err(io::Error::other(ClientError::BadBlob { base: base.clone(), hash, actual }))
				})
			},
		};
		futures::future::ready(out)
	}))
}

/// Turns a blocking reader (a file, an encrypting reader) into a stream of chunks, read on
/// tokio's blocking threads, at most a few chunks ahead of the consumer.
pub fn reader_stream<R>(
	mut reader: R,
	chunk: usize,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static
where
	R: io::Read + Send + 'static,
{
	let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
	tokio::task::spawn_blocking(move || loop {
		let mut buf = vec![0u8; chunk];
		let mut filled = 0;
		let result = loop {
			match reader.read(&mut buf[filled..]) {
				Ok(0) => break Ok(filled),
				Ok(n) => {
					filled += n;
					if filled == buf.len() {
						break Ok(filled);
					}
				},
				Err(e) if e.kind() == io::ErrorKind::Interrupted => {},
				Err(e) => break Err(e),
			}
		};
		match result {
			Ok(0) => return,
			Ok(n) => {
				buf.truncate(n);
				if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
					return; // the consumer is gone
				}
				if n < chunk {
					return;
				}
			},
			Err(e) => {
				let _ = tx.blocking_send(Err(e));
				return;
			},
		}
	});
	futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}
