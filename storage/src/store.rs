//! Where blobs are kept: a local directory (the default) or S3-compatible object storage.
//!
//! Both keep the same promises:
//! - a blob is kept under its name only if the bytes received hash to that name (BLAKE2-256);
//! - a blob appears whole or not at all (local: temporary file, fsync, atomic no-replace rename,
//!   fsync of the directory; S3: a multipart upload, completed only once the hash checked out,
//!   aborted otherwise);
//! - a blob is never replaced: once a name exists, later uploads to it are checked and
//!   dropped, never written;
//! - bytes stream through in chunks: no blob is ever held in memory;
//! - a blob is removed only by garbage collection ([`Store::remove_if_unused_since`]), and
//!   only if nobody uploaded it again since the time given: uploading a blob that is already
//!   there refreshes its time of last upload (local: the file's mtime; S3: a marker object
//!   `PREFIX/seen/<hex>`, since S3 cannot touch an object in place).
//!
//! The local directory is written by hand rather than through `object_store::LocalFileSystem`
//! because that one does not fsync, and the storage service promises that a blob it said it
//! kept survives a power cut.

use std::{
	io,
	ops::Range,
	path::{Path, PathBuf},
	sync::Arc,
	time::SystemTime,
};

use bytes::Bytes;
use futures::{stream::BoxStream, Stream, StreamExt, TryStreamExt};
use object_store::{path::Path as ObjectPath, GetOptions, GetRange, ObjectStore, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

pub use crate::client::Stored;
use crate::hash::{BlobHash, Hasher};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	#[error("the bytes received hash to {actual}, not {expected}: nothing was kept")]
	HashMismatch { expected: BlobHash, actual: BlobHash },
	#[error("the blob is larger than this store's limit of {limit} bytes: nothing was kept")]
	TooLarge { limit: u64 },
	#[error("the upload was cut off: {0}")]
	Body(io::Error),
	#[error("local storage: {0}")]
	Io(#[from] io::Error),
	#[error("object storage: {0}")]
	Object(#[from] object_store::Error),
}

/// A blob as a listing shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo {
	pub hash: BlobHash,
	pub size: u64,
	/// When it was last uploaded (first kept, or sent again): what garbage collection
	/// measures its age from.
	pub last_upload: SystemTime,
}

/// A stream of a blob's bytes (or of a range of them).
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// A blob store; see the module docs for what both kinds promise.
#[derive(Clone)]
pub enum Store {
	Local(LocalDir),
	Object(ObjectBlobs),
}

impl Store {
	/// Opens the store a `--store` argument names: a directory path or `file://` URL, or an
	/// `s3://bucket/prefix` URL (credentials and endpoint from the `AWS_*` environment, as
	/// `object_store::aws::AmazonS3Builder::from_env` reads them), or `memory://` (nothing
	/// kept after the process ends; for trying things out).
	pub async fn open(location: &str) -> Result<Store, String> {
		if let Some(rest) = location.strip_prefix("s3://") {
			let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
			if bucket.is_empty() {
				return Err(format!("{location}: no bucket in the S3 URL (s3://BUCKET/PREFIX)"));
			}
			let s3 = object_store::aws::AmazonS3Builder::from_env()
				.with_bucket_name(bucket)
				.build()
				.map_err(|e| format!("{location}: {e}"))?;
			return Ok(Store::Object(ObjectBlobs::new(Arc::new(s3), prefix)));
		}
		if location == "memory://" {
			let mem = object_store::memory::InMemory::new();
			return Ok(Store::Object(ObjectBlobs::new(Arc::new(mem), "")));
		}
		let path = match location.strip_prefix("file://") {
			Some(p) => PathBuf::from(p),
			None if location.contains("://") => {
				return Err(format!(
					"{location}: unknown kind of store (a directory, file://DIR, s3://BUCKET/PREFIX or memory://)"
				))
			},
			None => PathBuf::from(location),
		};
		LocalDir::open(&path)
			.await
			.map(Store::Local)
			.map_err(|e| format!("{}: {e}", path.display()))
	}

	/// Keeps the blob `body` if it hashes to `expected` (or, with `None`, under whatever it
	/// hashes to). More than `limit` bytes: refused.
	pub async fn put<S>(
		&self,
		expected: Option<BlobHash>,
		body: S,
		limit: u64,
	) -> Result<Stored, StoreError>
	where
		S: Stream<Item = io::Result<Bytes>> + Send + Unpin,
	{
		match self {
			Store::Local(s) => s.put(expected, body, limit).await,
			Store::Object(s) => s.put(expected, body, limit).await,
		}
	}

	/// The size of the blob, or `None` if there is none by that name.
	pub async fn size(&self, hash: &BlobHash) -> Result<Option<u64>, StoreError> {
		match self {
			Store::Local(s) => s.size(hash).await,
			Store::Object(s) => s.size(hash).await,
		}
	}

	/// Every blob kept, one at a time (memory stays bounded however many there are).
	pub fn list(&self) -> BoxStream<'static, Result<BlobInfo, StoreError>> {
		match self {
			Store::Local(s) => s.list(),
			Store::Object(s) => s.list(),
		}
	}

	/// When the blob was last uploaded, or `None` if there is none by that name.
	pub async fn last_upload(&self, hash: &BlobHash) -> Result<Option<SystemTime>, StoreError> {
		match self {
			Store::Local(s) => s.last_upload(hash).await,
			Store::Object(s) => s.last_upload(hash).await,
		}
	}

	/// Removes the blob if it was last uploaded at or before `cutoff` (checked just before
	/// removing it); `true` if it was removed.
	pub async fn remove_if_unused_since(
		&self,
		hash: &BlobHash,
		cutoff: SystemTime,
	) -> Result<bool, StoreError> {
		match self {
			Store::Local(s) => s.remove_if_unused_since(hash, cutoff).await,
			Store::Object(s) => s.remove_if_unused_since(hash, cutoff).await,
		}
	}

	/// The blob's size and the bytes of `range` (all of them with `None`; the range must lie
	/// inside the blob, see [`Store::size`]), or `None` if there is no such blob. A whole
	/// blob takes one request to object storage (its size comes with it), not a HEAD first.
	pub async fn get(
		&self,
		hash: &BlobHash,
		range: Option<Range<u64>>,
	) -> Result<Option<(u64, ByteStream)>, StoreError> {
		match self {
			Store::Local(s) => s.get(hash, range).await,
			Store::Object(s) => s.get(hash, range).await,
		}
	}
}

/// Reads `body` to its end, hashing and counting, without keeping it.
async fn hash_only<S>(mut body: S, limit: u64) -> Result<(BlobHash, u64), StoreError>
where
	S: Stream<Item = io::Result<Bytes>> + Unpin,
{
	let mut hasher = Hasher::default();
	let mut size = 0u64;
	while let Some(chunk) = body.next().await {
		let chunk = chunk.map_err(StoreError::Body)?;
		size = add_within(size, chunk.len(), limit)?;
		hasher.update(&chunk);
	}
	Ok((hasher.finish(), size))
}

fn add_within(size: u64, more: usize, limit: u64) -> Result<u64, StoreError> {
	match size.checked_add(more as u64) {
		Some(s) if s <= limit => Ok(s),
		_ => Err(StoreError::TooLarge { limit }),
	}
}

fn check(expected: Option<BlobHash>, actual: BlobHash) -> Result<(), StoreError> {
	match expected {
		Some(expected) if expected != actual => Err(StoreError::HashMismatch { expected, actual }),
		_ => Ok(()),
	}
}

/// Blobs as files: `DIR/blobs/ab/abcdef…` (two hex digits of fan-out), uploads in progress in
/// `DIR/tmp/`, emptied at start (what is there was cut off by a crash).
#[derive(Clone, Debug)]
pub struct LocalDir {
	blobs: PathBuf,
	tmp: PathBuf,
}

impl LocalDir {
	pub async fn open(dir: &Path) -> io::Result<LocalDir> {
		let blobs = dir.join("blobs");
		let tmp = dir.join("tmp");
		tokio::fs::create_dir_all(&blobs).await?;
		if tokio::fs::try_exists(&tmp).await? {
			tokio::fs::remove_dir_all(&tmp).await?;
		}
		tokio::fs::create_dir_all(&tmp).await?;
		Ok(LocalDir { blobs, tmp })
	}

	fn path_of(&self, hash: &BlobHash) -> PathBuf {
		let hex = hash.hex();
		self.blobs.join(&hex[..2]).join(hex)
	}

	async fn put<S>(
		&self,
		expected: Option<BlobHash>,
		mut body: S,
		limit: u64,
	) -> Result<Stored, StoreError>
	where
		S: Stream<Item = io::Result<Bytes>> + Send + Unpin,
	{
		if let Some(hash) = expected {
			if let Some(size) = self.size(&hash).await? {
				// Never rewritten: check what came, keep nothing.
				let (actual, received) = hash_only(body, limit).await?;
				check(expected, actual)?;
				debug_assert_eq!(size, received);
				self.touch(&hash).await?;
				return Ok(Stored { hash, size, created: false });
			}
		}
		// Removed when dropped: on error, and when the request is cut off mid-way.
		let temp = tempfile::Builder::new().suffix(".part").tempfile_in(&self.tmp)?;
		let mut file = tokio::fs::File::from_std(temp.as_file().try_clone()?);
		let mut hasher = Hasher::default();
		let mut size = 0u64;
		while let Some(chunk) = body.next().await {
			let chunk = chunk.map_err(StoreError::Body)?;
			size = add_within(size, chunk.len(), limit)?;
			hasher.update(&chunk);
			file.write_all(&chunk).await?;
		}
		file.flush().await?;
		file.sync_all().await?;
		drop(file);
		let hash = hasher.finish();
		check(expected, hash)?;

		let target = self.path_of(&hash);
		let shard = target.parent().expect("blob paths have a shard directory").to_owned();
		let created = tokio::task::spawn_blocking(move || -> io::Result<bool> {
			std::fs::create_dir_all(&shard)?;
			// link + unlink (or renameat2 NOREPLACE): atomic, and never over an existing blob.
			let created = match temp.persist_noclobber(&target) {
				Ok(_) => true,
				// Someone kept the same bytes first (same hash): theirs stays, used now.
				Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
					std::fs::File::open(&target)?.set_modified(SystemTime::now())?;
					false
				},
				Err(e) => return Err(e.error),
			};
			std::fs::File::open(&shard)?.sync_all()?;
			Ok(created)
		})
		.await
		.map_err(io::Error::other)??;
		Ok(Stored { hash, size, created })
	}

	/// Marks the blob as uploaded now (its mtime; the file's bytes are untouched).
	async fn touch(&self, hash: &BlobHash) -> Result<(), StoreError> {
		let path = self.path_of(hash);
		tokio::task::spawn_blocking(move || {
			std::fs::File::open(path)?.set_modified(SystemTime::now())
		})
		.await
		.map_err(io::Error::other)??;
		Ok(())
	}

	fn list(&self) -> BoxStream<'static, Result<BlobInfo, StoreError>> {
		// Walked on a blocking thread, a few entries ahead of the consumer.
		let (tx, rx) = tokio::sync::mpsc::channel::<Result<BlobInfo, StoreError>>(64);
		let blobs = self.blobs.clone();
		tokio::task::spawn_blocking(move || {
			let walk = || -> io::Result<()> {
				let mut shards: Vec<_> =
					std::fs::read_dir(&blobs)?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
				shards.sort(); // at most 256: the two-hex-digit fan-out
				for shard in shards.into_iter().filter(|p| p.is_dir()) {
					for entry in std::fs::read_dir(&shard)? {
						let entry = entry?;
						let name = entry.file_name();
						// anything not named as a blob is not ours to list
						let Some(hash) = name.to_str().and_then(|n| n.parse::<BlobHash>().ok())
						else {
							continue;
						};
						let meta = match entry.metadata() {
							Ok(m) if m.is_file() => m,
							Ok(_) => continue,
							// removed meanwhile
							Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
							Err(e) => return Err(e),
						};
						let info =
							BlobInfo { hash, size: meta.len(), last_upload: meta.modified()? };
						if tx.blocking_send(Ok(info)).is_err() {
							return Ok(()); // the consumer is gone
						}
					}
				}
				Ok(())
			};
			if let Err(e) = walk() {
				let _ = tx.blocking_send(Err(e.into()));
			}
		});
		futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|i| (i, rx)) })
			.boxed()
	}

	async fn last_upload(&self, hash: &BlobHash) -> Result<Option<SystemTime>, StoreError> {
		match tokio::fs::metadata(self.path_of(hash)).await {
			Ok(m) => Ok(Some(m.modified()?)),
			Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(e.into()),
		}
	}

	async fn remove_if_unused_since(
		&self,
		hash: &BlobHash,
		cutoff: SystemTime,
	) -> Result<bool, StoreError> {
		match self.last_upload(hash).await? {
			Some(t) if t <= cutoff => {},
			_ => return Ok(false),
		}
		let path = self.path_of(hash);
		let shard = path.parent().expect("blob paths have a shard directory").to_owned();
		match tokio::fs::remove_file(&path).await {
			Ok(()) => {},
			Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
			Err(e) => return Err(e.into()),
		}
		tokio::task::spawn_blocking(move || std::fs::File::open(shard)?.sync_all())
			.await
			.map_err(io::Error::other)??;
		Ok(true)
	}

	async fn size(&self, hash: &BlobHash) -> Result<Option<u64>, StoreError> {
		match tokio::fs::metadata(self.path_of(hash)).await {
			Ok(m) => Ok(Some(m.len())),
			Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(e.into()),
		}
	}

	async fn get(
		&self,
		hash: &BlobHash,
		range: Option<Range<u64>>,
	) -> Result<Option<(u64, ByteStream)>, StoreError> {
		let mut file = match tokio::fs::File::open(self.path_of(hash)).await {
			Ok(f) => f,
			Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e.into()),
		};
		let size = file.metadata().await?.len();
		let stream = match range {
			None => ReaderStream::with_capacity(file, 256 << 10).boxed(),
			Some(r) => {
				file.seek(io::SeekFrom::Start(r.start)).await?;
				let len = r.end.saturating_sub(r.start);
				ReaderStream::with_capacity(file.take(len), 256 << 10).boxed()
			},
		};
		Ok(Some((size, stream)))
	}
}

/// Blobs as objects `PREFIX/blobs/<hex>` in an `object_store` (S3 and compatible services).
#[derive(Clone, Debug)]
pub struct ObjectBlobs {
	store: Arc<dyn ObjectStore>,
	prefix: String,
}

/// Parts of a multipart upload: S3 wants at least 5 MiB per part but the last.
const PART_SIZE: usize = 8 << 20;
/// Parts in flight at once: memory per upload is at most about PART_SIZE × (this + 1).
const PARTS_IN_FLIGHT: usize = 2;

impl ObjectBlobs {
	pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> ObjectBlobs {
		ObjectBlobs { store, prefix: prefix.trim_matches('/').to_owned() }
	}

	fn under(&self, folder: &str) -> String {
		if self.prefix.is_empty() {
			folder.to_owned()
		} else {
			format!("{}/{folder}", self.prefix)
		}
	}

	fn path_of(&self, hash: &BlobHash) -> ObjectPath {
		ObjectPath::from(format!("{}/{}", self.under("blobs"), hash.hex()))
	}

	/// The marker whose time says when a blob already kept was uploaded again.
	fn seen_path(&self, hash: &BlobHash) -> ObjectPath {
		ObjectPath::from(format!("{}/{}", self.under("seen"), hash.hex()))
	}

	async fn touch(&self, hash: &BlobHash) -> Result<(), StoreError> {
		self.store.put(&self.seen_path(hash), Bytes::new().into()).await?;
		Ok(())
	}

	fn list(&self) -> BoxStream<'static, Result<BlobInfo, StoreError>> {
		let prefix = ObjectPath::from(self.under("blobs"));
		self.store
			.list(Some(&prefix))
			.filter_map(|item| {
				futures::future::ready(match item {
					Ok(meta) => {
						meta.location.filename().and_then(|n| n.parse::<BlobHash>().ok()).map(
							|hash| {
								Ok(BlobInfo {
									hash,
									size: meta.size,
									last_upload: SystemTime::from(meta.last_modified),
								})
							},
						)
					},
					Err(e) => Some(Err(e.into())),
				})
			})
			.boxed()
	}

	async fn head_time(&self, path: &ObjectPath) -> Result<Option<SystemTime>, StoreError> {
		match self.store.head(path).await {
			Ok(meta) => Ok(Some(SystemTime::from(meta.last_modified))),
			Err(object_store::Error::NotFound { .. }) => Ok(None),
			Err(e) => Err(e.into()),
		}
	}

	async fn last_upload(&self, hash: &BlobHash) -> Result<Option<SystemTime>, StoreError> {
		let Some(kept) = self.head_time(&self.path_of(hash)).await? else { return Ok(None) };
		let seen = self.head_time(&self.seen_path(hash)).await?;
		Ok(Some(seen.map_or(kept, |s| s.max(kept))))
	}

	async fn remove_if_unused_since(
		&self,
		hash: &BlobHash,
		cutoff: SystemTime,
	) -> Result<bool, StoreError> {
		match self.last_upload(hash).await? {
			Some(t) if t <= cutoff => {},
			_ => return Ok(false),
		}
		match self.store.delete(&self.path_of(hash)).await {
			Ok(()) => {},
			Err(object_store::Error::NotFound { .. }) => return Ok(false),
			Err(e) => return Err(e.into()),
		}
		match self.store.delete(&self.seen_path(hash)).await {
			Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(true),
			Err(e) => Err(e.into()),
		}
	}

	async fn put<S>(
		&self,
		expected: Option<BlobHash>,
		body: S,
		limit: u64,
	) -> Result<Stored, StoreError>
	where
		S: Stream<Item = io::Result<Bytes>> + Send + Unpin,
	{
		let Some(hash) = expected else {
			// The name is known only at the end: stage the upload, then copy it under its
			// hash (a server-side copy; nothing comes back through this process).
			return self.put_unnamed(body, limit).await;
		};
		if let Some(size) = self.size(&hash).await? {
			let (actual, _) = hash_only(body, limit).await?;
			check(expected, actual)?;
			self.touch(&hash).await?;
			return Ok(Stored { hash, size, created: false });
		}
		// Nothing is visible under the name until `finish`, which runs only once the hash
		// checked out. A cut-off request leaves an incomplete multipart upload, which S3
		// bucket lifecycle rules (AbortIncompleteMultipartUpload) clean up.
		let (actual, size) = self.upload(&self.path_of(&hash), body, limit, expected).await?;
		debug_assert_eq!(actual, hash);
		Ok(Stored { hash, size, created: true })
	}

	/// Streams `body` into a multipart upload of `path`, hashing and counting; completes it
	/// only if all went well and the hash is `expected` (when given), aborts it otherwise.
	async fn upload<S>(
		&self,
		path: &ObjectPath,
		mut body: S,
		limit: u64,
		expected: Option<BlobHash>,
	) -> Result<(BlobHash, u64), StoreError>
	where
		S: Stream<Item = io::Result<Bytes>> + Send + Unpin,
	{
		let upload = self.store.put_multipart(path).await?;
		let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
		let mut hasher = Hasher::default();
		let mut size = 0u64;
		let outcome = async {
			while let Some(chunk) = body.next().await {
				let chunk = chunk.map_err(StoreError::Body)?;
				size = add_within(size, chunk.len(), limit)?;
				hasher.update(&chunk);
				writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
				writer.write(&chunk);
			}
			let hash = hasher.finish();
			check(expected, hash).map(|()| hash)
		}
		.await;
		match outcome {
			Ok(hash) => {
				writer.finish().await?;
				Ok((hash, size))
			},
			Err(e) => {
				let _ = writer.abort().await;
				Err(e)
			},
		}
	}

	async fn put_unnamed<S>(&self, body: S, limit: u64) -> Result<Stored, StoreError>
	where
		S: Stream<Item = io::Result<Bytes>> + Send + Unpin,
	{
		let staging = ObjectPath::from(format!(
			"{}{}tmp/{:032x}",
			self.prefix,
			if self.prefix.is_empty() { "" } else { "/" },
			rand_u128()
		));
		let (hash, size) = self.upload(&staging, body, limit, None).await?;
		let target = self.path_of(&hash);
		let created = match self.store.head(&target).await {
			Ok(_) => {
				self.touch(&hash).await?;
				false
			},
			Err(object_store::Error::NotFound { .. }) => {
				// Same name, same bytes: a concurrent copy of the same blob is harmless.
				self.store.copy(&staging, &target).await?;
				true
			},
			Err(e) => return Err(e.into()),
		};
		let _ = self.store.delete(&staging).await;
		Ok(Stored { hash, size, created })
	}

	async fn size(&self, hash: &BlobHash) -> Result<Option<u64>, StoreError> {
		match self.store.head(&self.path_of(hash)).await {
			Ok(meta) => Ok(Some(meta.size)),
			Err(object_store::Error::NotFound { .. }) => Ok(None),
			Err(e) => Err(e.into()),
		}
	}

	async fn get(
		&self,
		hash: &BlobHash,
		range: Option<Range<u64>>,
	) -> Result<Option<(u64, ByteStream)>, StoreError> {
		let options = GetOptions { range: range.map(GetRange::Bounded), ..Default::default() };
		match self.store.get_opts(&self.path_of(hash), options).await {
			Ok(result) => {
				let size = result.meta.size;
				Ok(Some((size, result.into_stream().map_err(io::Error::other).boxed())))
			},
			Err(object_store::Error::NotFound { .. }) => Ok(None),
			Err(e) => Err(e.into()),
		}
	}
}

fn rand_u128() -> u128 {
	// Unique staging names, not secrets; falls back to the clock if the OS has no randomness.
	let mut buf = [0u8; 16];
	if getrandom::getrandom(&mut buf).is_err() {
		let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
		buf = now.map(|d| d.as_nanos()).unwrap_or(0).to_le_bytes();
	}
	u128::from_le_bytes(buf)
}
