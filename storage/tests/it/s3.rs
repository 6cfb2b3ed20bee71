//! `datacoop-storage --store s3://…` against a real S3 API: moto's server (PyPI `moto[server]`,
//! installed by scripts/lib.sh), the S3 emulator the AWS SDKs test against.

use std::{process::Command, time::Duration};

use crate::common::{body, concat, free_port, random, start_storage, uploader, Process};
use datacoop_storage::{reader_stream, BlobHash, ClientError, StorageClient};

async fn start_moto() -> (Process, String) {
	let port = free_port();
	let mut moto =
		Command::new(std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into()));
	moto.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
	let child = Process::start(moto)
		.expect("moto_server not found: run scripts/test.sh, or set MOTO_SERVER to its path");
	let endpoint = format!("http://127.0.0.1:{port}");
	let http = reqwest::Client::new();
	for _ in 0..200 {
		if http.get(format!("{endpoint}/")).send().await.is_ok() {
			// one bucket for the test (moto takes unsigned requests)
			let r = http.put(format!("{endpoint}/datacoop")).send().await.unwrap();
			assert!(r.status().is_success(), "creating the bucket: {}", r.status());
			return (child, endpoint);
		}
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	panic!("moto_server did not start");
}

fn start_s3_storage(endpoint: &str) -> (Process, String) {
	start_storage(
		&["--store", "s3://datacoop/pool", "--max-size", "64MiB"],
		&[
			("AWS_ENDPOINT", endpoint),
			("AWS_ALLOW_HTTP", "true"),
			("AWS_ACCESS_KEY_ID", "test"),
			("AWS_SECRET_ACCESS_KEY", "test"),
			("AWS_REGION", "us-east-1"),
			("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false"),
		],
	)
}

async fn fetch(client: &StorageClient, hash: &BlobHash) -> Vec<u8> {
	concat(client.get(hash).await.unwrap().1).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_on_s3() {
	let (_moto, endpoint) = start_moto().await;
	let (storage, url) = start_s3_storage(&endpoint);
	let client = StorageClient::new(&url).unwrap();
	let u = uploader();

	// several multipart parts (8 MiB each) and a short last one
	let data = random(17 << 20 | 4321);
	let hash = BlobHash::of(&data);
	let stored = client.put(&u, &hash, body(&data), data.len() as u64).await.unwrap();
	assert!(stored.created);
	assert!(!client.put(&u, &hash, body(&data), data.len() as u64).await.unwrap().created);
	assert_eq!(client.size(&hash).await.unwrap(), Some(data.len() as u64));
	assert_eq!(fetch(&client, &hash).await, data);
	assert_eq!(
		client.get_range(&hash, 8 << 20, (8 << 20) + 10).await.unwrap(),
		&data[8 << 20..(8 << 20) + 10]
	);

	// wrong name: nothing kept under either name
	let wrong = BlobHash::of(b"other");
	let small = random(1000);
	let err = client.put(&u, &wrong, body(&small), 1000).await.unwrap_err();
	assert!(matches!(err, ClientError::Refused { status: 400, .. }), "{err}");
	assert_eq!(client.size(&wrong).await.unwrap(), None);
	assert_eq!(client.size(&BlobHash::of(&small)).await.unwrap(), None);

	// uploaded without its name: staged, then copied under its hash
	let data2 = random(9 << 20);
	let stored = client
		.post(&u, reader_stream(std::io::Cursor::new(data2.clone()), 1 << 20), data2.len() as u64)
		.await
		.unwrap();
	assert_eq!(stored.hash, BlobHash::of(&data2));
	assert_eq!(fetch(&client, &stored.hash).await, data2);

	// the objects are where an operator would look, and no staging object is left
	let listing = reqwest::get(format!("{endpoint}/datacoop?list-type=2"))
		.await
		.unwrap()
		.text()
		.await
		.unwrap();
	assert!(listing.contains(&format!("pool/blobs/{}", hash.hex())), "{listing}");
	assert!(listing.contains(&format!("pool/blobs/{}", stored.hash.hex())), "{listing}");
	assert!(!listing.contains("pool/tmp/"), "{listing}");

	// a new service process over the same bucket serves the same blobs
	drop(storage);
	let (_storage, url) = start_s3_storage(&endpoint);
	assert_eq!(fetch(&StorageClient::new(&url).unwrap(), &hash).await, data);
}
