//! Chain administration. Sudo is the root key of a young chain; DAO-level permissions are
//! origins of the DAO pallets, never sudo.

use crate::{Runtime, RuntimeCall, RuntimeEvent};

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}
