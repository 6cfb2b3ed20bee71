//! The judging service against hostile storage hosts and copycat DAOs, with real sockets:
//! blob hosts on 127.0.0.1 started here (honest ones, ones that never answer, ones that send
//! headers and then nothing, ones that fail with secrets in their error), and the real fetch
//! path (`HostPolicy`, `StorageClient`, deadlines). The chain is a stand-in ([`Quiet`]):
//! `App::attest` is what `App::validate` does once it has read the contribution.

use std::{
	num::NonZeroU32,
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};

use axum::http::StatusCode;
use datacoop_collective::{
	dao_dir::{DaoDir, SetupError},
	fetch::{Deadlines, HostPolicy},
	sealed::Sealer,
	server::{
		ApiError, App, BoundKeySet, Limits, Registered, SignedAttestation, Submission,
		BAD_STATEMENT, ELSEWHERE_STATEMENT, NOT_FOR_THIS_DAO, NOT_SUBMITTERS, NO_STATEMENT,
		SIZE_DIFFERS,
	},
	Format, Rules, DEFAULT_MAX_RECORDS, DEFAULT_MAX_RECORD_BYTES,
};
use datacoop_envelope::{encrypt, Parallelism, Recipient};
use datacoop_primitives::contribution::Verdict;
use datacoop_storage::BlobHash;
use serde_json::json;
use sp_core::sr25519;
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpListener, TcpStream},
};

use crate::Quiet;

const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

fn rules() -> Rules {
	Rules {
		format: Format::Json {
			records: Some("/messages".into()),
			schema: Some(json!({"type": "object", "required": ["account", "text"]})),
		},
		min_bytes: 10,
		max_bytes: 1 << 20,
		target_records: 10,
		owner_field: Some("/account".into()),
		max_records: DEFAULT_MAX_RECORDS,
		max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
		fields: None,
		aggregate: None,
	}
}

/// A chat export of //Bob's, with his statement for DAO 0 on the test chain (genesis 0x00…)
/// before it, as the wallet writes it.
fn export(first: u32) -> Vec<u8> {
	signed_by("//Bob", 0, &bare_export(first))
}

fn bare_export(first: u32) -> Vec<u8> {
	let messages: Vec<_> = (first..first + 20)
		.map(|i| json!({"account": BOB, "text": format!("message {i}")}))
		.collect();
	serde_json::to_vec(&json!({ "messages": messages })).unwrap()
}

/// `data` behind the statement of account `uri` for DAO `dao_id` on the test chain.
fn signed_by(uri: &str, dao_id: u32, data: &[u8]) -> Vec<u8> {
	use datacoop_primitives::contribution::{statement_line, statement_payload, Statement};
	use sp_core::Pair as _;
	let pair = sr25519::Pair::from_string(uri, None).unwrap();
	let statement =
		Statement { genesis_hash: sp_core::H256([0; 32]), dao_id, contributor: pair.public().0 };
	let mut out = statement_line(&statement, &pair.sign(&statement_payload(&statement)).0);
	out.extend_from_slice(data);
	out
}

/// `data` after a statement that //Bob signed as a browser extension's `signRaw` signs:
/// the payload wrapped in `<Bytes>` … `</Bytes>` (the web page's contributions).
fn signed_by_extension(dao_id: u32, data: &[u8]) -> Vec<u8> {
	use datacoop_primitives::contribution::{statement_line, statement_payload, Statement};
	use sp_core::Pair as _;
	let pair = sr25519::Pair::from_string("//Bob", None).unwrap();
	let statement =
		Statement { genesis_hash: sp_core::H256([0; 32]), dao_id, contributor: pair.public().0 };
	let wrapped = [b"<Bytes>".as_slice(), &statement_payload(&statement), b"</Bytes>"].concat();
	let mut out = statement_line(&statement, &pair.sign(&wrapped).0);
	out.extend_from_slice(data);
	out
}

/// What a blob host does with each connection.
#[derive(Clone)]
enum Host {
	/// Answers 200 with these bytes (and this Content-Length, if given).
	Serves(Arc<Vec<u8>>, Option<u64>),
	/// Accepts and never answers.
	Silent,
	/// Sends the headers of a `len`-byte answer and ten bytes, then nothing.
	HeadersThenNothing(u64),
	/// Answers 500 with this body.
	Fails(&'static str),
}

/// A blob host on 127.0.0.1: its port, and how many connections it accepted.
async fn start(host: Host) -> (u16, Arc<AtomicUsize>) {
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let port = listener.local_addr().unwrap().port();
	let accepted = Arc::new(AtomicUsize::new(0));
	let count = accepted.clone();
	tokio::spawn(async move {
		let mut held = Vec::new();
		loop {
			let Ok((socket, _)) = listener.accept().await else { return };
			count.fetch_add(1, Ordering::SeqCst);
			let host = host.clone();
			match host {
				// Kept open, never answered.
				Host::Silent => held.push(socket),
				_ => {
					tokio::spawn(answer(socket, host));
				},
			}
		}
	});
	(port, accepted)
}

async fn answer(mut socket: TcpStream, host: Host) {
	let mut request = Vec::new();
	let mut buf = [0u8; 1024];
	while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 << 10 {
		match socket.read(&mut buf).await {
			Ok(0) | Err(_) => return,
			Ok(n) => request.extend_from_slice(&buf[..n]),
		}
	}
	answer_read(socket, host).await
}

/// Answers a request already read.
async fn answer_read(mut socket: TcpStream, host: Host) {
	let head = |status: &str, len: u64| {
		format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
	};
	match host {
		Host::Serves(bytes, len) => {
			let len = len.unwrap_or(bytes.len() as u64);
			let _ = socket.write_all(head("200 OK", len).as_bytes()).await;
			let _ = socket.write_all(&bytes).await;
		},
		Host::HeadersThenNothing(len) => {
			let _ = socket.write_all(head("200 OK", len).as_bytes()).await;
			let _ = socket.write_all(&[0; 10]).await;
			tokio::time::sleep(Duration::from_secs(3600)).await;
		},
		Host::Fails(body) => {
			let status = "500 Internal Server Error";
			let _ = socket.write_all(head(status, body.len() as u64).as_bytes()).await;
			let _ = socket.write_all(body.as_bytes()).await;
		},
		Host::Silent => {},
	}
	let _ = socket.shutdown().await;
}

/// A server holding one key set, bound to DAO `dao_id`, fetching from `storage` and the
/// `allowed` hosts, with `workers` workers.
struct Setup {
	_dir: tempfile::TempDir,
	app: Arc<App>,
	recipient: Recipient,
	registered: Registered,
}

const DEADLINES: Deadlines = Deadlines {
	connect: Duration::from_secs(1),
	read: Duration::from_secs(1),
	total: Duration::from_secs(2),
};

fn setup(dao_id: u32, storage: u16, allowed: &[u16], workers: usize) -> Setup {
	let dir = tempfile::tempdir().unwrap();
	let sealer = Sealer::key_file(&dir.path().join("seal.key"), true).unwrap();
	let chat = DaoDir::new(dir.path(), "chat");
	let public = chat.init(&rules(), &sealer).unwrap();
	chat.bind(dao_id).unwrap();
	let key_set = BoundKeySet::open(&chat, &sealer, &[7; 32]).unwrap();
	let registered =
		Registered { attestation_signer: key_set.signer, measurement: key_set.measurement };
	let allowed: Vec<String> = allowed.iter().map(|p| format!("127.0.0.1:{p}")).collect();
	let policy =
		HostPolicy::new(&format!("http://127.0.0.1:{storage}"), &allowed, DEADLINES).unwrap();
	let limits = Limits {
		max_ciphertext: 1 << 20,
		workers,
		queue_wait: Duration::from_secs(5),
		rate_per_second: NonZeroU32::new(100).unwrap(),
		burst: NonZeroU32::new(100).unwrap(),
		validity_blocks: 20,
		exports: 2,
	};
	let app = App::new(vec![key_set], "ws://127.0.0.1:1".into(), policy, limits).unwrap();
	Setup {
		_dir: dir,
		app: Arc::new(app),
		recipient: public.encryption_key.parse().unwrap(),
		registered,
	}
}

/// `plain` encrypted to the DAO, and its hash.
fn sealed(to: &Recipient, plain: &[u8]) -> (Vec<u8>, BlobHash) {
	let mut out = Vec::new();
	encrypt(std::slice::from_ref(to), plain, &mut out, &Parallelism::OneCore).unwrap();
	let hash = BlobHash::of(&out);
	(out, hash)
}

fn submission(id: u64, dao_id: u32, url: String, hash: BlobHash, size: u64) -> Submission {
	Submission {
		id,
		dao_id,
		contributor: BOB.into(),
		url: url.into_bytes(),
		ciphertext_hash: hash.0,
		ciphertext_size: size,
	}
}

type Answer = Result<SignedAttestation, ApiError>;

async fn attest(s: &Setup, submission: &Submission) -> Answer {
	s.app.attest(&Quiet, 100, [0; 32], submission, &s.registered).await
}

fn reason(answer: &Answer) -> String {
	match &answer.as_ref().expect("a signed verdict").0.verdict {
		Verdict::Invalid { reason } => String::from_utf8(reason.to_vec()).unwrap(),
		Verdict::Valid => "valid".into(),
	}
}

/// Attack: contributors whose blob hosts stall (one never answers, one sends headers and
/// then nothing) hold every worker, and everyone else gets 503 for as long as the hosts
/// hold the connections. With the deadlines, each stalled fetch ends at its deadline with
/// an HTTP error (504: the contributor may be innocent, so no verdict), frees its worker,
/// and an honest contribution that came after them is judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stalled_blob_hosts_free_their_workers_and_an_honest_contribution_is_judged() {
	let (silent, _) = start(Host::Silent).await;
	let (slow, _) = start(Host::HeadersThenNothing(1_000)).await;
	let stalling = [silent, slow];
	// As many stalled hosts as workers.
	let s = setup_with_blob(stalling.len(), &stalling).await;
	let mut stalled = Vec::new();
	for (i, port) in stalling.into_iter().enumerate() {
		let hash = BlobHash([i as u8 + 1; 32]);
		let url = format!("http://127.0.0.1:{port}/blobs/{hash}");
		let (app, registered) = (s.setup.app.clone(), s.setup.registered);
		let sub = submission(i as u64 + 1, 0, url, hash, 1_000);
		stalled.push(tokio::spawn(async move {
			let started = Instant::now();
			let answer = app.attest(&Quiet, 100, [0; 32], &sub, &registered).await;
			(answer, started.elapsed())
		}));
	}
	// Every worker is now fetching from a stalled host.
	tokio::time::sleep(Duration::from_millis(300)).await;
	let started = Instant::now();
	let honest = tokio::time::timeout(Duration::from_secs(15), attest(&s.setup, &s.honest))
		.await
		.expect("the honest contribution is answered");
	let waited = started.elapsed();
	assert_eq!(reason(&honest), "valid", "{:?}", honest.as_ref().err());
	// It waited for a freed worker (the total deadline), not for the queue's 5 s.
	assert!(waited < Duration::from_secs(4), "judged only after {waited:?}");
	for task in stalled {
		let (answer, took) = tokio::time::timeout(Duration::from_secs(15), task)
			.await
			.expect("a stalled fetch ends at its deadline")
			.unwrap();
		let e = answer.expect_err("a stalled fetch is an error, not a verdict");
		assert_eq!((e.status, e.kind), (StatusCode::GATEWAY_TIMEOUT, "storage_timeout"));
		assert!(took < DEADLINES.total + Duration::from_secs(1), "took {took:?}");
	}
}

/// Attack: a contribution URL makes the server call a host of the contributor's choice
/// (internal services, other ports of the storage host, a path other than a blob). Every
/// URL outside the policy is judged Invalid with a fixed reason, and no host, allowed or
/// not, sees a connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_outside_the_policy_are_judged_invalid_without_a_request() {
	let (elsewhere, elsewhere_hits) = start(Host::Fails("internal")).await;
	let (allowed, allowed_hits) = start(Host::Fails("internal")).await;
	let s = setup_with_blob(2, &[allowed]).await;
	let hash = BlobHash(s.honest.ciphertext_hash);
	let size = s.honest.ciphertext_size;
	let storage = s.storage;
	let other = BlobHash([9; 32]);
	let host_not_allowed = "the storage URL is not on a storage host this collective fetches from";
	let extras = "the storage URL has a user, a query or a fragment";
	let not_a_blob_url = "the storage URL is not a blob URL (http(s)://HOST/blobs/0x<hash>)";
	let other_blob = "the storage URL names another blob than the submitted hash";
	let cases = [
		(format!("http://127.0.0.1:{elsewhere}/blobs/{hash}"), host_not_allowed),
		(format!("http://localhost:{storage}/blobs/{hash}"), host_not_allowed),
		(format!("http://127.0.0.1:{storage}/blobs/{hash}?admin=1"), extras),
		(format!("http://127.0.0.1:{storage}/blobs/{hash}#x"), extras),
		(format!("http://user:pw@127.0.0.1:{storage}/blobs/{hash}"), extras),
		(format!("http://127.0.0.1:{storage}/admin/blobs/{hash}"), not_a_blob_url),
		(format!("http://127.0.0.1:{allowed}/internal/{hash}"), not_a_blob_url),
		(format!("http://127.0.0.1:{storage}/blobs/{other}"), other_blob),
		(format!("http://127.0.0.1:{allowed}/blobs/{other}"), other_blob),
		("file:///etc/passwd".to_owned(), not_a_blob_url),
	];
	for (id, (url, why)) in cases.into_iter().enumerate() {
		// Each its own contribution: a kept answer is given again for the same one.
		let answer = attest(&s.setup, &submission(id as u64, 0, url.clone(), hash, size)).await;
		assert_eq!(reason(&answer), why, "{url}");
	}
	assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0);
	assert_eq!(allowed_hits.load(Ordering::SeqCst), 0);
	assert_eq!(s.storage_hits.load(Ordering::SeqCst), 0);
}

/// Attack: what an upstream service says (an error body, a connection error naming
/// addresses) was echoed to unauthenticated callers. Callers get fixed messages; what the
/// contributor got wrong gets fixed reasons without upstream numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_error_text_is_never_answered_nor_signed() {
	let secret = r#"{"error":"db password hunter2 at 10.1.2.3"}"#;
	let (failing, _) = start(Host::Fails(secret)).await;
	let closed = {
		let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
		l.local_addr().unwrap().port()
	};
	let s = setup_with_blob(2, &[failing, closed]).await;
	let (blob, hash) = sealed(&s.setup.recipient, &export(500));
	let size = blob.len() as u64;
	for port in [failing, closed] {
		let url = format!("http://127.0.0.1:{port}/blobs/{hash}");
		let e = attest(&s.setup, &submission(8, 0, url, hash, size)).await.unwrap_err();
		assert_eq!((e.status, e.kind), (StatusCode::BAD_GATEWAY, "storage"));
		assert_eq!(e.message, "storage could not send the blob; try again");
	}
	// A host that says another size: a fixed reason, not its numbers.
	let (lying, _) = start(Host::Serves(Arc::new(blob.clone()), Some(size - 1))).await;
	let s = setup_with_blob(2, &[lying]).await;
	let url = format!("http://127.0.0.1:{lying}/blobs/{hash}");
	assert_eq!(reason(&attest(&s.setup, &submission(9, 0, url, hash, size)).await), SIZE_DIFFERS);
	// A blob not encrypted to the DAO (here, to another key set's): a fixed reason, not the
	// envelope's error.
	let (plain_host, _) = start(Host::Serves(Arc::new(blob.clone()), None)).await;
	let s = setup_with_blob(2, &[plain_host]).await;
	let url = format!("http://127.0.0.1:{plain_host}/blobs/{hash}");
	assert_eq!(
		reason(&attest(&s.setup, &submission(10, 0, url, hash, size)).await),
		NOT_FOR_THIS_DAO
	);
}

/// Attack (the mirror): a copycat DAO #1 registers the keys of DAO #0 and mirrors a victim's
/// submission; judged there first, it would index the data under DAO #1 and the victim's
/// own contribution to DAO #0 would then be judged a duplicate and slashed. A key set bound
/// to DAO #0 refuses DAO #1 (403), fetches nothing for it, and the victim is judged unique.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_set_bound_to_one_dao_refuses_another_that_registered_the_same_keys() {
	let s = setup_with_blob(2, &[]).await;
	let mirror = Submission { id: 5, dao_id: 1, ..s.honest.clone() };
	let e = attest(&s.setup, &mirror).await.unwrap_err();
	assert_eq!((e.status, e.kind), (StatusCode::FORBIDDEN, "not_bound"));
	assert_eq!(s.storage_hits.load(Ordering::SeqCst), 0, "nothing is fetched for DAO #1");
	let victim = Submission { id: 6, ..s.honest.clone() };
	let answer = attest(&s.setup, &victim).await;
	assert_eq!(reason(&answer), "valid");
	assert_eq!(answer.unwrap().0.scores.uniqueness.deconstruct(), 1_000_000);
	// The kept answer of DAO #0's contribution #6 is not given for a DAO #1 contribution #6.
	let copy = Submission { dao_id: 1, ..victim.clone() };
	assert_eq!(attest(&s.setup, &copy).await.unwrap_err().status, StatusCode::FORBIDDEN);
	// A DAO whose keys this server does not hold: 404; DAO #0 registering other keys: 409.
	let foreign = Registered { attestation_signer: [1; 32], ..s.setup.registered };
	let other = Submission { id: 11, dao_id: 2, ..s.honest.clone() };
	let e = s.setup.app.attest(&Quiet, 100, [0; 32], &other, &foreign).await.unwrap_err();
	assert_eq!(e.status, StatusCode::NOT_FOUND);
	let e = s.setup.app.attest(&Quiet, 100, [0; 32], &victim, &foreign).await.unwrap_err();
	assert_eq!(e.status, StatusCode::CONFLICT);
}

/// Attack: two copies of one export, submitted back to back and judged at once, both passed
/// for unique: the DAO's lock ended at the index lookup, and the first copy was indexed only
/// after it was signed, so the second was compared with an index that did not hold it yet.
/// Now a contribution is indexed before the DAO's next one is compared: one copy is valid,
/// the other a duplicate of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_copies_judged_at_once_are_not_both_unique() {
	let s = setup_with_blob(2, &[]).await;
	let copies = [200, 201].map(|id| {
		let (app, registered) = (s.setup.app.clone(), s.setup.registered);
		let copy = Submission { id, ..s.honest.clone() };
		tokio::spawn(async move { app.attest(&Quiet, 100, [0; 32], &copy, &registered).await })
	});
	let [first, second] = copies;
	let (first, second) = (reason(&first.await.unwrap()), reason(&second.await.unwrap()));
	if first == "valid" {
		assert_eq!(second, "duplicate of contribution #200");
	} else {
		assert_eq!((first.as_str(), second.as_str()), ("duplicate of contribution #201", "valid"));
	}
}

#[test]
fn key_sets_serve_one_dao_each_and_only_once_bound() {
	let dir = tempfile::tempdir().unwrap();
	let sealer = Sealer::key_file(&dir.path().join("seal.key"), true).unwrap();
	let (a, b) = (DaoDir::new(dir.path(), "a"), DaoDir::new(dir.path(), "b"));
	for key_set in [&a, &b] {
		key_set.init(&rules(), &sealer).unwrap();
	}
	// Unbound: not served.
	let e = BoundKeySet::open(&a, &sealer, &[7; 32]).err().unwrap();
	assert!(matches!(e, SetupError::NotBound { .. }), "{e}");
	a.bind(0).unwrap();
	a.bind(0).unwrap();
	assert_eq!(a.bound_dao().unwrap(), Some(0));
	// Bound for good.
	let e = a.bind(1).unwrap_err();
	assert!(matches!(e, SetupError::BoundElsewhere { bound: 0, wanted: 1, .. }), "{e}");
	// Two key sets for one DAO: the server does not start.
	b.bind(0).unwrap();
	let open = |dir: &DaoDir| BoundKeySet::open(dir, &sealer, &[7; 32]).unwrap();
	let policy = HostPolicy::new("http://127.0.0.1:1", &[], DEADLINES).unwrap();
	let limits = Limits {
		max_ciphertext: 1 << 20,
		workers: 1,
		queue_wait: Duration::from_secs(1),
		rate_per_second: NonZeroU32::MIN,
		burst: NonZeroU32::MIN,
		validity_blocks: 20,
		exports: 2,
	};
	let e = App::new(vec![open(&a), open(&b)], "ws://x".into(), policy, limits).err().unwrap();
	assert!(matches!(e, SetupError::SameDao { dao_id: 0, .. }), "{e}");
	// The index of a key set refuses another DAO even if its binding file (docs/collective.md:
	// `daos/NAME/dao.json`) is edited.
	std::fs::write(dir.path().join("daos/a/dao.json"), r#"{"dao_id":3}"#).unwrap();
	let e = BoundKeySet::open(&a, &sealer, &[7; 32]).err().unwrap();
	assert!(matches!(e, SetupError::Index { .. }), "{e}");
}

/// The server under test with its honest contribution: DAO 0, `workers` workers, blobs
/// from its storage (which serves the honest blob) and from the `allowed` ports.
struct WithBlob {
	setup: Setup,
	honest: Submission,
	/// Connections the storage accepted.
	storage_hits: Arc<AtomicUsize>,
	storage: u16,
}

async fn setup_with_blob(workers: usize, allowed: &[u16]) -> WithBlob {
	// The storage's port must be known before the server is set up, and the blob (sealed to
	// the server's key) after: the storage serves what is put in its slot.
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let storage = listener.local_addr().unwrap().port();
	let setup = setup(0, storage, allowed, workers);
	let (blob, hash) = sealed(&setup.recipient, &export(0));
	let hits = Arc::new(AtomicUsize::new(0));
	let count = hits.clone();
	let bytes = Arc::new(blob.clone());
	tokio::spawn(async move {
		loop {
			let Ok((socket, _)) = listener.accept().await else { return };
			count.fetch_add(1, Ordering::SeqCst);
			tokio::spawn(answer(socket, Host::Serves(bytes.clone(), None)));
		}
	});
	let url = format!("http://127.0.0.1:{storage}/blobs/{hash}");
	let honest = submission(100, 0, url, hash, blob.len() as u64);
	WithBlob { setup, honest, storage_hits: hits, storage }
}

/// Attack: a front-runner copies a contributor's `submit` (or any ciphertext in storage) and
/// submits it first, to be paid for the victim's data. The statement inside the data names the
/// victim: the thief's contribution is Invalid. Data with no statement, a forged one, or one
/// for another DAO is Invalid too; the victim's own submission is judged on its merits.
#[tokio::test]
async fn a_contribution_is_its_contributors_only() {
	const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let storage = listener.local_addr().unwrap().port();
	let s = setup(0, storage, &[], 2);
	// A statement whose signature was made for other bytes.
	let mut forged = export(905);
	let at = datacoop_primitives::contribution::STATEMENT_PREFIX.len() + 10;
	forged[at] = if forged[at] == b'0' { b'1' } else { b'0' };
	let cases: [(&str, Vec<u8>, &str); 7] = [
		(BOB, signed_by_extension(0, &bare_export(950)), "valid"),
		(EVE, export(900), NOT_SUBMITTERS),
		(BOB, bare_export(901), NO_STATEMENT),
		(BOB, signed_by("//Bob", 7, &bare_export(902)), ELSEWHERE_STATEMENT),
		(BOB, signed_by("//Eve", 0, &bare_export(903)), NOT_SUBMITTERS),
		(BOB, forged, BAD_STATEMENT),
		(BOB, export(904), "valid"),
	];
	// Storage: each blob by its path.
	let mut blobs = std::collections::HashMap::new();
	let mut submissions = Vec::new();
	for (i, (who, plain, expected)) in cases.into_iter().enumerate() {
		let (blob, hash) = sealed(&s.recipient, &plain);
		let url = format!("http://127.0.0.1:{storage}/blobs/{hash}");
		let mut sub = submission(40 + i as u64, 0, url, hash, blob.len() as u64);
		sub.contributor = who.into();
		blobs.insert(format!("/blobs/{hash}"), Arc::new(blob));
		submissions.push((sub, expected));
	}
	tokio::spawn(async move {
		loop {
			let Ok((mut socket, _)) = listener.accept().await else { return };
			let mut request = Vec::new();
			let mut buf = [0u8; 1024];
			while !request.windows(4).any(|w| w == b"\r\n\r\n") {
				match socket.read(&mut buf).await {
					Ok(0) | Err(_) => break,
					Ok(n) => request.extend_from_slice(&buf[..n]),
				}
			}
			let line = String::from_utf8_lossy(&request).lines().next().unwrap_or("").to_owned();
			let path = line.split(' ').nth(1).unwrap_or("").to_owned();
			let host = match blobs.get(&path) {
				Some(blob) => Host::Serves(blob.clone(), None),
				None => Host::Fails("no such blob"),
			};
			tokio::spawn(answer_read(socket, host));
		}
	});
	for (sub, expected) in submissions {
		assert_eq!(reason(&attest(&s, &sub).await), expected, "contribution #{}", sub.id);
	}
}
