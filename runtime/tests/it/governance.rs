//! Governance and paid access through the real runtime: three contributors earn a DAO's
//! tokens, a data consumer proposes a grant with a fee, the holders vote (one of them moving
//! tokens mid-vote), the proposal is closed, and the fee reaches the holders exactly pro rata
//! and the DAO's treasury its share.

use crate::{
	common::{account, run_to_block, ExtBuilder},
	contribution_path::{attest_xt, attestation, collective_key, create_dao},
};
use datacoop_primitives::governance::{Action, Scope};
use datacoop_runtime::{
	AccessGrants, Balances, Contributions, DaoGovernance, DatasetTokens, Executive, Runtime,
	RuntimeOrigin, DAYS, EXISTENTIAL_DEPOSIT, UNIT,
};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Bob, Charlie, Dave, Ferdie};

const FEE: u128 = 1_000 * UNIT;

#[test]
fn a_granted_fee_reaches_holders_pro_rata_after_a_transfer_mid_vote_and_the_treasury() {
	ExtBuilder::default().execute(|| {
		let (bob, charlie, dave, consumer) =
			(account(Bob), account(Charlie), account(Dave), account(Ferdie));
		let dao = create_dao();

		// Three contributions, accepted at 80%, 60% and 60%: 800, 600 and 600 tokens.
		for (i, (who, overall)) in [(&bob, 80), (&charlie, 60), (&dave, 60)].into_iter().enumerate()
		{
			let blob = H256::repeat_byte(i as u8 + 1);
			assert_ok!(Contributions::submit(
				RuntimeOrigin::signed(who.clone()),
				dao,
				format!("https://storage.example/blobs/{i}").into_bytes(),
				blob,
				4_096
			));
			let xt = attest_xt(&attestation(dao, i as u64, blob, overall), &collective_key());
			assert_ok!(Executive::apply_extrinsic(xt).expect("valid"));
		}
		assert_eq!(pallet_dataset_tokens::TotalSupply::<Runtime>::get(dao), 2_000 * UNIT);

		// The consumer proposes its own grant: a week of the full records for 1,000 COOP.
		assert_ok!(DaoGovernance::propose(
			RuntimeOrigin::signed(consumer.clone()),
			dao,
			Box::new(Action::GrantAccess {
				grantee: consumer.clone(),
				scope: Scope::Full,
				duration: 7 * DAYS,
				fee: FEE
			}),
			b"ipfs://bafy-research-plan".to_vec(),
		));
		let id = 0;

		// Bob votes with 500 of his 800, then sends 300 to Charlie; the 500 stay put.
		assert_ok!(DaoGovernance::vote(
			RuntimeOrigin::signed(bob.clone()),
			id,
			true,
			Some(500 * UNIT)
		));
		assert_ok!(DatasetTokens::transfer(
			RuntimeOrigin::signed(bob.clone()),
			dao,
			charlie.clone(),
			300 * UNIT
		));
		assert_noop!(
			DatasetTokens::transfer(RuntimeOrigin::signed(bob.clone()), dao, dave.clone(), UNIT),
			pallet_dataset_tokens::Error::<Runtime>::TokensFrozen
		);
		// Charlie votes his 900 (300 of them Bob's, which had not voted); Dave votes nay.
		assert_ok!(DaoGovernance::vote(RuntimeOrigin::signed(charlie.clone()), id, true, None));
		assert_ok!(DaoGovernance::vote(RuntimeOrigin::signed(dave.clone()), id, false, None));
		let proposal = pallet_dao_governance::Proposals::<Runtime>::get(id).expect("open");
		assert_eq!((proposal.ayes, proposal.nays), (1_400 * UNIT, 600 * UNIT));

		run_to_block(proposal.ends);
		assert_ok!(DaoGovernance::close(RuntimeOrigin::signed(dave.clone()), id));
		let grant = AccessGrants::live_grant(dao, &consumer).expect("granted");
		assert_eq!((grant.scope, grant.paid), (Scope::Full, FEE));
		assert_eq!(grant.expires, proposal.ends + 7 * DAYS);

		// 80% of the fee to the holders by their balances at the close: 500, 900 and 600
		// of 2,000; 20% to the treasury.
		let before: Vec<u128> = [&bob, &charlie, &dave].map(Balances::balance).to_vec();
		for who in [&bob, &charlie, &dave] {
			assert_ok!(DatasetTokens::claim_rewards(RuntimeOrigin::signed(who.clone()), dao));
		}
		let gained: Vec<u128> = [&bob, &charlie, &dave]
			.iter()
			.zip(before)
			.map(|(w, b)| Balances::balance(w) - b)
			.collect();
		assert_eq!(gained, vec![200 * UNIT, 360 * UNIT, 240 * UNIT]);
		assert_eq!(AccessGrants::treasury_balance(dao), 200 * UNIT);
		// Everything paid out; the pot keeps only its existential deposit.
		assert_eq!(Balances::balance(&DatasetTokens::reward_pot(dao)), EXISTENTIAL_DEPOSIT);
		// The consumer paid the fee once (and the two existential deposits of the first
		// payments into the pot and the treasury); the grant's deposit is held.
		let grant_deposit = <Runtime as pallet_access_grants::Config>::GrantDeposit::get();
		assert_eq!(
			Balances::total_balance(&consumer),
			1_000_000 * UNIT - FEE - 2 * EXISTENTIAL_DEPOSIT
		);
		assert_eq!(
			Balances::balance(&consumer),
			1_000_000 * UNIT - FEE - 2 * EXISTENTIAL_DEPOSIT - grant_deposit
		);
		// Bob's tokens are free again once he unlocks.
		assert_ok!(DaoGovernance::unlock(RuntimeOrigin::signed(bob.clone()), dao));
		assert_ok!(DatasetTokens::transfer(RuntimeOrigin::signed(bob), dao, dave, 500 * UNIT));
	});
}
