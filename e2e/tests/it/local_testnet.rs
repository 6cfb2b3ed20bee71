//! `scripts/local-testnet.sh`: four validators on loopback. Finality advances; with one
//! validator killed it still advances (3 of 4 is over GRANDPA's two-thirds); the killed
//! validator restarts on its own database, keeps what it had, and catches up.

use std::{path::PathBuf, process::Command, time::Duration};

use anyhow::{bail, Context, Result};
use datacoop_e2e::{
	best_number, binary, finalized_number, free_port, repo_root, rpc, wait_for_finalized,
};

/// The testnet, run through the user-facing script in a directory and on ports of its own;
/// purged when dropped.
struct Testnet {
	dir: PathBuf,
	rpc_port: u16,
	p2p_port: u16,
}

impl Testnet {
	fn new() -> Testnet {
		let dir = std::env::temp_dir().join(format!("datacoop-e2e-testnet-{}", std::process::id()));
		// Four consecutive free ports each for RPC and p2p; the script numbers them from a base.
		let (rpc_port, p2p_port) = (consecutive_free_ports(4), consecutive_free_ports(4));
		Testnet { dir, rpc_port, p2p_port }
	}

	fn script(&self, args: &[&str]) -> Result<String> {
		let out = Command::new(repo_root().join("scripts/local-testnet.sh"))
			.args(args)
			.env("DATACOOP_TESTNET_DIR", &self.dir)
			.env("DATACOOP_TESTNET_RPC_PORT", self.rpc_port.to_string())
			.env("DATACOOP_TESTNET_P2P_PORT", self.p2p_port.to_string())
			.env("DATACOOP_NODE", binary("datacoop-node"))
			.output()
			.context("cannot run scripts/local-testnet.sh")?;
		let text = format!(
			"{}{}",
			String::from_utf8_lossy(&out.stdout),
			String::from_utf8_lossy(&out.stderr)
		);
		if !out.status.success() {
			bail!("local-testnet.sh {args:?} failed:\n{text}\n{}", self.logs());
		}
		Ok(text)
	}

	fn url(&self, index: u16) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port + index)
	}

	fn logs(&self) -> String {
		["alice", "bob", "charlie", "dave"]
			.iter()
			.map(|n| {
				let log =
					std::fs::read_to_string(self.dir.join(format!("{n}.log"))).unwrap_or_default();
				let tail: Vec<_> = log.lines().rev().take(15).collect();
				format!("--- {n} ---\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
			})
			.collect::<Vec<_>>()
			.join("\n")
	}
}

impl Drop for Testnet {
	fn drop(&mut self) {
		let _ = self.script(&["purge"]);
	}
}

fn consecutive_free_ports(n: u16) -> u16 {
	loop {
		let base = free_port();
		if base < u16::MAX - n
			&& (1..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok())
		{
			return base;
		}
	}
}

#[tokio::test]
async fn finality_survives_a_crashed_validator_which_then_catches_up() -> Result<()> {
	let net = Testnet::new();
	net.script(&["start"])?;
	let alice = rpc(&net.url(0)).await?;
	let charlie_url = net.url(2);

	// All four: finality advances.
	let before = finalized_number(&alice).await?;
	let finalized = wait_for_finalized(&alice, before + 3, Duration::from_secs(120))
		.await
		.with_context(|| net.logs())?;

	// Charlie crashes (SIGKILL). The other three still finalize.
	let charlie = rpc(&charlie_url).await?;
	wait_for_finalized(&charlie, finalized, Duration::from_secs(60)).await?;
	let charlie_had = best_number(&charlie).await?;
	let charlie_hash_then = charlie.chain_get_block_hash(Some(charlie_had.into())).await?;
	drop(charlie);
	net.script(&["kill", "charlie"])?;
	assert!(rpc(&charlie_url).await.is_err(), "Charlie's RPC still answers after the kill");
	let at_kill = finalized_number(&alice).await?;
	wait_for_finalized(&alice, at_kill + 3, Duration::from_secs(120))
		.await
		.with_context(|| format!("finality stopped without Charlie\n{}", net.logs()))?;

	// Charlie restarts on its own database: it has at least what it had before the crash
	// (read before it can sync anything), the same blocks, then catches up with the others.
	net.script(&["start-node", "charlie"])?;
	let charlie = rpc(&charlie_url).await?;
	let hash_now = charlie.chain_get_block_hash(Some(charlie_had.into())).await?;
	assert!(hash_now.is_some(), "Charlie lost block #{charlie_had} it had before the crash");
	assert_eq!(hash_now, charlie_hash_then, "Charlie's block #{charlie_had} changed");

	let target = finalized_number(&alice).await? + 2;
	wait_for_finalized(&charlie, target, Duration::from_secs(120))
		.await
		.with_context(|| format!("Charlie did not catch up\n{}", net.logs()))?;
	let n = finalized_number(&charlie).await?;
	assert_eq!(
		charlie.chain_get_block_hash(Some(n.into())).await?,
		alice.chain_get_block_hash(Some(n.into())).await?,
		"Charlie and Alice disagree on finalized block #{n}"
	);
	Ok(())
}
