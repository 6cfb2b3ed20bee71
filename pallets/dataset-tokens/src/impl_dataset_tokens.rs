//! Minting for other pallets, through `datacoop_primitives::traits::DatasetTokens`.

use datacoop_primitives::{dao::DaoId, traits::DatasetTokens};
use sp_runtime::DispatchResult;

use crate::{BalanceOf, Config, Pallet};

impl<T: Config> DatasetTokens<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn mint(dao_id: DaoId, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		Pallet::<T>::mint(dao_id, who, amount)
	}
}
