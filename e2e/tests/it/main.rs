//! Whole-system tests: the real node, storage service, collective server and wallet, run as
//! users run them (one test binary, so it links once).
//!
//! - `dev_chain`: `datacoop-node --dev`, blocks, finality, a transfer, bad input;
//! - `local_testnet`: `scripts/local-testnet.sh`, four validators, one killed and restarted;
//! - `wallet`: the `datacoop` wallet against the node and storage;
//! - `contribution_path`: node, storage, collective and wallet together, judging contributions;
//! - `governance`: the wallet's proposals, votes, grants, offers and treasury on the node;
//! - `access_path`: a granted consumer's export from the collective, refusals, the access log.

mod access_path;
mod contribution_path;
mod dev_chain;
mod governance;
mod local_testnet;
mod wallet;
