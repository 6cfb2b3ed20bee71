//! The `datacoop` binary as a contributor runs it, against the real node (`datacoop-node
//! --dev`) and the real storage service (the `datacoop-storage` binary on a local directory).

use std::{path::PathBuf, process::Stdio};

use datacoop_e2e::{binary, client::Wait, fixtures, start_storage, Node, Wallet};
use serde_json::Value;

/// A file of `len` bytes in `dir` (neither all zeros nor repetitive).
pub(crate) fn write_file(dir: &std::path::Path, name: &str, len: usize) -> PathBuf {
	let path = dir.join(name);
	std::fs::write(&path, fixtures::bytes(len)).unwrap();
	path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contributor_uses_the_wallet_end_to_end() {
	let node = Node::dev().await.unwrap();
	let blobs = tempfile::tempdir().unwrap();
	let (_storage, storage) = start_storage(blobs.path());
	let w = Wallet::new(node.url(), storage);
	let files = tempfile::tempdir().unwrap();

	// Keys: import //Bob (same address as polkadot.js), generate one, list, inspect.
	let mut import = w.command(&["key", "import", "--name", "bob", "--json"]);
	import.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
	let mut child = import.spawn().unwrap();
	std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"//Bob\n").unwrap();
	let out = child.wait_with_output().unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let bob: Value = serde_json::from_slice(&out.stdout).unwrap();
	assert_eq!(bob["address"], "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
	let generated = w.json(&["key", "generate", "--name", "fresh"]);
	assert_eq!(generated["mnemonic"].as_str().unwrap().split(' ').count(), 12);
	let list = w.json(&["key", "list"]);
	assert_eq!(list.as_array().unwrap().len(), 2);
	let inspected = w.json(&["key", "inspect", "bob"]);
	assert_eq!(inspected["address"], bob["address"]);
	let bob_key = inspected["contribution_key"].as_str().unwrap().to_owned();
	assert!(bob_key.starts_with("age1"));
	// the wrong password opens nothing
	let out =
		w.command(&["key", "inspect", "bob"]).env("DATACOOP_PASSWORD", "wrong").output().unwrap();
	assert!(!out.status.success());
	assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));

	// //Alice creates a DAO through the wallet.
	let collective = datacoop_envelope::Identity::generate().unwrap();
	let dao = create_dao(&node, &w, "Chat exports", "Chat", "CHAT", &collective, &[]).await;
	let shown = w.json(&["dao", "show", &dao]);
	assert_eq!(shown["token_symbol"], "CHAT");
	assert_eq!(w.json(&["dao", "list"]).as_array().unwrap().len(), 1);

	// Bob contributes a file: Pending on chain, the blob in storage.
	let file = write_file(files.path(), "export.json", 300_000);
	let c = w.json(&[
		"--account",
		"bob",
		"contribute",
		file.to_str().unwrap(),
		"--dao",
		&dao,
		"--wait",
		"0",
	]);
	assert_eq!(c["status"], "pending");
	let id = c["id"].as_u64().unwrap().to_string();
	let listed = w.json(&["--account", "bob", "contributions"]);
	assert_eq!(listed.as_array().unwrap().len(), 1);
	assert_eq!(listed[0]["id"], c["id"]);

	// The collective's key opens the blob too (what the collective server will do).
	let (client, hash) =
		datacoop_storage::StorageClient::for_blob_url(c["url"].as_str().unwrap()).unwrap();
	assert_eq!(client.size(&hash).await.unwrap(), c["size"].as_u64());

	// Bob decrypts his own contribution back.
	let back = files.path().join("back.json");
	w.json(&["--account", "bob", "decrypt", &id, "-o", back.to_str().unwrap()]);
	assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&file).unwrap());
	// Not Alice.
	let err = w.fails(&["--account", "//Alice", "decrypt", &id, "-o", "/tmp/never"]);
	assert!(err.contains("only its contributor"), "{err}");

	// A re-run finds the upload and the submission: no second contribution, no second blob.
	let again = w.json(&[
		"--account",
		"bob",
		"contribute",
		file.to_str().unwrap(),
		"--dao",
		&dao,
		"--wait",
		"0",
	]);
	assert_eq!(again["id"], c["id"]);
	assert_eq!(w.json(&["--account", "bob", "contributions"]).as_array().unwrap().len(), 1);
	let kept = walk(blobs.path().join("blobs"));
	assert_eq!(kept, 1, "one blob in storage");

	// Offline envelope: encrypt to Bob's contribution key, decrypt with his account.
	let sealed = files.path().join("x.age");
	w.json(&["encrypt", file.to_str().unwrap(), "--to", &bob_key, "-o", sealed.to_str().unwrap()]);
	let opened = files.path().join("x.out");
	w.json(&[
		"--account",
		"bob",
		"decrypt-file",
		sealed.to_str().unwrap(),
		"-o",
		opened.to_str().unwrap(),
	]);
	assert_eq!(std::fs::read(&opened).unwrap(), std::fs::read(&file).unwrap());

	// Balances and a transfer.
	let before = w.json(&["--account", "bob", "balance"]);
	let charlie = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
	w.json(&["--account", "bob", "transfer", charlie, "1000000000000"]);
	let after = w.json(&["--account", "bob", "balance"]);
	let (b, a): (u128, u128) = (
		before["native"].as_str().unwrap().parse().unwrap(),
		after["native"].as_str().unwrap().parse().unwrap(),
	);
	assert!(b - a >= 1_000_000_000_000, "{b} -> {a}");
	assert_eq!(w.json(&["--account", "bob", "rewards", "show", "--dao", &dao])["claimable"], "0");

	// The collective server (its key is //Charlie's, registered as the DAO's signer) judges
	// the contribution; relayed unsigned, the attestation mints Bob's tokens.
	attest(&node, c["id"].as_u64().unwrap(), &c["ciphertext_hash"]).await;
	let judged = w.json(&["--account", "bob", "contributions"]);
	assert_eq!(judged[0]["status"], "accepted", "{judged}");
	assert_eq!(judged[0]["reward"], "8000000000000"); // 80 % of 10^13
	let tokens = w.json(&["--account", "bob", "balance", "--dao", &dao]);
	assert_eq!(tokens["tokens"][0]["balance"], "8000000000000");
	// and a re-run of contribute now reports the verdict
	let again = w.json(&[
		"--account",
		"bob",
		"contribute",
		file.to_str().unwrap(),
		"--dao",
		&dao,
		"--wait",
		"0",
	]);
	assert_eq!(again["status"], "accepted");

	// //Alice pays 5 COOP to the DAO's holders; Bob, the only one, sees and claims all of it.
	deposit_rewards(&node, dao.parse().unwrap(), 5_000_000_000_000).await;
	let owed = w.json(&["--account", "bob", "rewards", "show", "--dao", &dao]);
	assert_eq!(owed["claimable"], "5000000000000");
	let before: u128 =
		w.json(&["--account", "bob", "balance"])["native"].as_str().unwrap().parse().unwrap();
	let claimed = w.json(&["--account", "bob", "rewards", "claim", "--dao", &dao]);
	assert_eq!(claimed["claimed"], "5000000000000");
	let after: u128 =
		w.json(&["--account", "bob", "balance"])["native"].as_str().unwrap().parse().unwrap();
	assert!(
		after > before + 4_900_000_000_000,
		"{before} -> {after} (5 COOP claimed, minus the fee)"
	);
	let e = w.fails(&["--account", "bob", "rewards", "claim", "--dao", &dao]);
	assert!(e.contains("nothing to claim"), "{e}");

	// Bob sends some of his dataset tokens to Charlie.
	w.json(&["--account", "bob", "transfer", charlie, "3000000000000", "--dao", &dao]);
	let tokens = w.json(&["--account", "bob", "balance", "--dao", &dao]);
	assert_eq!(tokens["tokens"][0]["balance"], "5000000000000");
	let e = w.fails(&["--account", "bob", "transfer", charlie, "999000000000000", "--dao", &dao]);
	assert!(e.to_lowercase().contains("datasettokens"), "{e}");

	// Bad input: one line each, nothing changes.
	let e = w.fails(&["--account", "bob", "contribute", "/no/such/file", "--dao", &dao]);
	assert!(e.contains("/no/such/file"), "{e}");
	let e = w.fails(&["--account", "bob", "contribute", file.to_str().unwrap(), "--dao", "99"]);
	assert!(e.contains("no DAO #99"), "{e}");
	// (Too small is hard to make now: the statement and the envelope header alone are over
	// 400 bytes.) Too large:
	let huge = write_file(files.path(), "huge", 1_000_000);
	let e = w.fails(&["--account", "bob", "contribute", huge.to_str().unwrap(), "--dao", &dao]);
	assert!(e.contains("takes 400 to 1000000 bytes"), "{e}");
	let e = w.fails(&["--url", "ws://127.0.0.1:9", "--account", "bob", "contributions"]);
	assert!(e.contains("cannot reach the node"), "{e}");
	let other = write_file(files.path(), "other.json", 5_000);
	let e = w.fails(&[
		"--storage",
		"http://127.0.0.1:9",
		"--account",
		"bob",
		"contribute",
		other.to_str().unwrap(),
		"--dao",
		&dao,
	]);
	assert!(e.contains("unreachable") && e.contains("--storage"), "{e}");
	let e = w.fails(&["--account", "nobody", "contributions"]);
	assert!(e.contains("no account named"), "{e}");
	let e = w.fails(&["contributions"]);
	assert!(e.contains("--account"), "{e}");
	assert_eq!(w.json(&["--account", "bob", "contributions"]).as_array().unwrap().len(), 1);
}

/// `datacoop-storage gc` against the real node: the blob of a submitted contribution survives,
/// an unreferenced blob is removed once past the grace period, `--dry-run` removes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_gc_removes_only_blobs_no_contribution_references() {
	let node = Node::dev().await.unwrap();
	let blobs = tempfile::tempdir().unwrap();
	let (_storage, storage) = start_storage(blobs.path());
	let w = Wallet::new(node.url(), storage.clone());
	let files = tempfile::tempdir().unwrap();
	let collective = datacoop_envelope::Identity::generate().unwrap();
	let dao = create_dao(&node, &w, "GC", "Gc", "GC", &collective, &[]).await;
	// //Bob's contribution: its blob is referenced on chain (Pending)
	let file = write_file(files.path(), "export.json", 20_000);
	let c = w.json(&[
		"--account",
		"//Bob",
		"contribute",
		file.to_str().unwrap(),
		"--dao",
		&dao,
		"--wait",
		"0",
	]);
	let (client, referenced) =
		datacoop_storage::StorageClient::for_blob_url(c["url"].as_str().unwrap()).unwrap();
	// a blob nobody submitted
	let orphan = b"uploaded, never submitted".repeat(40);
	let orphan_hash = datacoop_storage::BlobHash::of(&orphan);
	let body = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(orphan.clone()))]);
	let uploader = datacoop_storage::KeypairUploader::from_seed([7; 32]);
	client.put(&uploader, &orphan_hash, body, orphan.len() as u64).await.unwrap();

	let gc = |extra: &[&str]| {
		let out = std::process::Command::new(binary("datacoop-storage"))
			.args(["gc", "--store", blobs.path().to_str().unwrap(), "--node", &node.url()])
			.args(extra)
			.output()
			.unwrap();
		let text = format!(
			"{}{}",
			String::from_utf8_lossy(&out.stdout),
			String::from_utf8_lossy(&out.stderr)
		);
		assert!(out.status.success(), "gc {extra:?}: {text}");
		text
	};
	let client = &client;
	let present = move |hash| async move { client.size(&hash).await.unwrap().is_some() };
	// within the grace period: nothing
	let said = gc(&["--grace", "1h"]);
	assert!(said.contains("2 within the grace period"), "{said}");
	// a dry run says what would go and removes nothing
	let said = gc(&["--grace", "0s", "--dry-run"]);
	assert!(said.contains(&format!("would remove {orphan_hash}")), "{said}");
	assert!(!said.contains(&referenced.to_string()), "{said}");
	assert!(present(orphan_hash).await && present(referenced).await);
	// for real: the orphan goes, the contribution's blob stays
	let said = gc(&["--grace", "0s"]);
	assert!(said.contains(&format!("removed {orphan_hash}")), "{said}");
	assert!(said.contains("1 referenced on chain"), "{said}");
	assert!(!present(orphan_hash).await);
	assert!(present(referenced).await);
	assert_eq!(walk(blobs.path().join("blobs")), 1);
}

/// Signs an attestation for contribution `id` with //Charlie's key (the DAO's registered
/// signer), as the collective server will, and relays it unsigned.
pub(crate) async fn attest(node: &Node, id: u64, ciphertext_hash: &Value) {
	let chain = node.chain().await.unwrap();
	let at = chain.at_finalized().await.unwrap();
	let hash: [u8; 32] = hex::decode(ciphertext_hash.as_str().unwrap().trim_start_matches("0x"))
		.unwrap()
		.try_into()
		.unwrap();
	let contributor = at.contribution(id).await.unwrap().unwrap().contributor.0;
	let mut measurement = [0u8; 32];
	measurement[31] = 1;
	let attestation = fixtures::valid_attestation(
		0,
		id,
		contributor,
		hash,
		measurement.into(),
		at.number() + 100,
		800_000,
	);
	let signature = fixtures::sign_attestation(
		&attestation,
		chain.genesis_hash(),
		&subxt_signer::sr25519::dev::charlie(),
	);
	chain
		.submit_unsigned(&fixtures::attest_call(attestation, signature), Some(Wait::Finalized))
		.await
		.unwrap();
}

/// //Alice pays `amount` planck of rewards to DAO `dao`'s token holders.
async fn deposit_rewards(node: &Node, dao: u32, amount: u128) {
	let call = datacoop_e2e::datacoop::transactions().dataset_tokens().deposit_rewards(dao, amount);
	let chain = node.chain().await.unwrap();
	chain.submit(&call, &subxt_signer::sr25519::dev::alice(), Wait::Finalized).await.unwrap();
}

fn walk(dir: PathBuf) -> usize {
	std::fs::read_dir(dir)
		.unwrap()
		.map(|e| {
			let p = e.unwrap().path();
			if p.is_dir() {
				walk(p)
			} else {
				1
			}
		})
		.sum()
}

/// //Alice creates a DAO through the wallet, encrypted to `collective`, taking 400 bytes to
/// 1 MB (its signer, //Charlie, consents; its endpoint serves nothing: these tests attest by
/// hand), with `extra` flags of `dao create`; its id.
pub(crate) async fn create_dao(
	node: &Node,
	w: &Wallet,
	name: &str,
	token: &str,
	symbol: &str,
	collective: &datacoop_envelope::Identity,
	extra: &[&str],
) -> String {
	let chain = node.chain().await.unwrap();
	let next = chain.at_best().await.unwrap().next_dao_id().await.unwrap();
	let proof = format!(
		"0x{}",
		hex::encode(fixtures::create_key_proof(
			chain.genesis_hash(),
			&subxt_signer::sr25519::dev::alice(),
			next,
			&collective.to_public().to_bytes(),
			&subxt_signer::sr25519::dev::charlie(),
		))
	);
	let args = [
		"--account",
		"//Alice",
		"dao",
		"create",
		"--name",
		name,
		"--token-name",
		token,
		"--token-symbol",
		symbol,
		"--collective-key",
		&collective.to_public().to_string(),
		"--signer",
		"5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y",
		"--endpoint",
		"http://127.0.0.1:9/collective",
		"--measurement",
		"0x0000000000000000000000000000000000000000000000000000000000000001",
		"--min-size",
		"400",
		"--max-size",
		"1000000",
		"--reward",
		"10000000000000",
		"--key-proof",
		&proof,
	];
	let created = w.json(&[&args[..], extra].concat());
	created["id"].as_u64().unwrap().to_string()
}
