//! The promises of both kinds of store (local directory, object storage), checked the same way.

use std::{
	io,
	sync::Arc,
	time::{Duration, SystemTime},
};

use crate::common::{chunks, concat, random};
use datacoop_storage::{BlobHash, BlobInfo, Store, StoreError};
use futures::{stream, StreamExt, TryStreamExt};
use object_store::{memory::InMemory, ObjectStore};

const LIMIT: u64 = 64 << 20;

async fn read_all(store: &Store, hash: &BlobHash, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
	let (size, s) = store.get(hash, range).await.unwrap().expect("blob present");
	assert_eq!(Some(size), store.size(hash).await.unwrap(), "the size given with the bytes");
	concat(s).await
}

/// The stores under test, with a way to list what uploads in progress left behind.
struct Case {
	store: Store,
	leftovers: Box<dyn Fn() -> futures::future::BoxFuture<'static, usize> + Send + Sync>,
	_dir: Option<tempfile::TempDir>,
}

async fn local() -> Case {
	let dir = tempfile::tempdir().unwrap();
	let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
	let tmp = dir.path().join("tmp");
	Case {
		store,
		leftovers: Box::new(move || {
			let tmp = tmp.clone();
			Box::pin(async move { std::fs::read_dir(&tmp).unwrap().count() })
		}),
		_dir: Some(dir),
	}
}

fn object() -> Case {
	let mem: Arc<InMemory> = Arc::new(InMemory::new());
	let store = Store::Object(datacoop_storage::store::ObjectBlobs::new(mem.clone(), "pool"));
	Case {
		store,
		leftovers: Box::new(move || {
			let mem = mem.clone();
			Box::pin(async move {
				let tmp = object_store::path::Path::from("pool/tmp");
				mem.list(Some(&tmp)).count().await
			})
		}),
		_dir: None,
	}
}

async fn cases() -> Vec<(&'static str, Case)> {
	vec![("local", local().await), ("object", object())]
}

#[tokio::test]
async fn keeps_what_hashes_to_its_name_and_serves_it_whole_or_in_part() {
	for (kind, case) in cases().await {
		let data = random(3 << 20 | 12345);
		let hash = BlobHash::of(&data);
		assert_eq!(case.store.size(&hash).await.unwrap(), None, "{kind}");
		let stored = case.store.put(Some(hash), chunks(&data, 65536), LIMIT).await.unwrap();
		assert_eq!((stored.hash, stored.size, stored.created), (hash, data.len() as u64, true));
		assert_eq!(case.store.size(&hash).await.unwrap(), Some(data.len() as u64), "{kind}");
		assert_eq!(read_all(&case.store, &hash, None).await, data, "{kind}");
		assert_eq!(
			read_all(&case.store, &hash, Some(100..70000)).await,
			&data[100..70000],
			"{kind}"
		);
		let end = data.len() as u64;
		assert_eq!(read_all(&case.store, &hash, Some(end - 1..end)).await, &data[data.len() - 1..]);
		assert_eq!((case.leftovers)().await, 0, "{kind}");
	}
}

#[tokio::test]
async fn unnamed_uploads_are_kept_under_their_hash() {
	for (kind, case) in cases().await {
		let data = random(200_000);
		let stored = case.store.put(None, chunks(&data, 7777), LIMIT).await.unwrap();
		assert_eq!(stored.hash, BlobHash::of(&data), "{kind}");
		assert!(stored.created);
		assert_eq!(read_all(&case.store, &stored.hash, None).await, data, "{kind}");
		// the same bytes again: found, not written again
		let again = case.store.put(None, chunks(&data, 1000), LIMIT).await.unwrap();
		assert_eq!((again.hash, again.created), (stored.hash, false), "{kind}");
		assert_eq!((case.leftovers)().await, 0, "{kind}: staging objects left");
	}
}

#[tokio::test]
async fn a_hash_mismatch_keeps_nothing() {
	for (kind, case) in cases().await {
		let data = random(100_000);
		let claimed = BlobHash::of(b"something else");
		let err = case.store.put(Some(claimed), chunks(&data, 4096), LIMIT).await.unwrap_err();
		match err {
			StoreError::HashMismatch { expected, actual } => {
				assert_eq!((expected, actual), (claimed, BlobHash::of(&data)), "{kind}")
			},
			other => panic!("{kind}: {other}"),
		}
		assert_eq!(case.store.size(&claimed).await.unwrap(), None, "{kind}");
		assert_eq!(case.store.size(&BlobHash::of(&data)).await.unwrap(), None, "{kind}");
		assert_eq!((case.leftovers)().await, 0, "{kind}");
	}
}

#[tokio::test]
async fn a_kept_blob_is_never_replaced() {
	for (kind, case) in cases().await {
		let data = random(50_000);
		let hash = BlobHash::of(&data);
		case.store.put(Some(hash), chunks(&data, 4096), LIMIT).await.unwrap();
		let again = case.store.put(Some(hash), chunks(&data, 999), LIMIT).await.unwrap();
		assert!(!again.created, "{kind}");
		let mut other = data.clone();
		other[0] ^= 1;
		let err = case.store.put(Some(hash), chunks(&other, 4096), LIMIT).await.unwrap_err();
		assert!(matches!(err, StoreError::HashMismatch { .. }), "{kind}: {err}");
		assert_eq!(read_all(&case.store, &hash, None).await, data, "{kind}");
	}
}

#[tokio::test]
async fn the_size_limit_holds_whatever_the_chunks() {
	for (kind, case) in cases().await {
		let data = random(10_001);
		for expected in [Some(BlobHash::of(&data)), None] {
			let err = case.store.put(expected, chunks(&data, 3000), 10_000).await.unwrap_err();
			assert!(matches!(err, StoreError::TooLarge { limit: 10_000 }), "{kind}: {err}");
		}
		assert_eq!(case.store.size(&BlobHash::of(&data)).await.unwrap(), None, "{kind}");
		// exactly at the limit is fine
		let ok = &data[..10_000];
		case.store.put(Some(BlobHash::of(ok)), chunks(ok, 3000), 10_000).await.unwrap();
		assert_eq!((case.leftovers)().await, 0, "{kind}");
	}
}

#[tokio::test]
async fn a_cut_off_upload_keeps_nothing() {
	for (kind, case) in cases().await {
		let data = random(300_000);
		let hash = BlobHash::of(&data);
		let broken = chunks(&data[..100_000], 10_000)
			.chain(stream::iter([Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone"))]));
		let err = case.store.put(Some(hash), broken, LIMIT).await.unwrap_err();
		assert!(matches!(err, StoreError::Body(_)), "{kind}: {err}");
		assert_eq!(case.store.size(&hash).await.unwrap(), None, "{kind}");
		assert_eq!((case.leftovers)().await, 0, "{kind}");
		// and a re-run completes it
		assert!(case.store.put(Some(hash), chunks(&data, 10_000), LIMIT).await.unwrap().created);
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uploads_of_one_blob_keep_one_whole_copy() {
	for (kind, case) in cases().await {
		let data = Arc::new(random(1 << 20));
		let hash = BlobHash::of(&data);
		let store = case.store.clone();
		let uploads: Vec<_> = (0..12)
			.map(|i| {
				let (store, data) = (store.clone(), data.clone());
				tokio::spawn(async move {
					let named = if i % 2 == 0 { Some(hash) } else { None };
					store.put(named, chunks(&data, 1000 + i * 500), LIMIT).await
				})
			})
			.collect();
		let mut created = 0;
		for u in uploads {
			let stored = u.await.unwrap().unwrap();
			assert_eq!((stored.hash, stored.size), (hash, data.len() as u64), "{kind}");
			created += stored.created as u32;
		}
		// The local store tells exactly one upload it created the blob. Object storage has no
		// "create if absent" every S3 service honours: several may have written the same bytes.
		if kind == "local" {
			assert_eq!(created, 1, "{kind}");
		} else {
			assert!(created >= 1, "{kind}");
		}
		assert_eq!(read_all(&case.store, &hash, None).await, *data, "{kind}");
		assert_eq!((case.leftovers)().await, 0, "{kind}");
	}
}

#[tokio::test]
async fn a_restart_keeps_blobs_and_clears_what_a_crash_left() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().to_str().unwrap().to_owned();
	let data = random(123_456);
	let hash = BlobHash::of(&data);
	{
		let store = Store::open(&path).await.unwrap();
		store.put(Some(hash), chunks(&data, 5000), LIMIT).await.unwrap();
	}
	// what a crash mid-upload leaves
	std::fs::write(dir.path().join("tmp").join("x.part"), b"half an upload").unwrap();
	let store = Store::open(&format!("file://{path}")).await.unwrap();
	assert_eq!(read_all(&store, &hash, None).await, data);
	assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
}

#[tokio::test]
async fn listing_and_removal_go_by_the_last_upload() {
	for (kind, case) in cases().await {
		let (a, b) = (random(1000), random(2000));
		let (ha, hb) = (BlobHash::of(&a), BlobHash::of(&b));
		case.store.put(Some(ha), chunks(&a, 100), LIMIT).await.unwrap();
		case.store.put(None, chunks(&b, 100), LIMIT).await.unwrap();
		let mut listed: Vec<BlobInfo> = case.store.list().try_collect().await.unwrap();
		listed.sort_by_key(|i| i.size);
		assert_eq!(
			listed.iter().map(|i| (i.hash, i.size)).collect::<Vec<_>>(),
			[(ha, 1000), (hb, 2000)],
			"{kind}"
		);
		tokio::time::sleep(Duration::from_millis(100)).await;
		let cutoff = SystemTime::now();
		tokio::time::sleep(Duration::from_millis(100)).await;
		// a sent again (as a second contributor of the same bytes would): used now
		assert!(!case.store.put(Some(ha), chunks(&a, 100), LIMIT).await.unwrap().created);
		assert!(case.store.last_upload(&ha).await.unwrap().unwrap() > cutoff, "{kind}");
		assert!(!case.store.remove_if_unused_since(&ha, cutoff).await.unwrap(), "{kind}");
		assert!(case.store.remove_if_unused_since(&hb, cutoff).await.unwrap(), "{kind}");
		assert!(!case.store.remove_if_unused_since(&hb, cutoff).await.unwrap(), "{kind}");
		assert_eq!(case.store.size(&hb).await.unwrap(), None, "{kind}");
		assert_eq!(read_all(&case.store, &ha, None).await, a, "{kind}");
		let listed: Vec<BlobInfo> = case.store.list().try_collect().await.unwrap();
		assert_eq!(listed.len(), 1, "{kind}");
		// and b uploaded again is kept anew
		assert!(case.store.put(None, chunks(&b, 100), LIMIT).await.unwrap().created, "{kind}");
	}
}

#[tokio::test]
async fn unknown_blobs_and_locations() {
	let case = local().await;
	assert!(case.store.get(&BlobHash::of(b"none"), None).await.unwrap().is_none());
	for bad in ["ftp://x", "s3://", "gs://bucket"] {
		assert!(Store::open(bad).await.is_err(), "{bad}");
	}
}
