//! Benchmarks for the Contributions pallet, each in its most expensive case: the longest URL,
//! an accepted attestation that mints to a new holder, a cancellation that clears every index.

#![allow(deprecated)] // ValidateUnsigned: see the crate docs.

use alloc::vec::Vec;
use datacoop_primitives::{
	contribution::{signing_payload, Attestation, ContributionId, Scores, Verdict},
	dao::DaoId,
};
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{fungible::Mutate, Get},
	unsigned::ValidateUnsigned,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::{crypto::KeyTypeId, sr25519, H256};
use sp_runtime::{
	traits::{Bounded, One, Zero},
	Permill,
};

use crate::*;

/// The key type the benchmark's collective key is kept under in the keystore.
const COLLECTIVE: KeyTypeId = KeyTypeId(*b"dcat");
const MEASUREMENT: H256 = H256::repeat_byte(0x4d);
const SIZE: u64 = 1 << 20;

fn funded<T: Config>(name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
	who
}

/// A DAO whose collective key is in the keystore, and that key.
fn dao<T: Config>() -> (DaoId, sr25519::Public) {
	let key = sp_io::crypto::sr25519_generate(COLLECTIVE, None);
	let admin = funded::<T>("admin");
	(T::BenchmarkHelper::create_dao(admin, key.0, MEASUREMENT), key)
}

/// The longest URL the pallet takes.
fn longest_url<T: Config>() -> Vec<u8> {
	let mut url = b"https://storage.example/blobs/".to_vec();
	url.resize(T::MaxUrlLen::get() as usize, b'a');
	url
}

fn submitted<T: Config>(dao_id: DaoId, who: &T::AccountId) -> ContributionId {
	Pallet::<T>::do_submit(who.clone(), dao_id, longest_url::<T>(), H256::repeat_byte(1), SIZE)
		.expect("a valid submission")
}

/// A full-score valid attestation of `contribution_id`, signed with `key`.
fn signed_attestation<T: Config>(
	dao_id: DaoId,
	contribution_id: ContributionId,
	key: &sr25519::Public,
) -> (Attestation<BlockNumberFor<T>>, sr25519::Signature) {
	let contributor = Contributions::<T>::get(contribution_id)
		.map(|c| Pallet::<T>::account_bytes(&c.contributor))
		.unwrap_or_default();
	let attestation = Attestation {
		dao_id,
		contribution_id,
		contributor,
		ciphertext_hash: H256::repeat_byte(1),
		fingerprint: H256::repeat_byte(2),
		scores: Scores {
			authenticity: Permill::one(),
			ownership: Permill::one(),
			quality: Permill::one(),
			uniqueness: Permill::one(),
			overall: Permill::one(),
		},
		verdict: Verdict::Valid,
		measurement: MEASUREMENT,
		valid_until: frame_system::Pallet::<T>::block_number() + 10u32.into(),
	};
	let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
	let payload = signing_payload(&attestation, &H256::from_slice(genesis.as_ref()));
	let signature = sp_io::crypto::sr25519_sign(COLLECTIVE, key, &payload).expect("key is there");
	(attestation, signature)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn submit() {
		let (dao_id, _) = dao::<T>();
		let caller = funded::<T>("contributor");

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller.clone()),
			dao_id,
			longest_url::<T>(),
			H256::repeat_byte(1),
			SIZE,
		);

		assert!(Pending::<T>::contains_key(dao_id, 0));
		assert!(ByContributor::<T>::contains_key(&caller, 0));
	}

	#[benchmark]
	fn attest() {
		let (dao_id, key) = dao::<T>();
		let contributor = funded::<T>("contributor");
		let id = submitted::<T>(dao_id, &contributor);
		let (attestation, signature) = signed_attestation::<T>(dao_id, id, &key);

		#[extrinsic_call]
		_(RawOrigin::None, attestation, signature);

		assert!(matches!(
			Contributions::<T>::get(id).map(|c| c.status),
			Some(ContributionStatus::Accepted { .. })
		));
	}

	#[benchmark]
	fn validate_attest() {
		let (dao_id, key) = dao::<T>();
		let contributor = funded::<T>("contributor");
		let id = submitted::<T>(dao_id, &contributor);
		let (attestation, signature) = signed_attestation::<T>(dao_id, id, &key);
		let call = Call::<T>::attest { attestation, signature };

		#[block]
		{
			Pallet::<T>::validate_unsigned(TransactionSource::External, &call)
				.expect("a valid attestation");
		}
	}

	#[benchmark]
	fn cancel() {
		let (dao_id, _) = dao::<T>();
		let caller = funded::<T>("contributor");
		let id = submitted::<T>(dao_id, &caller);
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number() + T::PendingTimeout::get() + One::one(),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert!(CancelRequests::<T>::contains_key(id));
	}

	#[benchmark]
	fn withdraw() {
		let (dao_id, _) = dao::<T>();
		let caller = funded::<T>("contributor");
		let id = submitted::<T>(dao_id, &caller);
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number() + T::PendingTimeout::get() + One::one(),
		);
		Pallet::<T>::do_request_cancel(caller.clone(), id).expect("a cancel request");
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number() + T::CancelDelay::get(),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert!(Contributions::<T>::get(id).is_none());
	}

	#[benchmark]
	fn remove() {
		let (dao_id, key) = dao::<T>();
		let caller = funded::<T>("contributor");
		let id = submitted::<T>(dao_id, &caller);
		let (mut attestation, _) = signed_attestation::<T>(dao_id, id, &key);
		attestation.verdict = Verdict::Invalid { reason: Default::default() };
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let payload = signing_payload(&attestation, &H256::from_slice(genesis.as_ref()));
		let signature = sp_io::crypto::sr25519_sign(COLLECTIVE, &key, &payload).expect("key");
		Pallet::<T>::do_attest(attestation, signature).expect("a rejection");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert!(Contributions::<T>::get(id).is_none());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
