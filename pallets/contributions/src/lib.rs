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
//! A contribution no server has judged can be cancelled by its contributor once
//! `PendingTimeout` blocks have passed since it was submitted: the deposit comes back and the
//! ciphertext hash may be submitted again.
//!
//! The deposit covers the work a pending contribution causes (storage lookups, a collective's
//! validation). The record that stays after judgement (at most 541 bytes, its `MaxEncodedLen`
//! as the benchmarks report it, plus at most 200 bytes of index entries: ByCiphertext 68,
//! ByContributor 64, Fingerprints 68) is paid for by the submit
//! transaction's fee.
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
//! - [`Pallet::cancel`]: the contributor withdraws a contribution still Pending after
//!   `PendingTimeout`.

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
	use sp_runtime::Permill;

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
	}

	/// The id the next contribution gets.
	#[pallet::storage]
	pub type NextContributionId<T> = StorageValue<_, ContributionId, ValueQuery>;

	/// Every contribution by id. Twox64Concat is safe: ids are sequential, not chosen by users.
	#[pallet::storage]
	pub type Contributions<T: Config> =
		StorageMap<_, Twox64Concat, ContributionId, ContributionOf<T>>;

	/// Contributions still waiting for an attestation: the queue collective relays read.
	/// Not counted on chain: a counter would cost every submit a read and a write.
	#[pallet::storage]
	pub type Pending<T: Config> = StorageMap<_, Twox64Concat, ContributionId, ()>;

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
		/// A pending contribution was withdrawn by its contributor; its deposit is back.
		Cancelled { contribution_id: ContributionId, dao_id: DaoId, contributor: T::AccountId },
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
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxUrlLen::get() >= 16, "MaxUrlLen must allow a URL");
			assert!(!T::PendingTimeout::get().is_zero(), "PendingTimeout must give servers time");
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

		/// Withdraws the caller's contribution `contribution_id`, still Pending
		/// `PendingTimeout` blocks after submission, and releases its deposit.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::cancel())]
		pub fn cancel(origin: OriginFor<T>, contribution_id: ContributionId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_cancel(who, contribution_id)
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
