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

use crate::dao::DaoId;

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
}
