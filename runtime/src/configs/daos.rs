//! The data DAO pallets.

use frame_support::{parameter_types, traits::ConstU32, PalletId};
use frame_system::EnsureRoot;

use crate::{
	AccountId, Balance, Balances, BlockNumber, Runtime, RuntimeEvent, RuntimeHoldReason,
	MICRO_UNIT, MILLI_UNIT, MINUTES, UNIT,
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
