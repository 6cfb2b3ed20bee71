//! `datacoop-storage gc` against a stand-in for the node's JSON-RPC: what a real node cannot
//! easily be made to do (fail, stall, sync, be another chain) must remove nothing. The same
//! command against the real node: wallet/tests/wallet.rs.

use std::{
	collections::HashSet,
	path::Path,
	process::{Command, Output},
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use crate::common::{chunks, random};
use axum::{extract::State, routing::post, Json, Router};
use datacoop_storage::{BlobHash, Store};
use serde_json::{json, Value};

const GENESIS: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

#[derive(Clone, Copy, PartialEq)]
enum Mode {
	Honest,
	/// `state_call` answers an error (as a runtime without the API does).
	Failing,
	/// Errors for one hash only.
	FailingFor(BlobHash),
	Syncing,
	/// Answers `state_call` with something not a SCALE bool.
	Garbage,
	/// Answers nothing.
	Stalled,
}

struct StandIn {
	referenced: HashSet<BlobHash>,
	mode: Mode,
}

async fn rpc(State(s): State<Arc<Mutex<StandIn>>>, Json(request): Json<Value>) -> Json<Value> {
	let (mode, referenced) = {
		let s = s.lock().unwrap();
		(s.mode, s.referenced.clone())
	};
	if mode == Mode::Stalled {
		tokio::time::sleep(Duration::from_secs(60)).await;
	}
	let id = request["id"].clone();
	let answer = |result: Value| Json(json!({"jsonrpc": "2.0", "id": id, "result": result}));
	let error = |message: &str| {
		Json(
			json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32000, "message": message}}),
		)
	};
	match request["method"].as_str().unwrap_or_default() {
		"system_health" => answer(
			json!({"peers": 0, "isSyncing": mode == Mode::Syncing, "shouldHavePeers": false}),
		),
		"chain_getBlockHash" => answer(json!(GENESIS)),
		"state_call" => {
			assert_eq!(request["params"][0], "ContributionsApi_references_ciphertext");
			let hash: BlobHash = request["params"][1].as_str().unwrap().parse().unwrap();
			match mode {
				Mode::Failing => error("Execution failed: Other: Exported method ContributionsApi_references_ciphertext is not found"),
				Mode::FailingFor(h) if h == hash => error("Execution failed"),
				Mode::Garbage => answer(json!("0x02")),
				_ => answer(json!(if referenced.contains(&hash) { "0x01" } else { "0x00" })),
			}
		},
		other => error(&format!("no method {other}")),
	}
}

async fn stand_in(referenced: &[BlobHash]) -> (String, Arc<Mutex<StandIn>>) {
	let state = Arc::new(Mutex::new(StandIn {
		referenced: referenced.iter().copied().collect(),
		mode: Mode::Honest,
	}));
	let app = Router::new().route("/", post(rpc)).with_state(state.clone());
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
	(url, state)
}

async fn gc(dir: &Path, node: &str, extra: &[&str]) -> Output {
	let mut c = Command::new(env!("CARGO_BIN_EXE_datacoop-storage"));
	c.args(["gc", "--store", dir.to_str().unwrap(), "--node", node]).args(extra);
	tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap()
}

fn text(out: &Output) -> String {
	format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn kept(dir: &Path, hash: &BlobHash) -> bool {
	Store::open(dir.to_str().unwrap()).await.unwrap().size(hash).await.unwrap().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_removes_only_old_unreferenced_blobs_and_nothing_on_doubt() {
	let dir = tempfile::tempdir().unwrap();
	let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
	let (a, b, c) = (random(1000), random(2000), random(3000));
	let (ha, hb, hc) = (BlobHash::of(&a), BlobHash::of(&b), BlobHash::of(&c));
	for blob in [&a, &b, &c] {
		store.put(None, chunks(blob, 500), 1 << 20).await.unwrap();
	}
	// a is referenced by a contribution; b and c are not
	let (node, state) = stand_in(&[ha]).await;
	let all = |dir: &Path| {
		let dir = dir.to_owned();
		async move { (kept(&dir, &ha).await, kept(&dir, &hb).await, kept(&dir, &hc).await) }
	};

	// within the grace period: nothing considered
	let out = gc(dir.path(), &node, &["--grace", "1h"]).await;
	assert!(out.status.success(), "{}", text(&out));
	assert!(text(&out).contains("3 within the grace period"), "{}", text(&out));
	assert_eq!(all(dir.path()).await, (true, true, true));

	// dry run: says what it would remove, removes nothing
	let out = gc(dir.path(), &node, &["--grace", "0s", "--dry-run"]).await;
	assert!(out.status.success(), "{}", text(&out));
	let said = String::from_utf8_lossy(&out.stdout);
	assert!(said.contains(&format!("would remove {hb}")), "{said}");
	assert!(said.contains(&format!("would remove {hc}")), "{said}");
	assert!(!said.contains(&ha.to_string()), "{said}");
	assert_eq!(all(dir.path()).await, (true, true, true));

	// doubt of every kind removes nothing, and says so
	for (mode, expect) in
		[(Mode::Failing, "not found"), (Mode::Syncing, "syncing"), (Mode::Garbage, "unexpected")]
	{
		state.lock().unwrap().mode = mode;
		let out = gc(dir.path(), &node, &["--grace", "0s"]).await;
		assert!(!out.status.success(), "{}", text(&out));
		assert!(text(&out).contains(expect), "{}", text(&out));
		assert_eq!(all(dir.path()).await, (true, true, true));
	}
	// a node on another chain
	state.lock().unwrap().mode = Mode::Honest;
	let out =
		gc(dir.path(), &node, &["--grace", "0s", "--genesis", &format!("0x{}", "22".repeat(32))])
			.await;
	assert!(!out.status.success() && text(&out).contains("genesis"), "{}", text(&out));
	assert_eq!(all(dir.path()).await, (true, true, true));
	// a node that stalls: given up at the deadline
	state.lock().unwrap().mode = Mode::Stalled;
	let started = Instant::now();
	let out = gc(dir.path(), &node, &["--grace", "0s", "--rpc-timeout", "1s"]).await;
	assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
	assert!(!out.status.success(), "{}", text(&out));
	assert_eq!(all(dir.path()).await, (true, true, true));
	// no node at all
	let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
	let out = gc(dir.path(), &format!("ws://127.0.0.1:{port}"), &["--grace", "0s"]).await;
	assert!(!out.status.success() && text(&out).contains("unreachable"), "{}", text(&out));
	assert_eq!(all(dir.path()).await, (true, true, true));

	// the chain cannot answer for c: c is kept, b removed, and the run says it failed
	state.lock().unwrap().mode = Mode::FailingFor(hc);
	let out = gc(dir.path(), &node, &["--grace", "0s", "--genesis", GENESIS]).await;
	assert!(!out.status.success(), "{}", text(&out));
	assert!(text(&out).contains(&format!("kept {hc} on doubt")), "{}", text(&out));
	assert_eq!(all(dir.path()).await, (true, false, true));

	// all well: c goes too, a stays
	state.lock().unwrap().mode = Mode::Honest;
	let out = gc(dir.path(), &node, &["--grace", "0s"]).await;
	assert!(out.status.success(), "{}", text(&out));
	assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("removed {hc}")));
	assert_eq!(all(dir.path()).await, (true, false, false));
}
