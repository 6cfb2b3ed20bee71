//! Requests for a DAO's data, as a grantee signs them for the DAO's collective server.
//!
//! The collective server releases a DAO's data only to the holder of a live grant (see
//! [`crate::governance::GrantInfo`]), and only when the grantee's chain account signed the
//! request: [`request_payload`] is what it signs (sr25519, as for transactions), and the
//! `Authorization: DatacoopAccess <account>:<time>:<nonce>:<signature>` header carries the
//! signature. The server rebuilds the request from the URL, the body, that header and its own
//! genesis hash, so a request signed for another chain, another DAO, another operation or
//! other parameters does not verify; the time bounds its life and the nonce makes it good once.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use sp_runtime::traits::{BlakeTwo256, Hash};

use crate::{dao::DaoId, governance::Scope};

/// The prefix of every signed access request: no transaction, attestation, contribution
/// statement or upload token starts with it.
pub const REQUEST_CONTEXT: &[u8] = b"datacoop/access-request/v1";

/// The HTTP authorization scheme of access requests.
pub const SCHEME: &str = "DatacoopAccess";

/// What a request asks of the collective server.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub enum Operation {
	/// Every accepted contribution of the DAO the grant allows (the records for `Full`, their
	/// anonymized copies for `Anonymized`), after the one accepted as `since` if given,
	/// re-encrypted to the X25519 key `recipient`.
	Export { since: Option<u64>, recipient: [u8; 32] },
	/// The DAO's access log from record `from`, at most `limit` records.
	AccessLog { from: u64, limit: u32 },
	/// An aggregate query: the request's body (the query, JSON) hashes to `body_hash`
	/// (BLAKE2-256 of its exact bytes), so the signature covers the query as sent.
	Query { body_hash: [u8; 32] },
}

/// A request as signed. See the module docs.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub struct AccessRequest {
	/// The chain's genesis hash: the server puts in its own.
	pub genesis_hash: [u8; 32],
	/// The DAO whose data is asked for.
	pub dao_id: DaoId,
	/// The signing account (sr25519 public key): the grantee, or for the access log a holder.
	pub account: [u8; 32],
	/// What is asked.
	pub operation: Operation,
	/// When it was signed, unix seconds.
	pub time: u64,
	/// Random, so that each request is good once.
	pub nonce: [u8; 16],
}

/// The bytes an access request's signature covers: [`REQUEST_CONTEXT`] then the request,
/// SCALE-encoded (genesis hash, DAO id (u32 LE), account, the operation's index and fields,
/// time (u64 LE), nonce).
pub fn request_payload(request: &AccessRequest) -> Vec<u8> {
	let mut payload = REQUEST_CONTEXT.to_vec();
	request.encode_to(&mut payload);
	payload
}

/// The prefix of what a collective server signs about an export ([`ExportStatement`]): no
/// attestation, request or log head starts with it.
pub const EXPORT_CONTEXT: &[u8] = b"datacoop/export/v1";

/// The prefix of a signed access log head ([`LogHead`]).
pub const ACCESS_LOG_CONTEXT: &[u8] = b"datacoop/access-log/v1";

/// What the collective server signs, with its attestation key, about the files of an export:
/// one receipt per contribution released, and one at the end of a stream that ran to its end.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub enum ExportStatement {
	/// Contribution `contribution_id` was released as an age file to the request's recipient.
	Contribution {
		dao_id: DaoId,
		grant_id: u64,
		/// The nonce of the request it answers: a receipt answers one request.
		request_nonce: [u8; 16],
		contribution_id: u64,
		/// The contribution's ciphertext hash on chain.
		ciphertext_hash: [u8; 32],
		/// BLAKE2-256 of the age file's header: it binds the file key, and the payload's
		/// STREAM authentication binds every byte to that key.
		age_header_hash: [u8; 32],
		/// The age file's length in bytes.
		age_len: u64,
	},
	/// The stream ended: `count` files released (contributions, or parts of an anonymized
	/// copy), the last contribution they came from `last`, out of the contributions accepted
	/// at finalized block `finalized`. A stream without this entry was cut short.
	End {
		dao_id: DaoId,
		grant_id: u64,
		request_nonce: [u8; 16],
		finalized: u32,
		count: u64,
		last: Option<u64>,
	},
	/// Part `part` (from 0 in each stream) of an anonymized copy: an age file to the
	/// request's recipient holding `records` anonymized records. It names no contribution:
	/// contribution ids lead to contributors on chain.
	Part {
		dao_id: DaoId,
		grant_id: u64,
		request_nonce: [u8; 16],
		part: u64,
		records: u64,
		age_header_hash: [u8; 32],
		age_len: u64,
	},
}

/// The bytes an [`ExportStatement`]'s signature covers: [`EXPORT_CONTEXT`], the chain's
/// genesis hash, the statement SCALE-encoded.
pub fn export_payload(statement: &ExportStatement, genesis_hash: &[u8; 32]) -> Vec<u8> {
	let mut payload = EXPORT_CONTEXT.to_vec();
	payload.extend_from_slice(genesis_hash);
	statement.encode_to(&mut payload);
	payload
}

/// What one access record says left the collective server.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub enum Released {
	/// An export began: up to `planned` contributions (those accepted at finalized block
	/// `finalized`, after `since`), as the grant's scope says.
	Export { scope: Scope, since: Option<u64>, finalized: u32, planned: u64 },
	/// The export of the request with nonce `request_nonce` ended: `count` contributions and
	/// `bytes` bytes sent, the last of them `last`; `complete` if it ran to its end.
	ExportDone {
		request_nonce: [u8; 16],
		count: u64,
		last: Option<u64>,
		bytes: u64,
		complete: bool,
	},
	/// An aggregate query was answered: the query (its JSON body, BLAKE2-256), the privacy
	/// budget it spent (in millionths of ε), the groups answered, over `records` records.
	Query { body_hash: [u8; 32], epsilon_micro: u64, groups: u32, records: u64 },
}

/// One release of a DAO's data, in the collective server's access log.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub struct AccessRecord {
	/// Its place in the log, from 0.
	pub seq: u64,
	/// Unix seconds.
	pub time: u64,
	/// The finalized block the grant was read at.
	pub block: u32,
	/// The grantee.
	pub account: [u8; 32],
	pub grant_id: u64,
	/// The nonce of the request that asked for it.
	pub request_nonce: [u8; 16],
	pub released: Released,
}

/// The log's hash after `record`, when it was `previous` before it (all zeros before the
/// first record): BLAKE2-256 of `previous` then the record SCALE-encoded. A log's head hash
/// commits to every record in it, in order.
pub fn log_hash(previous: &[u8; 32], record: &AccessRecord) -> [u8; 32] {
	let mut bytes = previous.to_vec();
	record.encode_to(&mut bytes);
	<BlakeTwo256 as Hash>::hash(&bytes).0
}

/// The state of a DAO's access log, as the collective server signs it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub struct LogHead {
	pub dao_id: DaoId,
	/// Records in the log.
	pub count: u64,
	/// The hash after the last record ([`log_hash`]).
	pub hash: [u8; 32],
	/// When it was signed, unix seconds.
	pub time: u64,
	/// The nonce of the request it answers: a head signed for one reader's request cannot be
	/// replayed to another, or to the same one later (an older head would hide the records
	/// after it).
	pub request_nonce: [u8; 16],
}

/// The bytes a [`LogHead`]'s signature covers: [`ACCESS_LOG_CONTEXT`], the genesis hash, the
/// head SCALE-encoded.
pub fn log_head_payload(head: &LogHead, genesis_hash: &[u8; 32]) -> Vec<u8> {
	let mut payload = ACCESS_LOG_CONTEXT.to_vec();
	payload.extend_from_slice(genesis_hash);
	head.encode_to(&mut payload);
	payload
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_payload_layout_is_fixed() {
		let request = AccessRequest {
			genesis_hash: [1; 32],
			dao_id: 0x0203_0405,
			account: [6; 32],
			operation: Operation::Export { since: Some(7), recipient: [8; 32] },
			time: 9,
			nonce: [10; 16],
		};
		let mut expected = REQUEST_CONTEXT.to_vec();
		expected.extend([1; 32]);
		expected.extend([5, 4, 3, 2]);
		expected.extend([6; 32]);
		expected.extend([0, 1, 7, 0, 0, 0, 0, 0, 0, 0]);
		expected.extend([8; 32]);
		expected.extend([9, 0, 0, 0, 0, 0, 0, 0]);
		expected.extend([10; 16]);
		assert_eq!(request_payload(&request), expected);

		let log =
			AccessRequest { operation: Operation::AccessLog { from: 1, limit: 2 }, ..request };
		assert_eq!(log.operation.encode(), [1, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
	}

	#[test]
	fn signed_statements_cannot_pass_for_one_another() {
		let genesis = [1; 32];
		let end = ExportStatement::End {
			dao_id: 0,
			grant_id: 0,
			request_nonce: [0; 16],
			finalized: 0,
			count: 0,
			last: None,
		};
		let head = LogHead { dao_id: 0, count: 0, hash: [0; 32], time: 0, request_nonce: [0; 16] };
		let export = export_payload(&end, &genesis);
		let log = log_head_payload(&head, &genesis);
		assert!(export.starts_with(EXPORT_CONTEXT) && log.starts_with(ACCESS_LOG_CONTEXT));
		for prefix in [REQUEST_CONTEXT, EXPORT_CONTEXT, ACCESS_LOG_CONTEXT] {
			assert_eq!(
				[&export, &log].iter().filter(|p| p.starts_with(prefix)).count(),
				usize::from(prefix != REQUEST_CONTEXT),
			);
		}
		assert_ne!(export_payload(&end, &[2; 32]), export);
	}

	#[test]
	fn the_log_hash_commits_to_every_record_in_order() {
		let record = |seq| AccessRecord {
			seq,
			time: 1,
			block: 2,
			account: [3; 32],
			grant_id: 4,
			request_nonce: [5; 16],
			released: Released::Export {
				scope: Scope::Full,
				since: None,
				finalized: 2,
				planned: 3,
			},
		};
		let (a, b) = (record(0), record(1));
		let ab = log_hash(&log_hash(&[0; 32], &a), &b);
		let ba = log_hash(&log_hash(&[0; 32], &b), &a);
		assert_ne!(ab, ba);
		assert_ne!(ab, log_hash(&[0; 32], &b));
	}
}
