//! The real `datacoop-node` binary, started on loopback ports chosen for the test.

use std::{
	process::Command,
	time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Result};
use datacoop_client::{Chain, Rpc};
use subxt_rpcs::{methods::LegacyRpcMethods, RpcClient};

use crate::{bins::binary, free_port, Process};

/// A running `datacoop-node`, killed when dropped.
pub struct Node {
	process: Process,
	/// Its JSON-RPC port on 127.0.0.1.
	pub rpc_port: u16,
}

impl Node {
	/// Starts `datacoop-node --dev --tmp` and waits for its RPC.
	pub async fn dev() -> Result<Node> {
		Node::start(&["--dev", "--tmp"]).await
	}

	/// Starts the node with `args` plus an RPC port and a p2p port of its own, and waits until
	/// the RPC answers.
	pub async fn start(args: &[&str]) -> Result<Node> {
		let rpc_port = free_port();
		let p2p_port = free_port();
		let mut command = Command::new(binary("datacoop-node"));
		command
			.args(args)
			.args(["--rpc-port", &rpc_port.to_string(), "--port", &p2p_port.to_string()])
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"]);
		let mut node = Node { process: Process::start(command)?, rpc_port };
		node.wait_for_rpc(Duration::from_secs(60)).await?;
		Ok(node)
	}

	/// `ws://127.0.0.1:PORT`.
	pub fn url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port)
	}

	/// The node's log so far, for failure messages.
	pub fn log(&self) -> String {
		self.process.log()
	}

	async fn wait_for_rpc(&mut self, timeout: Duration) -> Result<()> {
		let deadline = Instant::now() + timeout;
		loop {
			self.process.check_running()?;
			if let Ok(rpc) = rpc(&self.url()).await {
				if rpc.system_name().await.is_ok() {
					return Ok(());
				}
			}
			if Instant::now() > deadline {
				bail!("datacoop-node's RPC did not answer within {timeout:?}:\n{}", self.log());
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}

	/// The chain client, connected to this node.
	pub async fn chain(&self) -> Result<Chain> {
		Ok(Chain::connect(&self.url()).await?)
	}

	/// Raw RPC methods on this node.
	pub async fn rpc(&self) -> Result<Rpc> {
		rpc(&self.url()).await
	}
}

/// Raw RPC methods on the node at `url`.
pub async fn rpc(url: &str) -> Result<Rpc> {
	Ok(LegacyRpcMethods::new(RpcClient::from_insecure_url(url).await?))
}

/// The number of the finalized head.
pub async fn finalized_number(rpc: &Rpc) -> Result<u64> {
	let hash = rpc.chain_get_finalized_head().await?;
	let header = rpc.chain_get_header(Some(hash)).await?.ok_or_else(|| anyhow!("no header"))?;
	Ok(header.number)
}

/// The number of the best block.
pub async fn best_number(rpc: &Rpc) -> Result<u64> {
	let header = rpc.chain_get_header(None).await?.ok_or_else(|| anyhow!("no best header"))?;
	Ok(header.number)
}

/// Waits until the finalized head reaches `target`, or fails after `timeout`.
pub async fn wait_for_finalized(rpc: &Rpc, target: u64, timeout: Duration) -> Result<u64> {
	let deadline = Instant::now() + timeout;
	loop {
		let n = finalized_number(rpc).await?;
		if n >= target {
			return Ok(n);
		}
		if Instant::now() > deadline {
			bail!("finality stuck at #{n}, wanted #{target} within {timeout:?}");
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}
