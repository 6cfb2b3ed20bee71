//! # Data DAOs Pallet
//!
//! ## Overview
//!
//! The registry of data DAOs. A data DAO pools its members' exported data: it names the
//! collective server that holds its decryption key (encryption key, attestation signer,
//! endpoint, measurement), the rules contributions must meet and the rewards they earn, and
//! the dataset token it pays them in. Other pallets read DAOs through
//! its public functions (`Pallet::active_dao`), never through its storage.
//!
//! Creating a DAO holds a deposit from its creator for the state it occupies: a base amount
//! plus an amount per byte of its stored record. The deposit follows the record's size when the
//! collective changes, and stays held for as long as the DAO exists (a retired DAO keeps its
//! data, tokens and rewards).
//!
//! ## Interface
//!
//! - [`Pallet::create`]: anyone; registers a DAO with sequential id and holds the deposit.
//! - [`Pallet::update_collective`], [`Pallet::update_rules`], [`Pallet::retire`]: the DAO's
//!   admin until it hands the DAO over, or `ForceOrigin`.
//! - [`Pallet::hand_over`]: the admin gives up those powers for good; from then on only the
//!   DAO's token holders change it, through proposals in `pallet-dao-governance` (which
//!   reaches this pallet through `DaoAdmin`), and `ForceOrigin` in an emergency. Governance
//!   may act before a hand-over too (and the admin may then change the DAO again).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod functions;
mod impl_dao_registry;
#[cfg(test)]
mod mock;
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
	use datacoop_primitives::dao::{Collective, DaoId, TokenInfo};
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

		/// The native currency, from which DAO deposits are held.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// May act as the admin of any DAO (root, or a chain-wide council later).
		type ForceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Deposit held for any DAO, whatever its size.
		#[pallet::constant]
		type DaoDepositBase: Get<BalanceOf<Self>>;

		/// Deposit held per byte of a DAO's stored record.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// Longest DAO name and token name, in bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest metadata URI and collective endpoint, in bytes.
		#[pallet::constant]
		type MaxUriLen: Get<u32>;

		/// Longest token symbol, in bytes.
		#[pallet::constant]
		type MaxSymbolLen: Get<u32>;

		/// Largest contribution any DAO may accept, in bytes.
		#[pallet::constant]
		type MaxContributionSize: Get<u64>;

		/// Smallest contribution deposit a DAO may ask: what submitting a contribution costs
		/// at least, so that flooding any DAO's queue costs the flooder (a DAO cannot set 0).
		#[pallet::constant]
		type MinContributionDeposit: Get<BalanceOf<Self>>;

		/// Shortest governance voting period a DAO may choose.
		#[pallet::constant]
		type MinVotingPeriod: Get<BlockNumberFor<Self>>;

		/// Longest governance voting period a DAO may choose: a vote freezes its tokens this
		/// long at most, and a proposal's end block never overflows.
		#[pallet::constant]
		type MaxVotingPeriod: Get<BlockNumberFor<Self>>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for a DAO's record.
		DaoDeposit,
	}

	/// The id the next DAO gets.
	#[pallet::storage]
	pub type NextDaoId<T> = StorageValue<_, DaoId, ValueQuery>;

	/// Every DAO by id. Twox64Concat is safe: ids are sequential, not chosen by users.
	#[pallet::storage]
	pub type Daos<T: Config> = StorageMap<_, Twox64Concat, DaoId, DaoOf<T>>;

	/// Which DAO registered each collective attestation signer: one key set serves exactly one
	/// DAO, and only with its signer's consent for that DAO (the key proof), so no DAO can
	/// have another DAO's data judged by copying its keys, nor take keys another DAO proposes.
	#[pallet::storage]
	pub type AttestationSigners<T> = StorageMap<_, Blake2_128Concat, [u8; 32], DaoId>;

	/// DAOs whose admin handed them over to their token holders' governance.
	#[pallet::storage]
	pub type Governed<T> = StorageMap<_, Twox64Concat, DaoId, ()>;

	/// Whether collective endpoints and contribution URLs may name local hosts (loopback,
	/// private and link-local addresses, `localhost`): set in the genesis of development
	/// chains only, whose servers run beside the validator. Elsewhere a URL on chain could
	/// make every validator call its own local services.
	#[pallet::storage]
	pub type AllowLocalUrls<T> = StorageValue<_, bool, ValueQuery>;

	/// A shorter minimum voting period than `MinVotingPeriod`, in blocks: set in the genesis
	/// of the development chain only, so that a governance vote can be tried (and tested
	/// end to end) in seconds rather than ten minutes.
	#[pallet::storage]
	pub type DevMinVotingPeriod<T: Config> = StorageValue<_, BlockNumberFor<T>>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// See [`AllowLocalUrls`].
		pub allow_local_urls: bool,
		/// See [`DevMinVotingPeriod`].
		pub dev_min_voting_period: Option<u32>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			AllowLocalUrls::<T>::put(self.allow_local_urls);
			if let Some(blocks) = self.dev_min_voting_period {
				DevMinVotingPeriod::<T>::put(BlockNumberFor::<T>::from(blocks));
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A DAO was registered.
		Created { dao_id: DaoId, admin: T::AccountId, deposit: BalanceOf<T> },
		/// A DAO's collective server changed (keys, endpoint or measurement).
		CollectiveUpdated { dao_id: DaoId, measurement: sp_core::H256 },
		/// A DAO's rules changed.
		RulesUpdated { dao_id: DaoId },
		/// A DAO's deposit changed with the size of its record.
		DepositUpdated { dao_id: DaoId, old: BalanceOf<T>, new: BalanceOf<T> },
		/// A DAO stopped taking contributions.
		Retired { dao_id: DaoId },
		/// A DAO's admin handed it over: only its governance (or the force origin) changes it.
		HandedOver { dao_id: DaoId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No DAO has this id.
		UnknownDao,
		/// Only the DAO's admin (or the force origin) may do this.
		NotAdmin,
		/// The DAO is retired and cannot change or take contributions.
		DaoRetired,
		/// The name is empty.
		EmptyName,
		/// The DAO or token name is longer than `MaxNameLen`.
		NameTooLong,
		/// The metadata URI is longer than `MaxUriLen`.
		MetadataUriTooLong,
		/// The token symbol is empty, longer than `MaxSymbolLen`, or not ASCII letters/digits.
		InvalidTokenSymbol,
		/// The collective endpoint is not an `http://` or `https://` URL with a host, without
		/// user info, query or fragment.
		InvalidEndpoint,
		/// The collective endpoint is longer than `MaxUriLen`.
		EndpointTooLong,
		/// An all-zero key is not a key.
		InvalidCollectiveKey,
		/// The size range is empty, starts at zero, or is reversed.
		InvalidSizeRange,
		/// The largest accepted size is above `MaxContributionSize`.
		ContributionSizeTooLarge,
		/// A contribution at full score must earn something.
		ZeroReward,
		/// The voting period is shorter than `MinVotingPeriod` (or the development chain's
		/// shorter minimum).
		VotingPeriodTooShort,
		/// The voting period is longer than `MaxVotingPeriod`.
		VotingPeriodTooLong,
		/// Quorum and approval threshold must be above zero.
		InvalidThreshold,
		/// The creator cannot pay the DAO deposit.
		CannotPayDeposit,
		/// Every DAO id is taken.
		NoMoreDaoIds,
		/// Another DAO registered this collective attestation signer: one key set serves
		/// exactly one DAO.
		CollectiveKeyInUse,
		/// The collective endpoint names a local host (loopback, private or link-local
		/// address, `localhost`), which this chain does not allow.
		LocalEndpoint,
		/// The contribution deposit is below the chain's `MinContributionDeposit`.
		ContributionDepositTooLow,
		/// The DAO was handed over to its token holders: propose the change in its governance.
		Governed,
		/// The key proof is not the collective attestation key's signature over
		/// `collective_key_payload` for this chain, this DAO and this encryption key (for
		/// `create`: over `collective_key_create_payload`, which also names the creator, for the
		/// id the DAO gets, the next one).
		BadKeyProof,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxNameLen::get() > 0, "MaxNameLen must allow a name");
			assert!(T::MaxSymbolLen::get() > 0, "MaxSymbolLen must allow a symbol");
			assert!(T::MaxUriLen::get() >= 16, "MaxUriLen must allow a URL");
			assert!(T::MaxContributionSize::get() > 0, "MaxContributionSize must allow data");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a data DAO with the caller as its admin, holding the DAO deposit.
		/// `key_proof`: the collective's consent to serve the DAO the caller creates (its
		/// attestation key's signature over `collective_key_create_payload` for the caller and
		/// the id this DAO gets, `NextDaoId`), of no use to any other creator.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create())]
		pub fn create(
			origin: OriginFor<T>,
			name: Vec<u8>,
			metadata_uri: Vec<u8>,
			token: TokenInfo<Vec<u8>>,
			collective: Collective<Vec<u8>>,
			rules: RulesOf<T>,
			key_proof: [u8; 64],
		) -> DispatchResult {
			let creator = ensure_signed(origin)?;
			let payload = Self::create_key_proof_payload(
				&creator,
				NextDaoId::<T>::get(),
				&collective.encryption_key,
			);
			Self::check_key_proof(&collective, &payload, &key_proof)?;
			Self::do_create(creator, name, metadata_uri, token, collective, rules).map(|_| ())
		}

		/// Replaces the DAO's collective server (keys, endpoint, measurement), adjusting the
		/// deposit to the record's new size.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_collective())]
		pub fn update_collective(
			origin: OriginFor<T>,
			dao_id: DaoId,
			collective: Collective<Vec<u8>>,
			key_proof: [u8; 64],
		) -> DispatchResult {
			let dao = Self::ensure_admin(origin, dao_id)?;
			Self::check_existing_key_proof(dao_id, &collective, &key_proof)?;
			Self::do_update_collective(dao_id, dao, collective)
		}

		/// Replaces the DAO's rules.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::update_rules())]
		pub fn update_rules(
			origin: OriginFor<T>,
			dao_id: DaoId,
			rules: RulesOf<T>,
		) -> DispatchResult {
			let dao = Self::ensure_admin(origin, dao_id)?;
			Self::do_update_rules(dao_id, dao, rules)
		}

		/// Closes the DAO to new contributions. Its data, tokens and rewards stay.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::retire())]
		pub fn retire(origin: OriginFor<T>, dao_id: DaoId) -> DispatchResult {
			let dao = Self::ensure_admin(origin, dao_id)?;
			Self::do_retire(dao_id, dao)
		}

		/// Gives the DAO to its token holders for good: from now on its rules, collective and
		/// retirement change only through its governance (or the force origin). The admin
		/// keeps paying the DAO deposit, which stays held for as long as the DAO exists.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::hand_over())]
		pub fn hand_over(origin: OriginFor<T>, dao_id: DaoId) -> DispatchResult {
			Self::ensure_admin(origin, dao_id)?;
			Self::do_hand_over(dao_id)
		}
	}

	/// The native balance type.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
}
