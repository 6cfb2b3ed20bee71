//! Weights for pallet_data_daos.
//!
//! Replaced by the output of `scripts/benchmark.sh` (datacoop-node benchmark pallet, run on
//! this project's reference machine). Until that run, the weights below count only the
//! storage accesses each call makes.

#![allow(unused_parens, unused_imports)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions needed for pallet_data_daos.
pub trait WeightInfo {
	fn create() -> Weight;
	fn update_collective() -> Weight;
	fn update_rules() -> Weight;
	fn retire() -> Weight;
}

/// Weights for pallet_data_daos using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn create() -> Weight {
		T::DbWeight::get().reads_writes(3, 3)
	}
	fn update_collective() -> Weight {
		T::DbWeight::get().reads_writes(3, 3)
	}
	fn update_rules() -> Weight {
		T::DbWeight::get().reads_writes(1, 1)
	}
	fn retire() -> Weight {
		T::DbWeight::get().reads_writes(1, 1)
	}
}

// For the unit tests' mock runtime.
impl WeightInfo for () {
	fn create() -> Weight {
		ParityDbWeight::get().reads_writes(3, 3)
	}
	fn update_collective() -> Weight {
		ParityDbWeight::get().reads_writes(3, 3)
	}
	fn update_rules() -> Weight {
		ParityDbWeight::get().reads_writes(1, 1)
	}
	fn retire() -> Weight {
		ParityDbWeight::get().reads_writes(1, 1)
	}
}
