//! Weights of polkadot-sdk pallets measured on this runtime by `scripts/benchmark.sh` (the
//! Datacoop pallets keep theirs in their own crates).

pub mod frame_system_extensions;
pub mod pallet_transaction_payment;
