//! # Datacoop primitives
//!
//! The types every Datacoop component agrees on: the runtime, the node, and the off-chain
//! programs (collective server, storage, wallet). Kept `no_std` so the runtime can use them.
//!
//! Later issues add the DAO, contribution, attestation and envelope types here.

#![cfg_attr(not(feature = "std"), no_std)]

use sp_runtime::{
	traits::{IdentifyAccount, Verify},
	MultiSignature,
};

/// An account's signature. `MultiSignature` so sr25519 (the default of polkadot.js and the
/// wallet), ed25519 and ecdsa accounts can all sign.
pub type Signature = MultiSignature;

/// An account id: the 32-byte public key behind a signature.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// The balance of the native token, and of every dataset token.
pub type Balance = u128;

/// An account's transaction counter.
pub type Nonce = u32;

/// A block's number.
pub type BlockNumber = u32;

/// A block or state hash.
pub type Hash = sp_core::H256;

/// The native token: its name, symbol and decimals, as wallets and polkadot.js show them.
pub mod token {
	use super::Balance;

	/// The token's symbol in the chain properties.
	pub const SYMBOL: &str = "COOP";
	/// Decimal places: one COOP is `10^DECIMALS` planck.
	pub const DECIMALS: u8 = 12;
	/// One COOP.
	pub const UNIT: Balance = 1_000_000_000_000;
	/// A thousandth of a COOP.
	pub const MILLI_UNIT: Balance = UNIT / 1_000;
	/// A millionth of a COOP.
	pub const MICRO_UNIT: Balance = UNIT / 1_000_000;
	/// The SS58 address prefix. 42, the generic Substrate prefix, so dev accounts
	/// (`//Alice`) show the same addresses in polkadot.js and the wallet.
	pub const SS58_PREFIX: u16 = 42;
}

/// Block time: Aura slots of six seconds.
pub mod time {
	use super::BlockNumber;

	/// How long a block takes, in milliseconds.
	pub const MILLI_SECS_PER_BLOCK: u64 = 6_000;
	/// Aura's slot duration: one block per slot.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
	/// Blocks in a minute.
	pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
	/// Blocks in an hour.
	pub const HOURS: BlockNumber = MINUTES * 60;
	/// Blocks in a day.
	pub const DAYS: BlockNumber = HOURS * 24;
}
