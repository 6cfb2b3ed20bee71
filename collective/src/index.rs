//! What a DAO already has: exact fingerprints and MinHash sketches of its accepted
//! contributions, kept on disk (redb: transactional, crash-safe) so a restart loses nothing.
//!
//! Near duplicates: a contribution is a set of records (normalized, see `records`); two
//! contributions' resemblance is the Jaccard index of their record sets, estimated from
//! MinHash sketches of `PERMUTATIONS` values and found without a scan through locality-
//! sensitive hashing: `BANDS` bands of `ROWS` values; contributions sharing a band are
//! candidates, then compared by sketch. Record hashes are keyed with the DAO's secret, so
//! the index on disk says nothing about the data to someone without it.
//!
//! Written here rather than taken from a crate: the few MinHash crates on crates.io are
//! unmaintained or unkeyed, and the algorithm is thirty lines.

use std::path::Path;

use blake2::{
	digest::{consts::U32, KeyInit, Mac},
	Blake2bMac,
};
use redb::{
	Database, MultimapTableDefinition, ReadableDatabase, ReadableTable, ReadableTableMetadata,
	TableDefinition,
};
use siphasher::sip128::SipHasher24;

/// MinHash values per sketch.
pub const PERMUTATIONS: usize = 128;
/// LSH bands × rows = PERMUTATIONS. 32 × 4: pairs above about 0.5 resemblance are found
/// with high probability (1 − (1 − s⁴)³²: 0.87 at s = 0.5, > 0.999 at s = 0.7).
const BANDS: usize = 32;
const ROWS: usize = PERMUTATIONS / BANDS;

const FINGERPRINTS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("fingerprints");
/// Each contribution's fingerprint, to forget it.
const FINGERPRINT_OF: TableDefinition<u64, &[u8; 32]> = TableDefinition::new("fingerprint_of");
/// Each contribution's MinHash sketch (the table's name on disk predates the word: renaming it
/// would lose every index already written).
const SKETCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("signatures");
const BAND_MEMBERS: MultimapTableDefinition<(u32, u64), u64> =
	MultimapTableDefinition::new("bands");
/// The on-chain DAO whose contributions the index holds (key `dao_id`).
const META: TableDefinition<&str, u32> = TableDefinition::new("meta");

#[derive(Debug, thiserror::Error)]
#[error("the contribution index: {0}")]
pub struct IndexError(String);

fn err(e: impl std::fmt::Display) -> IndexError {
	IndexError(e.to_string())
}

/// The keyed hashes a DAO uses: for records, for fingerprints, and for records' MinHash.
#[derive(Clone)]
pub struct Keys {
	secret: [u8; 32],
	/// SipHash key for records, derived from `secret`.
	record: [u8; 16],
}

impl Keys {
	pub fn new(secret: [u8; 32]) -> Keys {
		let mut m = <Blake2bMac<U32> as KeyInit>::new_from_slice(&secret).expect("32-byte key");
		m.update(b"datacoop/record/v2");
		let derived: [u8; 32] = m.finalize().into_bytes().into();
		let mut record = [0u8; 16];
		record.copy_from_slice(&derived[..16]);
		Keys { secret, record }
	}

	/// A record's keyed hash: SipHash-2-4 with 128-bit output, a PRF under the DAO's key, so
	/// the hashes (in the index, and under the fingerprint) say nothing about the records to
	/// anyone without it. SipHash rather than keyed BLAKE2 per record: records are short (a
	/// chat message is about 100 bytes) and BLAKE2's fixed cost per message (a 128-byte key
	/// block and a final block) dominated judging large exports.
	pub fn record_hash(&self, record: &[u8]) -> u128 {
		SipHasher24::new_with_key(&self.record).hash(record).as_u128()
	}

	/// The exact fingerprint: keyed BLAKE2b-256 of the sorted, distinct record hashes, so the
	/// same data in another order or with repeated records is the same contribution.
	pub fn fingerprint(&self, records: &Distinct) -> [u8; 32] {
		let mut m =
			<Blake2bMac<U32> as KeyInit>::new_from_slice(&self.secret).expect("32-byte key");
		m.update(b"datacoop/fingerprint/v2");
		// 256 hashes per update call: BLAKE2 compresses whole blocks without copying them.
		let mut block = [0u8; 16 * 256];
		for hashes in records.0.chunks(256) {
			for (slot, h) in block.chunks_exact_mut(16).zip(hashes) {
				slot.copy_from_slice(&h.to_le_bytes());
			}
			m.update(&block[..hashes.len() * 16]);
		}
		m.finalize().into_bytes().into()
	}

	/// The MinHash sketch of the record set.
	pub fn sketch(&self, records: &Distinct) -> Sketch {
		let mut sketch = [u64::MAX; PERMUTATIONS];
		for &h in &records.0 {
			// Two independent 64-bit hashes; permutation i is h1 + i·h2 (Kirsch–Mitzenmacher).
			let (h1, h2) = (h as u64, (h >> 64) as u64 | 1);
			for (i, slot) in sketch.iter_mut().enumerate() {
				let v = h1
					.wrapping_add((i as u64).wrapping_mul(h2))
					.rotate_left(17)
					.wrapping_mul(0x9E37_79B9_7F4A_7C15);
				*slot = (*slot).min(v);
			}
		}
		Sketch(sketch)
	}
}

/// A contribution's record hashes sorted, without repeats: what its fingerprint and sketch
/// are of (sorted once, used by both).
pub struct Distinct(Vec<u128>);

impl Distinct {
	pub fn of(mut hashes: Vec<u128>) -> Distinct {
		hashes.sort_unstable();
		hashes.dedup();
		Distinct(hashes)
	}

	pub fn len(&self) -> usize {
		self.0.len()
	}

	pub fn is_empty(&self) -> bool {
		self.0.is_empty()
	}
}

/// A MinHash sketch of a contribution's record set: the smallest value of each of
/// `PERMUTATIONS` keyed permutations of its record hashes, from which two contributions'
/// resemblance is estimated. (Not a cryptographic signature: nothing here signs.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sketch(pub [u64; PERMUTATIONS]);

impl Sketch {
	/// Estimated Jaccard resemblance of the two record sets, 0 to 1.
	pub fn resemblance(&self, other: &Sketch) -> f64 {
		let same = self.0.iter().zip(other.0.iter()).filter(|(a, b)| a == b).count();
		same as f64 / PERMUTATIONS as f64
	}

	fn bands(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
		self.0.chunks(ROWS).enumerate().map(|(b, rows)| {
			let mut h = 0xcbf2_9ce4_8422_2325u64;
			for v in rows {
				h = (h ^ v).wrapping_mul(0x0100_0000_01b3);
			}
			(b as u32, h)
		})
	}

	fn to_bytes(&self) -> Vec<u8> {
		self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
	}

	fn from_bytes(bytes: &[u8]) -> Option<Sketch> {
		if bytes.len() != PERMUTATIONS * 8 {
			return None;
		}
		let mut sketch = [0u64; PERMUTATIONS];
		for (slot, chunk) in sketch.iter_mut().zip(bytes.chunks_exact(8)) {
			*slot = u64::from_le_bytes(chunk.try_into().ok()?);
		}
		Some(Sketch(sketch))
	}
}

/// One DAO's index.
pub struct Index {
	db: Database,
}

/// The closest contribution already in the index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Match {
	/// Same fingerprint: the same data.
	Exact {
		contribution: u64,
	},
	/// Resemblance of the record sets, 0 to 1.
	Near {
		contribution: u64,
		resemblance: f64,
	},
	None,
}

impl Index {
	pub fn open(path: &Path) -> Result<Index, IndexError> {
		let db = Database::create(path).map_err(err)?;
		let tx = db.begin_write().map_err(err)?;
		tx.open_table(FINGERPRINTS).map_err(err)?;
		tx.open_table(FINGERPRINT_OF).map_err(err)?;
		tx.open_table(SKETCHES).map_err(err)?;
		tx.open_multimap_table(BAND_MEMBERS).map_err(err)?;
		tx.open_table(META).map_err(err)?;
		tx.commit().map_err(err)?;
		Ok(Index { db })
	}

	/// Ties the index to DAO `dao_id`: the first call records it, later calls check it. An
	/// index holds one DAO's contributions only; opened for another DAO, it refuses, so no
	/// entry of one DAO ever judges another's contribution.
	pub fn bind(&self, dao_id: u32) -> Result<(), IndexError> {
		let tx = self.db.begin_write().map_err(err)?;
		{
			let mut meta = tx.open_table(META).map_err(err)?;
			let bound = meta.get("dao_id").map_err(err)?.map(|v| v.value());
			match bound {
				Some(other) if other != dao_id => {
					return Err(IndexError(format!(
						"it holds DAO #{other}'s contributions, not DAO #{dao_id}'s"
					)))
				},
				Some(_) => {},
				None => {
					meta.insert("dao_id", dao_id).map_err(err)?;
				},
			}
		}
		tx.commit().map_err(err)
	}

	/// The closest contribution in the index to one with `fingerprint` and `sketch`.
	pub fn closest(&self, fingerprint: &[u8; 32], sketch: &Sketch) -> Result<Match, IndexError> {
		self.closest_except(fingerprint, sketch, None)
	}

	/// As [`Self::closest`], leaving contribution `except` out: a contribution judged again
	/// (its attestation never reached the chain) is not a copy of itself.
	pub fn closest_except(
		&self,
		fingerprint: &[u8; 32],
		sketch: &Sketch,
		except: Option<u64>,
	) -> Result<Match, IndexError> {
		let tx = self.db.begin_read().map_err(err)?;
		if let Some(id) = tx.open_table(FINGERPRINTS).map_err(err)?.get(fingerprint).map_err(err)? {
			if Some(id.value()) != except {
				return Ok(Match::Exact { contribution: id.value() });
			}
		}
		let bands = tx.open_multimap_table(BAND_MEMBERS).map_err(err)?;
		let sketches = tx.open_table(SKETCHES).map_err(err)?;
		let mut candidates = std::collections::BTreeSet::new();
		for band in sketch.bands() {
			for id in bands.get(band).map_err(err)? {
				candidates.insert(id.map_err(err)?.value());
			}
		}
		let mut best = Match::None;
		for id in candidates.into_iter().filter(|id| Some(*id) != except) {
			let Some(bytes) = sketches.get(id).map_err(err)? else { continue };
			let Some(other) = Sketch::from_bytes(bytes.value()) else { continue };
			let r = sketch.resemblance(&other);
			let better = match best {
				Match::Near { resemblance, .. } => r > resemblance,
				_ => true,
			};
			if better {
				best = Match::Near { contribution: id, resemblance: r };
			}
		}
		Ok(best)
	}

	/// Removes contribution `contribution` (its fingerprint, sketch and bands): for an
	/// entry whose attestation the chain did not accept. Nothing happens if it is absent.
	pub fn forget(&self, contribution: u64) -> Result<(), IndexError> {
		let tx = self.db.begin_write().map_err(err)?;
		{
			let mut fingerprints = tx.open_table(FINGERPRINTS).map_err(err)?;
			let mut owners = tx.open_table(FINGERPRINT_OF).map_err(err)?;
			let fingerprint = owners.remove(contribution).map_err(err)?.map(|v| *v.value());
			if let Some(fingerprint) = fingerprint {
				let ours = fingerprints.get(&fingerprint).map_err(err)?.map(|v| v.value());
				if ours == Some(contribution) {
					fingerprints.remove(&fingerprint).map_err(err)?;
				}
			}
			let mut sketches = tx.open_table(SKETCHES).map_err(err)?;
			let old = sketches.remove(contribution).map_err(err)?.map(|v| v.value().to_vec());
			if let Some(sketch) = old.as_deref().and_then(Sketch::from_bytes) {
				let mut bands = tx.open_multimap_table(BAND_MEMBERS).map_err(err)?;
				for band in sketch.bands() {
					bands.remove(band, contribution).map_err(err)?;
				}
			}
		}
		tx.commit().map_err(err)
	}

	/// Records an accepted contribution. Idempotent: adding the same id again changes nothing.
	pub fn add(
		&self,
		contribution: u64,
		fingerprint: &[u8; 32],
		sketch: &Sketch,
	) -> Result<(), IndexError> {
		let tx = self.db.begin_write().map_err(err)?;
		{
			let mut fingerprints = tx.open_table(FINGERPRINTS).map_err(err)?;
			if fingerprints.get(fingerprint).map_err(err)?.is_none() {
				fingerprints.insert(fingerprint, contribution).map_err(err)?;
			}
			tx.open_table(FINGERPRINT_OF)
				.map_err(err)?
				.insert(contribution, fingerprint)
				.map_err(err)?;
			tx.open_table(SKETCHES)
				.map_err(err)?
				.insert(contribution, sketch.to_bytes().as_slice())
				.map_err(err)?;
			let mut bands = tx.open_multimap_table(BAND_MEMBERS).map_err(err)?;
			for band in sketch.bands() {
				bands.insert(band, contribution).map_err(err)?;
			}
		}
		tx.commit().map_err(err)
	}

	/// Contributions in the index.
	pub fn len(&self) -> Result<u64, IndexError> {
		let tx = self.db.begin_read().map_err(err)?;
		tx.open_table(SKETCHES).map_err(err)?.len().map_err(err)
	}

	pub fn is_empty(&self) -> Result<bool, IndexError> {
		Ok(self.len()? == 0)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn records(range: std::ops::Range<u32>) -> Vec<Vec<u8>> {
		range.map(|i| format!("{{\"message\":\"record number {i}\"}}").into_bytes()).collect()
	}

	fn distinct(keys: &Keys, records: &[Vec<u8>]) -> Distinct {
		Distinct::of(records.iter().map(|r| keys.record_hash(r)).collect())
	}

	fn sketch(keys: &Keys, records: &[Vec<u8>]) -> Sketch {
		keys.sketch(&distinct(keys, records))
	}

	fn fp(keys: &Keys, records: &[Vec<u8>]) -> [u8; 32] {
		keys.fingerprint(&distinct(keys, records))
	}

	#[test]
	fn resemblance_tracks_the_share_of_records_in_common() {
		let keys = Keys::new([1; 32]);
		let a = sketch(&keys, &records(0..1000));
		assert_eq!(a.resemblance(&sketch(&keys, &records(0..1000))), 1.0);
		// 900 in common out of 1100: Jaccard 0.818
		let r = a.resemblance(&sketch(&keys, &records(100..1100)));
		assert!((r - 0.818).abs() < 0.12, "{r}");
		let r = a.resemblance(&sketch(&keys, &records(5000..6000)));
		assert!(r < 0.05, "{r}");
		// another DAO's key gives unrelated sketches
		assert!(a.resemblance(&sketch(&Keys::new([2; 32]), &records(0..1000))) < 0.05);
	}

	#[test]
	fn fingerprints_ignore_order_and_repeats_and_depend_on_the_key() {
		let keys = Keys::new([1; 32]);
		let mut shuffled = records(0..50);
		shuffled.reverse();
		shuffled.push(shuffled[0].clone());
		assert_eq!(fp(&keys, &records(0..50)), fp(&keys, &shuffled));
		assert_eq!(distinct(&keys, &shuffled).len(), 50);
		assert_ne!(fp(&keys, &records(0..50)), fp(&keys, &records(0..49)));
		assert_ne!(fp(&keys, &records(0..50)), fp(&Keys::new([2; 32]), &records(0..50)));
	}

	#[test]
	fn the_index_finds_exact_and_near_copies_and_survives_a_reopen() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("index.redb");
		let keys = Keys::new([7; 32]);
		let original = records(0..500);
		{
			let index = Index::open(&path).unwrap();
			assert!(index.is_empty().unwrap());
			let (f, s) = (fp(&keys, &original), sketch(&keys, &original));
			assert_eq!(index.closest(&f, &s).unwrap(), Match::None);
			index.add(3, &f, &s).unwrap();
			index.add(3, &f, &s).unwrap();
			assert_eq!(index.len().unwrap(), 1);
		}
		let index = Index::open(&path).unwrap();
		let (f, s) = (fp(&keys, &original), sketch(&keys, &original));
		assert_eq!(index.closest(&f, &s).unwrap(), Match::Exact { contribution: 3 });
		let near = records(20..520);
		match index.closest(&fp(&keys, &near), &sketch(&keys, &near)).unwrap() {
			Match::Near { contribution: 3, resemblance } => {
				assert!(resemblance > 0.8, "{resemblance}")
			},
			other => panic!("{other:?}"),
		}
		let other = records(10_000..10_500);
		assert_eq!(index.closest(&fp(&keys, &other), &sketch(&keys, &other)).unwrap(), Match::None);

		// judged again, contribution 3 is no copy of itself
		assert_eq!(index.closest_except(&f, &s, Some(3)).unwrap(), Match::None);
		// forgotten (the chain never accepted it): gone for exact and near matches, and
		// forgetting again changes nothing
		index.add(4, &fp(&keys, &near), &sketch(&keys, &near)).unwrap();
		index.forget(3).unwrap();
		index.forget(3).unwrap();
		assert_eq!(index.len().unwrap(), 1);
		match index.closest(&f, &s).unwrap() {
			Match::Near { contribution: 4, .. } => {},
			other => panic!("{other:?}"),
		}
		index.forget(4).unwrap();
		assert_eq!(index.closest(&f, &s).unwrap(), Match::None);
		assert!(index.is_empty().unwrap());
	}

	#[test]
	fn an_index_serves_the_dao_it_was_bound_to_only() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("index.redb");
		{
			let index = Index::open(&path).unwrap();
			index.bind(0).unwrap();
			index.bind(0).unwrap();
		}
		let index = Index::open(&path).unwrap();
		index.bind(0).unwrap();
		let e = index.bind(1).unwrap_err().to_string();
		assert!(e.contains("DAO #0's contributions, not DAO #1's"), "{e}");
	}
}
