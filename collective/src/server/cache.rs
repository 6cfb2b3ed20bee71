//! Each contribution judged once. Every validator's off-chain worker asks for the same
//! contribution at about the same block: a request for a contribution being judged waits for
//! that judgement ([`ContributionLocks`]), then gets its answer, which is kept until it
//! expires ([`AttestationCache`]).

use std::{collections::HashMap, sync::Arc};

use tokio::sync::{Mutex, OwnedMutexGuard};

use super::SignedAttestation;

/// One lock per contribution being judged: who holds it is the only request judging that
/// contribution.
#[derive(Default)]
pub(super) struct ContributionLocks {
	by_contribution: std::sync::Mutex<HashMap<u64, Arc<Mutex<()>>>>,
}

impl ContributionLocks {
	/// Waits until no other request holds contribution `id`'s lock, and takes it.
	pub(super) async fn lock(&self, id: u64) -> OwnedMutexGuard<()> {
		let lock = {
			let mut by_contribution = self.by_contribution.lock().expect("not poisoned");
			// Locks nobody holds or waits for are dropped here. Clones are made only under
			// this lock, so a count of one cannot grow meanwhile.
			by_contribution.retain(|_, lock| Arc::strong_count(lock) > 1);
			by_contribution.entry(id).or_default().clone()
		};
		lock.lock_owned().await
	}

	/// Contributions with a lock held or awaited (or just given back).
	#[cfg(test)]
	fn len(&self) -> usize {
		self.by_contribution.lock().expect("not poisoned").len()
	}
}

/// Signed attestations by contribution, until they expire; at most `ANSWERS_KEPT`.
#[derive(Default)]
pub(super) struct AttestationCache {
	by_contribution: HashMap<u64, SignedAttestation>,
}

/// Answers kept per DAO (about 400 bytes each).
const ANSWERS_KEPT: usize = 4096;
/// A kept answer is given out while at least this many blocks of its validity are left, so it
/// can still reach a block.
const ANSWER_MARGIN: u32 = 3;

impl AttestationCache {
	/// The answer for contribution `id` of DAO `dao_id` with this ciphertext, if one is
	/// kept that is still good at block `now`.
	pub(super) fn get(
		&self,
		dao_id: u32,
		id: u64,
		ciphertext_hash: &[u8; 32],
		now: u32,
	) -> Option<SignedAttestation> {
		let (attestation, signature) = self.by_contribution.get(&id)?;
		let fresh = attestation.valid_until >= now.saturating_add(ANSWER_MARGIN);
		let same =
			attestation.dao_id == dao_id && attestation.ciphertext_hash.0 == *ciphertext_hash;
		(fresh && same).then(|| (attestation.clone(), *signature))
	}

	/// Keeps an answer; drops the expired ones (at block `now`), and the one expiring first
	/// if the cache is full.
	pub(super) fn keep(&mut self, now: u32, (attestation, signature): SignedAttestation) {
		self.by_contribution.retain(|_, (a, _)| a.valid_until >= now);
		if self.by_contribution.len() >= ANSWERS_KEPT {
			let first = self.by_contribution.iter().min_by_key(|(_, (a, _))| a.valid_until);
			if let Some(&id) = first.map(|(id, _)| id) {
				self.by_contribution.remove(&id);
			}
		}
		self.by_contribution.insert(attestation.contribution_id, (attestation, signature));
	}

	#[cfg(test)]
	fn len(&self) -> usize {
		self.by_contribution.len()
	}
}

#[cfg(test)]
mod tests {
	use std::time::Duration;

	use datacoop_primitives::contribution::{Attestation, Verdict};
	use sp_core::{sr25519, H256};

	use super::*;

	fn answer(id: u64, hash: u8, valid_until: u32) -> SignedAttestation {
		let attestation = Attestation {
			dao_id: 0,
			contribution_id: id,
			contributor: [0; 32],
			ciphertext_hash: H256([hash; 32]),
			fingerprint: H256([0; 32]),
			scores: Default::default(),
			verdict: Verdict::Valid,
			measurement: H256([0; 32]),
			valid_until,
		};
		(attestation, sr25519::Signature::from_raw([id as u8; 64]))
	}

	#[test]
	fn answers_are_given_again_while_they_can_still_reach_a_block() {
		let mut answers = AttestationCache::default();
		let (a, sig) = answer(7, 1, 120);
		answers.keep(100, (a.clone(), sig));
		assert_eq!(answers.get(0, 7, &[1; 32], 100), Some((a.clone(), sig)));
		assert_eq!(answers.get(0, 7, &[1; 32], 117), Some((a, sig)));
		// too close to its end, another ciphertext, another contribution: judged anew
		assert_eq!(answers.get(0, 7, &[1; 32], 118), None);
		assert_eq!(answers.get(0, 7, &[2; 32], 100), None);
		assert_eq!(answers.get(0, 8, &[1; 32], 100), None);
		// another DAO's contribution of the same number: not this answer
		assert_eq!(answers.get(1, 7, &[1; 32], 100), None);
		// expired answers go when another is kept
		answers.keep(121, answer(8, 1, 150));
		assert_eq!((answers.len(), answers.get(0, 8, &[1; 32], 121).is_some()), (1, true));
	}

	#[tokio::test]
	async fn one_request_at_a_time_judges_a_contribution() {
		let locks = ContributionLocks::default();
		let held = locks.lock(1).await;
		// Contribution 1 waits while its lock is held; another contribution does not.
		let waited = tokio::time::timeout(Duration::from_millis(50), locks.lock(1)).await;
		assert!(waited.is_err(), "a second request took a held lock");
		let other = locks.lock(2).await;
		let waiting = tokio::spawn({
			let locks = Arc::new(locks);
			async move {
				let lock = locks.lock(1).await;
				drop(lock);
				locks
			}
		});
		tokio::time::sleep(Duration::from_millis(20)).await;
		assert!(!waiting.is_finished());
		drop(held);
		let locks = tokio::time::timeout(Duration::from_secs(5), waiting)
			.await
			.expect("the lock is passed on when given back")
			.unwrap();
		// Locks given back are dropped at the next one taken: the map does not grow.
		drop(other);
		let again = locks.lock(3).await;
		assert_eq!(locks.len(), 1);
		drop(again);
	}

	#[test]
	fn the_answers_kept_are_bounded() {
		let mut answers = AttestationCache::default();
		for id in 0..ANSWERS_KEPT as u64 + 10 {
			answers.keep(0, answer(id, 1, 1_000 + id as u32));
		}
		assert_eq!(answers.len(), ANSWERS_KEPT);
		// the ones expiring first made room
		assert_eq!(answers.get(0, 0, &[1; 32], 0), None);
		assert!(answers.get(0, ANSWERS_KEPT as u64 + 9, &[1; 32], 0).is_some());
	}
}
