
//! Weights for `pallet_contributions`. Placeholder until `scripts/benchmark.sh` generates this
//! file on this machine; it is overwritten before the pallet is wired into the runtime.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions needed for `pallet_contributions`.
pub trait WeightInfo {
	fn submit() -> Weight;
	fn attest() -> Weight;
	fn validate_attest() -> Weight;
	fn cancel() -> Weight;
}

/// Weights for `pallet_contributions` on the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn submit() -> Weight { Weight::from_parts(100_000_000, 10_000) }
	fn attest() -> Weight { Weight::from_parts(200_000_000, 20_000) }
	fn validate_attest() -> Weight { Weight::from_parts(100_000_000, 10_000) }
	fn cancel() -> Weight { Weight::from_parts(100_000_000, 10_000) }
}

impl WeightInfo for () {
	fn submit() -> Weight { Weight::from_parts(100_000_000, 10_000) }
	fn attest() -> Weight { Weight::from_parts(200_000_000, 20_000) }
	fn validate_attest() -> Weight { Weight::from_parts(100_000_000, 10_000) }
	fn cancel() -> Weight { Weight::from_parts(100_000_000, 10_000) }
}
