//! The access path with real parts only: `datacoop-node --dev`, `datacoop-storage`,
//! `datacoop-collective` and the `datacoop` wallet.
//!
//! Three contributors' exports are accepted by the collective; //Ferdie proposes a paid Full
//! grant, the holders vote it through, and Ferdie's wallet exports the three files back byte
//! for byte; the fee reaches the three holders pro rata. //Eve's aggregate grant answers
//! grouped counts and means within their stated noise, leaves out a group of one contributor
//! and refuses past its privacy budget; //Alice buys anonymized copies at the DAO's offer and
//! finds no private value in them. Requests the collective must refuse get 403 with the
//! reason: signed by an account without a grant, changed after signing, replayed, for an
//! expired grant, after revocation. The access log shows the holders exactly the releases
//! made, and only to them.

use std::{
	io::{Read, Write},
	time::{Duration, Instant},
};

use codec::Decode;
use datacoop_e2e::{
	collective,
	fixtures::{chat_rules, ALICE},
	free_port, start_storage, Node, Process, Wallet,
};
use datacoop_primitives::access::{
	request_payload, AccessRecord, AccessRequest, Operation, Released,
};
use datacoop_storage::Uploader;
use serde_json::Value;
use subxt_signer::sr25519::dev;

/// Long enough for two holders' votes on three proposals (each wallet command waits for
/// finality, two or three blocks).
const VOTING_PERIOD: &str = "25";

fn planck(v: &Value) -> u128 {
	v.as_str().unwrap_or_else(|| panic!("an amount, not {v}")).parse().unwrap()
}

/// Waits until proposal `id`'s vote has ended in the finalized chain.
fn wait_for_end(w: &Wallet, id: &str) {
	let deadline = Instant::now() + Duration::from_secs(120);
	while w.json(&["proposal", "show", id])["voting"] == true {
		assert!(Instant::now() < deadline, "proposal {id} still voting after two minutes");
		std::thread::sleep(Duration::from_secs(2));
	}
}

/// Contributor `n`'s chat export of `count` messages by `account`: the chat fields, and a
/// channel (three, in turn), an age and a language (French for contributor 0's first ten
/// messages, else English) for aggregate queries.
fn export(account: &str, n: usize, count: u32) -> Vec<u8> {
	let messages: Vec<_> = (0..count)
		.map(|i| {
			let channel = ["general", "random", "news"][i as usize % 3];
			let lang = if n == 0 && i < 10 { "fr" } else { "en" };
			serde_json::json!({
				"account": account,
				"text": format!("message {i} of contributor {n}"),
				"at": 1_700_000_000 + i,
				"channel": channel,
				"age": 18 + (i + 7 * n as u32) % 50,
				"lang": lang,
			})
		})
		.collect();
	serde_json::to_vec(&serde_json::json!({ "messages": messages })).unwrap()
}

/// `who` proposes a grant of `scope` to itself for `duration` and `fee`; its id.
fn propose_grant(
	w: &Wallet,
	who: &str,
	dao: &str,
	scope: &str,
	duration: &str,
	fee: &str,
) -> String {
	let p = w.json(&[
		"--account",
		who,
		"proposal",
		"create",
		"--dao",
		dao,
		"grant-access",
		"--scope",
		scope,
		"--duration",
		duration,
		"--fee",
		fee,
	]);
	p["id"].to_string()
}

/// `voters` vote `ids` through and //Dave closes them.
fn pass(w: &Wallet, voters: &[&str], ids: &[&str]) {
	for id in ids {
		for who in voters {
			w.json(&["--account", who, "proposal", "vote", id, "aye"]);
		}
	}
	for id in ids {
		wait_for_end(w, id);
		let closed = w.json(&["--account", "//Dave", "proposal", "close", id]);
		assert_eq!(closed["executed"], true, "{closed}");
	}
}

/// A request to the collective on 127.0.0.1:`port` signed by `signer` for the chain
/// `genesis`: the status line and the body (raw bytes).
// Each part of a signed request named at the call, as the tests vary them one at a time.
#[allow(clippy::too_many_arguments)]
fn signed_request(
	port: u16,
	signer: &impl Uploader,
	genesis: [u8; 32],
	dao: u32,
	method: &str,
	path: &str,
	body: &str,
	operation: Operation,
	nonce: [u8; 16],
) -> (String, Vec<u8>) {
	let time =
		std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
	let request = AccessRequest {
		genesis_hash: genesis,
		dao_id: dao,
		account: signer.account(),
		operation,
		time,
		nonce,
	};
	let signature = signer.sign(&request_payload(&request));
	let authorization = format!(
		"DatacoopAccess {}:{time}:{}:{}",
		hex::encode(signer.account()),
		hex::encode(nonce),
		hex::encode(signature)
	);
	let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
	write!(
		s,
		"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {authorization}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.unwrap();
	let mut response = Vec::new();
	s.read_to_end(&mut response).unwrap();
	let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(response.len());
	let status =
		String::from_utf8_lossy(&response[..split]).lines().next().unwrap_or("").to_string();
	(status, response[(split + 4).min(response.len())..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_consumer_exports_the_data_and_nobody_else_can() {
	let node = Node::dev().await.unwrap();
	let blobs = tempfile::tempdir().unwrap();
	let (_storage, storage) = start_storage(blobs.path());
	let w = Wallet::new(node.url(), storage.clone());
	let files = tempfile::tempdir().unwrap();
	let server = tempfile::tempdir().unwrap();
	let (dir, key) = (server.path().join("collective"), server.path().join("seal.key"));

	// Anonymized copies: the account pseudonymised, the text dropped, the time to the day.
	let mut rules = chat_rules();
	rules["fields"] = serde_json::json!({
		"/account": "pseudonymise",
		"/text": "drop",
		"/at": {"generalise": "day"},
	});
	// Aggregate answers: grouped by channel or language, the mean age; each contributor
	// counts for at most 100 records; a grant spends at most ε = 1, a query at most 0.5.
	rules["aggregate"] = serde_json::json!({
		"group_by": {"/channel": "category", "/lang": "category"},
		"values": {"/age": [0.0, 120.0]},
		"min_group_size": 2,
		"max_records_per_contributor": 100,
		"epsilon_per_grant": 1.0,
		"max_epsilon_per_query": 0.5,
	});
	std::fs::write(server.path().join("rules.json"), rules.to_string()).unwrap();
	let out = collective::command(&dir, &key)
		.args(["init", "--name", "chat", "--json", "--rules"])
		.arg(server.path().join("rules.json"))
		.output()
		.unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let keys: Value = serde_json::from_slice(&out.stdout).unwrap();
	// The key set's consent to serve the DAO //Alice is about to create (the next id on chain).
	let consent = collective::key_proof_for_next(&dir, &key, "chat", &node.url(), ALICE);
	let port = free_port();
	let created = w.json(&[
		"--account",
		"//Alice",
		"dao",
		"create",
		"--name",
		"Chat exports",
		"--token-name",
		"Chat",
		"--token-symbol",
		"CHAT",
		"--collective-key",
		keys["encryption_key"].as_str().unwrap(),
		"--signer",
		keys["attestation_signer"].as_str().unwrap(),
		"--measurement",
		keys["measurement"].as_str().unwrap(),
		"--key-proof",
		consent["key_proof"].as_str().unwrap(),
		"--endpoint",
		&format!("http://127.0.0.1:{port}"),
		"--min-size",
		"100",
		"--max-size",
		"10000000",
		"--min-score",
		"100000",
		"--reward",
		"10000000000000",
		"--voting-period",
		VOTING_PERIOD,
	]);
	let dao = created["id"].as_u64().unwrap().to_string();
	let dao_id: u32 = dao.parse().unwrap();
	let url = node.url();
	let out = collective::command(&dir, &key)
		.args(["bind", "--name", "chat", "--dao", &dao, "--url", &url])
		.output()
		.unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let mut c = collective::command(&dir, &key);
	let listen = format!("127.0.0.1:{port}");
	c.args(["run", "--url", &url, "--listen", &listen, "--storage", &storage]);
	let _collective = Process::serving(c).unwrap().0;

	// Three contributors, three exports of different sizes, judged by the collective.
	let mut originals = Vec::new();
	for (i, (who, count)) in
		[("//Bob", 60), ("//Charlie", 90), ("//Dave", 120)].into_iter().enumerate()
	{
		let address =
			w.json(&["--account", who, "key", "inspect"])["address"].as_str().unwrap().to_owned();
		let data = export(&address, i, count);
		let path = files.path().join(format!("{i}.json"));
		std::fs::write(&path, &data).unwrap();
		let c = w.json(&[
			"--account",
			who,
			"contribute",
			path.to_str().unwrap(),
			"--dao",
			&dao,
			"--wait",
			"90",
		]);
		assert_eq!(c["status"], "accepted", "{c}");
		originals.push((c["id"].as_u64().unwrap(), data));
	}
	let holders = ["//Bob", "//Charlie", "//Dave"];
	// Charlie's and Dave's tokens are over half the supply: their votes carry every proposal.
	let voters = ["//Charlie", "//Dave"];

	// //Ferdie asks for an hour of the full records for 90 COOP; //Eve for 40 blocks of
	// aggregate answers over groups of at least 2 contributors.
	let ferdie = propose_grant(&w, "//Ferdie", &dao, "full", "1h", "90COOP");
	let eve = propose_grant(&w, "//Eve", &dao, "aggregate:2", "40b", "1COOP");
	// And the holders put anonymized copies on sale at 1 COOP a day.
	let offer = w.json(&[
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
	])["id"]
		.to_string();
	pass(&w, &voters, &[&ferdie, &eve, &offer]);

	// Eve asks, through her wallet, for the count and mean age per channel: three groups of
	// three contributors each, counts within the noise bound the answer states of the exact
	// ones (each contributor counts for at most 100 records: Dave's last 20 are left out).
	let query = r#"{"stats": ["count", {"mean": "/age"}], "group_by": ["/channel"]}"#;
	let eve_asks = |q: &str, epsilon: &str| {
		w.run(&[
			"--json",
			"--account",
			"//Eve",
			"data",
			"query",
			"--dao",
			&dao,
			q,
			"--epsilon",
			epsilon,
		])
	};
	let out = eve_asks(query, "0.5");
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
	let groups = answer["groups"].as_array().unwrap_or_else(|| panic!("{answer}"));
	assert_eq!(groups.len(), 3, "{answer}");
	let bound = answer["bound_99_9"]
		.as_array()
		.unwrap()
		.iter()
		.find(|b| b[0] == "count")
		.map(|b| b[1].as_f64().unwrap())
		.unwrap();
	for group in groups {
		let exact = match group["key"][0].as_str().unwrap() {
			"general" => 20 + 30 + 34,
			"random" | "news" => 20 + 30 + 33,
			other => panic!("a group {other}"),
		};
		let noisy = group["values"]["count"].as_f64().unwrap();
		assert!((noisy - f64::from(exact)).abs() <= bound, "{group}: {exact} ± {bound}");
		let mean = group["values"]["mean(/age)"].as_f64().unwrap();
		assert!((0.0..=120.0).contains(&mean), "{group}");
	}
	let left = answer["epsilon_left"].as_f64().unwrap();
	assert!((left - 0.5).abs() < 1e-5, "{answer}");
	// By language: French is Bob's alone, below the minimum group of 2: not in the answer.
	let out = eve_asks(r#"{"stats": ["count"], "group_by": ["/lang"]}"#, "0.5");
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
	let keys: Vec<_> =
		answer["groups"].as_array().unwrap().iter().map(|g| g["key"][0].clone()).collect();
	assert_eq!(keys, ["en"], "{answer}");
	// The budget is spent: refused, and the wallet says why.
	let out = eve_asks(query, "0.1");
	let said = String::from_utf8_lossy(&out.stderr);
	assert!(!out.status.success() && said.contains("403") && said.contains("ε left"), "{said}");
	// A query is no export, an export no query.
	let e = w.fails(&["--account", "//Ferdie", "data", "query", "--dao", &dao, query]);
	assert!(e.contains("aggregate"), "{e}");

	// Ferdie's wallet exports and verifies: exactly the three files, byte for byte.
	let out_dir = tempfile::tempdir().unwrap();
	let export = w.json(&[
		"--account",
		"//Ferdie",
		"data",
		"export",
		"--dao",
		&dao,
		"-o",
		out_dir.path().to_str().unwrap(),
	]);
	assert_eq!(export["contributions"].as_array().unwrap().len(), 3, "{export}");
	for (id, data) in &originals {
		let got = std::fs::read(out_dir.path().join(format!("contribution-{id}"))).unwrap();
		assert!(got == *data, "contribution {id} differs from what its contributor gave");
	}
	// Run again: nothing new, nothing lost.
	let again = w.json(&[
		"--account",
		"//Ferdie",
		"data",
		"export",
		"--dao",
		&dao,
		"-o",
		out_dir.path().to_str().unwrap(),
	]);
	assert_eq!(again["contributions"].as_array().unwrap().len(), 0, "{again}");

	// The fee (90 COOP, 80% to holders) reached the three holders pro rata to their tokens.
	let balances: Vec<u128> = holders
		.iter()
		.map(|who| {
			planck(&w.json(&["--account", who, "balance", "--dao", &dao])["tokens"][0]["balance"])
		})
		.collect();
	let supply: u128 = balances.iter().sum();
	// 80% of Ferdie's 90 COOP and of Eve's 1 COOP, each deposit shared out on its own.
	let to_holders = 72_800_000_000_000u128;
	for (who, balance) in holders.iter().zip(&balances) {
		let owed =
			planck(&w.json(&["--account", who, "rewards", "show", "--dao", &dao])["claimable"]);
		let exact = to_holders * balance / supply;
		assert!(owed.abs_diff(exact) <= 2, "{who}: {owed} against {exact}");
		w.json(&["--account", who, "rewards", "claim", "--dao", &dao]);
	}

	// Requests signed by hand, as any client could.
	let genesis = node.chain().await.unwrap().genesis_hash();
	let recipient = datacoop_envelope::Identity::generate().unwrap().to_public();
	let body = format!(r#"{{"since": null, "recipient": "{recipient}"}}"#);
	let export_op = Operation::Export { since: None, recipient: recipient.to_bytes() };
	let path = format!("/v1/daos/{dao}/export");
	let ferdie_key = datacoop_e2e::fixtures::DevUploader(dev::ferdie());
	let ask = |signer: &datacoop_e2e::fixtures::DevUploader, body: &str, nonce: u8| {
		signed_request(
			port,
			signer,
			genesis,
			dao_id,
			"POST",
			&path,
			body,
			export_op.clone(),
			[nonce; 16],
		)
	};
	let (status, bytes) = ask(&ferdie_key, &body, 1);
	assert!(status.contains("200"), "{status}: {}", String::from_utf8_lossy(&bytes));
	// The same request again: replayed.
	let (status, bytes) = ask(&ferdie_key, &body, 1);
	assert!(
		status.contains("403") && String::from_utf8_lossy(&bytes).contains("already made"),
		"{status}"
	);
	// Changed after signing (another `since`): the signature does not cover it.
	let changed = format!(r#"{{"since": {}, "recipient": "{recipient}"}}"#, originals[0].0);
	let (status, bytes) = ask(&ferdie_key, &changed, 2);
	assert!(
		status.contains("403") && String::from_utf8_lossy(&bytes).contains("signature"),
		"{status}"
	);
	// Signed by an account with no grant.
	let (status, bytes) = ask(&datacoop_e2e::fixtures::DevUploader(dev::alice()), &body, 3);
	assert!(
		status.contains("403") && String::from_utf8_lossy(&bytes).contains("no grant"),
		"{status}"
	);
	// For a DAO this server does not serve.
	let (status, _) = signed_request(
		port,
		&ferdie_key,
		genesis,
		dao_id + 1,
		"POST",
		&format!("/v1/daos/{}/export", dao_id + 1),
		&body,
		export_op.clone(),
		[4; 16],
	);
	assert!(status.contains("403"), "{status}");

	// Eve's 40 blocks are over soon (exports and claims later): then expired.
	let rpc = node.rpc().await.unwrap();
	let grant = w.json(&["--account", "//Eve", "grant", "show", "--dao", &dao]);
	let expires = grant["expires"].as_u64().unwrap();
	datacoop_e2e::wait_for_finalized(&rpc, expires + 1, Duration::from_secs(180)).await.unwrap();
	// The wallet says so before asking; the server, asked anyway, refuses with the reason.
	let eve_dir = out_dir.path().join("eve");
	let e = w.fails(&[
		"--account",
		"//Eve",
		"data",
		"export",
		"--dao",
		&dao,
		"-o",
		eve_dir.to_str().unwrap(),
	]);
	assert!(e.contains("no live grant"), "{e}");
	let (status, bytes) = ask(&datacoop_e2e::fixtures::DevUploader(dev::eve()), &body, 6);
	let said = String::from_utf8_lossy(&bytes);
	assert!(status.contains("403") && said.contains("expired at block"), "{status}: {said}");

	// The access log: the holders see exactly the releases made (Eve's two answers; Ferdie's
	// two wallet exports and the signed one, each begun and done), the others are refused.
	let log = w.json(&["--account", "//Bob", "access-log", "--dao", &dao]);
	let records = log["records"].as_array().unwrap_or_else(|| panic!("{log}"));
	assert_eq!(records.len(), 8, "{log}");
	let e = w.fails(&["--account", "//Ferdie", "access-log", "--dao", &dao]);
	assert!(e.contains("403") && e.contains("token holders"), "{e}");
	// ...and it is what the server's log holds, checked here from its raw records too.
	let ferdie_account = dev::ferdie().public_key().0;
	let (status, raw) = signed_request(
		port,
		&datacoop_e2e::fixtures::DevUploader(dev::charlie()),
		genesis,
		dao_id,
		"GET",
		&format!("/v1/daos/{dao}/access-log?from=0&limit=1000"),
		"",
		Operation::AccessLog { from: 0, limit: 1000 },
		[5; 16],
	);
	assert!(status.contains("200"), "{status}");
	let page: Value = serde_json::from_slice(&raw).unwrap();
	let decoded: Vec<AccessRecord> = page["records"]
		.as_array()
		.unwrap()
		.iter()
		.map(|r| {
			AccessRecord::decode(
				&mut &hex::decode(r.as_str().unwrap().trim_start_matches("0x")).unwrap()[..],
			)
			.unwrap()
		})
		.collect();
	let eve_account = dev::eve().public_key().0;
	let answered: Vec<_> = decoded
		.iter()
		.filter_map(|r| match &r.released {
			Released::Query { epsilon_micro, groups, .. } => {
				Some((r.account == eve_account, *epsilon_micro, *groups))
			},
			_ => None,
		})
		.collect();
	assert_eq!(answered.len(), 2, "{answered:?}");
	for ((eves, spent, _), groups) in answered.iter().zip([3, 1]) {
		assert!(*eves && (499_000..=500_000).contains(spent), "{answered:?}");
		assert_eq!(answered.iter().filter(|a| a.2 == groups).count(), 1, "{answered:?}");
	}
	assert!(decoded
		.iter()
		.filter(|r| !matches!(r.released, Released::Query { .. }))
		.all(|r| r.account == ferdie_account));
	let done: Vec<_> = decoded
		.iter()
		.filter_map(|r| match &r.released {
			Released::ExportDone { count, complete, .. } => Some((*count, *complete)),
			_ => None,
		})
		.collect();
	assert_eq!(done, [(3, true), (0, true), (3, true)]);

	// //Alice buys a day of anonymized copies and exports them: every record is there, and
	// no text, no contributor's address (SS58 or hex), no raw time is.
	w.json(&[
		"--account",
		"//Alice",
		"grant",
		"buy",
		"--dao",
		&dao,
		"--scope",
		"anonymized",
		"--days",
		"1",
	]);
	let copies = tempfile::tempdir().unwrap();
	let copied = w.json(&[
		"--account",
		"//Alice",
		"data",
		"export",
		"--dao",
		&dao,
		"-o",
		copies.path().to_str().unwrap(),
	]);
	assert_eq!(copied["scope"], "anonymized", "{copied}");
	let mut lines = Vec::new();
	for entry in std::fs::read_dir(copies.path()).unwrap() {
		let path = entry.unwrap().path();
		if path.extension().is_some_and(|e| e == "jsonl") {
			lines.extend(std::fs::read_to_string(path).unwrap().lines().map(str::to_owned));
		}
	}
	assert_eq!(lines.len(), 60 + 90 + 120);
	let everything = lines.join("\n");
	for who in ["//Bob", "//Charlie", "//Dave"] {
		let inspected = w.json(&["key", "inspect", who]);
		let address = inspected["address"].as_str().unwrap();
		assert!(!everything.contains(address), "{who}'s address in an anonymized copy");
		let public = inspected["public_key"].as_str().unwrap_or_default().trim_start_matches("0x");
		assert!(public.is_empty() || !everything.contains(public), "{who}'s key in a copy");
	}
	assert!(!everything.contains("message ") && !everything.contains("1700000"), "{}", &lines[0]);
	let first: Value = serde_json::from_str(&lines[0]).unwrap();
	assert_eq!(first["at"], "2023-11-14", "{first}");
	assert_eq!(first["account"].as_str().map(str::len), Some(32), "{first}");
	assert!(first.get("text").is_none(), "{first}");

	// The holders revoke Ferdie's and Alice's grants: 403 from then on, for both exports.
	let revoke = |who: &str| {
		let grant = w.json(&["--account", who, "grant", "show", "--dao", &dao]);
		let grant_id = grant["id"].to_string();
		let p = w.json(&[
			"--account",
			"//Bob",
			"proposal",
			"create",
			"--dao",
			&dao,
			"revoke-access",
			"--grant",
			&grant_id,
		]);
		p["id"].to_string()
	};
	let (ferdies, alices) = (revoke("//Ferdie"), revoke("//Alice"));
	pass(&w, &voters, &[&ferdies, &alices]);
	let alice_key = datacoop_e2e::fixtures::DevUploader(dev::alice());
	for (key, nonce) in [(&ferdie_key, 7), (&alice_key, 8)] {
		let (status, bytes) = ask(key, &body, nonce);
		let said = String::from_utf8_lossy(&bytes);
		assert!(status.contains("403") && said.contains("no grant"), "{status}: {said}");
	}
}
