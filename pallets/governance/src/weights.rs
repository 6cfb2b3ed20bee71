
//! Weights for `pallet_dao_governance`. PROVISIONAL: written by hand from the storage each
//! call touches (its benchmarks' worst cases) and the measured times of calls of the same
//! shape in pallet_dataset_tokens and pallet_data_daos, until `scripts/benchmark.sh
//! pallet_dao_governance` measures them and overwrites this file.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions needed for `pallet_dao_governance`.
pub trait WeightInfo {
	fn propose() -> Weight;
	fn vote(h: u32, ) -> Weight;
	fn close(h: u32, ) -> Weight;
	fn unlock() -> Weight;
}

/// Weights for `pallet_dao_governance` on the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `DataDaos::Daos` (r:1 w:0), `DaoGovernance::NextProposalId` (r:1 w:1),
	/// `Balances::Holds` (r:1 w:1), `DaoGovernance::Proposals` (r:0 w:1)
	fn propose() -> Weight {
		Weight::from_parts(120_000_000, 4_500)
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().writes(3))
	}
	/// Storage: `DaoGovernance::Proposals` (r:1 w:1), `DatasetTokens::Holdings` (r:1 w:0),
	/// `DaoGovernance::Voting` (r:1 w:1), `DatasetTokens::Frozen` (r:0 w:1)
	fn vote(_h: u32, ) -> Weight {
		Weight::from_parts(90_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().writes(3))
	}
	/// Storage: `DaoGovernance::Proposals` (r:1 w:1), `Balances::Holds` (r:1 w:1),
	/// `DatasetTokens::TotalSupply` (r:1 w:0), `DataDaos::Daos` (r:1 w:0),
	/// `AccessGrants::GrantOf` (r:1 w:1), `AccessGrants::NextGrantId` (r:1 w:1),
	/// `AccessGrants::Grants` (r:0 w:1), `DatasetTokens::Rewards` (r:1 w:1),
	/// `System::Account` (r:3 w:3)
	fn close(_h: u32, ) -> Weight {
		// A passed GrantAccess pays through `DatasetTokens::deposit_rewards` (measured 1.15 ms)
		// and `AccessGrants::buy`'s other work: charged as a purchase plus the proposal's own.
		Weight::from_parts(1_600_000_000, 14_000)
			.saturating_add(T::DbWeight::get().reads(12))
			.saturating_add(T::DbWeight::get().writes(12))
	}
	/// Storage: `DaoGovernance::Voting` (r:1 w:1), `DatasetTokens::Frozen` (r:0 w:1)
	fn unlock() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(2))
	}
}

/// The same weights on ParityDB's costs, for mock runtimes in tests.
impl WeightInfo for () {
	/// Storage: `DataDaos::Daos` (r:1 w:0), `DaoGovernance::NextProposalId` (r:1 w:1),
	/// `Balances::Holds` (r:1 w:1), `DaoGovernance::Proposals` (r:0 w:1)
	fn propose() -> Weight {
		Weight::from_parts(120_000_000, 4_500)
			.saturating_add(ParityDbWeight::get().reads(3))
			.saturating_add(ParityDbWeight::get().writes(3))
	}
	/// Storage: `DaoGovernance::Proposals` (r:1 w:1), `DatasetTokens::Holdings` (r:1 w:0),
	/// `DaoGovernance::Voting` (r:1 w:1), `DatasetTokens::Frozen` (r:0 w:1)
	fn vote(_h: u32, ) -> Weight {
		Weight::from_parts(90_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(3))
			.saturating_add(ParityDbWeight::get().writes(3))
	}
	/// Storage: `DaoGovernance::Proposals` (r:1 w:1), `Balances::Holds` (r:1 w:1),
	/// `DatasetTokens::TotalSupply` (r:1 w:0), `DataDaos::Daos` (r:1 w:0),
	/// `AccessGrants::GrantOf` (r:1 w:1), `AccessGrants::NextGrantId` (r:1 w:1),
	/// `AccessGrants::Grants` (r:0 w:1), `DatasetTokens::Rewards` (r:1 w:1),
	/// `System::Account` (r:3 w:3)
	fn close(_h: u32, ) -> Weight {
		// A passed GrantAccess pays through `DatasetTokens::deposit_rewards` (measured 1.15 ms)
		// and `AccessGrants::buy`'s other work: charged as a purchase plus the proposal's own.
		Weight::from_parts(1_600_000_000, 14_000)
			.saturating_add(ParityDbWeight::get().reads(12))
			.saturating_add(ParityDbWeight::get().writes(12))
	}
	/// Storage: `DaoGovernance::Voting` (r:1 w:1), `DatasetTokens::Frozen` (r:0 w:1)
	fn unlock() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(ParityDbWeight::get().reads(1))
			.saturating_add(ParityDbWeight::get().writes(2))
	}
}
