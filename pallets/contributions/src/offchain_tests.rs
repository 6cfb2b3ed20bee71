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
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	},
	sr25519, H256,
};
use sp_runtime::Permill;

use crate::{
	mock::*,
	offchain::{record, record_key, Record, MAX_BACKOFF, RESUBMIT_AFTER},
	Call, ContributionStatus, Contributions as ContributionsStorage, Pending,
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
	let mut ext = new_test_ext();
	let (offchain, http) = TestOffchainExt::new();
	let (pool_ext, pool) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool_ext));
	World { ext, http, pool }
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
		assert!(!Pending::<Test>::contains_key(id));
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
	let order: Vec<u64> = w.run(|| Pending::<Test>::iter_keys().collect());
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
	let order: Vec<u64> = w.run(|| Pending::<Test>::iter_keys().collect());
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
		let asked: Vec<u64> = w
			.submitted()
			.into_iter()
			.map(|c| match c {
				Call::attest { attestation, .. } => attestation.contribution_id,
				_ => panic!(),
			})
			.collect();
		assert_eq!(asked, batch.to_vec());
		block += 1;
	}
	// All five submitted and waiting: the next block asks nobody.
	w.worker_at(block);
	check_invariants(&mut w);
}
