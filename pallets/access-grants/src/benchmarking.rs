//! Benchmarks for the Access Grants pallet, each call in its most expensive case.
//!
//! `buy` creates a grant (extending one is cheaper: no deposit is held, no id taken) and pays
//! the first fee of the DAO, so both the treasury's and the reward pot's existential
//! deposits are paid too. `h` is the number of holders of the DAO's token the holders' share
//! is paid to: the weight must not depend on it. As in the dataset-tokens benchmarks, the
//! state is the same size at every `h`: another DAO's token has the other
//! `BENCHMARKED_HOLDERS - h` holders, so a bigger trie does not pass for a cost of holders.
//!
//! `prune` removes an expired grant for someone other than its grantee: a reward is paid from
//! the deposit and the rest released.

use datacoop_primitives::{
	dao::DaoId,
	governance::{Offer, Scope},
};
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::{Inspect, Mutate};
use frame_system::RawOrigin;
use sp_runtime::traits::{Bounded, Zero};

use crate::*;

/// Dataset tokens each holder gets.
const HOLDING: u32 = 1_000_000;
/// The price of a day of the benchmarks' offer.
const PRICE_PER_DAY: u32 = 1_000_000_000;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
	who
}

/// A DAO with an offer of a day of full access.
fn dao<T: Config>() -> DaoId {
	let admin = funded::<T>("admin", 0);
	let dao_id = T::BenchmarkHelper::create_dao(&admin);
	let offer = Offer { scope: Scope::Full, price_per_day: PRICE_PER_DAY.into(), max_days: 1 };
	Pallet::<T>::do_set_offer(dao_id, offer).expect("a valid offer");
	dao_id
}

/// `h` holders of DAO `dao_id`'s token and `BENCHMARKED_HOLDERS - h` holders of another
/// DAO's. The setup's events are cleared, as every block clears the events of the one
/// before: left in place, the measured call would be charged for copying them.
fn holders<T: Config>(dao_id: DaoId, h: u32) {
	let other_dao = T::BenchmarkHelper::create_dao(&funded::<T>("admin", 1));
	for i in 0..h {
		T::BenchmarkHelper::mint(dao_id, &account("holder", i, 0), HOLDING.into());
	}
	for i in h..BENCHMARKED_HOLDERS {
		T::BenchmarkHelper::mint(other_dao, &account("holder", i, 0), HOLDING.into());
	}
	frame_system::Pallet::<T>::reset_events();
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn buy(h: Linear<10, 100_000>) {
		let dao_id = dao::<T>();
		holders::<T>(dao_id, h);
		let caller = funded::<T>("consumer", 0);
		assert!(T::Currency::balance(&Pallet::<T>::treasury(dao_id)).is_zero());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), dao_id, Scope::Full, 1, PRICE_PER_DAY.into());

		let grant = Pallet::<T>::live_grant(dao_id, &caller).expect("a live grant");
		assert_eq!(grant.paid, BalanceOf::<T>::from(PRICE_PER_DAY));
		assert!(!Pallet::<T>::treasury_balance(dao_id).is_zero());
	}

	#[benchmark]
	fn prune() {
		let dao_id = dao::<T>();
		T::BenchmarkHelper::mint(dao_id, &account("holder", 0, 0), HOLDING.into());
		let grantee = funded::<T>("consumer", 0);
		let grant_id =
			Pallet::<T>::do_buy(grantee.clone(), dao_id, Scope::Full, 1, PRICE_PER_DAY.into())
				.expect("a valid purchase");
		let expires = Grants::<T>::get(grant_id).expect("the grant").expires;
		frame_system::Pallet::<T>::set_block_number(expires);
		let caller = funded::<T>("pruner", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), grant_id);

		assert!(!Grants::<T>::contains_key(grant_id));
		assert!(!GrantOf::<T>::contains_key(dao_id, &grantee));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
