//! Test data and forgeries every whole-system test shares: chat exports and the DAO rules that
//! judge them, storage upload signing with dev accounts, and attestations signed the way a
//! collective server signs them (over [`signing_payload`], never bytes copied by hand).

use datacoop_client::{Attestation, Keypair, Scores, Verdict, H256};
use datacoop_primitives::contribution::signing_payload;
use serde_json::{json, Value};
use sp_runtime::{
	traits::{BlakeTwo256, Hash},
	Permill,
};

/// A chat export of `count` messages by `account`, numbered from `first`: a JSON document
/// `{"messages": [{"account", "text", "at"}, ...]}` that [`chat_rules`] accepts.
pub fn chat_export(account: &str, first: u32, count: u32) -> Vec<u8> {
	let messages: Vec<_> = (first..first + count)
		.map(|i| {
			json!({
				"account": account,
				"text": format!("message {i} about topic {}", i % 7),
				"at": 1_700_000_000 + i,
			})
		})
		.collect();
	serde_json::to_vec(&json!({ "messages": messages })).expect("JSON serializes")
}

/// The collective rules file for chat exports: records under `/messages` with an account, a
/// text and a time; owner field `/account`; 50 records for a full quality score.
pub fn chat_rules() -> Value {
	json!({
		"format": {"kind": "json", "records": "/messages", "schema": {
			"type": "object", "required": ["account", "text", "at"],
			"properties": {
				"account": {"type": "string"},
				"text": {"type": "string"},
				"at": {"type": "integer"}
			}
		}},
		"min_bytes": 100,
		"max_bytes": 10_000_000,
		"target_records": 50,
		"owner_field": "/account"
	})
}

/// A file of `len` bytes that are neither all zeros nor repetitive.
pub fn bytes(len: usize) -> Vec<u8> {
	(0..len).map(|i| ((i * 7919) ^ (i >> 8)) as u8).collect()
}

/// Signs storage upload tokens with a chain account's key, as the wallet does with its own.
pub struct DevUploader(pub Keypair);

impl datacoop_storage::Uploader for DevUploader {
	fn account(&self) -> [u8; 32] {
		self.0.public_key().0
	}

	fn sign(&self, message: &[u8]) -> [u8; 64] {
		self.0.sign(message).0
	}
}

/// Scores of a valid contribution: everything full but `overall` (parts per million).
pub fn scores(overall: u32) -> Scores {
	assert!(overall <= 1_000_000, "parts per million: at most 1000000, not {overall}");
	let full = Permill::one();
	Scores {
		authenticity: full,
		ownership: full,
		quality: full,
		uniqueness: full,
		overall: Permill::from_parts(overall),
	}
}

/// A Valid attestation of contribution `id` of DAO `dao`, as a collective server would sign it.
pub fn valid_attestation(
	dao: u32,
	id: u64,
	contributor: [u8; 32],
	ciphertext_hash: [u8; 32],
	measurement: H256,
	valid_until: u32,
	overall: u32,
) -> Attestation {
	Attestation {
		dao_id: dao,
		contribution_id: id,
		contributor,
		ciphertext_hash: ciphertext_hash.into(),
		fingerprint: <BlakeTwo256 as Hash>::hash(&ciphertext_hash),
		scores: scores(overall),
		verdict: Verdict::Valid,
		measurement: measurement.0.into(),
		valid_until,
	}
}

/// //Alice's address, who creates the DAOs of the tests.
pub const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

/// `key`'s consent to serve the DAO `creator` creates as `dao_id` with `encryption_key` on
/// the chain with `genesis_hash` (the key proof `dao create` carries).
pub fn create_key_proof(
	genesis_hash: [u8; 32],
	creator: &Keypair,
	dao_id: u32,
	encryption_key: &[u8; 32],
	key: &Keypair,
) -> [u8; 64] {
	let payload = datacoop_primitives::dao::collective_key_create_payload(
		&genesis_hash,
		&creator.public_key().0,
		dao_id,
		encryption_key,
	);
	key.sign(&payload).0
}

/// `key`'s signature of `attestation` for the chain with `genesis_hash`: what the runtime
/// checks against the DAO's registered attestation signer.
pub fn sign_attestation(
	attestation: &Attestation,
	genesis_hash: [u8; 32],
	key: &Keypair,
) -> [u8; 64] {
	key.sign(&signing_payload(attestation, &genesis_hash.into())).0
}

/// The unsigned `attest` call for a signed attestation, as the off-chain worker relays it.
pub fn attest_call(
	attestation: Attestation,
	signature: [u8; 64],
) -> impl datacoop_client::subxt::transactions::Payload {
	datacoop_client::api::transactions()
		.contributions()
		.attest(datacoop_client::subxt::utils::Static(attestation), signature)
}
