//! The pallets `datacoop-node benchmark pallet` measures. Every Datacoop pallet is listed
//! here as it lands.

pub use frame_benchmarking::baseline::Pallet as BaselineBench;
pub use frame_system_benchmarking::{
	extensions::Pallet as SystemExtensionsBench, Pallet as SystemBench,
};

pub use crate::{
	AccessGrants, Balances, Contributions, DaoGovernance, DataDaos, DatasetTokens, Runtime, Sudo,
	Timestamp, TransactionPayment,
};

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[frame_system_extensions, SystemExtensionsBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_transaction_payment, TransactionPayment]
	[pallet_data_daos, DataDaos]
	[pallet_contributions, Contributions]
	[pallet_dataset_tokens, DatasetTokens]
	[pallet_dao_governance, DaoGovernance]
	[pallet_access_grants, AccessGrants]
);

/// Fees are burned here, so the fee benchmark needs no set-up (no block author to pay).
impl pallet_transaction_payment::BenchmarkConfig for Runtime {}
