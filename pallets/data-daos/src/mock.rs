//! A runtime with just System, Balances and this pallet, for the unit tests.

use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::BuildStorage;

use crate as pallet_data_daos;

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;

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
	type RuntimeHoldReason = RuntimeHoldReason;
}

parameter_types! {
	pub const DaoDepositBase: Balance = 1_000;
	pub const DepositPerByte: Balance = 10;
	pub const MaxContributionSize: u64 = 1 << 30;
	pub const MinContributionDeposit: Balance = 10;
}

impl pallet_data_daos::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ForceOrigin = frame_system::EnsureRoot<u64>;
	type DaoDepositBase = DaoDepositBase;
	type DepositPerByte = DepositPerByte;
	type MaxNameLen = ConstU32<64>;
	type MaxUriLen = ConstU32<128>;
	type MaxSymbolLen = ConstU32<12>;
	type MaxContributionSize = MaxContributionSize;
	type MinContributionDeposit = MinContributionDeposit;
	type MinVotingPeriod = frame_support::traits::ConstU64<10>;
	type MaxVotingPeriod = frame_support::traits::ConstU64<100_000>;
	type WeightInfo = ();
}

pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
/// Has too little to pay a DAO deposit.
pub const POOR: u64 = 3;

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, 1_000_000), (BOB, 1_000_000), (POOR, 500)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	// The benchmarks sign key proofs with keys from the keystore, as the node's benchmark
	// command allows.
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs a test, then checks the pallet's invariants on the state it left.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		DataDaos::do_try_state().expect("invariants hold after the test");
	});
}
