//! The whole contribution path with real parts only: `datacoop-node --dev` (its off-chain
//! worker relays), the `datacoop-storage` binary, the `datacoop-collective` binary (keys made
//! by its `init`), and the `datacoop` wallet.
//!
//! 1. a valid export is accepted within a few blocks, with scores and tokens;
//! 2. the same export again is rejected as a duplicate; a near copy scores low on uniqueness;
//! 3. an export that breaks the DAO's schema is rejected with the reason, printed by the wallet;
//! 4. with the collective server stopped a contribution stays Pending (and its contributor
//!    may not cancel it before the timeout); restarted (same keys, same index), it is
//!    accepted;
//! 5. an attestation signed by a key the DAO did not register is refused by the pool;
//! 6. front-running: another account submits a contributor's exact call first and gets
//!    nothing but a slash; the contributor's wallet contributes the file again and is paid.

use std::{
	io::{Read, Write},
	path::Path,
	time::{Duration, Instant},
};

use datacoop_e2e::{
	client::{Status, Wait},
	collective, datacoop,
	fixtures::{
		attest_call, chat_export as export, chat_rules, sign_attestation, valid_attestation,
		DevUploader, ALICE,
	},
	free_port, start_storage, Node, Process, Wallet,
};
use serde_json::{json, Value};

const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

fn start_collective(dir: &Path, key: &Path, node: &str, storage: &str, port: u16) -> Process {
	let mut c = collective::command(dir, key);
	let listen = format!("127.0.0.1:{port}");
	c.args(["run", "--url", node, "--listen", &listen, "--storage", storage]);
	Process::serving(c).unwrap().0
}

/// One HTTP/1.1 request to a local service: the status line and the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> (String, String) {
	let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
	write!(
		s,
		"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.unwrap();
	let mut response = String::new();
	s.read_to_string(&mut response).unwrap();
	let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
	(head.lines().next().unwrap_or("").to_string(), body.to_string())
}

/// `GET path` on a local HTTP service, the JSON body.
fn get_json(port: u16, path: &str) -> Value {
	let (status, body) = http(port, "GET", path, "");
	serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {status} {body}"))
}

/// The contribution `id` as `datacoop contributions` lists it.
fn listed(w: &Wallet, account: &str, id: u64) -> Value {
	let all = w.json(&["--account", account, "contributions"]);
	all.as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap()
}

fn contribute(w: &Wallet, dir: &Path, name: &str, data: &[u8], dao: &str, wait: &str) -> Value {
	let path = dir.join(name);
	std::fs::write(&path, data).unwrap();
	w.json(&[
		"--account",
		"bob",
		"contribute",
		path.to_str().unwrap(),
		"--dao",
		dao,
		"--wait",
		wait,
	])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contributions_are_judged_by_the_collective_server_and_relayed_by_the_node() {
	let node = Node::dev().await.unwrap();
	let blobs = tempfile::tempdir().unwrap();
	let (_storage, storage) = start_storage(blobs.path());
	let w = Wallet::new(node.url(), storage);
	let files = tempfile::tempdir().unwrap();
	let server = tempfile::tempdir().unwrap();
	let (dir, key) = (server.path().join("collective"), server.path().join("seal.key"));

	// The operator sets the DAO up on the collective server...
	std::fs::write(server.path().join("rules.json"), chat_rules().to_string()).unwrap();
	let out = collective::command(&dir, &key)
		.args(["init", "--name", "chat", "--json", "--rules"])
		.arg(server.path().join("rules.json"))
		.output()
		.unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let keys: Value = serde_json::from_slice(&out.stdout).unwrap();
	// The key set's consent to serve the DAO //Alice is about to create (the next id on chain).
	let consent = collective::key_proof_for_next(&dir, &key, "chat", &node.url(), ALICE);
	// Not as an existing DAO's: whoever created that id first could take the keys with it.
	let (next, url) = (consent["dao"].to_string(), node.url());
	let early = ["prove", "--name", "chat", "--dao", &next, "--url", &url];
	let out = collective::command(&dir, &key).args(early).output().unwrap();
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(!out.status.success() && stderr.contains("there is no DAO"), "{stderr}");
	let port = free_port();

	// ...and //Alice registers it on chain with the wallet. Min score 10 %. Her server's
	// consent names her: //Bob, copying it into a creation of his own, is refused before
	// anything is signed (and the chain would refuse it too: data-daos'
	// `a_create_proof_serves_its_creator_only`).
	let endpoint = format!("http://127.0.0.1:{port}");
	let create: Vec<&str> = vec![
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
		&endpoint,
		"--min-size",
		"100",
		"--max-size",
		"10000000",
		"--min-score",
		"100000",
		"--reward",
		"10000000000000",
	];
	let copied = w.fails(&[&["--account", "//Bob"], &create[..]].concat());
	assert!(copied.contains("not the collective's consent"), "{copied}");
	let created = w.json(&[&["--account", "//Alice"], &create[..]].concat());
	let dao = created["id"].as_u64().unwrap().to_string();
	// The operator binds the key set to that DAO (checked on chain), then serves it.
	let bind: [&str; 7] = ["bind", "--name", "chat", "--dao", &dao, "--url", &url];
	let out = collective::command(&dir, &key).args(bind).output().unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	// Bound, the key set consents to serve no other DAO, existing or new.
	let other = (dao.parse::<u32>().unwrap() + 1).to_string();
	for prove in [
		vec!["prove", "--name", "chat", "--dao", &other, "--url", &url],
		vec!["prove", "--name", "chat", "--next", "--admin", ALICE, "--url", &url],
	] {
		let out = collective::command(&dir, &key).args(&prove).output().unwrap();
		let stderr = String::from_utf8_lossy(&out.stderr);
		assert!(!out.status.success() && stderr.contains("is bound to DAO"), "{prove:?}: {stderr}");
	}
	let mut running = Some(start_collective(&dir, &key, &node.url(), &w.storage, port));
	w.import("bob", "//Bob");

	// 1. A valid export: accepted within a few blocks, with scores, tokens minted.
	let started = Instant::now();
	let first = contribute(&w, files.path(), "a.json", &export(BOB, 0, 60), &dao, "90");
	assert_eq!(first["status"], "accepted", "{first}");
	println!("accepted in {:?}", started.elapsed());
	assert_eq!(first["scores"]["uniqueness"], "100.0%");
	assert_eq!(first["scores"]["ownership"], "100.0%");
	let reward: u128 = first["reward"].as_str().unwrap().parse().unwrap();
	assert!(reward > 0);
	let balance = w.json(&["--account", "bob", "balance", "--dao", &dao]);
	assert_eq!(
		balance["tokens"][0]["balance"].as_str().unwrap().parse::<u128>().unwrap(),
		reward,
		"{balance}"
	);

	// 2. The same export again (encrypted anew: another ciphertext): a duplicate.
	let again = contribute(&w, files.path(), "a-again.json", &export(BOB, 0, 60), &dao, "90");
	assert_eq!(again["status"], "rejected", "{again}");
	let reason = again["reason"].as_str().unwrap();
	assert!(reason.contains(&format!("duplicate of contribution #{}", first["id"])), "{reason}");
	// A near copy: 52 of the same messages and 8 new ones (resemblance 52/68 = 0.76, so a
	// uniqueness of 24 %): accepted, uniqueness low. MinHash estimates the resemblance with a
	// standard deviation of about 0.04 at 128 permutations, and the key is new every run, so
	// both bounds (the DAO's 10 % minimum below, 40 % above) sit about 4 deviations away. (With
	// 55 of 60 the same, 15 %, a run now and then fell under the minimum.)
	let near = contribute(&w, files.path(), "near.json", &export(BOB, 8, 60), &dao, "90");
	assert_eq!(near["status"], "accepted", "{near}");
	let uniqueness: f64 =
		near["scores"]["uniqueness"].as_str().unwrap().trim_end_matches('%').parse().unwrap();
	assert!(uniqueness < 40.0, "{near}");

	// 3. An export that breaks the schema: rejected with the reason, printed by the wallet.
	let broken = files.path().join("broken.json");
	let mut doc: Value = serde_json::from_slice(&export(BOB, 2_000, 10)).unwrap();
	doc["messages"][0]["at"] = "yesterday".into();
	std::fs::write(&broken, doc.to_string()).unwrap();
	let out = w.run(&[
		"--account",
		"bob",
		"contribute",
		broken.to_str().unwrap(),
		"--dao",
		&dao,
		"--wait",
		"90",
	]);
	let printed = String::from_utf8_lossy(&out.stdout);
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	assert!(
		printed.contains("rejected: record 0 breaks the schema (rule /properties/at/type)"),
		"{printed}"
	);
	assert!(!printed.contains("yesterday"), "the reason must not quote the data: {printed}");

	// 4. The collective server stops: a contribution stays Pending...
	let indexed = get_json(port, "/v1/health")["daos"][0]["indexed"].clone();
	running.take().unwrap().kill();
	let pending = contribute(&w, files.path(), "later.json", &export(BOB, 1_000, 60), &dao, "0");
	assert_eq!(pending["status"], "pending");
	let id = pending["id"].as_u64().unwrap();
	let rpc = node.rpc().await.unwrap();
	let now = datacoop_e2e::best_number(&rpc).await.unwrap();
	datacoop_e2e::wait_for_finalized(&rpc, now + 3, Duration::from_secs(60)).await.unwrap();
	assert_eq!(listed(&w, "bob", id)["status"], "pending");
	// Its contributor cannot withdraw it yet (the server may come back), nor can anyone
	// else; the wallet says from when.
	let early = w.fails(&["--account", "bob", "cancel", &id.to_string()]);
	assert!(early.contains("it can be cancelled from block"), "{early}");
	let other = w.fails(&["--account", "//Alice", "cancel", &id.to_string()]);
	assert!(other.contains("only its contributor can cancel it"), "{other}");
	let unknown = w.fails(&["--account", "bob", "cancel", "999999"]);
	assert!(unknown.contains("there is no contribution #999999"), "{unknown}");

	// 5. ...and nobody else can judge it: an attestation signed by a key the DAO did not
	// register is refused by the pool.
	forged_attestation_is_refused(&node, &pending, id).await;

	// Restarted with the same keys and index: the contribution is accepted, nothing lost.
	let _running = start_collective(&dir, &key, &node.url(), &w.storage, port);
	assert_eq!(get_json(port, "/v1/health")["daos"][0]["indexed"], indexed);
	// Every validator's worker asks at about the same block: four requests at once (the
	// node's worker may make a fifth) are judged once, and all get the same signed answer
	// (sr25519 signatures are randomized: a second judgement would sign anew).
	let asks: Vec<_> = (0..4)
		.map(|_| {
			let body = json!({ "contribution": id }).to_string();
			std::thread::spawn(move || http(port, "POST", "/v1/validate", &body))
		})
		.collect();
	let answers: Vec<_> = asks.into_iter().map(|ask| ask.join().unwrap()).collect();
	for (status, body) in &answers {
		assert!(status.contains(" 200 "), "{status}: {body}");
		assert_eq!(body, &answers[0].1);
	}
	let deadline = Instant::now() + Duration::from_secs(180);
	let status = loop {
		let c = listed(&w, "bob", id);
		if c["status"] != "pending" || Instant::now() > deadline {
			break c;
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	};
	assert_eq!(status["status"], "accepted", "{status}");
	let late = w.fails(&["--account", "bob", "cancel", &id.to_string()]);
	assert!(late.contains("only a pending contribution can be cancelled"), "{late}");

	// Since the restart, that contribution was the only one judged, once.
	let (_, metrics) = http(port, "GET", "/v1/metrics", "");
	assert!(
		metrics.contains("datacoop_collective_validations_total{outcome=\"valid\"} 1\n"),
		"{metrics}"
	);
	assert!(
		metrics.contains("datacoop_collective_validations_total{outcome=\"repeated\"}"),
		"{metrics}"
	);

	// 6. Front-running gets the thief nothing.
	let dao_id: u32 = dao.parse().unwrap();
	let key = keys["encryption_key"].as_str().unwrap();
	front_running_gets_the_thief_nothing(&node, &w, files.path(), dao_id, key).await;
}

/// Case 6, front-running: //Bob's ciphertext (his statement inside, encrypted to the DAO as his
/// wallet does) is in storage, and //Eve submits that exact call before him. The collective
/// reads Bob's statement in Eve's contribution: rejected, "not the submitter's data", Eve's
/// deposit slashed and no tokens. Bob's own submission of that ciphertext is now refused
/// (`DuplicateCiphertext`), and his wallet, contributing the same file, encrypts it again and
/// is accepted.
async fn front_running_gets_the_thief_nothing(
	node: &Node,
	w: &Wallet,
	files: &Path,
	dao: u32,
	collective_key: &str,
) {
	use datacoop_primitives::contribution::{statement_line, statement_payload, Statement};
	use subxt_signer::sr25519::dev;
	let chain = node.chain().await.unwrap();
	let data = export(BOB, 3_000, 60);
	let bob = dev::bob();
	let statement = Statement {
		genesis_hash: chain.genesis_hash().into(),
		dao_id: dao,
		contributor: bob.public_key().0,
	};
	let mut plain = statement_line(&statement, &bob.sign(&statement_payload(&statement)).0);
	plain.extend_from_slice(&data);
	let recipient: datacoop_envelope::Recipient = collective_key.parse().unwrap();
	let mut blob = Vec::new();
	datacoop_envelope::encrypt(
		std::slice::from_ref(&recipient),
		&plain[..],
		&mut blob,
		&datacoop_envelope::Parallelism::OneCore,
	)
	.unwrap();
	let storage = datacoop_storage::StorageClient::new(&w.storage).unwrap();
	let size = blob.len() as u64;
	let hash = datacoop_storage::BlobHash::of(&blob);
	let body = futures::stream::once(async move { Ok(bytes::Bytes::from(blob)) });
	storage.put(&DevUploader(dev::bob()), &hash, body, size).await.unwrap();
	let submit = datacoop::transactions().contributions().submit(
		dao,
		storage.blob_url(&hash).into_bytes(),
		subxt::utils::H256(hash.0),
		size,
	);

	// Eve is first.
	let eve = dev::eve().public_key().to_account_id();
	let (eve_free_before, _) =
		chain.at_finalized().await.unwrap().native_balance(&eve).await.unwrap();
	let events = chain.submit(&submit, &dev::eve(), Wait::Finalized).await.unwrap();
	let id = events.find_first::<datacoop::contributions::events::Submitted>().unwrap().unwrap();
	let id = id.contribution_id;
	let deadline = Instant::now() + Duration::from_secs(180);
	let judged = loop {
		let c = chain.at_finalized().await.unwrap().contribution(id).await.unwrap().unwrap();
		if c.status != Status::Pending || Instant::now() > deadline {
			break c;
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	};
	let Status::Rejected { reason, slashed, .. } = judged.status else {
		panic!("Eve's copy was not rejected: {:?}", judged.status)
	};
	assert_eq!(String::from_utf8_lossy(&reason), "not the submitter's data");
	assert!(slashed > 0);
	let at = chain.at_finalized().await.unwrap();
	assert_eq!(at.token_balance(dao, &eve).await.unwrap(), 0);
	// What Eve has after: less than before by the slash and fees, and her record deposit is
	// held until she removes the record.
	let (eve_free, _) = at.native_balance(&eve).await.unwrap();
	assert!(eve_free < eve_free_before - slashed);

	// Bob's own submission of that ciphertext now fails...
	let refused = chain.submit(&submit, &bob, Wait::Finalized).await;
	let refused = refused.expect_err("the ciphertext is taken").to_string();
	assert!(refused.contains("DuplicateCiphertext"), "{refused}");
	// ...but his wallet, contributing the same file, encrypts it again: accepted.
	let mine = contribute(w, files, "stolen.json", &data, &dao.to_string(), "90");
	assert_eq!(mine["status"], "accepted", "{mine}");
}

/// An attestation signed by //Ferdie, whose key the DAO did not register, is refused by the
/// pool with `BadSignature` (its index read from the metadata).
async fn forged_attestation_is_refused(node: &Node, pending: &Value, id: u64) {
	let chain = node.chain().await.unwrap();
	let at = chain.at_finalized().await.unwrap();
	let hash: [u8; 32] =
		hex::decode(pending["ciphertext_hash"].as_str().unwrap().trim_start_matches("0x"))
			.unwrap()
			.try_into()
			.unwrap();
	let dao = pending["dao"].as_u64().unwrap() as u32;
	let measurement = at.dao(dao).await.unwrap().unwrap().collective.measurement;
	let contributor = at.contribution(id).await.unwrap().unwrap().contributor.0;
	let attestation = valid_attestation(
		dao,
		id,
		contributor,
		hash,
		measurement.0.into(),
		at.number() + 20,
		1_000_000,
	);
	let signature =
		sign_attestation(&attestation, chain.genesis_hash(), &subxt_signer::sr25519::dev::ferdie());
	let refused = chain.submit_unsigned(&attest_call(attestation, signature), None).await;
	let error = refused.expect_err("the pool must refuse a forged attestation").to_string();
	let bad_signature = at.error_index("Contributions", "BadSignature").unwrap();
	assert!(error.to_lowercase().contains(&format!("custom error: {bad_signature}")), "{error}");
}
