//! The logic behind the calls: check everything first, hold or mint, write last.

use alloc::vec::Vec;
use datacoop_primitives::{
	contribution::{signing_payload, Attestation, ContributionId, Reason, Verdict},
	dao::DaoId,
	traits::{DaoRegistry, DaoTerms, DatasetTokens},
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision},
	},
};
use frame_system::pallet_prelude::*;
use sp_core::{sr25519, H256};
use sp_runtime::{
	traits::{Saturating, Zero},
	ModuleError, SaturatedConversion,
};

use crate::{
	BalanceOf, ByCiphertext, ByContributor, Config, Contribution, ContributionOf,
	ContributionStatus, Contributions, Error, Event, Fingerprints, HoldReason, NextContributionId,
	Pallet, Pending,
};

/// What is stored as the reason of a valid contribution scored below the DAO's minimum.
pub const BELOW_MIN_SCORE: &[u8] = b"overall score below the DAO's minimum";

impl<T: Config> Pallet<T> {
	pub(crate) fn do_submit(
		contributor: T::AccountId,
		dao_id: DaoId,
		url: Vec<u8>,
		ciphertext_hash: H256,
		size: u64,
	) -> Result<ContributionId, DispatchError> {
		let url = BoundedVec::try_from(url).map_err(|_| Error::<T>::UrlTooLong)?;
		ensure!(Self::is_url(&url), Error::<T>::InvalidUrl);
		ensure!(!ciphertext_hash.is_zero(), Error::<T>::InvalidCiphertextHash);
		let terms = T::Daos::dao_terms(dao_id).ok_or(Error::<T>::UnknownDao)?;
		ensure!(terms.active, Error::<T>::DaoRetired);
		ensure!(size >= terms.rules.min_contribution_size, Error::<T>::SizeBelowMinimum);
		ensure!(size <= terms.rules.max_contribution_size, Error::<T>::SizeAboveMaximum);
		ensure!(
			!ByCiphertext::<T>::contains_key(dao_id, ciphertext_hash),
			Error::<T>::DuplicateCiphertext
		);
		let contribution_id = NextContributionId::<T>::get();
		let next = contribution_id.checked_add(1).ok_or(Error::<T>::NoMoreContributionIds)?;

		let deposit = terms.rules.contribution_deposit;
		if !deposit.is_zero() {
			T::Currency::hold(&HoldReason::ContributionDeposit.into(), &contributor, deposit)
				.map_err(|_| Error::<T>::CannotPayDeposit)?;
		}

		Contributions::<T>::insert(
			contribution_id,
			Contribution::<T> {
				dao_id,
				contributor: contributor.clone(),
				url,
				ciphertext_hash,
				ciphertext_size: size,
				deposit,
				submitted_at: frame_system::Pallet::<T>::block_number(),
				status: ContributionStatus::Pending,
			},
		);
		Pending::<T>::insert(contribution_id, ());
		ByCiphertext::<T>::insert(dao_id, ciphertext_hash, contribution_id);
		ByContributor::<T>::insert(&contributor, contribution_id, ());
		NextContributionId::<T>::put(next);
		Self::deposit_event(Event::Submitted {
			contribution_id,
			dao_id,
			contributor,
			ciphertext_hash,
			ciphertext_size: size,
			deposit,
		});
		Ok(contribution_id)
	}

	pub(crate) fn do_attest(
		attestation: Attestation<BlockNumberFor<T>>,
		signature: sr25519::Signature,
	) -> DispatchResult {
		let (mut contribution, terms) = Self::check_attestation(&attestation, &signature)?;
		let contribution_id = attestation.contribution_id;
		let dao_id = contribution.dao_id;
		let contributor = contribution.contributor.clone();
		let scores = attestation.scores;
		let now = frame_system::Pallet::<T>::block_number();
		let reason = HoldReason::ContributionDeposit.into();

		let accepted =
			attestation.verdict == Verdict::Valid && scores.overall >= terms.rules.min_score;
		if accepted {
			let reward = scores.overall.mul_floor(terms.rules.reward_at_full_score);
			if !reward.is_zero() {
				T::Tokens::mint(dao_id, &contributor, reward)?;
			}
			T::Currency::release(
				&reason,
				&contributor,
				contribution.deposit,
				Precision::BestEffort,
			)?;
			Fingerprints::<T>::insert(dao_id, attestation.fingerprint, contribution_id);
			contribution.status = ContributionStatus::Accepted { scores, reward, at: now };
			Self::deposit_event(Event::Accepted {
				contribution_id,
				dao_id,
				contributor,
				scores,
				reward,
			});
		} else {
			let (why, slashed) = match attestation.verdict {
				Verdict::Invalid { reason: why } => {
					let slash = T::InvalidSlash::get().mul_floor(contribution.deposit);
					(why, slash)
				},
				// Honest data the DAO values below its minimum: no slash.
				Verdict::Valid => (Reason::truncate_from(BELOW_MIN_SCORE.to_vec()), Zero::zero()),
			};
			if !slashed.is_zero() {
				T::Currency::burn_held(
					&reason,
					&contributor,
					slashed,
					Precision::BestEffort,
					Fortitude::Force,
				)?;
			}
			T::Currency::release(
				&reason,
				&contributor,
				contribution.deposit.saturating_sub(slashed),
				Precision::BestEffort,
			)?;
			contribution.status =
				ContributionStatus::Rejected { scores, reason: why.clone(), slashed, at: now };
			Self::deposit_event(Event::Rejected {
				contribution_id,
				dao_id,
				contributor,
				reason: why,
				slashed,
			});
		}
		Contributions::<T>::insert(contribution_id, contribution);
		Pending::<T>::remove(contribution_id);
		Ok(())
	}

	pub(crate) fn do_cancel(who: T::AccountId, contribution_id: ContributionId) -> DispatchResult {
		let contribution =
			Contributions::<T>::get(contribution_id).ok_or(Error::<T>::UnknownContribution)?;
		ensure!(contribution.contributor == who, Error::<T>::NotContributor);
		ensure!(contribution.status == ContributionStatus::Pending, Error::<T>::NotPending);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			now >= contribution.submitted_at.saturating_add(T::PendingTimeout::get()),
			Error::<T>::TooEarly
		);
		T::Currency::release(
			&HoldReason::ContributionDeposit.into(),
			&who,
			contribution.deposit,
			Precision::BestEffort,
		)?;
		// Gone entirely: nobody judged it, and the same ciphertext may be submitted again.
		Contributions::<T>::remove(contribution_id);
		Pending::<T>::remove(contribution_id);
		ByCiphertext::<T>::remove(contribution.dao_id, contribution.ciphertext_hash);
		ByContributor::<T>::remove(&who, contribution_id);
		Self::deposit_event(Event::Cancelled {
			contribution_id,
			dao_id: contribution.dao_id,
			contributor: who,
		});
		Ok(())
	}

	/// Every check an attestation must pass, in the pool and in the block. Cheap checks come
	/// first; the signature is verified once the attestation is known to concern a pending
	/// contribution.
	pub fn check_attestation(
		attestation: &Attestation<BlockNumberFor<T>>,
		signature: &sr25519::Signature,
	) -> Result<(ContributionOf<T>, DaoTerms<BalanceOf<T>, BlockNumberFor<T>>), Error<T>> {
		let contribution = Contributions::<T>::get(attestation.contribution_id)
			.ok_or(Error::<T>::UnknownContribution)?;
		ensure!(contribution.status == ContributionStatus::Pending, Error::<T>::AlreadyAttested);
		ensure!(contribution.dao_id == attestation.dao_id, Error::<T>::WrongDao);
		let terms = T::Daos::dao_terms(contribution.dao_id).ok_or(Error::<T>::UnknownDao)?;

		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let payload = signing_payload(attestation, &H256::from_slice(genesis.as_ref()));
		let signer = sr25519::Public::from_raw(terms.attestation_signer);
		ensure!(
			sp_io::crypto::sr25519_verify(signature, &payload, &signer),
			Error::<T>::BadSignature
		);

		ensure!(attestation.measurement == terms.measurement, Error::<T>::WrongMeasurement);
		ensure!(
			attestation.ciphertext_hash == contribution.ciphertext_hash,
			Error::<T>::CiphertextMismatch
		);
		ensure!(
			frame_system::Pallet::<T>::block_number() <= attestation.valid_until,
			Error::<T>::AttestationExpired
		);
		if attestation.verdict == Verdict::Valid {
			ensure!(
				!Fingerprints::<T>::contains_key(contribution.dao_id, attestation.fingerprint),
				Error::<T>::DuplicateFingerprint
			);
		}
		Ok((contribution, terms))
	}

	/// The pool's view of an `attest` call: valid if [`Self::check_attestation`] passes, one
	/// per contribution (it `provides` the contribution id), alive until the attestation
	/// expires. A refusal is `InvalidTransaction::Custom(i)`, `i` the index of the [`Error`].
	pub(crate) fn validate_attestation(
		attestation: &Attestation<BlockNumberFor<T>>,
		signature: &sr25519::Signature,
	) -> TransactionValidity {
		Self::check_attestation(attestation, signature)
			.map_err(|e| InvalidTransaction::Custom(Self::error_index(e)))?;
		let now = frame_system::Pallet::<T>::block_number();
		let blocks_left: u64 =
			attestation.valid_until.saturating_sub(now).saturating_add(One::one()).saturated_into();
		ValidTransaction::with_tag_prefix("DatacoopAttestation")
			.priority(T::AttestationPriority::get())
			.and_provides(attestation.contribution_id)
			.longevity(blocks_left)
			.propagate(true)
			.build()
	}

	/// The index of `error` in [`Error`], as metadata lists it.
	pub fn error_index(error: Error<T>) -> u8 {
		match DispatchError::from(error) {
			DispatchError::Module(ModuleError { error, .. }) => error[0],
			_ => u8::MAX,
		}
	}

	/// `scheme://rest`: a lowercase scheme, then printable ASCII without spaces.
	fn is_url(url: &[u8]) -> bool {
		let Some(at) = url.windows(3).position(|w| w == b"://") else { return false };
		let (scheme, rest) = (&url[..at], &url[at + 3..]);
		!scheme.is_empty()
			&& scheme.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'+')
			&& !rest.is_empty()
			&& rest.iter().all(|c| c.is_ascii_graphic())
	}

	/// Invariants: ids are below `NextContributionId`; `Pending` lists exactly the pending
	/// contributions; every contribution is indexed by ciphertext and contributor, and every
	/// index entry points to a contribution; fingerprints point to accepted contributions of
	/// their DAO; what is held from each contributor is the sum of their pending deposits.
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let next = NextContributionId::<T>::get();
		let mut count = 0u64;
		let mut pending = 0u32;
		let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (id, c) in Contributions::<T>::iter() {
			ensure!(id < next, "a contribution id is not below NextContributionId");
			let is_pending = c.status == ContributionStatus::Pending;
			ensure!(
				Pending::<T>::contains_key(id) == is_pending,
				"Pending disagrees with a status"
			);
			ensure!(
				ByCiphertext::<T>::get(c.dao_id, c.ciphertext_hash) == Some(id),
				"a contribution is not indexed by its ciphertext"
			);
			ensure!(
				ByContributor::<T>::contains_key(&c.contributor, id),
				"a contribution is not indexed by its contributor"
			);
			let sum = held.entry(c.contributor.clone()).or_insert_with(Zero::zero);
			if is_pending {
				pending += 1;
				*sum = sum.saturating_add(c.deposit);
			}
			count += 1;
		}
		ensure!(Pending::<T>::iter_keys().count() as u32 == pending, "Pending lists a judged id");
		ensure!(ByCiphertext::<T>::iter().count() as u64 == count, "a stale ciphertext entry");
		ensure!(ByContributor::<T>::iter().count() as u64 == count, "a stale contributor entry");
		for (dao_id, _, id) in Fingerprints::<T>::iter() {
			let c = Contributions::<T>::get(id).ok_or("a fingerprint of no contribution")?;
			ensure!(c.dao_id == dao_id, "a fingerprint in another DAO");
			ensure!(
				matches!(c.status, ContributionStatus::Accepted { .. }),
				"a fingerprint of a contribution not accepted"
			);
		}
		for (who, sum) in held {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ContributionDeposit.into(), &who) == sum,
				"held contribution deposits differ from the pending deposits"
			);
		}
		Ok(())
	}
}
