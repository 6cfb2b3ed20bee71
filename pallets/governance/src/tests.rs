//! Unit tests of the DAO Governance pallet, against the real DAO, token and grant pallets.
//! Each runs through `build_and_execute`, which checks all four pallets' invariants on the
//! state the test leaves.

use datacoop_primitives::{
	dao::{Collective, DaoId, DaoRules},
	governance::{Action, Scope},
};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::{DispatchError, Permill};

use crate::{mock::*, Error, Event, HoldReason, Proposals, Voting};

type CallAction = crate::CallActionOf<Test>;

const FEE: Balance = 1_000;
const GRANT_BLOCKS: BlockNumber = 100;

/// A DAO whose holders are Alice (300 tokens), Bob (100) and Charlie (100).
fn dao_with_holders() -> DaoId {
	let dao = create_dao(ADMIN, 1);
	for (who, amount) in [(ALICE, 300), (BOB, 100), (CHARLIE, 100)] {
		assert_ok!(DatasetTokens::mint(dao, &who, amount));
	}
	dao
}

fn grant_access(scope: Scope) -> CallAction {
	Action::GrantAccess { grantee: CONSUMER, scope, duration: GRANT_BLOCKS, fee: FEE }
}

fn propose(who: u64, dao: DaoId, action: CallAction) -> u32 {
	let id = crate::NextProposalId::<Test>::get();
	assert_ok!(Governance::propose(
		RuntimeOrigin::signed(who),
		dao,
		Box::new(action),
		b"ipfs://why".to_vec()
	));
	id
}

fn vote(
	who: u64,
	id: u32,
	aye: bool,
	amount: Option<Balance>,
) -> frame_support::dispatch::DispatchResult {
	Governance::vote(RuntimeOrigin::signed(who), id, aye, amount)
}

/// Closes `id` at its end and returns what the Closed event said: (passed, result).
fn close_at_end(id: u32) -> (bool, Option<Result<(), DispatchError>>) {
	run_to(Proposals::<Test>::get(id).expect("open").ends);
	assert_ok!(Governance::close(RuntimeOrigin::signed(BOB), id));
	System::events()
		.into_iter()
		.rev()
		.find_map(|r| match r.event {
			RuntimeEvent::Governance(Event::Closed { proposal_id, passed, result, .. })
				if proposal_id == id =>
			{
				Some((passed, result))
			},
			_ => None,
		})
		.expect("a Closed event")
}

/// Everything the consumer has, free and held.
fn consumer_total() -> Balance {
	Balances::total_balance(&CONSUMER)
}

#[test]
fn a_passed_grant_pays_its_fee_pro_rata_to_holders_and_the_rest_to_the_treasury() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		// The fee waits in escrow, with the deposit.
		assert_eq!(Balances::balance_on_hold(&HoldReason::Escrow.into(), &CONSUMER), FEE);
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::ProposalDeposit.into(), &CONSUMER),
			PROPOSAL_DEPOSIT
		);
		assert_ok!(vote(ALICE, id, true, None));
		assert_ok!(vote(BOB, id, false, Some(50)));

		assert_eq!(close_at_end(id), (true, Some(Ok(()))));
		let grant = AccessGrants::live_grant(dao, &CONSUMER).expect("a live grant");
		assert_eq!((grant.scope, grant.paid), (Scope::Full, FEE));
		assert_eq!(grant.expires, System::block_number() + GRANT_BLOCKS);
		// 80% to the holders, pro rata to 300:100:100; 20% to the treasury.
		assert_eq!(DatasetTokens::claimable(dao, &ALICE), 480);
		assert_eq!(DatasetTokens::claimable(dao, &BOB), 160);
		assert_eq!(DatasetTokens::claimable(dao, &CHARLIE), 160);
		assert_eq!(AccessGrants::treasury_balance(dao), 200);
		// Nothing is held for the proposal any more; the grant's deposit is.
		assert_eq!(Balances::balance_on_hold(&HoldReason::Escrow.into(), &CONSUMER), 0);
		assert_eq!(Balances::balance_on_hold(&HoldReason::ProposalDeposit.into(), &CONSUMER), 0);
		// The fee left once, with the two existential deposits of a first payment into the
		// reward pot and the treasury.
		assert_eq!(consumer_total(), 1_000_000 - FEE - 2 * ED);
		assert!(Proposals::<Test>::get(id).is_none());
	});
}

#[test]
fn a_rejected_grant_refunds_the_whole_fee_and_moves_nothing_else() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_ok!(vote(ALICE, id, false, None));
		assert_ok!(vote(BOB, id, true, None));

		assert_eq!(close_at_end(id), (false, None));
		assert!(AccessGrants::live_grant(dao, &CONSUMER).is_none());
		assert_eq!(Balances::balance(&CONSUMER), 1_000_000);
		assert_eq!(consumer_total(), 1_000_000);
		assert_eq!(DatasetTokens::claimable(dao, &ALICE), 0);
		assert_eq!(AccessGrants::treasury_balance(dao), 0);
	});
}

#[test]
fn a_grant_that_cannot_be_made_at_the_close_refunds_the_fee() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		// The consumer already holds a live Aggregate grant: a Full one cannot be added.
		let first = propose(CONSUMER, dao, grant_access(Scope::Aggregate { min_group_size: 5 }));
		assert_ok!(vote(ALICE, first, true, None));
		assert_eq!(close_at_end(first), (true, Some(Ok(()))));
		let after_first = consumer_total();

		let second = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_ok!(vote(ALICE, second, true, None));
		let (passed, result) = close_at_end(second);
		assert!(passed);
		assert_eq!(result, Some(Err(pallet_access_grants::Error::<Test>::OtherScopeLive.into())));
		assert_eq!(consumer_total(), after_first);
		let grant = AccessGrants::live_grant(dao, &CONSUMER).expect("the first grant");
		assert_eq!(grant.scope, Scope::Aggregate { min_group_size: 5 });
	});
}

#[test]
fn voted_tokens_cannot_vote_again_through_a_transfer() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_ok!(vote(ALICE, id, true, Some(200)));
		// The 200 that voted stay; the other 100 may go.
		assert_noop!(
			DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), dao, CHARLIE, 101),
			pallet_dataset_tokens::Error::<Test>::TokensFrozen
		);
		assert_ok!(DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), dao, CHARLIE, 100));
		// Charlie votes with his own 100 and the 100 he received: each token once.
		assert_ok!(vote(CHARLIE, id, true, None));
		let p = Proposals::<Test>::get(id).unwrap();
		assert_eq!((p.ayes, p.nays), (400, 0));
		// Alice cannot raise her vote above what she holds now.
		assert_noop!(vote(ALICE, id, true, Some(300)), Error::<Test>::NotEnoughTokens);
	});
}

#[test]
fn a_changed_vote_replaces_the_old_one() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_ok!(vote(ALICE, id, true, None));
		assert_ok!(vote(ALICE, id, false, Some(100)));
		let p = Proposals::<Test>::get(id).unwrap();
		assert_eq!((p.ayes, p.nays), (0, 100));
		// The freeze follows the vote down: 200 may move now.
		assert_ok!(DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), dao, BOB, 200));
		System::assert_last_event(
			pallet_dataset_tokens::Event::Transferred {
				dao_id: dao,
				from: ALICE,
				to: BOB,
				amount: 200,
			}
			.into(),
		);
	});
}

#[test]
fn minted_tokens_vote_once_and_the_quorum_counts_the_supply_at_the_close() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		// 100 of 500 is the 20% quorum...
		assert_ok!(vote(BOB, id, true, None));
		// ...but 500 more minted meanwhile make it 100 of 1,000.
		assert_ok!(DatasetTokens::mint(dao, &CHARLIE, 500));
		assert_eq!(close_at_end(id), (false, None));
	});
}

#[test]
fn quorum_and_approval_are_both_needed() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		// 50 of 500 votes: under the 20% quorum.
		let low = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_ok!(vote(CHARLIE, low, true, Some(50)));
		assert_eq!(close_at_end(low), (false, None));
		// Quorum met, 100 ayes against 300 nays: under 50% approval.
		let against = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_ok!(vote(BOB, against, true, None));
		assert_ok!(vote(ALICE, against, false, None));
		assert_eq!(close_at_end(against), (false, None));
		// Exactly 20% turnout and exactly 50% ayes pass.
		let edge = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_ok!(vote(BOB, edge, true, Some(50)));
		assert_ok!(vote(CHARLIE, edge, false, Some(50)));
		assert_eq!(close_at_end(edge), (true, Some(Ok(()))));
	});
}

#[test]
fn the_bar_is_the_one_set_when_the_proposal_was_made() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		// The rules change while the vote runs: a 90% quorum.
		let mut strict = rules();
		strict.quorum = Permill::from_percent(90);
		assert_ok!(DataDaos::update_rules(RuntimeOrigin::signed(ADMIN), dao, strict));
		assert_ok!(vote(BOB, id, true, None));
		assert_eq!(close_at_end(id), (true, Some(Ok(()))));
	});
}

#[test]
fn timing_and_repetition_are_refused() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_noop!(Governance::close(RuntimeOrigin::signed(BOB), id), Error::<Test>::VotingOpen);
		run_to(Proposals::<Test>::get(id).unwrap().ends);
		assert_noop!(vote(ALICE, id, true, None), Error::<Test>::VotingClosed);
		assert_ok!(Governance::close(RuntimeOrigin::signed(BOB), id));
		assert_noop!(
			Governance::close(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::UnknownProposal
		);
		assert_noop!(vote(ALICE, id, true, None), Error::<Test>::UnknownProposal);
	});
}

#[test]
fn bad_proposals_are_refused_and_change_nothing() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let p = |who: u64, dao: DaoId, action: CallAction| {
			Governance::propose(
				RuntimeOrigin::signed(who),
				dao,
				Box::new(action),
				b"ipfs://why".to_vec(),
			)
		};
		assert_noop!(p(CONSUMER, 7, Action::Retire), Error::<Test>::UnknownDao);
		assert_noop!(p(POOR, dao, Action::Retire), Error::<Test>::CannotPayDeposit);
		// The consumer offers more than it has.
		let greedy = Action::GrantAccess {
			grantee: CONSUMER,
			scope: Scope::Full,
			duration: 10,
			fee: 2_000_000,
		};
		assert_noop!(p(CONSUMER, dao, greedy), Error::<Test>::CannotPayDeposit);
		let for_other =
			Action::GrantAccess { grantee: ALICE, scope: Scope::Full, duration: 10, fee: 1 };
		assert_noop!(p(CONSUMER, dao, for_other), Error::<Test>::GrantForOther);
		let no_time =
			Action::GrantAccess { grantee: CONSUMER, scope: Scope::Full, duration: 0, fee: 1 };
		assert_noop!(p(CONSUMER, dao, no_time), Error::<Test>::ZeroDuration);
		let free = Action::SetOffer { scope: Scope::Full, price_per_day: 0, max_days: 5 };
		assert_noop!(p(ALICE, dao, free), Error::<Test>::InvalidOffer);
		// What the access-grant and DAO pallets would refuse at the close is refused now,
		// before anyone votes: a grant longer than MaxGrantDuration (a year here), an offer
		// whose longest purchase costs more than a balance holds, aggregate answers over
		// groups of zero, rules the DAO registry refuses.
		let too_long = Action::GrantAccess {
			grantee: CONSUMER,
			scope: Scope::Full,
			duration: 365 * DAY + 1,
			fee: 1,
		};
		assert_noop!(
			p(CONSUMER, dao, too_long),
			pallet_access_grants::Error::<Test>::InvalidDuration
		);
		let overflowing =
			Action::SetOffer { scope: Scope::Full, price_per_day: Balance::MAX, max_days: 2 };
		assert_noop!(p(ALICE, dao, overflowing), pallet_access_grants::Error::<Test>::InvalidOffer);
		let groups_of_none = grant_access(Scope::Aggregate { min_group_size: 0 });
		assert_noop!(
			p(CONSUMER, dao, groups_of_none),
			pallet_access_grants::Error::<Test>::InvalidScope
		);
		let offer_of_none = Action::SetOffer {
			scope: Scope::Aggregate { min_group_size: 0 },
			price_per_day: 1,
			max_days: 1,
		};
		assert_noop!(
			p(ALICE, dao, offer_of_none),
			pallet_access_grants::Error::<Test>::InvalidScope
		);
		let forever = DaoRules { voting_period: 100_001, ..rules() };
		assert_noop!(
			p(ALICE, dao, Action::UpdateRules { rules: forever }),
			pallet_data_daos::Error::<Test>::VotingPeriodTooLong
		);
		let unreachable = DaoRules { quorum: Permill::zero(), ..rules() };
		assert_noop!(
			p(ALICE, dao, Action::UpdateRules { rules: unreachable }),
			pallet_data_daos::Error::<Test>::InvalidThreshold
		);
		let nothing = Action::TreasurySpend { to: ALICE, amount: 0 };
		assert_noop!(p(ALICE, dao, nothing), Error::<Test>::ZeroAmount);
		let mut far = collective(9);
		far.endpoint = vec![b'a'; 129];
		assert_noop!(
			p(ALICE, dao, Action::UpdateCollective { collective: far, key_proof: [0; 64] }),
			Error::<Test>::EndpointTooLong
		);
		// A collective that could never be registered does not reach the vote either.
		let keyless = Collective { encryption_key: [0; 32], ..collective(9) };
		assert_noop!(
			p(ALICE, dao, Action::UpdateCollective { collective: keyless, key_proof: [0; 64] }),
			pallet_data_daos::Error::<Test>::InvalidCollectiveKey
		);
		let nowhere =
			Collective { endpoint: b"ftp://collective.example".to_vec(), ..collective(9) };
		assert_noop!(
			p(ALICE, dao, Action::UpdateCollective { collective: nowhere, key_proof: [0; 64] }),
			pallet_data_daos::Error::<Test>::InvalidEndpoint
		);
		assert_noop!(
			Governance::propose(
				RuntimeOrigin::signed(ALICE),
				dao,
				Box::new(Action::Retire),
				vec![b'u'; 65]
			),
			Error::<Test>::DescriptionTooLong
		);
		// Retired: no more proposals.
		assert_ok!(DataDaos::retire(RuntimeOrigin::signed(ADMIN), dao));
		assert_noop!(p(CONSUMER, dao, Action::Retire), Error::<Test>::DaoRetired);
	});
}

#[test]
fn bad_votes_are_refused_and_change_nothing() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_noop!(vote(CONSUMER, id, true, None), Error::<Test>::NoTokens);
		assert_noop!(vote(ALICE, id, true, Some(0)), Error::<Test>::NoTokens);
		assert_noop!(vote(ALICE, id, true, Some(301)), Error::<Test>::NotEnoughTokens);
		assert_noop!(vote(ALICE, 99, true, None), Error::<Test>::UnknownProposal);
	});
}

#[test]
fn a_holder_has_at_most_max_votes_running_and_ended_ones_make_room() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let ids: Vec<u32> =
			(0..=MAX_VOTES).map(|_| propose(CONSUMER, dao, Action::Retire)).collect();
		for id in &ids[..MAX_VOTES as usize] {
			assert_ok!(vote(ALICE, *id, false, Some(10)));
		}
		assert_noop!(
			vote(ALICE, ids[MAX_VOTES as usize], false, Some(10)),
			Error::<Test>::TooManyVotes
		);
		// A later proposal, after the first ones ended: their records go, the vote fits.
		run_to(Proposals::<Test>::get(ids[0]).unwrap().ends);
		let later = propose(CONSUMER, dao, Action::Retire);
		assert_ok!(vote(ALICE, later, false, Some(10)));
		assert_eq!(Voting::<Test>::get(dao, ALICE).len(), 1);
	});
}

#[test]
fn unlock_lifts_the_freeze_once_the_vote_ended() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_ok!(vote(ALICE, id, true, None));
		assert_noop!(
			Governance::unlock(RuntimeOrigin::signed(ALICE), dao),
			Error::<Test>::NothingToUnlock
		);
		run_to(Proposals::<Test>::get(id).unwrap().ends);
		assert_ok!(Governance::unlock(RuntimeOrigin::signed(ALICE), dao));
		System::assert_last_event(Event::Unlocked { dao_id: dao, who: ALICE, frozen: 0 }.into());
		assert!(!Voting::<Test>::contains_key(dao, ALICE));
		// The tally stays what was cast, though Alice's tokens moved.
		assert_ok!(DatasetTokens::transfer(RuntimeOrigin::signed(ALICE), dao, BOB, 300));
		assert_eq!(Proposals::<Test>::get(id).unwrap().ayes, 300);
		assert_ok!(Governance::close(RuntimeOrigin::signed(BOB), id));
	});
}

#[test]
fn after_the_hand_over_only_governance_changes_the_dao() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		assert_ok!(DataDaos::hand_over(RuntimeOrigin::signed(ADMIN), dao));
		let mut new_rules = rules();
		new_rules.holders_share = Permill::from_percent(50);
		assert_noop!(
			DataDaos::update_rules(RuntimeOrigin::signed(ADMIN), dao, new_rules.clone()),
			pallet_data_daos::Error::<Test>::Governed
		);
		assert_noop!(
			DataDaos::hand_over(RuntimeOrigin::signed(ADMIN), dao),
			pallet_data_daos::Error::<Test>::Governed
		);
		let id = propose(ALICE, dao, Action::UpdateRules { rules: new_rules.clone() });
		assert_ok!(vote(ALICE, id, true, None));
		assert_eq!(close_at_end(id), (true, Some(Ok(()))));
		assert_eq!(DataDaos::dao_info(dao).unwrap().rules, new_rules);
		assert!(DataDaos::dao_info(dao).unwrap().governed);
		// Root still may, in an emergency.
		assert_ok!(DataDaos::retire(RuntimeOrigin::root(), dao));
	});
}

/// New collective keys shown by a proposal during its vote cannot be taken by another DAO
/// first (they need the server's consent for that DAO), and a proposal without the consent
/// for its own DAO never reaches the vote.
#[test]
fn a_proposed_collective_needs_its_servers_consent_for_this_dao() {
	use sp_core::{sr25519, Pair};
	build_and_execute(|| {
		let dao = dao_with_holders();
		let other = create_dao(ADMIN, 7);
		let server = sr25519::Pair::from_seed(&[42; 32]);
		let new = Collective { attestation_signer: server.public().0, ..collective(42) };
		let consent =
			|dao_id| server.sign(&DataDaos::key_proof_payload(dao_id, &new.encryption_key)).0;
		// Consent for another DAO is no consent for this one.
		let elsewhere =
			Action::UpdateCollective { collective: new.clone(), key_proof: consent(other) };
		assert_noop!(
			Governance::propose(
				RuntimeOrigin::signed(ALICE),
				dao,
				Box::new(elsewhere),
				b"ipfs://why".to_vec()
			),
			pallet_data_daos::Error::<Test>::BadKeyProof
		);
		let shown = consent(dao);
		let id = propose(
			ALICE,
			dao,
			Action::UpdateCollective { collective: new.clone(), key_proof: shown },
		);
		// During the vote, the other DAO's admin tries to take the keys with what was shown.
		assert_noop!(
			DataDaos::update_collective(RuntimeOrigin::signed(ADMIN), other, new.clone(), shown),
			pallet_data_daos::Error::<Test>::BadKeyProof
		);
		assert_ok!(vote(ALICE, id, true, None));
		assert_eq!(close_at_end(id), (true, Some(Ok(()))));
		assert_eq!(
			DataDaos::dao_info(dao).unwrap().collective.attestation_signer,
			server.public().0
		);
	});
}

#[test]
fn governance_sets_offers_revokes_grants_spends_and_retires() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let offer = Action::SetOffer { scope: Scope::Anonymized, price_per_day: 100, max_days: 30 };
		let id = propose(ALICE, dao, offer);
		assert_ok!(vote(ALICE, id, true, None));
		assert_eq!(close_at_end(id), (true, Some(Ok(()))));

		// Anyone buys at the offer, without a vote: 3 days for 300.
		assert_ok!(AccessGrants::buy(
			RuntimeOrigin::signed(CONSUMER),
			dao,
			Scope::Anonymized,
			3,
			300
		));
		let grant = AccessGrants::live_grant(dao, &CONSUMER).expect("bought");
		assert_eq!(grant.paid, 300);
		assert_eq!(AccessGrants::treasury_balance(dao), 60);

		let id = propose(ALICE, dao, Action::RevokeAccess { grant_id: grant.id });
		assert_ok!(vote(ALICE, id, true, None));
		assert_eq!(close_at_end(id), (true, Some(Ok(()))));
		assert!(AccessGrants::live_grant(dao, &CONSUMER).is_none());

		// The treasury pays out what it has, keeping its existential deposit...
		let id = propose(ALICE, dao, Action::TreasurySpend { to: BOB, amount: 60 });
		assert_ok!(vote(ALICE, id, true, None));
		let bob = Balances::balance(&BOB);
		assert_eq!(close_at_end(id), (true, Some(Ok(()))));
		assert_eq!(Balances::balance(&BOB), bob + 60);
		// ...and no more: a failed action changes nothing, and the proposal is closed.
		let id = propose(ALICE, dao, Action::TreasurySpend { to: BOB, amount: 1 });
		assert_ok!(vote(ALICE, id, true, None));
		let (passed, result) = close_at_end(id);
		assert!(passed && matches!(result, Some(Err(_))));
		assert_eq!(Balances::balance(&BOB), bob + 60);
		assert_eq!(Balances::balance_on_hold(&HoldReason::ProposalDeposit.into(), &ALICE), 0);

		let id = propose(ALICE, dao, Action::Retire);
		assert_ok!(vote(ALICE, id, true, None));
		assert_eq!(close_at_end(id), (true, Some(Ok(()))));
		assert!(DataDaos::active_dao(dao).is_err());
	});
}

#[test]
fn each_dao_votes_with_its_own_token() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let other = create_dao(ADMIN, 2);
		assert_ok!(DatasetTokens::mint(other, &CONSUMER, 1_000));
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		// The consumer's tokens of another DAO weigh nothing here.
		assert_noop!(vote(CONSUMER, id, true, None), Error::<Test>::NoTokens);
	});
}

#[test]
fn a_retired_dao_still_spends_its_treasury_and_ends_grants() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_ok!(vote(ALICE, id, true, None));
		assert_eq!(close_at_end(id), (true, Some(Ok(()))));
		let grant = AccessGrants::live_grant(dao, &CONSUMER).expect("granted");
		assert_ok!(DataDaos::retire(RuntimeOrigin::signed(ADMIN), dao));

		// No new business...
		let p = |action: CallAction| {
			Governance::propose(RuntimeOrigin::signed(ALICE), dao, Box::new(action), Vec::new())
		};
		assert_noop!(p(grant_access(Scope::Full)), Error::<Test>::DaoRetired);
		let offer = Action::SetOffer { scope: Scope::Full, price_per_day: 1, max_days: 1 };
		assert_noop!(p(offer), Error::<Test>::DaoRetired);
		// ...but what the treasury holds is not locked away for good, and grants can end.
		let spend = propose(ALICE, dao, Action::TreasurySpend { to: BOB, amount: 200 });
		let revoke = propose(ALICE, dao, Action::RevokeAccess { grant_id: grant.id });
		assert_ok!(vote(ALICE, spend, true, None));
		assert_ok!(vote(ALICE, revoke, true, None));
		let bob = Balances::balance(&BOB);
		assert_eq!(close_at_end(spend), (true, Some(Ok(()))));
		assert_eq!(close_at_end(revoke), (true, Some(Ok(()))));
		assert_eq!(Balances::balance(&BOB), bob + 200);
		assert!(AccessGrants::live_grant(dao, &CONSUMER).is_none());
	});
}

#[test]
fn a_daos_open_proposals_are_listed_from_its_own_index() {
	build_and_execute(|| {
		let dao = dao_with_holders();
		let other = create_dao(ADMIN, 2);
		let first = propose(CONSUMER, dao, grant_access(Scope::Full));
		let elsewhere = propose(ALICE, other, Action::Retire);
		let second = propose(ALICE, dao, Action::Retire);
		let ids = |dao| Governance::proposals_of(dao).into_iter().map(|p| p.id).collect::<Vec<_>>();
		assert_eq!(ids(dao), vec![first, second]);
		assert_eq!(ids(other), vec![elsewhere]);

		// Closing takes a proposal out of its DAO's list, and only there.
		close_at_end(first);
		assert_eq!(ids(dao), vec![second]);
		assert_eq!(ids(other), vec![elsewhere]);
		assert!(!crate::DaoProposals::<Test>::contains_key(dao, first));
	});
}

#[test]
fn try_state_catches_an_open_proposal_missing_from_its_daos_index() {
	new_test_ext().execute_with(|| {
		let dao = dao_with_holders();
		let id = propose(CONSUMER, dao, grant_access(Scope::Full));
		assert_ok!(Governance::do_try_state());
		crate::DaoProposals::<Test>::remove(dao, id);
		assert!(Governance::do_try_state().is_err());
	});
}
