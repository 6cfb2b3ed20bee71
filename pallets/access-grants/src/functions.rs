//! The logic behind the calls and `AccessControl`: check everything first, then hold or move
//! funds, then write storage. Expiry is checked here, wherever a grant is read.

use alloc::vec::Vec;
use datacoop_primitives::{
	dao::DaoId,
	governance::{GrantId, Scope},
	traits::{DaoRegistry, TokenHolders},
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{AccountIdConversion, CheckedAdd, CheckedMul, Saturating, Zero},
	Permill,
};

use crate::{
	BalanceOf, Config, Error, Event, Grant, GrantInfoOf, GrantOf, Grants, HoldReason, NextGrantId,
	OfferOf, Offers, Pallet,
};

/// How many kinds of scope there are (`Scope::kind` is below it): a DAO has at most this many
/// offers.
const SCOPE_KINDS: u8 = 3;

impl<T: Config> Pallet<T> {
	/// The account that holds DAO `dao_id`'s treasury: keyless, derived from this pallet's id
	/// and the DAO id.
	pub fn treasury(dao_id: DaoId) -> T::AccountId {
		T::PalletId::get().into_sub_account_truncating(dao_id)
	}

	/// What DAO `dao_id`'s treasury could spend now: its balance less the existential
	/// deposit it keeps.
	pub fn treasury_balance(dao_id: DaoId) -> BalanceOf<T> {
		T::Currency::reducible_balance(
			&Self::treasury(dao_id),
			Preservation::Preserve,
			Fortitude::Polite,
		)
	}

	/// `who`'s grant to DAO `dao_id`'s data, if it holds now: None once it expired, even
	/// before it is pruned.
	pub fn live_grant(dao_id: DaoId, who: &T::AccountId) -> Option<GrantInfoOf<T>> {
		let grant = Grants::<T>::get(GrantOf::<T>::get(dao_id, who)?)?;
		grant.is_live(frame_system::Pallet::<T>::block_number()).then(|| grant.info())
	}

	/// Grant `grant_id`, live or expired, until it is pruned, replaced or revoked.
	pub fn grant_info(grant_id: GrantId) -> Option<GrantInfoOf<T>> {
		Grants::<T>::get(grant_id).map(Grant::info)
	}

	/// DAO `dao_id`'s standing offers, by kind (Full, Anonymized, Aggregate).
	pub fn offers(dao_id: DaoId) -> Vec<OfferOf<T>> {
		(0..SCOPE_KINDS).filter_map(|kind| Offers::<T>::get(dao_id, kind)).collect()
	}

	pub(crate) fn do_buy(
		who: T::AccountId,
		dao_id: DaoId,
		scope: Scope,
		days: u32,
		max_price: BalanceOf<T>,
	) -> Result<GrantId, DispatchError> {
		let holders_share = Self::active_dao_share(dao_id)?;
		let offer = Offers::<T>::get(dao_id, scope.kind())
			.filter(|offer| offer.scope == scope)
			.ok_or(Error::<T>::NoOffer)?;
		ensure!((1..=offer.max_days).contains(&days), Error::<T>::InvalidDays);
		let price = offer.price_per_day.checked_mul(&days.into()).ok_or(Error::<T>::Overflow)?;
		ensure!(price <= max_price, Error::<T>::PriceAboveLimit);
		let duration =
			T::BlocksPerDay::get().checked_mul(&days.into()).ok_or(Error::<T>::Overflow)?;
		Self::issue(dao_id, holders_share, who, scope, duration, price)
	}

	/// Grants `grantee` `scope` of DAO `dao_id` for `duration` blocks, `fee` paid by the
	/// grantee: what a passed `GrantAccess` proposal does. The DAO must be active.
	pub(crate) fn do_grant(
		dao_id: DaoId,
		grantee: T::AccountId,
		scope: Scope,
		duration: BlockNumberFor<T>,
		fee: BalanceOf<T>,
	) -> Result<GrantId, DispatchError> {
		let holders_share = Self::active_dao_share(dao_id)?;
		Self::issue(dao_id, holders_share, grantee, scope, duration, fee)
	}

	/// What a grant's own terms must be, whoever makes it: a valid scope, and at least a
	/// block and at most `MaxGrantDuration`.
	pub(crate) fn check_grant(scope: &Scope, duration: BlockNumberFor<T>) -> DispatchResult {
		ensure!(scope.is_valid(), Error::<T>::InvalidScope);
		ensure!(
			!duration.is_zero() && duration <= T::MaxGrantDuration::get(),
			Error::<T>::InvalidDuration
		);
		Ok(())
	}

	/// What an offer must be: a valid scope, a price and days above zero, and every purchase
	/// it allows possible (no longer than `MaxGrantDuration`, at a price that is a balance).
	pub(crate) fn check_offer(offer: &OfferOf<T>) -> DispatchResult {
		ensure!(offer.scope.is_valid(), Error::<T>::InvalidScope);
		ensure!(!offer.price_per_day.is_zero() && offer.max_days > 0, Error::<T>::InvalidOffer);
		let longest = T::BlocksPerDay::get().checked_mul(&offer.max_days.into());
		ensure!(
			longest.is_some_and(|blocks| blocks <= T::MaxGrantDuration::get()),
			Error::<T>::InvalidOffer
		);
		ensure!(
			offer.price_per_day.checked_mul(&offer.max_days.into()).is_some(),
			Error::<T>::InvalidOffer
		);
		Ok(())
	}

	/// The share of fees DAO `dao_id` pays its token holders, if it exists and is active.
	fn active_dao_share(dao_id: DaoId) -> Result<Permill, Error<T>> {
		let terms = T::Daos::dao_terms(dao_id).ok_or(Error::<T>::UnknownDao)?;
		ensure!(terms.active, Error::<T>::DaoRetired);
		Ok(terms.rules.holders_share)
	}

	/// The grant logic `buy` and governance share. A live grant of the same scope is
	/// extended; a live grant of another scope stays and the call fails; an expired grant is
	/// replaced by a new one (new id) whose deposit is the one still held; with no grant, the
	/// deposit is held. Then the fee is paid.
	fn issue(
		dao_id: DaoId,
		holders_share: Permill,
		grantee: T::AccountId,
		scope: Scope,
		duration: BlockNumberFor<T>,
		fee: BalanceOf<T>,
	) -> Result<GrantId, DispatchError> {
		Self::check_grant(&scope, duration)?;
		let now = frame_system::Pallet::<T>::block_number();
		match GrantOf::<T>::get(dao_id, &grantee).and_then(Grants::<T>::get) {
			Some(mut grant) if grant.is_live(now) => {
				ensure!(grant.scope == scope, Error::<T>::OtherScopeLive);
				grant.expires = grant.expires.checked_add(&duration).ok_or(Error::<T>::Overflow)?;
				grant.paid = grant.paid.checked_add(&fee).ok_or(Error::<T>::Overflow)?;
				Self::pay_fee(dao_id, holders_share, &grantee, fee)?;

				Grants::<T>::insert(grant.id, &grant);
				Self::deposit_event(Event::Extended {
					grant_id: grant.id,
					expires: grant.expires,
					fee,
				});
				Ok(grant.id)
			},
			expired => {
				let grant_id = NextGrantId::<T>::get();
				let next = grant_id.checked_add(1).ok_or(Error::<T>::NoMoreGrantIds)?;
				let expires = now.checked_add(&duration).ok_or(Error::<T>::Overflow)?;
				// An expired grant's deposit is still held: the new grant takes it over.
				let deposit = match &expired {
					Some(old) => old.deposit,
					None => Self::hold_deposit(&grantee)?,
				};
				Self::pay_fee(dao_id, holders_share, &grantee, fee)?;

				if let Some(old) = expired {
					Grants::<T>::remove(old.id);
					Self::deposit_event(Event::Pruned {
						grant_id: old.id,
						by: grantee.clone(),
						reward: Zero::zero(),
					});
				}
				Grants::<T>::insert(
					grant_id,
					Grant::<T> {
						id: grant_id,
						dao_id,
						grantee: grantee.clone(),
						scope,
						starts: now,
						expires,
						paid: fee,
						deposit,
					},
				);
				GrantOf::<T>::insert(dao_id, &grantee, grant_id);
				NextGrantId::<T>::put(next);
				Self::deposit_event(Event::Granted {
					grant_id,
					dao_id,
					grantee,
					scope,
					expires,
					fee,
				});
				Ok(grant_id)
			},
		}
	}

	/// Splits `fee`, paid by `payer`, by the DAO's rules: `holders_share` to the token
	/// holders pro rata (all of it to the treasury while nobody holds the token), the rest to
	/// the treasury. A payment into an empty treasury also pays its existential deposit.
	fn pay_fee(
		dao_id: DaoId,
		holders_share: Permill,
		payer: &T::AccountId,
		fee: BalanceOf<T>,
	) -> DispatchResult {
		if fee.is_zero() {
			return Ok(());
		}
		let to_holders = if T::Tokens::total_supply(dao_id).is_zero() {
			Zero::zero()
		} else {
			holders_share.mul_floor(fee)
		};
		let to_treasury = fee.saturating_sub(to_holders);
		let treasury = Self::treasury(dao_id);
		// The existential deposit stays in the treasury for good: small fees never fail for
		// being below it, and spends can never reap the treasury.
		let into_treasury = if !to_treasury.is_zero() && T::Currency::balance(&treasury).is_zero() {
			to_treasury.checked_add(&T::Currency::minimum_balance()).ok_or(Error::<T>::Overflow)?
		} else {
			to_treasury
		};

		if !to_holders.is_zero() {
			T::Tokens::deposit_rewards(dao_id, payer, to_holders)
				.map_err(|_| Error::<T>::CannotPayFee)?;
		}
		if !into_treasury.is_zero() {
			T::Currency::transfer(payer, &treasury, into_treasury, Preservation::Preserve)
				.map_err(|_| Error::<T>::CannotPayFee)?;
		}
		Self::deposit_event(Event::FeePaid {
			dao_id,
			payer: payer.clone(),
			to_holders,
			to_treasury,
		});
		Ok(())
	}

	/// Holds `GrantDeposit` from `who` and says how much that was.
	fn hold_deposit(who: &T::AccountId) -> Result<BalanceOf<T>, DispatchError> {
		let deposit = T::GrantDeposit::get();
		if !deposit.is_zero() {
			T::Currency::hold(&HoldReason::GrantDeposit.into(), who, deposit)
				.map_err(|_| Error::<T>::CannotPayDeposit)?;
		}
		Ok(deposit)
	}

	fn release_deposit(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if !amount.is_zero() {
			T::Currency::release(
				&HoldReason::GrantDeposit.into(),
				who,
				amount,
				Precision::BestEffort,
			)?;
		}
		Ok(())
	}

	pub(crate) fn do_prune(by: T::AccountId, grant_id: GrantId) -> DispatchResult {
		let grant = Grants::<T>::get(grant_id).ok_or(Error::<T>::UnknownGrant)?;
		ensure!(!grant.is_live(frame_system::Pallet::<T>::block_number()), Error::<T>::GrantLive);

		// The reward comes out of this grant's own deposit, never more than it.
		let reward_due = T::PruneReward::get().min(grant.deposit);
		let reward = if by == grant.grantee || reward_due.is_zero() {
			Zero::zero()
		} else {
			T::Currency::transfer_on_hold(
				&HoldReason::GrantDeposit.into(),
				&grant.grantee,
				&by,
				reward_due,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Polite,
			)?
		};
		Self::release_deposit(&grant.grantee, grant.deposit.saturating_sub(reward))?;

		Grants::<T>::remove(grant_id);
		GrantOf::<T>::remove(grant.dao_id, &grant.grantee);
		Self::deposit_event(Event::Pruned { grant_id, by, reward });
		Ok(())
	}

	pub(crate) fn do_revoke(dao_id: DaoId, grant_id: GrantId) -> DispatchResult {
		let grant = Grants::<T>::get(grant_id).ok_or(Error::<T>::UnknownGrant)?;
		ensure!(grant.dao_id == dao_id, Error::<T>::WrongDao);
		// The deposit paid for the record, which goes now; the fee is not returned.
		Self::release_deposit(&grant.grantee, grant.deposit)?;

		Grants::<T>::remove(grant_id);
		GrantOf::<T>::remove(dao_id, &grant.grantee);
		Self::deposit_event(Event::Revoked { grant_id, dao_id });
		Ok(())
	}

	pub(crate) fn do_set_offer(dao_id: DaoId, offer: OfferOf<T>) -> DispatchResult {
		ensure!(T::Daos::dao_terms(dao_id).is_some(), Error::<T>::UnknownDao);
		Self::check_offer(&offer)?;

		Offers::<T>::insert(dao_id, offer.scope.kind(), &offer);
		Self::deposit_event(Event::OfferSet { dao_id, offer });
		Ok(())
	}

	pub(crate) fn do_remove_offer(dao_id: DaoId, scope: Scope) -> DispatchResult {
		let offer = Offers::<T>::get(dao_id, scope.kind()).ok_or(Error::<T>::NoOffer)?;
		Offers::<T>::remove(dao_id, scope.kind());
		Self::deposit_event(Event::OfferRemoved { dao_id, scope: offer.scope });
		Ok(())
	}

	pub(crate) fn do_spend(
		dao_id: DaoId,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		// Preserve: the treasury keeps its existential deposit, so it is never reaped.
		T::Currency::transfer(&Self::treasury(dao_id), to, amount, Preservation::Preserve)
			.map_err(|_| Error::<T>::InsufficientTreasury)?;
		Self::deposit_event(Event::TreasurySpent { dao_id, to: to.clone(), amount });
		Ok(())
	}

	/// Invariants: every grant is stored under its own id, below `NextGrantId`, ends after it
	/// starts, and is the one `GrantOf` names for its DAO and grantee; every `GrantOf` entry
	/// names a grant of that DAO and grantee (so one record per pair); what is held from each
	/// grantee is the sum of their grants' deposits; every offer is stored under its scope's
	/// kind, with a valid scope and a price and days above zero.
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let next = NextGrantId::<T>::get();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (id, grant) in Grants::<T>::iter() {
			ensure!(grant.id == id, "a grant is stored under another id");
			ensure!(id < next, "a grant id is not below NextGrantId");
			ensure!(grant.expires > grant.starts, "a grant ends before it starts");
			ensure!(
				GrantOf::<T>::get(grant.dao_id, &grant.grantee) == Some(id),
				"a grant is not the one GrantOf names for its DAO and grantee"
			);
			ensure!(grant.scope.is_valid(), "a grant has an invalid scope");
			let held = deposits.entry(grant.grantee).or_insert_with(Zero::zero);
			*held = held.saturating_add(grant.deposit);
		}
		for (dao_id, grantee, id) in GrantOf::<T>::iter() {
			let grant = Grants::<T>::get(id).ok_or("GrantOf names no grant")?;
			ensure!(
				grant.dao_id == dao_id && grant.grantee == grantee,
				"GrantOf names a grant of another DAO or grantee"
			);
		}
		for (grantee, held) in deposits {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::GrantDeposit.into(), &grantee) == held,
				"held grant deposits are not the sum of the grants' deposits"
			);
		}
		for (_, kind, offer) in Offers::<T>::iter() {
			ensure!(kind == offer.scope.kind(), "an offer is stored under another kind");
			ensure!(offer.scope.is_valid(), "an offer has an invalid scope");
			ensure!(!offer.price_per_day.is_zero(), "an offer is free");
			ensure!(offer.max_days > 0, "an offer sells no days");
		}
		Ok(())
	}
}
