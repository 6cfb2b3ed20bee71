//! `POST /v1/daos/{id}/export`: a `Full` grantee's export of the DAO's accepted
//! contributions, each decrypted here and encrypted again to the grantee's X25519 key.
//!
//! Body `{"since": ID | null, "recipient": "age1…"}`; the request is signed as
//! `Operation::Export { since, recipient }` (see `access`). The answer is a tar stream
//! (`application/x-tar`, ustar): per contribution, in acceptance order, `contribution-<id>.age`
//! (an age file to the recipient: the contribution's data after the contributor statement,
//! byte for byte what the contributor gave) and `contribution-<id>.receipt`; at the end
//! `end.receipt`. A receipt is the SCALE encoding of an [`ExportStatement`] and the
//! attestation key's signature over [`export_payload`]. A stream that stops without
//! `end.receipt` was cut short (storage failed, the client left, the grant ended).
//!
//! Served: the contributions accepted at the finalized block the grant was read at (header
//! `Datacoop-Finalized`), after `since` in acceptance order; `Datacoop-Contributions` says
//! how many. Memory is constant whatever the DAO's size: one blob at a time flows from storage
//! through a decrypting and an encrypting reader (each about ten 64 KiB chunks per core) into
//! a bounded channel to the client. While a long export runs, the grant is read again at the
//! finalized block every [`RECHECK`]: a grant revoked or expired meanwhile ends the stream.

use std::{
	io::{self, BufRead, BufReader, Read, Write},
	sync::Arc,
	time::{Duration, Instant},
};

use axum::{
	body::Body,
	extract::{rejection::JsonRejection, Path, State},
	http::{header, HeaderMap, HeaderValue, StatusCode},
	response::{IntoResponse, Response},
	Json,
};
use bytes::Bytes;
use codec::Encode;
use datacoop_client::{AccountId32, Status};
use datacoop_envelope::{decrypting_reader, Parallelism, Recipient};
use datacoop_primitives::{
	access::{export_payload, AccessRecord, ExportStatement, Operation, Released},
	contribution::STATEMENT_LINE_LEN,
	governance::Scope,
};
use datacoop_storage::BlobHash;
use futures::StreamExt;
use serde::Deserialize;
use sp_core::crypto::Pair as _;
use tokio::sync::{mpsc, OwnedSemaphorePermit};

use super::{
	access::{node_timeout, now, Authorized},
	ApiError, App, BoundKeySet,
};
use crate::{
	access_db::CatalogEntry,
	anonymize::{anonymize, PseudonymKey},
	reseal::{append_bytes, reseal, seal_bytes, Resealed},
	Format, RecordLimits,
};
use zeroize::Zeroizing;

/// How often a running export reads the grant again.
pub const RECHECK: Duration = Duration::from_secs(30);
/// Bytes handed to the client at a time, and chunks in flight: the stream's buffer.
const SEND_CHUNK: usize = 256 * 1024;
const IN_FLIGHT: usize = 4;
/// How long a client may leave the stream's buffer full before it is cut.
pub const CLIENT_DEADLINE: Duration = Duration::from_secs(60);
/// Catalog entries read at a time.
const PAGE: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExportBody {
	since: Option<u64>,
	recipient: String,
}

pub(super) async fn post_export(
	State(app): State<Arc<App>>,
	Path(dao_id): Path<u32>,
	headers: HeaderMap,
	body: Result<Json<ExportBody>, JsonRejection>,
) -> Response {
	match app.clone().export(dao_id, &headers, body).await {
		Ok(response) => response,
		Err(e) => {
			app.refused(dao_id, &headers, &e);
			e.into_response()
		},
	}
}

fn bad_request(message: impl Into<String>) -> ApiError {
	ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

impl App {
	async fn export(
		self: Arc<App>,
		dao_id: u32,
		headers: &HeaderMap,
		body: Result<Json<ExportBody>, JsonRejection>,
	) -> Result<Response, ApiError> {
		let Json(body) = body.map_err(|e| {
			bad_request(format!(
				"expected {{\"since\": ID or null, \"recipient\": \"age1…\"}}: {e}"
			))
		})?;
		let recipient: Recipient = body
			.recipient
			.parse()
			.map_err(|_| bad_request("the recipient is not an age X25519 recipient (age1…)"))?;
		let operation = Operation::Export { since: body.since, recipient: recipient.to_bytes() };
		let authorized = self.authorize(dao_id, headers, operation).await?;
		authorized.not_replayed()?;
		let running = Running::begin(&self, authorized.request.account).ok_or_else(|| {
			ApiError::new(
				StatusCode::TOO_MANY_REQUESTS,
				"export_running",
				"an export for this account is running; wait for it to end",
			)
		})?;
		let permit = self.exports.clone().try_acquire_owned().map_err(|_| {
			ApiError::new(
				StatusCode::SERVICE_UNAVAILABLE,
				"busy",
				"as many exports as this server runs at once are running; try again",
			)
		})?;
		self.catalogue(&authorized).await?;
		let access = &authorized.key_set.access;
		let after = match body.since {
			None => None,
			Some(id) => Some(
				access.position(id).map_err(|e| ApiError::internal("access_db", e))?.ok_or_else(
					|| {
						bad_request(format!(
							"contribution #{id} is not an accepted contribution of DAO #{dao_id}"
						))
					},
				)?,
			),
		};
		let finalized = authorized.at.number();
		let planned =
			access.count_after(after, finalized).map_err(|e| ApiError::internal("access_db", e))?;
		let grant = authorized.grant.clone().expect("an export is authorized with its grant");
		self.admit(
			&authorized,
			Some(Released::Export { scope: grant.scope, since: body.since, finalized, planned }),
		)?;
		tracing::info!(dao = dao_id, grant = grant.id, planned, finalized, "export begins");
		self.metrics.outcome("export");

		let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT);
		let job = Job {
			app: self.clone(),
			key_set: authorized.key_set.clone(),
			recipient,
			genesis: authorized.genesis,
			dao_id,
			grant_id: grant.id,
			scope: grant.scope,
			account: authorized.request.account,
			nonce: authorized.request.nonce,
			finalized,
			after,
			handle: tokio::runtime::Handle::current(),
			_permit: permit,
			_running: running,
		};
		tokio::task::spawn_blocking(move || job.run(tx));
		let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
			rx.recv().await.map(|chunk| (chunk, rx))
		}));
		let mut response = Response::new(body);
		let headers = response.headers_mut();
		headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-tar"));
		let scope = if grant.scope == Scope::Full { "full" } else { "anonymized" };
		headers.insert("datacoop-scope", HeaderValue::from_static(scope));
		for (name, value) in [
			("datacoop-finalized", u64::from(finalized)),
			("datacoop-contributions", planned),
			("datacoop-grant", grant.id),
		] {
			headers.insert(name, HeaderValue::from(value));
		}
		Ok(response)
	}

	/// Adds the DAO's contributions accepted at the grant's block and not yet in the catalog:
	/// the chain lists the accepted ones by fingerprint, and each new one is read once.
	pub(super) async fn catalogue(&self, authorized: &Authorized) -> Result<(), ApiError> {
		let (at, dao_id) = (&authorized.at, authorized.request.dao_id);
		let access = &authorized.key_set.access;
		// Listing is one paged walk of the DAO's keys: a DAO with a million contributions
		// takes longer than one read's deadline, so it gets a minute.
		let ids = tokio::time::timeout(Duration::from_secs(60), at.accepted_contributions(dao_id))
			.await
			.map_err(|_| node_timeout())??;
		let mut new = Vec::new();
		for id in ids {
			if access.catalogued(id).map_err(|e| ApiError::internal("access_db", e))? {
				continue;
			}
			let Some(c) = self.within(at.contribution(id)).await? else { continue };
			let Status::Accepted { at: accepted_at, .. } = c.status else { continue };
			if c.dao_id != dao_id {
				continue;
			}
			new.push(CatalogEntry {
				id,
				accepted_at,
				ciphertext_hash: c.ciphertext_hash.0,
				ciphertext_size: c.ciphertext_size,
				url: c.url,
				contributor: c.contributor.0,
			});
			if new.len() == 1024 {
				access.catalogue(&new).map_err(|e| ApiError::internal("access_db", e))?;
				new.clear();
			}
		}
		access.catalogue(&new).map_err(|e| ApiError::internal("access_db", e))
	}

	/// Whether `account` still holds its export grant at the finalized block now.
	async fn still_granted(&self, dao_id: u32, account: [u8; 32]) -> bool {
		let read = async {
			let at = self.chain().await.ok()?.at_finalized().await.ok()?;
			at.live_grant(dao_id, &AccountId32::from(account)).await.ok()
		};
		// A node that cannot say keeps the export going: the grant held when it began.
		!matches!(tokio::time::timeout(super::access::NODE_DEADLINE, read).await, Ok(Some(None)))
	}
}

/// One export, run on a blocking thread.
struct Job {
	app: Arc<App>,
	key_set: Arc<BoundKeySet>,
	recipient: Recipient,
	genesis: [u8; 32],
	dao_id: u32,
	grant_id: u64,
	/// Full (the contributions) or Anonymized (copies of their records).
	scope: Scope,
	account: [u8; 32],
	nonce: [u8; 16],
	finalized: u32,
	after: Option<(u32, u64)>,
	handle: tokio::runtime::Handle,
	_permit: OwnedSemaphorePermit,
	_running: Running,
}

/// An account's running export (or query): while it lives, the account cannot start another.
pub(super) struct Running {
	app: Arc<App>,
	account: [u8; 32],
	query: bool,
}

impl Running {
	fn begin(app: &Arc<App>, account: [u8; 32]) -> Option<Running> {
		Running::of(app, account, false)
	}

	/// The account's running query: one at a time, as exports.
	pub(super) fn query(app: &Arc<App>, account: [u8; 32]) -> Option<Running> {
		Running::of(app, account, true)
	}

	fn of(app: &Arc<App>, account: [u8; 32], query: bool) -> Option<Running> {
		let mut running = app.running(query).lock().unwrap_or_else(|e| e.into_inner());
		running.insert(account).then(|| Running { app: app.clone(), account, query })
	}
}

impl App {
	fn running(&self, query: bool) -> &std::sync::Mutex<std::collections::HashSet<[u8; 32]>> {
		if query {
			&self.querying
		} else {
			&self.exporting
		}
	}
}

impl Drop for Running {
	fn drop(&mut self) {
		let set = self.app.running(self.query);
		set.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.account);
	}
}

/// Contribution `entry`'s blob from storage, as the policy allows and within its deadlines,
/// read as it arrives (checked against its hash by the storage client). For a blocking
/// thread: `handle` runs the requests.
pub(super) fn blob(
	app: &App,
	handle: &tokio::runtime::Handle,
	entry: &CatalogEntry,
) -> io::Result<(u64, impl BufRead)> {
	let hash = BlobHash(entry.ciphertext_hash);
	let source = app
		.policy
		.source(&entry.url, &hash)
		.map_err(|e| io::Error::other(format!("contribution #{}: {e}", entry.id)))?;
	let deadlines = app.policy.deadlines();
	let (size, stream) = handle
		.block_on(async {
			tokio::time::timeout(deadlines.connect + deadlines.read, source.client.get(&hash)).await
		})
		.map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "storage did not answer in time"))?
		.map_err(io::Error::other)?;
	if size != entry.ciphertext_size {
		return Err(io::Error::new(
			io::ErrorKind::InvalidData,
			format!("storage holds contribution #{} with another size", entry.id),
		));
	}
	// Each chunk within the read deadline: a stalled storage ends the export, it does not
	// hold its thread for good.
	let stream = Box::pin(futures::stream::unfold(stream, move |mut s| async move {
		match tokio::time::timeout(deadlines.read, s.next()).await {
			Ok(Some(chunk)) => Some((chunk, s)),
			Ok(None) => None,
			Err(_) => Some((Err(io::Error::new(io::ErrorKind::TimedOut, "storage stalled")), s)),
		}
	}));
	let blob = tokio_util::io::SyncIoBridge::new_with_handle(
		tokio_util::io::StreamReader::new(stream),
		handle.clone(),
	);
	Ok((size, BufReader::with_capacity(SEND_CHUNK, blob)))
}

/// How far an export went.
#[derive(Default)]
struct Progress {
	count: u64,
	last: Option<u64>,
}

impl Job {
	fn run(self, tx: mpsc::Sender<io::Result<Bytes>>) {
		let mut sink = ChannelWriter {
			tx,
			handle: self.handle.clone(),
			buffer: Vec::with_capacity(SEND_CHUNK),
			sent: 0,
		};
		let mut progress = Progress::default();
		let result = self.stream(&mut sink, &mut progress);
		let complete = result.is_ok();
		if let Err(e) = &result {
			tracing::warn!(
				dao = self.dao_id,
				grant = self.grant_id,
				sent = progress.count,
				"export cut short: {e}"
			);
			// Tells the client's HTTP stack the body broke, rather than ending it cleanly.
			let _ = sink.tx.try_send(Err(io::Error::other("the export was cut short")));
		}
		let record = AccessRecord {
			seq: 0,
			time: now(),
			block: self.finalized,
			account: self.account,
			grant_id: self.grant_id,
			request_nonce: self.nonce,
			released: Released::ExportDone {
				request_nonce: self.nonce,
				count: progress.count,
				last: progress.last,
				bytes: sink.sent,
				complete,
			},
		};
		if let Err(e) = self.key_set.access.log(record) {
			tracing::error!(dao = self.dao_id, "logging an export's end: {e}");
		}
		tracing::info!(
			dao = self.dao_id,
			grant = self.grant_id,
			count = progress.count,
			bytes = sink.sent,
			complete,
			"export ends"
		);
	}

	fn stream(&self, sink: &mut ChannelWriter, progress: &mut Progress) -> io::Result<()> {
		let mut tar = tar::Builder::new(sink);
		// Anonymized copies: pseudonyms keyed for this grant alone.
		let key = (self.scope == Scope::Anonymized).then(|| {
			PseudonymKey::for_grant(&self.key_set.pseudonym_root, self.dao_id, self.grant_id)
		});
		let mut cursor = self.after;
		let mut checked = Instant::now();
		loop {
			let page = self
				.key_set
				.access
				.entries_after(cursor, self.finalized, PAGE)
				.map_err(io::Error::other)?;
			let Some(last) = page.last() else { break };
			cursor = Some((last.accepted_at, last.id));
			for entry in page {
				if checked.elapsed() >= RECHECK {
					if !self.handle.block_on(self.app.still_granted(self.dao_id, self.account)) {
						return Err(io::Error::other("the grant was revoked or expired"));
					}
					checked = Instant::now();
				}
				match &key {
					None => self.contribution(&mut tar, &entry)?,
					Some(key) => {
						self.part(&mut tar, &entry, progress.count, key)?;
					},
				}
				progress.count += 1;
				progress.last = Some(entry.id);
			}
		}
		let end = ExportStatement::End {
			dao_id: self.dao_id,
			grant_id: self.grant_id,
			request_nonce: self.nonce,
			finalized: self.finalized,
			count: progress.count,
			last: progress.last,
		};
		self.receipt(&mut tar, "end.receipt", &end)?;
		let sink = tar.into_inner()?;
		sink.flush()
	}

	fn blob(&self, entry: &CatalogEntry) -> io::Result<(u64, impl BufRead)> {
		blob(&self.app, &self.handle, entry)
	}

	/// Appends contribution `entry` (its age file, then its receipt) to the stream.
	fn contribution(
		&self,
		tar: &mut tar::Builder<&mut ChannelWriter>,
		entry: &CatalogEntry,
	) -> io::Result<()> {
		let (size, blob) = self.blob(entry)?;
		let name = format!("contribution-{}.age", entry.id);
		let Resealed { age_len, age_header_hash } =
			reseal(tar, &name, &self.key_set.identity, blob, size, &self.recipient)
				.map_err(|e| io::Error::other(format!("contribution #{}: {e}", entry.id)))?;
		let receipt = ExportStatement::Contribution {
			dao_id: self.dao_id,
			grant_id: self.grant_id,
			request_nonce: self.nonce,
			contribution_id: entry.id,
			ciphertext_hash: entry.ciphertext_hash,
			age_header_hash,
			age_len,
		};
		self.receipt(tar, &format!("contribution-{}.receipt", entry.id), &receipt)
	}

	/// Appends the anonymized copy of contribution `entry`'s records as part `part` (its age
	/// file, then its receipt); answers how many records it holds. The contribution's
	/// plaintext is held in memory (at most `--max-size`, zeroed when dropped) while its
	/// records are copied.
	fn part(
		&self,
		tar: &mut tar::Builder<&mut ChannelWriter>,
		entry: &CatalogEntry,
		part: u64,
		key: &PseudonymKey,
	) -> io::Result<u64> {
		let failed = |e: &dyn std::fmt::Display| {
			io::Error::other(format!("contribution #{}: {e}", entry.id))
		};
		if entry.ciphertext_size > self.app.limits.max_ciphertext {
			return Err(failed(&"larger than --max-size"));
		}
		let (size, blob) = self.blob(entry)?;
		let mut plain = Zeroizing::new(Vec::with_capacity(size as usize));
		decrypting_reader(
			std::slice::from_ref(&self.key_set.identity),
			blob,
			&Parallelism::AllCores,
		)
		.map_err(|e| failed(&e))?
		.read_to_end(&mut plain)?;
		let data = plain.get(STATEMENT_LINE_LEN..).ok_or_else(|| failed(&"no statement"))?;
		let rules = &self.key_set.rules;
		let fields = rules.fields.as_ref().ok_or_else(|| failed(&"the rules release no field"))?;
		let limits = RecordLimits {
			max_records: rules.max_records,
			max_record_bytes: rules.max_record_bytes,
		};
		let mut copy = Zeroizing::new(Vec::new());
		let records = anonymize(data, &rules.format, fields, key, limits, &mut *copy)
			.map_err(|e| failed(&e))?;
		let extension = match rules.format {
			Format::Csv { .. } => "csv",
			_ => "jsonl",
		};
		let Resealed { age_len, age_header_hash } =
			seal_bytes(tar, &format!("part-{part}.{extension}.age"), &copy, &self.recipient)?;
		let receipt = ExportStatement::Part {
			dao_id: self.dao_id,
			grant_id: self.grant_id,
			request_nonce: self.nonce,
			part,
			records,
			age_header_hash,
			age_len,
		};
		self.receipt(tar, &format!("part-{part}.receipt"), &receipt)?;
		Ok(records)
	}

	fn receipt(
		&self,
		tar: &mut tar::Builder<&mut ChannelWriter>,
		name: &str,
		statement: &ExportStatement,
	) -> io::Result<()> {
		let signature = self.key_set.pair.sign(&export_payload(statement, &self.genesis));
		let bytes = (statement, signature.0).encode();
		append_bytes(tar, name, &bytes)
	}
}

/// Hands what is written to the response body in chunks, through a bounded channel: a
/// client that reads slowly slows the export down instead of filling memory.
struct ChannelWriter {
	tx: mpsc::Sender<io::Result<Bytes>>,
	/// To wait for room in the channel with a deadline.
	handle: tokio::runtime::Handle,
	buffer: Vec<u8>,
	/// Bytes handed to the client so far.
	sent: u64,
}

impl ChannelWriter {
	fn send(&mut self) -> io::Result<()> {
		if self.buffer.is_empty() {
			return Ok(());
		}
		let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(SEND_CHUNK));
		let len = chunk.len() as u64;
		// A client that takes nothing for a minute is cut: it would hold an export slot.
		let (tx, chunk) = (&self.tx, Ok(Bytes::from(chunk)));
		match self.handle.block_on(tokio::time::timeout(CLIENT_DEADLINE, tx.send(chunk))) {
			Ok(Ok(())) => {},
			Ok(Err(_)) => return Err(io::Error::new(io::ErrorKind::BrokenPipe, "the client left")),
			Err(_) => {
				return Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading"))
			},
		}
		self.sent += len;
		Ok(())
	}
}

impl Write for ChannelWriter {
	fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
		let room = SEND_CHUNK - self.buffer.len();
		let n = buf.len().min(room);
		self.buffer.extend_from_slice(&buf[..n]);
		if self.buffer.len() == SEND_CHUNK {
			self.send()?;
		}
		Ok(n)
	}

	fn flush(&mut self) -> io::Result<()> {
		self.send()
	}
}
