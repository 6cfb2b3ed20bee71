//! # Datacoop end-to-end harness
//!
//! The one harness of every test that runs real programs (never mocks): the node, the storage
//! service, the collective server and the wallet, all as built in release.
//!
//! - [`bins`]: where each binary is ([`binary`]), and the repository root;
//! - [`process`]: [`Process`], a started program that logs to a file, is waited on until it
//!   serves and is killed when dropped; [`free_port`];
//! - [`node`]: [`Node`], `datacoop-node` on ports of its own, and finality helpers;
//! - [`wallet`]: [`Wallet`], the `datacoop` binary in a home of its own; [`start_storage`];
//! - [`collective`]: the `datacoop-collective` binary on a directory of key sets, and its
//!   key proofs;
//! - [`fixtures`]: chat exports and their rules, dev-account upload signing, attestations
//!   signed as a collective signs them.
//!
//! The chain is read and written through `datacoop-client`, re-exported as [`client`]; its
//! generated API as [`datacoop`]. Whole-system tests live in `tests/it/`; the load generator
//! in `src/bin/load.rs`.

pub mod bins;
pub mod collective;
pub mod fixtures;
pub mod node;
pub mod process;
pub mod wallet;

pub use bins::{binary, repo_root};
pub use datacoop_client::{self as client, api as datacoop, Chain, Rpc};
pub use node::{best_number, finalized_number, rpc, wait_for_finalized, Node};
pub use process::{free_port, run_to_exit, Process};
pub use wallet::{start_storage, Wallet};
