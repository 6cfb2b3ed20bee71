//! What the storage tests share: test data, byte streams, and starting the service binary.

use std::{io, process::Command};

pub use datacoop_e2e::{free_port, Process};

use bytes::Bytes;
use datacoop_storage::{BlobHash, KeypairUploader, UploadToken};
use futures::{stream, Stream, TryStreamExt};
use rand::RngCore;

/// A fresh chain account to upload as.
pub fn uploader() -> KeypairUploader {
	let mut seed = [0u8; 32];
	rand::thread_rng().fill_bytes(&mut seed);
	KeypairUploader::from_seed(seed)
}

pub fn unix_now() -> u64 {
	std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// An `Authorization` header value for an upload of at most `size` bytes (of `hash`: PUT).
pub fn token(u: &KeypairUploader, hash: Option<&BlobHash>, size: u64) -> String {
	let mut nonce = [0u8; 16];
	rand::thread_rng().fill_bytes(&mut nonce);
	UploadToken::sign(u, hash, size, unix_now(), nonce).header_value()
}

pub fn random(len: usize) -> Vec<u8> {
	let mut v = vec![0u8; len];
	rand::thread_rng().fill_bytes(&mut v);
	v
}

/// `bytes` as a stream of `chunk`-byte pieces.
pub fn chunks(
	bytes: &[u8],
	chunk: usize,
) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static {
	let parts: Vec<io::Result<Bytes>> =
		bytes.chunks(chunk.max(1)).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
	stream::iter(parts)
}

/// `bytes` as a stream of 64 KiB pieces, as an upload body.
pub fn body(bytes: &[u8]) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static {
	chunks(bytes, 65536)
}

pub async fn concat<S: Stream<Item = io::Result<Bytes>> + Unpin>(s: S) -> Vec<u8> {
	s.try_fold(Vec::new(), |mut all, b| async move {
		all.extend_from_slice(&b);
		Ok(all)
	})
	.await
	.unwrap()
}

/// Starts `datacoop-storage --listen 127.0.0.1:0 ARGS` with `env` and waits for the address
/// it serves on ("serving … on http://127.0.0.1:PORT …" in its log), through the workspace's
/// one test harness (`datacoop-e2e`).
pub fn start_storage(args: &[&str], env: &[(&str, &str)]) -> (Process, String) {
	let mut c = Command::new(env!("CARGO_BIN_EXE_datacoop-storage"));
	c.args(["--listen", "127.0.0.1:0"])
		.args(args)
		.envs(env.iter().copied())
		.env("RUST_LOG", "info");
	Process::serving(c).expect("datacoop-storage serves")
}
