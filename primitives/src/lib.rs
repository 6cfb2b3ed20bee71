//! # Datacoop primitives
//!
//! The types every Datacoop component agrees on: the runtime, the node, and the off-chain
//! programs (collective server, storage, wallet). Kept `no_std` so the runtime can use them.
//!
//! `dao` and `contribution` hold the on-chain records' building blocks and the attestation a
//! collective server signs; `traits` is how the pallets reach each other. Later issues add the
//! envelope types here.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

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
	/// Decimal places of every DAO's dataset token, as of the native token: one dataset token
	/// is `10^DATASET_TOKEN_DECIMALS` of its smallest unit. Clients read it from
	/// [`crate::dao::DaoInfo::token_decimals`], not from here.
	pub const DATASET_TOKEN_DECIMALS: u8 = 12;
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
	use alloc::vec::Vec;
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

	/// The prefix of a collective key set's consent to serve an existing DAO
	/// ([`collective_key_payload`]).
	pub const COLLECTIVE_KEY_CONTEXT: &[u8] = b"datacoop/collective-key/v1";

	/// The prefix of a collective key set's consent to serve the DAO one account creates
	/// ([`collective_key_create_payload`]). A context of its own, so that neither kind of
	/// proof can stand for the other.
	pub const COLLECTIVE_KEY_CREATE_CONTEXT: &[u8] = b"datacoop/collective-key/create/v1";

	/// The bytes a collective server's attestation key signs to consent to serve the existing
	/// DAO `dao_id` on the chain of `genesis_hash`, with `encryption_key` as its recipient:
	/// the context, the genesis hash, the DAO id (SCALE, u32 little-endian), the encryption
	/// key. `update_collective` and a governance `UpdateCollective` register a key set only
	/// with this proof, so keys another DAO's proposal shows during its vote cannot be
	/// registered for a third DAO.
	pub fn collective_key_payload(
		genesis_hash: &[u8; 32],
		dao_id: DaoId,
		encryption_key: &[u8; 32],
	) -> Vec<u8> {
		// `()` encodes to nothing: no creator between the genesis hash and the id.
		key_payload(COLLECTIVE_KEY_CONTEXT, genesis_hash, &(), dao_id, encryption_key)
	}

	/// The bytes a collective server's attestation key signs to consent to serve the DAO
	/// `creator` creates as DAO `dao_id` (the chain's next id) on the chain of `genesis_hash`:
	/// the create context, the genesis hash, the creator's account (SCALE: its 32 bytes on
	/// Datacoop), the DAO id (u32 little-endian), the encryption key. `create` registers a key
	/// set only with this proof, so a proof seen in the pool is of no use to anyone else: it
	/// holds for that creator's DAO with that id and no other. `creator` must encode to its
	/// raw bytes (an `AccountId32` or a `[u8; 32]`, not a slice, which SCALE prefixes with its
	/// length).
	pub fn collective_key_create_payload<AccountId: Encode>(
		genesis_hash: &[u8; 32],
		creator: &AccountId,
		dao_id: DaoId,
		encryption_key: &[u8; 32],
	) -> Vec<u8> {
		key_payload(COLLECTIVE_KEY_CREATE_CONTEXT, genesis_hash, creator, dao_id, encryption_key)
	}

	/// The context, the genesis hash, `creator` (SCALE), the DAO id, the encryption key.
	fn key_payload(
		context: &[u8],
		genesis_hash: &[u8; 32],
		creator: &impl Encode,
		dao_id: DaoId,
		encryption_key: &[u8; 32],
	) -> Vec<u8> {
		let mut payload = Vec::with_capacity(context.len() + 32 + creator.size_hint() + 4 + 32);
		payload.extend_from_slice(context);
		payload.extend_from_slice(genesis_hash);
		creator.encode_to(&mut payload);
		dao_id.encode_to(&mut payload);
		payload.extend_from_slice(encryption_key);
		payload
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
		/// Share of every access fee paid to the token holders (pro rata); the rest goes to
		/// the DAO's treasury.
		pub holders_share: Permill,
	}

	/// Whether a DAO takes new contributions.
	#[derive(
		Clone,
		Copy,
		PartialEq,
		Eq,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		MaxEncodedLen,
		Debug,
	)]
	pub enum DaoStatus {
		/// Open for contributions.
		Active,
		/// Closed to new contributions; its data, tokens and rewards stay.
		Retired,
	}

	/// A DAO as the runtime API `DataDaosApi::dao` returns it: a view for clients, built from
	/// the stored record, so that changing how the pallet stores a DAO (a migration) does not
	/// change what the wallet, the collective server or polkadot.js decode.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct DaoInfo<AccountId, Balance, BlockNumber> {
		/// Who created it and pays its deposit; may change it until `governed`.
		pub admin: AccountId,
		/// Whether only its token holders' governance (and the chain's force origin) may
		/// change it: true once the admin handed it over.
		pub governed: bool,
		/// Native tokens held from `admin` for the record.
		pub deposit: Balance,
		/// Human-readable name (UTF-8).
		pub name: Vec<u8>,
		/// Where its description, schema and terms live.
		pub metadata_uri: Vec<u8>,
		/// Its dataset token.
		pub token: TokenInfo<Vec<u8>>,
		/// Decimal places of its dataset token.
		pub token_decimals: u8,
		/// The collective server it trusts.
		pub collective: Collective<Vec<u8>>,
		/// What it accepts, how it rewards and governs.
		pub rules: DaoRules<Balance, BlockNumber>,
		/// Whether it takes contributions.
		pub status: DaoStatus,
		/// The block it was created in.
		pub created_at: BlockNumber,
	}
}

/// Contributions and the attestations that judge them.
pub mod contribution {
	use alloc::vec::Vec;
	use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
	use scale_info::TypeInfo;
	use sp_core::{ConstU32, H256};
	use sp_runtime::{BoundedVec, Permill};

	use crate::dao::DaoId;

	/// A contribution's id: sequential from 0 across all DAOs.
	pub type ContributionId = u64;

	/// Longest rejection reason, in bytes.
	pub const MAX_REASON_LEN: u32 = 128;

	/// Why a contribution was rejected: short UTF-8 text, for people.
	pub type Reason = BoundedVec<u8, ConstU32<MAX_REASON_LEN>>;

	/// Domain separation for attestation signatures, so that no other message an attestation
	/// key might sign can pass for an attestation.
	pub const ATTESTATION_CONTEXT: &[u8] = b"datacoop/attestation/v1";

	/// How a collective server scored a contribution. `overall` decides acceptance and reward.
	#[derive(
		Clone,
		Copy,
		PartialEq,
		Eq,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		MaxEncodedLen,
		Debug,
		Default,
	)]
	pub struct Scores {
		/// The data is what it claims to be (a genuine export, untampered).
		pub authenticity: Permill,
		/// The data belongs to the contributor.
		pub ownership: Permill,
		/// Completeness and richness of the data.
		pub quality: Permill,
		/// How much of it the DAO did not have yet.
		pub uniqueness: Permill,
		/// The score that counts: tokens minted = reward at full score × overall.
		pub overall: Permill,
	}

	/// The collective server's judgement.
	#[derive(
		Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
	)]
	pub enum Verdict {
		/// The contribution passed the DAO's proof of contribution.
		Valid,
		/// It failed, for this reason.
		Invalid { reason: Reason },
	}

	/// What a DAO's collective server signs about one contribution. SCALE-encoded, prefixed by
	/// [`ATTESTATION_CONTEXT`] and the chain's genesis hash (see [`signing_payload`]), and
	/// signed with the sr25519 key the DAO registered.
	#[derive(
		Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
	)]
	pub struct Attestation<BlockNumber> {
		/// The DAO the contribution was submitted to.
		pub dao_id: DaoId,
		/// The contribution judged.
		pub contribution_id: ContributionId,
		/// The contribution's contributor (its 32-byte account id), as the signed statement
		/// inside the data names it (see [`Statement`]): the chain accepts the attestation only
		/// for a contribution submitted by that account.
		pub contributor: [u8; 32],
		/// BLAKE2-256 of the ciphertext the server fetched and decrypted.
		pub ciphertext_hash: H256,
		/// Keyed hash of the normalized plaintext: equal for the same data however encrypted.
		pub fingerprint: H256,
		/// The scores.
		pub scores: Scores,
		/// Valid, or invalid with a reason.
		pub verdict: Verdict,
		/// The measurement of the server that judged (its binary and configuration).
		pub measurement: H256,
		/// The last block in which this attestation may be included.
		pub valid_until: BlockNumber,
	}

	/// Domain separation for contribution statements.
	pub const STATEMENT_CONTEXT: &[u8] = b"datacoop/contribution-statement/v1";

	/// What starts the plaintext of every contribution, before the data: the line
	/// `datacoop-statement/v1 <hex of SCALE(Statement) and the 64-byte signature>\n`.
	pub const STATEMENT_PREFIX: &[u8] = b"datacoop-statement/v1 ";

	/// The length of a statement line: prefix, hex of 68 + 64 bytes, newline.
	pub const STATEMENT_LINE_LEN: usize = STATEMENT_PREFIX.len() + 2 * (68 + 64) + 1;

	/// A contributor's statement that the data is theirs, for one DAO on one chain: signed
	/// (sr25519, over [`statement_payload`]) by the contributor's account and put inside the
	/// encrypted payload, before the data. The collective server judges a contribution whose
	/// statement does not name its on-chain contributor Invalid, so nobody who copies a
	/// ciphertext (from the transaction pool or from storage) can be paid for it.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct Statement {
		/// The chain's genesis hash.
		pub genesis_hash: H256,
		/// The DAO the data is contributed to.
		pub dao_id: DaoId,
		/// The contributor's 32-byte account id.
		pub contributor: [u8; 32],
	}

	/// The bytes a statement's signature covers.
	pub fn statement_payload(statement: &Statement) -> Vec<u8> {
		let mut payload = STATEMENT_CONTEXT.to_vec();
		statement.encode_to(&mut payload);
		payload
	}

	/// The statement line for `statement` signed with `signature`.
	pub fn statement_line(statement: &Statement, signature: &[u8; 64]) -> Vec<u8> {
		const HEX: &[u8; 16] = b"0123456789abcdef";
		let mut line = Vec::with_capacity(STATEMENT_LINE_LEN);
		line.extend_from_slice(STATEMENT_PREFIX);
		for byte in statement.encode().iter().chain(signature.iter()) {
			line.push(HEX[(byte >> 4) as usize]);
			line.push(HEX[(byte & 15) as usize]);
		}
		line.push(b'\n');
		line
	}

	/// Why a plaintext does not start with a well-formed statement line.
	#[derive(Clone, Copy, PartialEq, Eq, Debug)]
	pub struct NoStatement;

	/// Splits a plaintext into its statement, the statement's signature and the data after
	/// it. Checks the form only; the caller checks the signature and what it names.
	pub fn split_statement(plain: &[u8]) -> Result<(Statement, [u8; 64], &[u8]), NoStatement> {
		let line = plain.get(..STATEMENT_LINE_LEN).ok_or(NoStatement)?;
		let hex = line
			.strip_prefix(STATEMENT_PREFIX)
			.and_then(|rest| rest.strip_suffix(b"\n"))
			.ok_or(NoStatement)?;
		let digit = |c: u8| match c {
			b'0'..=b'9' => Ok(c - b'0'),
			b'a'..=b'f' => Ok(c - b'a' + 10),
			_ => Err(NoStatement),
		};
		let mut bytes = [0u8; 68 + 64];
		for (i, pair) in hex.chunks_exact(2).enumerate() {
			bytes[i] = digit(pair[0])? << 4 | digit(pair[1])?;
		}
		let statement = Statement::decode(&mut &bytes[..68]).map_err(|_| NoStatement)?;
		let mut signature = [0u8; 64];
		signature.copy_from_slice(&bytes[68..]);
		Ok((statement, signature, &plain[STATEMENT_LINE_LEN..]))
	}

	/// The bytes an attestation's signature covers: the context, the genesis hash of the chain
	/// it is meant for (so it cannot be replayed on another chain), then the attestation.
	pub fn signing_payload<BlockNumber: Encode>(
		attestation: &Attestation<BlockNumber>,
		genesis_hash: &H256,
	) -> Vec<u8> {
		let mut payload = Vec::with_capacity(ATTESTATION_CONTEXT.len() + 32 + 200);
		payload.extend_from_slice(ATTESTATION_CONTEXT);
		payload.extend_from_slice(genesis_hash.as_bytes());
		attestation.encode_to(&mut payload);
		payload
	}

	/// Where a contribution stands, as the runtime API returns it (see [`ContributionInfo`]).
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub enum StatusInfo<Balance, BlockNumber> {
		/// Waiting for the DAO's collective server; the deposit is held.
		Pending,
		/// Judged valid and good enough: `reward` dataset tokens were minted to the contributor.
		Accepted { scores: Scores, reward: Balance, at: BlockNumber },
		/// Judged invalid or below the DAO's minimum score; `slashed` of the deposit was burned.
		/// `reason` is UTF-8 text for people.
		Rejected { scores: Scores, reason: Vec<u8>, slashed: Balance, at: BlockNumber },
	}

	/// A contribution as the runtime API `ContributionsApi::contribution` returns it: a view
	/// for clients, built from the stored record (see [`crate::dao::DaoInfo`] for why).
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct ContributionInfo<AccountId, Balance, BlockNumber> {
		/// The DAO it was submitted to.
		pub dao_id: DaoId,
		/// Who submitted it and is paid for it.
		pub contributor: AccountId,
		/// Where its ciphertext is stored (UTF-8).
		pub url: Vec<u8>,
		/// BLAKE2-256 of the ciphertext.
		pub ciphertext_hash: H256,
		/// Size of the ciphertext, in bytes.
		pub ciphertext_size: u64,
		/// The native deposit held while it is Pending.
		pub deposit: Balance,
		/// The native deposit held while the record is on chain.
		pub record_deposit: Balance,
		/// The block it was submitted in.
		pub submitted_at: BlockNumber,
		/// Pending, Accepted or Rejected.
		pub status: StatusInfo<Balance, BlockNumber>,
		/// If its contributor asked to cancel it: the first block `withdraw` may be called in.
		pub withdrawable_from: Option<BlockNumber>,
	}
}

/// Governance and access: what token holders vote on, and the grants and offers that let a
/// data consumer use a DAO's data.
pub mod governance {
	use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
	use scale_info::TypeInfo;

	use crate::dao::{Collective, DaoId, DaoRules};

	/// A proposal's id: sequential from 0 across all DAOs.
	pub type ProposalId = u32;

	/// A grant's id: sequential from 0 across all DAOs.
	pub type GrantId = u64;

	/// What a grant lets its grantee have from the DAO's collective server.
	#[derive(
		Clone,
		Copy,
		PartialEq,
		Eq,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		MaxEncodedLen,
		Debug,
	)]
	pub enum Scope {
		/// The records themselves.
		Full,
		/// The records with the fields the DAO's rules mark private removed or pseudonymised.
		Anonymized,
		/// Answers to aggregate queries only, over groups of at least `min_group_size`
		/// contributions.
		Aggregate { min_group_size: u32 },
	}

	impl Scope {
		/// Which of the three kinds this is: a DAO has at most one offer per kind.
		pub fn kind(&self) -> u8 {
			match self {
				Scope::Full => 0,
				Scope::Anonymized => 1,
				Scope::Aggregate { .. } => 2,
			}
		}

		/// Whether a grant or an offer may have this scope: an aggregate scope's smallest
		/// group must be at least one contribution (zero is a mistake, not a setting, and is
		/// refused rather than quietly read as one).
		pub fn is_valid(&self) -> bool {
			!matches!(self, Scope::Aggregate { min_group_size: 0 })
		}
	}

	/// What a passed proposal does. `Endpoint` is a `Vec<u8>` in calls and a bounded vector
	/// in storage, as for [`Collective`].
	#[derive(
		Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
	)]
	pub enum Action<AccountId, Balance, BlockNumber, Endpoint> {
		/// Grant `grantee` (the proposer) `scope` for `duration` blocks from the close, for
		/// `fee` native tokens held from the proposer while the vote runs.
		GrantAccess { grantee: AccountId, scope: Scope, duration: BlockNumber, fee: Balance },
		/// End grant `grant_id` now; its fee is not returned.
		RevokeAccess { grant_id: GrantId },
		/// Let anyone buy `scope` at `price_per_day` for up to `max_days` at once, without a
		/// vote (replaces the offer of the same kind).
		SetOffer { scope: Scope, price_per_day: Balance, max_days: u32 },
		/// Withdraw the offer of `scope`'s kind.
		RemoveOffer { scope: Scope },
		/// Replace the DAO's rules.
		UpdateRules { rules: DaoRules<Balance, BlockNumber> },
		/// Replace the DAO's collective server. `key_proof`: its attestation key's signature
		/// over [`crate::dao::collective_key_payload`] for this DAO.
		UpdateCollective { collective: Collective<Endpoint>, key_proof: [u8; 64] },
		/// Close the DAO to new contributions, proposals and purchases.
		Retire,
		/// Pay `amount` from the DAO's treasury to `to`.
		TreasurySpend { to: AccountId, amount: Balance },
	}

	/// A standing price at which anyone may buy access to a DAO's data.
	#[derive(
		Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
	)]
	pub struct Offer<Balance> {
		/// What a buyer gets.
		pub scope: Scope,
		/// Native tokens per day of access.
		pub price_per_day: Balance,
		/// The most days one purchase may buy.
		pub max_days: u32,
	}

	/// Whether a vote of `ayes` against `nays` passes: the votes cast reach `quorum` of
	/// `supply` and the ayes reach `approval_threshold` of the votes cast (both "at least"),
	/// with at least one aye. Exact (compared in 256 bits). The governance pallet decides
	/// with it; clients use it to say whether a proposal would pass if closed now.
	pub fn passes(
		ayes: u128,
		nays: u128,
		supply: u128,
		quorum: sp_runtime::Permill,
		approval_threshold: sp_runtime::Permill,
	) -> bool {
		use sp_core::U256;
		let per = |p: sp_runtime::Permill| U256::from(p.deconstruct());
		let million = U256::from(sp_runtime::Permill::one().deconstruct());
		let cast = U256::from(ayes) + U256::from(nays);
		ayes > 0
			&& cast * million >= per(quorum) * U256::from(supply)
			&& U256::from(ayes) * million >= per(approval_threshold) * cast
	}

	/// A proposal as the runtime API `GovernanceApi::proposal` returns it: open (its vote
	/// runs, or ran and nobody closed it yet).
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct ProposalInfo<AccountId, Balance, BlockNumber> {
		/// Its id.
		pub id: ProposalId,
		/// The DAO it is for.
		pub dao_id: DaoId,
		/// Who proposed it.
		pub proposer: AccountId,
		/// What it does if it passes.
		pub action: Action<AccountId, Balance, BlockNumber, alloc::vec::Vec<u8>>,
		/// Where it is explained (UTF-8).
		pub description_uri: alloc::vec::Vec<u8>,
		/// Held from the proposer until the close.
		pub deposit: Balance,
		/// A GrantAccess fee held from the proposer until the close.
		pub escrow: Balance,
		/// The first block in which votes are no longer taken and it may be closed.
		pub ends: BlockNumber,
		/// The share of the token supply that must vote.
		pub quorum: sp_runtime::Permill,
		/// The share of the votes cast that must be ayes.
		pub approval_threshold: sp_runtime::Permill,
		/// Tokens voting aye.
		pub ayes: Balance,
		/// Tokens voting nay.
		pub nays: Balance,
	}

	/// One of a holder's votes whose period may not have ended, as the runtime API
	/// `GovernanceApi::votes` returns it.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct VoteInfo<Balance, BlockNumber> {
		/// The proposal voted on.
		pub proposal_id: ProposalId,
		/// Aye or nay.
		pub aye: bool,
		/// Tokens the vote counts and freezes.
		pub amount: Balance,
		/// The proposal's end, after which the freeze may be lifted (`unlock`).
		pub ends: BlockNumber,
	}

	/// A grant as the runtime API `AccessGrantsApi::live_grant` returns it.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct GrantInfo<AccountId, Balance, BlockNumber> {
		/// Its id.
		pub id: GrantId,
		/// The DAO whose data it opens.
		pub dao_id: DaoId,
		/// Who may use the data.
		pub grantee: AccountId,
		/// What they may have.
		pub scope: Scope,
		/// The block it began in.
		pub starts: BlockNumber,
		/// The first block in which it no longer holds.
		pub expires: BlockNumber,
		/// Native tokens paid for it so far (a purchase that extends it adds its price).
		pub paid: Balance,
	}
}

pub mod access;
pub mod url;

/// How the pallets reach each other: through these traits, never through each other's storage.
pub mod traits {
	use sp_core::H256;
	use sp_runtime::DispatchResult;

	use crate::dao::{DaoId, DaoRules};

	/// What the contributions pallet needs to know about a DAO.
	#[derive(Clone, PartialEq, Eq, Debug)]
	pub struct DaoTerms<Balance, BlockNumber> {
		/// Whether it takes new contributions (a retired DAO still judges pending ones).
		pub active: bool,
		/// The sr25519 key its collective server signs attestations with.
		pub attestation_signer: [u8; 32],
		/// The measurement its collective server must report.
		pub measurement: H256,
		/// Its rules.
		pub rules: DaoRules<Balance, BlockNumber>,
	}

	/// The registry of data DAOs.
	pub trait DaoRegistry<Balance, BlockNumber> {
		/// DAO `dao_id`'s terms, if it exists.
		fn dao_terms(dao_id: DaoId) -> Option<DaoTerms<Balance, BlockNumber>>;
		/// The base URL of DAO `dao_id`'s collective server, if it exists: what off-chain
		/// workers ask for attestations.
		fn collective_endpoint(dao_id: DaoId) -> Option<alloc::vec::Vec<u8>>;
		/// Whether URLs recorded on chain may name local hosts (loopback, private ranges):
		/// development chains only, set in their genesis (see [`crate::url`]).
		fn allows_local_urls() -> bool;
	}

	/// The dataset-token ledger.
	pub trait DatasetTokens<AccountId, Balance> {
		/// Mints `amount` of DAO `dao_id`'s token to `who` for an accepted contribution.
		fn mint(dao_id: DaoId, who: &AccountId, amount: Balance) -> DispatchResult;
	}

	/// What governance and access grants need of the dataset-token ledger: votes weigh
	/// balances, a vote freezes the tokens that cast it, fees go to the holders.
	pub trait TokenHolders<AccountId, Balance> {
		/// `who`'s tokens of DAO `dao_id`.
		fn balance(dao_id: DaoId, who: &AccountId) -> Balance;
		/// All of DAO `dao_id`'s tokens.
		fn total_supply(dao_id: DaoId) -> Balance;
		/// How many of `who`'s tokens of DAO `dao_id` are frozen.
		fn frozen(dao_id: DaoId, who: &AccountId) -> Balance;
		/// Keeps at least `amount` of `who`'s tokens of DAO `dao_id` from being transferred
		/// (replacing any earlier freeze; zero lifts it). Fails if `who` holds less.
		fn set_freeze(dao_id: DaoId, who: &AccountId, amount: Balance) -> DispatchResult;
		/// Pays `amount` native tokens from `from` to every holder of DAO `dao_id`'s token,
		/// pro rata. Fails if nobody holds it.
		fn deposit_rewards(dao_id: DaoId, from: &AccountId, amount: Balance) -> DispatchResult;
	}

	/// What a DAO's governance may change in its registration, once the vote passed.
	pub trait DaoAdmin<Balance, BlockNumber> {
		/// Replaces DAO `dao_id`'s rules.
		fn update_rules(dao_id: DaoId, rules: DaoRules<Balance, BlockNumber>) -> DispatchResult;
		/// Replaces DAO `dao_id`'s collective server, which consented with `key_proof`.
		fn update_collective(
			dao_id: DaoId,
			collective: crate::dao::Collective<alloc::vec::Vec<u8>>,
			key_proof: &[u8; 64],
		) -> DispatchResult;
		/// Closes DAO `dao_id` to new contributions.
		fn retire(dao_id: DaoId) -> DispatchResult;
		/// Whether `rules` are rules a DAO may have (what `update_rules` will check): so a
		/// proposal that could never apply is refused before anyone votes on it.
		fn check_rules(rules: &DaoRules<Balance, BlockNumber>) -> DispatchResult;
		/// Whether `collective` is one DAO `dao_id` may register (keys not zero, an endpoint of
		/// the right shape and host, `key_proof` its attestation key's consent to serve this
		/// DAO): what `update_collective` will check, bar the signer another DAO holds, which
		/// may change during the vote (only with the server's own consent for that DAO).
		fn check_collective(
			dao_id: DaoId,
			collective: &crate::dao::Collective<alloc::vec::Vec<u8>>,
			key_proof: &[u8; 64],
		) -> DispatchResult;
	}

	/// What a DAO's governance may do with its grants, offers and treasury, once the vote
	/// passed.
	pub trait AccessControl<AccountId, Balance, BlockNumber> {
		/// Grants `grantee` `scope` of DAO `dao_id` for `duration` blocks, `fee` paid by the
		/// grantee (split between holders and treasury by the DAO's rules).
		fn grant(
			dao_id: DaoId,
			grantee: &AccountId,
			scope: crate::governance::Scope,
			duration: BlockNumber,
			fee: Balance,
		) -> DispatchResult;
		/// Ends grant `grant_id` of DAO `dao_id`.
		fn revoke(dao_id: DaoId, grant_id: crate::governance::GrantId) -> DispatchResult;
		/// Sets DAO `dao_id`'s offer of `offer.scope`'s kind.
		fn set_offer(dao_id: DaoId, offer: crate::governance::Offer<Balance>) -> DispatchResult;
		/// Withdraws DAO `dao_id`'s offer of `scope`'s kind.
		fn remove_offer(dao_id: DaoId, scope: crate::governance::Scope) -> DispatchResult;
		/// Pays `amount` from DAO `dao_id`'s treasury to `to`.
		fn spend(dao_id: DaoId, to: &AccountId, amount: Balance) -> DispatchResult;
		/// Whether a grant of `scope` for `duration` blocks could be made (what `grant`
		/// checks of its arguments): checked when it is proposed, before anyone votes.
		fn check_grant(scope: &crate::governance::Scope, duration: BlockNumber) -> DispatchResult;
		/// Whether `offer` could be set (what `set_offer` checks of it): checked when it is
		/// proposed.
		fn check_offer(offer: &crate::governance::Offer<Balance>) -> DispatchResult;
	}
}

sp_api::decl_runtime_apis! {
	/// A DAO's open proposals and a holder's votes, as views.
	pub trait GovernanceApi<AccountId, Balance, BlockNumber>
	where
		AccountId: codec::Codec,
		Balance: codec::Codec,
		BlockNumber: codec::Codec,
	{
		/// Open proposal `id`, if there is one.
		fn proposal(
			id: governance::ProposalId,
		) -> Option<governance::ProposalInfo<AccountId, Balance, BlockNumber>>;
		/// DAO `dao_id`'s open proposals, oldest first. Reads every open proposal of the chain:
		/// for clients, not for on-chain logic.
		fn proposals(
			dao_id: dao::DaoId,
		) -> alloc::vec::Vec<governance::ProposalInfo<AccountId, Balance, BlockNumber>>;
		/// `who`'s votes in DAO `dao_id` whose tokens are still frozen.
		fn votes(
			dao_id: dao::DaoId,
			who: AccountId,
		) -> alloc::vec::Vec<governance::VoteInfo<Balance, BlockNumber>>;
	}

	/// Who may use a DAO's data, at what price, and what its treasury holds: what the
	/// collective server asks before it releases anything, and what wallets show.
	pub trait AccessGrantsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: codec::Codec,
		Balance: codec::Codec,
		BlockNumber: codec::Codec,
	{
		/// `who`'s grant to DAO `dao_id`'s data, if it holds now (not expired, not revoked).
		fn live_grant(
			dao_id: dao::DaoId,
			who: AccountId,
		) -> Option<governance::GrantInfo<AccountId, Balance, BlockNumber>>;
		/// Grant `grant_id`, live or expired, until it is pruned.
		fn grant(
			grant_id: governance::GrantId,
		) -> Option<governance::GrantInfo<AccountId, Balance, BlockNumber>>;
		/// DAO `dao_id`'s standing offers.
		fn offers(dao_id: dao::DaoId) -> alloc::vec::Vec<governance::Offer<Balance>>;
		/// What DAO `dao_id`'s treasury could spend now.
		fn treasury_balance(dao_id: dao::DaoId) -> Balance;
	}

	/// Read a data DAO and its dataset token from the runtime: what polkadot.js (`api.call`),
	/// the wallet and the collective server use instead of decoding storage themselves. The
	/// DAO comes as a [`dao::DaoInfo`] view, not the pallet's stored record.
	pub trait DataDaosApi<AccountId, Balance, BlockNumber>
	where
		AccountId: codec::Codec,
		Balance: codec::Codec,
		BlockNumber: codec::Codec,
	{
		/// The DAO `dao_id`, if it exists.
		fn dao(dao_id: dao::DaoId) -> Option<dao::DaoInfo<AccountId, Balance, BlockNumber>>;
		/// `who`'s dataset tokens of DAO `dao_id`.
		fn token_balance(dao_id: dao::DaoId, who: AccountId) -> Balance;
		/// All of DAO `dao_id`'s dataset tokens.
		fn token_supply(dao_id: dao::DaoId) -> Balance;
		/// The native rewards `who` could claim from DAO `dao_id` now.
		fn claimable_rewards(dao_id: dao::DaoId, who: AccountId) -> Balance;
	}

	/// Read contributions from the runtime: for the wallet (status of one's contributions,
	/// resuming a submission) and the collective server (what to judge, whether a fingerprint
	/// is taken). A contribution comes as a [`contribution::ContributionInfo`] view.
	pub trait ContributionsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: codec::Codec,
		Balance: codec::Codec,
		BlockNumber: codec::Codec,
	{
		/// The contribution `id`, if it exists.
		fn contribution(
			id: contribution::ContributionId,
		) -> Option<contribution::ContributionInfo<AccountId, Balance, BlockNumber>>;
		/// The contribution of DAO `dao_id` with this ciphertext hash, if any.
		fn contribution_by_ciphertext(
			dao_id: dao::DaoId,
			ciphertext_hash: Hash,
		) -> Option<contribution::ContributionId>;
		/// Whether any DAO has a contribution (Pending, Accepted or Rejected) with this
		/// ciphertext hash: what the storage service's garbage collector asks before it
		/// removes a blob.
		fn references_ciphertext(ciphertext_hash: Hash) -> bool;
		/// The accepted contribution of DAO `dao_id` with this fingerprint, if any.
		fn contribution_by_fingerprint(
			dao_id: dao::DaoId,
			fingerprint: Hash,
		) -> Option<contribution::ContributionId>;
	}
}

#[cfg(test)]
mod governance_tests {
	use super::governance::passes;
	use sp_runtime::Permill;

	#[test]
	fn a_vote_passes_at_the_quorum_and_threshold_exactly_and_not_below() {
		let (q, a) = (Permill::from_percent(20), Permill::from_percent(50));
		// 100 of 500 is exactly the quorum; 50 of 100 exactly the threshold.
		assert!(passes(50, 50, 500, q, a));
		assert!(!passes(49, 50, 500, q, a));
		assert!(!passes(50, 49, 500, q, a));
		// No ayes never passes, even with a zero supply.
		assert!(!passes(0, 0, 0, q, a));
		// The largest balances do not overflow.
		assert!(passes(u128::MAX, 0, u128::MAX, Permill::one(), Permill::one()));
		assert!(!passes(u128::MAX - 1, 0, u128::MAX, Permill::one(), Permill::one()));
	}
}

#[cfg(test)]
mod key_proof_tests {
	use super::dao::*;

	/// The payloads' bytes are fixed: the collective (`prove`), the wallet, polkadot.js callers
	/// and the runtime each build them, and a proof signed over one layout must verify under
	/// the others. A change here is a change of every signer's format.
	#[test]
	fn key_proof_payloads_have_a_fixed_layout() {
		let existing = collective_key_payload(&[1; 32], 0x0403_0201, &[2; 32]);
		let mut expected = b"datacoop/collective-key/v1".to_vec();
		expected.extend([1; 32]);
		expected.extend([1, 2, 3, 4]);
		expected.extend([2; 32]);
		assert_eq!(existing, expected);

		// The runtime's account, as the chain encodes it: its 32 bytes, no length prefix.
		let creator = crate::AccountId::from([3u8; 32]);
		let create = collective_key_create_payload(&[1; 32], &creator, 0x0403_0201, &[2; 32]);
		let mut expected = b"datacoop/collective-key/create/v1".to_vec();
		expected.extend([1; 32]);
		expected.extend([3; 32]);
		expected.extend([1, 2, 3, 4]);
		expected.extend([2; 32]);
		assert_eq!(create, expected);
	}

	#[test]
	fn a_create_payload_differs_by_creator_and_from_an_existing_daos() {
		let a = collective_key_create_payload(&[1; 32], &[3u8; 32], 5, &[2; 32]);
		let b = collective_key_create_payload(&[1; 32], &[4u8; 32], 5, &[2; 32]);
		assert_ne!(a, b);
		assert_ne!(a, collective_key_payload(&[1; 32], 5, &[2; 32]));
		// Neither context is a prefix of the other: no choice of the bytes after one makes
		// its payload begin as the other kind's.
		assert!(!COLLECTIVE_KEY_CREATE_CONTEXT.starts_with(COLLECTIVE_KEY_CONTEXT));
		assert!(!COLLECTIVE_KEY_CONTEXT.starts_with(COLLECTIVE_KEY_CREATE_CONTEXT));
	}
}

#[cfg(test)]
mod tests {
	use super::contribution::*;
	use sp_core::H256;

	fn statement() -> Statement {
		Statement { genesis_hash: H256::repeat_byte(1), dao_id: 7, contributor: [9; 32] }
	}

	#[test]
	fn a_statement_line_splits_back_into_its_parts() {
		let line = statement_line(&statement(), &[5; 64]);
		assert_eq!(line.len(), STATEMENT_LINE_LEN);
		let mut plain = line.clone();
		plain.extend_from_slice(b"{\"messages\": []}");
		let (s, signature, data) = split_statement(&plain).expect("a statement");
		assert_eq!((s, signature, data), (statement(), [5; 64], &b"{\"messages\": []}"[..]));
	}

	#[test]
	fn data_without_a_well_formed_statement_is_refused() {
		let line = statement_line(&statement(), &[5; 64]);
		assert_eq!(split_statement(b"{\"messages\": []}"), Err(NoStatement));
		assert_eq!(split_statement(&line[..line.len() - 1]), Err(NoStatement));
		let mut upper = line.clone();
		upper[STATEMENT_PREFIX.len()] = b'A';
		assert_eq!(split_statement(&upper), Err(NoStatement));
		let mut no_newline = line.clone();
		*no_newline.last_mut().unwrap() = b' ';
		assert_eq!(split_statement(&no_newline), Err(NoStatement));
	}
}
