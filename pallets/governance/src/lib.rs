//! # DAO Governance Pallet
//!
//! ## Overview
//!
//! A data DAO's token holders decide what happens to its data. Anyone may propose an
//! [`Action`](datacoop_primitives::governance::Action) for a DAO, holding a deposit; holders
//! vote with their dataset tokens; after the DAO's voting period anyone closes the proposal,
//! which passes if the votes cast reach the DAO's `quorum` (a share of the token supply at
//! the close) and the ayes reach its `approval_threshold` (a share of the votes cast). A passed
//! proposal's action runs in the closing call; the deposit always returns.
//!
//! A would-be data consumer proposes its own `GrantAccess`: the fee it offers is held from it
//! while the vote runs, paid out (split between holders and the DAO's treasury by the DAO's
//! rules, in `pallet-access-grants`) if the proposal passes and the grant is made, and
//! released back to it otherwise. So every escrowed fee is paid once or refunded once.
//!
//! ### A token votes once per proposal
//!
//! A vote freezes the tokens that cast it in the dataset-token ledger until the proposal's
//! voting period ends: they cannot be transferred and vote again from another account. One
//! token may vote in several proposals at once (the freeze is the largest of the holder's
//! votes in the DAO), as conviction voting locks. The tally is the sum of the votes as cast,
//! and cannot change after the end, so the freeze is lifted then (`unlock`, or the holder's
//! next vote in the DAO). Each holder has at most `MaxVotes` votes in a DAO whose periods
//! have not ended, so every call here is bounded by that constant, whatever the number of
//! holders, voters and proposals. `docs/governance.md` compares this with snapshots.
//!
//! ### Who administers a DAO
//!
//! Governance may change any DAO's rules, collective and retirement through its proposals;
//! the creator also may, directly, until it calls `DataDaos::hand_over`. The chain's force
//! origin (root) keeps its powers for emergencies.
//!
//! ## Interface
//!
//! - [`Pallet::propose`]: anyone; holds the proposal deposit (and a GrantAccess fee).
//! - [`Pallet::vote`]: a holder; aye or nay with some or all of their tokens; again to change.
//! - [`Pallet::close`]: anyone, after the voting period; runs the action if it passed.
//! - [`Pallet::unlock`]: a holder lifts the freeze of votes whose periods ended.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod functions;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

/// The number of dataset-token holders at which `vote` and `close` are charged: the largest
/// their benchmarks measure. Neither reads anything per holder; see `docs/benchmarks.md`.
pub const BENCHMARKED_HOLDERS: u32 = 100_000;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{boxed::Box, vec::Vec};
	use datacoop_primitives::{
		dao::DaoId,
		governance::ProposalId,
		traits::{AccessControl, DaoAdmin, DaoRegistry, TokenHolders},
	};
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, MutateHold},
	};
	use frame_system::pallet_prelude::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The native currency: proposal deposits and escrowed fees are held in it.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The DAOs: whether one takes proposals, and its voting rules.
		type Daos: DaoRegistry<BalanceOf<Self>, BlockNumberFor<Self>>;

		/// Changes a DAO's registration when a proposal passes.
		type Admin: DaoAdmin<BalanceOf<Self>, BlockNumberFor<Self>>;

		/// Grants, offers and treasuries.
		type Access: AccessControl<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The dataset-token ledger: balances weigh votes; votes freeze tokens.
		type Tokens: TokenHolders<Self::AccountId, BalanceOf<Self>>;

		/// Held from a proposer until the proposal is closed.
		#[pallet::constant]
		type ProposalDeposit: Get<BalanceOf<Self>>;

		/// Longest description URI, in bytes.
		#[pallet::constant]
		type MaxDescriptionLen: Get<u32>;

		/// Longest collective endpoint an `UpdateCollective` may name, in bytes (as the DAO
		/// registry's own limit).
		#[pallet::constant]
		type MaxEndpointLen: Get<u32>;

		/// Most votes one holder may have in one DAO in proposals whose voting periods have
		/// not ended: what bounds `vote` and `unlock`.
		#[pallet::constant]
		type MaxVotes: Get<u32>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;

		/// Sets up DAOs and token holders for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A proposal's deposit.
		ProposalDeposit,
		/// The fee a GrantAccess proposer offers, while the vote runs.
		Escrow,
	}

	/// The id the next proposal gets.
	#[pallet::storage]
	pub type NextProposalId<T> = StorageValue<_, ProposalId, ValueQuery>;

	/// Proposals not closed yet. Twox64Concat is safe: ids are sequential, not chosen by users.
	#[pallet::storage]
	pub type Proposals<T: Config> = StorageMap<_, Twox64Concat, ProposalId, ProposalOf<T>>;

	/// The ids of each DAO's open proposals: what a client's listing of one DAO walks, so
	/// it reads that DAO's proposals only. Twox64Concat is safe: both ids are sequential.
	#[pallet::storage]
	pub type DaoProposals<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DaoId, Twox64Concat, ProposalId, ()>;

	/// Each holder's votes in a DAO whose voting periods may not have ended: what their
	/// tokens' freeze is made of. Entries of ended periods go at the holder's next `vote` or
	/// `unlock` in the DAO.
	#[pallet::storage]
	pub type Voting<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		DaoId,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<VoteRecordOf<T>, T::MaxVotes>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A proposal was made; its vote runs until block `ends`.
		Proposed {
			proposal_id: ProposalId,
			dao_id: DaoId,
			proposer: T::AccountId,
			ends: BlockNumberFor<T>,
		},
		/// A holder voted (or changed their vote) with `amount` tokens.
		Voted { proposal_id: ProposalId, voter: T::AccountId, aye: bool, amount: BalanceOf<T> },
		/// A proposal was closed: it passed or not, and if it passed its action ran with
		/// `result`. Its deposit returned; an escrowed fee was paid or refunded.
		Closed {
			proposal_id: ProposalId,
			dao_id: DaoId,
			ayes: BalanceOf<T>,
			nays: BalanceOf<T>,
			passed: bool,
			result: Option<DispatchResult>,
		},
		/// A holder's frozen tokens changed after votes ended.
		Unlocked { dao_id: DaoId, who: T::AccountId, frozen: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No DAO has this id.
		UnknownDao,
		/// The DAO is retired: it takes no proposals.
		DaoRetired,
		/// No open proposal has this id (it never existed or was closed).
		UnknownProposal,
		/// The description URI is longer than `MaxDescriptionLen`.
		DescriptionTooLong,
		/// The endpoint is longer than `MaxEndpointLen`.
		EndpointTooLong,
		/// A GrantAccess proposal is made by its grantee, who pays the fee.
		GrantForOther,
		/// A grant must last at least a block.
		ZeroDuration,
		/// An offer needs a price above zero and at least one day.
		InvalidOffer,
		/// A treasury spend must pay something.
		ZeroAmount,
		/// The proposer cannot pay the proposal deposit and the offered fee.
		CannotPayDeposit,
		/// The voting period has ended.
		VotingClosed,
		/// The voting period has not ended yet.
		VotingOpen,
		/// A vote needs tokens: the voter holds none, or `amount` is zero.
		NoTokens,
		/// The voter holds fewer tokens than `amount`.
		NotEnoughTokens,
		/// The voter already has `MaxVotes` votes in this DAO in periods that have not ended.
		TooManyVotes,
		/// None of the voter's votes in this DAO has ended: nothing to unlock.
		NothingToUnlock,
		/// A total would overflow.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxVotes::get() > 0, "MaxVotes must allow a vote");
			assert!(T::MaxEndpointLen::get() >= 16, "MaxEndpointLen must allow a URL");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Proposes `action` for DAO `dao_id`, described at `description_uri`. Holds the
		/// proposal deposit, and for `GrantAccess` (which the grantee proposes) the fee.
		/// (`action` is boxed so that every other call stays small; it encodes as the action
		/// itself.)
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::propose())]
		pub fn propose(
			origin: OriginFor<T>,
			dao_id: DaoId,
			action: Box<CallActionOf<T>>,
			description_uri: Vec<u8>,
		) -> DispatchResult {
			let proposer = ensure_signed(origin)?;
			Self::do_propose(proposer, dao_id, *action, description_uri).map(|_| ())
		}

		/// Votes aye or nay on `proposal_id` with `amount` of the caller's tokens (all of
		/// them if `None`); again to change the vote. The tokens stay frozen until the vote
		/// ends.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::vote(BENCHMARKED_HOLDERS))]
		pub fn vote(
			origin: OriginFor<T>,
			proposal_id: ProposalId,
			aye: bool,
			amount: Option<BalanceOf<T>>,
		) -> DispatchResult {
			let voter = ensure_signed(origin)?;
			Self::do_vote(voter, proposal_id, aye, amount)
		}

		/// Closes `proposal_id` after its voting period: runs its action if it passed,
		/// returns the deposit, pays or refunds an escrowed fee.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::close(BENCHMARKED_HOLDERS))]
		pub fn close(origin: OriginFor<T>, proposal_id: ProposalId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_close(proposal_id)
		}

		/// Lifts the freeze of the caller's votes in DAO `dao_id` whose periods ended.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::unlock())]
		pub fn unlock(origin: OriginFor<T>, dao_id: DaoId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unlock(dao_id, who)
		}
	}

	/// The native (and dataset-token) balance type.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

	/// How the benchmarks set up DAOs with holders, without depending on other pallets.
	#[cfg(feature = "runtime-benchmarks")]
	pub trait BenchmarkHelper<T: Config> {
		/// Creates an active DAO administered by `admin` (funded by the helper).
		fn create_dao(admin: &T::AccountId) -> DaoId;
		/// Mints `amount` of DAO `dao_id`'s token to `who`.
		fn mint(dao_id: DaoId, who: &T::AccountId, amount: BalanceOf<T>);
	}
}
