//! What a DAO's governance does with its grants, offers and treasury once a vote passed,
//! through `datacoop_primitives::traits::AccessControl`.

use datacoop_primitives::{
	dao::DaoId,
	governance::{GrantId, Offer, Scope},
	traits::AccessControl,
};
use frame_support::storage::with_storage_layer;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::DispatchResult;

use crate::{BalanceOf, Config, Pallet};

/// Governance acts on the holders' vote, which is authority enough: no origin is checked.
impl<T: Config> AccessControl<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn grant(
		dao_id: DaoId,
		grantee: &T::AccountId,
		scope: Scope,
		duration: BlockNumberFor<T>,
		fee: BalanceOf<T>,
	) -> DispatchResult {
		// A grant holds a deposit and makes two payments: all of them or none, even when
		// governance calls this outside a transactional dispatch (closing a vote in a hook).
		with_storage_layer(|| {
			Self::do_grant(dao_id, grantee.clone(), scope, duration, fee).map(|_| ())
		})
	}

	fn revoke(dao_id: DaoId, grant_id: GrantId) -> DispatchResult {
		Self::do_revoke(dao_id, grant_id)
	}

	fn set_offer(dao_id: DaoId, offer: Offer<BalanceOf<T>>) -> DispatchResult {
		Self::do_set_offer(dao_id, offer)
	}

	fn remove_offer(dao_id: DaoId, scope: Scope) -> DispatchResult {
		Self::do_remove_offer(dao_id, scope)
	}

	fn spend(dao_id: DaoId, to: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		Self::do_spend(dao_id, to, amount)
	}

	fn check_grant(scope: &Scope, duration: BlockNumberFor<T>) -> DispatchResult {
		Self::check_grant(scope, duration)
	}

	fn check_offer(offer: &Offer<BalanceOf<T>>) -> DispatchResult {
		Self::check_offer(offer)
	}
}
