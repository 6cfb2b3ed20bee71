//! The runtime integration tests' setup: genesis with funded dev accounts, moving between
//! blocks, and the runtime's invariants after each test.

use datacoop_runtime::{AccountId, Balance, BlockNumber, Runtime, System, UNIT};
use sp_keyring::Sr25519Keyring;
use sp_runtime::BuildStorage;

pub fn account(who: Sr25519Keyring) -> AccountId {
	who.to_account_id()
}

/// Builds the genesis state of a test.
pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	/// Alice to Ferdie with 1,000,000 COOP each.
	fn default() -> Self {
		use Sr25519Keyring::*;
		let balances = [Alice, Bob, Charlie, Dave, Eve, Ferdie]
			.into_iter()
			.map(|k| (account(k), 1_000_000 * UNIT))
			.collect();
		Self { balances }
	}
}

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage =
			frame_system::GenesisConfig::<Runtime>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Runtime> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| run_to_block(1));
		ext
	}

	/// Runs `test` on this genesis, then checks the invariants of the Datacoop pallets.
	pub fn execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			pallet_data_daos::Pallet::<Runtime>::do_try_state().expect("DataDaos invariants");
			pallet_contributions::Pallet::<Runtime>::do_try_state()
				.expect("Contributions invariants");
			pallet_dataset_tokens::Pallet::<Runtime>::do_try_state()
				.expect("DatasetTokens invariants");
			pallet_dao_governance::Pallet::<Runtime>::do_try_state()
				.expect("DaoGovernance invariants");
			pallet_access_grants::Pallet::<Runtime>::do_try_state()
				.expect("AccessGrants invariants");
		});
	}
}

/// Moves to block `n`. The Datacoop pallets have no block hooks, so the number is all that
/// changes; events of earlier blocks are cleared, as on a real chain.
pub fn run_to_block(n: BlockNumber) {
	while System::block_number() < n {
		System::reset_events();
		System::set_block_number(System::block_number() + 1);
	}
}
