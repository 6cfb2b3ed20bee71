//! The contribution path through the real runtime: a DAO is created, contributions are
//! submitted, attested with real sr25519 signatures as unsigned extrinsics (validated as the
//! transaction pool does, then applied as a block does), tokens are minted, and rewards are
//! deposited and claimed in exact pro-rata amounts across transfers.

use crate::common::{account, run_to_block, ExtBuilder};
use datacoop_primitives::{
	contribution::{signing_payload, Attestation, Scores, Verdict},
	dao::{Collective, DaoRules, TokenInfo},
};
use datacoop_runtime::{
	Balances, BlockNumber, Contributions, DataDaos, DatasetTokens, Executive, Runtime, RuntimeCall,
	RuntimeOrigin, System, UncheckedExtrinsic, EXISTENTIAL_DEPOSIT, MINUTES, UNIT,
};
use frame_support::{
	assert_ok,
	storage::{with_transaction, TransactionOutcome},
	traits::fungible::Inspect,
};
use sp_core::{sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave, Ferdie};
use sp_runtime::{
	transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
	DispatchError, Permill,
};

const REWARD: u128 = 1_000 * UNIT;
const MEASUREMENT: H256 = H256::repeat_byte(0x4d);

/// What stays held for each contribution's record.
fn record_deposit() -> u128 {
	<Runtime as pallet_contributions::Config>::RecordDeposit::get()
}

pub(crate) fn collective_key() -> sr25519::Pair {
	sr25519::Pair::from_string("//DatacoopCollective", None).unwrap()
}

pub(crate) fn create_dao() -> u32 {
	let dao_id = pallet_data_daos::NextDaoId::<Runtime>::get();
	let encryption_key = [9u8; 32];
	let payload = DataDaos::create_key_proof_payload(&account(Alice), dao_id, &encryption_key);
	let key_proof = collective_key().sign(&payload).0;
	assert_ok!(DataDaos::create(
		RuntimeOrigin::signed(account(Alice)),
		b"Reddit comments 2026".to_vec(),
		b"ipfs://bafy-schema".to_vec(),
		TokenInfo { name: b"Reddit Comments".to_vec(), symbol: b"RDC".to_vec() },
		Collective {
			encryption_key,
			attestation_signer: collective_key().public().0,
			endpoint: b"https://collective.example".to_vec(),
			measurement: MEASUREMENT,
		},
		DaoRules {
			min_contribution_size: 100,
			max_contribution_size: 1 << 30,
			reward_at_full_score: REWARD,
			min_score: Permill::from_percent(50),
			contribution_deposit: 5 * UNIT,
			voting_period: 10 * MINUTES,
			quorum: Permill::from_percent(20),
			approval_threshold: Permill::from_percent(50),
			holders_share: Permill::from_percent(80),
		},
		key_proof,
	));
	pallet_data_daos::NextDaoId::<Runtime>::get() - 1
}

pub(crate) fn attestation(
	dao_id: u32,
	contribution_id: u64,
	ciphertext: H256,
	overall: u32,
) -> Attestation<BlockNumber> {
	let contributor = pallet_contributions::Contributions::<Runtime>::get(contribution_id)
		.map(|c| Contributions::account_bytes(&c.contributor))
		.unwrap_or_default();
	Attestation {
		dao_id,
		contribution_id,
		contributor,
		ciphertext_hash: ciphertext,
		fingerprint: H256::repeat_byte(contribution_id as u8 + 100),
		scores: Scores {
			authenticity: Permill::one(),
			ownership: Permill::one(),
			quality: Permill::from_percent(overall),
			uniqueness: Permill::one(),
			overall: Permill::from_percent(overall),
		},
		verdict: Verdict::Valid,
		measurement: MEASUREMENT,
		valid_until: System::block_number() + 20,
	}
}

/// The unsigned extrinsic a relay would send: the attestation signed by `key` for this chain.
pub(crate) fn attest_xt(
	attestation: &Attestation<BlockNumber>,
	key: &sr25519::Pair,
) -> UncheckedExtrinsic {
	let signature = key.sign(&signing_payload(attestation, &System::block_hash(0)));
	let call = RuntimeCall::Contributions(pallet_contributions::Call::attest {
		attestation: attestation.clone(),
		signature,
	});
	UncheckedExtrinsic::new_bare(call)
}

/// What the transaction pool says, leaving the state as it was.
fn pool_validity(xt: &UncheckedExtrinsic) -> Result<(), TransactionValidityError> {
	let parent = System::parent_hash();
	with_transaction(|| {
		let result =
			Executive::validate_transaction(TransactionSource::External, xt.clone(), parent);
		TransactionOutcome::Rollback(Ok::<_, DispatchError>(result.map(|_| ())))
	})
	.unwrap()
}

fn error_code(error: pallet_contributions::Error<Runtime>) -> u8 {
	pallet_contributions::Pallet::<Runtime>::error_index(error)
}

#[test]
fn contributions_earn_tokens_and_holders_share_rewards_pro_rata() {
	ExtBuilder::default().execute(|| {
		let (bob, charlie, dave, ferdie) =
			(account(Bob), account(Charlie), account(Dave), account(Ferdie));
		let dao = create_dao();
		let key = collective_key();

		// Bob and Charlie submit; their deposits are held.
		let (bob_blob, charlie_blob) = (H256::repeat_byte(1), H256::repeat_byte(2));
		assert_ok!(Contributions::submit(
			RuntimeOrigin::signed(bob.clone()),
			dao,
			b"https://storage.example/blobs/01".to_vec(),
			bob_blob,
			4_096
		));
		assert_ok!(Contributions::submit(
			RuntimeOrigin::signed(charlie.clone()),
			dao,
			b"https://storage.example/blobs/02".to_vec(),
			charlie_blob,
			8_192
		));
		assert_eq!(Balances::balance(&bob), 1_000_000 * UNIT - 5 * UNIT - record_deposit());
		run_to_block(3);

		// The collective's attestations: checked by the pool, applied in a block.
		let bob_xt = attest_xt(&attestation(dao, 0, bob_blob, 80), &key);
		let charlie_xt = attest_xt(&attestation(dao, 1, charlie_blob, 60), &key);
		assert_eq!(pool_validity(&bob_xt), Ok(()));
		assert_eq!(pool_validity(&charlie_xt), Ok(()));
		assert_ok!(Executive::apply_extrinsic(bob_xt.clone()).expect("valid"));
		assert_ok!(Executive::apply_extrinsic(charlie_xt).expect("valid"));

		// Tokens = reward at full score × overall; deposits back.
		assert_eq!(DatasetTokens::balance(dao, &bob), 800 * UNIT);
		assert_eq!(DatasetTokens::balance(dao, &charlie), 600 * UNIT);
		assert_eq!(Balances::balance(&bob), 1_000_000 * UNIT - record_deposit());
		assert_eq!(Balances::balance(&charlie), 1_000_000 * UNIT - record_deposit());

		// The same attestation again: the pool refuses it as a replay.
		let replay = Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
			error_code(pallet_contributions::Error::AlreadyAttested),
		)));
		assert_eq!(pool_validity(&bob_xt), replay);
		assert_eq!(Executive::apply_extrinsic(bob_xt), replay.map(|_| Ok(())));

		// Bob sends 200 to Dave: 600 / 600 / 200 of 1,400. Ferdie pays 700 COOP of fees.
		assert_ok!(DatasetTokens::transfer(
			RuntimeOrigin::signed(bob.clone()),
			dao,
			dave.clone(),
			200 * UNIT
		));
		assert_ok!(DatasetTokens::deposit_rewards(
			RuntimeOrigin::signed(ferdie.clone()),
			dao,
			700 * UNIT
		));
		// The first deposit also pays the pot's existential deposit.
		assert_eq!(Balances::balance(&ferdie), 1_000_000 * UNIT - 700 * UNIT - EXISTENTIAL_DEPOSIT);
		assert_eq!(DatasetTokens::claimable(dao, &bob), 300 * UNIT);
		assert_eq!(DatasetTokens::claimable(dao, &charlie), 300 * UNIT);
		assert_eq!(DatasetTokens::claimable(dao, &dave), 100 * UNIT);

		// Bob claims now; then sends 100 to Charlie (500 / 700 / 200) and Ferdie pays 1,400.
		assert_ok!(DatasetTokens::claim_rewards(RuntimeOrigin::signed(bob.clone()), dao));
		assert_ok!(DatasetTokens::transfer(
			RuntimeOrigin::signed(bob.clone()),
			dao,
			charlie.clone(),
			100 * UNIT
		));
		assert_ok!(DatasetTokens::deposit_rewards(
			RuntimeOrigin::signed(ferdie),
			dao,
			1_400 * UNIT
		));
		for who in [&bob, &charlie, &dave] {
			assert_ok!(DatasetTokens::claim_rewards(RuntimeOrigin::signed(who.clone()), dao));
		}
		assert_eq!(
			Balances::balance(&bob),
			1_000_000 * UNIT + 300 * UNIT + 500 * UNIT - record_deposit()
		);
		assert_eq!(
			Balances::balance(&charlie),
			1_000_000 * UNIT + 300 * UNIT + 700 * UNIT - record_deposit()
		);
		assert_eq!(Balances::balance(&dave), 1_000_000 * UNIT + 100 * UNIT + 200 * UNIT);
		// Everything deposited was paid out; the pot keeps only its existential deposit.
		assert_eq!(Balances::balance(&DatasetTokens::reward_pot(dao)), EXISTENTIAL_DEPOSIT);
	});
}

#[test]
fn the_pool_refuses_attestations_the_dao_did_not_sign() {
	ExtBuilder::default().execute(|| {
		let bob = account(Bob);
		let dao = create_dao();
		let blob = H256::repeat_byte(1);
		assert_ok!(Contributions::submit(
			RuntimeOrigin::signed(bob.clone()),
			dao,
			b"https://storage.example/blobs/01".to_vec(),
			blob,
			4_096
		));

		let forged = attest_xt(
			&attestation(dao, 0, blob, 100),
			&sr25519::Pair::from_string("//Mallory", None).unwrap(),
		);
		let refused = Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
			error_code(pallet_contributions::Error::BadSignature),
		)));
		assert_eq!(pool_validity(&forged), refused);
		// A block author including it anyway gets the same refusal: it cannot enter a block.
		assert_eq!(Executive::apply_extrinsic(forged), refused.map(|_| Ok(())));

		let mut wrong_hash = attestation(dao, 0, blob, 100);
		wrong_hash.ciphertext_hash = H256::repeat_byte(7);
		assert_eq!(
			pool_validity(&attest_xt(&wrong_hash, &collective_key())),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(error_code(
				pallet_contributions::Error::CiphertextMismatch
			))))
		);
		// Nothing changed: still pending, deposit held, no tokens.
		assert!(pallet_contributions::Pending::<Runtime>::contains_key(dao, 0));
		assert_eq!(DatasetTokens::balance(dao, &bob), 0);
		assert_eq!(Balances::balance(&bob), 1_000_000 * UNIT - 5 * UNIT - record_deposit());
	});
}
