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

/// Data DAOs: the identifiers and settings every component reads from chain.
pub mod dao {
	use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
	use scale_info::TypeInfo;
	use sp_core::H256;
	use sp_runtime::Permill;

	/// A data DAO's id: sequential from 0.
	pub type DaoId = u32;

	/// The collective server a DAO trusts with its data: where it is, how to encrypt to it,
	/// who signs its attestations, and what it must be running. `Endpoint` is a `Vec<u8>` in
	/// calls and a bounded vector in storage.
	#[derive(
		Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
	)]
	pub struct Collective<Endpoint> {
		/// X25519 public key contributions are encrypted to (the age recipient).
		pub encryption_key: [u8; 32],
		/// sr25519 public key that signs the server's attestations.
		pub attestation_signer: [u8; 32],
		/// The server's base URL (`http://` or `https://`).
		pub endpoint: Endpoint,
		/// Hash of the server's binary and validation configuration it reports; an attestation
		/// naming another measurement is refused.
		pub measurement: H256,
	}

	/// A DAO's dataset token, as wallets show it. `Text` as for `Collective`.
	#[derive(
		Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
	)]
	pub struct TokenInfo<Text> {
		/// The token's name, e.g. "Reddit Comments 2026".
		pub name: Text,
		/// Its symbol: 1 to 12 ASCII letters or digits, e.g. "RDC26".
		pub symbol: Text,
	}

	/// What a DAO accepts and how it rewards and governs. `Balance` is the native token for
	/// deposits and the dataset token for rewards (both `u128` planck).
	#[derive(
		Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
	)]
	pub struct DaoRules<Balance, BlockNumber> {
		/// Smallest accepted contribution, in bytes of ciphertext.
		pub min_contribution_size: u64,
		/// Largest accepted contribution, in bytes of ciphertext.
		pub max_contribution_size: u64,
		/// Dataset tokens minted for a contribution scored 100%.
		pub reward_at_full_score: Balance,
		/// Contributions scored below this overall score are not accepted.
		pub min_score: Permill,
		/// Native tokens held from a contributor while a contribution is pending.
		pub contribution_deposit: Balance,
		/// How long a governance vote stays open.
		pub voting_period: BlockNumber,
		/// Share of the token supply that must vote for a vote to count.
		pub quorum: Permill,
		/// Share of the votes cast that must be ayes for a proposal to pass.
		pub approval_threshold: Permill,
	}

	/// Whether a DAO takes new contributions.
	#[derive(
		Clone, Copy, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
	)]
	pub enum DaoStatus {
		/// Open for contributions.
		Active,
		/// Closed to new contributions; its data, tokens and rewards stay.
		Retired,
	}
}

sp_api::decl_runtime_apis! {
	/// Read a data DAO and its dataset token from the runtime: what polkadot.js (`api.call`),
	/// the wallet and the collective server use instead of decoding storage themselves.
	/// `Dao` is the runtime's stored DAO record.
	pub trait DataDaosApi<AccountId, Balance, Dao>
	where
		AccountId: codec::Codec,
		Balance: codec::Codec,
		Dao: codec::Codec,
	{
		/// The DAO `dao_id`, if it exists.
		fn dao(dao_id: dao::DaoId) -> Option<Dao>;
		/// `who`'s dataset tokens of DAO `dao_id`.
		fn token_balance(dao_id: dao::DaoId, who: AccountId) -> Balance;
		/// All of DAO `dao_id`'s dataset tokens.
		fn token_supply(dao_id: dao::DaoId) -> Balance;
		/// The native rewards `who` could claim from DAO `dao_id` now.
		fn claimable_rewards(dao_id: dao::DaoId, who: AccountId) -> Balance;
	}
}
