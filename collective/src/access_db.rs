//! What a key set remembers about releasing its DAO's data (`daos/NAME/access.redb`): the
//! request nonces already used, the catalog of the DAO's accepted contributions in the order
//! they were accepted, and the access log. redb, as the index: transactional and crash-safe,
//! so a replayed request is refused after a restart too, and a release is logged in the same
//! transaction that spends its request's nonce.
//!
//! - Nonces: `(account ‖ nonce) -> expiry` and an expiry index; each admission deletes up to
//!   [`SWEEP`] expired ones, so the table holds only nonces of the last `2 × MAX_SKEW`
//!   seconds. A nonce is stored only for a request whose signature and grant were checked.
//! - Catalog: `(accepted_at, id) -> CatalogEntry` and `id -> accepted_at`. Acceptance order,
//!   not id order: a contribution judged late is not skipped by an incremental export that
//!   resumes after a later id.
//! - Log: `seq -> hash after it ‖ SCALE(AccessRecord)`, and the head (count, hash), chained
//!   with [`log_hash`] so a head signed once commits to every record before it.

use std::path::Path;

use codec::{Decode, Encode};
use datacoop_primitives::access::{log_hash, AccessRecord};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

const META: TableDefinition<&str, u32> = TableDefinition::new("meta");
const NONCES: TableDefinition<&[u8; 48], u64> = TableDefinition::new("nonces");
const NONCE_EXPIRY: TableDefinition<(u64, &[u8; 48]), ()> = TableDefinition::new("nonce_expiry");
const CATALOG: TableDefinition<(u32, u64), &[u8]> = TableDefinition::new("catalog");
const CATALOGUED: TableDefinition<u64, u32> = TableDefinition::new("catalogued");
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const LOG_HEAD: TableDefinition<&str, &[u8]> = TableDefinition::new("log_head");
/// The privacy budget each Aggregate grant spent, in millionths of ε.
const BUDGETS: TableDefinition<u64, u64> = TableDefinition::new("budgets");

/// Expired nonces deleted per admission: more than are admitted per second per account at
/// the rate limit, so the table shrinks as fast as it grows.
const SWEEP: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum AccessDbError {
	#[error("the access database: {0}")]
	Db(String),
	#[error("the access database belongs to DAO #{found}, not #{wanted}")]
	OtherDao { found: u32, wanted: u32 },
}

fn err(e: impl std::fmt::Display) -> AccessDbError {
	AccessDbError::Db(e.to_string())
}

/// An accepted contribution, as an export needs it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CatalogEntry {
	pub id: u64,
	/// The block it was accepted at.
	pub accepted_at: u32,
	pub ciphertext_hash: [u8; 32],
	pub ciphertext_size: u64,
	/// The storage URL it was submitted with.
	pub url: Vec<u8>,
	/// Its contributor's account: aggregate answers count distinct contributors.
	pub contributor: [u8; 32],
}

/// Why a request is not admitted.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
	#[error("this request was already made (its nonce was used): sign a new one")]
	Replayed,
	#[error(
		"grant #{grant} has {left} of its {budget} millionths of ε left; this query costs {cost}"
	)]
	Budget { grant: u64, budget: u64, left: u64, cost: u64 },
	#[error(transparent)]
	Db(#[from] AccessDbError),
}

/// A page of the access log.
#[derive(Debug)]
pub struct LogPage {
	/// The records from `from`, SCALE-encoded as stored.
	pub records: Vec<Vec<u8>>,
	/// The hash before the first of them.
	pub previous: [u8; 32],
	/// Records in the whole log, and its head hash.
	pub count: u64,
	pub head: [u8; 32],
}

/// A key set's access database.
pub struct AccessDb {
	db: Database,
}

impl AccessDb {
	/// Opens (or creates) the access database at `path` for DAO `dao_id`; one that belongs to
	/// another DAO is refused.
	pub fn open(path: &Path, dao_id: u32) -> Result<AccessDb, AccessDbError> {
		let db = Database::create(path).map_err(err)?;
		let tx = db.begin_write().map_err(err)?;
		{
			let mut meta = tx.open_table(META).map_err(err)?;
			let found = meta.get("dao_id").map_err(err)?.map(|v| v.value());
			match found {
				Some(found) if found != dao_id => {
					return Err(AccessDbError::OtherDao { found, wanted: dao_id })
				},
				Some(_) => {},
				None => {
					meta.insert("dao_id", dao_id).map_err(err)?;
				},
			}
			tx.open_table(NONCES).map_err(err)?;
			tx.open_table(NONCE_EXPIRY).map_err(err)?;
			tx.open_table(CATALOG).map_err(err)?;
			tx.open_table(CATALOGUED).map_err(err)?;
			tx.open_table(LOG).map_err(err)?;
			tx.open_table(LOG_HEAD).map_err(err)?;
			tx.open_table(BUDGETS).map_err(err)?;
		}
		tx.commit().map_err(err)?;
		Ok(AccessDb { db })
	}

	/// Spends `account`'s request nonce `nonce` (good until `expires`, unix seconds) and, if
	/// `released` is given, appends the access record of what the request releases, in one
	/// transaction. A nonce spent before is refused and nothing is written. Answers the
	/// record's sequence number.
	pub fn admit(
		&self,
		account: &[u8; 32],
		nonce: &[u8; 16],
		now: u64,
		expires: u64,
		record: Option<AccessRecord>,
	) -> Result<Option<u64>, Refused> {
		let tx = self.db.begin_write().map_err(err)?;
		let seq = {
			spend_nonce(&tx, account, nonce, now, expires)?;
			match record {
				Some(record) => Some(append(&tx, record)?),
				None => None,
			}
		};
		tx.commit().map_err(err)?;
		Ok(seq)
	}

	/// Whether `account`'s request nonce `nonce` was spent (and is still remembered): a
	/// replayed request is refused with this before any work is done for it. Spending
	/// checks again, in its transaction.
	pub fn nonce_spent(&self, account: &[u8; 32], nonce: &[u8; 16]) -> Result<bool, AccessDbError> {
		let tx = self.db.begin_read().map_err(err)?;
		let nonces = tx.open_table(NONCES).map_err(err)?;
		Ok(nonces.get(&nonce_key(account, nonce)).map_err(err)?.is_some())
	}

	/// What grant `grant` has left of its `budget` (millionths of ε).
	pub fn budget_left(&self, grant: u64, budget: u64) -> Result<u64, AccessDbError> {
		let tx = self.db.begin_read().map_err(err)?;
		let budgets = tx.open_table(BUDGETS).map_err(err)?;
		let spent = budgets.get(grant).map_err(err)?.map_or(0, |v| v.value());
		Ok(budget.saturating_sub(spent))
	}

	/// Spends `account`'s request nonce and `cost` of grant `grant`'s privacy budget
	/// (`budget` in all, millionths of ε) in one transaction: a query over what is left, or a
	/// nonce used before, is refused and nothing is spent. Spent before the answer is
	/// computed, and not refunded if computing it fails: never more than the budget leaves.
	#[allow(clippy::too_many_arguments)]
	pub fn spend(
		&self,
		account: &[u8; 32],
		nonce: &[u8; 16],
		now: u64,
		expires: u64,
		grant: u64,
		cost: u64,
		budget: u64,
	) -> Result<u64, Refused> {
		let tx = self.db.begin_write().map_err(err)?;
		let left = {
			let mut budgets = tx.open_table(BUDGETS).map_err(err)?;
			let spent = budgets.get(grant).map_err(err)?.map_or(0, |v| v.value());
			let left = budget.saturating_sub(spent);
			if cost > left {
				return Err(Refused::Budget { grant, budget, left, cost });
			}
			budgets.insert(grant, spent + cost).map_err(err)?;
			left - cost
		};
		spend_nonce(&tx, account, nonce, now, expires)?;
		tx.commit().map_err(err)?;
		Ok(left)
	}

	/// Appends an access record (its `seq` is set here); answers its sequence number.
	pub fn log(&self, record: AccessRecord) -> Result<u64, AccessDbError> {
		let tx = self.db.begin_write().map_err(err)?;
		let seq = append(&tx, record)?;
		tx.commit().map_err(err)?;
		Ok(seq)
	}

	/// Up to `limit` records of the log from `from`, with the hash before them and the head.
	pub fn log_page(&self, from: u64, limit: u32) -> Result<LogPage, AccessDbError> {
		let tx = self.db.begin_read().map_err(err)?;
		let log = tx.open_table(LOG).map_err(err)?;
		let (count, head) = head(&tx.open_table(LOG_HEAD).map_err(err)?)?;
		let previous = match from.checked_sub(1) {
			None => [0u8; 32],
			Some(before) if before < count => {
				let stored =
					log.get(before).map_err(err)?.ok_or_else(|| err("a gap in the log"))?;
				split_stored(stored.value())?.0
			},
			Some(_) => head,
		};
		let mut records = Vec::new();
		for entry in log.range(from..).map_err(err)?.take(limit as usize) {
			let (_, stored) = entry.map_err(err)?;
			records.push(split_stored(stored.value())?.1.to_vec());
		}
		Ok(LogPage { records, previous, count, head })
	}

	/// Whether contribution `id` is in the catalog.
	pub fn catalogued(&self, id: u64) -> Result<bool, AccessDbError> {
		let tx = self.db.begin_read().map_err(err)?;
		let table = tx.open_table(CATALOGUED).map_err(err)?;
		Ok(table.get(id).map_err(err)?.is_some())
	}

	/// Adds accepted contributions to the catalog (those already there are left as they are).
	pub fn catalogue(&self, entries: &[CatalogEntry]) -> Result<(), AccessDbError> {
		let tx = self.db.begin_write().map_err(err)?;
		{
			let mut catalog = tx.open_table(CATALOG).map_err(err)?;
			let mut known = tx.open_table(CATALOGUED).map_err(err)?;
			for entry in entries {
				if known.get(entry.id).map_err(err)?.is_some() {
					continue;
				}
				known.insert(entry.id, entry.accepted_at).map_err(err)?;
				catalog
					.insert((entry.accepted_at, entry.id), entry.encode().as_slice())
					.map_err(err)?;
			}
		}
		tx.commit().map_err(err)
	}

	/// Where contribution `id` is in acceptance order, if it is in the catalog.
	pub fn position(&self, id: u64) -> Result<Option<(u32, u64)>, AccessDbError> {
		let tx = self.db.begin_read().map_err(err)?;
		let table = tx.open_table(CATALOGUED).map_err(err)?;
		Ok(table.get(id).map_err(err)?.map(|at| (at.value(), id)))
	}

	/// Up to `limit` catalog entries after position `after` (from the first if `None`),
	/// accepted at block `through` or before, in acceptance order.
	pub fn entries_after(
		&self,
		after: Option<(u32, u64)>,
		through: u32,
		limit: usize,
	) -> Result<Vec<CatalogEntry>, AccessDbError> {
		let tx = self.db.begin_read().map_err(err)?;
		let catalog = tx.open_table(CATALOG).map_err(err)?;
		let range = match after {
			None => catalog.range(..=(through, u64::MAX)),
			Some((at, id)) => match id.checked_add(1) {
				Some(next) => catalog.range((at, next)..=(through, u64::MAX)),
				None => catalog.range((at.saturating_add(1), 0)..=(through, u64::MAX)),
			},
		}
		.map_err(err)?;
		let mut entries = Vec::new();
		for entry in range.take(limit) {
			let (_, stored) = entry.map_err(err)?;
			entries.push(CatalogEntry::decode(&mut stored.value()).map_err(err)?);
		}
		Ok(entries)
	}

	/// How many catalog entries come after `after`, accepted at block `through` or before.
	pub fn count_after(
		&self,
		after: Option<(u32, u64)>,
		through: u32,
	) -> Result<u64, AccessDbError> {
		let mut count = 0u64;
		let mut cursor = after;
		loop {
			let page = self.entries_after(cursor, through, 4096)?;
			let Some(last) = page.last() else { return Ok(count) };
			cursor = Some((last.accepted_at, last.id));
			count += page.len() as u64;
		}
	}
}

/// The log's (count, head hash) as stored.
fn head(
	table: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<(u64, [u8; 32]), AccessDbError> {
	match table.get("head").map_err(err)? {
		None => Ok((0, [0; 32])),
		Some(v) => <(u64, [u8; 32])>::decode(&mut v.value()).map_err(err),
	}
}

/// A stored log entry: the hash after the record, then the record.
fn split_stored(stored: &[u8]) -> Result<([u8; 32], &[u8]), AccessDbError> {
	let hash: [u8; 32] =
		stored.get(..32).and_then(|h| h.try_into().ok()).ok_or_else(|| err("a short log entry"))?;
	Ok((hash, &stored[32..]))
}

/// The nonce table's key: the account, then the nonce.
fn nonce_key(account: &[u8; 32], nonce: &[u8; 16]) -> [u8; 48] {
	let mut key = [0u8; 48];
	key[..32].copy_from_slice(account);
	key[32..].copy_from_slice(nonce);
	key
}

/// Spends a request nonce in `tx`, and sweeps up to [`SWEEP`] expired ones.
fn spend_nonce(
	tx: &redb::WriteTransaction,
	account: &[u8; 32],
	nonce: &[u8; 16],
	now: u64,
	expires: u64,
) -> Result<(), Refused> {
	let key = nonce_key(account, nonce);
	let mut nonces = tx.open_table(NONCES).map_err(err)?;
	let mut expiry = tx.open_table(NONCE_EXPIRY).map_err(err)?;
	if nonces.get(&key).map_err(err)?.is_some() {
		return Err(Refused::Replayed);
	}
	let stale: Vec<(u64, [u8; 48])> = expiry
		.range(..(now, &[0u8; 48]))
		.map_err(err)?
		.take(SWEEP)
		.map(|e| e.map(|(k, _)| (k.value().0, *k.value().1)))
		.collect::<Result<_, _>>()
		.map_err(err)?;
	for (at, old) in &stale {
		expiry.remove((*at, old)).map_err(err)?;
		nonces.remove(old).map_err(err)?;
	}
	nonces.insert(&key, expires).map_err(err)?;
	expiry.insert((expires, &key), ()).map_err(err)?;
	Ok(())
}

fn append(tx: &redb::WriteTransaction, mut record: AccessRecord) -> Result<u64, AccessDbError> {
	let mut heads = tx.open_table(LOG_HEAD).map_err(err)?;
	let mut log = tx.open_table(LOG).map_err(err)?;
	let (count, previous) = head(&heads)?;
	record.seq = count;
	let hash = log_hash(&previous, &record);
	let mut stored = hash.to_vec();
	record.encode_to(&mut stored);
	log.insert(count, stored.as_slice()).map_err(err)?;
	let next = count.checked_add(1).ok_or_else(|| err("the log is full"))?;
	heads.insert("head", (next, hash).encode().as_slice()).map_err(err)?;
	Ok(count)
}

#[cfg(test)]
mod tests {
	use super::*;
	use datacoop_primitives::{access::Released, governance::Scope};
	use redb::ReadableTableMetadata;

	fn db() -> (tempfile::TempDir, AccessDb) {
		let dir = tempfile::tempdir().unwrap();
		let db = AccessDb::open(&dir.path().join("access.redb"), 7).unwrap();
		(dir, db)
	}

	fn record() -> AccessRecord {
		AccessRecord {
			seq: 99,
			time: 1,
			block: 2,
			account: [3; 32],
			grant_id: 4,
			request_nonce: [5; 16],
			released: Released::Export {
				scope: Scope::Full,
				since: None,
				finalized: 2,
				planned: 3,
			},
		}
	}

	#[test]
	fn a_nonce_is_good_once_even_after_a_restart() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("access.redb");
		let db = AccessDb::open(&path, 7).unwrap();
		assert!(!db.nonce_spent(&[1; 32], &[2; 16]).unwrap());
		assert_eq!(db.admit(&[1; 32], &[2; 16], 100, 700, Some(record())).unwrap(), Some(0));
		assert!(db.nonce_spent(&[1; 32], &[2; 16]).unwrap());
		assert!(!db.nonce_spent(&[9; 32], &[2; 16]).unwrap());
		// the same nonce by another account is another request
		assert_eq!(db.admit(&[9; 32], &[2; 16], 100, 700, None).unwrap(), None);
		drop(db);
		let db = AccessDb::open(&path, 7).unwrap();
		assert!(matches!(
			db.admit(&[1; 32], &[2; 16], 101, 701, Some(record())),
			Err(Refused::Replayed)
		));
		// refused: nothing logged
		assert_eq!(db.log_page(0, 10).unwrap().count, 1);
		drop(db);
		assert!(matches!(
			AccessDb::open(&path, 8),
			Err(AccessDbError::OtherDao { found: 7, wanted: 8 })
		));
	}

	#[test]
	fn expired_nonces_are_swept() {
		let (_dir, db) = db();
		for n in 0..200u8 {
			db.admit(&[1; 32], &[n; 16], 0, 10, None).unwrap();
		}
		db.admit(&[1; 32], &[200; 16], 20, 30, None).unwrap();
		db.admit(&[1; 32], &[201; 16], 20, 30, None).unwrap();
		let tx = db.db.begin_read().unwrap();
		let nonces = tx.open_table(NONCES).unwrap();
		// 2 × SWEEP of the 200 expired ones went, and the two new ones came
		assert_eq!(nonces.len().unwrap(), 200 - 2 * SWEEP as u64 + 2);
	}

	#[test]
	fn the_log_chains_its_records() {
		let (_dir, db) = db();
		for _ in 0..3 {
			db.log(record()).unwrap();
		}
		let all = db.log_page(0, 10).unwrap();
		assert_eq!((all.count, all.records.len(), all.previous), (3, 3, [0; 32]));
		let mut hash = [0u8; 32];
		for (seq, bytes) in all.records.iter().enumerate() {
			let r = AccessRecord::decode(&mut &bytes[..]).unwrap();
			assert_eq!(r.seq, seq as u64);
			hash = log_hash(&hash, &r);
		}
		assert_eq!(hash, all.head);
		let tail = db.log_page(2, 10).unwrap();
		let third = AccessRecord::decode(&mut &tail.records[0][..]).unwrap();
		assert_eq!(log_hash(&tail.previous, &third), all.head);
		let past = db.log_page(5, 10).unwrap();
		assert!(past.records.is_empty());
		assert_eq!(past.previous, all.head);
	}

	#[test]
	fn a_grant_spends_at_most_its_budget_and_a_refused_query_spends_nothing() {
		let (_dir, db) = db();
		let spend = |nonce: u8, cost| db.spend(&[1; 32], &[nonce; 16], 0, 600, 9, cost, 1_000_000);
		assert_eq!(db.budget_left(9, 1_000_000).unwrap(), 1_000_000);
		assert_eq!(spend(1, 400_000).unwrap(), 600_000);
		assert_eq!(db.budget_left(9, 1_000_000).unwrap(), 600_000);
		assert_eq!(spend(2, 600_000).unwrap(), 0);
		assert_eq!(db.budget_left(9, 1_000_000).unwrap(), 0);
		assert!(matches!(
			spend(3, 1),
			Err(Refused::Budget { grant: 9, budget: 1_000_000, left: 0, cost: 1 })
		));
		// refused for the budget: the nonce is still unused
		assert!(matches!(db.spend(&[1; 32], &[3; 16], 0, 600, 10, 1, 5), Ok(4)));
		// replayed: refused, and grant 10 spent nothing more
		assert!(matches!(db.spend(&[1; 32], &[3; 16], 0, 600, 10, 1, 5), Err(Refused::Replayed)));
		assert!(matches!(db.spend(&[1; 32], &[4; 16], 0, 600, 10, 4, 5), Ok(0)));
	}

	#[test]
	fn the_catalog_is_in_acceptance_order() {
		let (_dir, db) = db();
		let entry = |id, accepted_at| CatalogEntry {
			id,
			accepted_at,
			ciphertext_hash: [id as u8; 32],
			ciphertext_size: 1,
			url: vec![],
			contributor: [id as u8; 32],
		};
		db.catalogue(&[entry(5, 10), entry(2, 12), entry(9, 10), entry(3, 20)]).unwrap();
		// a second time changes nothing
		db.catalogue(&[entry(5, 99)]).unwrap();
		let ids = |after, through| {
			db.entries_after(after, through, 100).unwrap().iter().map(|e| e.id).collect::<Vec<_>>()
		};
		assert_eq!(ids(None, 100), [5, 9, 2, 3]);
		assert_eq!(ids(None, 12), [5, 9, 2]);
		assert_eq!(ids(db.position(9).unwrap(), 100), [2, 3]);
		assert_eq!(db.count_after(db.position(5).unwrap(), 12).unwrap(), 2);
		assert_eq!(db.position(4).unwrap(), None);
		assert!(db.catalogued(3).unwrap() && !db.catalogued(4).unwrap());
	}
}
