//! Governance of data DAOs and access to their data.

use frame_support::{parameter_types, traits::ConstU32, PalletId};

use crate::{
	AccessGrants, Balance, Balances, BlockNumber, DataDaos, DatasetTokens, Runtime, RuntimeEvent,
	RuntimeHoldReason, DAYS, MILLI_UNIT, UNIT,
};

parameter_types! {
	/// A proposal holds 10 COOP from its proposer until it is closed: its record is at most
	/// about 700 bytes, which at the DAO record's 0.01 COOP a byte is 7 COOP.
	pub const ProposalDeposit: Balance = 10 * UNIT;
	/// Derives each DAO's treasury account.
	pub const TreasuryPalletId: PalletId = PalletId(*b"dc/trsry");
	/// A grant's record (about 130 bytes with its index) holds 2 COOP from its grantee until
	/// it is revoked or pruned...
	pub const GrantDeposit: Balance = 2 * UNIT;
	/// ...of which whoever prunes it after its expiry gets a tenth: enough to pay the
	/// transaction, so expired grants do not linger.
	pub const PruneReward: Balance = 200 * MILLI_UNIT;
	/// No grant runs longer than ten years from now.
	pub const MaxGrantDuration: BlockNumber = 3_650 * DAYS;
	pub const BlocksPerDay: BlockNumber = DAYS;
}

impl pallet_access_grants::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Daos = DataDaos;
	type Tokens = DatasetTokens;
	type PalletId = TreasuryPalletId;
	type BlocksPerDay = BlocksPerDay;
	type GrantDeposit = GrantDeposit;
	type PruneReward = PruneReward;
	type MaxGrantDuration = MaxGrantDuration;
	type WeightInfo = pallet_access_grants::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helper::Holders;
}

impl pallet_dao_governance::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Daos = DataDaos;
	type Admin = DataDaos;
	type Access = AccessGrants;
	type Tokens = DatasetTokens;
	type ProposalDeposit = ProposalDeposit;
	type MaxDescriptionLen = ConstU32<256>;
	/// The DAO registry's `MaxUriLen`.
	type MaxEndpointLen = ConstU32<256>;
	/// A holder may vote in 16 running proposals of a DAO at once.
	type MaxVotes = ConstU32<16>;
	type WeightInfo = pallet_dao_governance::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helper::Holders;
}

#[cfg(feature = "runtime-benchmarks")]
mod benchmark_helper {
	use datacoop_primitives::dao::DaoId;
	use frame_support::traits::fungible::Mutate;

	use crate::{AccountId, Balance, Balances, DatasetTokens, Runtime, UNIT};

	/// Creates DAOs and mints their tokens for the governance and grant benchmarks.
	pub struct Holders;

	impl Holders {
		fn dao(admin: &AccountId) -> DaoId {
			use crate::configs::daos::DaoFactory;
			use pallet_contributions::BenchmarkHelper;
			Balances::set_balance(admin, 1_000_000 * UNIT);
			// A key set no other DAO has: derived from the next DAO id.
			let next = pallet_data_daos::NextDaoId::<Runtime>::get();
			let signer = <sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(
				&next.to_le_bytes(),
			)
			.0;
			DaoFactory::create_dao(admin.clone(), signer, sp_core::H256::repeat_byte(1))
		}
	}

	impl pallet_dao_governance::BenchmarkHelper<Runtime> for Holders {
		fn create_dao(admin: &AccountId) -> DaoId {
			Self::dao(admin)
		}

		fn mint(dao_id: DaoId, who: &AccountId, amount: Balance) {
			DatasetTokens::mint(dao_id, who, amount).expect("minting works");
		}
	}

	impl pallet_access_grants::BenchmarkHelper<Runtime> for Holders {
		fn create_dao(admin: &AccountId) -> DaoId {
			Self::dao(admin)
		}

		fn mint(dao_id: DaoId, who: &AccountId, amount: Balance) {
			DatasetTokens::mint(dao_id, who, amount).expect("minting works");
		}
	}
}
