//! What other pallets use of the ledger: minting for accepted contributions
//! (`DatasetTokens`); balances, freezes and fee deposits for governance and access grants
//! (`TokenHolders`).

use datacoop_primitives::{
	dao::DaoId,
	traits::{DatasetTokens, TokenHolders},
};
use sp_runtime::DispatchResult;

use crate::{BalanceOf, Config, Frozen, Pallet, TotalSupply};

impl<T: Config> DatasetTokens<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn mint(dao_id: DaoId, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		Pallet::<T>::mint(dao_id, who, amount)
	}
}

impl<T: Config> TokenHolders<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn balance(dao_id: DaoId, who: &T::AccountId) -> BalanceOf<T> {
		Pallet::<T>::balance(dao_id, who)
	}

	fn total_supply(dao_id: DaoId) -> BalanceOf<T> {
		TotalSupply::<T>::get(dao_id)
	}

	fn frozen(dao_id: DaoId, who: &T::AccountId) -> BalanceOf<T> {
		Frozen::<T>::get(dao_id, who).unwrap_or_default()
	}

	fn set_freeze(dao_id: DaoId, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		Pallet::<T>::set_freeze(dao_id, who, amount)
	}

	fn deposit_rewards(dao_id: DaoId, from: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		Pallet::<T>::do_deposit_rewards(dao_id, from.clone(), amount)
	}
}
