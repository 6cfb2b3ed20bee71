//! Unit tests: every call's outcome and every way it refuses bad input.

#![allow(deprecated)] // ValidateUnsigned: see the crate docs.

use datacoop_primitives::contribution::{Attestation, Reason, Verdict};
use frame_support::{
	assert_noop, assert_ok,
	pallet_prelude::{InvalidTransaction, TransactionSource, TransactionValidityError},
	traits::fungible::{Inspect, InspectHold},
	unsigned::ValidateUnsigned,
};
use sp_core::{Pair, H256};
use sp_runtime::{DispatchError, Permill};

use crate::{
	functions::BELOW_MIN_SCORE, mock::*, ByCiphertext, ByContributor, Call, CancelRequests,
	ContributionStatus, Contributions as ContributionsStorage, Error, Event, Fingerprints,
	HoldReason, Pending, PendingDaos,
};

const URL: &[u8] = b"http://storage.example/blobs/ab12";
const SIZE: u64 = 5_000;

fn hash(n: u8) -> H256 {
	H256::repeat_byte(n)
}

fn held(who: u64) -> Balance {
	Balances::balance_on_hold(&HoldReason::ContributionDeposit.into(), &who)
}

/// What is held from `who` for contribution records.
fn held_for_records(who: u64) -> Balance {
	Balances::balance_on_hold(&HoldReason::ContributionRecord.into(), &who)
}

fn submit(who: u64, dao_id: u32, ciphertext: H256) -> u64 {
	let id = crate::NextContributionId::<Test>::get();
	assert_ok!(Contributions::submit(
		RuntimeOrigin::signed(who),
		dao_id,
		URL.to_vec(),
		ciphertext,
		SIZE
	));
	id
}

/// What the pool says about an attestation: Ok, or the custom code it refused it with.
fn pool(attestation: &Attestation<BlockNumber>, key: &sp_core::sr25519::Pair) -> Result<(), u8> {
	let call = Call::<Test>::attest {
		attestation: attestation.clone(),
		signature: sign(attestation, key),
	};
	match <Contributions as ValidateUnsigned>::validate_unsigned(TransactionSource::External, &call)
	{
		Ok(_) => Ok(()),
		Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(code))) => Err(code),
		Err(other) => panic!("unexpected refusal {other:?}"),
	}
}

fn code(error: Error<Test>) -> u8 {
	Contributions::error_index(error)
}

fn attest(
	attestation: &Attestation<BlockNumber>,
	key: &sp_core::sr25519::Pair,
) -> sp_runtime::DispatchResult {
	Contributions::attest(RuntimeOrigin::none(), attestation.clone(), sign(attestation, key))
}

#[test]
fn submit_holds_the_deposit_and_indexes_the_contribution() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let free_before = Balances::balance(&BOB);
		let id = submit(BOB, dao, hash(1));
		assert_eq!(id, 0);

		let c = ContributionsStorage::<Test>::get(id).expect("stored");
		assert_eq!(
			(c.dao_id, c.contributor, c.ciphertext_size, c.deposit, c.record_deposit),
			(dao, BOB, SIZE, DEPOSIT, RECORD_DEPOSIT)
		);
		assert_eq!(&c.url[..], URL);
		assert_eq!(c.status, ContributionStatus::Pending);
		assert_eq!(held(BOB), DEPOSIT);
		assert_eq!(held_for_records(BOB), RECORD_DEPOSIT);
		assert_eq!(Balances::balance(&BOB), free_before - DEPOSIT - RECORD_DEPOSIT);
		assert!(Pending::<Test>::contains_key(dao, id));
		assert_eq!(PendingDaos::<Test>::get(dao), Some(1));
		assert_eq!(ByCiphertext::<Test>::get(dao, hash(1)), Some(id));
		assert!(ByContributor::<Test>::contains_key(BOB, id));
		System::assert_last_event(
			Event::Submitted {
				contribution_id: id,
				dao_id: dao,
				contributor: BOB,
				ciphertext_hash: hash(1),
				ciphertext_size: SIZE,
				deposit: DEPOSIT,
			}
			.into(),
		);
		// Sequential ids.
		assert_eq!(submit(BOB, dao, hash(2)), 1);
	});
}

#[test]
fn bad_submissions_are_refused_and_change_nothing() {
	build_and_execute(|| {
		let dao = create_dao(&collective_key("Collective"));
		let go = |who: u64, dao_id: u32, url: &[u8], h: H256, size: u64| {
			Contributions::submit(RuntimeOrigin::signed(who), dao_id, url.to_vec(), h, size)
		};
		assert_noop!(go(BOB, dao, &[b'a'; 129], hash(1), SIZE), Error::<Test>::UrlTooLong);
		for url in [
			&b""[..],
			b"storage.example/x",
			b"://x",
			b"http://",
			b"http://a b",
			b"HTTP://x",
			b"http://\xff",
			b"s3://bucket/key",
			b"http://storage.example/blobs/ab12?token=1",
			b"http://me@storage.example/blobs/ab12",
		] {
			assert_noop!(go(BOB, dao, url, hash(1), SIZE), Error::<Test>::InvalidUrl);
		}
		assert_noop!(go(BOB, dao, URL, H256::zero(), SIZE), Error::<Test>::InvalidCiphertextHash);
		assert_noop!(go(BOB, 7, URL, hash(1), SIZE), Error::<Test>::UnknownDao);
		assert_noop!(go(BOB, dao, URL, hash(1), 0), Error::<Test>::SizeBelowMinimum);
		assert_noop!(go(BOB, dao, URL, hash(1), 9), Error::<Test>::SizeBelowMinimum);
		assert_noop!(go(BOB, dao, URL, hash(1), 1_000_001), Error::<Test>::SizeAboveMaximum);
		assert_noop!(go(BOB, dao, URL, hash(1), u64::MAX), Error::<Test>::SizeAboveMaximum);
		assert_noop!(go(POOR, dao, URL, hash(1), SIZE), Error::<Test>::CannotPayDeposit);
		assert_noop!(
			Contributions::submit(RuntimeOrigin::none(), dao, URL.to_vec(), hash(1), SIZE),
			DispatchError::BadOrigin
		);

		// Both ends of the size range are accepted; the same ciphertext only once per DAO.
		assert_ok!(go(BOB, dao, URL, hash(1), 10));
		assert_ok!(go(BOB, dao, b"https://storage.example/blobs/cd34", hash(2), 1_000_000));
		assert_noop!(go(ALICE, dao, URL, hash(1), SIZE), Error::<Test>::DuplicateCiphertext);
		let other = create_dao(&collective_key("Other"));
		assert_ok!(go(ALICE, other, URL, hash(1), SIZE));

		assert_ok!(DataDaos::retire(RuntimeOrigin::signed(ALICE), dao));
		assert_noop!(go(BOB, dao, URL, hash(3), SIZE), Error::<Test>::DaoRetired);
	});
}

#[test]
fn an_accepted_attestation_mints_the_reward_and_releases_the_deposit() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let id = submit(BOB, dao, hash(1));
		System::set_block_number(5);
		let a = attestation(dao, id, hash(1), Permill::from_percent(80));
		assert_eq!(pool(&a, &key), Ok(()));
		assert_ok!(attest(&a, &key));

		let reward = 800_000;
		assert_eq!(DatasetTokens::balance(dao, &BOB), reward);
		assert_eq!(pallet_dataset_tokens::TotalSupply::<Test>::get(dao), reward);
		assert_eq!(held(BOB), 0);
		// The record stays, and so does its deposit.
		assert_eq!(held_for_records(BOB), RECORD_DEPOSIT);
		assert_eq!(Balances::balance(&BOB), 1_000_000 - RECORD_DEPOSIT);
		assert_eq!(
			ContributionsStorage::<Test>::get(id).unwrap().status,
			ContributionStatus::Accepted { scores: a.scores, reward, at: 5 }
		);
		assert!(!Pending::<Test>::contains_key(dao, id));
		assert_eq!(PendingDaos::<Test>::get(dao), None);
		assert_eq!(Fingerprints::<Test>::get(dao, a.fingerprint), Some(id));
		System::assert_last_event(
			Event::Accepted {
				contribution_id: id,
				dao_id: dao,
				contributor: BOB,
				scores: a.scores,
				reward,
			}
			.into(),
		);

		// A replay of the same attestation is refused, in the pool and in a block.
		assert_eq!(pool(&a, &key), Err(code(Error::AlreadyAttested)));
		assert_noop!(attest(&a, &key), Error::<Test>::AlreadyAttested);
	});
}

#[test]
fn forged_and_mismatched_attestations_are_refused_with_distinct_errors() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let id = submit(BOB, dao, hash(1));
		let good = attestation(dao, id, hash(1), Permill::from_percent(80));

		let mut cases: Vec<(Attestation<BlockNumber>, sp_core::sr25519::Pair, Error<Test>)> = vec![
			// Signed by a key the DAO did not register.
			(good.clone(), collective_key("Mallory"), Error::BadSignature),
		];
		let mut a = good.clone();
		a.measurement = H256::repeat_byte(1);
		cases.push((a, key.clone(), Error::WrongMeasurement));
		let mut a = good.clone();
		a.ciphertext_hash = hash(9);
		cases.push((a, key.clone(), Error::CiphertextMismatch));
		let mut a = good.clone();
		a.valid_until = 0;
		cases.push((a, key.clone(), Error::AttestationExpired));
		let mut a = good.clone();
		a.dao_id = dao + 1;
		cases.push((a, key.clone(), Error::WrongDao));
		let mut a = good.clone();
		a.contribution_id = 99;
		cases.push((a, key.clone(), Error::UnknownContribution));
		// The collective read another account in the data's statement than the submitter.
		let mut a = good.clone();
		a.contributor = Contributions::account_bytes(&ALICE);
		cases.push((a, key.clone(), Error::WrongContributor));

		let mut codes = Vec::new();
		for (a, signer, error) in cases {
			let expected = code(error);
			assert_eq!(pool(&a, &signer), Err(expected), "error {expected} in the pool");
			assert_noop!(
				attest(&a, &signer),
				DispatchError::Module(sp_runtime::ModuleError {
					index: 4,
					error: [expected, 0, 0, 0],
					message: None
				})
			);
			codes.push(expected);
		}
		codes.sort();
		codes.dedup();
		assert_eq!(codes.len(), 7, "each refusal has its own code");

		// A genuine signature over other bytes: a score raised after signing.
		let signature = sign(&good, &key);
		let mut raised = good.clone();
		raised.scores.overall = Permill::one();
		assert_noop!(
			Contributions::attest(RuntimeOrigin::none(), raised, signature),
			Error::<Test>::BadSignature
		);
		// The same attestation signed for another chain (another genesis hash).
		let foreign = key.sign(&datacoop_primitives::contribution::signing_payload(
			&good,
			&H256::repeat_byte(2),
		));
		assert_noop!(
			Contributions::attest(RuntimeOrigin::none(), good.clone(), foreign),
			Error::<Test>::BadSignature
		);
		// Only as an unsigned call.
		assert_noop!(
			Contributions::attest(RuntimeOrigin::signed(BOB), good.clone(), signature),
			DispatchError::BadOrigin
		);
		// Still pending, deposit still held, nothing minted.
		assert!(Pending::<Test>::contains_key(dao, id));
		assert_eq!(held(BOB), DEPOSIT);
		assert_eq!(DatasetTokens::balance(dao, &BOB), 0);
	});
}

#[test]
fn the_same_data_earns_only_once_per_dao() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let first = submit(BOB, dao, hash(1));
		// The same plaintext encrypted again: another ciphertext, the same fingerprint.
		let second = submit(ALICE, dao, hash(2));
		let a = attestation(dao, first, hash(1), Permill::from_percent(80));
		assert_ok!(attest(&a, &key));
		let mut b = attestation(dao, second, hash(2), Permill::from_percent(80));
		b.fingerprint = a.fingerprint;
		assert_eq!(pool(&b, &key), Err(code(Error::DuplicateFingerprint)));
		assert_noop!(attest(&b, &key), Error::<Test>::DuplicateFingerprint);

		// The collective marks it invalid instead, as it should: that is accepted.
		b.verdict = Verdict::Invalid { reason: Reason::truncate_from(b"duplicate".to_vec()) };
		assert_ok!(attest(&b, &key));
		assert!(matches!(
			ContributionsStorage::<Test>::get(second).unwrap().status,
			ContributionStatus::Rejected { .. }
		));
	});
}

#[test]
fn an_invalid_contribution_is_rejected_with_its_reason_and_a_slash() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let id = submit(BOB, dao, hash(1));
		let issuance = Balances::total_issuance();
		let mut a = attestation(dao, id, hash(1), Permill::zero());
		let reason = Reason::truncate_from(b"not valid JSON at byte 12".to_vec());
		a.verdict = Verdict::Invalid { reason: reason.clone() };
		assert_ok!(attest(&a, &key));

		let slashed = DEPOSIT / 10;
		assert_eq!(held(BOB), 0);
		assert_eq!(Balances::balance(&BOB), 1_000_000 - RECORD_DEPOSIT - slashed);
		assert_eq!(Balances::total_issuance(), issuance - slashed);
		assert_eq!(DatasetTokens::balance(dao, &BOB), 0);
		assert!(Fingerprints::<Test>::get(dao, a.fingerprint).is_none());
		assert_eq!(
			ContributionsStorage::<Test>::get(id).unwrap().status,
			ContributionStatus::Rejected {
				scores: a.scores,
				reason: reason.clone(),
				slashed,
				at: 1
			}
		);
		System::assert_last_event(
			Event::Rejected { contribution_id: id, dao_id: dao, contributor: BOB, reason, slashed }
				.into(),
		);
	});
}

#[test]
fn a_valid_contribution_below_the_minimum_score_is_rejected_without_a_slash() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let id = submit(BOB, dao, hash(1));
		let a = attestation(dao, id, hash(1), Permill::from_percent(49));
		assert_ok!(attest(&a, &key));
		assert_eq!(Balances::balance(&BOB), 1_000_000 - RECORD_DEPOSIT);
		assert_eq!(DatasetTokens::balance(dao, &BOB), 0);
		assert_eq!(
			ContributionsStorage::<Test>::get(id).unwrap().status,
			ContributionStatus::Rejected {
				scores: a.scores,
				reason: Reason::truncate_from(BELOW_MIN_SCORE.to_vec()),
				slashed: 0,
				at: 1
			}
		);
		// Exactly at the minimum is accepted.
		let id = submit(BOB, dao, hash(2));
		assert_ok!(attest(&attestation(dao, id, hash(2), Permill::from_percent(50)), &key));
		assert_eq!(DatasetTokens::balance(dao, &BOB), REWARD / 2);
	});
}

#[test]
fn a_pending_contribution_can_be_cancelled_after_the_timeout_and_a_delay() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let id = submit(BOB, dao, hash(1));
		assert_noop!(
			Contributions::cancel(RuntimeOrigin::signed(BOB), 42),
			Error::<Test>::UnknownContribution
		);
		assert_noop!(
			Contributions::cancel(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotContributor
		);
		System::set_block_number(1 + PENDING_TIMEOUT - 1);
		assert_noop!(
			Contributions::cancel(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::TooEarly
		);
		assert_noop!(
			Contributions::withdraw(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::CancelNotRequested
		);

		let asked = 1 + PENDING_TIMEOUT;
		System::set_block_number(asked);
		assert_ok!(Contributions::cancel(RuntimeOrigin::signed(BOB), id));
		System::assert_last_event(
			Event::CancelRequested {
				contribution_id: id,
				dao_id: dao,
				contributor: BOB,
				withdraw_from: asked + CANCEL_DELAY,
			}
			.into(),
		);
		assert_noop!(
			Contributions::cancel(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::CancelAlreadyRequested
		);
		// Still Pending, deposits held, until the delay has passed.
		System::set_block_number(asked + CANCEL_DELAY - 1);
		assert_noop!(
			Contributions::withdraw(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::TooEarly
		);
		assert_eq!(held(BOB), DEPOSIT);
		System::set_block_number(asked + CANCEL_DELAY);
		assert_noop!(
			Contributions::withdraw(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotContributor
		);
		assert_ok!(Contributions::withdraw(RuntimeOrigin::signed(BOB), id));
		assert_eq!((held(BOB), held_for_records(BOB)), (0, 0));
		assert_eq!(Balances::balance(&BOB), 1_000_000);
		assert!(ContributionsStorage::<Test>::get(id).is_none());
		assert!(!CancelRequests::<Test>::contains_key(id));
		assert_eq!(PendingDaos::<Test>::get(dao), None);
		System::assert_last_event(
			Event::Cancelled { contribution_id: id, dao_id: dao, contributor: BOB }.into(),
		);
		// An attestation arriving late finds nothing to judge.
		let a = attestation(dao, id, hash(1), Permill::one());
		assert_noop!(attest(&a, &key), Error::<Test>::UnknownContribution);

		// The same ciphertext may be submitted again; a judged one cannot be cancelled.
		let again = submit(BOB, dao, hash(1));
		assert_ok!(attest(&attestation(dao, again, hash(1), Permill::one()), &key));
		System::set_block_number(1_000);
		assert_noop!(
			Contributions::cancel(RuntimeOrigin::signed(BOB), again),
			Error::<Test>::NotPending
		);
	});
}

/// The dodge: a contributor keeps the blob away until `PendingTimeout`, asks the collective
/// server (which answers anyone) for the verdict, sees Invalid, and cancels before any
/// validator relays it, keeping the deposit that the slash would have burned. With the
/// delay between asking and withdrawing, the verdict lands first and the slash applies.
#[test]
fn cancelling_cannot_dodge_an_invalid_verdict() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let id = submit(BOB, dao, hash(1));
		System::set_block_number(1 + PENDING_TIMEOUT);
		assert_ok!(Contributions::cancel(RuntimeOrigin::signed(BOB), id));
		// A validator relays the Invalid attestation during the delay.
		System::set_block_number(1 + PENDING_TIMEOUT + 1);
		let mut a = attestation(dao, id, hash(1), Permill::zero());
		a.verdict = Verdict::Invalid { reason: Reason::truncate_from(b"junk".to_vec()) };
		assert_eq!(pool(&a, &key), Ok(()));
		assert_ok!(attest(&a, &key));
		assert!(!CancelRequests::<Test>::contains_key(id));
		System::set_block_number(1 + PENDING_TIMEOUT + CANCEL_DELAY);
		assert_noop!(
			Contributions::withdraw(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotPending
		);
		assert_eq!(Balances::balance(&BOB), 1_000_000 - RECORD_DEPOSIT - DEPOSIT / 10);
	});
}

#[test]
fn a_rejected_record_can_be_removed_by_its_contributor_and_an_accepted_one_stays() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let rejected = submit(BOB, dao, hash(1));
		let accepted = submit(BOB, dao, hash(2));
		let mut a = attestation(dao, rejected, hash(1), Permill::zero());
		a.verdict = Verdict::Invalid { reason: Reason::truncate_from(b"junk".to_vec()) };
		assert_ok!(attest(&a, &key));
		assert_ok!(attest(&attestation(dao, accepted, hash(2), Permill::one()), &key));
		let pending = submit(BOB, dao, hash(3));
		assert_eq!(held_for_records(BOB), 3 * RECORD_DEPOSIT);

		assert_noop!(
			Contributions::remove(RuntimeOrigin::signed(ALICE), rejected),
			Error::<Test>::NotContributor
		);
		assert_noop!(
			Contributions::remove(RuntimeOrigin::signed(BOB), accepted),
			Error::<Test>::NotRejected
		);
		assert_noop!(
			Contributions::remove(RuntimeOrigin::signed(BOB), pending),
			Error::<Test>::NotRejected
		);
		assert_ok!(Contributions::remove(RuntimeOrigin::signed(BOB), rejected));
		System::assert_last_event(
			Event::Removed { contribution_id: rejected, dao_id: dao, contributor: BOB }.into(),
		);
		assert_eq!(held_for_records(BOB), 2 * RECORD_DEPOSIT);
		assert!(ContributionsStorage::<Test>::get(rejected).is_none());
		assert_eq!(ByCiphertext::<Test>::get(dao, hash(1)), None);
		assert!(!ByContributor::<Test>::contains_key(BOB, rejected));
	});
}

/// A contributor who can pay the DAO's deposit but not the record's is refused, and nothing
/// is held.
#[test]
fn the_record_deposit_must_be_paid_too() {
	build_and_execute(|| {
		let dao = create_dao(&collective_key("Collective"));
		let short: u64 = 9;
		<Balances as frame_support::traits::fungible::Mutate<u64>>::set_balance(
			&short,
			DEPOSIT + RECORD_DEPOSIT / 2,
		);
		assert_noop!(
			Contributions::submit(RuntimeOrigin::signed(short), dao, URL.to_vec(), hash(1), SIZE),
			Error::<Test>::CannotPayRecordDeposit
		);
	});
}

/// A contribution URL on a local address would make every validator's off-chain worker
/// send a request to its own local services.
#[test]
fn local_contribution_urls_are_refused_unless_the_chain_allows_them() {
	build_and_execute(|| {
		let dao = create_dao(&collective_key("Collective"));
		for url in [
			&b"http://127.0.0.1:9900/blobs/ab"[..],
			b"http://localhost/blobs/ab",
			b"http://192.168.0.10/blobs/ab",
			b"http://169.254.169.254/latest/meta-data",
			b"http://[::1]/blobs/ab",
			b"http://2130706433/blobs/ab",
		] {
			let expected = if url.starts_with(b"http://2130706433") {
				Error::<Test>::InvalidUrl
			} else {
				Error::<Test>::LocalUrl
			};
			assert_noop!(
				Contributions::submit(RuntimeOrigin::signed(BOB), dao, url.to_vec(), hash(1), SIZE),
				expected
			);
		}
		pallet_data_daos::AllowLocalUrls::<Test>::put(true);
		assert_ok!(Contributions::submit(
			RuntimeOrigin::signed(BOB),
			dao,
			b"http://127.0.0.1:9900/blobs/ab".to_vec(),
			hash(1),
			SIZE
		));
	});
}

/// The signature check is the expensive one: junk that fails a cheap check must not cost
/// the pool an sr25519 verification (before, every attestation was verified first).
#[test]
fn cheap_checks_refuse_junk_before_the_signature_is_verified() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let id = submit(BOB, dao, hash(1));
		let mallory = collective_key("Mallory");
		let mut a = attestation(dao, id, hash(1), Permill::one());
		a.measurement = H256::repeat_byte(1);
		assert_eq!(pool(&a, &mallory), Err(code(Error::WrongMeasurement)));
		let mut a = attestation(dao, id, hash(1), Permill::one());
		a.ciphertext_hash = hash(9);
		assert_eq!(pool(&a, &mallory), Err(code(Error::CiphertextMismatch)));
		let mut a = attestation(dao, id, hash(1), Permill::one());
		a.valid_until = 0;
		assert_eq!(pool(&a, &mallory), Err(code(Error::AttestationExpired)));
	});
}

#[test]
fn try_state_catches_broken_queues_and_fingerprints() {
	let broken = |f: &dyn Fn(u32, u64)| {
		new_test_ext().execute_with(|| {
			let key = collective_key("Collective");
			let dao = create_dao(&key);
			let id = submit(BOB, dao, hash(1));
			let judged = submit(BOB, dao, hash(2));
			assert_ok!(attest(&attestation(dao, judged, hash(2), Permill::one()), &key));
			assert_ok!(Contributions::do_try_state());
			f(dao, id);
			assert!(Contributions::do_try_state().is_err());
		})
	};
	// A cancel request of a judged contribution.
	broken(&|_, _| CancelRequests::<Test>::insert(1, 500));
	// A DAO's pending count off by one.
	broken(&|dao, _| PendingDaos::<Test>::insert(dao, 2));
	// An accepted contribution without its fingerprint.
	broken(&|dao, _| {
		let _ = Fingerprints::<Test>::clear_prefix(dao, u32::MAX, None);
	});
	// A second fingerprint of one accepted contribution.
	broken(&|dao, _| Fingerprints::<Test>::insert(dao, hash(77), 1));
	// A contribution of a DAO that does not exist.
	broken(&|_, id| {
		ContributionsStorage::<Test>::mutate(id, |c| c.as_mut().unwrap().dao_id = 9);
	});
}

#[test]
fn a_retired_dao_still_judges_its_pending_contributions() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let id = submit(BOB, dao, hash(1));
		assert_ok!(DataDaos::retire(RuntimeOrigin::signed(ALICE), dao));
		assert_ok!(attest(&attestation(dao, id, hash(1), Permill::one()), &key));
		assert_eq!(DatasetTokens::balance(dao, &BOB), REWARD);
	});
}

#[test]
fn a_rotated_collective_key_invalidates_the_old_one() {
	build_and_execute(|| {
		let old = collective_key("Collective");
		let dao = create_dao(&old);
		let id = submit(BOB, dao, hash(1));
		let new = collective_key("Collective2");
		let mut collective = datacoop_primitives::dao::Collective {
			encryption_key: [8u8; 32],
			attestation_signer: new.public().0,
			endpoint: b"http://collective2.example".to_vec(),
			measurement: MEASUREMENT,
		};
		let consent = new.sign(&DataDaos::key_proof_payload(dao, &collective.encryption_key)).0;
		assert_ok!(DataDaos::update_collective(
			RuntimeOrigin::signed(ALICE),
			dao,
			collective.clone(),
			consent
		));
		let a = attestation(dao, id, hash(1), Permill::one());
		assert_noop!(attest(&a, &old), Error::<Test>::BadSignature);
		assert_ok!(attest(&a, &new));
		// A new measurement invalidates attestations naming the old one.
		let id = submit(BOB, dao, hash(2));
		collective.measurement = H256::repeat_byte(0x99);
		assert_ok!(DataDaos::update_collective(
			RuntimeOrigin::signed(ALICE),
			dao,
			collective,
			consent
		));
		assert_noop!(
			attest(&attestation(dao, id, hash(2), Permill::one()), &new),
			Error::<Test>::WrongMeasurement
		);
	});
}

#[test]
fn the_pool_keeps_one_attestation_per_contribution_until_it_expires() {
	build_and_execute(|| {
		let key = collective_key("Collective");
		let dao = create_dao(&key);
		let id = submit(BOB, dao, hash(1));
		System::set_block_number(4);
		let a = attestation(dao, id, hash(1), Permill::one());
		let call = Call::<Test>::attest { attestation: a.clone(), signature: sign(&a, &key) };
		let valid = <Contributions as ValidateUnsigned>::validate_unsigned(
			TransactionSource::External,
			&call,
		)
		.expect("valid");
		assert_eq!(valid.longevity, 11, "valid until block 14 from block 4");
		assert_eq!(valid.provides.len(), 1);
		assert!(valid.propagate);
		// Another attestation of the same contribution provides the same tag.
		let mut b = a.clone();
		b.scores.overall = Permill::from_percent(60);
		let call = Call::<Test>::attest { attestation: b.clone(), signature: sign(&b, &key) };
		let other = <Contributions as ValidateUnsigned>::validate_unsigned(
			TransactionSource::External,
			&call,
		)
		.expect("valid");
		assert_eq!(valid.provides, other.provides);
		// Calls other than attest are not valid unsigned.
		let call = Call::<Test>::cancel { contribution_id: id };
		assert_eq!(
			<Contributions as ValidateUnsigned>::validate_unsigned(
				TransactionSource::External,
				&call
			),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Call))
		);
	});
}
