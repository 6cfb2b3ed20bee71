//! Benchmarks for the Dataset Tokens pallet. `h` is the number of holders of the DAO's
//! token: the weights of `deposit_rewards` and `claim_rewards` must not depend on it (the
//! README records the measurement with 10 and 100,000 holders).
//!
//! The state is the same size at every `h`: another DAO's token has the other
//! `BENCHMARKED_HOLDERS - h` holders. Without that, the state grows with `h`, and every read
//! costs more in a bigger trie whatever the call does; that cost belongs to the state's size
//! (which the database weights price), not to the number of holders of one DAO.

use datacoop_primitives::dao::DaoId;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get};
use frame_system::RawOrigin;
use sp_runtime::traits::Bounded;

use crate::*;

const DAO: DaoId = 0;
/// The DAO whose holders keep the state's size the same at every `h`.
const OTHER_DAO: DaoId = 1;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
	who
}

/// `h` holders of `MinHolding` tokens each, the caller among them with more, and
/// `BENCHMARKED_HOLDERS - h` holders of another DAO's token. The setup's `Minted` events are
/// cleared, as every block clears the events of the one before: left in place, they sit in
/// `System::Events`, and the measured call's own event (appended to them) is charged for
/// copying all of them.
fn holders<T: Config>(h: u32, caller: &T::AccountId) {
	for i in 1..h {
		let who: T::AccountId = account("holder", i, 0);
		Pallet::<T>::mint(DAO, &who, T::MinHolding::get()).expect("mint works");
	}
	for i in h..BENCHMARKED_HOLDERS {
		let who: T::AccountId = account("holder", i, 0);
		Pallet::<T>::mint(OTHER_DAO, &who, T::MinHolding::get()).expect("mint works");
	}
	Pallet::<T>::mint(DAO, caller, T::MinHolding::get() * 100u32.into()).expect("mint works");
	frame_system::Pallet::<T>::reset_events();
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The worst case: the caller sends all their tokens after claiming, so their holding
	/// is removed and the fraction of a planck it was owed goes back to the pool.
	#[benchmark]
	fn transfer() {
		let caller = funded::<T>("caller", 0);
		let to = funded::<T>("to", 0);
		holders::<T>(2, &caller);
		Pallet::<T>::mint(DAO, &to, T::MinHolding::get()).expect("mint works");
		let depositor = funded::<T>("consumer", 0);
		// Not a multiple of the supply: the caller is owed a fraction of a planck.
		Pallet::<T>::do_deposit_rewards(DAO, depositor, 1_000_003u32.into())
			.expect("deposit works");
		Pallet::<T>::do_claim_rewards(DAO, caller.clone()).expect("claim works");
		let all = Pallet::<T>::balance(DAO, &caller);
		let undistributed = Rewards::<T>::get(DAO).undistributed;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), DAO, to.clone(), all);

		assert!(!Holdings::<T>::contains_key(DAO, &caller));
		assert!(Rewards::<T>::get(DAO).undistributed > undistributed);
	}

	#[benchmark]
	fn deposit_rewards(h: Linear<10, 100_000>) {
		let caller = funded::<T>("caller", 0);
		holders::<T>(h, &caller);
		let depositor = funded::<T>("consumer", 0);
		// Not the first deposit: the pot exists already, as it will almost always.
		Pallet::<T>::do_deposit_rewards(DAO, depositor.clone(), 1_000_000u32.into())
			.expect("deposit works");

		#[extrinsic_call]
		_(RawOrigin::Signed(depositor), DAO, 1_000_000u32.into());

		assert_eq!(Rewards::<T>::get(DAO).deposited, 2_000_000u32.into());
	}

	#[benchmark]
	fn claim_rewards(h: Linear<10, 100_000>) {
		let caller = funded::<T>("caller", 0);
		holders::<T>(h, &caller);
		let depositor = funded::<T>("consumer", 0);
		Pallet::<T>::do_deposit_rewards(DAO, depositor, 1_000_000_000u32.into())
			.expect("deposit works");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), DAO);

		assert!(Pallet::<T>::claimable(DAO, &caller) == 0u32.into());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
