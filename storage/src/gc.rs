//! Garbage collection: removes blobs that no contribution on chain references, once they are
//! older than a grace period (`datacoop-storage gc`).
//!
//! For each blob last uploaded before `now - grace`, the chain is asked, through a node's
//! JSON-RPC, `ContributionsApi_references_ciphertext(hash)` (true if any DAO has a
//! contribution with that ciphertext hash, whatever its status). `false`: the blob is removed
//! (if it was not uploaded again meanwhile). `true`: kept. Any doubt (the node unreachable,
//! slow, syncing, on another chain than `--genesis`, answering something else than a SCALE
//! bool): kept. Nothing is ever removed on doubt.
//!
//! The grace period is what lets a contributor upload first and submit afterwards: keep it
//! well above the time between the two (the wallet submits within seconds; a browser user
//! may take longer).

use std::time::{Duration, SystemTime};

use futures::TryStreamExt;
use serde_json::{json, Value};

use crate::{
	hash::BlobHash,
	store::{BlobInfo, Store, StoreError},
};

#[derive(Debug, thiserror::Error)]
pub enum GcError {
	#[error("{0}: not a node RPC URL (http://HOST:PORT, https://, ws:// or wss://)")]
	BadUrl(String),
	#[error("the node at {url} is unreachable or too slow: {source}")]
	Unreachable { url: String, source: reqwest::Error },
	#[error("the node at {url} answered {method} with an error: {message}")]
	Rpc { url: String, method: String, message: String },
	#[error("the node at {url} answered {method} with something unexpected: {answer}")]
	Unexpected { url: String, method: String, answer: String },
	#[error(
		"the node at {url} is still syncing: its state is not yet the chain's; nothing removed"
	)]
	Syncing { url: String },
	#[error("the node at {url} follows the chain with genesis {actual}, not {expected}; nothing removed")]
	WrongChain { url: String, expected: String, actual: String },
	#[error("listing the store: {0}")]
	Store(#[from] StoreError),
}

/// Deadlines of the RPC requests the collector makes.
#[derive(Clone, Copy, Debug)]
pub struct RpcDeadlines {
	pub connect: Duration,
	/// The whole of each request.
	pub request: Duration,
}

impl Default for RpcDeadlines {
	fn default() -> Self {
		RpcDeadlines { connect: Duration::from_secs(10), request: Duration::from_secs(30) }
	}
}

/// The largest RPC answer read (the answers are a few dozen bytes).
const MAX_ANSWER: usize = 64 << 10;

/// A node's JSON-RPC over HTTP.
pub struct Chain {
	url: String,
	http: reqwest::Client,
	deadlines: RpcDeadlines,
}

impl Chain {
	/// `node`: the node's RPC endpoint; `ws://` and `wss://` are read as the `http://` and
	/// `https://` the same port serves.
	pub fn new(node: &str, deadlines: RpcDeadlines) -> Result<Chain, GcError> {
		let mut url = url::Url::parse(node).map_err(|_| GcError::BadUrl(node.into()))?;
		let scheme = match url.scheme() {
			"http" | "ws" => "http",
			"https" | "wss" => "https",
			_ => return Err(GcError::BadUrl(node.into())),
		};
		if url.host().is_none() || url.set_scheme(scheme).is_err() {
			return Err(GcError::BadUrl(node.into()));
		}
		let http = reqwest::Client::builder()
			.connect_timeout(deadlines.connect)
			.read_timeout(deadlines.request)
			.redirect(reqwest::redirect::Policy::none())
			.build()
			.map_err(|e| GcError::Unreachable { url: node.into(), source: e })?;
		Ok(Chain { url: url.to_string(), http, deadlines })
	}

	pub fn url(&self) -> &str {
		&self.url
	}

	async fn call(&self, method: &str, params: Value) -> Result<Value, GcError> {
		let unreachable = |e| GcError::Unreachable { url: self.url.clone(), source: e };
		let unexpected = |answer: String| GcError::Unexpected {
			url: self.url.clone(),
			method: method.into(),
			answer,
		};
		let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
		let mut response = self
			.http
			.post(&self.url)
			.timeout(self.deadlines.request)
			.json(&body)
			.send()
			.await
			.map_err(unreachable)?;
		let mut bytes = Vec::new();
		while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
			if bytes.len() + chunk.len() > MAX_ANSWER {
				return Err(unexpected(format!("an answer longer than {MAX_ANSWER} bytes")));
			}
			bytes.extend_from_slice(&chunk);
		}
		let status = response.status();
		let answer: Value = serde_json::from_slice(&bytes)
			.map_err(|_| unexpected(format!("HTTP {status}, not JSON-RPC")))?;
		if let Some(error) = answer.get("error") {
			let message = error.get("message").and_then(Value::as_str).unwrap_or("(no message)");
			return Err(GcError::Rpc {
				url: self.url.clone(),
				method: method.into(),
				message: message.chars().take(200).collect(),
			});
		}
		answer.get("result").cloned().ok_or_else(|| unexpected("no result".into()))
	}

	/// Does any contribution on chain (best block) name `hash` as its ciphertext?
	pub async fn references(&self, hash: &BlobHash) -> Result<bool, GcError> {
		let method = "state_call";
		let result = self
			.call(method, json!(["ContributionsApi_references_ciphertext", hash.to_string()]))
			.await?;
		match result.as_str() {
			Some("0x01") => Ok(true),
			Some("0x00") => Ok(false),
			_ => Err(GcError::Unexpected {
				url: self.url.clone(),
				method: "ContributionsApi_references_ciphertext".into(),
				answer: result.to_string().chars().take(100).collect(),
			}),
		}
	}

	/// Refuses a node whose state cannot be trusted to say "not referenced": one still
	/// syncing, or (with `genesis`) one on another chain.
	pub async fn check(&self, genesis: Option<&str>) -> Result<(), GcError> {
		let health = self.call("system_health", json!([])).await?;
		match health.get("isSyncing").and_then(Value::as_bool) {
			Some(false) => {},
			Some(true) => return Err(GcError::Syncing { url: self.url.clone() }),
			None => {
				return Err(GcError::Unexpected {
					url: self.url.clone(),
					method: "system_health".into(),
					answer: health.to_string().chars().take(100).collect(),
				})
			},
		}
		if let Some(expected) = genesis {
			let actual = self.call("chain_getBlockHash", json!([0])).await?;
			let actual = actual.as_str().unwrap_or_default().to_owned();
			if !actual.eq_ignore_ascii_case(expected) {
				return Err(GcError::WrongChain {
					url: self.url.clone(),
					expected: expected.into(),
					actual,
				});
			}
		}
		// The runtime must have the API: a node that cannot answer would otherwise make
		// every blob an error (kept, but say so once, before the listing).
		self.references(&BlobHash([0; 32])).await?;
		Ok(())
	}
}

/// What one collection does.
#[derive(Clone, Copy, Debug)]
pub struct GcOptions {
	/// Blobs uploaded more recently than this are not considered.
	pub grace: Duration,
	/// Say what would be removed; remove nothing.
	pub dry_run: bool,
	/// Blobs checked at once.
	pub concurrency: usize,
}

/// What became of one blob.
#[derive(Debug)]
pub enum Outcome {
	/// Uploaded within the grace period.
	Young,
	/// A contribution on chain references it.
	Referenced,
	/// Unreferenced and old: removed (with `dry_run`, would be).
	Removed,
	/// Uploaded again between the listing and the removal.
	Renewed,
	/// Kept because something went wrong (the chain could not say, the store failed).
	Kept(String),
}

/// The counts of a collection.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GcReport {
	pub examined: u64,
	pub young: u64,
	pub referenced: u64,
	/// Removed, or with `dry_run` to be removed.
	pub removed: u64,
	pub removed_bytes: u64,
	pub renewed: u64,
	/// Kept on doubt.
	pub kept_on_error: u64,
}

/// Examines every blob of `store`; `each` hears of every blob's outcome as it is decided.
/// Stops (with what was done so far removed) if the store cannot be listed.
pub async fn collect(
	store: &Store,
	chain: &Chain,
	options: GcOptions,
	mut each: impl FnMut(&BlobInfo, &Outcome),
) -> Result<GcReport, GcError> {
	let cutoff = SystemTime::now().checked_sub(options.grace).unwrap_or(SystemTime::UNIX_EPOCH);
	let mut report = GcReport::default();
	let mut outcomes = store
		.list()
		.map_err(GcError::from)
		.map_ok(|blob| async move {
			Ok::<_, GcError>((blob, judge(store, chain, &blob, cutoff, options.dry_run).await))
		})
		.try_buffer_unordered(options.concurrency.max(1));
	while let Some((blob, outcome)) = outcomes.try_next().await? {
		report.examined += 1;
		match &outcome {
			Outcome::Young => report.young += 1,
			Outcome::Referenced => report.referenced += 1,
			Outcome::Removed => {
				report.removed += 1;
				report.removed_bytes += blob.size;
			},
			Outcome::Renewed => report.renewed += 1,
			Outcome::Kept(_) => report.kept_on_error += 1,
		}
		each(&blob, &outcome);
	}
	Ok(report)
}

async fn judge(
	store: &Store,
	chain: &Chain,
	blob: &BlobInfo,
	cutoff: SystemTime,
	dry_run: bool,
) -> Outcome {
	if blob.last_upload > cutoff {
		return Outcome::Young;
	}
	// The listing's time may be older than the last upload (S3 keeps that in a marker).
	match store.last_upload(&blob.hash).await {
		Ok(Some(t)) if t <= cutoff => {},
		Ok(_) => return Outcome::Renewed,
		Err(e) => return Outcome::Kept(e.to_string()),
	}
	match chain.references(&blob.hash).await {
		Ok(true) => return Outcome::Referenced,
		Ok(false) => {},
		Err(e) => return Outcome::Kept(e.to_string()),
	}
	if dry_run {
		return Outcome::Removed;
	}
	match store.remove_if_unused_since(&blob.hash, cutoff).await {
		Ok(true) => Outcome::Removed,
		Ok(false) => Outcome::Renewed,
		Err(e) => Outcome::Kept(e.to_string()),
	}
}
