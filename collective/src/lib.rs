//! # datacoop-collective
//!
//! A data DAO's collective server: it holds the DAO's keys, judges its contributions and signs
//! the attestations the validators' off-chain workers relay (docs/collective.md).
//!
//! The proof of contribution, from the bottom up:
//! - [`rules`]: what a DAO accepts and how much is full quality;
//! - [`records`]: a plaintext read as records in the DAO's format, normalized and hashed;
//! - [`anonymize`]: records copied with only the fields the rules release, transformed;
//! - [`engine`], [`dp`]: aggregate queries over refined records (SQLite in memory), answered
//!   with differential privacy (opendp);
//! - [`index`]: keyed fingerprints and MinHash sketches of past contributions, on disk;
//! - [`judge`]: the one judging path, from a contribution's data to its [`Judgement`].
//!
//! The server around it:
//! - [`sealed`]: a DAO's secrets at rest;
//! - [`dao_dir`]: a key set's directory (secrets, rules, binding to a DAO, index);
//! - [`access_db`]: request nonces, the catalog of accepted contributions, the access log;
//! - [`measurement`]: what a DAO registers for this binary and its rules;
//! - [`fetch`]: where blobs may be fetched from, and the fetch with its deadlines;
//! - [`reseal`]: a contribution decrypted and encrypted again to a grantee, as a tar entry;
//! - [`server`]: the HTTP service (`datacoop-collective run`).

pub mod access_db;
pub mod anonymize;
pub mod dao_dir;
pub mod dp;
pub mod engine;
pub mod fetch;
pub mod index;
pub mod judge;
pub mod measurement;
pub mod records;
pub mod reseal;
pub mod rules;
pub mod sealed;
pub mod server;

pub use index::{Distinct, Index, IndexError, Keys, Match, Sketch};
pub use judge::{Judge, JudgeError, Judgement, Ledger};
pub use records::{Format, FormatError, Limits as RecordLimits, Owner, Records};
pub use rules::{
	Rules, RulesError, DEFAULT_MAX_RECORDS, DEFAULT_MAX_RECORD_BYTES, MAX_RECORDS_CEILING,
	MAX_RECORD_BYTES_CEILING,
};
