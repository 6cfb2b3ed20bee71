//! The logic behind the calls: check everything first, hold the deposit, write last.

use alloc::vec::Vec;
use codec::Encode;
use datacoop_primitives::{
	dao::{
		collective_key_create_payload, collective_key_payload, Collective, DaoId, DaoInfo,
		DaoStatus, TokenInfo,
	},
	token::DATASET_TOKEN_DECIMALS,
	url::{check_http_url, UrlError},
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use frame_system::pallet_prelude::*;
use sp_runtime::{
	traits::{Saturating, Zero},
	Permill,
};

use crate::{
	AllowLocalUrls, AttestationSigners, BalanceOf, Config, Dao, DaoOf, Daos, DevMinVotingPeriod,
	Error, Event, Governed, HoldReason, NextDaoId, Pallet, RulesOf, StoredToken, UriOf,
};

impl<T: Config> Pallet<T> {
	/// DAO `dao_id` as runtime APIs show it to clients ([`DaoInfo`]), if it exists.
	pub fn dao_info(
		dao_id: DaoId,
	) -> Option<DaoInfo<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		let dao = Daos::<T>::get(dao_id)?;
		Some(DaoInfo {
			governed: Governed::<T>::contains_key(dao_id),
			admin: dao.admin,
			deposit: dao.deposit,
			name: dao.name.into_inner(),
			metadata_uri: dao.metadata_uri.into_inner(),
			token: TokenInfo {
				name: dao.token.name.into_inner(),
				symbol: dao.token.symbol.into_inner(),
			},
			token_decimals: DATASET_TOKEN_DECIMALS,
			collective: Collective {
				encryption_key: dao.collective.encryption_key,
				attestation_signer: dao.collective.attestation_signer,
				endpoint: dao.collective.endpoint.into_inner(),
				measurement: dao.collective.measurement,
			},
			rules: dao.rules,
			status: dao.status,
			created_at: dao.created_at,
		})
	}

	/// The DAO `dao_id` if it exists and takes contributions.
	pub fn active_dao(dao_id: DaoId) -> Result<DaoOf<T>, Error<T>> {
		let dao = Daos::<T>::get(dao_id).ok_or(Error::<T>::UnknownDao)?;
		ensure!(dao.status == DaoStatus::Active, Error::<T>::DaoRetired);
		Ok(dao)
	}

	/// Checks that `origin` is the force origin, or the admin of `dao_id` while it is not
	/// handed over, and returns the DAO.
	pub(crate) fn ensure_admin(
		origin: OriginFor<T>,
		dao_id: DaoId,
	) -> Result<DaoOf<T>, DispatchError> {
		let dao = Daos::<T>::get(dao_id).ok_or(Error::<T>::UnknownDao)?;
		if T::ForceOrigin::try_origin(origin.clone()).is_err() {
			let who = ensure_signed(origin)?;
			ensure!(who == dao.admin, Error::<T>::NotAdmin);
			ensure!(!Governed::<T>::contains_key(dao_id), Error::<T>::Governed);
		}
		Ok(dao)
	}

	pub(crate) fn do_hand_over(dao_id: DaoId) -> DispatchResult {
		ensure!(!Governed::<T>::contains_key(dao_id), Error::<T>::Governed);
		Governed::<T>::insert(dao_id, ());
		Self::deposit_event(Event::HandedOver { dao_id });
		Ok(())
	}

	/// Public for the runtime's benchmark helper, which creates DAOs for other pallets'
	/// benchmarks; calls go through [`Pallet::create`], which checks the key proof first
	/// (this does not).
	pub fn do_create(
		admin: T::AccountId,
		name: Vec<u8>,
		metadata_uri: Vec<u8>,
		token: TokenInfo<Vec<u8>>,
		collective: Collective<Vec<u8>>,
		rules: RulesOf<T>,
	) -> Result<DaoId, DispatchError> {
		ensure!(!name.is_empty(), Error::<T>::EmptyName);
		let name = BoundedVec::try_from(name).map_err(|_| Error::<T>::NameTooLong)?;
		let metadata_uri =
			BoundedVec::try_from(metadata_uri).map_err(|_| Error::<T>::MetadataUriTooLong)?;
		let token = Self::checked_token(token)?;
		let collective = Self::checked_collective(collective)?;
		Self::check_rules(&rules)?;

		let dao_id = NextDaoId::<T>::get();
		let next = dao_id.checked_add(1).ok_or(Error::<T>::NoMoreDaoIds)?;
		Self::ensure_keys_free(dao_id, &collective)?;
		let mut dao = Dao::<T> {
			admin: admin.clone(),
			deposit: Zero::zero(),
			name,
			metadata_uri,
			token,
			collective,
			rules,
			status: DaoStatus::Active,
			created_at: frame_system::Pallet::<T>::block_number(),
		};
		let deposit = Self::deposit_for(&dao);
		T::Currency::hold(&HoldReason::DaoDeposit.into(), &admin, deposit)
			.map_err(|_| Error::<T>::CannotPayDeposit)?;
		dao.deposit = deposit;

		AttestationSigners::<T>::insert(dao.collective.attestation_signer, dao_id);
		Daos::<T>::insert(dao_id, dao);
		NextDaoId::<T>::put(next);
		Self::deposit_event(Event::Created { dao_id, admin, deposit });
		Ok(dao_id)
	}

	pub(crate) fn do_update_collective(
		dao_id: DaoId,
		mut dao: DaoOf<T>,
		collective: Collective<Vec<u8>>,
	) -> DispatchResult {
		ensure!(dao.status == DaoStatus::Active, Error::<T>::DaoRetired);
		let collective = Self::checked_collective(collective)?;
		Self::ensure_keys_free(dao_id, &collective)?;
		let old = core::mem::replace(&mut dao.collective, collective);
		let measurement = dao.collective.measurement;
		Self::settle_deposit(dao_id, &mut dao)?;
		// The old keys are let go: the DAO's operator may have rotated them because they
		// leaked, and they must not keep serving it.
		AttestationSigners::<T>::remove(old.attestation_signer);
		AttestationSigners::<T>::insert(dao.collective.attestation_signer, dao_id);
		Daos::<T>::insert(dao_id, dao);
		Self::deposit_event(Event::CollectiveUpdated { dao_id, measurement });
		Ok(())
	}

	pub(crate) fn do_update_rules(
		dao_id: DaoId,
		mut dao: DaoOf<T>,
		rules: RulesOf<T>,
	) -> DispatchResult {
		ensure!(dao.status == DaoStatus::Active, Error::<T>::DaoRetired);
		Self::check_rules(&rules)?;
		dao.rules = rules;
		Daos::<T>::insert(dao_id, dao);
		Self::deposit_event(Event::RulesUpdated { dao_id });
		Ok(())
	}

	pub(crate) fn do_retire(dao_id: DaoId, mut dao: DaoOf<T>) -> DispatchResult {
		ensure!(dao.status == DaoStatus::Active, Error::<T>::DaoRetired);
		dao.status = DaoStatus::Retired;
		Daos::<T>::insert(dao_id, dao);
		Self::deposit_event(Event::Retired { dao_id });
		Ok(())
	}

	/// What a DAO's record costs to store: the base plus a price per encoded byte.
	pub fn deposit_for(dao: &DaoOf<T>) -> BalanceOf<T> {
		let bytes: BalanceOf<T> = (dao.encoded_size() as u32).into();
		T::DaoDepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
	}

	/// Holds more, or releases some, so that the DAO's deposit matches its record's size.
	fn settle_deposit(dao_id: DaoId, dao: &mut DaoOf<T>) -> DispatchResult {
		let old = dao.deposit;
		// The deposit field has the same encoded size whatever its value.
		let new = Self::deposit_for(dao);
		let reason = HoldReason::DaoDeposit.into();
		if new > old {
			T::Currency::hold(&reason, &dao.admin, new.saturating_sub(old))
				.map_err(|_| Error::<T>::CannotPayDeposit)?;
		} else if new < old {
			T::Currency::release(&reason, &dao.admin, old.saturating_sub(new), Precision::Exact)?;
		}
		if new != old {
			dao.deposit = new;
			Self::deposit_event(Event::DepositUpdated { dao_id, old, new });
		}
		Ok(())
	}

	/// Refuses a key set whose attestation signer another DAO than `dao_id` registered. (The
	/// encryption key is not held to one DAO: nothing can prove that a DAO holds an X25519
	/// key, so holding it to one would let anyone block it; the signer's proof binds it, and
	/// a server answers only for the DAO its key set is bound to.)
	fn ensure_keys_free(dao_id: DaoId, c: &Collective<UriOf<T>>) -> Result<(), Error<T>> {
		let free =
			AttestationSigners::<T>::get(c.attestation_signer).is_none_or(|owner| owner == dao_id);
		ensure!(free, Error::<T>::CollectiveKeyInUse);
		Ok(())
	}

	/// This chain's genesis hash, as key proofs name it.
	fn genesis_hash() -> [u8; 32] {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let mut genesis_hash = [0u8; 32];
		let bytes = genesis.as_ref();
		let n = bytes.len().min(32);
		genesis_hash[..n].copy_from_slice(&bytes[..n]);
		genesis_hash
	}

	/// The bytes a collective's attestation key signs to consent to serve the existing DAO
	/// `dao_id` with `encryption_key`, on this chain (its genesis hash).
	pub fn key_proof_payload(dao_id: DaoId, encryption_key: &[u8; 32]) -> Vec<u8> {
		collective_key_payload(&Self::genesis_hash(), dao_id, encryption_key)
	}

	/// The bytes a collective's attestation key signs to consent to serve the DAO `creator`
	/// creates as `dao_id` with `encryption_key`, on this chain.
	pub fn create_key_proof_payload(
		creator: &T::AccountId,
		dao_id: DaoId,
		encryption_key: &[u8; 32],
	) -> Vec<u8> {
		collective_key_create_payload(&Self::genesis_hash(), creator, dao_id, encryption_key)
	}

	/// Checks that `key_proof` is `c`'s attestation signer's consent to serve the existing DAO
	/// `dao_id` with `c`'s encryption key.
	pub(crate) fn check_existing_key_proof(
		dao_id: DaoId,
		c: &Collective<Vec<u8>>,
		key_proof: &[u8; 64],
	) -> Result<(), Error<T>> {
		Self::check_key_proof(c, &Self::key_proof_payload(dao_id, &c.encryption_key), key_proof)
	}

	/// Checks that `key_proof` is `c`'s attestation signer's signature over `payload` (one of
	/// the two payloads above, for `c`'s encryption key).
	pub(crate) fn check_key_proof(
		c: &Collective<Vec<u8>>,
		payload: &[u8],
		key_proof: &[u8; 64],
	) -> Result<(), Error<T>> {
		let signature = sp_core::sr25519::Signature::from_raw(*key_proof);
		let signer = sp_core::sr25519::Public::from_raw(c.attestation_signer);
		ensure!(
			sp_io::crypto::sr25519_verify(&signature, payload, &signer),
			Error::<T>::BadKeyProof
		);
		Ok(())
	}

	fn checked_token(token: TokenInfo<Vec<u8>>) -> Result<StoredToken<T>, Error<T>> {
		ensure!(!token.name.is_empty(), Error::<T>::EmptyName);
		let name = BoundedVec::try_from(token.name).map_err(|_| Error::<T>::NameTooLong)?;
		ensure!(
			!token.symbol.is_empty() && token.symbol.iter().all(|c| c.is_ascii_alphanumeric()),
			Error::<T>::InvalidTokenSymbol
		);
		let symbol =
			BoundedVec::try_from(token.symbol).map_err(|_| Error::<T>::InvalidTokenSymbol)?;
		Ok(StoredToken { name, symbol })
	}

	pub(crate) fn checked_collective(
		c: Collective<Vec<u8>>,
	) -> Result<Collective<UriOf<T>>, Error<T>> {
		ensure!(
			c.encryption_key != [0u8; 32] && c.attestation_signer != [0u8; 32],
			Error::<T>::InvalidCollectiveKey
		);
		let endpoint = UriOf::<T>::try_from(c.endpoint).map_err(|_| Error::<T>::EndpointTooLong)?;
		check_http_url(&endpoint, AllowLocalUrls::<T>::get()).map_err(|e| match e {
			UrlError::Malformed => Error::<T>::InvalidEndpoint,
			UrlError::LocalHost => Error::<T>::LocalEndpoint,
		})?;
		Ok(Collective {
			encryption_key: c.encryption_key,
			attestation_signer: c.attestation_signer,
			endpoint,
			measurement: c.measurement,
		})
	}

	pub(crate) fn check_rules(rules: &RulesOf<T>) -> DispatchResult {
		ensure!(
			rules.min_contribution_size > 0
				&& rules.min_contribution_size <= rules.max_contribution_size,
			Error::<T>::InvalidSizeRange
		);
		ensure!(
			rules.max_contribution_size <= T::MaxContributionSize::get(),
			Error::<T>::ContributionSizeTooLarge
		);
		ensure!(!rules.reward_at_full_score.is_zero(), Error::<T>::ZeroReward);
		ensure!(
			rules.contribution_deposit >= T::MinContributionDeposit::get(),
			Error::<T>::ContributionDepositTooLow
		);
		let min_voting_period =
			DevMinVotingPeriod::<T>::get().unwrap_or_else(T::MinVotingPeriod::get);
		ensure!(rules.voting_period >= min_voting_period, Error::<T>::VotingPeriodTooShort);
		ensure!(rules.voting_period <= T::MaxVotingPeriod::get(), Error::<T>::VotingPeriodTooLong);
		ensure!(
			rules.quorum > Permill::zero() && rules.approval_threshold > Permill::zero(),
			Error::<T>::InvalidThreshold
		);
		Ok(())
	}

	/// Invariants: every id below `NextDaoId` and none above; each DAO's deposit is what its
	/// record costs; what is held from each admin is the sum of their DAOs' deposits; each
	/// DAO's collective keys are registered to it, and no others are registered.
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let next = NextDaoId::<T>::get();
		let mut count = 0u32;
		let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (id, dao) in Daos::<T>::iter() {
			ensure!(id < next, "a DAO id is not below NextDaoId");
			ensure!(
				dao.deposit == Self::deposit_for(&dao),
				"a DAO deposit does not match its size"
			);
			ensure!(
				AttestationSigners::<T>::get(dao.collective.attestation_signer) == Some(id),
				"a DAO's collective signer is not registered to it"
			);
			let sum = held.entry(dao.admin.clone()).or_insert_with(Zero::zero);
			*sum = sum.saturating_add(dao.deposit);
			count += 1;
		}
		ensure!(count == next, "DAO ids are not contiguous from 0");
		ensure!(
			Governed::<T>::iter_keys().all(Daos::<T>::contains_key),
			"a DAO that does not exist is marked governed"
		);
		ensure!(
			AttestationSigners::<T>::iter().count() as u32 == count,
			"a collective signer is registered to no DAO or to a DAO with other keys"
		);
		for (admin, sum) in held {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::DaoDeposit.into(), &admin) == sum,
				"held DAO deposits differ from the DAOs' deposits"
			);
		}
		Ok(())
	}
}
