//! A runtime with System, Balances, the real DataDaos and DatasetTokens pallets and this one,
//! for the unit tests.
//!
//! Accounts are `u64` here, so an account derived from a pallet id and a DAO id is cut to
//! its first eight bytes: in this mock every DAO shares one treasury (and one reward pot).
//! Tests that move money use one DAO. The runtime's 32-byte accounts keep them apart.

use datacoop_primitives::dao::{Collective, DaoId, DaoRules, TokenInfo};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64},
	PalletId,
};
use sp_core::H256;
use sp_runtime::{BuildStorage, Permill};

use crate as pallet_access_grants;

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type BlockNumber = u64;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeHoldReason,
		RuntimeFreezeReason,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type DataDaos = pallet_data_daos;
	#[runtime::pallet_index(3)]
	pub type DatasetTokens = pallet_dataset_tokens;
	#[runtime::pallet_index(4)]
	pub type AccessGrants = pallet_access_grants;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ConstU128<ED>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl pallet_data_daos::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ForceOrigin = frame_system::EnsureRoot<u64>;
	type DaoDepositBase = ConstU128<1_000>;
	type DepositPerByte = ConstU128<1>;
	type MaxNameLen = ConstU32<64>;
	type MaxUriLen = ConstU32<128>;
	type MaxSymbolLen = ConstU32<12>;
	type MaxContributionSize = ConstU64<{ 1 << 30 }>;
	type MinContributionDeposit = ConstU128<10>;
	type MinVotingPeriod = ConstU64<10>;
	type MaxVotingPeriod = ConstU64<100_000>;
	type WeightInfo = ();
}

parameter_types! {
	pub const TokensPalletId: PalletId = PalletId(*b"dc/tokns");
	pub const GrantsPalletId: PalletId = PalletId(*b"dc/grant");
	/// `GrantDeposit`, which a test may change (as a runtime upgrade would) to see that
	/// grants made before keep the deposit they were made with.
	pub static GrantDepositNow: Balance = GRANT_DEPOSIT;
}

impl pallet_dataset_tokens::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type PalletId = TokensPalletId;
	type MinHolding = ConstU128<5>;
	type WeightInfo = ();
}

impl pallet_access_grants::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Daos = DataDaos;
	type Tokens = DatasetTokens;
	type PalletId = GrantsPalletId;
	type BlocksPerDay = ConstU64<BLOCKS_PER_DAY>;
	type GrantDeposit = GrantDepositNow;
	type PruneReward = ConstU128<PRUNE_REWARD>;
	type MaxGrantDuration = ConstU64<MAX_GRANT_DURATION>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockHelper;
}

/// The native existential deposit.
pub const ED: Balance = 10;
pub const BLOCKS_PER_DAY: BlockNumber = 10;
/// A hundred days.
pub const MAX_GRANT_DURATION: BlockNumber = 1_000;
pub const GRANT_DEPOSIT: Balance = 100;
pub const PRUNE_REWARD: Balance = 10;

/// Administers the test DAO.
pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
/// Buys access.
pub const CONSUMER: u64 = 3;
/// Prunes expired grants.
pub const DAVE: u64 = 4;
/// Can pay a grant deposit but not a price.
pub const POOR: u64 = 5;
/// Cannot pay a grant deposit.
pub const BROKE: u64 = 6;

pub const CONSUMER_FUNDS: Balance = 1_000_000;
pub const DAVE_FUNDS: Balance = 1_000;

/// The test DAOs' rules: 80% of every fee to the token holders.
pub fn rules() -> DaoRules<Balance, BlockNumber> {
	DaoRules {
		min_contribution_size: 10,
		max_contribution_size: 1_000_000,
		reward_at_full_score: 1_000,
		min_score: Permill::from_percent(50),
		contribution_deposit: 100,
		voting_period: 10,
		quorum: Permill::from_percent(20),
		approval_threshold: Permill::from_percent(50),
		holders_share: Permill::from_percent(80),
	}
}

/// Creates a DAO administered by `admin`, with collective keys of its own.
pub fn create_dao(admin: u64) -> DaoId {
	let seed = pallet_data_daos::NextDaoId::<Test>::get() as u8 + 1;
	pallet_data_daos::Pallet::<Test>::do_create(
		admin,
		b"Reddit comments".to_vec(),
		b"ipfs://schema".to_vec(),
		TokenInfo { name: b"Reddit Comments".to_vec(), symbol: b"RDC".to_vec() },
		Collective {
			encryption_key: [seed; 32],
			attestation_signer: [seed; 32],
			endpoint: b"http://collective.example".to_vec(),
			measurement: H256::repeat_byte(seed),
		},
		rules(),
	)
	.expect("a valid DAO")
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<Test> for MockHelper {
	fn create_dao(admin: &u64) -> DaoId {
		create_dao(*admin)
	}

	fn mint(dao_id: DaoId, who: &u64, amount: Balance) {
		DatasetTokens::mint(dao_id, who, amount).expect("mint works");
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(ALICE, 1_000_000),
			(BOB, 1_000_000),
			(CONSUMER, CONSUMER_FUNDS),
			(DAVE, DAVE_FUNDS),
			(POOR, 150),
			(BROKE, 50),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs a test, then checks the invariants of this pallet and the two it works with.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		AccessGrants::do_try_state().expect("grant invariants hold after the test");
		DataDaos::do_try_state().expect("DAO invariants hold after the test");
		DatasetTokens::do_try_state().expect("token invariants hold after the test");
	});
}
