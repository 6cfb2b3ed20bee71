//! Unit tests of the Dataset Tokens pallet. Each runs through `build_and_execute`, which
//! checks the pallet's invariants on the state the test leaves.

use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};

use crate::{mock::*, Error, Event, Holdings, Rewards, TotalSupply, MAGNITUDE};
use sp_core::U256;

const DAO: u32 = 0;

fn claim(who: u64) -> Balance {
	let before = Balances::balance(&who);
	assert_ok!(DatasetTokens::claim_rewards(RuntimeOrigin::signed(who), DAO));
	Balances::balance(&who) - before
}

#[test]
fn rewards_are_shared_pro_rata_and_claimed_exactly() {
	build_and_execute(|| {
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 300));
		assert_ok!(DatasetTokens::mint(DAO, &BOB, 100));
		assert_eq!(TotalSupply::<Test>::get(DAO), 400);

		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 1_000));
		System::assert_last_event(
			Event::RewardsDeposited { dao_id: DAO, from: CONSUMER, amount: 1_000 }.into(),
		);
		// The first deposit also paid the pot's existential deposit (10).
		assert_eq!(Balances::balance(&CONSUMER), 10_000_000 - 1_010);
		assert_eq!(DatasetTokens::claimable(DAO, &ALICE), 750);
		assert_eq!(DatasetTokens::claimable(DAO, &BOB), 250);

		assert_eq!(claim(ALICE), 750);
		assert_eq!(claim(BOB), 250);
		assert_eq!(Rewards::<Test>::get(DAO).claimed, 1_000);
		// The pot keeps exactly its existential deposit.
		assert_eq!(Balances::balance(&DatasetTokens::reward_pot(DAO)), 10);
		assert_noop!(
			DatasetTokens::claim_rewards(RuntimeOrigin::signed(ALICE), DAO),
			Error::<Test>::NothingToClaim
		);
	});
}

#[test]
fn rewards_follow_tokens_only_after_a_transfer() {
	build_and_execute(|| {
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 300));
		assert_ok!(DatasetTokens::mint(DAO, &BOB, 100));
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 400));

		// Alice sends 200 to Charlie: what she earned stays hers.
		assert_ok!(DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, CHARLIE, 200));
		System::assert_last_event(
			Event::Transferred { dao_id: DAO, from: ALICE, to: CHARLIE, amount: 200 }.into(),
		);
		assert_eq!(DatasetTokens::balance(DAO, &ALICE), 100);
		assert_eq!(DatasetTokens::balance(DAO, &CHARLIE), 200);
		assert_eq!(DatasetTokens::claimable(DAO, &ALICE), 300);
		assert_eq!(DatasetTokens::claimable(DAO, &CHARLIE), 0);

		// The next deposit follows the new balances (100 / 100 / 200).
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 400));
		assert_eq!(claim(ALICE), 300 + 100);
		assert_eq!(claim(BOB), 100 + 100);
		assert_eq!(claim(CHARLIE), 200);
		// A later pot deposit pays no second existential deposit.
		assert_eq!(Balances::balance(&CONSUMER), 10_000_000 - 810);
	});
}

#[test]
fn minting_after_a_deposit_does_not_dilute_past_rewards() {
	build_and_execute(|| {
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 100));
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 500));
		assert_ok!(DatasetTokens::mint(DAO, &BOB, 400));
		assert_eq!(DatasetTokens::claimable(DAO, &BOB), 0);
		assert_eq!(DatasetTokens::claimable(DAO, &ALICE), 500);
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 500));
		assert_eq!(DatasetTokens::claimable(DAO, &ALICE), 600);
		assert_eq!(DatasetTokens::claimable(DAO, &BOB), 400);
		System::assert_has_event(Event::Minted { dao_id: DAO, who: BOB, amount: 400 }.into());
	});
}

#[test]
fn no_rounding_is_ever_lost() {
	build_and_execute(|| {
		for who in [ALICE, BOB, CHARLIE] {
			assert_ok!(DatasetTokens::mint(DAO, &who, 5));
		}
		let pot = DatasetTokens::reward_pot(DAO);
		// 100 over 15 tokens: 33⅓ each. The third of a planck stays owed to each holder,
		// and what 100 × 10¹⁸ / 15 leaves over (10 × 10⁻¹⁸) waits for the next deposit.
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 100));
		assert_eq!(Rewards::<Test>::get(DAO).undistributed, U256::from(10));
		for who in [ALICE, BOB, CHARLIE] {
			assert_eq!(claim(who), 33);
		}
		// 1 planck of dust (three thirds, still owed) plus the existential deposit.
		assert_eq!(Balances::balance(&pot), 11);

		// Two more deposits of 100: each holder was owed exactly 100 in all, and got it.
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 100));
		for who in [ALICE, BOB, CHARLIE] {
			assert_eq!(claim(who), 33);
		}
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 100));
		for who in [ALICE, BOB, CHARLIE] {
			assert_eq!(claim(who), 34);
		}
		assert_eq!(Rewards::<Test>::get(DAO).undistributed, U256::zero());
		assert_eq!(Rewards::<Test>::get(DAO).claimed, 300);
		assert_eq!(Balances::balance(&pot), 10);
	});
}

#[test]
fn a_removed_holding_leaves_its_fraction_to_the_next_deposit() {
	build_and_execute(|| {
		for who in [ALICE, BOB, CHARLIE] {
			assert_ok!(DatasetTokens::mint(DAO, &who, 5));
		}
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 100));
		// Alice sends all her tokens away, then claims 33: the third of a planck she is
		// still owed cannot be paid, so her record goes and the third goes back to the pool.
		assert_ok!(DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, BOB, 5));
		assert_eq!(claim(ALICE), 33);
		assert!(!Holdings::<Test>::contains_key(DAO, ALICE));
		let undistributed = Rewards::<Test>::get(DAO).undistributed;
		assert!(undistributed > U256::from(MAGNITUDE / 3));

		// The next deposit (100 over Bob's 10 and Charlie's 5) shares it out with its own
		// amount: Bob is owed 33⅓ + 66.89, Charlie 33⅓ + 33.44 (each to 10⁻¹⁸).
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 100));
		assert_eq!(Rewards::<Test>::get(DAO).undistributed, U256::from(5));
		assert_eq!(claim(BOB), 100);
		assert_eq!(claim(CHARLIE), 66);
		// The last planck of the 200 is Bob's .22 and Charlie's .78, still owed to them (and
		// 5 × 10⁻¹⁸ undistributed): nothing went missing, as `do_try_state` checks exactly.
		assert_eq!(Balances::balance(&DatasetTokens::reward_pot(DAO)), 11);
	});
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
	build_and_execute(|| {
		assert_noop!(
			DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 100),
			Error::<Test>::NoHolders
		);
		assert_noop!(DatasetTokens::mint(DAO, &ALICE, 0), Error::<Test>::ZeroAmount);
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 50));

		assert_noop!(
			DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 0),
			Error::<Test>::ZeroAmount
		);
		// Bob cannot pay 2,000 (he has 1,000).
		assert_noop!(
			DatasetTokens::deposit_rewards(RuntimeOrigin::signed(BOB), DAO, 2_000),
			Error::<Test>::CannotPayRewards
		);
		assert_noop!(
			DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, BOB, 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, ALICE, 10),
			Error::<Test>::SelfTransfer
		);
		assert_noop!(
			DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, BOB, 51),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			DatasetTokens::transfer(RuntimeOrigin::signed(BOB), DAO, ALICE, 1),
			Error::<Test>::InsufficientBalance
		);
		// Leaving 2 behind, or sending 3, would make dust holdings.
		assert_noop!(
			DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, BOB, 48),
			Error::<Test>::BelowMinHolding
		);
		assert_noop!(
			DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, BOB, 3),
			Error::<Test>::BelowMinHolding
		);
		assert_noop!(
			DatasetTokens::claim_rewards(RuntimeOrigin::signed(BOB), DAO),
			Error::<Test>::NothingToClaim
		);
		assert_noop!(
			DatasetTokens::claim_rewards(RuntimeOrigin::signed(ALICE), DAO),
			Error::<Test>::NothingToClaim
		);
	});
}

#[test]
fn a_mint_below_min_holding_is_kept_and_can_be_sent_whole() {
	build_and_execute(|| {
		// A small reward still pays: mints are exempt from MinHolding (5 here).
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 4));
		assert_ok!(DatasetTokens::mint(DAO, &BOB, 10));
		assert_eq!(DatasetTokens::balance(DAO, &ALICE), 4);
		// Transfers still may not create dust: 4 to Charlie (who has none) is refused...
		assert_noop!(
			DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, CHARLIE, 4),
			Error::<Test>::BelowMinHolding
		);
		// ...but all 4 to Bob (who then holds 14) is fine, and Alice's record is gone.
		assert_ok!(DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, BOB, 4));
		assert_eq!(DatasetTokens::balance(DAO, &BOB), 14);
		assert!(Holdings::<Test>::get(DAO, ALICE).is_none());
	});
}

#[test]
fn an_emptied_holding_is_removed_once_claimed() {
	build_and_execute(|| {
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 50));
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 100));
		assert_ok!(DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, BOB, 50));
		// Alice holds nothing but is still owed 100: her record stays until she claims.
		assert!(Holdings::<Test>::contains_key(DAO, ALICE));
		assert_eq!(claim(ALICE), 100);
		assert!(!Holdings::<Test>::contains_key(DAO, ALICE));
	});
}

#[test]
fn try_state_catches_a_supply_that_is_not_the_sum_of_balances() {
	new_test_ext().execute_with(|| {
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 50));
		TotalSupply::<Test>::insert(DAO, 51);
		assert!(DatasetTokens::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_reward_made_up_or_lost() {
	new_test_ext().execute_with(|| {
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 50));
		assert_ok!(DatasetTokens::deposit_rewards(RuntimeOrigin::signed(CONSUMER), DAO, 100));
		assert_ok!(DatasetTokens::do_try_state());
		// One 10⁻¹⁸ planck too many, or a planck claimed that was not, breaks the exact sum.
		Rewards::<Test>::mutate(DAO, |pool| pool.undistributed += U256::one());
		assert!(DatasetTokens::do_try_state().is_err());
		Rewards::<Test>::mutate(DAO, |pool| {
			pool.undistributed = U256::zero();
			pool.claimed += 1;
		});
		assert!(DatasetTokens::do_try_state().is_err());
	});
}

/// A reward debt past U256 used to saturate, silently paying the holder a wrong amount; now
/// the call fails with `Overflow` and changes nothing.
#[test]
fn a_reward_debt_that_would_overflow_fails_the_call_instead_of_saturating() {
	new_test_ext().execute_with(|| {
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 300));
		// A reward per token no real deposit reaches, so that 300 × per_token fits in U256
		// but a larger balance's debt does not.
		let huge = U256::MAX / U256::from(400u32);
		Rewards::<Test>::mutate(DAO, |pool| pool.per_token = huge);
		Holdings::<Test>::mutate(DAO, ALICE, |h| {
			h.as_mut().unwrap().reward_debt = huge * U256::from(300u32)
		});
		assert_noop!(DatasetTokens::mint(DAO, &ALICE, 200), Error::<Test>::Overflow);
		assert_noop!(DatasetTokens::mint(DAO, &BOB, 500), Error::<Test>::Overflow);
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 50));
	});
}

#[test]
fn frozen_tokens_do_not_move_and_the_rest_do() {
	use datacoop_primitives::traits::TokenHolders;
	build_and_execute(|| {
		assert_ok!(DatasetTokens::mint(DAO, &ALICE, 300));
		assert_ok!(<DatasetTokens as TokenHolders<_, _>>::set_freeze(DAO, &ALICE, 200));
		// 101 would leave 199 < 200 frozen.
		assert_noop!(
			DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, BOB, 101),
			Error::<Test>::TokensFrozen
		);
		assert_ok!(DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, BOB, 100));
		// A freeze above the balance is refused; zero lifts it.
		assert_noop!(
			<DatasetTokens as TokenHolders<_, _>>::set_freeze(DAO, &ALICE, 201),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(<DatasetTokens as TokenHolders<_, _>>::set_freeze(DAO, &ALICE, 0));
		assert_ok!(DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), DAO, BOB, 200));
	});
}
