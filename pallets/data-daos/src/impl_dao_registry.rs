//! What other pallets read of a DAO, through `datacoop_primitives::traits::DaoRegistry`.

use datacoop_primitives::{
	dao::{DaoId, DaoStatus},
	traits::{DaoRegistry, DaoTerms},
};
use frame_system::pallet_prelude::BlockNumberFor;

use crate::{AllowLocalUrls, BalanceOf, Config, Daos, Pallet};

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
