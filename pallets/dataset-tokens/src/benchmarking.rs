//! Benchmarks for the Dataset Tokens pallet. `h` is the number of holders of the DAO's
//! token: the weights of `deposit_rewards` and `claim_rewards` must not depend on it (the
//! README records the measurement with 10 and 100,000 holders).

use datacoop_primitives::dao::DaoId;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get};
use frame_system::RawOrigin;
use sp_runtime::traits::Bounded;

use crate::*;

const DAO: DaoId = 0;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
	who
}

/// `h` holders of `MinHolding` tokens each, the caller among them with more. The setup's
/// `Minted` events are cleared, as every block clears the events of the one before: left in
/// place, `h` events sit in `System::Events`, and the measured call's own event (appended
/// to them) is charged for copying all of them.
fn holders<T: Config>(h: u32, caller: &T::AccountId) {
	for i in 1..h {
		let who: T::AccountId = account("holder", i, 0);
		Pallet::<T>::mint(DAO, &who, T::MinHolding::get()).expect("mint works");
	}
	Pallet::<T>::mint(DAO, caller, T::MinHolding::get() * 100u32.into()).expect("mint works");
	frame_system::Pallet::<T>::reset_events();
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn transfer() {
		let caller = funded::<T>("caller", 0);
		let to = funded::<T>("to", 0);
		holders::<T>(2, &caller);
		Pallet::<T>::mint(DAO, &to, T::MinHolding::get()).expect("mint works");
		let depositor = funded::<T>("consumer", 0);
		Pallet::<T>::do_deposit_rewards(DAO, depositor, 1_000_000u32.into()).expect("deposit works");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), DAO, to.clone(), T::MinHolding::get());

		assert_eq!(Pallet::<T>::balance(DAO, &to), T::MinHolding::get() * 2u32.into());
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

		assert_eq!(RewardsDeposited::<T>::get(DAO), 2_000_000u32.into());
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
