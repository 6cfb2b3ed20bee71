//! Weights measured on this machine by `scripts/benchmark.sh`: of polkadot-sdk pallets on this
//! runtime (the Datacoop pallets keep theirs in their own crates), of ParityDB on a state of
//! 1.25 million keys (`db`), and of an empty block and a no-op extrinsic (`overhead`).

pub mod block_weights;
pub mod extrinsic_weights;
pub mod frame_system_extensions;
pub mod pallet_transaction_payment;
// The generated file documents each field of a struct literal, which rustc warns about.
#[allow(unused_doc_comments)]
pub mod paritydb_weights;
