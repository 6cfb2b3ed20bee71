//! What other pallets read of a DAO, through `datacoop_primitives::traits::DaoRegistry`, and
//! what a DAO's governance changes in it, through `DaoAdmin`.

use alloc::vec::Vec;
use datacoop_primitives::{
	dao::{Collective, DaoId, DaoRules, DaoStatus},
	traits::{DaoAdmin, DaoRegistry, DaoTerms},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::DispatchResult;

use crate::{AllowLocalUrls, BalanceOf, Config, Daos, Error, Pallet};

/// Governance acts on the holders' vote, which is authority enough: no origin is checked.
impl<T: Config> DaoAdmin<BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn update_rules(
		dao_id: DaoId,
		rules: DaoRules<BalanceOf<T>, BlockNumberFor<T>>,
	) -> DispatchResult {
		let dao = Daos::<T>::get(dao_id).ok_or(Error::<T>::UnknownDao)?;
		Self::do_update_rules(dao_id, dao, rules)
	}

	fn update_collective(
		dao_id: DaoId,
		collective: Collective<Vec<u8>>,
		key_proof: &[u8; 64],
	) -> DispatchResult {
		let dao = Daos::<T>::get(dao_id).ok_or(Error::<T>::UnknownDao)?;
		Self::check_existing_key_proof(dao_id, &collective, key_proof)?;
		Self::do_update_collective(dao_id, dao, collective)
	}

	fn retire(dao_id: DaoId) -> DispatchResult {
		let dao = Daos::<T>::get(dao_id).ok_or(Error::<T>::UnknownDao)?;
		Self::do_retire(dao_id, dao)
	}

	fn check_rules(rules: &DaoRules<BalanceOf<T>, BlockNumberFor<T>>) -> DispatchResult {
		Self::check_rules(rules)
	}

	fn check_collective(
		dao_id: DaoId,
		collective: &Collective<Vec<u8>>,
		key_proof: &[u8; 64],
	) -> DispatchResult {
		Self::checked_collective(collective.clone())?;
		Self::check_existing_key_proof(dao_id, collective, key_proof).map_err(Into::into)
	}
}

impl<T: Config> DaoRegistry<BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn dao_terms(dao_id: DaoId) -> Option<DaoTerms<BalanceOf<T>, BlockNumberFor<T>>> {
		Daos::<T>::get(dao_id).map(|dao| DaoTerms {
			active: dao.status == DaoStatus::Active,
			attestation_signer: dao.collective.attestation_signer,
			measurement: dao.collective.measurement,
			rules: dao.rules,
		})
	}

	fn collective_endpoint(dao_id: DaoId) -> Option<alloc::vec::Vec<u8>> {
		Daos::<T>::get(dao_id).map(|dao| dao.collective.endpoint.into_inner())
	}

	fn allows_local_urls() -> bool {
		AllowLocalUrls::<T>::get()
	}
}
