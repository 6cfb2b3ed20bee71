//! Dispatches the command line to the node service or a subcommand.

use datacoop_runtime::opaque::Block;
#[cfg(feature = "runtime-benchmarks")]
use frame_benchmarking_cli::{BenchmarkCmd, SUBSTRATE_REFERENCE_HARDWARE};
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Datacoop Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://github.com/datacoop/datacoop/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development_chain_spec()?),
			"" | "local" => Box::new(chain_spec::local_chain_spec()?),
			path => {
				let path = std::path::PathBuf::from(path);
				Box::new(
					chain_spec::ChainSpec::from_json_file(path.clone()).map_err(|e| {
						format!("cannot load the chain spec {}: {e}", path.display())
					})?,
				)
			},
		})
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				// GRANDPA keeps its own authority-set data beside the blocks: revert it too.
				let aux_revert = Box::new(|client, _, blocks| {
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| match cmd {
				BenchmarkCmd::Pallet(cmd) => cmd
					.run_with_spec::<sp_runtime::traits::HashingFor<Block>, ()>(Some(
						config.chain_spec,
					)),
				BenchmarkCmd::Overhead(cmd) => {
					cmd.run_with_default_builder_and_spec::<Block, ()>(Some(config.chain_spec))
				},
				BenchmarkCmd::Block(cmd) => {
					let PartialComponents { client, .. } = service::new_partial(&config)?;
					cmd.run(client)
				},
				BenchmarkCmd::Machine(cmd) => {
					cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone())
				},
				// The database's own read and write costs, on the state of the chain given.
				BenchmarkCmd::Storage(cmd) => {
					let PartialComponents { client, backend, .. } = service::new_partial(&config)?;
					cmd.run(
						config,
						client,
						backend.expose_db(),
						backend.expose_storage(),
						backend.expose_shared_trie_cache(),
					)
				},
				BenchmarkCmd::Extrinsic(_) => Err("`benchmark extrinsic` is not offered by this \
				                                   node: use `benchmark pallet`, `overhead`, \
				                                   `storage`, `block` or `machine`"
					.into()),
			})
		},
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		},
		None => {
			let runner = cli.create_runner(&cli.run)?;
			let allowed_hosts = service::allowed_hosts(&cli.offchain_allow_hosts)?;
			runner.run_node_until_exit(|mut config| async move {
				use sc_network::config::NetworkBackendType;
				claim_listen_ports(&mut config)?;
				type Hash = <Block as sp_runtime::traits::Block>::Hash;
				match config.network.network_backend {
					NetworkBackendType::Libp2p => service::new_full::<
						sc_network::NetworkWorker<Block, Hash>,
					>(config, allowed_hosts),
					NetworkBackendType::Litep2p => service::new_full::<
						sc_network::Litep2pNetworkBackend,
					>(config, allowed_hosts),
				}
				.map_err(sc_cli::Error::Service)
			})
		},
	}
}

/// Makes the node listen where the user asked, or stop with one clear line.
///
/// Left alone, the RPC server moves to a random port when its own is taken (so polkadot.js
/// would quietly reach whichever node holds 9944), and a taken Prometheus port is only
/// logged. A validator operator wants neither: the ports are checked here, and the RPC server
/// is told not to wander.
fn claim_listen_ports(config: &mut sc_service::Configuration) -> sc_cli::Result<()> {
	use std::net::{SocketAddr, TcpListener};

	let in_use = |addr: SocketAddr, flag: &str| -> sc_cli::Result<()> {
		match TcpListener::bind(addr) {
			Ok(_) => Ok(()),
			Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
				Err(sc_cli::Error::Input(format!(
					"port {} ({flag}) is already in use (address already in use): stop the \
					 other process or pick another port with {flag}",
					addr.port()
				)))
			},
			// Another failure (an IPv6 address on a host without IPv6, say) is for the
			// server itself to report or skip.
			Err(_) => Ok(()),
		}
	};

	for endpoint in config.rpc.addr.iter_mut().flatten() {
		endpoint.retry_random_port = false;
		if !endpoint.is_optional {
			in_use(endpoint.listen_addr, "--rpc-port")?;
		}
	}
	if let Some(prometheus) = &config.prometheus_config {
		in_use(prometheus.port, "--prometheus-port")?;
	}
	for address in &config.network.listen_addresses {
		if let Some(addr) = tcp_socket_addr(address) {
			in_use(addr, "--port")?;
		}
	}
	Ok(())
}

/// `/ip4/A/tcp/P` or `/ip6/A/tcp/P` as a socket address; `None` for port 0 and other shapes.
fn tcp_socket_addr(address: &sc_network::Multiaddr) -> Option<std::net::SocketAddr> {
	use sc_network::multiaddr::Protocol;

	let mut parts = address.iter();
	let ip: std::net::IpAddr = match parts.next()? {
		Protocol::Ip4(ip) => ip.into(),
		Protocol::Ip6(ip) => ip.into(),
		_ => return None,
	};
	match parts.next()? {
		Protocol::Tcp(port) if port != 0 => Some((ip, port).into()),
		_ => None,
	}
}
