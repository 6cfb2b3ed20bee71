//! The logic behind the calls: check everything first, hold or mint, write last.

use alloc::vec::Vec;
use datacoop_primitives::{
	contribution::{
		signing_payload, Attestation, ContributionId, ContributionInfo, Reason, StatusInfo, Verdict,
	},
	dao::DaoId,
	traits::{DaoRegistry, DaoTerms, DatasetTokens},
	url::{check_http_url, UrlError},
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
	BalanceOf, ByCiphertext, ByContributor, CancelRequests, Config, Contribution, ContributionOf,
	ContributionStatus, Contributions, Error, Event, Fingerprints, HoldReason, NextContributionId,
	Pallet, Pending, PendingDaos,
};

/// What an attestation that passed every check is about: the contribution and its DAO's
/// terms.
pub type Attested<T> = (ContributionOf<T>, DaoTerms<BalanceOf<T>, BlockNumberFor<T>>);

/// What is stored as the reason of a valid contribution scored below the DAO's minimum.
pub const BELOW_MIN_SCORE: &[u8] = b"overall score below the DAO's minimum";

impl<T: Config> Pallet<T> {
	/// Contribution `id` as runtime APIs show it to clients ([`ContributionInfo`]), if it
	/// exists.
	pub fn contribution_info(
		id: ContributionId,
	) -> Option<ContributionInfo<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		let c = Contributions::<T>::get(id)?;
		let status = match c.status {
			ContributionStatus::Pending => StatusInfo::Pending,
			ContributionStatus::Accepted { scores, reward, at } => {
				StatusInfo::Accepted { scores, reward, at }
			},
			ContributionStatus::Rejected { scores, reason, slashed, at } => {
				StatusInfo::Rejected { scores, reason: reason.into_inner(), slashed, at }
			},
		};
		Some(ContributionInfo {
			dao_id: c.dao_id,
			contributor: c.contributor,
			url: c.url.into_inner(),
			ciphertext_hash: c.ciphertext_hash,
			ciphertext_size: c.ciphertext_size,
			deposit: c.deposit,
			record_deposit: c.record_deposit,
			submitted_at: c.submitted_at,
			status,
			withdrawable_from: CancelRequests::<T>::get(id),
		})
	}

	pub(crate) fn do_submit(
		contributor: T::AccountId,
		dao_id: DaoId,
		url: Vec<u8>,
		ciphertext_hash: H256,
		size: u64,
	) -> Result<ContributionId, DispatchError> {
		let url = BoundedVec::try_from(url).map_err(|_| Error::<T>::UrlTooLong)?;
		check_http_url(&url, T::Daos::allows_local_urls()).map_err(|e| match e {
			UrlError::Malformed => Error::<T>::InvalidUrl,
			UrlError::LocalHost => Error::<T>::LocalUrl,
		})?;
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
		let record_deposit = T::RecordDeposit::get();
		if !record_deposit.is_zero() {
			T::Currency::hold(&HoldReason::ContributionRecord.into(), &contributor, record_deposit)
				.map_err(|_| Error::<T>::CannotPayRecordDeposit)?;
		}
		let dao_pending = PendingDaos::<T>::get(dao_id).unwrap_or(0).saturating_add(1);

		Contributions::<T>::insert(
			contribution_id,
			Contribution::<T> {
				dao_id,
				contributor: contributor.clone(),
				url,
				ciphertext_hash,
				ciphertext_size: size,
				deposit,
				record_deposit,
				submitted_at: frame_system::Pallet::<T>::block_number(),
				status: ContributionStatus::Pending,
			},
		);
		Pending::<T>::insert(dao_id, contribution_id, ());
		PendingDaos::<T>::insert(dao_id, dao_pending);
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
		Self::unqueue(dao_id, contribution_id);
		Ok(())
	}

	/// Takes contribution `id` of DAO `dao_id` off the Pending queue (judged or withdrawn).
	fn unqueue(dao_id: DaoId, id: ContributionId) {
		Pending::<T>::remove(dao_id, id);
		CancelRequests::<T>::remove(id);
		PendingDaos::<T>::mutate_exists(dao_id, |count| {
			*count = count.map(|n| n.saturating_sub(1)).filter(|n| *n > 0);
		});
	}

	/// Checks that `id` is `who`'s contribution and still Pending; returns it.
	fn pending_of(who: &T::AccountId, id: ContributionId) -> Result<ContributionOf<T>, Error<T>> {
		let contribution = Contributions::<T>::get(id).ok_or(Error::<T>::UnknownContribution)?;
		ensure!(&contribution.contributor == who, Error::<T>::NotContributor);
		ensure!(contribution.status == ContributionStatus::Pending, Error::<T>::NotPending);
		Ok(contribution)
	}

	pub(crate) fn do_request_cancel(
		who: T::AccountId,
		contribution_id: ContributionId,
	) -> DispatchResult {
		let contribution = Self::pending_of(&who, contribution_id)?;
		ensure!(
			!CancelRequests::<T>::contains_key(contribution_id),
			Error::<T>::CancelAlreadyRequested
		);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			now >= contribution.submitted_at.saturating_add(T::PendingTimeout::get()),
			Error::<T>::TooEarly
		);
		let withdraw_from = now.saturating_add(T::CancelDelay::get());
		CancelRequests::<T>::insert(contribution_id, withdraw_from);
		Self::deposit_event(Event::CancelRequested {
			contribution_id,
			dao_id: contribution.dao_id,
			contributor: who,
			withdraw_from,
		});
		Ok(())
	}

	pub(crate) fn do_withdraw(
		who: T::AccountId,
		contribution_id: ContributionId,
	) -> DispatchResult {
		let contribution = Self::pending_of(&who, contribution_id)?;
		let withdraw_from =
			CancelRequests::<T>::get(contribution_id).ok_or(Error::<T>::CancelNotRequested)?;
		ensure!(frame_system::Pallet::<T>::block_number() >= withdraw_from, Error::<T>::TooEarly);
		T::Currency::release(
			&HoldReason::ContributionDeposit.into(),
			&who,
			contribution.deposit,
			Precision::BestEffort,
		)?;
		// Gone entirely: nobody judged it, and the same ciphertext may be submitted again.
		Self::remove_record(contribution_id, &contribution)?;
		Self::unqueue(contribution.dao_id, contribution_id);
		Self::deposit_event(Event::Cancelled {
			contribution_id,
			dao_id: contribution.dao_id,
			contributor: who,
		});
		Ok(())
	}

	pub(crate) fn do_remove(who: T::AccountId, contribution_id: ContributionId) -> DispatchResult {
		let contribution =
			Contributions::<T>::get(contribution_id).ok_or(Error::<T>::UnknownContribution)?;
		ensure!(contribution.contributor == who, Error::<T>::NotContributor);
		ensure!(
			matches!(contribution.status, ContributionStatus::Rejected { .. }),
			Error::<T>::NotRejected
		);
		Self::remove_record(contribution_id, &contribution)?;
		Self::deposit_event(Event::Removed {
			contribution_id,
			dao_id: contribution.dao_id,
			contributor: who,
		});
		Ok(())
	}

	/// Removes a contribution's record and index entries and releases its record deposit.
	fn remove_record(id: ContributionId, contribution: &ContributionOf<T>) -> DispatchResult {
		T::Currency::release(
			&HoldReason::ContributionRecord.into(),
			&contribution.contributor,
			contribution.record_deposit,
			Precision::BestEffort,
		)?;
		Contributions::<T>::remove(id);
		ByCiphertext::<T>::remove(contribution.dao_id, contribution.ciphertext_hash);
		ByContributor::<T>::remove(&contribution.contributor, id);
		Ok(())
	}

	/// Every check an attestation must pass, in the pool and in the block. Cheap checks come
	/// first; the signature is verified once everything else about the attestation checks
	/// out (the fingerprint lookup, a read, comes after it only because it matters only for a
	/// genuine attestation).
	pub fn check_attestation(
		attestation: &Attestation<BlockNumberFor<T>>,
		signature: &sr25519::Signature,
	) -> Result<Attested<T>, Error<T>> {
		let contribution = Contributions::<T>::get(attestation.contribution_id)
			.ok_or(Error::<T>::UnknownContribution)?;
		ensure!(contribution.status == ContributionStatus::Pending, Error::<T>::AlreadyAttested);
		ensure!(contribution.dao_id == attestation.dao_id, Error::<T>::WrongDao);
		let terms = T::Daos::dao_terms(contribution.dao_id).ok_or(Error::<T>::UnknownDao)?;
		ensure!(attestation.measurement == terms.measurement, Error::<T>::WrongMeasurement);
		ensure!(
			attestation.ciphertext_hash == contribution.ciphertext_hash,
			Error::<T>::CiphertextMismatch
		);
		ensure!(
			attestation.contributor == Self::account_bytes(&contribution.contributor),
			Error::<T>::WrongContributor
		);
		ensure!(
			frame_system::Pallet::<T>::block_number() <= attestation.valid_until,
			Error::<T>::AttestationExpired
		);

		// Last, the one expensive check: junk that fails the cheap ones costs the pool no
		// signature verification.
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let payload = signing_payload(attestation, &H256::from_slice(genesis.as_ref()));
		let signer = sr25519::Public::from_raw(terms.attestation_signer);
		ensure!(
			sp_io::crypto::sr25519_verify(signature, &payload, &signer),
			Error::<T>::BadSignature
		);
		if attestation.verdict == Verdict::Valid {
			ensure!(
				!Fingerprints::<T>::contains_key(contribution.dao_id, attestation.fingerprint),
				Error::<T>::DuplicateFingerprint
			);
		}
		Ok((contribution, terms))
	}

	/// An account id as attestations and statements name it: its 32-byte encoding (what
	/// `AccountId32` is), zero-padded if shorter; hashed if longer.
	pub fn account_bytes(who: &T::AccountId) -> [u8; 32] {
		let encoded = who.encode();
		if encoded.len() > 32 {
			return sp_io::hashing::blake2_256(&encoded);
		}
		let mut bytes = [0u8; 32];
		bytes[..encoded.len()].copy_from_slice(&encoded);
		bytes
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

	/// Invariants: ids are below `NextContributionId`; each contribution's DAO exists;
	/// `Pending` lists exactly the pending contributions under their DAO, and `PendingDaos`
	/// counts them; cancel requests are of pending contributions; every contribution is
	/// indexed by ciphertext and contributor, and every index entry points to a contribution;
	/// each accepted contribution has exactly one fingerprint, and fingerprints point to
	/// accepted contributions of their DAO; what is held from each contributor is the sum of
	/// their pending deposits, and of their records' deposits.
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let next = NextContributionId::<T>::get();
		let mut count = 0u64;
		let mut accepted = 0u64;
		let mut pending: BTreeMap<DaoId, u32> = BTreeMap::new();
		let mut held: BTreeMap<T::AccountId, (BalanceOf<T>, BalanceOf<T>)> = BTreeMap::new();
		for (id, c) in Contributions::<T>::iter() {
			ensure!(id < next, "a contribution id is not below NextContributionId");
			ensure!(T::Daos::dao_terms(c.dao_id).is_some(), "a contribution of no DAO");
			let is_pending = c.status == ContributionStatus::Pending;
			ensure!(
				Pending::<T>::contains_key(c.dao_id, id) == is_pending,
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
			let (deposits, records) =
				held.entry(c.contributor.clone()).or_insert_with(|| (Zero::zero(), Zero::zero()));
			*records = records.saturating_add(c.record_deposit);
			if is_pending {
				let n = pending.entry(c.dao_id).or_default();
				*n += 1;
				*deposits = deposits.saturating_add(c.deposit);
			}
			if matches!(c.status, ContributionStatus::Accepted { .. }) {
				accepted += 1;
			}
			count += 1;
		}
		ensure!(
			Pending::<T>::iter_keys().count() as u32 == pending.values().sum::<u32>(),
			"Pending lists a judged id"
		);
		ensure!(
			PendingDaos::<T>::iter().collect::<BTreeMap<_, _>>() == pending,
			"PendingDaos does not count each DAO's pending contributions"
		);
		for id in CancelRequests::<T>::iter_keys() {
			let c = Contributions::<T>::get(id).ok_or("a cancel request of no contribution")?;
			ensure!(c.status == ContributionStatus::Pending, "a cancel request of a judged one");
		}
		ensure!(ByCiphertext::<T>::iter().count() as u64 == count, "a stale ciphertext entry");
		ensure!(ByContributor::<T>::iter().count() as u64 == count, "a stale contributor entry");
		let mut fingerprinted = alloc::collections::btree_set::BTreeSet::new();
		for (dao_id, _, id) in Fingerprints::<T>::iter() {
			let c = Contributions::<T>::get(id).ok_or("a fingerprint of no contribution")?;
			ensure!(c.dao_id == dao_id, "a fingerprint in another DAO");
			ensure!(
				matches!(c.status, ContributionStatus::Accepted { .. }),
				"a fingerprint of a contribution not accepted"
			);
			ensure!(fingerprinted.insert(id), "two fingerprints of one contribution");
		}
		// Each fingerprint points to a distinct accepted contribution: as many as there are
		// accepted contributions means each has exactly one.
		ensure!(
			fingerprinted.len() as u64 == accepted,
			"an accepted contribution without a fingerprint"
		);
		for (who, (deposits, records)) in held {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ContributionDeposit.into(), &who)
					== deposits,
				"held contribution deposits differ from the pending deposits"
			);
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ContributionRecord.into(), &who)
					== records,
				"held record deposits differ from the records' deposits"
			);
		}
		Ok(())
	}
}
