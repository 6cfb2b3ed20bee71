//! The client of a DAO's collective server: where it is (the DAO's endpoint on chain), who
//! signs for it (the DAO's attestation signer), and how the wallet's requests are signed.
//!
//! Every request for a DAO's data carries `Authorization: DatacoopAccess
//! <account>:<time>:<nonce>:<signature>`, the account's sr25519 signature over
//! [`request_payload`] (see `datacoop_primitives::access`). The server rebuilds the request
//! from the URL, the body, that header and its own genesis hash, so a header signed for
//! another chain, DAO or operation does not verify; the nonce makes it good once.
//!
//! An aggregate query (`POST …/query`) signs its body: the header's operation names the
//! BLAKE2-256 hash of the exact bytes sent ([`query_request`] builds the two together).
//!
//! Requests have deadlines (10 s to connect, 60 s without a byte) and follow no redirect: the
//! endpoint the DAO registered answers itself or not at all.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Result};
use datacoop_auth::Signer;
use datacoop_envelope::Recipient;
use datacoop_primitives::access::{request_payload, AccessRequest, Operation, SCHEME};
use datacoop_storage::Hasher;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::de::DeserializeOwned;

use crate::{chain::At, commands::existing_dao};

/// To open the connection (TCP and TLS).
const CONNECT: Duration = Duration::from_secs(10);
/// Without a byte from the server, once connected (also while an export streams in).
const READ: Duration = Duration::from_secs(60);
/// The most of an error answer read: its JSON `{"error": "…"}` is short.
const MAX_ERROR: usize = 64 << 10;
/// The most of a JSON answer read (an access log page of 1000 records is about 250 KiB).
const MAX_ANSWER: usize = 16 << 20;

/// A DAO's collective server.
pub struct CollectiveClient {
	/// Its base URL, without a trailing '/'.
	endpoint: String,
	http: reqwest::Client,
	/// The sr25519 key the DAO registered for its server: what signs export receipts and the
	/// access log's head.
	pub attestation_signer: [u8; 32],
	pub dao_id: u32,
}

/// One page of a DAO's access log as the server answers it (hex, `0x…`); decoded and
/// checked by `access-log`.
#[derive(serde::Deserialize)]
pub struct LogPage {
	/// SCALE-encoded `AccessRecord`s, from the one asked for.
	pub records: Vec<String>,
	/// The log's hash before the first of them.
	pub previous: String,
	/// The SCALE-encoded `LogHead`, signed.
	pub head: String,
	/// The head's signature by the attestation signer.
	pub signature: String,
}

impl CollectiveClient {
	/// The collective server of DAO `dao_id` as the chain at `at` records it.
	pub async fn for_dao(at: &At, dao_id: u32) -> Result<CollectiveClient> {
		let dao = existing_dao(at, dao_id).await?;
		let endpoint = endpoint(&dao.collective.endpoint).map_err(|why| {
			anyhow!("DAO #{dao_id}'s collective server endpoint on chain is unusable: {why}")
		})?;
		let http = reqwest::Client::builder()
			.connect_timeout(CONNECT)
			.read_timeout(READ)
			.redirect(reqwest::redirect::Policy::none())
			.build()
			.map_err(|e| anyhow!("cannot make an HTTP client: {e}"))?;
		Ok(CollectiveClient {
			endpoint,
			http,
			attestation_signer: dao.collective.attestation_signer,
			dao_id,
		})
	}

	/// `{endpoint}/v1/daos/{dao}/{path}`.
	fn url(&self, path: &str) -> String {
		format!("{}/v1/daos/{}/{path}", self.endpoint, self.dao_id)
	}

	/// Asks for the DAO's contributions after `since`, encrypted to `recipient`, signed by
	/// `signer`. Returns the answer (a tar stream, still to be read) and the request's nonce,
	/// which every receipt in it must name.
	pub async fn export(
		&self,
		signer: &impl Signer,
		genesis: [u8; 32],
		since: Option<u64>,
		recipient: &Recipient,
	) -> Result<(reqwest::Response, [u8; 16])> {
		let operation = Operation::Export { since, recipient: recipient.to_bytes() };
		let (authorization, nonce) = authorization(signer, genesis, self.dao_id, operation)?;
		// The body says again what the header signs: the server checks one against the other.
		let body = serde_json::json!({ "since": since, "recipient": recipient.to_string() });
		let request =
			self.http.post(self.url("export")).header(AUTHORIZATION, authorization).json(&body);
		Ok((self.send(request).await?, nonce))
	}

	/// Records `from..from + limit` of the DAO's access log, with the signed head.
	pub async fn access_log(
		&self,
		signer: &impl Signer,
		genesis: [u8; 32],
		from: u64,
		limit: u32,
	) -> Result<(LogPage, [u8; 16])> {
		let operation = Operation::AccessLog { from, limit };
		let (authorization, nonce) = authorization(signer, genesis, self.dao_id, operation)?;
		let url = format!("{}?from={from}&limit={limit}", self.url("access-log"));
		let request = self.http.get(url).header(AUTHORIZATION, authorization);
		let response = self.send(request).await?;
		Ok((self.json(response).await?, nonce))
	}

	/// Sends the aggregate query `body` (JSON, sent as these exact bytes), signed by `signer`
	/// over its hash; the server's answer, read as `T`.
	pub async fn query<T: DeserializeOwned>(
		&self,
		signer: &impl Signer,
		genesis: [u8; 32],
		body: Vec<u8>,
	) -> Result<T> {
		let QueryRequest { body, authorization } =
			query_request(signer, genesis, self.dao_id, body)?;
		let request = self
			.http
			.post(self.url("query"))
			.header(CONTENT_TYPE, "application/json")
			.header(AUTHORIZATION, authorization)
			.body(body);
		let response = self.send(request).await?;
		self.json(response).await
	}

	/// A success's JSON answer, read as `T` (at most [`MAX_ANSWER`] bytes of it).
	async fn json<T: DeserializeOwned>(&self, response: reqwest::Response) -> Result<T> {
		let body = capped(response, MAX_ANSWER + 1).await.map_err(|e| self.unreachable(e))?;
		if body.len() > MAX_ANSWER {
			let endpoint = &self.endpoint;
			bail!("the collective server at {endpoint} answered more than {MAX_ANSWER} bytes");
		}
		serde_json::from_slice(&body).map_err(|e| {
			anyhow!("the collective server at {} answered nonsense: {e}", self.endpoint)
		})
	}

	/// Sends `request`; its answer if it is a success, else the server's refusal as an error.
	async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
		let response = request.send().await.map_err(|e| self.unreachable(e))?;
		if response.status().is_success() {
			Ok(response)
		} else {
			Err(refused(response).await)
		}
	}

	fn unreachable(&self, e: reqwest::Error) -> anyhow::Error {
		if e.is_timeout() {
			anyhow!(
				"the collective server at {} did not answer in time ({} s to connect, {} s \
				 without a byte): {e}",
				self.endpoint,
				CONNECT.as_secs(),
				READ.as_secs()
			)
		} else {
			anyhow!("cannot reach the collective server at {}: {e}", self.endpoint)
		}
	}
}

/// The base URL in a DAO's `collective.endpoint` (bytes on chain), without a trailing '/'.
/// The chain took it under its own URL rules; checked again here, since a wallet signs and
/// sends its requests there.
fn endpoint(bytes: &[u8]) -> Result<String, String> {
	if bytes.is_empty() {
		return Err("there is none".into());
	}
	let text = std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())?;
	// Local hosts allowed: on a development chain the server runs on this machine.
	datacoop_primitives::url::check_http_url(bytes, true)
		.map_err(|_| format!("{text:?} is not an http(s) URL"))?;
	let url = reqwest::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
	if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
		return Err(format!("{text:?} is not an http(s) URL"));
	}
	Ok(text.trim_end_matches('/').to_owned())
}

/// The `Authorization` header value of a request for `operation` on DAO `dao_id`'s data,
/// signed by `signer` now with a fresh nonce, and that nonce (the server's receipts name it).
pub fn authorization(
	signer: &impl Signer,
	genesis: [u8; 32],
	dao_id: u32,
	operation: Operation,
) -> Result<(String, [u8; 16])> {
	let mut nonce = [0u8; 16];
	getrandom::getrandom(&mut nonce).map_err(|e| anyhow!("no randomness for a nonce: {e}"))?;
	let time = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
	let request = AccessRequest {
		genesis_hash: genesis,
		dao_id,
		account: signer.account(),
		operation,
		time,
		nonce,
	};
	Ok((header_value(signer, &request), nonce))
}

/// An aggregate query's request, built before anything is sent: its body, the exact bytes to
/// send, and the `Authorization` header signed over their hash.
pub struct QueryRequest {
	pub body: Vec<u8>,
	/// Signs [`Operation::Query`] naming BLAKE2-256 of `body`.
	pub authorization: String,
}

/// The request of the aggregate query `body` on DAO `dao_id`'s data, signed by `signer` now:
/// the header signs [`Operation::Query`] with the hash of `body` as it will be sent, so the
/// body must go out as these bytes, untouched (no re-serializing).
pub fn query_request(
	signer: &impl Signer,
	genesis: [u8; 32],
	dao_id: u32,
	body: Vec<u8>,
) -> Result<QueryRequest> {
	let operation = Operation::Query { body_hash: body_hash(&body) };
	let (authorization, _) = authorization(signer, genesis, dao_id, operation)?;
	Ok(QueryRequest { body, authorization })
}

/// BLAKE2-256 of a request's body (as `sp_core::hashing::blake2_256`).
pub fn body_hash(body: &[u8]) -> [u8; 32] {
	let mut hasher = Hasher::default();
	hasher.update(body);
	hasher.finish().0
}

/// `DatacoopAccess <account>:<time>:<nonce>:<signature>` for `request`, signed by `signer`
/// (the account `request` names): lowercase hex without `0x`, the time in decimal.
fn header_value(signer: &impl Signer, request: &AccessRequest) -> String {
	let signature = signer.sign(&request_payload(request));
	format!(
		"{SCHEME} {}:{}:{}:{}",
		hex::encode(request.account),
		request.time,
		hex::encode(request.nonce),
		hex::encode(signature)
	)
}

/// A non-success answer as an error: its status and the server's `{"error": "…"}`.
async fn refused(response: reqwest::Response) -> anyhow::Error {
	let status = response.status();
	let body = capped(response, MAX_ERROR).await.unwrap_or_default();
	let message = serde_json::from_slice::<serde_json::Value>(&body)
		.ok()
		.and_then(|v| v["error"].as_str().map(str::to_owned))
		.map(|m| m.chars().filter(|c| !c.is_control()).take(500).collect::<String>())
		.unwrap_or_else(|| "(no message)".into());
	anyhow!("the collective server refused ({status}): {message}")
}

/// The first `limit` bytes of the response's body (the rest is not read).
async fn capped(mut response: reqwest::Response, limit: usize) -> reqwest::Result<Vec<u8>> {
	let mut all = Vec::new();
	while all.len() < limit {
		match response.chunk().await? {
			Some(chunk) => {
				let room = limit - all.len();
				all.extend_from_slice(&chunk[..chunk.len().min(room)]);
			},
			None => break,
		}
	}
	Ok(all)
}

#[cfg(test)]
mod tests {
	use datacoop_auth::{decimal, fixed_hex, header_fields};

	use super::*;
	use crate::keystore::Account;

	#[test]
	fn the_authorization_header_carries_a_signature_over_the_request() {
		let alice = Account::from_uri("alice", "//Alice").unwrap();
		let operation = Operation::Export { since: Some(3), recipient: [8; 32] };
		let (value, nonce) = authorization(&alice, [7; 32], 2, operation.clone()).unwrap();
		assert!(value.len() <= datacoop_auth::MAX_HEADER, "{value}");
		assert!(!value.contains("0x"), "{value}");
		let fields = header_fields(&value, SCHEME, 4, "usage").unwrap();
		assert_eq!(fields[0], hex::encode(alice.keypair.public_key().0));
		assert_eq!(fixed_hex::<16>(fields[2], "nonce").unwrap(), nonce);
		assert!(fields.iter().all(|f| !f.bytes().any(|b| b.is_ascii_uppercase())));
		let request = AccessRequest {
			genesis_hash: [7; 32],
			dao_id: 2,
			account: alice.account(),
			operation,
			time: decimal(fields[1], "time").unwrap(),
			nonce,
		};
		let signature = fixed_hex::<64>(fields[3], "signature").unwrap();
		datacoop_auth::verify(&request.account, &request_payload(&request), &signature).unwrap();
		// Signed for DAO #2: it does not pass for DAO #3, nor for another chain.
		for other in [
			AccessRequest { dao_id: 3, ..request.clone() },
			AccessRequest { genesis_hash: [6; 32], ..request.clone() },
		] {
			assert!(datacoop_auth::verify(&other.account, &request_payload(&other), &signature)
				.is_err());
		}
		let (_, another) = authorization(&alice, [7; 32], 2, request.operation).unwrap();
		assert_ne!(another, nonce, "a fresh nonce for each request");
	}

	#[test]
	fn the_endpoint_on_chain_must_be_an_http_url() {
		assert_eq!(endpoint(b"https://collective.example/").unwrap(), "https://collective.example");
		assert_eq!(endpoint(b"http://127.0.0.1:9800").unwrap(), "http://127.0.0.1:9800");
		assert_eq!(endpoint(b"https://c.example/base//").unwrap(), "https://c.example/base");
		for bad in [&b""[..], b"\xff", b"ftp://c.example", b"c.example", b"https://", b"http://a b"]
		{
			assert!(endpoint(bad).is_err(), "{}", String::from_utf8_lossy(bad));
		}
	}
}
