//! The ledger and reward logic. Every balance change settles the accounts it touches first.

use datacoop_primitives::dao::DaoId;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, Mutate},
		tokens::Preservation,
	},
};
use sp_core::U256;
use sp_runtime::{
	traits::{AccountIdConversion, CheckedAdd, CheckedSub, Zero},
	SaturatedConversion,
};

use crate::{
	BalanceOf, Config, Error, Event, Frozen, Holding, Holdings, Pallet, RewardPool, Rewards,
	TotalSupply, MAGNITUDE,
};

impl<T: Config> Pallet<T> {
	/// The account that holds DAO `dao_id`'s undistributed rewards.
	pub fn reward_pot(dao_id: DaoId) -> T::AccountId {
		T::PalletId::get().into_sub_account_truncating(dao_id)
	}

	/// `who`'s dataset tokens of DAO `dao_id`.
	pub fn balance(dao_id: DaoId, who: &T::AccountId) -> BalanceOf<T> {
		Holdings::<T>::get(dao_id, who).map(|h| h.balance).unwrap_or_default()
	}

	/// What `who` could claim from DAO `dao_id`'s pot now, in whole plancks.
	pub fn claimable(dao_id: DaoId, who: &T::AccountId) -> BalanceOf<T> {
		let Some(mut holding) = Holdings::<T>::get(dao_id, who) else { return Zero::zero() };
		// A debt that overflows cannot be claimed either (every call would fail): nothing.
		match Self::settle(&mut holding, Rewards::<T>::get(dao_id).per_token) {
			Ok(()) => Self::whole_plancks(holding.unclaimed),
			Err(_) => Zero::zero(),
		}
	}

	/// Mints `amount` of DAO `dao_id`'s token to `who`: for an accepted contribution. The
	/// caller (another pallet) decides when; holders' rewards so far are not diluted.
	/// `MinHolding` does not apply: a mint is paid for by a judged contribution, not free
	/// like a transfer, and a small reward must not make an accepted contribution fail.
	pub fn mint(dao_id: DaoId, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let supply =
			TotalSupply::<T>::get(dao_id).checked_add(&amount).ok_or(Error::<T>::Overflow)?;
		let per_token = Rewards::<T>::get(dao_id).per_token;
		let mut holding = Holdings::<T>::get(dao_id, who).unwrap_or_default();
		Self::settle(&mut holding, per_token)?;
		holding.balance = holding.balance.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
		holding.reward_debt = Self::debt(holding.balance, per_token)?;

		Holdings::<T>::insert(dao_id, who, holding);
		TotalSupply::<T>::insert(dao_id, supply);
		Self::deposit_event(Event::Minted { dao_id, who: who.clone(), amount });
		Ok(())
	}

	pub(crate) fn do_transfer(
		dao_id: DaoId,
		from: T::AccountId,
		to: T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		ensure!(from != to, Error::<T>::SelfTransfer);
		let mut pool = Rewards::<T>::get(dao_id);
		let mut sender =
			Holdings::<T>::get(dao_id, &from).ok_or(Error::<T>::InsufficientBalance)?;
		let mut receiver = Holdings::<T>::get(dao_id, &to).unwrap_or_default();
		Self::settle(&mut sender, pool.per_token)?;
		Self::settle(&mut receiver, pool.per_token)?;

		sender.balance =
			sender.balance.checked_sub(&amount).ok_or(Error::<T>::InsufficientBalance)?;
		receiver.balance = receiver.balance.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
		// Tokens that voted in an open proposal stay put, or they could vote again elsewhere.
		let frozen = Frozen::<T>::get(dao_id, &from).unwrap_or_default();
		ensure!(sender.balance >= frozen, Error::<T>::TokensFrozen);
		let min = T::MinHolding::get();
		ensure!(sender.balance.is_zero() || sender.balance >= min, Error::<T>::BelowMinHolding);
		ensure!(receiver.balance >= min, Error::<T>::BelowMinHolding);
		sender.reward_debt = Self::debt(sender.balance, pool.per_token)?;
		receiver.reward_debt = Self::debt(receiver.balance, pool.per_token)?;

		if Self::store(dao_id, &from, sender, &mut pool) {
			Rewards::<T>::insert(dao_id, pool);
		}
		Holdings::<T>::insert(dao_id, &to, receiver);
		Self::deposit_event(Event::Transferred { dao_id, from, to, amount });
		Ok(())
	}

	pub(crate) fn do_deposit_rewards(
		dao_id: DaoId,
		from: T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let supply = U256::from(TotalSupply::<T>::get(dao_id).saturated_into::<u128>());
		ensure!(!supply.is_zero(), Error::<T>::NoHolders);
		let mut pool = Rewards::<T>::get(dao_id);
		let first = pool.deposited.is_zero();
		pool.deposited = pool.deposited.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
		// amount × MAGNITUDE fits: a u128 times 10¹⁸ is below 2¹⁹⁰.
		let to_share = U256::from(amount.saturated_into::<u128>())
			.saturating_mul(U256::from(MAGNITUDE))
			.checked_add(pool.undistributed)
			.ok_or(Error::<T>::Overflow)?;
		let increase = to_share / supply;
		pool.per_token = pool.per_token.checked_add(increase).ok_or(Error::<T>::Overflow)?;
		// Under `supply`: kept for the next deposit rather than lost to rounding.
		pool.undistributed = to_share - increase * supply;

		// The first deposit also pays the pot's existential deposit, which stays there.
		let pot = Self::reward_pot(dao_id);
		let pay = if first {
			amount.checked_add(&T::Currency::minimum_balance()).ok_or(Error::<T>::Overflow)?
		} else {
			amount
		};
		T::Currency::transfer(&from, &pot, pay, Preservation::Preserve)
			.map_err(|_| Error::<T>::CannotPayRewards)?;

		Rewards::<T>::insert(dao_id, pool);
		Self::deposit_event(Event::RewardsDeposited { dao_id, from, amount });
		Ok(())
	}

	pub(crate) fn do_claim_rewards(
		dao_id: DaoId,
		who: T::AccountId,
	) -> Result<BalanceOf<T>, DispatchError> {
		let mut holding = Holdings::<T>::get(dao_id, &who).ok_or(Error::<T>::NothingToClaim)?;
		let mut pool = Rewards::<T>::get(dao_id);
		Self::settle(&mut holding, pool.per_token)?;
		let amount = Self::whole_plancks(holding.unclaimed);
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		pool.claimed = pool.claimed.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
		// Preserve: the pot keeps its existential deposit, so it is never reaped.
		T::Currency::transfer(&Self::reward_pot(dao_id), &who, amount, Preservation::Preserve)?;

		// What is left is the fraction of a planck no claim can pay yet.
		holding.unclaimed %= U256::from(MAGNITUDE);
		Self::store(dao_id, &who, holding, &mut pool);
		Rewards::<T>::insert(dao_id, pool);
		Self::deposit_event(Event::RewardsClaimed { dao_id, who, amount });
		Ok(amount)
	}

	/// Freezes `amount` of `who`'s tokens of DAO `dao_id` (zero lifts the freeze).
	pub fn set_freeze(dao_id: DaoId, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			Frozen::<T>::remove(dao_id, who);
		} else {
			ensure!(Self::balance(dao_id, who) >= amount, Error::<T>::InsufficientBalance);
			Frozen::<T>::insert(dao_id, who, amount);
		}
		Ok(())
	}

	/// Moves everything `holding` earned since it was last settled into `unclaimed`, to the
	/// 10⁻¹⁸ planck, and sets its debt to the current reward per token.
	fn settle(holding: &mut Holding<BalanceOf<T>>, per_token: U256) -> Result<(), Error<T>> {
		let debt = Self::debt(holding.balance, per_token)?;
		holding.unclaimed =
			holding.unclaimed.saturating_add(debt.saturating_sub(holding.reward_debt));
		holding.reward_debt = debt;
		Ok(())
	}

	/// What a holding of `balance` tokens would have earned at `per_token` since the pool
	/// began. Checked: a saturated debt would silently pay its holder the wrong amount.
	fn debt(balance: BalanceOf<T>, per_token: U256) -> Result<U256, Error<T>> {
		U256::from(balance.saturated_into::<u128>())
			.checked_mul(per_token)
			.ok_or(Error::<T>::Overflow)
	}

	/// The whole plancks in an amount kept in `MAGNITUDE` units.
	fn whole_plancks(scaled: U256) -> BalanceOf<T> {
		let plancks = scaled / U256::from(MAGNITUDE);
		// Never more than was deposited, which is a balance; saturate all the same.
		u128::try_from(plancks).unwrap_or(u128::MAX).saturated_into()
	}

	/// Keeps a holding, or removes it once it holds no tokens and is owed less than a
	/// planck; that fraction then goes back to the pool (`undistributed`). Says whether
	/// `pool` changed.
	fn store(
		dao_id: DaoId,
		who: &T::AccountId,
		holding: Holding<BalanceOf<T>>,
		pool: &mut RewardPool<BalanceOf<T>>,
	) -> bool {
		if holding.balance.is_zero() && Self::whole_plancks(holding.unclaimed).is_zero() {
			Holdings::<T>::remove(dao_id, who);
			pool.undistributed = pool.undistributed.saturating_add(holding.unclaimed);
			!holding.unclaimed.is_zero()
		} else {
			Holdings::<T>::insert(dao_id, who, holding);
			false
		}
	}

	/// Invariants, per DAO: the supply is the sum of the balances; no holding is empty (it
	/// holds tokens or is owed at least a planck); no reward is lost or made up, to the
	/// 10⁻¹⁸ planck: `deposited × MAGNITUDE = claimed × MAGNITUDE + Σ owed + undistributed`;
	/// so the rounding dust (deposited − claimed − Σ claimable) is under one planck per
	/// holding plus `undistributed`; and the pot holds at least what is still owed.
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		#[derive(Default)]
		struct Totals {
			supply: u128,
			holdings: u128,
			owed: U256,
			claimable: u128,
		}
		let mut totals: BTreeMap<DaoId, Totals> = BTreeMap::new();
		for (dao_id, _, mut holding) in Holdings::<T>::iter() {
			Self::settle(&mut holding, Rewards::<T>::get(dao_id).per_token)
				.map_err(|_| "a holding's reward debt overflows")?;
			let balance: u128 = holding.balance.saturated_into();
			let claimable: u128 = Self::whole_plancks(holding.unclaimed).saturated_into();
			ensure!(balance != 0 || claimable != 0, "an empty holding is stored");
			let t = totals.entry(dao_id).or_default();
			t.supply += balance;
			t.holdings += 1;
			t.owed = t.owed.saturating_add(holding.unclaimed);
			t.claimable += claimable;
		}
		for (dao_id, total) in TotalSupply::<T>::iter() {
			let summed = totals.get(&dao_id).map_or(0, |t| t.supply);
			ensure!(summed == total.saturated_into::<u128>(), "supply is not the sum of balances");
		}
		for (dao_id, t) in &totals {
			ensure!(
				TotalSupply::<T>::contains_key(dao_id) || t.supply == 0,
				"balances without a supply"
			);
		}
		let m = U256::from(MAGNITUDE);
		for (dao_id, pool) in Rewards::<T>::iter() {
			let t = totals.remove(&dao_id).unwrap_or_default();
			let deposited: u128 = pool.deposited.saturated_into();
			let claimed: u128 = pool.claimed.saturated_into();
			let outstanding = U256::from(claimed)
				.saturating_mul(m)
				.saturating_add(t.owed)
				.saturating_add(pool.undistributed);
			ensure!(
				U256::from(deposited).saturating_mul(m) == outstanding,
				"rewards deposited are not exactly those claimed, owed and undistributed"
			);
			ensure!(claimed + t.claimable <= deposited, "more rewards owed than deposited");
			let dust = deposited - claimed - t.claimable;
			let bound = U256::from(t.holdings).saturating_add(pool.undistributed / m);
			ensure!(U256::from(dust) <= bound, "rounding dust above one planck per holding");
			let pot: u128 = T::Currency::balance(&Self::reward_pot(dao_id)).saturated_into();
			ensure!(pot >= deposited - claimed, "the pot holds less than is owed");
		}
		ensure!(totals.values().all(|t| t.owed.is_zero()), "rewards owed without a deposit");
		for (dao_id, who, frozen) in Frozen::<T>::iter() {
			ensure!(!frozen.is_zero(), "a zero freeze is stored");
			ensure!(frozen <= Self::balance(dao_id, &who), "more tokens frozen than held");
		}
		Ok(())
	}
}
