//! # Contributions Pallet
//!
//! ## Overview
//!
//! Contributions to data DAOs and their proof of contribution. A contributor encrypts a file
//! to the DAO's collective server, uploads the ciphertext, and submits a contribution naming
//! where it is (`url`), what it is (`ciphertext_hash`, BLAKE2-256) and how big it is. A deposit
//! is held while it is Pending. The DAO's collective server fetches, decrypts and judges it,
//! and signs an [`Attestation`]; anyone (an off-chain worker, the wallet) brings that on chain
//! with [`Pallet::attest`], an unsigned call checked in the transaction pool.
//!
//! An attestation is accepted only if it is signed by the DAO's registered attestation key,
//! names the DAO's registered measurement, matches the contribution's ciphertext hash, has not
//! expired, the contribution is still Pending, and (for a valid verdict) its fingerprint is new
//! in the DAO. Then:
//! - valid, overall score at or above the DAO's minimum: **Accepted**. The scores are stored,
//!   the deposit is released, and `reward_at_full_score × overall` dataset tokens are minted to
//!   the contributor. The fingerprint is recorded so the same data cannot earn twice.
//! - valid but scored below the minimum: **Rejected**, deposit released in full (honest data
//!   the DAO does not value enough is not punished).
//! - invalid: **Rejected** with the server's reason; `InvalidSlash` of the deposit is burned and
//!   the rest released. Without it, sending junk to a collective would cost nothing but fees.
//!
//! A validator's off-chain worker does the relaying (see [`offchain`]): each block it checks
//! that a few Pending contributions' blobs are in storage, asks their DAOs' collective servers
//! to validate them, and submits the attestations, retrying failures with backoff.
//!
//! A contribution no server has judged can be cancelled by its contributor in two steps:
//! [`Pallet::cancel`] once `PendingTimeout` blocks have passed since it was submitted, then
//! [`Pallet::withdraw`] `CancelDelay` blocks later; the deposits come back and the ciphertext
//! hash may be submitted again. An attestation that lands in between still judges it, so a
//! contributor who asked the collective server for the verdict (anyone may) and saw
//! "invalid" cannot cancel before the verdict and its slash land.
//!
//! Two deposits: the DAO's contribution deposit (at least the chain's
//! `MinContributionDeposit`) covers the work a pending contribution causes (storage lookups,
//! a collective's validation) and is released, less any slash, at judgement; the record
//! deposit (`RecordDeposit`) pays for the record that stays after judgement (at most 557
//! bytes, its `MaxEncodedLen`, plus at most 200 bytes of index entries: ByCiphertext 68,
//! ByContributor 64, Fingerprints 68) at the rate DAO records pay per byte, and is held for
//! as long as the record stays. A rejected record may be removed by its contributor
//! ([`Pallet::remove`]), which releases it; accepted records stay, their fingerprints keeping
//! the same data from earning twice.
//!
//! The off-chain workers take the Pending queue one DAO at a time ([`PendingDaos`]), so a
//! flood of contributions to one DAO delays another DAO's by at most a turn.
//!
//! Why `ValidateUnsigned` and not `#[pallet::authorize]`: an authorized call must arrive as a
//! v5 "general" transaction, which neither polkadot.js nor subxt can build without a signing
//! extension yet, and `attest` must be relayable by any client. `ValidateUnsigned` is
//! deprecated in polkadot-sdk (removal after April 2027); moving is one attribute and one
//! runtime extension once clients follow.
//!
//! ## Interface
//!
//! - [`Pallet::submit`]: a contributor submits a contribution; the DAO's deposit is held.
//! - [`Pallet::attest`]: unsigned; brings a collective server's signed attestation on chain.
//! - [`Pallet::cancel`]: the contributor asks to cancel a contribution still Pending after
//!   `PendingTimeout`; [`Pallet::withdraw`] takes it back `CancelDelay` blocks later.
//! - [`Pallet::remove`]: the contributor removes a rejected record and its record deposit
//!   comes back.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod functions;
#[cfg(test)]
mod mock;
pub mod offchain;
#[cfg(test)]
mod offchain_tests;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use datacoop_primitives::{
		contribution::{Attestation, ContributionId, Reason, Scores},
		dao::DaoId,
		traits::{DaoRegistry, DatasetTokens},
	};
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::{sr25519, H256};
	use sp_runtime::{Permill, SaturatedConversion};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		frame_system::Config + frame_system::offchain::CreateBare<Call<Self>>
	{
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The native currency, from which contribution deposits are held.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The registry of data DAOs.
		type Daos: DaoRegistry<BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The dataset-token ledger accepted contributions are paid from.
		type Tokens: DatasetTokens<Self::AccountId, BalanceOf<Self>>;

		/// Longest storage URL of a contribution, in bytes.
		#[pallet::constant]
		type MaxUrlLen: Get<u32>;

		/// Blocks after submission from which a contributor may cancel a contribution still
		/// Pending.
		#[pallet::constant]
		type PendingTimeout: Get<BlockNumberFor<Self>>;

		/// Blocks between a contributor's request to cancel a Pending contribution and the
		/// withdrawal of its deposit. An attestation that comes in the meantime still judges
		/// it: a contributor who learnt an Invalid verdict (`/v1/validate` answers anyone)
		/// cannot cancel before the verdict lands. Longer than the off-chain workers' longest
		/// backoff, so every validator asks at least once.
		#[pallet::constant]
		type CancelDelay: Get<BlockNumberFor<Self>>;

		/// Deposit held for as long as a contribution's record stays on chain, on top of the
		/// DAO's contribution deposit (which covers the work of judging it): the price of
		/// the record's bytes and its index entries, at the rate DAO records pay. Released
		/// when the record goes (cancelled, or a rejected record removed by its contributor).
		#[pallet::constant]
		type RecordDeposit: Get<BalanceOf<Self>>;

		/// Share of the deposit burned when the collective server finds a contribution invalid.
		#[pallet::constant]
		type InvalidSlash: Get<Permill>;

		/// Priority of `attest` in the transaction pool.
		#[pallet::constant]
		type AttestationPriority: Get<TransactionPriority>;

		/// Contributions a validator's off-chain worker asks collective servers about per
		/// block, at most (see [`offchain`]).
		#[pallet::constant]
		type OffchainRequestsPerBlock: Get<u32>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;

		/// Creates DAOs for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for a pending contribution.
		ContributionDeposit,
		/// The deposit for a contribution's record, held while the record is on chain.
		ContributionRecord,
	}

	/// The id the next contribution gets.
	#[pallet::storage]
	pub type NextContributionId<T> = StorageValue<_, ContributionId, ValueQuery>;

	/// Every contribution by id. Twox64Concat is safe: ids are sequential, not chosen by users.
	#[pallet::storage]
	pub type Contributions<T: Config> =
		StorageMap<_, Twox64Concat, ContributionId, ContributionOf<T>>;

	/// Contributions still waiting for an attestation, by DAO: the queues the off-chain
	/// workers walk, one DAO after another, so that one DAO's flood does not starve another's
	/// contributions. Twox64Concat is safe: DAO and contribution ids are sequential.
	#[pallet::storage]
	pub type Pending<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DaoId, Twox64Concat, ContributionId, ()>;

	/// How many contributions each DAO has Pending; only DAOs with some are listed. The
	/// off-chain workers take turns over these DAOs.
	#[pallet::storage]
	pub type PendingDaos<T: Config> = StorageMap<_, Twox64Concat, DaoId, u32>;

	/// Pending contributions whose contributor asked to cancel them, and the first block
	/// their deposit may be withdrawn in (see `CancelDelay`).
	#[pallet::storage]
	pub type CancelRequests<T: Config> =
		StorageMap<_, Twox64Concat, ContributionId, BlockNumberFor<T>>;

	/// Each DAO's contributions by ciphertext hash: one submission per ciphertext.
	#[pallet::storage]
	pub type ByCiphertext<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DaoId, Blake2_128Concat, H256, ContributionId>;

	/// Each DAO's accepted contributions by plaintext fingerprint: the same data earns once.
	#[pallet::storage]
	pub type Fingerprints<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DaoId, Blake2_128Concat, H256, ContributionId>;

	/// Each contributor's contributions, for wallets to list.
	#[pallet::storage]
	pub type ByContributor<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, ContributionId, ()>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A contribution was submitted and waits for its DAO's collective server.
		Submitted {
			contribution_id: ContributionId,
			dao_id: DaoId,
			contributor: T::AccountId,
			ciphertext_hash: H256,
			ciphertext_size: u64,
			deposit: BalanceOf<T>,
		},
		/// A contribution was accepted: its deposit is back and tokens were minted.
		Accepted {
			contribution_id: ContributionId,
			dao_id: DaoId,
			contributor: T::AccountId,
			scores: Scores,
			reward: BalanceOf<T>,
		},
		/// A contribution was rejected; `slashed` of its deposit was burned.
		Rejected {
			contribution_id: ContributionId,
			dao_id: DaoId,
			contributor: T::AccountId,
			reason: Reason,
			slashed: BalanceOf<T>,
		},
		/// A pending contribution was withdrawn by its contributor; its deposits are back.
		Cancelled { contribution_id: ContributionId, dao_id: DaoId, contributor: T::AccountId },
		/// The contributor asked to cancel a pending contribution; it may be withdrawn from
		/// block `withdraw_from` unless an attestation judges it first.
		CancelRequested {
			contribution_id: ContributionId,
			dao_id: DaoId,
			contributor: T::AccountId,
			withdraw_from: BlockNumberFor<T>,
		},
		/// A rejected contribution's record was removed by its contributor; its record
		/// deposit is back.
		Removed { contribution_id: ContributionId, dao_id: DaoId, contributor: T::AccountId },
	}

	/// The errors of this pallet. The transaction pool reports the attestation errors as
	/// `InvalidTransaction::Custom(index)`, with the index of the variant here.
	#[pallet::error]
	pub enum Error<T> {
		/// No DAO has this id.
		UnknownDao,
		/// The DAO is retired and takes no new contributions.
		DaoRetired,
		/// The URL is empty or not `scheme://...` in printable ASCII.
		InvalidUrl,
		/// The URL is longer than `MaxUrlLen`.
		UrlTooLong,
		/// An all-zero hash is not the hash of any ciphertext.
		InvalidCiphertextHash,
		/// The size is below the DAO's smallest accepted contribution (zero always is).
		SizeBelowMinimum,
		/// The size is above the DAO's largest accepted contribution.
		SizeAboveMaximum,
		/// This ciphertext was already submitted to this DAO.
		DuplicateCiphertext,
		/// The contributor cannot pay the DAO's contribution deposit.
		CannotPayDeposit,
		/// Every contribution id is taken.
		NoMoreContributionIds,
		/// No contribution has this id.
		UnknownContribution,
		/// Only the contributor may do this.
		NotContributor,
		/// The contribution is not Pending any more.
		NotPending,
		/// The contribution may be cancelled only `PendingTimeout` blocks after submission.
		TooEarly,
		/// The contribution was already judged: this attestation is a replay or comes too late.
		AlreadyAttested,
		/// The attestation names another DAO than the contribution's.
		WrongDao,
		/// The signature is not by the DAO's registered attestation key over this attestation.
		BadSignature,
		/// The attestation names another measurement than the DAO registered.
		WrongMeasurement,
		/// The attestation's ciphertext hash is not the contribution's.
		CiphertextMismatch,
		/// The attestation's last valid block has passed.
		AttestationExpired,
		/// An accepted contribution of this DAO already has this fingerprint.
		DuplicateFingerprint,
		/// The URL names a local host (loopback, private or link-local address,
		/// `localhost`), which this chain does not allow.
		LocalUrl,
		/// The contributor already asked to cancel this contribution.
		CancelAlreadyRequested,
		/// Nobody asked to cancel this contribution: call `cancel` first.
		CancelNotRequested,
		/// Only a rejected contribution's record may be removed.
		NotRejected,
		/// The contributor cannot pay the record deposit.
		CannotPayRecordDeposit,
		/// The attestation names another contributor than the contribution's.
		WrongContributor,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxUrlLen::get() >= 16, "MaxUrlLen must allow a URL");
			assert!(!T::PendingTimeout::get().is_zero(), "PendingTimeout must give servers time");
			assert!(
				T::CancelDelay::get() > crate::offchain::MAX_BACKOFF.saturated_into(),
				"CancelDelay must outlast the off-chain workers' longest backoff"
			);
		}

		/// Relays attestations from the DAOs' collective servers: see [`offchain`].
		fn offchain_worker(n: BlockNumberFor<T>) {
			Self::relay_attestations(n);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Submits the ciphertext at `url` (BLAKE2-256 `ciphertext_hash`, `size` bytes) to DAO
		/// `dao_id`, holding the DAO's contribution deposit until it is judged or cancelled.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit())]
		pub fn submit(
			origin: OriginFor<T>,
			dao_id: DaoId,
			url: Vec<u8>,
			ciphertext_hash: H256,
			size: u64,
		) -> DispatchResult {
			let contributor = ensure_signed(origin)?;
			Self::do_submit(contributor, dao_id, url, ciphertext_hash, size).map(|_| ())
		}

		/// Brings the DAO collective server's `attestation` of a contribution, with its sr25519
		/// `signature`, on chain. Unsigned: checked in full by `validate_unsigned` before it
		/// enters the pool or a block, and again here.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::attest().saturating_add(T::WeightInfo::validate_attest()))]
		pub fn attest(
			origin: OriginFor<T>,
			attestation: Attestation<BlockNumberFor<T>>,
			signature: sr25519::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			Self::do_attest(attestation, signature)
		}

		/// Asks to cancel the caller's contribution `contribution_id`, still Pending
		/// `PendingTimeout` blocks after submission. Its deposits may be withdrawn
		/// `CancelDelay` blocks later with [`Pallet::withdraw`], unless an attestation judges
		/// it first.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::cancel())]
		pub fn cancel(origin: OriginFor<T>, contribution_id: ContributionId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_cancel(who, contribution_id)
		}

		/// Withdraws the caller's contribution `contribution_id` whose cancellation was asked
		/// `CancelDelay` blocks ago and that is still Pending: its record goes and both
		/// deposits come back, and the same ciphertext may be submitted again.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>, contribution_id: ContributionId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw(who, contribution_id)
		}

		/// Removes the caller's rejected contribution `contribution_id` from the chain and
		/// releases its record deposit. (Accepted records stay: their fingerprints keep the
		/// same data from earning twice.)
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::remove())]
		pub fn remove(origin: OriginFor<T>, contribution_id: ContributionId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove(who, contribution_id)
		}
	}

	#[pallet::validate_unsigned]
	#[allow(deprecated)]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		fn validate_unsigned(_source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let Call::attest { attestation, signature } = call else {
				return InvalidTransaction::Call.into();
			};
			Self::validate_attestation(attestation, signature)
		}
	}

	/// The native balance type.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
}
