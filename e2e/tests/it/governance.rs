//! Governance and paid access through the `datacoop` wallet, against the real node
//! (`--dev`, whose votes may be short) and storage: two contributors earn a DAO's tokens,
//! a data consumer proposes a paid grant, the holders vote, the proposal is closed, the fee
//! reaches holders and treasury; then the holders set an offer and anyone buys at it.

use std::time::{Duration, Instant};

use datacoop_e2e::{start_storage, Node, Wallet};
use serde_json::Value;

use crate::wallet::{attest, create_dao, write_file};

const UNIT: u128 = 1_000_000_000_000;
/// A minute of blocks: each wallet command waits for finality (two or three blocks), and a
/// proposal's first votes must land before its end.
const VOTING_PERIOD: &str = "10";

fn planck(v: &Value) -> u128 {
	v.as_str().unwrap_or_else(|| panic!("an amount, not {v}")).parse().unwrap()
}

/// `datacoop grant buy` as //Eve types it.
fn eve_buys<'a>(dao: &'a str, scope: &'a str, days: &'a str) -> [&'a str; 10] {
	["--account", "//Eve", "grant", "buy", "--dao", dao, "--scope", scope, "--days", days]
}

/// Waits until proposal `id`'s vote has ended in the finalized chain (what the wallet reads).
fn wait_for_end(w: &Wallet, id: &str) {
	let deadline = Instant::now() + Duration::from_secs(120);
	while w.json(&["proposal", "show", id])["voting"] == true {
		assert!(Instant::now() < deadline, "proposal {id} still voting after two minutes");
		std::thread::sleep(Duration::from_secs(2));
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holders_govern_and_sell_access_through_the_wallet() {
	let node = Node::dev().await.unwrap();
	let blobs = tempfile::tempdir().unwrap();
	let (_storage, storage) = start_storage(blobs.path());
	let w = Wallet::new(node.url(), storage);
	let files = tempfile::tempdir().unwrap();
	let collective = datacoop_envelope::Identity::generate().unwrap();
	let dao = create_dao(
		&node,
		&w,
		"Chat exports",
		"Chat",
		"CHAT",
		&collective,
		&["--voting-period", VOTING_PERIOD],
	)
	.await;
	assert_eq!(w.json(&["dao", "show", &dao])["rules"]["holders_share"], "80.0%");

	// Bob and Charlie contribute; the collective accepts both at 80%: 8 CHAT each.
	for (who, len) in [("//Bob", 20_000), ("//Charlie", 30_000)] {
		let file = write_file(files.path(), &format!("{len}.json"), len);
		let c = w.json(&[
			"--account",
			who,
			"contribute",
			file.to_str().unwrap(),
			"--dao",
			&dao,
			"--wait",
			"0",
		]);
		attest(&node, c["id"].as_u64().unwrap(), &c["ciphertext_hash"]).await;
	}

	// //Ferdie, a data consumer, asks for an hour of the full records for 100 COOP.
	let p = w.json(&[
		"--account",
		"//Ferdie",
		"proposal",
		"create",
		"--dao",
		&dao,
		"--description",
		"ipfs://research-plan",
		"grant-access",
		"--scope",
		"full",
		"--duration",
		"1h",
		"--fee",
		"100COOP",
	]);
	let id = p["id"].to_string();
	// Bob votes with all his tokens at once: they cannot move until the vote ends.
	let voted = w.json(&["--account", "//Bob", "proposal", "vote", &id, "aye"]);
	assert_eq!(planck(&voted["amount"]), 8 * UNIT);
	let shown = w.json(&["proposal", "show", &id]);
	assert_eq!(shown["action"]["type"], "grant_access");
	assert_eq!(shown["action"]["duration_blocks"], 600);
	assert_eq!(planck(&shown["escrow"]), 100 * UNIT);
	assert_eq!(planck(&shown["ayes"]), 8 * UNIT);
	assert_eq!(shown["passing"], true);
	assert_eq!(w.json(&["proposal", "list", "--dao", &dao]).as_array().unwrap().len(), 1);
	let charlie = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
	let e = w.fails(&["--account", "//Bob", "transfer", charlie, "1", "--dao", &dao]);
	assert!(e.contains("TokensFrozen"), "{e}");
	let e = w.fails(&["--account", "//Eve", "proposal", "vote", &id, "aye"]);
	assert!(e.contains("no tokens"), "{e}");
	let e = w.fails(&["--account", "//Dave", "proposal", "close", &id]);
	assert!(e.contains("still voting"), "{e}");

	wait_for_end(&w, &id);
	assert_eq!(w.json(&["proposal", "show", &id])["passing"], true);
	let closed = w.json(&["--account", "//Dave", "proposal", "close", &id]);
	assert_eq!((closed["passed"].clone(), closed["executed"].clone()), (true.into(), true.into()));

	// The grant holds; 80 COOP went to the holders (40 each), 20 to the treasury.
	let grant = w.json(&["--account", "//Ferdie", "grant", "show", "--dao", &dao]);
	assert_eq!((grant["scope"].as_str(), grant["live"].as_bool()), (Some("full"), Some(true)));
	assert_eq!(planck(&grant["paid"]), 100 * UNIT);
	for who in ["//Bob", "//Charlie"] {
		let owed = w.json(&["--account", who, "rewards", "show", "--dao", &dao]);
		assert_eq!(planck(&owed["claimable"]), 40 * UNIT, "{who}");
	}
	assert_eq!(planck(&w.json(&["treasury", "show", "--dao", &dao])["spendable"]), 20 * UNIT);
	let e = w.fails(&["--account", "//Ferdie", "grant", "show", "--dao", "7"]);
	assert!(e.contains("no DAO #7"), "{e}");

	// Bob's vote ended: unlocking frees his tokens.
	w.json(&["--account", "//Bob", "proposal", "unlock", "--dao", &dao]);
	w.json(&["--account", "//Bob", "transfer", charlie, "1000000000000", "--dao", &dao]);

	// The holders offer anonymized access at 1 COOP a day; //Eve buys two days, no vote.
	let p = w.json(&[
		"--account",
		"//Charlie",
		"proposal",
		"create",
		"--dao",
		&dao,
		"set-offer",
		"--scope",
		"anonymized",
		"--price-per-day",
		"1COOP",
		"--max-days",
		"10",
	]);
	let id = p["id"].to_string();
	w.json(&["--account", "//Charlie", "proposal", "vote", &id, "aye"]);
	wait_for_end(&w, &id);
	w.json(&["--account", "//Charlie", "proposal", "close", &id]);
	let offers = w.json(&["offer", "list", "--dao", &dao]);
	assert_eq!(offers[0]["scope"], "anonymized");
	let e = w.fails(&eve_buys(&dao, "full", "1"));
	assert!(e.contains("offers no full access"), "{e}");
	let e = w.fails(&eve_buys(&dao, "anonymized", "11"));
	assert!(e.contains("1 to 10"), "{e}");
	let bought = w.json(&eve_buys(&dao, "anonymized", "2"));
	assert_eq!(planck(&bought["price"]), 2 * UNIT);
	assert_eq!(bought["grant"]["scope"], "anonymized");
	assert_eq!(w.json(&["grant", "list", "--dao", &dao]).as_array().unwrap().len(), 2);
	// 20% of 2 COOP more in the treasury.
	let treasury = planck(&w.json(&["treasury", "show", "--dao", &dao])["spendable"]);
	assert_eq!(treasury, 20 * UNIT + 2 * UNIT / 5);
}
