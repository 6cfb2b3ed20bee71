//! The off-chain worker against `TestOffchainExt` (the HTTP requests it must make, in order,
//! with the answers they get; an unexpected request fails the test) and
//! `TestTransactionPoolExt` (what it submits).

use std::sync::Arc;

use codec::{Decode, Encode};
use frame_support::{assert_ok, traits::Hooks};
use parking_lot::RwLock;
use sp_core::{
	offchain::{
		testing::{self, OffchainState, PoolState, TestOffchainExt, TestTransactionPoolExt},
		Externalities, HttpError, HttpRequestId, HttpRequestStatus, OffchainDbExt,
		OffchainWorkerExt, OpaqueNetworkState, Timestamp, TransactionPoolExt,
	},
	sr25519, OpaquePeerId, H256,
};
use sp_runtime::Permill;

use crate::{
	mock::*,
	offchain::{record, record_key, Record, MAX_BACKOFF, RESUBMIT_AFTER},
	Call, ContributionStatus, Contributions as ContributionsStorage, Pending, PendingDaos,
};

const SIZE: u64 = 5_000;
const VALIDATE: &str = "http://collective.example/v1/validate";

fn blob_url(n: u8) -> String {
	format!("http://storage.example/blobs/0x{}", hex(n))
}

fn hex(n: u8) -> String {
	format!("{n:02x}").repeat(32)
}

struct World {
	ext: sp_io::TestExternalities,
	http: Arc<RwLock<OffchainState>>,
	pool: Arc<RwLock<PoolState>>,
}

fn world() -> World {
	world_with_stalled(None)
}

/// A world in which the answers of the endpoint `stalled` (if any) send their headers and
/// then nothing (see [`Stalling`]).
fn world_with_stalled(stalled: Option<&str>) -> World {
	let mut ext = new_test_ext();
	let (offchain, http) = TestOffchainExt::new();
	let (pool_ext, pool) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	let stalling =
		Stalling { inner: offchain, uri: stalled.map(str::to_owned), ids: Default::default() };
	ext.register_extension(OffchainWorkerExt::new(stalling));
	ext.register_extension(TransactionPoolExt::new(pool_ext));
	World { ext, http, pool }
}

/// `TestOffchainExt`, except that the bodies of the answers from `uri` never come, as from an
/// endpoint that sends its headers and then holds the connection open. A body read with a
/// deadline ends at it (`DeadlineReached`, as on a node); one without a deadline would wait
/// on a node for as long as the connection stays open, so here it fails the test.
struct Stalling {
	inner: TestOffchainExt,
	uri: Option<String>,
	ids: Vec<HttpRequestId>,
}

impl Externalities for Stalling {
	fn is_validator(&self) -> bool {
		self.inner.is_validator()
	}
	fn network_state(&self) -> Result<OpaqueNetworkState, ()> {
		self.inner.network_state()
	}
	fn timestamp(&mut self) -> Timestamp {
		self.inner.timestamp()
	}
	fn sleep_until(&mut self, deadline: Timestamp) {
		self.inner.sleep_until(deadline)
	}
	fn random_seed(&mut self) -> [u8; 32] {
		self.inner.random_seed()
	}
	fn http_request_start(
		&mut self,
		method: &str,
		uri: &str,
		meta: &[u8],
	) -> Result<HttpRequestId, ()> {
		let id = self.inner.http_request_start(method, uri, meta)?;
		if self.uri.as_deref() == Some(uri) {
			self.ids.push(id);
		}
		Ok(id)
	}
	fn http_request_add_header(
		&mut self,
		id: HttpRequestId,
		name: &str,
		value: &str,
	) -> Result<(), ()> {
		self.inner.http_request_add_header(id, name, value)
	}
	fn http_request_write_body(
		&mut self,
		id: HttpRequestId,
		chunk: &[u8],
		deadline: Option<Timestamp>,
	) -> Result<(), HttpError> {
		self.inner.http_request_write_body(id, chunk, deadline)
	}
	fn http_response_wait(
		&mut self,
		ids: &[HttpRequestId],
		deadline: Option<Timestamp>,
	) -> Vec<HttpRequestStatus> {
		self.inner.http_response_wait(ids, deadline)
	}
	fn http_response_headers(&mut self, id: HttpRequestId) -> Vec<(Vec<u8>, Vec<u8>)> {
		self.inner.http_response_headers(id)
	}
	fn http_response_read_body(
		&mut self,
		id: HttpRequestId,
		buffer: &mut [u8],
		deadline: Option<Timestamp>,
	) -> Result<usize, HttpError> {
		if !self.ids.contains(&id) {
			return self.inner.http_response_read_body(id, buffer, deadline);
		}
		match deadline {
			Some(_) => Err(HttpError::DeadlineReached),
			None => {
				panic!("a body read with no deadline: on a node the worker would wait for ever")
			},
		}
	}
	fn set_authorized_nodes(&mut self, nodes: Vec<OpaquePeerId>, authorized_only: bool) {
		self.inner.set_authorized_nodes(nodes, authorized_only)
	}
}

impl World {
	fn run<R>(&mut self, f: impl FnOnce() -> R) -> R {
		self.ext.execute_with(f)
	}

	/// Storage will answer the HEAD of blob `n` with `size`.
	fn expect_head(&self, n: u8, size: u64) {
		self.http.write().expect_request(testing::PendingRequest {
			method: "HEAD".into(),
			uri: blob_url(n),
			sent: true,
			response: Some(vec![]),
			response_headers: vec![("content-length".into(), size.to_string())],
			..Default::default()
		});
	}

	/// The collective server will answer the validation of contribution `id` with `answer`.
	fn expect_validate(&self, id: u64, answer: Vec<u8>) {
		self.http.write().expect_request(testing::PendingRequest {
			method: "POST".into(),
			uri: VALIDATE.into(),
			headers: vec![
				("Content-Type".into(), "application/json".into()),
				("Accept".into(), "application/scale".into()),
			],
			body: format!("{{\"contribution\":{id}}}").into_bytes(),
			sent: true,
			response: Some(answer),
			..Default::default()
		});
	}

	/// Runs the worker of block `n`.
	fn worker_at(&mut self, n: BlockNumber) {
		self.run(|| {
			System::set_block_number(n);
			Contributions::offchain_worker(n);
		});
	}

	/// The contributions whose attestations were submitted so far, and empties the pool.
	fn attested(&self) -> Vec<u64> {
		self.submitted()
			.into_iter()
			.map(|c| match c {
				Call::attest { attestation, .. } => attestation.contribution_id,
				other => panic!("not attest: {other:?}"),
			})
			.collect()
	}

	/// The attestations submitted so far, and empties the pool.
	fn submitted(&self) -> Vec<Call<Test>> {
		let txs = std::mem::take(&mut self.pool.write().transactions);
		txs.into_iter()
			.map(|tx| match Extrinsic::decode(&mut &tx[..]).expect("an extrinsic").function {
				RuntimeCall::Contributions(call) => call,
				other => panic!("not an attestation: {other:?}"),
			})
			.collect()
	}
}

/// Submits a contribution of blob `n` by Bob to `dao`.
fn submit(dao: u32, n: u8) -> u64 {
	let id = crate::NextContributionId::<Test>::get();
	assert_ok!(Contributions::submit(
		RuntimeOrigin::signed(BOB),
		dao,
		blob_url(n).into_bytes(),
		H256::repeat_byte(n),
		SIZE
	));
	id
}

/// The collective server's SCALE answer for contribution `id` (blob `n`), signed by `key`.
fn answer(id: u64, n: u8, key: &sr25519::Pair) -> Vec<u8> {
	let a = attestation(0, id, H256::repeat_byte(n), Permill::from_percent(80));
	(a.clone(), sign(&a, key).0).encode()
}

/// Includes a submitted attestation as a block would.
fn include(call: Call<Test>) {
	let Call::attest { attestation, signature } = call else { panic!("not attest") };
	assert_ok!(Contributions::attest(RuntimeOrigin::none(), attestation, signature));
}

/// The order the worker takes Pending contributions in from a fresh start: the DAOs in turn
/// (in `PendingDaos` order), one contribution of each per turn, each DAO's queue in order.
fn job_order() -> Vec<u64> {
	let queues: Vec<Vec<u64>> = PendingDaos::<Test>::iter_keys()
		.map(|dao| Pending::<Test>::iter_key_prefix(dao).collect())
		.collect();
	let longest = queues.iter().map(Vec::len).max().unwrap_or(0);
	(0..longest).flat_map(|i| queues.iter().filter_map(move |q| q.get(i).copied())).collect()
}

fn check_invariants(w: &mut World) {
	w.run(|| Contributions::do_try_state().expect("invariants"));
}

#[test]
fn a_pending_contribution_is_checked_in_storage_validated_and_its_attestation_submitted() {
	let mut w = world();
	let key = collective_key("Collective");
	let id = w.run(|| {
		let dao = create_dao(&key);
		submit(dao, 1)
	});
	w.expect_head(1, SIZE);
	let body = w.run(|| answer(id, 1, &key));
	w.expect_validate(id, body);
	w.worker_at(2);
	let calls = w.submitted();
	assert_eq!(calls.len(), 1);
	let r = w.run(|| record(id)).unwrap();
	assert_eq!(r, Record { attempts: 0, next_attempt: 2 + RESUBMIT_AFTER, locked_until: 0 });

	// While the attestation is in the pool, nobody asks again (an unexpected request panics).
	w.worker_at(3);
	assert!(w.submitted().is_empty());

	w.run(|| include(calls.into_iter().next().unwrap()));
	w.run(|| {
		assert!(matches!(
			ContributionsStorage::<Test>::get(id).unwrap().status,
			ContributionStatus::Accepted { .. }
		));
		assert!(!Pending::<Test>::contains_key(0, id));
	});
	// The next worker tidies the record away.
	w.worker_at(4);
	assert_eq!(w.run(|| record(id)), None);
	check_invariants(&mut w);
}

#[test]
fn a_missing_blob_or_a_down_server_is_retried_with_backoff_until_it_works() {
	let mut w = world();
	let key = collective_key("Collective");
	let id = w.run(|| {
		let dao = create_dao(&key);
		submit(dao, 1)
	});
	// Block 2: storage has another size: no validation asked, retry at block 3.
	w.expect_head(1, SIZE - 1);
	w.worker_at(2);
	assert_eq!(w.run(|| record(id)).unwrap().next_attempt, 3);
	// Block 3: the blob is there but the server answers an error page: retry at 3 + 2.
	w.expect_head(1, SIZE);
	w.expect_validate(id, b"<html>502 Bad Gateway</html>".to_vec());
	w.worker_at(3);
	assert_eq!(
		w.run(|| record(id)).unwrap(),
		Record { attempts: 2, next_attempt: 5, locked_until: 0 }
	);
	// Block 4: not due: no request at all.
	w.worker_at(4);
	// Block 5: still failing: 4 blocks.
	w.expect_head(1, SIZE);
	w.expect_validate(id, vec![]);
	w.worker_at(5);
	assert_eq!(w.run(|| record(id)).unwrap().next_attempt, 9);
	assert!(w.submitted().is_empty());
	// Block 9: the server is back.
	w.expect_head(1, SIZE);
	let body = w.run(|| answer(id, 1, &key));
	w.expect_validate(id, body);
	w.worker_at(9);
	let calls = w.submitted();
	assert_eq!(calls.len(), 1);
	w.run(|| include(calls.into_iter().next().unwrap()));
	check_invariants(&mut w);
}

#[test]
fn backoff_stops_growing_at_its_cap() {
	let mut w = world();
	let key = collective_key("Collective");
	let id = w.run(|| {
		let dao = create_dao(&key);
		submit(dao, 1)
	});
	let mut block = 2;
	for _ in 0..9 {
		w.expect_head(1, 0);
		w.worker_at(block);
		block = w.run(|| record(id)).unwrap().next_attempt;
	}
	let r = w.run(|| record(id)).unwrap();
	assert_eq!(r.attempts, 9);
	// 1, 2, 4, … 32, 32, 32, 32 blocks
	assert_eq!(block, 2 + 1 + 2 + 4 + 8 + 16 + 32 * 4);
	assert_eq!(MAX_BACKOFF, 32);
}

#[test]
fn answers_that_do_not_check_are_not_submitted() {
	let mut w = world();
	let key = collective_key("Collective");
	let (first, second) = w.run(|| {
		let dao = create_dao(&key);
		(submit(dao, 1), submit(dao, 2))
	});
	let order: Vec<u64> = w.run(job_order);
	// One signed by a key the DAO did not register, one about the other contribution.
	for id in &order {
		w.expect_head(if *id == first { 1 } else { 2 }, SIZE);
	}
	for id in &order {
		let body = if *id == first {
			w.run(|| answer(first, 1, &collective_key("Mallory")))
		} else {
			w.run(|| answer(first, 1, &key))
		};
		w.expect_validate(*id, body);
	}
	w.worker_at(2);
	assert!(w.submitted().is_empty());
	for id in [first, second] {
		assert_eq!(w.run(|| record(id)).unwrap().attempts, 1);
	}
	check_invariants(&mut w);
}

#[test]
fn a_contribution_locked_by_another_worker_is_left_alone_until_the_lock_expires() {
	let mut w = world();
	let key = collective_key("Collective");
	let id = w.run(|| {
		let dao = create_dao(&key);
		submit(dao, 1)
	});
	let now = w.http.read().timestamp.unix_millis();
	let held = Record { attempts: 0, next_attempt: 0, locked_until: now + 10_000 };
	w.run(|| {
		sp_io::offchain::local_storage_set(
			sp_core::offchain::StorageKind::PERSISTENT,
			&record_key(id),
			&held.encode(),
		)
	});
	w.worker_at(2);
	assert_eq!(w.run(|| record(id)).unwrap(), held);
	// The other worker died: its lock runs out.
	w.http.write().timestamp = sp_core::offchain::Timestamp::from_unix_millis(now + 10_001);
	w.expect_head(1, SIZE);
	let body = w.run(|| answer(id, 1, &key));
	w.expect_validate(id, body);
	w.worker_at(3);
	assert_eq!(w.submitted().len(), 1);
}

#[test]
fn each_block_asks_about_a_bounded_number_and_walks_the_queue() {
	let mut w = world();
	let key = collective_key("Collective");
	w.run(|| {
		let dao = create_dao(&key);
		for n in 1..=5 {
			submit(dao, n);
		}
	});
	let order: Vec<u64> = w.run(job_order);
	assert_eq!(order.len(), 5);
	// OCW_REQUESTS = 2 per block: 2, then the next 2, then the last one.
	let mut block = 2;
	for batch in order.chunks(OCW_REQUESTS as usize) {
		for id in batch {
			w.expect_head(*id as u8 + 1, SIZE);
		}
		for id in batch {
			let body = w.run(|| answer(*id, *id as u8 + 1, &key));
			w.expect_validate(*id, body);
		}
		w.worker_at(block);
		let asked = w.attested();
		assert_eq!(asked, batch.to_vec());
		block += 1;
	}
	// All five submitted and waiting: the next block asks nobody.
	w.worker_at(block);
	check_invariants(&mut w);
}

#[test]
fn an_endpoint_that_stalls_after_its_headers_costs_one_deadline_not_the_worker() {
	const STALLED: &str = "http://stalled.example/v1/validate";
	let mut w = world_with_stalled(Some(STALLED));
	let (key, evil) = (collective_key("Collective"), collective_key("Stalling"));
	let (honest, stalled) = w.run(|| {
		let good = create_dao(&key);
		let bad = create_dao_at(&evil, b"http://stalled.example");
		(submit(good, 1), submit(bad, 2))
	});
	let blob = |id: u64| if id == honest { 1 } else { 2 };
	let order: Vec<u64> = w.run(job_order);
	for id in &order {
		w.expect_head(blob(*id), SIZE);
	}
	for id in &order {
		if *id == honest {
			let body = w.run(|| answer(honest, 1, &key));
			w.expect_validate(honest, body);
		} else {
			w.http.write().expect_request(testing::PendingRequest {
				method: "POST".into(),
				uri: STALLED.into(),
				headers: vec![
					("Content-Type".into(), "application/json".into()),
					("Accept".into(), "application/scale".into()),
				],
				body: format!("{{\"contribution\":{stalled}}}").into_bytes(),
				sent: true,
				response: Some(vec![]),
				..Default::default()
			});
		}
	}
	w.worker_at(2);
	// The honest DAO's contribution is attested in the same block...
	let asked = w.attested();
	assert_eq!(asked, vec![honest]);
	// ...and the stalled one backs off like any failure.
	let r = w.run(|| record(stalled)).unwrap();
	assert_eq!(r, Record { attempts: 1, next_attempt: 3, locked_until: 0 });
	check_invariants(&mut w);
}

/// One DAO floods the queue with contributions whose blobs never check out; another DAO's
/// contribution is still asked about in the very next block. (Before, the worker walked one
/// queue of all DAOs' contributions, 64 entries a block, and the flood took every slot.)
#[test]
fn a_flood_in_one_dao_does_not_starve_another() {
	let mut w = world();
	let (key, flooder) = (collective_key("Collective"), collective_key("Flooder"));
	let honest = w.run(|| {
		let good = create_dao(&key);
		let bad = create_dao_at(&flooder, b"http://flood.example");
		for n in 10..110 {
			submit(bad, n);
		}
		submit(good, 1)
	});
	// Each block: one turn for each DAO (OCW_REQUESTS = 2).
	let daos: Vec<u32> = w.run(|| PendingDaos::<Test>::iter_keys().collect());
	let flood_first: u64 = w.run(|| Pending::<Test>::iter_key_prefix(1).next().unwrap());
	for dao in &daos {
		if *dao == 0 {
			w.expect_head(1, SIZE);
		} else {
			// The flood's blob is not there.
			w.expect_head((flood_first + 10) as u8, 0);
		}
	}
	let body = w.run(|| answer(honest, 1, &key));
	w.expect_validate(honest, body);
	w.worker_at(2);
	let asked = w.attested();
	assert_eq!(asked, vec![honest]);
	check_invariants(&mut w);
}

/// A validator whose operator lists the hosts its worker may call asks no other host: a
/// DAO whose endpoint is not listed, or a contribution whose blob URL is not, is passed over
/// (an unexpected request would fail the test).
#[test]
fn the_operators_host_list_is_obeyed() {
	let mut w = world();
	let (key, other) = (collective_key("Collective"), collective_key("Unlisted"));
	let listed = w.run(|| {
		let dao = create_dao(&key);
		let unlisted_dao = create_dao_at(&other, b"http://unlisted.example");
		submit(unlisted_dao, 2);
		let id = submit(dao, 1);
		// Blob on a host the operator did not list.
		assert_ok!(Contributions::submit(
			RuntimeOrigin::signed(BOB),
			dao,
			b"http://elsewhere.example/blobs/0x03".to_vec(),
			H256::repeat_byte(3),
			SIZE
		));
		let list: Vec<Vec<u8>> = vec![b"collective.example".to_vec(), b"storage.example".to_vec()];
		sp_io::offchain::local_storage_set(
			sp_core::offchain::StorageKind::PERSISTENT,
			datacoop_primitives::url::OFFCHAIN_ALLOWED_HOSTS_KEY,
			&list.encode(),
		);
		id
	});
	w.expect_head(1, SIZE);
	let body = w.run(|| answer(listed, 1, &key));
	w.expect_validate(listed, body);
	w.worker_at(2);
	assert_eq!(w.submitted().len(), 1);
	w.worker_at(3);
	assert!(w.submitted().is_empty());
	check_invariants(&mut w);
}
