//! The data DAO pallets.

use frame_support::{parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;

use crate::{
	AccountId, Balance, Balances, BlockNumber, Runtime, RuntimeEvent, RuntimeHoldReason, MILLI_UNIT,
	MINUTES, UNIT,
};

parameter_types! {
	/// A DAO's record costs 10 COOP plus 0.01 COOP per byte (about 14 COOP for a typical one).
	pub const DaoDepositBase: Balance = 10 * UNIT;
	pub const DaoDepositPerByte: Balance = 10 * MILLI_UNIT;
	/// 16 GiB: the largest contribution any DAO may accept.
	pub const MaxContributionSize: u64 = 16 << 30;
	/// Votes stay open for at least ten minutes.
	pub const MinVotingPeriod: BlockNumber = 10 * MINUTES;
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
	type MinVotingPeriod = MinVotingPeriod;
	type WeightInfo = pallet_data_daos::weights::SubstrateWeight<Runtime>;
}
