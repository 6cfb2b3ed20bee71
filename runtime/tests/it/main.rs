//! The runtime's integration tests, one binary (each test binary links polkadot-sdk again):
//! the contribution path through the real runtime, governance and paid access, and what fits
//! in a block.

mod block_capacity;
mod common;
mod contribution_path;
mod governance;
