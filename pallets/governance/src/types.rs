//! Proposals and votes as stored.

use alloc::vec::Vec;
use codec::{Decode, Encode, MaxEncodedLen};
use datacoop_primitives::{
	dao::DaoId,
	governance::{Action, ProposalId},
};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_runtime::Permill;

use crate::{BalanceOf, Config};

/// An action as a call carries it (endpoints unbounded until checked).
pub type CallActionOf<T> =
	Action<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>, Vec<u8>>;

/// An action as a stored proposal holds it.
pub type ActionOf<T> = Action<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	BoundedVec<u8, <T as Config>::MaxEndpointLen>,
>;

/// A proposal's description URI, bounded by `MaxDescriptionLen`.
pub type DescriptionOf<T> = BoundedVec<u8, <T as Config>::MaxDescriptionLen>;

/// A proposal whose vote runs or ran and which nobody closed yet.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Proposal<T: Config> {
	/// The DAO it is for.
	pub dao_id: DaoId,
	/// Who proposed it and gets the deposit back.
	pub proposer: T::AccountId,
	/// What it does if it passes.
	pub action: ActionOf<T>,
	/// Where it is explained.
	pub description_uri: DescriptionOf<T>,
	/// Held from the proposer until the close.
	pub deposit: BalanceOf<T>,
	/// A GrantAccess fee held from the proposer until the close (zero for other actions).
	pub escrow: BalanceOf<T>,
	/// The first block in which votes are no longer taken and `close` may be called.
	pub ends: BlockNumberFor<T>,
	/// The DAO's quorum when the proposal was made: a rule change voted meanwhile does not
	/// move the bar for proposals already running.
	pub quorum: Permill,
	/// The DAO's approval threshold when the proposal was made.
	pub approval_threshold: Permill,
	/// Tokens voting aye.
	pub ayes: BalanceOf<T>,
	/// Tokens voting nay.
	pub nays: BalanceOf<T>,
}

/// A proposal as this runtime stores it.
pub type ProposalOf<T> = Proposal<T>;

/// One of a holder's votes, kept while its proposal's period may not have ended: the tokens
/// it froze, and what to take back from the tally when the vote changes.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen, Debug)]
pub struct VoteRecord<Balance, BlockNumber> {
	/// The proposal voted on.
	pub proposal_id: ProposalId,
	/// Aye or nay.
	pub aye: bool,
	/// Tokens the vote counts (and freezes).
	pub amount: Balance,
	/// The proposal's end: after it the tally is final and the freeze may go.
	pub ends: BlockNumber,
}

/// A vote record with this runtime's types.
pub type VoteRecordOf<T> = VoteRecord<BalanceOf<T>, BlockNumberFor<T>>;
