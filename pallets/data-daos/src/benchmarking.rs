//! Benchmarks for the Data DAOs pallet: every call at its worst case (longest strings, the
//! deposit growing or shrinking).

use alloc::vec;
use datacoop_primitives::dao::{Collective, DaoId, TokenInfo};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get};
use frame_system::RawOrigin;
use sp_core::crypto::KeyTypeId;
use sp_runtime::{traits::Bounded, Permill};

use crate::*;

/// The key type the benchmark's collective keys are kept under in the keystore.
const COLLECTIVE: KeyTypeId = KeyTypeId(*b"ddao");

/// `collective::<T>(fill)` with a new attestation key from the keystore, and that key's
/// consent to serve DAO `dao_id`: the DAO `creator` creates with that id when there is one
/// (what `create` verifies), else the existing DAO (what `update_collective` verifies).
fn consenting<T: Config>(
	fill: u8,
	creator: Option<&T::AccountId>,
	dao_id: DaoId,
) -> (Collective<alloc::vec::Vec<u8>>, [u8; 64]) {
	let key = sp_io::crypto::sr25519_generate(COLLECTIVE, None);
	let c = Collective { attestation_signer: key.0, ..collective::<T>(fill) };
	let payload = match creator {
		Some(creator) => Pallet::<T>::create_key_proof_payload(creator, dao_id, &c.encryption_key),
		None => Pallet::<T>::key_proof_payload(dao_id, &c.encryption_key),
	};
	let proof = sp_io::crypto::sr25519_sign(COLLECTIVE, &key, &payload).expect("the key is kept");
	(c, proof.0)
}

/// The longest endpoint: a valid host (its labels at most 63 characters), then a path.
fn long_url<T: Config>(fill: u8) -> alloc::vec::Vec<u8> {
	let mut url = b"https://collective.example/".to_vec();
	url.resize(T::MaxUriLen::get() as usize, fill);
	url
}

fn collective<T: Config>(fill: u8) -> Collective<alloc::vec::Vec<u8>> {
	Collective {
		encryption_key: [fill; 32],
		attestation_signer: [fill; 32],
		endpoint: long_url::<T>(b'a' + fill % 26),
		measurement: sp_core::H256::repeat_byte(fill),
	}
}

fn rules<T: Config>() -> RulesOf<T> {
	datacoop_primitives::dao::DaoRules {
		min_contribution_size: 1,
		max_contribution_size: T::MaxContributionSize::get(),
		reward_at_full_score: 1_000u32.into(),
		min_score: Permill::from_percent(10),
		contribution_deposit: T::MinContributionDeposit::get(),
		voting_period: T::MinVotingPeriod::get(),
		quorum: Permill::from_percent(20),
		approval_threshold: Permill::from_percent(50),
		holders_share: Permill::from_percent(80),
	}
}

fn funded<T: Config>() -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = whitelisted_caller();
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 4u32.into());
	who
}

fn create_dao<T: Config>(admin: &T::AccountId) -> DaoId
where
	T::Currency: Mutate<T::AccountId>,
{
	Pallet::<T>::do_create(
		admin.clone(),
		vec![b'n'; T::MaxNameLen::get() as usize],
		long_url::<T>(b'm'),
		TokenInfo {
			name: vec![b't'; T::MaxNameLen::get() as usize],
			symbol: vec![b'S'; T::MaxSymbolLen::get() as usize],
		},
		// A short endpoint, so that updating to the longest grows the held deposit.
		Collective { endpoint: b"http://a".to_vec(), ..collective::<T>(1) },
		rules::<T>(),
	)
	.expect("a valid DAO is created")
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create() {
		let caller = funded::<T>();
		let name = vec![b'n'; T::MaxNameLen::get() as usize];
		let token = TokenInfo {
			name: vec![b't'; T::MaxNameLen::get() as usize],
			symbol: vec![b'S'; T::MaxSymbolLen::get() as usize],
		};

		let (collective, proof) = consenting::<T>(1, Some(&caller), NextDaoId::<T>::get());

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller),
			name,
			long_url::<T>(b'm'),
			token,
			collective,
			rules::<T>(),
			proof,
		);

		assert_eq!(NextDaoId::<T>::get(), 1);
	}

	#[benchmark]
	fn update_collective() {
		let admin = funded::<T>();
		let dao_id = create_dao::<T>(&admin);
		let (collective, proof) = consenting::<T>(2, None, dao_id);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), dao_id, collective, proof);

		let dao = Daos::<T>::get(dao_id).unwrap();
		assert_eq!(dao.collective.encryption_key, [2; 32]);
		assert_eq!(dao.deposit, Pallet::<T>::deposit_for(&dao));
	}

	#[benchmark]
	fn update_rules() {
		let admin = funded::<T>();
		let dao_id = create_dao::<T>(&admin);
		let mut new_rules = rules::<T>();
		new_rules.min_score = Permill::from_percent(30);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), dao_id, new_rules);

		assert_eq!(Daos::<T>::get(dao_id).unwrap().rules.min_score, Permill::from_percent(30));
	}

	#[benchmark]
	fn retire() {
		let admin = funded::<T>();
		let dao_id = create_dao::<T>(&admin);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), dao_id);

		assert!(Pallet::<T>::active_dao(dao_id).is_err());
	}

	#[benchmark]
	fn hand_over() {
		let admin = funded::<T>();
		let dao_id = create_dao::<T>(&admin);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), dao_id);

		assert!(Governed::<T>::contains_key(dao_id));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
