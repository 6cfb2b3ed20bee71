//! Unit tests of the Access Grants pallet. Each runs through `build_and_execute`, which
//! checks the invariants of this pallet, the DAO registry and the token ledger on the state
//! the test leaves.

use datacoop_primitives::{
	dao::DaoId,
	governance::{GrantInfo, Offer, Scope},
	traits::AccessControl,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{InspectHold, MutateHold},
};
use sp_runtime::DispatchResult;

use crate::{mock::*, Error, Event, GrantOf, Grants, HoldReason, NextGrantId};

const ANONYMIZED_PER_DAY: Balance = 50;
const FULL_PER_DAY: Balance = 100;

/// What is held from `who` for grants.
fn held(who: u64) -> Balance {
	Balances::balance_on_hold(&HoldReason::GrantDeposit.into(), &who)
}

fn free(who: u64) -> Balance {
	Balances::free_balance(who)
}

fn buy(who: u64, dao_id: DaoId, scope: Scope, days: u32) -> DispatchResult {
	AccessGrants::buy(RuntimeOrigin::signed(who), dao_id, scope, days, u128::MAX)
}

fn offer(scope: Scope, price_per_day: Balance, max_days: u32) -> Offer<Balance> {
	Offer { scope, price_per_day, max_days }
}

/// A DAO whose token Alice (300) and Bob (100) hold, offering full access at 100 a day and
/// anonymized access at 50 a day, each for up to 30 days.
fn dao_with_holders() -> DaoId {
	let dao = create_dao(ALICE);
	assert_ok!(DatasetTokens::mint(dao, &ALICE, 300));
	assert_ok!(DatasetTokens::mint(dao, &BOB, 100));
	assert_ok!(AccessGrants::set_offer(dao, offer(Scope::Full, FULL_PER_DAY, 30)));
	assert_ok!(AccessGrants::set_offer(dao, offer(Scope::Anonymized, ANONYMIZED_PER_DAY, 30)));
	dao
}

#[test]
fn buying_creates_a_grant_and_splits_the_fee_exactly() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 5));

		// 5 days at 100: 80% to the holders, the rest to the treasury.
		System::assert_has_event(
			Event::FeePaid { dao_id: dao, payer: CONSUMER, to_holders: 400, to_treasury: 100 }
				.into(),
		);
		System::assert_last_event(
			Event::Granted {
				grant_id: 0,
				dao_id: dao,
				grantee: CONSUMER,
				scope: Scope::Full,
				expires: 1 + 5 * BLOCKS_PER_DAY,
				fee: 500,
			}
			.into(),
		);
		assert_eq!(
			AccessGrants::live_grant(dao, &CONSUMER),
			Some(GrantInfo {
				id: 0,
				dao_id: dao,
				grantee: CONSUMER,
				scope: Scope::Full,
				starts: 1,
				expires: 51,
				paid: 500,
			})
		);
		// The holders' 400, pro rata 300 : 100, in the reward pot with its existential deposit.
		assert_eq!(DatasetTokens::claimable(dao, &ALICE), 300);
		assert_eq!(DatasetTokens::claimable(dao, &BOB), 100);
		assert_eq!(free(DatasetTokens::reward_pot(dao)), 400 + ED);
		// The treasury's 100, with its existential deposit, which it keeps.
		assert_eq!(free(AccessGrants::treasury(dao)), 100 + ED);
		assert_eq!(AccessGrants::treasury_balance(dao), 100);
		// The consumer paid the price and both existential deposits; the deposit is held.
		assert_eq!(held(CONSUMER), GRANT_DEPOSIT);
		assert_eq!(free(CONSUMER), CONSUMER_FUNDS - 500 - 2 * ED - GRANT_DEPOSIT);
	});
}

#[test]
fn buying_the_same_scope_again_extends_the_live_grant() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 5));
		System::set_block_number(20);

		assert_ok!(buy(CONSUMER, dao, Scope::Full, 2));
		System::assert_last_event(Event::Extended { grant_id: 0, expires: 71, fee: 200 }.into());
		let grant = AccessGrants::grant_info(0).expect("the grant");
		assert_eq!((grant.starts, grant.expires, grant.paid), (1, 71, 700));
		assert_eq!(NextGrantId::<Test>::get(), 1);
		// One deposit, and no second existential deposit for the treasury or the pot.
		assert_eq!(held(CONSUMER), GRANT_DEPOSIT);
		assert_eq!(free(CONSUMER), CONSUMER_FUNDS - 700 - 2 * ED - GRANT_DEPOSIT);
		assert_eq!(AccessGrants::treasury_balance(dao), 140);
		assert_eq!(DatasetTokens::claimable(dao, &ALICE), 420);
		assert_eq!(DatasetTokens::claimable(dao, &BOB), 140);
	});
}

#[test]
fn another_scope_while_a_grant_is_live_is_refused() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(AccessGrants::set_offer(
			dao,
			offer(Scope::Aggregate { min_group_size: 10 }, 20, 30)
		));
		assert_ok!(buy(CONSUMER, dao, Scope::Aggregate { min_group_size: 10 }, 1));

		assert_noop!(buy(CONSUMER, dao, Scope::Full, 1), Error::<Test>::OtherScopeLive);
		assert_noop!(
			AccessGrants::grant(dao, &CONSUMER, Scope::Aggregate { min_group_size: 5 }, 10, 0),
			Error::<Test>::OtherScopeLive
		);
		// Up to the last block it holds.
		System::set_block_number(BLOCKS_PER_DAY);
		assert_noop!(buy(CONSUMER, dao, Scope::Anonymized, 1), Error::<Test>::OtherScopeLive);
	});
}

#[test]
fn an_expired_grant_is_replaced_on_the_next_purchase_with_a_new_id_and_one_deposit() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 1));
		System::set_block_number(11);
		assert_eq!(AccessGrants::live_grant(dao, &CONSUMER), None);

		// Another scope now: the expired grant does not stand in the way.
		assert_ok!(buy(CONSUMER, dao, Scope::Anonymized, 2));
		System::assert_has_event(Event::Pruned { grant_id: 0, by: CONSUMER, reward: 0 }.into());
		System::assert_last_event(
			Event::Granted {
				grant_id: 1,
				dao_id: dao,
				grantee: CONSUMER,
				scope: Scope::Anonymized,
				expires: 31,
				fee: 100,
			}
			.into(),
		);
		assert_eq!(AccessGrants::grant_info(0), None);
		assert_eq!(GrantOf::<Test>::get(dao, CONSUMER), Some(1));
		let grant = AccessGrants::live_grant(dao, &CONSUMER).expect("a live grant");
		assert_eq!((grant.id, grant.starts, grant.expires, grant.paid), (1, 11, 31, 100));
		// The first deposit carried over: held once, not twice.
		assert_eq!(held(CONSUMER), GRANT_DEPOSIT);
		assert_eq!(free(CONSUMER), CONSUMER_FUNDS - 100 - 100 - 2 * ED - GRANT_DEPOSIT);
	});
}

#[test]
fn live_grant_says_none_from_the_expiry_block_until_the_grant_is_pruned() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 1));

		System::set_block_number(10);
		assert_eq!(AccessGrants::live_grant(dao, &CONSUMER).map(|g| g.expires), Some(11));
		System::set_block_number(11);
		assert_eq!(AccessGrants::live_grant(dao, &CONSUMER), None);
		// Still on chain (and its deposit held) until pruned or replaced.
		assert_eq!(AccessGrants::grant_info(0).map(|g| g.expires), Some(11));
		assert_eq!(held(CONSUMER), GRANT_DEPOSIT);
		assert_eq!(AccessGrants::live_grant(dao, &BOB), None);
	});
}

#[test]
fn pruning_waits_for_expiry_then_pays_the_reward_and_removes_the_grant() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 1));
		assert_noop!(AccessGrants::prune(RuntimeOrigin::signed(DAVE), 0), Error::<Test>::GrantLive);
		assert_noop!(
			AccessGrants::prune(RuntimeOrigin::signed(DAVE), 7),
			Error::<Test>::UnknownGrant
		);

		System::set_block_number(11);
		let before = free(CONSUMER);
		assert_ok!(AccessGrants::prune(RuntimeOrigin::signed(DAVE), 0));
		System::assert_last_event(
			Event::Pruned { grant_id: 0, by: DAVE, reward: PRUNE_REWARD }.into(),
		);
		assert_eq!(free(DAVE), DAVE_FUNDS + PRUNE_REWARD);
		assert_eq!(held(CONSUMER), 0);
		assert_eq!(free(CONSUMER), before + GRANT_DEPOSIT - PRUNE_REWARD);
		assert_eq!(AccessGrants::grant_info(0), None);
		assert_eq!(GrantOf::<Test>::get(dao, CONSUMER), None);
		assert_noop!(
			AccessGrants::prune(RuntimeOrigin::signed(DAVE), 0),
			Error::<Test>::UnknownGrant
		);

		// A purchase after pruning starts afresh: a new id and a new deposit.
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 1));
		assert_eq!(GrantOf::<Test>::get(dao, CONSUMER), Some(1));
		assert_eq!(held(CONSUMER), GRANT_DEPOSIT);
	});
}

#[test]
fn a_grantee_pruning_their_own_grant_gets_the_whole_deposit_back() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 1));
		System::set_block_number(11);
		let before = free(CONSUMER);

		assert_ok!(AccessGrants::prune(RuntimeOrigin::signed(CONSUMER), 0));
		System::assert_last_event(Event::Pruned { grant_id: 0, by: CONSUMER, reward: 0 }.into());
		assert_eq!(free(CONSUMER), before + GRANT_DEPOSIT);
		assert_eq!(held(CONSUMER), 0);
		assert!(!Grants::<Test>::contains_key(0));
	});
}

#[test]
fn a_purchase_is_refused_for_each_bad_input_and_changes_nothing() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(AccessGrants::set_offer(
			dao,
			offer(Scope::Aggregate { min_group_size: 10 }, 20, 30)
		));

		assert_noop!(buy(CONSUMER, 9, Scope::Full, 1), Error::<Test>::UnknownDao);
		// The offer is of groups of 10: groups of 5 are not on sale.
		assert_noop!(
			buy(CONSUMER, dao, Scope::Aggregate { min_group_size: 5 }, 1),
			Error::<Test>::NoOffer
		);
		// A price above the buyer's limit: 2 days at 100 is 200.
		assert_noop!(
			AccessGrants::buy(RuntimeOrigin::signed(CONSUMER), dao, Scope::Full, 2, 199),
			Error::<Test>::PriceAboveLimit
		);
		assert_noop!(buy(CONSUMER, dao, Scope::Full, 0), Error::<Test>::InvalidDays);
		assert_noop!(buy(CONSUMER, dao, Scope::Full, 31), Error::<Test>::InvalidDays);
		// Poor can pay the deposit but not the price (with the existential deposits).
		assert_noop!(buy(POOR, dao, Scope::Full, 1), Error::<Test>::CannotPayFee);
		assert_noop!(buy(BROKE, dao, Scope::Full, 1), Error::<Test>::CannotPayDeposit);

		assert_ok!(AccessGrants::remove_offer(dao, Scope::Anonymized));
		assert_noop!(buy(CONSUMER, dao, Scope::Anonymized, 1), Error::<Test>::NoOffer);

		assert_ok!(DataDaos::retire(RuntimeOrigin::signed(ALICE), dao));
		assert_noop!(buy(CONSUMER, dao, Scope::Full, 1), Error::<Test>::DaoRetired);
	});
}

#[test]
fn a_dao_nobody_holds_tokens_of_puts_the_whole_fee_in_its_treasury() {
	build_and_execute(|| {
		let dao = create_dao(ALICE);
		assert_ok!(AccessGrants::set_offer(dao, offer(Scope::Full, FULL_PER_DAY, 30)));

		assert_ok!(buy(CONSUMER, dao, Scope::Full, 5));
		System::assert_has_event(
			Event::FeePaid { dao_id: dao, payer: CONSUMER, to_holders: 0, to_treasury: 500 }.into(),
		);
		assert_eq!(AccessGrants::treasury_balance(dao), 500);
		assert_eq!(free(AccessGrants::treasury(dao)), 500 + ED);
		assert_eq!(free(DatasetTokens::reward_pot(dao)), 0);
		assert_eq!(free(CONSUMER), CONSUMER_FUNDS - 500 - ED - GRANT_DEPOSIT);
	});
}

#[test]
fn governance_grants_split_their_fee_and_may_be_free() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let aggregate = Scope::Aggregate { min_group_size: 10 };

		assert_ok!(AccessGrants::grant(dao, &CONSUMER, aggregate, 100, 1_000));
		System::assert_has_event(
			Event::FeePaid { dao_id: dao, payer: CONSUMER, to_holders: 800, to_treasury: 200 }
				.into(),
		);
		System::assert_last_event(
			Event::Granted {
				grant_id: 0,
				dao_id: dao,
				grantee: CONSUMER,
				scope: aggregate,
				expires: 101,
				fee: 1_000,
			}
			.into(),
		);
		assert_eq!(DatasetTokens::claimable(dao, &ALICE), 600);
		assert_eq!(AccessGrants::treasury_balance(dao), 200);

		// A free grant pays nothing but holds the deposit.
		let before = free(BOB);
		assert_ok!(AccessGrants::grant(dao, &BOB, Scope::Full, 50, 0));
		System::assert_last_event(
			Event::Granted {
				grant_id: 1,
				dao_id: dao,
				grantee: BOB,
				scope: Scope::Full,
				expires: 51,
				fee: 0,
			}
			.into(),
		);
		assert_eq!(free(BOB), before - GRANT_DEPOSIT);
		assert_eq!(AccessGrants::treasury_balance(dao), 200);

		assert_noop!(
			AccessGrants::grant(dao, &DAVE, Scope::Full, 0, 0),
			Error::<Test>::InvalidDuration
		);
		assert_noop!(
			AccessGrants::grant(dao, &DAVE, Scope::Full, MAX_GRANT_DURATION + 1, 0),
			Error::<Test>::InvalidDuration
		);
		assert_noop!(AccessGrants::grant(9, &DAVE, Scope::Full, 10, 0), Error::<Test>::UnknownDao);
		// The deposit is held before the fee fails: both are undone.
		assert_noop!(
			AccessGrants::grant(dao, &POOR, Scope::Full, 10, 1_000),
			Error::<Test>::CannotPayFee
		);
		assert_ok!(DataDaos::retire(RuntimeOrigin::signed(ALICE), dao));
		assert_noop!(
			AccessGrants::grant(dao, &DAVE, Scope::Full, 10, 0),
			Error::<Test>::DaoRetired
		);
	});
}

#[test]
fn a_fee_below_the_existential_deposit_still_reaches_an_empty_treasury() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		// 5: 4 to the holders, 1 to the treasury, which also gets its existential deposit.
		assert_ok!(AccessGrants::grant(dao, &CONSUMER, Scope::Full, 10, 5));
		System::assert_has_event(
			Event::FeePaid { dao_id: dao, payer: CONSUMER, to_holders: 4, to_treasury: 1 }.into(),
		);
		assert_eq!(free(AccessGrants::treasury(dao)), 1 + ED);
		assert_eq!(AccessGrants::treasury_balance(dao), 1);
		assert_eq!(DatasetTokens::claimable(dao, &ALICE), 3);
	});
}

#[test]
fn revoking_ends_a_grant_now_and_returns_the_deposit_but_not_the_fee() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 5));
		let before = free(CONSUMER);

		assert_noop!(AccessGrants::revoke(dao + 1, 0), Error::<Test>::WrongDao);
		assert_noop!(AccessGrants::revoke(dao, 9), Error::<Test>::UnknownGrant);
		assert_ok!(AccessGrants::revoke(dao, 0));
		System::assert_last_event(Event::Revoked { grant_id: 0, dao_id: dao }.into());
		assert_eq!(AccessGrants::live_grant(dao, &CONSUMER), None);
		assert_eq!(AccessGrants::grant_info(0), None);
		assert_eq!(held(CONSUMER), 0);
		assert_eq!(free(CONSUMER), before + GRANT_DEPOSIT);
		assert_eq!(AccessGrants::treasury_balance(dao), 100);
		assert_noop!(AccessGrants::revoke(dao, 0), Error::<Test>::UnknownGrant);
	});
}

#[test]
fn the_treasury_spends_what_it_holds_and_keeps_its_existential_deposit() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 5));
		assert_eq!(AccessGrants::treasury_balance(dao), 100);

		assert_noop!(AccessGrants::spend(dao, &DAVE, 0), Error::<Test>::ZeroAmount);
		assert_noop!(AccessGrants::spend(dao, &DAVE, 101), Error::<Test>::InsufficientTreasury);
		assert_ok!(AccessGrants::spend(dao, &DAVE, 100));
		System::assert_last_event(
			Event::TreasurySpent { dao_id: dao, to: DAVE, amount: 100 }.into(),
		);
		assert_eq!(free(DAVE), DAVE_FUNDS + 100);
		assert_eq!(free(AccessGrants::treasury(dao)), ED);
		assert_eq!(AccessGrants::treasury_balance(dao), 0);
		assert_noop!(AccessGrants::spend(dao, &DAVE, 1), Error::<Test>::InsufficientTreasury);
	});
}

#[test]
fn offers_are_checked_replaced_by_kind_and_removed() {
	build_and_execute(|| {
		let dao = create_dao(ALICE);
		assert_noop!(
			AccessGrants::set_offer(dao, offer(Scope::Full, 0, 30)),
			Error::<Test>::InvalidOffer
		);
		assert_noop!(
			AccessGrants::set_offer(dao, offer(Scope::Full, 100, 0)),
			Error::<Test>::InvalidOffer
		);
		// 101 days is longer than MaxGrantDuration (100 days).
		assert_noop!(
			AccessGrants::set_offer(dao, offer(Scope::Full, 100, 101)),
			Error::<Test>::InvalidOffer
		);
		assert_noop!(
			AccessGrants::set_offer(dao, offer(Scope::Full, Balance::MAX, 2)),
			Error::<Test>::InvalidOffer
		);
		assert_noop!(
			AccessGrants::set_offer(9, offer(Scope::Full, 100, 30)),
			Error::<Test>::UnknownDao
		);
		// Aggregate answers over groups of zero contributions are not a scope.
		assert_noop!(
			AccessGrants::set_offer(dao, offer(Scope::Aggregate { min_group_size: 0 }, 20, 30)),
			Error::<Test>::InvalidScope
		);

		let aggregate = offer(Scope::Aggregate { min_group_size: 10 }, 20, 100);
		assert_ok!(AccessGrants::set_offer(dao, aggregate.clone()));
		assert_ok!(AccessGrants::set_offer(dao, offer(Scope::Full, 100, 30)));
		assert_ok!(AccessGrants::set_offer(dao, offer(Scope::Full, 120, 10)));
		System::assert_last_event(
			Event::OfferSet { dao_id: dao, offer: offer(Scope::Full, 120, 10) }.into(),
		);
		assert_eq!(AccessGrants::offers(dao), vec![offer(Scope::Full, 120, 10), aggregate]);

		// Removal goes by kind: any aggregate scope names the aggregate offer.
		assert_ok!(AccessGrants::remove_offer(dao, Scope::Aggregate { min_group_size: 99 }));
		System::assert_last_event(
			Event::OfferRemoved { dao_id: dao, scope: Scope::Aggregate { min_group_size: 10 } }
				.into(),
		);
		assert_noop!(AccessGrants::remove_offer(dao, Scope::Anonymized), Error::<Test>::NoOffer);
		assert_eq!(AccessGrants::offers(dao), vec![offer(Scope::Full, 120, 10)]);
	});
}

#[test]
fn try_state_catches_a_grant_its_index_does_not_name() {
	new_test_ext().execute_with(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 1));
		assert_ok!(AccessGrants::do_try_state());
		GrantOf::<Test>::remove(dao, CONSUMER);
		assert!(AccessGrants::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_deposit_not_held() {
	new_test_ext().execute_with(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 1));
		assert_ok!(Balances::release(
			&HoldReason::GrantDeposit.into(),
			&CONSUMER,
			1,
			frame_support::traits::tokens::Precision::Exact
		));
		assert!(AccessGrants::do_try_state().is_err());
	});
}

#[test]
fn a_buyer_pays_at_most_the_price_they_agreed_to_when_the_offer_changes() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		// The buyer saw 100 a day and agreed to 300 for 3 days; a vote raises the price
		// before the purchase is in a block.
		assert_ok!(AccessGrants::set_offer(dao, offer(Scope::Full, 150, 30)));
		let before = free(CONSUMER);
		assert_noop!(
			AccessGrants::buy(RuntimeOrigin::signed(CONSUMER), dao, Scope::Full, 3, 300),
			Error::<Test>::PriceAboveLimit
		);
		assert_eq!(free(CONSUMER), before);
		// A lower price than the limit is what is paid.
		assert_ok!(AccessGrants::set_offer(dao, offer(Scope::Full, 90, 30)));
		assert_ok!(AccessGrants::buy(RuntimeOrigin::signed(CONSUMER), dao, Scope::Full, 3, 300));
		assert_eq!(AccessGrants::live_grant(dao, &CONSUMER).unwrap().paid, 270);
	});
}

#[test]
fn governance_cannot_grant_aggregate_answers_over_groups_of_zero() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_noop!(
			AccessGrants::grant(dao, &CONSUMER, Scope::Aggregate { min_group_size: 0 }, 10, 0),
			Error::<Test>::InvalidScope
		);
		assert_eq!(
			<AccessGrants as AccessControl<_, _, _>>::check_grant(
				&Scope::Full,
				MAX_GRANT_DURATION + 1
			),
			Err(Error::<Test>::InvalidDuration.into())
		);
		assert_ok!(<AccessGrants as AccessControl<_, _, _>>::check_grant(
			&Scope::Aggregate { min_group_size: 1 },
			MAX_GRANT_DURATION
		));
	});
}

#[test]
fn a_grant_releases_the_deposit_it_was_made_with_after_the_deposit_changes() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 1));
		assert_ok!(buy(DAVE, dao, Scope::Anonymized, 1));
		assert_eq!(held(CONSUMER), GRANT_DEPOSIT);
		// A runtime upgrade doubles the deposit: grants made before keep theirs.
		GrantDepositNow::set(2 * GRANT_DEPOSIT);
		System::set_block_number(System::block_number() + BLOCKS_PER_DAY);

		// The grantee prunes their own: all of what was held comes back, no more.
		let consumer_free = free(CONSUMER);
		let grant = GrantOf::<Test>::get(dao, CONSUMER).unwrap();
		assert_ok!(AccessGrants::prune(RuntimeOrigin::signed(CONSUMER), grant));
		assert_eq!((held(CONSUMER), free(CONSUMER)), (0, consumer_free + GRANT_DEPOSIT));

		// Someone else prunes: the reward and the rest add up to what was held.
		let (dave_free, bob_free) = (free(DAVE), free(BOB));
		let grant = GrantOf::<Test>::get(dao, DAVE).unwrap();
		assert_ok!(AccessGrants::prune(RuntimeOrigin::signed(BOB), grant));
		assert_eq!(held(DAVE), 0);
		assert_eq!(free(BOB), bob_free + PRUNE_REWARD);
		assert_eq!(free(DAVE), dave_free + GRANT_DEPOSIT - PRUNE_REWARD);

		// A new grant holds the new deposit.
		assert_ok!(buy(CONSUMER, dao, Scope::Full, 1));
		assert_eq!(held(CONSUMER), 2 * GRANT_DEPOSIT);
		GrantDepositNow::set(GRANT_DEPOSIT);
	});
}
