//! The `datacoop-storage` binary over HTTP, through the client and through raw requests.

use std::{
	io::{Read, Write},
	path::Path,
	process::Command,
	sync::Arc,
	time::{Duration, Instant},
};

use crate::common::{body, concat, random, start_storage, token, unix_now, uploader, Process};
use datacoop_storage::{
	reader_stream, BlobHash, ClientError, Deadlines, KeypairUploader, StorageClient, UploadToken,
};

struct Service {
	child: Process,
	url: String,
}

impl Service {
	fn start(store: &Path, extra: &[&str]) -> Service {
		let mut args = vec!["--store", store.to_str().unwrap()];
		args.extend_from_slice(extra);
		let (child, url) = start_storage(&args, &[]);
		Service { child, url }
	}

	fn client(&self) -> StorageClient {
		StorageClient::new(&self.url).unwrap()
	}

	fn stop(self) {
		let status = self.child.terminate().unwrap();
		assert!(status.success(), "the service should stop cleanly on SIGTERM: {status}");
	}
}

#[tokio::test]
async fn put_get_head_and_ranges() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &[]);
	let client = service.client();
	let u = uploader();
	client.health().await.unwrap();
	let data = random(5 << 20);
	let hash = BlobHash::of(&data);
	assert_eq!(client.size(&hash).await.unwrap(), None);

	let stored = client.put(&u, &hash, body(&data), data.len() as u64).await.unwrap();
	assert!(stored.created);
	let again = client.put(&u, &hash, body(&data), data.len() as u64).await.unwrap();
	assert!(!again.created);
	assert_eq!(client.size(&hash).await.unwrap(), Some(data.len() as u64));

	let (size, stream) = client.get(&hash).await.unwrap();
	assert_eq!(size, data.len() as u64);
	assert_eq!(concat(stream).await, data);
	assert_eq!(client.get_range(&hash, 10, 20).await.unwrap(), &data[10..20]);
	let n = data.len() as u64;
	assert_eq!(client.get_range(&hash, n - 5, n).await.unwrap(), &data[data.len() - 5..]);

	// raw HTTP: status codes and headers
	let http = reqwest::Client::new();
	let url = client.blob_url(&hash);
	let r = http.get(&url).header("Range", "bytes=-3").send().await.unwrap();
	assert_eq!(r.status(), 206);
	assert_eq!(r.headers()["content-range"], format!("bytes {}-{}/{n}", n - 3, n - 1).as_str());
	assert_eq!(r.bytes().await.unwrap(), &data[data.len() - 3..]);
	let r = http.get(&url).header("Range", format!("bytes={n}-")).send().await.unwrap();
	assert_eq!(r.status(), 416);
	assert_eq!(r.headers()["content-range"], format!("bytes */{n}").as_str());
	let r = http.head(&url).send().await.unwrap();
	assert_eq!(r.status(), 200);
	assert_eq!(r.headers()["content-length"], n.to_string().as_str());
	let r = http.get(format!("{}/blobs/0x1234", service.url)).send().await.unwrap();
	assert_eq!(r.status(), 400);
	let missing = client.blob_url(&BlobHash::of(b"missing"));
	assert_eq!(http.get(&missing).send().await.unwrap().status(), 404);
	assert_eq!(http.head(&missing).send().await.unwrap().status(), 404);
	assert!(matches!(
		client.get(&BlobHash::of(b"missing")).await,
		Err(ClientError::NotFound { .. })
	));
	service.stop();
}

#[tokio::test]
async fn bytes_that_do_not_match_their_name_are_refused() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &[]);
	let client = service.client();
	let u = uploader();
	let data = random(100_000);
	let wrong = BlobHash::of(b"not these bytes");
	let err = client.put(&u, &wrong, body(&data), data.len() as u64).await.unwrap_err();
	match &err {
		ClientError::Refused { status: 400, message, .. } => {
			assert!(message.contains(&BlobHash::of(&data).to_string()), "{message}")
		},
		other => panic!("{other}"),
	}
	assert_eq!(client.size(&wrong).await.unwrap(), None);
	assert_eq!(client.size(&BlobHash::of(&data)).await.unwrap(), None);
}

#[tokio::test]
async fn posting_learns_the_hash_at_the_end() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &[]);
	let client = service.client();
	let data = random(3 << 20);
	// from a blocking reader, as the wallet's encrypting reader is
	let stream = reader_stream(std::io::Cursor::new(data.clone()), 1 << 20);
	let stored = client.post(&uploader(), stream, data.len() as u64).await.unwrap();
	assert_eq!(
		(stored.hash, stored.size, stored.created),
		(BlobHash::of(&data), data.len() as u64, true)
	);
	let (client2, hash) = StorageClient::for_blob_url(&client.blob_url(&stored.hash)).unwrap();
	assert_eq!(hash, stored.hash);
	assert_eq!(concat(client2.get(&hash).await.unwrap().1).await, data);
}

#[tokio::test]
async fn the_size_limit_is_enforced_declared_or_not() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &["--max-size", "1MiB"]);
	let client = service.client();
	let u = uploader();
	let data = random((1 << 20) + 1);
	let hash = BlobHash::of(&data);
	let err = client.put(&u, &hash, body(&data), data.len() as u64).await.unwrap_err();
	assert!(
		matches!(
			err,
			ClientError::Refused { status: 413, .. } | ClientError::TooLarge { limit: 1048576, .. }
		),
		"{err}"
	);
	let err = client.post(&u, body(&data), data.len() as u64).await.unwrap_err();
	assert!(
		matches!(
			err,
			ClientError::Refused { status: 413, .. } | ClientError::TooLarge { limit: 1048576, .. }
		),
		"{err}"
	);
	// no length declared, a token for the most allowed: cut off while streaming past it
	let r = reqwest::Client::new()
		.post(format!("{}/blobs", service.url))
		.header("authorization", token(&u, None, 1 << 20))
		.body(reqwest::Body::wrap_stream(body(&data)))
		.send()
		.await;
	if let Ok(r) = r {
		assert_eq!(r.status(), 401, "more than the token allows");
	}
	assert_eq!(client.size(&hash).await.unwrap(), None);
	let ok = &data[..1 << 20];
	client.put(&u, &BlobHash::of(ok), body(ok), ok.len() as u64).await.unwrap();
}

#[tokio::test]
async fn an_interrupted_upload_keeps_nothing_and_a_rerun_completes() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &[]);
	let data = random(1 << 20);
	let hash = BlobHash::of(&data);
	let u = uploader();
	// half the body, then the connection drops
	let address = service.url.trim_start_matches("http://").to_owned();
	let mut tcp = std::net::TcpStream::connect(&address).unwrap();
	write!(
		tcp,
		"PUT /blobs/{hash} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nAuthorization: {}\r\n\r\n",
		data.len(),
		token(&u, Some(&hash), data.len() as u64),
	)
	.unwrap();
	tcp.write_all(&data[..data.len() / 2]).unwrap();
	tcp.flush().unwrap();
	std::thread::sleep(Duration::from_millis(200));
	drop(tcp);

	let client = service.client();
	let tmp = dir.path().join("tmp");
	for _ in 0..100 {
		if std::fs::read_dir(&tmp).unwrap().count() == 0 {
			break;
		}
		tokio::time::sleep(Duration::from_millis(50)).await;
	}
	assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "the partial upload was left behind");
	assert_eq!(client.size(&hash).await.unwrap(), None);
	assert!(client.put(&u, &hash, body(&data), data.len() as u64).await.unwrap().created);
}

#[tokio::test]
async fn a_restart_keeps_blobs() {
	let dir = tempfile::tempdir().unwrap();
	let data = random(777_777);
	let hash = BlobHash::of(&data);
	let u = uploader();
	let service = Service::start(dir.path(), &[]);
	service.client().put(&u, &hash, body(&data), data.len() as u64).await.unwrap();
	service.stop();
	let service = Service::start(dir.path(), &[]);
	let (_, stream) = service.client().get(&hash).await.unwrap();
	assert_eq!(concat(stream).await, data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_of_one_blob() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &[]);
	let data = random(2 << 20);
	let hash = BlobHash::of(&data);
	let u = Arc::new(uploader());
	let puts: Vec<_> = (0..8)
		.map(|_| {
			let (client, data, u) = (service.client(), data.clone(), u.clone());
			tokio::spawn(
				async move { client.put(&*u, &hash, body(&data), data.len() as u64).await },
			)
		})
		.collect();
	let mut created = 0;
	for p in puts {
		created += p.await.unwrap().unwrap().created as u32;
	}
	assert_eq!(created, 1);
	let (_, stream) = service.client().get(&hash).await.unwrap();
	assert_eq!(concat(stream).await, data);
}

#[tokio::test]
async fn unreachable_storage_says_what_to_do() {
	// a port nobody listens on
	let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
	let url = format!("http://127.0.0.1:{port}");
	let client = StorageClient::new(&url).unwrap();
	let err = client.health().await.unwrap_err().to_string();
	assert!(err.contains("unreachable") && err.contains(&url), "{err}");
	assert!(err.contains("datacoop-storage"), "{err}");
	// the library names no program's flags: the wallet adds its own hint
	assert!(!err.contains("--"), "{err}");
	assert!(StorageClient::new("not a url").is_err());
	assert!(StorageClient::for_blob_url("http://x/blobs/0x12").is_err());
}

#[test]
fn bad_arguments_end_in_one_error_line() {
	let dir = tempfile::tempdir().unwrap();
	let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let port = taken.local_addr().unwrap().port();
	let file = dir.path().join("a-file");
	std::fs::write(&file, b"x").unwrap();
	for args in [
		vec!["--store".to_owned(), "ftp://nowhere".to_owned()],
		vec!["--store".to_owned(), file.join("sub").to_string_lossy().into_owned()],
		vec![
			"--store".to_owned(),
			dir.path().to_string_lossy().into_owned(),
			"--listen".to_owned(),
			format!("127.0.0.1:{port}"),
		],
		// An origin is scheme://host[:port]: a path is a mistake, said before anything starts.
		vec![
			"--store".to_owned(),
			dir.path().join("never").to_string_lossy().into_owned(),
			"--cors-origin".to_owned(),
			"http://127.0.0.1:9980/index.html".to_owned(),
		],
	] {
		let out =
			Command::new(env!("CARGO_BIN_EXE_datacoop-storage")).args(&args).output().unwrap();
		assert!(!out.status.success(), "{args:?}");
		let stderr = String::from_utf8_lossy(&out.stderr);
		let last = stderr.lines().last().unwrap_or_default();
		assert!(last.starts_with("Error: "), "{args:?}: {stderr}");
	}
	assert!(!dir.path().join("never").exists(), "a refused start creates no store");
}

/// The web page uploads from its own origin: the service answers CORS for the origins it is
/// given, and for no other (a browser then keeps other pages' scripts out).
#[tokio::test]
async fn cors_answers_the_configured_origins_only() {
	let dir = tempfile::tempdir().unwrap();
	let page = "http://127.0.0.1:9980";
	let service = Service::start(dir.path(), &["--cors-origin", page]);
	let http = reqwest::Client::new();
	let preflight = |origin: &str| {
		http.request(reqwest::Method::OPTIONS, format!("{}/blobs", service.url))
			.header("origin", origin)
			.header("access-control-request-method", "POST")
			.header("access-control-request-headers", "authorization")
			.send()
	};
	let r = preflight(page).await.unwrap();
	assert!(r.status().is_success(), "{}", r.status());
	assert_eq!(r.headers()["access-control-allow-origin"], page);
	let methods = r.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
	assert!(methods.contains("POST"), "{methods}");
	let allowed = r.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase();
	assert!(allowed.contains("authorization"), "{allowed}");
	let r = preflight("http://evil.example").await.unwrap();
	assert!(r.headers().get("access-control-allow-origin").is_none());
	// A real upload from the page's origin carries the header, so the page can read the hash.
	let u = uploader();
	let data = random(1000);
	let auth = signed(&u, None, 1000, unix_now(), 3);
	let r = http
		.post(format!("{}/blobs", service.url))
		.header("origin", page)
		.header("authorization", auth)
		.body(data.clone())
		.send()
		.await
		.unwrap();
	assert_eq!(r.status(), 201);
	assert_eq!(r.headers()["access-control-allow-origin"], page);
	service.stop();

	// Without --cors-origin: no CORS headers at all.
	let service = Service::start(dir.path(), &[]);
	let r =
		http.get(format!("{}/health", service.url)).header("origin", page).send().await.unwrap();
	assert!(r.headers().get("access-control-allow-origin").is_none());
	service.stop();
}

/// The raw answer to an upload with `authorization` (None: no header).
async fn raw_upload(
	url: &str,
	put: Option<&BlobHash>,
	authorization: Option<String>,
	bytes: &[u8],
) -> (u16, String) {
	let http = reqwest::Client::new();
	let mut request = match put {
		Some(h) => http.put(format!("{url}/blobs/{h}")),
		None => http.post(format!("{url}/blobs")),
	};
	if let Some(a) = authorization {
		request = request.header("authorization", a);
	}
	let r = request.body(bytes.to_vec()).send().await.unwrap();
	let status = r.status().as_u16();
	let v: serde_json::Value = r.json().await.unwrap_or_default();
	(status, v["error"].as_str().unwrap_or_default().to_owned())
}

fn signed(u: &KeypairUploader, hash: Option<&BlobHash>, size: u64, time: u64, nonce: u8) -> String {
	UploadToken::sign(u, hash, size, time, [nonce; 16]).header_value()
}

/// Before tokens, anyone could upload anything; each refusal here keeps nothing.
#[tokio::test]
async fn uploads_need_a_valid_token_used_once() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &[]);
	let url = service.url.clone();
	let client = service.client();
	let (u, other) = (uploader(), uploader());
	let data = random(10_000);
	let hash = BlobHash::of(&data);
	let n = data.len() as u64;
	let now = unix_now();

	let cases: Vec<(&str, Option<&BlobHash>, Option<String>, &str)> = vec![
		("missing", Some(&hash), None, "no upload token"),
		("missing", None, None, "no upload token"),
		("malformed", Some(&hash), Some("Bearer abc".into()), "malformed"),
		("malformed", None, Some(format!("DatacoopUpload {}", "00:".repeat(5))), "malformed"),
		(
			"signed by another account",
			Some(&hash),
			Some({
				let mut t: UploadToken = signed(&u, Some(&hash), n, now, 1).parse().unwrap();
				t.account = datacoop_storage::Uploader::account(&other);
				t.header_value()
			}),
			"does not verify",
		),
		(
			"for another blob",
			Some(&hash),
			Some(signed(&u, Some(&BlobHash::of(b"x")), n, now, 2)),
			"does not verify",
		),
		(
			"a POST token on a PUT",
			Some(&hash),
			Some(signed(&u, None, n, now, 3)),
			"does not verify",
		),
		(
			"a PUT token on a POST",
			None,
			Some(signed(&u, Some(&hash), n, now, 4)),
			"does not verify",
		),
		("too old", Some(&hash), Some(signed(&u, Some(&hash), n, now - 310, 5)), "clock"),
		("from the future", Some(&hash), Some(signed(&u, Some(&hash), n, now + 310, 6)), "clock"),
		(
			"smaller than the body",
			Some(&hash),
			Some(signed(&u, Some(&hash), n - 1, now, 7)),
			"longer than",
		),
		("smaller than the body", None, Some(signed(&u, None, n - 1, now, 8)), "longer than"),
	];
	for (what, put, authorization, reason) in cases {
		let (status, message) = raw_upload(&url, put, authorization, &data).await;
		assert_eq!(status, 401, "{what}: {message}");
		assert!(message.contains(reason), "{what}: {message}");
		assert!(!message.contains('\n'), "one line: {message}");
	}
	assert_eq!(client.size(&hash).await.unwrap(), None, "nothing kept");

	// a good token works once; replayed (even to upload the same bytes again) it is refused
	let good = signed(&u, Some(&hash), n, now, 9);
	assert_eq!(raw_upload(&url, Some(&hash), Some(good.clone()), &data).await.0, 201);
	let (status, message) = raw_upload(&url, Some(&hash), Some(good), &data).await;
	assert_eq!((status, message.contains("already used")), (401, true), "{message}");
	// the same nonce by another account is another token
	assert_eq!(
		raw_upload(&url, Some(&hash), Some(signed(&other, Some(&hash), n, now, 9)), &data).await.0,
		200
	);
	// a POST token replayed for other bytes
	let post = signed(&u, None, 100, now, 10);
	assert_eq!(raw_upload(&url, None, Some(post.clone()), &random(100)).await.0, 201);
	let replay = random(100);
	assert_eq!(raw_upload(&url, None, Some(post), &replay).await.0, 401);
	assert_eq!(client.size(&BlobHash::of(&replay)).await.unwrap(), None);

	// the polkadot.js extension's signRaw wrapping is accepted
	let (nonce, size) = ([11u8; 16], 50u64);
	let bytes = random(50);
	let account = datacoop_storage::Uploader::account(&u);
	let mut wrapped = b"<Bytes>".to_vec();
	wrapped.extend(datacoop_storage::token::message(&account, None, size, now, &nonce));
	wrapped.extend(b"</Bytes>");
	let signature = datacoop_storage::Uploader::sign(&u, &wrapped);
	let t = UploadToken { account, time: now, nonce, size, signature };
	assert_eq!(raw_upload(&url, None, Some(t.header_value()), &bytes).await.0, 201);
}

/// Before quotas, one account could fill the disk; before rates, flood the service.
#[tokio::test]
async fn quotas_and_rates_per_account() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &["--quota", "1MiB", "--uploads-per-minute", "4"]);
	let client = service.client();
	let u = uploader();
	let a = random(600 << 10);
	client.put(&u, &BlobHash::of(&a), body(&a), a.len() as u64).await.unwrap();
	let b = random(600 << 10);
	let err = client.put(&u, &BlobHash::of(&b), body(&b), b.len() as u64).await.unwrap_err();
	match &err {
		ClientError::Refused { status: 429, message, .. } => {
			assert!(message.contains("of its 1048576 bytes"), "{message}")
		},
		other => panic!("{other}"),
	}
	assert_eq!(client.size(&BlobHash::of(&b)).await.unwrap(), None);
	// another account has its own quota
	let v = uploader();
	client.put(&v, &BlobHash::of(&b), body(&b), b.len() as u64).await.unwrap();
	// uploads per minute: 4 started by u (one refused above counts not), then refused
	for _ in 0..3 {
		let small = random(10);
		client.put(&u, &BlobHash::of(&small), body(&small), 10).await.unwrap();
	}
	let small = random(10);
	let err = client.put(&u, &BlobHash::of(&small), body(&small), 10).await.unwrap_err();
	match &err {
		ClientError::Refused { status: 429, message, .. } => {
			assert!(message.contains("in the last minute"), "{message}")
		},
		other => panic!("{other}"),
	}
}

/// Before the per-address limit, junk tokens cost the service a signature check each, without
/// end.
#[tokio::test]
async fn upload_requests_per_address_are_limited() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &["--upload-requests-per-address", "5"]);
	let mut statuses = Vec::new();
	for _ in 0..7 {
		statuses.push(raw_upload(&service.url, None, None, b"x").await.0);
	}
	assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
	// reads stay open to all
	let missing = service.client().blob_url(&BlobHash::of(b"none"));
	assert_eq!(reqwest::get(&missing).await.unwrap().status(), 404);
}

/// Writes headers and `part` of the body of an upload of `data`, then `then` (stall or trickle);
/// returns how long until the service closed the connection and what it answered.
fn slow_upload(
	url: &str,
	data: &[u8],
	part: usize,
	trickle: Option<Duration>,
) -> (Duration, String) {
	let u = uploader();
	let hash = BlobHash::of(data);
	let address = url.trim_start_matches("http://").to_owned();
	let mut tcp = std::net::TcpStream::connect(&address).unwrap();
	write!(
		tcp,
		"PUT /blobs/{hash} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nAuthorization: {}\r\n\r\n",
		data.len(),
		token(&u, Some(&hash), data.len() as u64),
	)
	.unwrap();
	tcp.write_all(&data[..part]).unwrap();
	let started = Instant::now();
	tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
	let mut answer = Vec::new();
	match trickle {
		None => {
			let _ = tcp.read_to_end(&mut answer);
		},
		Some(every) => {
			// one byte at a time: never idle for the read timeout, yet never done
			tcp.set_read_timeout(Some(every)).unwrap();
			let mut at = part;
			loop {
				let mut buf = [0u8; 4096];
				match tcp.read(&mut buf) {
					Ok(0) => break,
					Ok(n) => answer.extend_from_slice(&buf[..n]),
					Err(e)
						if e.kind() == std::io::ErrorKind::WouldBlock
							|| e.kind() == std::io::ErrorKind::TimedOut => {},
					Err(_) => break,
				}
				if started.elapsed() > Duration::from_secs(30) {
					break;
				}
				if at < data.len() && tcp.write_all(&data[at..at + 1]).is_ok() {
					at += 1;
				}
			}
		},
	}
	(started.elapsed(), String::from_utf8_lossy(&answer).into_owned())
}

async fn wait_empty(dir: &Path) -> usize {
	for _ in 0..100 {
		if std::fs::read_dir(dir).unwrap().count() == 0 {
			break;
		}
		tokio::time::sleep(Duration::from_millis(50)).await;
	}
	std::fs::read_dir(dir).unwrap().count()
}

/// Before the read timeout, an upload that stalled after half its body held its connection,
/// task and temporary file for ever.
#[tokio::test]
async fn a_stalled_upload_is_cut_and_nothing_kept() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &["--read-timeout", "1s"]);
	let data = random(256 << 10);
	let url = service.url.clone();
	let d = data.clone();
	let (took, answer) =
		tokio::task::spawn_blocking(move || slow_upload(&url, &d, d.len() / 2, None))
			.await
			.unwrap();
	assert!(took < Duration::from_secs(5), "closed after {took:?}");
	assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
	assert_eq!(wait_empty(&dir.path().join("tmp")).await, 0, "the partial upload was left behind");
	assert_eq!(service.client().size(&BlobHash::of(&data)).await.unwrap(), None);
}

/// Before the total deadline, a byte every second kept an upload alive for ever.
#[tokio::test]
async fn a_trickling_upload_is_cut_at_its_total_deadline() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(
		dir.path(),
		&["--read-timeout", "5s", "--upload-time-floor", "2s", "--min-upload-rate", "1MiB"],
	);
	let data = random(64 << 10);
	let url = service.url.clone();
	let d = data.clone();
	let (took, answer) = tokio::task::spawn_blocking(move || {
		slow_upload(&url, &d, 1000, Some(Duration::from_millis(200)))
	})
	.await
	.unwrap();
	assert!(took < Duration::from_secs(6), "closed after {took:?}");
	// (the answer may be lost to a reset: the client was still sending when it was cut)
	if !answer.is_empty() {
		assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
		assert!(answer.contains("did not finish in the time its size allows"), "{answer}");
	}
	assert_eq!(wait_empty(&dir.path().join("tmp")).await, 0, "the partial upload was left behind");
}

/// A service that accepts connections and then says nothing, or only its headers.
fn stalled_server(send_headers: bool) -> (String, std::thread::JoinHandle<()>) {
	let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	let handle = std::thread::spawn(move || {
		let (mut tcp, _) = listener.accept().unwrap();
		let mut buf = [0u8; 4096];
		let _ = tcp.read(&mut buf);
		if send_headers {
			let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc");
		}
		std::thread::sleep(Duration::from_secs(8));
	});
	(url, handle)
}

/// Before the read deadline, a storage service (or a URL a contributor put on chain) that
/// stalled held the wallet or the collective server for ever.
#[tokio::test]
async fn a_stalled_service_fails_the_client_within_its_read_deadline() {
	let deadlines = Deadlines { read: Duration::from_secs(1), ..Deadlines::default() };
	let hash = BlobHash::of(b"x");

	let (url, _server) = stalled_server(false);
	let client = StorageClient::with_deadlines(&url, deadlines).unwrap();
	let started = Instant::now();
	let err = client.get(&hash).await.err().expect("no answer: an error");
	assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
	assert!(matches!(err, ClientError::TimedOut { .. }), "{err}");
	// which deadline passed, in the message
	assert!(err.to_string().contains("no byte for 1 s"), "{err}");

	let (url, _server) = stalled_server(true);
	let client = StorageClient::with_deadlines(&url, deadlines).unwrap();
	let started = Instant::now();
	let (_, mut stream) = client.get(&hash).await.unwrap();
	use futures::StreamExt;
	let mut failed = false;
	while let Some(item) = stream.next().await {
		if item.is_err() {
			failed = true;
			break;
		}
	}
	assert!(failed, "a body cut short is an error");
	assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
}

/// Before `Policy::none()`, a service could send the client anywhere with a redirect.
#[tokio::test]
async fn redirects_are_not_followed() {
	let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let location = format!("http://{}/secret", target.local_addr().unwrap());
	std::thread::spawn(move || {
		let (mut tcp, _) = listener.accept().unwrap();
		let mut buf = [0u8; 4096];
		let _ = tcp.read(&mut buf);
		let _ =
			write!(tcp, "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
		std::thread::sleep(Duration::from_secs(2));
	});
	target.set_nonblocking(true).unwrap();
	let client = StorageClient::new(&url).unwrap();
	assert!(client.get(&BlobHash::of(b"x")).await.is_err());
	assert!(target.accept().is_err(), "the redirect was followed");
}

/// Before the header timeout, a connection that never finished its headers stayed open for
/// ever: enough of them and the service runs out of file descriptors.
#[tokio::test]
async fn a_client_slow_to_send_its_headers_is_disconnected() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &["--read-timeout", "1s"]);
	let address = service.url.trim_start_matches("http://").to_owned();
	let took = tokio::task::spawn_blocking(move || {
		let mut tcp = std::net::TcpStream::connect(&address).unwrap();
		tcp.write_all(b"PUT /blobs/0x00 HTTP/1.1\r\nHost: x\r\n").unwrap();
		tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
		let started = Instant::now();
		let mut answer = Vec::new();
		let _ = tcp.read_to_end(&mut answer);
		started.elapsed()
	})
	.await
	.unwrap();
	assert!(took < Duration::from_secs(5), "closed after {took:?}");
	// and the service still serves
	service.client().health().await.unwrap();
}
