//! Benchmarks for the DAO Governance pallet. `h` is the number of holders of the DAO's token:
//! `vote` and `close` must not depend on it. As in the dataset-token benchmarks, another
//! DAO's token has the other `BENCHMARKED_HOLDERS - h` holders, so the state is the same size
//! at every `h` and what is measured is the number of holders, not the size of the trie.

use alloc::{boxed::Box, vec};
use datacoop_primitives::{
	dao::DaoId,
	governance::{Action, ProposalId, Scope},
};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::traits::{Bounded, One, Saturating};

use crate::*;

/// Holders' tokens: enough that the fee's shares are not dust.
const TOKENS: u32 = 1_000_000;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
	who
}

/// A DAO with `h` holders, `voter` among them with more than half the supply (so its vote
/// alone passes a proposal), and another DAO with the other `BENCHMARKED_HOLDERS - h`. Setup
/// events are cleared (see dataset-tokens' benchmarks).
fn dao_with_holders<T: Config>(h: u32, voter: &T::AccountId) -> DaoId
where
	T::Currency: Mutate<T::AccountId>,
{
	let admin = funded::<T>("admin", 0);
	let dao = T::BenchmarkHelper::create_dao(&admin);
	let other = T::BenchmarkHelper::create_dao(&funded::<T>("admin", 1));
	for i in 1..h {
		T::BenchmarkHelper::mint(dao, &account("holder", i, 0), TOKENS.into());
	}
	for i in h..BENCHMARKED_HOLDERS {
		T::BenchmarkHelper::mint(other, &account("holder", i, 0), TOKENS.into());
	}
	T::BenchmarkHelper::mint(dao, voter, voter_tokens::<T>(h));
	frame_system::Pallet::<T>::reset_events();
	dao
}

/// The voter's tokens in a DAO of `h` holders: as many as all the others together, and one
/// holding more.
fn voter_tokens<T: Config>(h: u32) -> BalanceOf<T> {
	BalanceOf::<T>::from(TOKENS).saturating_mul(h.into())
}

fn grant_access<T: Config>(consumer: &T::AccountId) -> CallActionOf<T> {
	Action::GrantAccess {
		grantee: consumer.clone(),
		scope: Scope::Full,
		duration: 100u32.into(),
		fee: 1_000_000u32.into(),
	}
}

fn description<T: Config>() -> alloc::vec::Vec<u8> {
	vec![b'd'; T::MaxDescriptionLen::get() as usize]
}

fn proposal<T: Config>(dao: DaoId, consumer: &T::AccountId) -> ProposalId {
	Pallet::<T>::do_propose(consumer.clone(), dao, grant_access::<T>(consumer), description::<T>())
		.expect("a valid proposal")
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	/// The worst case: a GrantAccess, which holds a fee besides the deposit, with the longest
	/// description.
	#[benchmark]
	fn propose() {
		let consumer = funded::<T>("consumer", 0);
		let dao = dao_with_holders::<T>(10, &funded::<T>("voter", 0));

		#[extrinsic_call]
		_(
			RawOrigin::Signed(consumer.clone()),
			dao,
			Box::new(grant_access::<T>(&consumer)),
			description::<T>(),
		);

		assert_eq!(NextProposalId::<T>::get(), 1);
	}

	/// The worst case: the voter already has `MaxVotes - 1` votes running in the DAO, all
	/// read and rewritten, and adds one.
	#[benchmark]
	fn vote(h: Linear<10, BENCHMARKED_HOLDERS>) {
		let voter = funded::<T>("voter", 0);
		let consumer = funded::<T>("consumer", 0);
		let dao = dao_with_holders::<T>(h, &voter);
		for _ in 1..T::MaxVotes::get() {
			let earlier = proposal::<T>(dao, &consumer);
			Pallet::<T>::do_vote(voter.clone(), earlier, true, Some(1u32.into()))
				.expect("a valid vote");
		}
		let id = proposal::<T>(dao, &consumer);

		#[extrinsic_call]
		_(RawOrigin::Signed(voter.clone()), id, true, None);

		assert_eq!(Voting::<T>::get(dao, &voter).len() as u32, T::MaxVotes::get());
	}

	/// The worst case: a GrantAccess passes, so the fee is released from escrow and paid,
	/// the first time, into both the reward pot and the treasury, and a grant is recorded.
	#[benchmark]
	fn close(h: Linear<10, BENCHMARKED_HOLDERS>) {
		let voter = funded::<T>("voter", 0);
		let consumer = funded::<T>("consumer", 0);
		let dao = dao_with_holders::<T>(h, &voter);
		let id = proposal::<T>(dao, &consumer);
		Pallet::<T>::do_vote(voter, id, true, None).expect("a valid vote");
		let ends = Proposals::<T>::get(id).expect("open").ends;
		frame_system::Pallet::<T>::set_block_number(ends);

		#[extrinsic_call]
		_(RawOrigin::Signed(consumer), id);

		assert!(Proposals::<T>::get(id).is_none());
		let closed: <T as frame_system::Config>::RuntimeEvent =
			<T as Config>::RuntimeEvent::from(Event::<T>::Closed {
				proposal_id: id,
				dao_id: dao,
				ayes: voter_tokens::<T>(h),
				nays: 0u32.into(),
				passed: true,
				result: Some(Ok(())),
			})
			.into();
		// Passed, and the grant was made.
		frame_system::Pallet::<T>::assert_has_event(closed);
	}

	/// The worst case: `MaxVotes` votes, all ended, removed at once.
	#[benchmark]
	fn unlock() {
		let voter = funded::<T>("voter", 0);
		let consumer = funded::<T>("consumer", 0);
		let dao = dao_with_holders::<T>(10, &voter);
		let mut ends = BlockNumberFor::<T>::one();
		for _ in 0..T::MaxVotes::get() {
			let id = proposal::<T>(dao, &consumer);
			Pallet::<T>::do_vote(voter.clone(), id, true, None).expect("a valid vote");
			ends = Proposals::<T>::get(id).expect("open").ends;
		}
		frame_system::Pallet::<T>::set_block_number(ends);

		#[extrinsic_call]
		_(RawOrigin::Signed(voter.clone()), dao);

		assert!(!Voting::<T>::contains_key(dao, &voter));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
