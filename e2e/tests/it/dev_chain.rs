//! `datacoop-node --dev --tmp`, run as a user runs it: blocks are produced and finalized, a
//! transfer signed by //Alice lands with its event, and bad input ends in one clear line.

use std::{process::Command, time::Duration};

use datacoop_e2e::{
	best_number, binary,
	client::{AccountId32, Keypair, Wait},
	datacoop, run_to_exit, wait_for_finalized, Node,
};
use subxt_signer::sr25519::dev;

/// Runs the node binary to completion with `args`: (exit success, stderr).
fn run_node_to_exit(args: &[&str], timeout: Duration) -> anyhow::Result<(bool, String)> {
	let mut node = Command::new(binary("datacoop-node"));
	node.args(args);
	run_to_exit(node, timeout)
}

#[tokio::test]
async fn dev_chain_produces_finalizes_and_includes_a_transfer() -> anyhow::Result<()> {
	let node = Node::dev().await?;
	let rpc = node.rpc().await?;

	// Blocks are authored (Aura, 6 s) and finalized (GRANDPA).
	let finalized = wait_for_finalized(&rpc, 2, Duration::from_secs(60)).await?;
	assert!(finalized >= 2);
	assert!(best_number(&rpc).await? >= finalized);

	// The chain tells wallets its token.
	let chain = node.chain().await?;
	let token = chain.native_token().await?;
	assert_eq!((token.symbol.as_str(), token.decimals), ("COOP", 12));

	// A transfer from //Alice to a fresh account is included and finalized.
	let dest = Keypair::from_uri(&"//DatacoopE2eDest".parse()?)?;
	let dest_id: AccountId32 = dest.public_key().into();
	let amount = 12_345_678_000_000u128;
	let tx = datacoop::transactions().balances().transfer_keep_alive(dest_id.into(), amount);
	let events = chain.submit(&tx, &dev::alice(), Wait::Finalized).await?;
	let transfer = events
		.find_first::<datacoop::balances::events::Transfer>()
		.ok_or_else(|| anyhow::anyhow!("no Transfer event in the transfer's block"))??;
	let alice_id: AccountId32 = dev::alice().public_key().into();
	assert_eq!(transfer.from, alice_id);
	assert_eq!(transfer.to, dest_id);
	assert_eq!(transfer.amount, amount);

	// And the balance is there in finalized state.
	let (free, _) = chain.at_finalized().await?.native_balance(&dest_id).await?;
	assert_eq!(free, amount);
	Ok(())
}

fn assert_one_line_error(ok: bool, stderr: &str, expect: &str) {
	assert!(!ok, "the node should fail; stderr:\n{stderr}");
	let last = stderr.lines().last().unwrap_or_default();
	assert!(last.starts_with("Error: "), "last line should be the error, got:\n{stderr}");
	assert!(last.to_lowercase().contains(expect), "error should mention {expect:?}, got: {last}");
	assert!(!stderr.contains("panicked"), "no panic on bad input:\n{stderr}");
	assert!(!stderr.contains("stack backtrace"), "no backtrace on bad input:\n{stderr}");
}

#[test]
fn a_bad_chain_spec_is_one_clear_line() -> anyhow::Result<()> {
	let dir = std::env::temp_dir().join(format!("datacoop-bad-spec-{}", std::process::id()));
	std::fs::create_dir_all(&dir)?;
	let spec = dir.join("spec.json");
	std::fs::write(&spec, b"{ \"name\": \"half a spec\", ")?;
	let base = dir.join("base");
	let (ok, stderr) = run_node_to_exit(
		&[
			"--chain",
			spec.to_str().unwrap(),
			"--base-path",
			base.to_str().unwrap(),
			"--no-prometheus",
		],
		Duration::from_secs(30),
	)?;
	assert_one_line_error(ok, &stderr, "chain spec");

	let missing = dir.join("no-such-spec.json");
	let (ok, stderr) = run_node_to_exit(
		&["--chain", missing.to_str().unwrap(), "--no-prometheus"],
		Duration::from_secs(30),
	)?;
	assert_one_line_error(ok, &stderr, "chain spec");
	std::fs::remove_dir_all(&dir)?;
	Ok(())
}

#[tokio::test]
async fn a_port_in_use_is_one_clear_line() -> anyhow::Result<()> {
	let node = Node::dev().await?;
	let port = node.rpc_port.to_string();
	let (ok, stderr) = tokio::task::spawn_blocking(move || {
		run_node_to_exit(
			&["--dev", "--tmp", "--rpc-port", &port, "--no-prometheus"],
			Duration::from_secs(60),
		)
	})
	.await??;
	assert_one_line_error(ok, &stderr, "address already in use");
	Ok(())
}

#[test]
fn a_corrupt_or_unusable_base_path_is_one_clear_line() -> anyhow::Result<()> {
	let dir = std::env::temp_dir().join(format!("datacoop-bad-base-{}", std::process::id()));
	std::fs::create_dir_all(&dir)?;

	// A base path that is a file, not a directory.
	let file = dir.join("not-a-dir");
	std::fs::write(&file, b"x")?;
	let (ok, stderr) = run_node_to_exit(
		&["--dev", "--base-path", file.to_str().unwrap(), "--no-prometheus"],
		Duration::from_secs(30),
	)?;
	assert_one_line_error(ok, &stderr, "not a directory");

	// A database whose files are garbage.
	let base = dir.join("corrupt");
	let db = base.join("chains/datacoop_dev/paritydb/full");
	std::fs::create_dir_all(&db)?;
	std::fs::write(db.join("metadata"), b"this is not a paritydb metadata file")?;
	let (ok, stderr) = run_node_to_exit(
		&["--dev", "--base-path", base.to_str().unwrap(), "--no-prometheus"],
		Duration::from_secs(30),
	)?;
	assert_one_line_error(ok, &stderr, "corruption");
	std::fs::remove_dir_all(&dir)?;
	Ok(())
}
