
//! Weights for `pallet_access_grants`. PROVISIONAL: hand-estimated, not measured. The storage
//! accesses below are read from the code; the times are taken from similar measured calls
//! (`buy` from `pallet_dataset_tokens::deposit_rewards` plus `pallet_contributions::submit`'s
//! hold and transfer, `prune` from a hold transfer and release) with a margin. Until
//! `scripts/benchmark.sh pallet_access_grants` regenerates this file in the layout below
//! (benchmark CLI 64.0.0, template `scripts/templates/pallet-weights.hbs`), treat every
//! figure as an estimate.
//!
//! STEPS: none, REPEAT: none, CHAIN: none,
//! WASM-EXECUTION: none, HOST: none, CPU: none
//!
//! Command:
//! none yet: scripts/benchmark.sh pallet_access_grants

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions needed for `pallet_access_grants`.
pub trait WeightInfo {
	fn buy(h: u32, ) -> Weight;
	fn prune() -> Weight;
}

/// Weights for `pallet_access_grants` on the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `DataDaos::Daos` (r:1 w:0)
	/// Proof: `DataDaos::Daos` (`max_values`: None, `max_size`: Some(886), added: 3361, mode: `MaxEncodedLen`)
	/// Storage: `AccessGrants::Offers` (r:1 w:0)
	/// Proof: `AccessGrants::Offers` (`max_values`: None, `max_size`: Some(46), added: 2521, mode: `MaxEncodedLen`)
	/// Storage: `AccessGrants::GrantOf` (r:1 w:1)
	/// Proof: `AccessGrants::GrantOf` (`max_values`: None, `max_size`: Some(68), added: 2543, mode: `MaxEncodedLen`)
	/// Storage: `AccessGrants::NextGrantId` (r:1 w:1)
	/// Proof: `AccessGrants::NextGrantId` (`max_values`: Some(1), `max_size`: Some(8), added: 503, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// Storage: `DatasetTokens::TotalSupply` (r:1 w:0)
	/// Proof: `DatasetTokens::TotalSupply` (`max_values`: None, `max_size`: Some(28), added: 2503, mode: `MaxEncodedLen`)
	/// Storage: `DatasetTokens::Rewards` (r:1 w:1)
	/// Proof: `DatasetTokens::Rewards` (`max_values`: None, `max_size`: Some(108), added: 2583, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:3 w:3)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `AccessGrants::Grants` (r:0 w:1)
	/// Proof: `AccessGrants::Grants` (`max_values`: None, `max_size`: Some(89), added: 2564, mode: `MaxEncodedLen`)
	/// The range of component `h` is `[10, 100000]`.
	fn buy(_h: u32, ) -> Weight {
		// Proof size: measured `0` (not measured), estimated `8799` bytes.
		// Minimum execution time: not measured.
		Weight::from_parts(1_400_000_000, 8799)
			.saturating_add(T::DbWeight::get().reads(10))
			.saturating_add(T::DbWeight::get().writes(8))
	}
	/// Storage: `AccessGrants::Grants` (r:1 w:1)
	/// Proof: `AccessGrants::Grants` (`max_values`: None, `max_size`: Some(89), added: 2564, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `AccessGrants::GrantOf` (r:0 w:1)
	/// Proof: `AccessGrants::GrantOf` (`max_values`: None, `max_size`: Some(68), added: 2543, mode: `MaxEncodedLen`)
	fn prune() -> Weight {
		// Proof size: measured `0` (not measured), estimated `6196` bytes.
		// Minimum execution time: not measured.
		Weight::from_parts(200_000_000, 6196)
			.saturating_add(T::DbWeight::get().reads(4))
			.saturating_add(T::DbWeight::get().writes(5))
	}
}

/// The same weights on ParityDB's costs, for mock runtimes in tests.
impl WeightInfo for () {
	/// Storage: `DataDaos::Daos` (r:1 w:0)
	/// Proof: `DataDaos::Daos` (`max_values`: None, `max_size`: Some(886), added: 3361, mode: `MaxEncodedLen`)
	/// Storage: `AccessGrants::Offers` (r:1 w:0)
	/// Proof: `AccessGrants::Offers` (`max_values`: None, `max_size`: Some(46), added: 2521, mode: `MaxEncodedLen`)
	/// Storage: `AccessGrants::GrantOf` (r:1 w:1)
	/// Proof: `AccessGrants::GrantOf` (`max_values`: None, `max_size`: Some(68), added: 2543, mode: `MaxEncodedLen`)
	/// Storage: `AccessGrants::NextGrantId` (r:1 w:1)
	/// Proof: `AccessGrants::NextGrantId` (`max_values`: Some(1), `max_size`: Some(8), added: 503, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// Storage: `DatasetTokens::TotalSupply` (r:1 w:0)
	/// Proof: `DatasetTokens::TotalSupply` (`max_values`: None, `max_size`: Some(28), added: 2503, mode: `MaxEncodedLen`)
	/// Storage: `DatasetTokens::Rewards` (r:1 w:1)
	/// Proof: `DatasetTokens::Rewards` (`max_values`: None, `max_size`: Some(108), added: 2583, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:3 w:3)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `AccessGrants::Grants` (r:0 w:1)
	/// Proof: `AccessGrants::Grants` (`max_values`: None, `max_size`: Some(89), added: 2564, mode: `MaxEncodedLen`)
	/// The range of component `h` is `[10, 100000]`.
	fn buy(_h: u32, ) -> Weight {
		// Proof size: measured `0` (not measured), estimated `8799` bytes.
		// Minimum execution time: not measured.
		Weight::from_parts(1_400_000_000, 8799)
			.saturating_add(ParityDbWeight::get().reads(10))
			.saturating_add(ParityDbWeight::get().writes(8))
	}
	/// Storage: `AccessGrants::Grants` (r:1 w:1)
	/// Proof: `AccessGrants::Grants` (`max_values`: None, `max_size`: Some(89), added: 2564, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `AccessGrants::GrantOf` (r:0 w:1)
	/// Proof: `AccessGrants::GrantOf` (`max_values`: None, `max_size`: Some(68), added: 2543, mode: `MaxEncodedLen`)
	fn prune() -> Weight {
		// Proof size: measured `0` (not measured), estimated `6196` bytes.
		// Minimum execution time: not measured.
		Weight::from_parts(200_000_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(4))
			.saturating_add(ParityDbWeight::get().writes(5))
	}
}
