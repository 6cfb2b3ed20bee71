//! The off-chain worker that relays attestations (steps 5 to 7 of the contribution path).
//!
//! Each block, on a validator, it takes up to `OffchainRequestsPerBlock` Pending contributions
//! whose DAO names a collective endpoint, the DAOs taking turns,
//! and for each:
//! 1. checks with storage (`HEAD` on the contribution's URL) that the blob is there with the
//!    declared size;
//! 2. asks the DAO's collective server, `POST {endpoint}/v1/validate`
//!    `{"contribution": ID}` with `Accept: application/scale`, for the signed attestation;
//! 3. checks the answer as the pool will ([`Pallet::check_attestation`]) and submits it as an
//!    unsigned `attest` transaction.
//!
//! The requests of one block run concurrently, each with a deadline, bodies included (an
//! endpoint that sends its headers and then nothing costs one deadline, not the worker). A failed step (blob
//! missing or of another size, server down, slow, or answering something that does not
//! check) is retried in a later block with exponential backoff (1, 2, 4, … up to
//! `MAX_BACKOFF` blocks), so a contribution whose server was down is attested once it is back;
//! one whose blob never appears stays Pending until its contributor cancels it.
//!
//! A validator's operator may list the hosts its worker calls (`datacoop-node
//! --offchain-allow-host HOST[:PORT]`, kept under `OFFCHAIN_ALLOWED_HOSTS_KEY` in the
//! persistent off-chain storage): then DAOs whose endpoint and contributions whose URL name
//! another host are passed over by this validator.
//!
//! State, in the node's persistent off-chain storage (local to this validator):
//! - one record per contribution it has worked on: a lock (a deadline in milliseconds: the
//!   workers of two blocks can run at once, and only the one that set it asks; a worker that
//!   dies leaves a lock that expires), the attempts so far and the first block of the next;
//! - a cursor into `PendingDaos`, so the DAOs take turns, and one into each DAO's `Pending`
//!   queue, so a long queue is walked a slice per turn (at most `SCAN_PER_DAO` entries read per
//!   DAO and turn, `DAOS_PER_BLOCK` DAOs per block, whatever the backlog);
//! - a bounded watch list of the contributions with a record, so records of contributions no
//!   longer Pending are deleted (at most `TIDY` per block): the off-chain storage does not
//!   grow with the chain's history.

use alloc::{format, vec::Vec};
use codec::{Decode, DecodeAll, Encode};
use datacoop_primitives::traits::DaoRegistry;
use datacoop_primitives::{
	contribution::{Attestation, ContributionId},
	dao::DaoId,
	url::{allowed_by, OFFCHAIN_ALLOWED_HOSTS_KEY},
};
use frame_support::traits::Get;
use frame_system::{offchain::SubmitTransaction, pallet_prelude::BlockNumberFor};
use sp_core::sr25519;
use sp_runtime::{
	offchain::{
		http,
		storage::{MutateStorageError, StorageRetrievalError, StorageValueRef},
		Duration, HttpError, Timestamp,
	},
	SaturatedConversion,
};

use crate::{
	Call, Config, ContributionOf, ContributionStatus, Contributions, Pallet, Pending, PendingDaos,
};

/// DAOs with Pending contributions visited per block, at most.
pub const DAOS_PER_BLOCK: usize = 16;
/// Entries of one DAO's Pending queue read per turn, at most.
pub const SCAN_PER_DAO: u32 = 16;
/// Longest wait between two attempts, in blocks.
pub const MAX_BACKOFF: u64 = 32;
/// Blocks before asking again about a contribution whose attestation was submitted (it is
/// in the pool; if it never lands, e.g. because it expired, it is asked for again).
pub const RESUBMIT_AFTER: u64 = 10;
/// How long a worker holds a contribution's lock, at most.
pub const LOCK_MS: u64 = 60_000;
/// Deadline of the storage check.
pub const STORAGE_DEADLINE_MS: u64 = 3_000;
/// Deadline of the collective server's validation (it fetches and decrypts the blob).
pub const VALIDATE_DEADLINE_MS: u64 = 30_000;
/// Largest answer read from a collective server (an attestation is a few hundred bytes).
pub const MAX_ANSWER: usize = 4_096;
/// Contributions on the watch list, at most; records watched and tidied per block.
pub const WATCH_LEN: usize = 1_024;
pub const TIDY: usize = 16;

const CURSOR: &[u8] = b"datacoop/contributions/ocw/cursor";
const DAO_CURSOR: &[u8] = b"datacoop/contributions/ocw/cursor/";
const WATCH: &[u8] = b"datacoop/contributions/ocw/watch";
const RECORD: &[u8] = b"datacoop/contributions/ocw/record/";

/// What this validator knows about one contribution.
#[derive(Encode, Decode, Default, Clone, Debug, PartialEq, Eq)]
pub struct Record {
	/// Attempts that failed in a row.
	pub attempts: u32,
	/// The first block of the next attempt.
	pub next_attempt: u64,
	/// Held by a worker until this time (ms since the epoch); 0: free.
	pub locked_until: u64,
}

/// The storage key of contribution `id`'s record.
pub fn record_key(id: ContributionId) -> Vec<u8> {
	let mut key = RECORD.to_vec();
	key.extend_from_slice(&id.to_le_bytes());
	key
}

/// Where the worker's last turn at DAO `dao_id`'s queue stopped.
fn dao_cursor_key(dao_id: DaoId) -> Vec<u8> {
	let mut key = DAO_CURSOR.to_vec();
	key.extend_from_slice(&dao_id.to_le_bytes());
	key
}

/// Contribution `id`'s record, if this validator has one.
pub fn record(id: ContributionId) -> Option<Record> {
	StorageValueRef::persistent(&record_key(id)).get::<Record>().ok().flatten()
}

/// How one attempt ended.
enum Outcome {
	Submitted,
	Failed,
}

/// One contribution being worked on in this block.
struct Job<T: Config> {
	id: ContributionId,
	contribution: ContributionOf<T>,
	validate_url: Vec<u8>,
}

impl<T: Config> Pallet<T> {
	/// The worker's entry point: see the module docs.
	pub fn relay_attestations(block: BlockNumberFor<T>) {
		if !sp_io::offchain::is_validator() {
			return;
		}
		let now: u64 = block.saturated_into();
		Self::tidy_watch_list();
		// The operator's list of hosts this validator may call (`--offchain-allow-host`).
		let allowed: Option<Vec<Vec<u8>>> =
			StorageValueRef::persistent(OFFCHAIN_ALLOWED_HOSTS_KEY).get().ok().flatten();
		let jobs = Self::lock_due_jobs(now, allowed.as_deref());
		if jobs.is_empty() {
			return;
		}
		let with_blob = Self::check_blobs(&jobs);
		let mut outcomes: Vec<(ContributionId, Outcome)> = Vec::with_capacity(jobs.len());
		let mut asks = Vec::new();
		for (job, ok) in jobs.iter().zip(with_blob) {
			if ok {
				asks.push(job);
			} else {
				outcomes.push((job.id, Outcome::Failed));
			}
		}
		for (job, answer) in asks.iter().zip(Self::ask_collectives(&asks)) {
			let outcome = match answer.and_then(|body| Self::submit_answer(job.id, &body)) {
				Ok(()) => Outcome::Submitted,
				Err(why) => {
					log::info!(
						target: "runtime::contributions",
						"contribution #{}: {}; will retry",
						job.id,
						why
					);
					Outcome::Failed
				},
			};
			outcomes.push((job.id, outcome));
		}
		for (id, outcome) in outcomes {
			Self::unlock_job(id, now, outcome);
		}
	}

	/// Up to `OffchainRequestsPerBlock` Pending contributions due for an attempt and not
	/// locked by another worker, locked for this one. The DAOs with Pending contributions take
	/// turns: this block visits up to `DAOS_PER_BLOCK` of them, after those the last block
	/// visited, and takes one job from each in turn until it has enough, so a DAO flooded with
	/// contributions gets no more turns than any other. At most `SCAN_PER_DAO` entries of a
	/// DAO's queue are read per turn, from where its last turn stopped.
	fn lock_due_jobs(now: u64, allowed: Option<&[Vec<u8>]>) -> Vec<Job<T>> {
		let wanted = T::OffchainRequestsPerBlock::get() as usize;
		let mut cursor_ref = StorageValueRef::persistent(CURSOR);
		let cursor: Vec<u8> = cursor_ref.get().ok().flatten().unwrap_or_default();
		let mut daos_iter = if cursor.is_empty() {
			PendingDaos::<T>::iter_keys()
		} else {
			PendingDaos::<T>::iter_keys_from(cursor)
		};
		let daos: Vec<DaoId> = daos_iter.by_ref().take(DAOS_PER_BLOCK).collect();
		match (daos.last(), daos_iter.next().is_some()) {
			// The next block goes on after the last DAO visited.
			(Some(last), true) => cursor_ref.set(&PendingDaos::<T>::hashed_key_for(last)),
			// The end of the list: the next block starts again from the beginning.
			_ => cursor_ref.clear(),
		}
		let mut jobs = Vec::new();
		let mut turns: Vec<DaoId> = daos;
		while jobs.len() < wanted && !turns.is_empty() {
			turns.retain(|dao_id| {
				if jobs.len() >= wanted {
					return true;
				}
				match Self::next_job(*dao_id, now, allowed) {
					Some(job) => {
						jobs.push(job);
						true
					},
					None => false,
				}
			});
		}
		jobs
	}

	/// The next job of DAO `dao_id`'s queue, locked for this worker; `None` if none of the next
	/// `SCAN_PER_DAO` entries is due (or the DAO names no collective endpoint, or one the
	/// operator's list does not allow). Contributions whose URL's host is not on the list are
	/// passed over.
	fn next_job(dao_id: DaoId, now: u64, allowed: Option<&[Vec<u8>]>) -> Option<Job<T>> {
		let may_call = |url: &[u8]| allowed.is_none_or(|list| allowed_by(list, url));
		let mut endpoint = T::Daos::collective_endpoint(dao_id).filter(|e| !e.is_empty())?;
		if !may_call(&endpoint) {
			return None;
		}
		let cursor_key = dao_cursor_key(dao_id);
		let mut cursor_ref = StorageValueRef::persistent(&cursor_key);
		let cursor: Vec<u8> = cursor_ref.get().ok().flatten().unwrap_or_default();
		let mut ids = if cursor.is_empty() {
			Pending::<T>::iter_key_prefix(dao_id)
		} else {
			Pending::<T>::iter_key_prefix_from(dao_id, cursor)
		};
		let mut found = None;
		let mut last = None;
		for _ in 0..SCAN_PER_DAO {
			let Some(id) = ids.next() else { break };
			last = Some(id);
			let Some(contribution) = Contributions::<T>::get(id) else { continue };
			if may_call(&contribution.url) && Self::lock_job(id, now) {
				found = Some((id, contribution));
				break;
			}
		}
		match (last, ids.next().is_some()) {
			(Some(id), true) => cursor_ref.set(&Pending::<T>::hashed_key_for(dao_id, id)),
			_ => cursor_ref.clear(),
		}
		let (id, contribution) = found?;
		while endpoint.last() == Some(&b'/') {
			endpoint.pop();
		}
		endpoint.extend_from_slice(b"/v1/validate");
		Some(Job { id, contribution, validate_url: endpoint })
	}

	/// Locks contribution `id` for this worker if it is due and nobody holds it.
	fn lock_job(id: ContributionId, now: u64) -> bool {
		let time = sp_io::offchain::timestamp().unix_millis();
		let key = record_key(id);
		let mut new = false;
		let claimed = StorageValueRef::persistent(&key).mutate(
			|old: Result<Option<Record>, StorageRetrievalError>| {
				let old = old.ok().flatten();
				new = old.is_none();
				let mut record = old.unwrap_or_default();
				if record.locked_until > time || record.next_attempt > now {
					return Err(());
				}
				record.locked_until = time.saturating_add(LOCK_MS);
				Ok(record)
			},
		);
		match claimed {
			Ok(_) => {
				if new {
					Self::watch(id);
				}
				true
			},
			Err(MutateStorageError::ValueFunctionFailed(())) => false,
			Err(MutateStorageError::ConcurrentModification(_)) => false,
		}
	}

	/// Unlocks contribution `id` and schedules its next attempt.
	fn unlock_job(id: ContributionId, now: u64, outcome: Outcome) {
		let key = record_key(id);
		let _ = StorageValueRef::persistent(&key).mutate(
			|old: Result<Option<Record>, StorageRetrievalError>| -> Result<Record, ()> {
				let mut record = old.ok().flatten().unwrap_or_default();
				record.locked_until = 0;
				match outcome {
					Outcome::Submitted => {
						record.attempts = 0;
						record.next_attempt = now.saturating_add(RESUBMIT_AFTER);
					},
					Outcome::Failed => {
						record.attempts = record.attempts.saturating_add(1);
						let wait = 1u64
							.checked_shl(record.attempts.saturating_sub(1))
							.unwrap_or(MAX_BACKOFF)
							.min(MAX_BACKOFF);
						record.next_attempt = now.saturating_add(wait);
					},
				}
				Ok(record)
			},
		);
	}

	/// Puts `id` on the watch list; a full list lets its oldest entry go (and its record:
	/// at worst that contribution is asked about again sooner).
	fn watch(id: ContributionId) {
		let _ = StorageValueRef::persistent(WATCH).mutate(
			|old: Result<Option<Vec<ContributionId>>, StorageRetrievalError>| -> Result<_, ()> {
				let mut list = old.ok().flatten().unwrap_or_default();
				if list.len() >= WATCH_LEN {
					let gone = list.remove(0);
					StorageValueRef::persistent(&record_key(gone)).clear();
				}
				list.push(id);
				Ok(list)
			},
		);
	}

	/// Deletes the records of the oldest watched contributions that are no longer Pending.
	fn tidy_watch_list() {
		let _ = StorageValueRef::persistent(WATCH).mutate(
			|old: Result<Option<Vec<ContributionId>>, StorageRetrievalError>| -> Result<_, ()> {
				let mut list = old.ok().flatten().unwrap_or_default();
				let head: Vec<_> = list.drain(..list.len().min(TIDY)).collect();
				for id in head {
					let pending = Contributions::<T>::get(id)
						.is_some_and(|c| c.status == ContributionStatus::Pending);
					if pending {
						// Still pending: to the back, so the next block looks at others.
						list.push(id);
					} else {
						StorageValueRef::persistent(&record_key(id)).clear();
					}
				}
				Ok(list)
			},
		);
	}

	/// For each job, whether storage has its blob with the declared size.
	fn check_blobs(jobs: &[Job<T>]) -> Vec<bool> {
		let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(STORAGE_DEADLINE_MS));
		let requests = jobs
			.iter()
			.map(|job| {
				let url = core::str::from_utf8(&job.contribution.url).ok()?;
				http::Request::get(url)
					.method(http::Method::Other("HEAD"))
					.deadline(deadline)
					.send()
					.ok()
			})
			.collect();
		let outcomes = wait_all(requests, deadline);
		outcomes
			.into_iter()
			.zip(jobs)
			.map(|(outcome, job)| {
				let Exchange::Answered(mut response) = outcome else { return false };
				let size =
					response.headers().find("content-length").and_then(|v| v.parse::<u64>().ok());
				let ok = response.code == 200 && size == Some(job.contribution.ciphertext_size);
				if !ok {
					log::info!(
						target: "runtime::contributions",
						"contribution #{}: storage answered {} with size {:?}, {} expected",
						job.id,
						response.code,
						size,
						job.contribution.ciphertext_size
					);
				}
				ok
			})
			.collect()
	}

	/// Asks each job's collective server for its attestation; the answers' bodies.
	fn ask_collectives(jobs: &[&Job<T>]) -> Vec<Result<Vec<u8>, &'static str>> {
		let deadline =
			sp_io::offchain::timestamp().add(Duration::from_millis(VALIDATE_DEADLINE_MS));
		let requests = jobs
			.iter()
			.map(|job| {
				let url = core::str::from_utf8(&job.validate_url).ok()?;
				let body = format!("{{\"contribution\":{}}}", job.id).into_bytes();
				http::Request::post(url, alloc::vec![body])
					.add_header("Content-Type", "application/json")
					.add_header("Accept", "application/scale")
					.deadline(deadline)
					.send()
					.ok()
			})
			.collect();
		wait_all(requests, deadline)
			.into_iter()
			.map(|outcome| match outcome {
				Exchange::NotSent => Err("the collective server could not be asked"),
				Exchange::TimedOut => Err("the collective server did not answer in time"),
				Exchange::Failed => Err("the collective server is unreachable"),
				Exchange::Answered(response) if response.code != 200 => {
					Err("the collective server answered with an error")
				},
				Exchange::Answered(response) => read_answer(&response, deadline),
			})
			.collect()
	}

	/// Decodes an answer, checks it as the pool will, and submits it.
	fn submit_answer(id: ContributionId, body: &[u8]) -> Result<(), &'static str> {
		let (attestation, signature) =
			<(Attestation<BlockNumberFor<T>>, [u8; 64])>::decode_all(&mut &body[..])
				.map_err(|_| "the answer is not a SCALE attestation")?;
		if attestation.contribution_id != id {
			return Err("the answer is about another contribution");
		}
		let signature = sr25519::Signature::from_raw(signature);
		Self::check_attestation(&attestation, &signature)
			.map_err(|e| -> &'static str { e.into() })?;
		let call = Call::attest { attestation, signature };
		SubmitTransaction::<T, Call<T>>::submit_transaction(T::create_bare(call.into()))
			.map_err(|()| "the transaction pool refused the attestation")
	}
}

/// What became of one HTTP request of the worker.
enum Exchange {
	/// It could not be sent (a URL that is not UTF-8, no HTTP in this node).
	NotSent,
	/// No answer before the deadline.
	TimedOut,
	/// The connection failed.
	Failed,
	Answered(http::Response),
}

/// The body of a collective server's answer, read until `deadline` and at most
/// `MAX_ANSWER` bytes. Without a deadline a body read waits as long as the connection stays
/// open: an endpoint that sends its headers and then nothing would hold this validator's
/// worker, and with it every DAO's attestations, for ever.
fn read_answer(response: &http::Response, deadline: Timestamp) -> Result<Vec<u8>, &'static str> {
	let mut body = response.body();
	body.deadline(deadline);
	let bytes: Vec<u8> = body.by_ref().take(MAX_ANSWER + 1).collect();
	match body.error() {
		Some(HttpError::DeadlineReached) => {
			Err("the collective server did not send its answer in time")
		},
		Some(_) => Err("the collective server's answer broke off"),
		None if bytes.len() > MAX_ANSWER => Err("the collective server's answer is too long"),
		None => Ok(bytes),
	}
}

/// Waits until `deadline` for all the requests that were sent (`None`: not sent) at once;
/// their outcomes, in order.
fn wait_all(requests: Vec<Option<http::PendingRequest>>, deadline: Timestamp) -> Vec<Exchange> {
	let mut outcomes = Vec::with_capacity(requests.len());
	let (mut slots, mut pending) = (Vec::new(), Vec::new());
	for (i, request) in requests.into_iter().enumerate() {
		outcomes.push(Exchange::NotSent);
		if let Some(request) = request {
			slots.push(i);
			pending.push(request);
		}
	}
	for (i, result) in slots.into_iter().zip(http::PendingRequest::try_wait_all(pending, deadline))
	{
		outcomes[i] = match result {
			Err(_) => Exchange::TimedOut,
			Ok(Err(_)) => Exchange::Failed,
			Ok(Ok(response)) => Exchange::Answered(response),
		};
	}
	outcomes
}
