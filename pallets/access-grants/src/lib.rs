//! # Access Grants Pallet
//!
//! ## Overview
//!
//! Who may use a data DAO's pooled data, at what price, and where the money goes. A grant
//! lets its grantee have one [`Scope`] of a DAO's data (the records, anonymized records, or
//! aggregate answers over groups of a minimum size) from block `starts` until block
//! `expires`; the DAO's collective server asks the runtime API ([`Pallet::live_grant`])
//! before it releases anything.
//!
//! A grant comes about in one of two ways:
//! - a passed `GrantAccess` proposal: the governance pallet calls [`AccessControl::grant`]
//!   with the duration and fee the holders voted for;
//! - a purchase ([`Pallet::buy`]) at one of the DAO's standing offers (at most one per kind
//!   of scope, set and withdrawn by passed `SetOffer` / `RemoveOffer` proposals): the price
//!   per day times the days bought, paid at once, no vote.
//!
//! There is one grant record per (DAO, grantee). Buying (or being granted) the same scope
//! while it is live extends it; another scope while it is live is refused, so one account
//! never holds two scopes of a DAO at once. A passed `RevokeAccess` ends a grant at once
//! ([`AccessControl::revoke`]); its fee is not returned.
//!
//! **Lazy expiry.** No hook walks the grants: a grant is expired from block `expires` on,
//! which every read checks (`live_grant` says None, a purchase replaces it). The expired
//! record stays until it is touched again (a new purchase or grant to the same account
//! replaces it, under a new id) or pruned ([`Pallet::prune`]) by anyone. A deposit
//! (`GrantDeposit`) is held from the grantee for as long as the record exists; whoever
//! prunes an expired grant is paid `PruneReward` out of it and the rest goes back to the
//! grantee, so there is always a reason to clean up, and a grantee who prunes their own
//! grant gets it all back.
//!
//! **The fee split.** Every fee (a purchase's price, a passed grant's fee) is split by the
//! DAO's rules: `holders_share` of it is paid to the DAO's dataset-token holders pro rata,
//! through `TokenHolders::deposit_rewards` (O(1) whatever the number of holders), and the
//! rest to the DAO's treasury, a keyless account derived from this pallet's id and the DAO
//! id ([`Pallet::treasury`]). A DAO nobody holds tokens of yet has nobody to pay: its whole
//! fee goes to the treasury. Passed `TreasurySpend` proposals pay out of the treasury
//! ([`AccessControl::spend`]).
//!
//! **The existential deposit rule.** A fee paid into an empty treasury also carries the
//! native existential deposit, paid by the payer and kept there for good (spends keep it,
//! [`Pallet::treasury_balance`] leaves it out): so a fee smaller than the existential
//! deposit never fails, and the treasury is never reaped. The token holders' reward pot
//! follows the same rule in the dataset-tokens pallet.
//!
//! Every call and every `AccessControl` function does a fixed amount of work.
//!
//! ## Interface
//!
//! - [`Pallet::buy`]: anyone buys a scope of a DAO's data for some days at its standing
//!   offer; creates, extends or replaces the caller's grant.
//! - [`Pallet::prune`]: anyone removes an expired grant and is paid `PruneReward` from its
//!   deposit.
//! - Through [`AccessControl`] (for the governance pallet, once a vote passed): `grant`,
//!   `revoke`, `set_offer`, `remove_offer`, `spend`.
//! - For the runtime API `AccessGrantsApi`: [`Pallet::live_grant`], [`Pallet::grant_info`],
//!   [`Pallet::offers`], [`Pallet::treasury_balance`]; and [`Pallet::treasury`].
//!
//! [`Scope`]: datacoop_primitives::governance::Scope
//! [`AccessControl`]: datacoop_primitives::traits::AccessControl
//! [`AccessControl::grant`]: datacoop_primitives::traits::AccessControl::grant
//! [`AccessControl::revoke`]: datacoop_primitives::traits::AccessControl::revoke
//! [`AccessControl::spend`]: datacoop_primitives::traits::AccessControl::spend

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod functions;
mod impl_access_control;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

/// The holder count at which `buy` is charged: the largest its benchmark measures. Paying
/// the holders' share goes through the dataset-token ledger's O(1) reward deposit (no loop
/// over holders), so the weight should not depend on it; it is still taken at the top of
/// the measured range, as the ledger's own calls are.
pub const BENCHMARKED_HOLDERS: u32 = 100_000;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use datacoop_primitives::{
		dao::DaoId,
		governance::{GrantId, Scope},
		traits::{DaoRegistry, TokenHolders},
	};
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
		PalletId,
	};
	use frame_system::pallet_prelude::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The native currency: fees are paid in it and grant deposits held from it.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The registry of data DAOs: whether a DAO exists, is active, and its fee split.
		type Daos: DaoRegistry<BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The dataset-token ledger the holders' share of every fee is paid through.
		type Tokens: TokenHolders<Self::AccountId, BalanceOf<Self>>;

		/// Derives each DAO's treasury account.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Blocks in a day: what one day of an offer buys.
		#[pallet::constant]
		type BlocksPerDay: Get<BlockNumberFor<Self>>;

		/// Native tokens held from a grantee for as long as their grant's record is on chain
		/// (live or expired but not pruned).
		#[pallet::constant]
		type GrantDeposit: Get<BalanceOf<Self>>;

		/// Paid out of an expired grant's deposit to whoever prunes it (nothing when the
		/// grantee prunes their own). At most `GrantDeposit`.
		#[pallet::constant]
		type PruneReward: Get<BalanceOf<Self>>;

		/// The longest one grant or purchase may add to a grant: a new grant runs at most
		/// this long from now. Keeps expiry blocks far from overflowing; an offer whose
		/// longest purchase is longer is refused.
		#[pallet::constant]
		type MaxGrantDuration: Get<BlockNumberFor<Self>>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;

		/// Creates DAOs and token holders for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for a grant's record, held while the record is on chain.
		GrantDeposit,
	}

	/// The id the next grant gets.
	#[pallet::storage]
	pub type NextGrantId<T> = StorageValue<_, GrantId, ValueQuery>;

	/// Every grant on chain, live or expired, by id.
	/// Twox64Concat is safe: ids are sequential, not chosen by users.
	#[pallet::storage]
	pub type Grants<T: Config> = StorageMap<_, Twox64Concat, GrantId, Grant<T>>;

	/// The grant of each (DAO, grantee): at most one record per pair.
	/// Twox64Concat is safe for the DAO id: DAO ids are sequential, not chosen by users.
	#[pallet::storage]
	pub type GrantOf<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DaoId, Blake2_128Concat, T::AccountId, GrantId>;

	/// Each DAO's standing offers, by kind of scope ([`Scope::kind`]): at most three.
	/// Twox64Concat is safe: DAO ids are sequential and kinds are the pallet's own 0 to 2.
	#[pallet::storage]
	pub type Offers<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DaoId, Twox64Concat, u8, OfferOf<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A grant began: bought at an offer or granted by a passed proposal. `fee` is what
		/// was paid for it.
		Granted {
			grant_id: GrantId,
			dao_id: DaoId,
			grantee: T::AccountId,
			scope: Scope,
			expires: BlockNumberFor<T>,
			fee: BalanceOf<T>,
		},
		/// A live grant was extended by another purchase or passed grant of the same scope.
		Extended { grant_id: GrantId, expires: BlockNumberFor<T>, fee: BalanceOf<T> },
		/// A grant was ended by a passed proposal; its deposit went back to the grantee.
		Revoked { grant_id: GrantId, dao_id: DaoId },
		/// An expired grant was removed, by `by` (who was paid `reward` from its deposit), or
		/// replaced by a new grant to the same account (`by` the grantee, no reward).
		Pruned { grant_id: GrantId, by: T::AccountId, reward: BalanceOf<T> },
		/// A DAO's offer of this kind of scope was set (replacing any earlier one).
		OfferSet { dao_id: DaoId, offer: OfferOf<T> },
		/// A DAO's offer was withdrawn.
		OfferRemoved { dao_id: DaoId, scope: Scope },
		/// A fee was paid: `to_holders` to the DAO's token holders, `to_treasury` to its
		/// treasury.
		FeePaid {
			dao_id: DaoId,
			payer: T::AccountId,
			to_holders: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
		},
		/// A DAO's treasury paid `amount` to `to`.
		TreasurySpent { dao_id: DaoId, to: T::AccountId, amount: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No DAO has this id.
		UnknownDao,
		/// The DAO is retired: it sells and grants no access any more.
		DaoRetired,
		/// The DAO has no offer of exactly this scope.
		NoOffer,
		/// Buy at least one day and at most the offer's `max_days`.
		InvalidDays,
		/// A grant must last at least one block and at most `MaxGrantDuration`.
		InvalidDuration,
		/// An offer needs a price per day above zero, `max_days` above zero, and its longest
		/// purchase must fit in `MaxGrantDuration` at a price that does not overflow.
		InvalidOffer,
		/// A price, an expiry or a total would overflow.
		Overflow,
		/// The account holds a live grant of another scope of this DAO: wait until it
		/// expires, or buy that scope.
		OtherScopeLive,
		/// The grantee cannot pay the grant deposit.
		CannotPayDeposit,
		/// The payer cannot pay the fee (with the treasury's or the reward pot's existential
		/// deposit on the first fee).
		CannotPayFee,
		/// No grant has this id (it never existed, was revoked or was pruned).
		UnknownGrant,
		/// The grant has not expired yet.
		GrantLive,
		/// The grant belongs to another DAO.
		WrongDao,
		/// The treasury cannot pay this: it holds less beyond its existential deposit, or the
		/// payment would leave the recipient below the existential deposit.
		InsufficientTreasury,
		/// Zero is not an amount.
		ZeroAmount,
		/// Every grant id is taken.
		NoMoreGrantIds,
		/// The offer's price for these days is above the buyer's `max_price`.
		PriceAboveLimit,
		/// An aggregate scope's minimum group size must be at least one.
		InvalidScope,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::PruneReward::get() <= T::GrantDeposit::get(),
				"PruneReward must be paid out of GrantDeposit"
			);
			assert!(!T::BlocksPerDay::get().is_zero(), "BlocksPerDay must be above zero");
			assert!(
				T::MaxGrantDuration::get() >= T::BlocksPerDay::get(),
				"MaxGrantDuration must allow a day"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Buys `days` days of `scope` of DAO `dao_id`'s data at its standing offer, paying
		/// the price at once (split between the DAO's token holders and its treasury), if
		/// that price is at most `max_price` (an offer changed by a vote closed just before
		/// cannot charge more than the buyer agreed to). Holds the grant deposit for a new
		/// grant; extends a live grant of the same scope; replaces an expired one.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::buy(BENCHMARKED_HOLDERS))]
		pub fn buy(
			origin: OriginFor<T>,
			dao_id: DaoId,
			scope: Scope,
			days: u32,
			max_price: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_buy(who, dao_id, scope, days, max_price).map(|_| ())
		}

		/// Removes expired grant `grant_id`. The caller is paid `PruneReward` from its
		/// deposit and the rest goes back to the grantee (all of it, if the caller is the
		/// grantee).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::prune())]
		pub fn prune(origin: OriginFor<T>, grant_id: GrantId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_prune(who, grant_id)
		}
	}

	/// The native balance type.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
}
