//! # Dataset Tokens Pallet
//!
//! ## Overview
//!
//! One fungible token per data DAO, minted only for accepted contributions, and a reward pot
//! per DAO from which native-token fees flow to every holder in proportion to their tokens.
//!
//! Rewards are O(1) whatever the number of holders: a deposit raises the DAO's reward per
//! token (`Rewards::per_token`, scaled by [`MAGNITUDE`]); each holder keeps a `reward_debt`
//! (balance × reward per token when last settled) so that what they are owed is
//! `balance × per_token − reward_debt` plus what was settled earlier (`unclaimed`).
//! Every balance change (mint, transfer) first settles the accounts it touches. No call
//! loops over holders.
//!
//! No rounding is ever lost. Amounts owed are kept in `MAGNITUDE` units (10⁻¹⁸ planck): a
//! claim pays whole plancks and leaves the fraction in the holding for the next claim; what
//! a deposit's division by the supply leaves over, and the fraction a removed holding was
//! owed, are kept as `undistributed` and shared out by the next deposit. So, per DAO and
//! exactly: `deposited × MAGNITUDE = claimed × MAGNITUDE + Σ owed + undistributed`, and what
//! the pot holds beyond what is claimable is under one planck per holder plus
//! `undistributed` (checked by `do_try_state`).
//!
//! Why not pallet-assets for the ledger: its transfers offer no hook in which the two
//! accounts' reward debts could be settled, so rewards could not be kept exact across
//! transfers. The ledger here is small (balances and supply) and owns that hook.
//!
//! The reward pot of DAO `d` is a keyless account derived from this pallet's id and `d`. The
//! first deposit into a pot also pays the native existential deposit for it, so claims can
//! never reap the pot and strand what other holders are owed.
//!
//! ## Interface
//!
//! - [`Pallet::transfer`]: move dataset tokens; both sides' rewards are settled first.
//! - [`Pallet::deposit_rewards`]: anyone pays native tokens to all holders of a DAO's token.
//! - [`Pallet::claim_rewards`]: a holder takes what they are owed.
//! - [`Pallet::mint`] (for other pallets, not a call): mint for an accepted contribution.
//! - Through `TokenHolders` (for governance and access grants): balances and supply, the
//!   freeze that keeps tokens which voted in an open proposal from moving (so a token votes
//!   once per proposal), and fee deposits.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod functions;
mod impl_dataset_tokens;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use pallet::*;
pub use weights::WeightInfo;

/// Scale of rewards per token and of amounts owed: 18 decimal places below one planck.
pub const MAGNITUDE: u128 = 1_000_000_000_000_000_000;

/// The holder count at which `deposit_rewards` and `claim_rewards` are charged: the largest
/// their benchmarks measure. Their storage reads and writes do not depend on the number of
/// holders (no loop over holders), and measured on a state of the same size their time does
/// not either (the fitted slope is zero; see the README); the weight is still taken at the
/// top of the measured range.
pub const BENCHMARKED_HOLDERS: u32 = 100_000;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use codec::{Decode, Encode, MaxEncodedLen};
	use datacoop_primitives::dao::DaoId;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use scale_info::TypeInfo;
	use sp_core::U256;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The native currency rewards are paid in.
		type Currency: Mutate<Self::AccountId>;

		/// Derives each DAO's reward pot account.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The smallest dataset-token balance a transfer may leave or create (other than none):
		/// keeps anyone from filling storage with dust accounts. Mints are exempt.
		#[pallet::constant]
		type MinHolding: Get<BalanceOf<Self>>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// A holder's dataset tokens of one DAO and where their rewards stand.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen, Debug, Default)]
	pub struct Holding<Balance> {
		/// Dataset tokens held.
		pub balance: Balance,
		/// `balance × per_token` when last settled (both in `MAGNITUDE` units).
		pub reward_debt: U256,
		/// Rewards settled but not claimed yet, in `MAGNITUDE` units of a planck: the
		/// fraction of a planck a claim cannot pay stays here for the next claim.
		pub unclaimed: U256,
	}

	/// Where one DAO's rewards stand.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen, Debug, Default)]
	pub struct RewardPool<Balance> {
		/// Native rewards per dataset token ever shared out, in `MAGNITUDE` units.
		pub per_token: U256,
		/// Deposited but not shared out yet, in `MAGNITUDE` units: what a deposit's division
		/// by the supply left over, and the fractions of a planck that removed holdings were
		/// owed. The next deposit shares it out with its own amount.
		pub undistributed: U256,
		/// Native rewards ever deposited.
		pub deposited: Balance,
		/// Native rewards ever claimed.
		pub claimed: Balance,
	}

	/// Dataset tokens in existence, per DAO.
	/// Twox64Concat is safe: DAO ids are sequential, not chosen by users.
	#[pallet::storage]
	pub type TotalSupply<T: Config> = StorageMap<_, Twox64Concat, DaoId, BalanceOf<T>, ValueQuery>;

	/// Each holder's tokens and rewards, per DAO.
	#[pallet::storage]
	pub type Holdings<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		DaoId,
		Blake2_128Concat,
		T::AccountId,
		Holding<BalanceOf<T>>,
	>;

	/// Tokens a holder may not transfer: those that cast a vote in a proposal still open
	/// (the largest of its votes in the DAO), set by governance through `TokenHolders`.
	/// Always above zero and at most the holder's balance.
	#[pallet::storage]
	pub type Frozen<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DaoId, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// Each DAO's reward accounting, in one record: every reward call reads it once.
	#[pallet::storage]
	pub type Rewards<T: Config> =
		StorageMap<_, Twox64Concat, DaoId, RewardPool<BalanceOf<T>>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Dataset tokens were minted for an accepted contribution.
		Minted { dao_id: DaoId, who: T::AccountId, amount: BalanceOf<T> },
		/// Dataset tokens moved.
		Transferred { dao_id: DaoId, from: T::AccountId, to: T::AccountId, amount: BalanceOf<T> },
		/// Native rewards were paid to all holders of a DAO's token.
		RewardsDeposited { dao_id: DaoId, from: T::AccountId, amount: BalanceOf<T> },
		/// A holder claimed their rewards.
		RewardsClaimed { dao_id: DaoId, who: T::AccountId, amount: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Zero is not an amount.
		ZeroAmount,
		/// The sender holds fewer tokens than that.
		InsufficientBalance,
		/// A transfer must leave and create holdings of at least `MinHolding` tokens, or none.
		BelowMinHolding,
		/// Sending to oneself changes nothing.
		SelfTransfer,
		/// Nobody holds this DAO's token, so nobody could be paid.
		NoHolders,
		/// The depositor cannot pay this (with the pot's existential deposit on a first deposit).
		CannotPayRewards,
		/// Nothing to claim.
		NothingToClaim,
		/// A total would overflow.
		Overflow,
		/// These tokens voted in a proposal that is still open: they move once its vote ends
		/// (`DaoGovernance::unlock`).
		TokensFrozen,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(!T::MinHolding::get().is_zero(), "MinHolding must be above zero");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Sends `amount` of DAO `dao_id`'s token to `to`. Both accounts' rewards so far are
		/// settled first, so rewards follow the tokens from now on only.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::transfer())]
		pub fn transfer(
			origin: OriginFor<T>,
			dao_id: DaoId,
			to: T::AccountId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let from = ensure_signed(origin)?;
			Self::do_transfer(dao_id, from, to, amount)
		}

		/// Pays `amount` native tokens to every holder of DAO `dao_id`'s token, pro rata.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::deposit_rewards(BENCHMARKED_HOLDERS))]
		pub fn deposit_rewards(
			origin: OriginFor<T>,
			dao_id: DaoId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let from = ensure_signed(origin)?;
			Self::do_deposit_rewards(dao_id, from, amount)
		}

		/// Pays the caller what they are owed from DAO `dao_id`'s reward pot.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::claim_rewards(BENCHMARKED_HOLDERS))]
		pub fn claim_rewards(origin: OriginFor<T>, dao_id: DaoId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_claim_rewards(dao_id, who).map(|_| ())
		}
	}

	/// The native (and dataset-token) balance type.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
}
