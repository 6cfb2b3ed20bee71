//! # Datacoop end-to-end harness
//!
//! Starts the real `datacoop-node` binary (never a mock) on loopback ports chosen for the
//! test, waits until its RPC answers, and stops it when dropped. The tests in `tests/` talk
//! to it through subxt with types generated from the committed metadata
//! (`artifacts/datacoop.scale`, refreshed by `scripts/refresh-metadata.sh`).

use std::{
	net::TcpListener,
	path::PathBuf,
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use subxt::{config::RpcConfigFor, OnlineClient, PolkadotConfig};
use subxt_rpcs::{methods::LegacyRpcMethods, RpcClient};

/// The chain's types and calls, generated from its metadata. The attestation also gets SCALE
/// `Encode`: tests sign its bytes as the collective server does.
#[subxt::subxt(
	runtime_metadata_path = "../artifacts/datacoop.scale",
	derive_for_type(
		path = "datacoop_primitives::contribution::Attestation",
		derive = "::subxt::ext::codec::Encode",
		recursive
	)
)]
pub mod datacoop {}

/// Raw JSON-RPC methods (finalized head, headers, properties).
pub type Rpc = LegacyRpcMethods<RpcConfigFor<PolkadotConfig>>;

/// The node binary under test: `$DATACOOP_NODE`, else the release build in the cargo target
/// directory the scripts use.
pub fn node_binary() -> PathBuf {
	if let Some(path) = std::env::var_os("DATACOOP_NODE") {
		return PathBuf::from(path);
	}
	let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
		let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/root".into());
		home.join(".cache/datacoop-target")
	});
	target.join("release/datacoop-node")
}

/// A loopback TCP port nobody listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.and_then(|l| l.local_addr())
		.map(|a| a.port())
		.expect("the loopback interface has free ports")
}

/// A running `datacoop-node`, killed when dropped.
pub struct Node {
	child: Child,
	/// Its JSON-RPC port on 127.0.0.1.
	pub rpc_port: u16,
	log: PathBuf,
}

impl Node {
	/// Starts `datacoop-node --dev --tmp` and waits for its RPC.
	pub async fn dev() -> Result<Node> {
		Node::start(&["--dev", "--tmp"]).await
	}

	/// Starts the node with `args` plus an RPC port and a free p2p port of its own, and waits
	/// until the RPC answers.
	pub async fn start(args: &[&str]) -> Result<Node> {
		let rpc_port = free_port();
		let p2p_port = free_port();
		let log = std::env::temp_dir().join(format!("datacoop-e2e-node-{rpc_port}.log"));
		let child = Command::new(node_binary())
			.args(args)
			.args(["--rpc-port", &rpc_port.to_string(), "--port", &p2p_port.to_string()])
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
			.stdout(Stdio::null())
			.stderr(std::fs::File::create(&log)?)
			.spawn()
			.with_context(|| format!("cannot start {}", node_binary().display()))?;
		let mut node = Node { child, rpc_port, log };
		node.wait_for_rpc(Duration::from_secs(60)).await?;
		Ok(node)
	}

	/// `ws://127.0.0.1:PORT`.
	pub fn url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port)
	}

	/// The node's log so far (stderr), for failure messages.
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	async fn wait_for_rpc(&mut self, timeout: Duration) -> Result<()> {
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(status) = self.child.try_wait()? {
				bail!("datacoop-node exited early ({status}):\n{}", self.log());
			}
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

	/// A subxt client connected to this node.
	pub async fn client(&self) -> Result<OnlineClient<PolkadotConfig>> {
		Ok(OnlineClient::<PolkadotConfig>::from_insecure_url(self.url()).await?)
	}

	/// Raw RPC methods on this node.
	pub async fn rpc(&self) -> Result<Rpc> {
		rpc(&self.url()).await
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
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

/// Runs the node binary to completion with `args`, returning (exit success, stderr).
pub fn run_node_to_exit(args: &[&str], timeout: Duration) -> Result<(bool, String)> {
	let mut child = Command::new(node_binary())
		.args(args)
		.stdout(Stdio::null())
		.stderr(Stdio::piped())
		.spawn()?;
	let deadline = Instant::now() + timeout;
	loop {
		if child.try_wait()?.is_some() {
			let out = child.wait_with_output()?;
			return Ok((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()));
		}
		if Instant::now() > deadline {
			let _ = child.kill();
			bail!("datacoop-node {args:?} did not exit within {timeout:?}");
		}
		std::thread::sleep(Duration::from_millis(100));
	}
}

/// The repository's root (for scripts). Read when the test runs (`cargo test` sets
/// `CARGO_MANIFEST_DIR`), not when it is compiled: clones share one target directory, and cargo
/// reuses a test binary built in another clone, whose compile-time path may be gone.
pub fn repo_root() -> PathBuf {
	let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
	manifest.parent().expect("e2e/ sits in the repository root").to_path_buf()
}
