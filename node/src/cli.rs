//! The command line: `datacoop-node [FLAGS]` runs a node; the subcommands are the standard
//! Substrate ones.

use sc_cli::RunCmd;

#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: RunCmd,

	/// A host (`HOST` or `HOST:PORT`) this validator's off-chain worker may call: collective
	/// servers and blob storage. Repeat it for each. With none, the worker calls any host the
	/// chain accepted for a DAO endpoint or a contribution URL.
	#[arg(long = "offchain-allow-host", value_name = "HOST[:PORT]")]
	pub offchain_allow_hosts: Vec<String>,
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (JSON), for example to start a new network.
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Benchmarks: pallet weights, block overhead, machine, block execution. Only in a node
	/// built with `--features runtime-benchmarks` (scripts/benchmark.sh builds one): the
	/// benchmarking CLI pulls in polkadot and cumulus crates a solochain never runs.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Database meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),
}
