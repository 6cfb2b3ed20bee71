//! Weights for pallet_dataset_tokens.
//!
//! Replaced by the output of `scripts/benchmark.sh` once this pallet's benchmarks run there.
//! Until then the weights below count only the storage accesses each call makes.

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions needed for pallet_dataset_tokens.
pub trait WeightInfo {
	fn transfer() -> Weight;
	fn deposit_rewards() -> Weight;
	fn claim_rewards() -> Weight;
}

/// Weights for pallet_dataset_tokens using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn transfer() -> Weight {
		T::DbWeight::get().reads_writes(3, 2)
	}
	fn deposit_rewards() -> Weight {
		T::DbWeight::get().reads_writes(5, 4)
	}
	fn claim_rewards() -> Weight {
		T::DbWeight::get().reads_writes(5, 4)
	}
}

// For the unit tests' mock runtime.
impl WeightInfo for () {
	fn transfer() -> Weight {
		ParityDbWeight::get().reads_writes(3, 2)
	}
	fn deposit_rewards() -> Weight {
		ParityDbWeight::get().reads_writes(5, 4)
	}
	fn claim_rewards() -> Weight {
		ParityDbWeight::get().reads_writes(5, 4)
	}
}
