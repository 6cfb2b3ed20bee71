//! The collective server's integration tests, one binary (each test binary links
//! polkadot-sdk again).

mod judge;
mod server;

use datacoop_client::Error as ChainError;
use datacoop_collective::Ledger;

/// A chain with no other contribution: nothing accepted, everything in the index counts.
struct Quiet;

impl Ledger for Quiet {
	async fn accepted_with(&self, _: u32, _: [u8; 32]) -> Result<Option<u64>, ChainError> {
		Ok(None)
	}

	async fn counts(&self, _: u32, _: u64) -> Result<bool, ChainError> {
		Ok(true)
	}
}
