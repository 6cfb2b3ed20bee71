//! A runtime with System, Balances, the real DataDaos and DatasetTokens pallets and this one,
//! for the unit tests.

use datacoop_primitives::{
	contribution::{signing_payload, Attestation, Scores, Verdict},
	dao::{Collective, DaoId, DaoRules, TokenInfo},
};
use frame_support::{derive_impl, parameter_types, traits::ConstU32, PalletId};
use sp_core::{sr25519, Pair, H256};
use sp_keystore::{testing::MemoryKeystore, KeystoreExt};
use sp_runtime::{BuildStorage, Permill};

use crate as pallet_contributions;

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
	pub type Contributions = pallet_contributions;
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
	pub const MaxContributionSize: u64 = 1 << 30;
	pub const TokensPalletId: PalletId = PalletId(*b"dc/tokns");
	pub const InvalidSlash: Permill = Permill::from_percent(10);
}

impl pallet_data_daos::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ForceOrigin = frame_system::EnsureRoot<u64>;
	type DaoDepositBase = frame_support::traits::ConstU128<1_000>;
	type DepositPerByte = frame_support::traits::ConstU128<1>;
	type MaxNameLen = ConstU32<64>;
	type MaxUriLen = ConstU32<128>;
	type MaxSymbolLen = ConstU32<12>;
	type MaxContributionSize = MaxContributionSize;
	type MinContributionDeposit = frame_support::traits::ConstU128<10>;
	type MinVotingPeriod = frame_support::traits::ConstU64<10>;
	type MaxVotingPeriod = frame_support::traits::ConstU64<100_000>;
	type WeightInfo = ();
}

impl pallet_dataset_tokens::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type PalletId = TokensPalletId;
	type MinHolding = frame_support::traits::ConstU128<5>;
	type WeightInfo = ();
}

impl pallet_contributions::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Daos = DataDaos;
	type Tokens = DatasetTokens;
	type MaxUrlLen = ConstU32<128>;
	type PendingTimeout = frame_support::traits::ConstU64<PENDING_TIMEOUT>;
	type CancelDelay = frame_support::traits::ConstU64<CANCEL_DELAY>;
	type RecordDeposit = frame_support::traits::ConstU128<RECORD_DEPOSIT>;
	type InvalidSlash = InvalidSlash;
	type AttestationPriority = frame_support::traits::ConstU64<{ u64::MAX / 2 }>;
	type OffchainRequestsPerBlock = ConstU32<OCW_REQUESTS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockDaos;
}

/// The extrinsic the off-chain worker submits, as the pool sees it.
pub type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = Extrinsic;
}

impl<C> frame_system::offchain::CreateBare<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> Extrinsic {
		Extrinsic::new_bare(call)
	}
}

pub const OCW_REQUESTS: u32 = 2;
pub const PENDING_TIMEOUT: BlockNumber = 100;
pub const CANCEL_DELAY: BlockNumber = 40;
pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
/// Cannot pay a contribution deposit.
pub const POOR: u64 = 3;

pub const DEPOSIT: Balance = 100;
pub const RECORD_DEPOSIT: Balance = 30;
pub const REWARD: Balance = 1_000_000;
pub const MEASUREMENT: H256 = H256::repeat_byte(0x4d);

/// The rules the test DAOs use: 10 bytes to 1 MB, 1,000,000 tokens at full score, 50% to pass.
pub fn rules() -> DaoRules<Balance, BlockNumber> {
	DaoRules {
		min_contribution_size: 10,
		max_contribution_size: 1_000_000,
		reward_at_full_score: REWARD,
		min_score: Permill::from_percent(50),
		contribution_deposit: DEPOSIT,
		voting_period: 10,
		quorum: Permill::from_percent(20),
		approval_threshold: Permill::from_percent(50),
		holders_share: Permill::from_percent(80),
	}
}

/// A collective server's attestation key.
pub fn collective_key(seed: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//{seed}"), None).expect("a dev seed")
}

/// Creates a DAO, administered by Alice, whose collective signs with `signer`.
pub fn create_dao(signer: &sr25519::Pair) -> DaoId {
	create_dao_at(signer, b"http://collective.example")
}

/// Creates a DAO, administered by Alice, whose collective signs with `signer` and answers at
/// `endpoint`. Its encryption key is derived from `signer`: one key set serves one DAO.
pub fn create_dao_at(signer: &sr25519::Pair, endpoint: &[u8]) -> DaoId {
	pallet_data_daos::Pallet::<Test>::do_create(
		ALICE,
		b"Reddit comments".to_vec(),
		b"ipfs://schema".to_vec(),
		TokenInfo { name: b"Reddit Comments".to_vec(), symbol: b"RDC".to_vec() },
		Collective {
			encryption_key: sp_io::hashing::blake2_256(&signer.public().0),
			attestation_signer: signer.public().0,
			endpoint: endpoint.to_vec(),
			measurement: MEASUREMENT,
		},
		rules(),
	)
	.expect("a valid DAO")
}

/// A valid attestation of contribution `contribution_id` of `dao_id` with this ciphertext hash
/// and overall score.
pub fn attestation(
	dao_id: DaoId,
	contribution_id: u64,
	ciphertext_hash: H256,
	overall: Permill,
) -> Attestation<BlockNumber> {
	let contributor = crate::Contributions::<Test>::get(contribution_id)
		.map(|c| Contributions::account_bytes(&c.contributor))
		.unwrap_or_default();
	Attestation {
		dao_id,
		contribution_id,
		contributor,
		ciphertext_hash,
		fingerprint: H256::repeat_byte((contribution_id as u8).wrapping_add(0xf0)),
		scores: Scores {
			authenticity: Permill::one(),
			ownership: Permill::from_percent(90),
			quality: Permill::from_percent(70),
			uniqueness: Permill::one(),
			overall,
		},
		verdict: Verdict::Valid,
		measurement: MEASUREMENT,
		valid_until: System::block_number() + 10,
	}
}

/// Signs `attestation` for this chain (the mock's genesis hash).
pub fn sign(attestation: &Attestation<BlockNumber>, key: &sr25519::Pair) -> sr25519::Signature {
	key.sign(&signing_payload(attestation, &System::block_hash(0)))
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockDaos;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for MockDaos {
	fn create_dao(admin: u64, signer: [u8; 32], measurement: H256) -> DaoId {
		use frame_support::traits::fungible::Mutate;
		Balances::set_balance(&admin, 1_000_000_000);
		let mut rules = rules();
		rules.max_contribution_size = 1 << 30;
		pallet_data_daos::Pallet::<Test>::do_create(
			admin,
			b"Benchmark DAO".to_vec(),
			b"ipfs://schema".to_vec(),
			TokenInfo { name: b"Benchmark".to_vec(), symbol: b"BENCH".to_vec() },
			Collective {
				encryption_key: sp_io::hashing::blake2_256(&signer),
				attestation_signer: signer,
				endpoint: b"http://collective.example".to_vec(),
				measurement,
			},
			rules,
		)
		.expect("a valid DAO")
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, 1_000_000), (BOB, 1_000_000), (POOR, 50)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	// The benchmarks sign with keys from the keystore, as the node's benchmark command allows.
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs a test, then checks the invariants of this pallet and the two it works with.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Contributions::do_try_state().expect("contribution invariants hold after the test");
		DataDaos::do_try_state().expect("DAO invariants hold after the test");
		DatasetTokens::do_try_state().expect("token invariants hold after the test");
	});
}
