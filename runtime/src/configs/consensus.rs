//! Block production (Aura over timestamp slots) and finality (GRANDPA).

use frame_support::traits::{ConstBool, ConstU32, ConstU64};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;

use crate::{Aura, Runtime, RuntimeEvent, SLOT_DURATION};

/// At most this many validators author and finalize blocks.
type MaxAuthorities = ConstU32<32>;

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Aura;
	/// Aura derives its slot duration as twice this value: six-second slots.
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = MaxAuthorities;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	/// No staking, so no nominators.
	type MaxNominators = ConstU32<0>;
	/// No session pallet, so no key-ownership history to keep: equivocation reports
	/// cannot be proven on chain yet and are not accepted.
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}
