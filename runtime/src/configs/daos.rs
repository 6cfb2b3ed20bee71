//! The data DAO pallets.

use frame_support::{parameter_types, traits::ConstU32, PalletId};
use frame_system::EnsureRoot;
use sp_runtime::{transaction_validity::TransactionPriority, Permill};

use crate::{
	AccountId, Balance, Balances, BlockNumber, DataDaos, DatasetTokens, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeHoldReason, DAYS, HOURS, MICRO_UNIT, MILLI_UNIT, MINUTES, UNIT,
};

parameter_types! {
	/// A DAO's record costs 10 COOP plus 0.01 COOP per byte (about 14 COOP for a typical one).
	pub const DaoDepositBase: Balance = 10 * UNIT;
	pub const DaoDepositPerByte: Balance = 10 * MILLI_UNIT;
	/// 16 GiB: the largest contribution any DAO may accept.
	pub const MaxContributionSize: u64 = 16 << 30;
	/// A contribution costs its contributor at least 1 COOP of deposit while it waits to be
	/// judged, whatever its DAO asks: a flood of junk costs its sender.
	pub const MinContributionDeposit: Balance = UNIT;
	/// Votes stay open for at least ten minutes.
	pub const MinVotingPeriod: BlockNumber = 10 * MINUTES;
	/// And for at most thirty days: how long a vote may freeze its tokens.
	pub const MaxVotingPeriod: BlockNumber = 30 * DAYS;
}

impl pallet_data_daos::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// Root may act as any DAO's admin (to fix a lost admin key, say).
	type ForceOrigin = EnsureRoot<AccountId>;
	type DaoDepositBase = DaoDepositBase;
	type DepositPerByte = DaoDepositPerByte;
	type MaxNameLen = ConstU32<64>;
	type MaxUriLen = ConstU32<256>;
	type MaxSymbolLen = ConstU32<12>;
	type MaxContributionSize = MaxContributionSize;
	type MinContributionDeposit = MinContributionDeposit;
	type MinVotingPeriod = MinVotingPeriod;
	type MaxVotingPeriod = MaxVotingPeriod;
	type WeightInfo = pallet_data_daos::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Derives each DAO's reward pot account.
	pub const DatasetTokensPalletId: PalletId = PalletId(*b"dc/tokns");
	/// A holder keeps at least a millionth of a dataset token (12 decimals) or none.
	pub const MinHolding: Balance = MICRO_UNIT;
}

impl pallet_dataset_tokens::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type PalletId = DatasetTokensPalletId;
	type MinHolding = MinHolding;
	type WeightInfo = pallet_dataset_tokens::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A contributor may ask to withdraw a contribution no collective judged after an hour...
	pub const PendingTimeout: BlockNumber = HOURS;
	/// ...and withdraw it ten minutes later (100 blocks: more than three times the off-chain
	/// workers' longest backoff of 32 blocks), if no attestation judged it meanwhile.
	pub const CancelDelay: BlockNumber = 10 * MINUTES;
	/// A contribution's record (at most 557 bytes) and index entries (at most 200) pay what
	/// the same bytes cost in a DAO record: 0.01 COOP per byte, 7.57 COOP, held while the
	/// record stays.
	pub const ContributionRecordDeposit: Balance = 757 * 10 * MILLI_UNIT;
	/// A tenth of the deposit of an invalid contribution is burned.
	pub const InvalidSlash: Permill = Permill::from_percent(10);
	/// Attestations go before ordinary transactions: they free deposits and pay contributors.
	pub const AttestationPriority: TransactionPriority = TransactionPriority::MAX / 2;
}

impl pallet_contributions::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Daos = DataDaos;
	type Tokens = DatasetTokens;
	type MaxUrlLen = ConstU32<256>;
	type PendingTimeout = PendingTimeout;
	type CancelDelay = CancelDelay;
	type RecordDeposit = ContributionRecordDeposit;
	type InvalidSlash = InvalidSlash;
	type AttestationPriority = AttestationPriority;
	// Each request is a storage HEAD and a validation, concurrent within a block; four per
	// six-second block is 40 a minute per validator, and every validator relays.
	type OffchainRequestsPerBlock = ConstU32<4>;
	type WeightInfo = pallet_contributions::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helper::DaoFactory;
}

/// The off-chain worker's transactions: bare (unsigned) `attest` calls.
impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = crate::UncheckedExtrinsic;
}

impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> crate::UncheckedExtrinsic {
		crate::UncheckedExtrinsic::new_bare(call)
	}
}

#[cfg(feature = "runtime-benchmarks")]
pub(crate) use benchmark_helper::DaoFactory;

#[cfg(feature = "runtime-benchmarks")]
mod benchmark_helper {
	use datacoop_primitives::dao::{Collective, DaoId, DaoRules, TokenInfo};
	use frame_support::traits::fungible::Mutate;
	use sp_core::H256;
	use sp_runtime::Permill;

	use crate::{AccountId, Balances, Runtime, MINUTES, UNIT};

	/// Creates the DAOs the contributions benchmarks submit to.
	pub struct DaoFactory;

	impl pallet_contributions::BenchmarkHelper<AccountId> for DaoFactory {
		fn create_dao(admin: AccountId, signer: [u8; 32], measurement: H256) -> DaoId {
			Balances::set_balance(&admin, 1_000_000 * UNIT);
			pallet_data_daos::Pallet::<Runtime>::do_create(
				admin,
				b"Benchmark DAO".to_vec(),
				b"ipfs://benchmark".to_vec(),
				TokenInfo { name: b"Benchmark".to_vec(), symbol: b"BENCH".to_vec() },
				Collective {
					encryption_key:
						<sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&signer)
							.0,
					attestation_signer: signer,
					endpoint: b"https://collective.example".to_vec(),
					measurement,
				},
				DaoRules {
					min_contribution_size: 1,
					max_contribution_size: 1 << 30,
					reward_at_full_score: 100 * UNIT,
					min_score: Permill::from_percent(50),
					contribution_deposit: UNIT,
					voting_period: 10 * MINUTES,
					quorum: Permill::from_percent(20),
					approval_threshold: Permill::from_percent(50),
					holders_share: Permill::from_percent(80),
				},
			)
			.expect("a valid DAO")
		}
	}
}
