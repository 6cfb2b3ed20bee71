//! A runtime with System, Balances, the real DataDaos, DatasetTokens and AccessGrants pallets
//! and this one, for the unit tests: a proposal's action runs against the real pallets.

use datacoop_primitives::dao::{Collective, DaoId, DaoRules, TokenInfo};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64},
	PalletId,
};
use sp_core::H256;
use sp_runtime::{BuildStorage, Permill};

use crate as pallet_dao_governance;

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
	#[runtime::pallet_index(5)]
	pub type Governance = pallet_dao_governance;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

parameter_types! {
	pub const ExistentialDeposit: Balance = ED;
	pub const TokensPalletId: PalletId = PalletId(*b"dc/tokns");
	// Not the runtime's `dc/trsry`: accounts here are u64, which keep only `modl` and the first
	// four bytes of a pallet id, and `dc/t` would make the treasury the reward pot.
	pub const TreasuryPalletId: PalletId = PalletId(*b"dc/grant");
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
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
	type PalletId = TreasuryPalletId;
	type BlocksPerDay = ConstU64<DAY>;
	type GrantDeposit = ConstU128<GRANT_DEPOSIT>;
	type PruneReward = ConstU128<5>;
	type MaxGrantDuration = ConstU64<{ 365 * DAY }>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockSetup;
}

impl pallet_dao_governance::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Daos = DataDaos;
	type Admin = DataDaos;
	type Access = AccessGrants;
	type Tokens = DatasetTokens;
	type ProposalDeposit = ConstU128<PROPOSAL_DEPOSIT>;
	type MaxDescriptionLen = ConstU32<64>;
	type MaxEndpointLen = ConstU32<128>;
	type MaxVotes = ConstU32<MAX_VOTES>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockSetup;
}

pub const ED: Balance = 10;
pub const DAY: BlockNumber = 20;
pub const VOTING_PERIOD: BlockNumber = 10;
pub const PROPOSAL_DEPOSIT: Balance = 100;
pub const GRANT_DEPOSIT: Balance = 50;
pub const MAX_VOTES: u32 = 3;

/// The DAO's creator.
pub const ADMIN: u64 = 1;
/// Token holders.
pub const ALICE: u64 = 2;
pub const BOB: u64 = 3;
pub const CHARLIE: u64 = 4;
/// A data consumer.
pub const CONSUMER: u64 = 9;
/// Cannot pay a proposal deposit.
pub const POOR: u64 = 10;

/// The rules the test DAO uses: a 10-block vote, quorum 20%, approval 50%, 80% of every fee
/// to the holders.
pub fn rules() -> DaoRules<Balance, BlockNumber> {
	DaoRules {
		min_contribution_size: 10,
		max_contribution_size: 1_000_000,
		reward_at_full_score: 1_000,
		min_score: Permill::from_percent(50),
		contribution_deposit: 100,
		voting_period: VOTING_PERIOD,
		quorum: Permill::from_percent(20),
		approval_threshold: Permill::from_percent(50),
		holders_share: Permill::from_percent(80),
	}
}

/// A collective whose keys are all `fill`.
pub fn collective(fill: u8) -> Collective<Vec<u8>> {
	Collective {
		encryption_key: [fill; 32],
		attestation_signer: [fill; 32],
		endpoint: b"https://collective.example".to_vec(),
		measurement: H256::repeat_byte(fill),
	}
}

/// Creates a DAO administered by `admin` whose collective keys are all `fill`.
pub fn create_dao(admin: u64, fill: u8) -> DaoId {
	pallet_data_daos::Pallet::<Test>::do_create(
		admin,
		b"Chat exports".to_vec(),
		b"ipfs://terms".to_vec(),
		TokenInfo { name: b"Chat".to_vec(), symbol: b"CHAT".to_vec() },
		collective(fill),
		rules(),
	)
	.expect("a valid DAO")
}

/// Sets up DAOs and holders for the benchmarks' test suite.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockSetup;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<Test> for MockSetup {
	fn create_dao(admin: &u64) -> DaoId {
		use frame_support::traits::fungible::Mutate;
		Balances::set_balance(admin, 1_000_000_000);
		create_dao(*admin, (pallet_data_daos::NextDaoId::<Test>::get() + 1) as u8)
	}

	fn mint(dao_id: DaoId, who: &u64, amount: Balance) {
		DatasetTokens::mint(dao_id, who, amount).expect("minted");
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_access_grants::BenchmarkHelper<Test> for MockSetup {
	fn create_dao(admin: &u64) -> DaoId {
		<Self as crate::BenchmarkHelper<Test>>::create_dao(admin)
	}

	fn mint(dao_id: DaoId, who: &u64, amount: Balance) {
		<Self as crate::BenchmarkHelper<Test>>::mint(dao_id, who, amount)
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(ADMIN, 1_000_000),
			(ALICE, 1_000),
			(BOB, 1_000),
			(CHARLIE, 1_000),
			(CONSUMER, 1_000_000),
			(POOR, 50),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs a test, then checks the invariants of this pallet and the three it works with.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Governance::do_try_state().expect("governance invariants hold after the test");
		AccessGrants::do_try_state().expect("grant invariants hold after the test");
		DataDaos::do_try_state().expect("DAO invariants hold after the test");
		DatasetTokens::do_try_state().expect("token invariants hold after the test");
	});
}

/// Moves to block `n`.
pub fn run_to(n: BlockNumber) {
	System::set_block_number(n);
}
