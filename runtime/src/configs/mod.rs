//! Every `impl X::Config for Runtime`, one file per area.

mod admin;
mod consensus;
mod daos;
mod governance;
mod monetary;
mod system;

pub use monetary::TransactionByteFee;
pub use system::{RuntimeBlockLength, RuntimeBlockWeights};
