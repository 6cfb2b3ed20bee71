//! Encrypted blob storage for contributions.
//!
//! Contributors upload the ciphertext of their contribution (the envelope of
//! `datacoop-envelope`) here; the chain records where it is and its BLAKE2-256 hash; the
//! collective server fetches it to validate it. The service never sees plaintext: it keeps
//! bytes under the hash of those bytes, so whoever reads a blob can check it is the one the
//! chain names.
//!
//! - [`client`]: what the wallet and the collective server call.
//! - [`hash`]: blob names; [`token`]: the signed upload tokens uploads need.
//!
//! With the `server` feature (on by default; the wallet and the collective server build
//! without it, for the client alone):
//! - [`store`]: where blobs are kept (a local directory, or S3-compatible object storage),
//!   and the promises both keep.
//! - [`server`]: the HTTP API (`datacoop-storage` serves it).
//! - [`limits`]: per-account quotas and rates, per-address rates.
//! - [`gc`]: garbage collection of blobs no contribution on chain references.
//!
//! docs/storage.md describes the service as an operator and a client see it.

pub mod client;
#[cfg(feature = "server")]
pub mod gc;
pub mod hash;
#[cfg(feature = "server")]
pub mod limits;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod store;
pub mod token;

pub use client::{reader_stream, ClientError, Deadlines, StorageClient, Stored};
pub use hash::{BlobHash, Hasher};
#[cfg(feature = "server")]
pub use store::{BlobInfo, Store, StoreError};
pub use token::{KeypairUploader, TokenError, UploadToken, Uploader};

/// Completes on Ctrl-C or SIGTERM: what the services stop on (gracefully, letting requests
/// in flight finish).
pub async fn shutdown_signal() {
	let ctrl_c = tokio::signal::ctrl_c();
	#[cfg(unix)]
	{
		let mut term =
			match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
				Ok(s) => s,
				Err(_) => return ctrl_c.await.unwrap_or(()),
			};
		tokio::select! {
			_ = ctrl_c => {},
			_ = term.recv() => {},
		}
	}
	#[cfg(not(unix))]
	ctrl_c.await.unwrap_or(());
}
