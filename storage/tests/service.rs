//! The `datacoop-storage` binary over HTTP, through the client and through raw requests.

use std::{io::Write, path::Path, process::Command, time::Duration};

use common::{body, concat, random, start_storage, Killed};
use datacoop_storage::{reader_stream, BlobHash, ClientError, StorageClient};

mod common;

struct Service {
	child: Killed,
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

	fn stop(mut self) {
		Command::new("kill").arg("-TERM").arg(self.child.0.id().to_string()).status().unwrap();
		let status = self.child.0.wait().unwrap();
		assert!(status.success(), "the service should stop cleanly on SIGTERM: {status}");
	}
}

#[tokio::test]
async fn put_get_head_and_ranges() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &[]);
	let client = service.client();
	client.health().await.unwrap();
	let data = random(5 << 20);
	let hash = BlobHash::of(&data);
	assert_eq!(client.size(&hash).await.unwrap(), None);

	let stored = client.put(&hash, body(&data), data.len() as u64).await.unwrap();
	assert!(stored.created);
	let again = client.put(&hash, body(&data), data.len() as u64).await.unwrap();
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
	let data = random(100_000);
	let wrong = BlobHash::of(b"not these bytes");
	let err = client.put(&wrong, body(&data), data.len() as u64).await.unwrap_err();
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
	let stored = client.post(stream, None).await.unwrap();
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
	let data = random((1 << 20) + 1);
	let hash = BlobHash::of(&data);
	let err = client.put(&hash, body(&data), data.len() as u64).await.unwrap_err();
	assert!(
		matches!(
			err,
			ClientError::Refused { status: 413, .. } | ClientError::TooLarge { limit: 1048576, .. }
		),
		"{err}"
	);
	// no length declared: cut off while streaming
	let err = client.post(body(&data), None).await.unwrap_err();
	assert!(
		matches!(
			err,
			ClientError::Refused { status: 413, .. } | ClientError::TooLarge { limit: 1048576, .. }
		),
		"{err}"
	);
	assert_eq!(client.size(&hash).await.unwrap(), None);
	let ok = &data[..1 << 20];
	client.put(&BlobHash::of(ok), body(ok), ok.len() as u64).await.unwrap();
}

#[tokio::test]
async fn an_interrupted_upload_keeps_nothing_and_a_rerun_completes() {
	let dir = tempfile::tempdir().unwrap();
	let service = Service::start(dir.path(), &[]);
	let data = random(1 << 20);
	let hash = BlobHash::of(&data);
	// half the body, then the connection drops
	let address = service.url.trim_start_matches("http://").to_owned();
	let mut tcp = std::net::TcpStream::connect(&address).unwrap();
	write!(
		tcp,
		"PUT /blobs/{hash} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n",
		data.len()
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
	assert!(client.put(&hash, body(&data), data.len() as u64).await.unwrap().created);
}

#[tokio::test]
async fn a_restart_keeps_blobs() {
	let dir = tempfile::tempdir().unwrap();
	let data = random(777_777);
	let hash = BlobHash::of(&data);
	let service = Service::start(dir.path(), &[]);
	service.client().put(&hash, body(&data), data.len() as u64).await.unwrap();
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
	let puts: Vec<_> = (0..8)
		.map(|_| {
			let (client, data) = (service.client(), data.clone());
			tokio::spawn(async move { client.put(&hash, body(&data), data.len() as u64).await })
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
	let client = StorageClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
	let err = client.health().await.unwrap_err().to_string();
	assert!(err.contains("unreachable") && err.contains("--storage"), "{err}");
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
	] {
		let out =
			Command::new(env!("CARGO_BIN_EXE_datacoop-storage")).args(&args).output().unwrap();
		assert!(!out.status.success(), "{args:?}");
		let stderr = String::from_utf8_lossy(&out.stderr);
		let last = stderr.lines().last().unwrap_or_default();
		assert!(last.starts_with("Error: "), "{args:?}: {stderr}");
	}
}
