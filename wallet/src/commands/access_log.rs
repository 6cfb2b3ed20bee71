//! `datacoop access-log`: who got a DAO's data, as its collective server's access log says.
//!
//! The server keeps one record per release (an export begun, an export done, a query
//! answered), each chained to the one before by [`log_hash`], and signs the log's head (its
//! count and last hash) with the DAO's attestation key. The wallet reads the log page by page from the first record and
//! checks that the records chain, in order, to the signed head: a log with a record changed,
//! dropped or reordered does not match it. Only the DAO's token holders may read it (the
//! server answers 403 to anyone else).

use std::{fmt, io::Write};

use anyhow::{anyhow, Result};
use codec::DecodeAll;
use datacoop_primitives::access::{log_hash, log_head_payload, AccessRecord, LogHead, Released};
use serde::Serialize;
use subxt::utils::AccountId32;

use super::{print, scope_name};
use crate::{
	chain,
	collective::{CollectiveClient, LogPage},
	Global,
};

#[derive(clap::Args)]
pub struct Args {
	#[arg(long)]
	pub dao: u32,
}

/// Records asked for per request.
const PAGE: u32 = 1000;

/// Why a log is refused, whatever the detail.
const MISMATCH: &str = "the access log does not match its signed head";

pub async fn run(args: &Args, global: &Global, out: &mut impl Write) -> Result<()> {
	let account = global.account()?;
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	let collective = CollectiveClient::for_dao(&at, args.dao).await?;
	let genesis = client.genesis_hash();
	let mut log = Log::new(args.dao, collective.attestation_signer, genesis);
	loop {
		let (page, nonce) = collective.access_log(&account, genesis, log.read(), PAGE).await?;
		if log.add(Page::decode(&page, nonce)?)? {
			break;
		}
	}
	print(out, global.json, &LogView::of(args.dao, log))
}

/// One page as sent, decoded (not yet checked), and the nonce of the request it answers.
struct Page {
	nonce: [u8; 16],
	records: Vec<AccessRecord>,
	previous: [u8; 32],
	head: LogHead,
	signature: [u8; 64],
}

impl Page {
	fn decode(page: &LogPage, nonce: [u8; 16]) -> Result<Page> {
		let malformed = |what: &str| anyhow!("the collective server sent a malformed {what}");
		let bytes = |hex_text: &str, what: &str| {
			hex::decode(hex_text.strip_prefix("0x").unwrap_or(hex_text))
				.map_err(|_| malformed(what))
		};
		let record = |r: &String| -> Result<AccessRecord> {
			AccessRecord::decode_all(&mut &bytes(r.as_str(), "access record")?[..])
				.map_err(|_| malformed("access record"))
		};
		let records = page.records.iter().map(record).collect::<Result<Vec<_>>>()?;
		let previous: [u8; 32] = bytes(page.previous.as_str(), "previous hash")?
			.try_into()
			.map_err(|_| malformed("previous hash"))?;
		let head = LogHead::decode_all(&mut &bytes(page.head.as_str(), "log head")?[..])
			.map_err(|_| malformed("log head"))?;
		let signature: [u8; 64] = bytes(page.signature.as_str(), "signature")?
			.try_into()
			.map_err(|_| malformed("signature"))?;
		Ok(Page { nonce, records, previous, head, signature })
	}
}

/// The log as read so far, checked page by page.
struct Log {
	dao: u32,
	/// The DAO's attestation signer.
	signer: [u8; 32],
	genesis: [u8; 32],
	records: Vec<AccessRecord>,
	/// The log's hash after the records read.
	hash: [u8; 32],
	/// The last head the server signed.
	head: Option<LogHead>,
}

impl Log {
	fn new(dao: u32, signer: [u8; 32], genesis: [u8; 32]) -> Log {
		Log { dao, signer, genesis, records: Vec::new(), hash: [0; 32], head: None }
	}

	/// Records read: where the next page starts.
	fn read(&self) -> u64 {
		self.records.len() as u64
	}

	/// Adds a page; whether the log is now read to its (latest) head.
	fn add(&mut self, page: Page) -> Result<bool> {
		self.check(page).map_err(|why| anyhow!("{why}").context(MISMATCH))
	}

	fn check(&mut self, page: Page) -> Result<bool, String> {
		let Page { nonce, records, previous, head, signature } = page;
		datacoop_auth::verify(&self.signer, &log_head_payload(&head, &self.genesis), &signature)
			.map_err(|_| "its head is not signed by the DAO's collective server".to_owned())?;
		// Signed for this request: an older answer replayed (by a proxy, or the server)
		// would show the log as it was, without the releases since.
		if head.request_nonce != nonce {
			return Err("its head answers another request (a replayed answer)".into());
		}
		if head.dao_id != self.dao {
			return Err(format!("its head is DAO #{}'s", head.dao_id));
		}
		if previous != self.hash {
			return Err(format!("the page from record {} does not follow the last", self.read()));
		}
		if records.len() > PAGE as usize {
			return Err(format!("{} records came, {PAGE} were asked for", records.len()));
		}
		// The log only grows: a later head counts at least what an earlier one did.
		if self.head.as_ref().is_some_and(|h| head.count < h.count) {
			return Err("its head counts fewer records than before".into());
		}
		let empty = records.is_empty();
		for record in records {
			if record.seq != self.read() {
				return Err(format!("record {} came as record {}", self.read(), record.seq));
			}
			self.hash = log_hash(&self.hash, &record);
			self.records.push(record);
		}
		let read = self.read();
		if read > head.count {
			return Err(format!("{read} records came, its head counts {}", head.count));
		}
		let done = read == head.count;
		if !done && empty {
			return Err(format!("the records stop at {read}, its head counts {}", head.count));
		}
		if done && self.hash != head.hash {
			return Err("the records do not hash to its head".into());
		}
		self.head = Some(head);
		Ok(done)
	}
}

/// A DAO's access log as shown: its records and the signed head they match.
#[derive(Serialize)]
struct LogView {
	dao: u32,
	/// Records in the log.
	count: u64,
	/// The head's hash, `0x…`.
	hash: String,
	/// When the server signed the head, unix seconds.
	signed_at: u64,
	records: Vec<RecordView>,
}

impl LogView {
	/// The view of a log read to its head.
	fn of(dao: u32, log: Log) -> LogView {
		let head = log.head.unwrap_or(LogHead {
			dao_id: dao,
			count: 0,
			hash: [0; 32],
			time: 0,
			request_nonce: [0; 16],
		});
		LogView {
			dao,
			count: head.count,
			hash: format!("0x{}", hex::encode(head.hash)),
			signed_at: head.time,
			records: log.records.into_iter().map(RecordView::of).collect(),
		}
	}
}

impl fmt::Display for LogView {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		if self.records.is_empty() {
			writeln!(f, "no release of DAO #{}'s data yet", self.dao)?;
		}
		for record in &self.records {
			writeln!(f, "{record}")?;
		}
		write!(
			f,
			"DAO #{}'s access log: {} records, head {} (signed by its collective server at {})",
			self.dao, self.count, self.hash, self.signed_at
		)
	}
}

/// One record as shown.
#[derive(Serialize)]
struct RecordView {
	seq: u64,
	/// Unix seconds.
	time: u64,
	/// The finalized block the grant was read at.
	block: u32,
	/// The grantee's SS58 address.
	account: String,
	grant: u64,
	/// The nonce of the request, hex.
	request: String,
	released: ReleasedView,
}

impl RecordView {
	fn of(r: AccessRecord) -> RecordView {
		RecordView {
			seq: r.seq,
			time: r.time,
			block: r.block,
			account: AccountId32::from(r.account).to_string(),
			grant: r.grant_id,
			request: hex::encode(r.request_nonce),
			released: ReleasedView::of(r.released),
		}
	}
}

impl fmt::Display for RecordView {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(
			f,
			"#{:<6} at {} {} grant #{}: {}",
			self.seq, self.time, self.account, self.grant, self.released
		)
	}
}

/// What a record says was released; in JSON, `"kind"` beside its fields.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ReleasedView {
	Export {
		scope: String,
		since: Option<u64>,
		finalized: u32,
		planned: u64,
	},
	ExportDone {
		/// The nonce of the request whose export ended, hex.
		request: String,
		count: u64,
		last: Option<u64>,
		bytes: u64,
		complete: bool,
	},
	Query {
		/// BLAKE2-256 of the query as sent (its JSON body), `0x…`.
		body_hash: String,
		/// The ε the answer spent, in millionths.
		epsilon_micro: u64,
		groups: u32,
		records: u64,
	},
}

impl ReleasedView {
	fn of(released: Released) -> ReleasedView {
		match released {
			Released::Export { scope, since, finalized, planned } => {
				ReleasedView::Export { scope: scope_name(&scope), since, finalized, planned }
			},
			Released::ExportDone { request_nonce, count, last, bytes, complete } => {
				let request = hex::encode(request_nonce);
				ReleasedView::ExportDone { request, count, last, bytes, complete }
			},
			Released::Query { body_hash, epsilon_micro, groups, records } => {
				let body_hash = format!("0x{}", hex::encode(body_hash));
				ReleasedView::Query { body_hash, epsilon_micro, groups, records }
			},
		}
	}
}

/// Millionths of ε as a number: `0.1` for 100000, `2` for 2000000.
fn micro(millionths: u64) -> String {
	let (whole, fraction) = (millionths / 1_000_000, millionths % 1_000_000);
	if fraction == 0 {
		whole.to_string()
	} else {
		let fraction = format!("{fraction:06}");
		format!("{whole}.{}", fraction.trim_end_matches('0'))
	}
}

impl fmt::Display for ReleasedView {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			ReleasedView::Export { scope, since, finalized, planned } => {
				let since = since.map(|s| format!(" since {s}")).unwrap_or_default();
				write!(f, "export {scope}{since}: {planned} planned at block {finalized}")
			},
			ReleasedView::ExportDone { count, bytes, complete, .. } => {
				let complete = if *complete { "complete" } else { "incomplete" };
				write!(f, "export done: {count} contributions, {bytes} bytes, {complete}")
			},
			ReleasedView::Query { body_hash, epsilon_micro, groups, records } => {
				// 0x and the first 8 bytes
				let short = body_hash.get(..18).unwrap_or(body_hash.as_str());
				let epsilon = micro(*epsilon_micro);
				write!(f, "query {short}…: {groups} groups over {records} records, ε {epsilon}")
			},
		}
	}
}

#[cfg(test)]
mod tests {
	use datacoop_auth::{KeypairSigner, Signer};
	use datacoop_primitives::governance::Scope;

	use super::*;

	const GENESIS: [u8; 32] = [1; 32];

	fn server() -> KeypairSigner {
		KeypairSigner::from_seed([9; 32])
	}

	fn record(seq: u64) -> AccessRecord {
		AccessRecord {
			seq,
			time: 1_700_000_000 + seq,
			block: 120,
			account: [4; 32],
			grant_id: 2,
			request_nonce: [5; 16],
			released: Released::Export {
				scope: Scope::Full,
				since: Some(3),
				finalized: 120,
				planned: 5,
			},
		}
	}

	/// The page `from..to` of a log of `count` records, as an honest server sends it.
	fn page(count: u64, from: u64, to: u64) -> Page {
		let all: Vec<AccessRecord> = (0..count).map(record).collect();
		let hash_to = |n: u64| all[..n as usize].iter().fold([0; 32], |h, r| log_hash(&h, r));
		let nonce = [from as u8; 16];
		let head = LogHead {
			dao_id: 7,
			count,
			hash: hash_to(count),
			time: 1_700_000_100,
			request_nonce: nonce,
		};
		let signature = server().sign(&log_head_payload(&head, &GENESIS));
		let records = all[from as usize..to as usize].to_vec();
		Page { nonce, records, previous: hash_to(from), head, signature }
	}

	fn new_log() -> Log {
		Log::new(7, server().account(), GENESIS)
	}

	#[test]
	fn a_log_read_page_by_page_matches_its_head() {
		let mut log = new_log();
		assert!(!log.add(page(3, 0, 2)).unwrap());
		// The log grew meanwhile: the last head counts.
		assert!(log.add(page(4, 2, 4)).unwrap());
		let view = LogView::of(7, log);
		assert_eq!((view.count, view.records.len()), (4, 4));
		assert_eq!(
			view.records[0].to_string(),
			format!(
				"#0      at 1700000000 {} grant #2: export full since 3: 5 planned at block 120",
				AccountId32::from([4; 32])
			)
		);
		let mut empty = new_log();
		assert!(empty.add(page(0, 0, 0)).unwrap());
	}

	#[test]
	fn a_changed_dropped_or_unsigned_log_does_not_match() {
		let refused = |pages: Vec<Page>| {
			let mut log = new_log();
			let mut result = Ok(false);
			for p in pages {
				result = log.add(p);
				if result.is_err() {
					break;
				}
			}
			result.unwrap_err().to_string()
		};
		let mut changed = page(2, 0, 2);
		changed.records[1].grant_id = 3;
		let mut dropped = page(3, 0, 3);
		dropped.records.remove(1);
		let mut unsigned = page(2, 0, 2);
		unsigned.head.count = 1;
		// an honest page, answered to an earlier request, replayed for this one
		let mut replayed = page(2, 0, 2);
		replayed.nonce = [9; 16];
		let mut other_dao = page(1, 0, 1);
		other_dao.head.dao_id = 8;
		other_dao.signature = server().sign(&log_head_payload(&other_dao.head, &GENESIS));
		for pages in [
			vec![changed],
			vec![dropped],
			vec![unsigned],
			vec![replayed],
			vec![other_dao],
			// a page that does not follow the one before
			vec![page(4, 0, 2), page(4, 3, 4)],
			// a server that stops short of its head
			vec![page(4, 0, 2), page(4, 2, 2)],
		] {
			assert_eq!(refused(pages), MISMATCH);
		}
	}

	#[test]
	fn releases_read_as_people_say_them() {
		let done = Released::ExportDone {
			request_nonce: [5; 16],
			count: 5,
			last: Some(9),
			bytes: 123_456,
			complete: true,
		};
		assert_eq!(
			ReleasedView::of(done).to_string(),
			"export done: 5 contributions, 123456 bytes, complete"
		);
		let export =
			Released::Export { scope: Scope::Anonymized, since: None, finalized: 7, planned: 0 };
		let view = ReleasedView::of(export);
		assert_eq!(view.to_string(), "export anonymized: 0 planned at block 7");
		let json = serde_json::to_value(&view).unwrap();
		assert_eq!(json["kind"], "export");
		assert_eq!(json["since"], serde_json::Value::Null);

		let query = Released::Query {
			body_hash: [0xab; 32],
			epsilon_micro: 100_000,
			groups: 3,
			records: 270,
		};
		let view = ReleasedView::of(query);
		assert_eq!(view.to_string(), "query 0xabababababababab…: 3 groups over 270 records, ε 0.1");
		let json = serde_json::to_value(&view).unwrap();
		assert_eq!(json["kind"], "query");
		assert_eq!(json["body_hash"], format!("0x{}", "ab".repeat(32)));
		assert_eq!(json["epsilon_micro"], 100_000);
		for (millionths, text) in [(2_000_000, "2"), (1_250_000, "1.25"), (1, "0.000001"), (0, "0")]
		{
			assert_eq!(micro(millionths), text);
		}
	}
}
