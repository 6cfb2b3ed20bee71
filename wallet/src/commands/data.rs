//! `datacoop data export`: a DAO's data, as my grant allows, from its collective server into a
//! directory, each file checked before it is kept.
//!
//! The server answers a tar stream. Under a `Full` grant: for each contribution, in the order
//! the DAO accepted them, `contribution-<id>.age` (an age file encrypted to my account's
//! contribution key) then `contribution-<id>.receipt`. Under an `Anonymized` grant (the
//! `Datacoop-Scope: anonymized` header says so): for each part of the anonymized copy,
//! `part-<n>.jsonl.age` (or `part-<n>.csv.age`), n from 0, then `part-<n>.receipt`. Either
//! way, at the end, `end.receipt`. A receipt is the SCALE encoding of an [`ExportStatement`]
//! and its signature by the DAO's attestation signer.
//!
//! A contribution is kept only if its receipt is signed, answers this request, names the file
//! received (its header's hash and its length), and names a contribution the chain shows
//! Accepted in this DAO with the same ciphertext; and then only once its file decrypts (age
//! authenticates every byte under the key the header binds). A part is checked the same way
//! but for the chain (it names no contribution), and is kept only once `end.receipt`
//! verifies too: parts name no contribution to resume after, so a cut anonymized export is
//! exported anew, not in pieces. Until then everything stays in `DIR/.partial`.
//!
//! The stream is read as it comes (constant memory whatever the export's size), and a
//! resume file (`DIR/.datacoop-export.json`) records the last contribution kept (for an
//! anonymized export: the last one the parts kept came from, and how many parts there are),
//! so that the next export picks up where this one stopped.
//!
//! `datacoop data query`: an aggregate query, under an `Aggregate` grant. The query is JSON
//! (`{"stats": ["count", {"mean": "/age"}], "group_by": ["/channel"], "epsilon": 0.1}`),
//! its ε set by `--epsilon`, serialized once and sent as those exact bytes, the request
//! signed over their BLAKE2-256 hash. The answer is noisy statistics per group, the ε it
//! spent and what the grant has left, and the noise's scales and 99.9 % bounds.

use std::{
	fmt, fs,
	io::{self, BufReader, BufWriter, IsTerminal, Read, Write},
	path::{Path, PathBuf},
	time::Duration,
};

use anyhow::{anyhow, bail, ensure, Context, Result};
use codec::DecodeAll;
use datacoop_envelope::{Identity, Parallelism};
use datacoop_primitives::{
	access::{export_payload, ExportStatement},
	governance::Scope,
};
use datacoop_storage::Hasher;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::print;
use crate::{
	chain::{self, ContributionStatus},
	collective::CollectiveClient,
	Global,
};

#[derive(clap::Subcommand)]
pub enum DataCommand {
	/// Download the DAO's data my live grant allows into DIR, decrypted: under a Full grant
	/// its accepted contributions, each checked against the collective server's signed
	/// receipt and the chain; under an Anonymized grant their anonymized copy, in numbered
	/// parts, each checked against its signed receipt. Run it again to fetch what came since
	/// (or to finish a broken export).
	Export(ExportArgs),
	/// Ask the DAO's collective server an aggregate query under my live Aggregate grant:
	/// statistics (count, sum, mean, min, max, histogram) of the fields the DAO's rules
	/// allow, grouped by its group fields. The answer is noisy, and spends ε from the
	/// grant's privacy budget.
	Query(QueryArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
	#[arg(long)]
	pub dao: u32,
	/// The directory to write into (created if need be).
	#[arg(short, long)]
	pub output: PathBuf,
	/// Only the contributions accepted after this one. Default: after the last one an
	/// earlier export into the same directory kept, or from the first.
	#[arg(long)]
	pub since: Option<u64>,
	/// Keep each contribution's age file too, as `contribution-<id>.age` (for an anonymized
	/// export, each part's, as `part-<k>.jsonl.age` or `part-<k>.csv.age`).
	#[arg(long)]
	pub keep_age: bool,
}

#[derive(clap::Args)]
pub struct QueryArgs {
	#[arg(long)]
	pub dao: u32,
	/// The query, JSON: e.g. '{"stats": ["count", {"mean": "/age"}, {"histogram": ["/age",
	/// 10]}], "group_by": ["/channel"]}'. Stats: "count", {"sum": F}, {"mean": F}, {"min":
	/// F}, {"max": F}, {"histogram": [F, BINS]}, F a value field of the DAO's rules;
	/// group_by: up to 3 of its group fields.
	#[arg(value_name = "QUERY")]
	pub query: String,
	/// The privacy budget the answer spends (sets the query's "epsilon").
	#[arg(long, default_value_t = 0.1)]
	pub epsilon: f64,
}

pub async fn run(command: &DataCommand, global: &Global, out: &mut impl Write) -> Result<()> {
	match command {
		DataCommand::Export(args) => export(args, global, out).await,
		DataCommand::Query(args) => query(args, global, out).await,
	}
}

/// Where files wait until they are checked, under the output directory.
const PARTIAL: &str = ".partial";
/// The resume file, in the output directory.
const RESUME: &str = ".datacoop-export.json";
/// The largest receipt read: a statement and its signature are under 300 bytes.
const MAX_RECEIPT: u64 = 1024;

/// What an export releases: the contributions themselves, or their anonymized copy. One
/// directory holds one of the two.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ExportScope {
	/// Resume files from before anonymized exports say nothing: they are full ones.
	#[default]
	Full,
	Anonymized,
}

impl fmt::Display for ExportScope {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		f.write_str(match self {
			ExportScope::Full => "full",
			ExportScope::Anonymized => "anonymized",
		})
	}
}

/// What an export wrote.
#[derive(Serialize)]
struct Exported {
	dao: u32,
	grant: u64,
	/// The finalized block the server exported as of.
	finalized: u32,
	scope: ExportScope,
	/// The contributions received, in the order they came (the DAO's acceptance order).
	/// Empty for an anonymized export: its parts name no contribution.
	contributions: Vec<u64>,
	/// An anonymized export's parts written (their data), in order.
	parts: Vec<PathBuf>,
	/// The anonymized records in those parts, as their receipts count them.
	#[serde(skip_serializing_if = "Option::is_none")]
	records: Option<u64>,
	/// The files written: each contribution's or part's data (and its age file with
	/// --keep-age).
	files: Vec<PathBuf>,
	/// Bytes of data decrypted.
	bytes: u64,
}

impl fmt::Display for Exported {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		for file in &self.files {
			writeln!(f, "{}", file.display())?;
		}
		let nothing = match self.scope {
			ExportScope::Full => self.contributions.is_empty(),
			ExportScope::Anonymized => self.parts.is_empty(),
		};
		if nothing {
			return write!(
				f,
				"nothing new to export from DAO #{} (as of block {})",
				self.dao, self.finalized
			);
		}
		match self.scope {
			ExportScope::Full => write!(
				f,
				"exported {} contributions of DAO #{} ({} bytes) under grant #{}, as of block {}",
				self.contributions.len(),
				self.dao,
				self.bytes,
				self.grant,
				self.finalized
			),
			ExportScope::Anonymized => write!(
				f,
				"exported an anonymized copy of DAO #{}'s data: {} records in {} parts ({} \
				 bytes) under grant #{}, as of block {}",
				self.dao,
				self.records.unwrap_or(0),
				self.parts.len(),
				self.bytes,
				self.grant,
				self.finalized
			),
		}
	}
}

async fn export(args: &ExportArgs, global: &Global, out: &mut impl Write) -> Result<()> {
	let (dir, dao_id) = (args.output.as_path(), args.dao);
	// The directory first: a wrong one fails before any password is asked.
	let resumed = read_resume(dir, dao_id)?;
	fs::create_dir_all(dir.join(PARTIAL))
		.with_context(|| format!("cannot create {}", dir.join(PARTIAL).display()))?;
	let since = args.since.or(resumed.as_ref().map(|r| r.last));
	if args.since.is_none() && !global.json {
		if let Some(resume) = &resumed {
			let parts = match resume.scope {
				ExportScope::Full => String::new(),
				ExportScope::Anonymized => format!(", numbering parts from part-{}", resume.parts),
			};
			let (last, file) = (resume.last, dir.join(RESUME));
			eprintln!("resuming after contribution #{last}{parts} ({})", file.display());
		}
	}
	let account = global.account()?;
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	let collective = CollectiveClient::for_dao(&at, dao_id).await?;
	// Before the request: the server would log an export this directory cannot take.
	let scope = check_grant(&at, dao_id, &account).await?;
	check_scope(dir, resumed.as_ref(), scope)?;

	// Encrypted to my own contribution key: what `decrypt` opens my contributions with.
	let identity = account.contribution_identity();
	let genesis = client.genesis_hash();
	let (response, nonce) =
		collective.export(&account, genesis, since, &identity.to_public()).await?;
	let announced = announced(&response)?;
	// What the server sends is what counts (the grant may have changed since it was read).
	check_scope(dir, resumed.as_ref(), announced.scope)?;
	// Exported as of a block long before mine, it could leave out the contributions accepted
	// since and still pass the check at the end.
	check_announced(at.number(), announced.finalized)?;
	let at = at_or_after(&client, at, announced.finalized).await?;
	let expected = Expected {
		genesis,
		dao_id,
		nonce,
		signer: collective.attestation_signer,
		grant: announced.grant,
		scope: announced.scope,
		since,
		finalized: announced.finalized,
	};
	// The parts earlier runs kept: this run's are numbered after them.
	let parts_before = resumed.as_ref().map_or(0, |r| r.parts);
	let progress = progress_bar(global.json, announced.contributions, announced.scope);
	let handle = tokio::runtime::Handle::current();
	// Called from the blocking thread that reads the stream: it waits for the chain there.
	let on_chain = move |id: u64, ciphertext: [u8; 32]| -> Result<()> {
		handle.block_on(accepted_on_chain(&at, dao_id, id, ciphertext))
	};
	let mut receiver = Receiver::new(
		expected,
		dir.to_owned(),
		args.keep_age,
		parts_before,
		identity,
		progress,
		on_chain,
	);
	// The tar reader is blocking: the body streams into it through a bridge, on a blocking
	// thread, chunk by chunk.
	let body: std::pin::Pin<Box<dyn futures::Stream<Item = io::Result<bytes::Bytes>> + Send>> =
		Box::pin(response.bytes_stream().map_err(io::Error::other));
	let input = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(body));
	let receiver = tokio::task::spawn_blocking(move || {
		let result = receive(BufReader::with_capacity(1 << 20, input), &mut receiver);
		receiver.progress.finish_and_clear();
		result.map(|()| receiver)
	})
	.await
	.map_err(|e| anyhow!("the export stopped: {e}"))??;
	// Empty once all went well (an error leaves what it stopped at, for a look).
	let _ = fs::remove_dir(dir.join(PARTIAL));
	let scope = receiver.expected.scope;
	// Every file that came was checked against the chain; now that none is missing.
	let (count, last) = receiver.end.expect("an export that ended has its end");
	let received = (scope == ExportScope::Full).then_some(receiver.received.as_slice());
	let now = client.at_finalized().await?;
	let accepted = accepted_by(&now, dao_id, receiver.expected.finalized).await?;
	if let Err(e) = complete(&accepted, since, received, count, last) {
		// The resume file must not skip what was left out: the next run starts before the
		// first missing contribution (a full export), or where this one started (an
		// anonymized one, whose parts it numbers and writes again).
		let restart = match received {
			Some(received) => resume_point(&accepted, since, received),
			None => resumed.as_ref().map(|r| r.last),
		};
		match restart {
			Some(last) => {
				let parts = resumed.as_ref().map_or(0, |r| r.parts);
				write_resume(dir, &Resume { dao: dao_id, last, parts, scope })?
			},
			None => {
				let _ = fs::remove_file(dir.join(RESUME));
			},
		}
		bail!(
			"{e}. What came is kept in {} (each file checked against the chain), and the next \
			 run starts {}; report the DAO's collective server to its holders",
			dir.display(),
			restart.map_or("from the first contribution".to_owned(), |id| format!("after #{id}"))
		);
	}
	let exported = Exported {
		dao: dao_id,
		grant: receiver.expected.grant,
		finalized: receiver.expected.finalized,
		scope,
		contributions: receiver.received,
		parts: receiver.parts,
		records: (scope == ExportScope::Anonymized).then_some(receiver.records),
		files: receiver.files,
		bytes: receiver.bytes,
	};
	print(out, global.json, &exported)
}

/// Refuses early, with what to do, when I hold no grant that exports anything: the server
/// would refuse too, with less to go on. What my grant exports.
async fn check_grant(
	at: &chain::At,
	dao_id: u32,
	account: &crate::keystore::Account,
) -> Result<ExportScope> {
	let grant = live_grant(at, dao_id, account).await?;
	match grant.scope {
		Scope::Full => Ok(ExportScope::Full),
		Scope::Anonymized => Ok(ExportScope::Anonymized),
		Scope::Aggregate { .. } => {
			bail!("grant #{} allows aggregate queries only: it exports no contributions", grant.id)
		},
	}
}

/// The account's live grant to DAO `dao_id`'s data; refused, with what to do, when it holds
/// none.
async fn live_grant(
	at: &chain::At,
	dao_id: u32,
	account: &crate::keystore::Account,
) -> Result<chain::GrantInfo> {
	let Some(grant) = at.live_grant(dao_id, &account.account_id()).await? else {
		bail!(
			"{} has no live grant to DAO #{dao_id}'s data: see `datacoop offer list --dao \
			 {dao_id}`",
			account.address()
		);
	};
	Ok(grant)
}

/// Refuses to add an export of one scope to a directory holding the other's: the two side
/// by side would mislead (and their resume points differ).
fn check_scope(dir: &Path, resumed: Option<&Resume>, scope: ExportScope) -> Result<()> {
	match (resumed.map(|r| r.scope), scope) {
		(Some(ExportScope::Full), ExportScope::Anonymized) => bail!(
			"{} holds a full export; export an anonymized copy into another directory",
			dir.display()
		),
		(Some(ExportScope::Anonymized), ExportScope::Full) => bail!(
			"{} holds an anonymized export; export the full data into another directory",
			dir.display()
		),
		_ => Ok(()),
	}
}

/// What the server says of the export before its entries. Not signed: the end receipt
/// says the same, signed, and is checked against it (the scope: every receipt is checked
/// to be of its kind).
struct Announced {
	finalized: u32,
	/// How many contributions will be read (for the progress bar).
	contributions: u64,
	grant: u64,
	scope: ExportScope,
}

fn announced(response: &reqwest::Response) -> Result<Announced> {
	let headers = response.headers();
	let content_type = headers
		.get(reqwest::header::CONTENT_TYPE)
		.and_then(|v| v.to_str().ok())
		.unwrap_or("nothing");
	if !content_type.starts_with("application/x-tar") {
		bail!("the collective server answered {content_type}, not an export (application/x-tar)");
	}
	let number = |name: &str| -> Result<u64> {
		headers
			.get(name)
			.and_then(|v| v.to_str().ok())
			.and_then(|v| v.trim().parse().ok())
			.ok_or_else(|| anyhow!("the collective server's export has no {name} header"))
	};
	// Servers from before anonymized exports send none: they export in full only.
	let scope = match headers.get("Datacoop-Scope") {
		None => ExportScope::Full,
		Some(value) => match value.to_str().map(str::trim) {
			Ok("full") => ExportScope::Full,
			Ok("anonymized") => ExportScope::Anonymized,
			_ => bail!(
				"the collective server's Datacoop-Scope is {value:?}: this wallet knows full \
				 and anonymized exports"
			),
		},
	};
	Ok(Announced {
		finalized: u32::try_from(number("Datacoop-Finalized")?)
			.map_err(|_| anyhow!("the collective server's Datacoop-Finalized is no block"))?,
		contributions: number("Datacoop-Contributions")?,
		grant: number("Datacoop-Grant")?,
		scope,
	})
}

/// The chain at a finalized block at or after `finalized`, the one the server exported as
/// of: every contribution it sends must be Accepted there. This node may be a block or two
/// behind the server's, so it is given a little time to catch up.
async fn at_or_after(
	client: &chain::Chain,
	mut at: chain::At,
	finalized: u32,
) -> Result<chain::At> {
	for _ in 0..15 {
		if at.number() >= finalized {
			return Ok(at);
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
		at = client.at_finalized().await?;
	}
	bail!(
		"the collective server exported as of finalized block {finalized}, but the node at {} \
		 has finalized only block {}: is it in sync?",
		client.url(),
		at.number()
	)
}

/// Checks that contribution `id` is DAO `dao_id`'s, Accepted, with this ciphertext hash: the
/// server releases only what the DAO accepted, as it was submitted.
async fn accepted_on_chain(
	at: &chain::At,
	dao_id: u32,
	id: u64,
	ciphertext: [u8; 32],
) -> Result<()> {
	let c =
		at.contribution(id).await?.ok_or_else(|| anyhow!("the chain has no such contribution"))?;
	ensure!(c.dao_id == dao_id, "on chain it is DAO #{}'s", c.dao_id);
	ensure!(
		matches!(c.status, ContributionStatus::Accepted { .. }),
		"it is not Accepted on chain (as of block {})",
		at.number()
	);
	ensure!(
		c.ciphertext_hash.0 == ciphertext,
		"its receipt names ciphertext 0x{}, the chain 0x{}",
		hex::encode(ciphertext),
		hex::encode(c.ciphertext_hash.0)
	);
	Ok(())
}

/// DAO `dao_id`'s contributions accepted by finalized block `finalized`, as (id, block
/// accepted at) in acceptance order, the order the collective server exports in. One read per
/// accepted contribution, 16 at a time: what an export's completeness costs.
async fn accepted_by(at: &chain::At, dao_id: u32, finalized: u32) -> Result<Vec<(u64, u32)>> {
	let ids = at.accepted_contributions(dao_id).await?;
	let read = futures::stream::iter(ids)
		.map(|id| async move {
			let c = at.contribution(id).await?;
			Ok::<_, anyhow::Error>(c.and_then(|c| match c.status {
				ContributionStatus::Accepted { at: accepted, .. }
					if c.dao_id == dao_id && accepted <= finalized =>
				{
					Some((id, accepted))
				},
				_ => None,
			}))
		})
		.buffer_unordered(16);
	let mut accepted: Vec<(u64, u32)> =
		read.try_filter_map(|x| async move { Ok(x) }).try_collect().await?;
	accepted.sort_by_key(|&(id, block)| (block, id));
	Ok(accepted)
}

/// Blocks an export's announced finalized block may be behind the wallet's own: nodes
/// finalize a few blocks apart, never minutes.
const ANNOUNCED_SLACK: u32 = 30;

/// Refuses an export announced as of a finalized block far behind `mine` (the one the wallet
/// read before asking).
fn check_announced(mine: u32, announced: u32) -> Result<()> {
	ensure!(
		announced.saturating_add(ANNOUNCED_SLACK) >= mine,
		"the collective server exports as of finalized block {announced}, {} blocks behind this \
		 node's {mine}: a lagging node, or a server leaving out what was accepted since",
		mine - announced
	);
	Ok(())
}

/// Where a full export that left contributions out is to resume: after the last contribution
/// (in acceptance order) before the first one missing, or where it started (`since`).
fn resume_point(accepted: &[(u64, u32)], since: Option<u64>, received: &[u64]) -> Option<u64> {
	let got: std::collections::HashSet<u64> = received.iter().copied().collect();
	let start =
		since.and_then(|s| accepted.iter().position(|&(id, _)| id == s)).map_or(0, |i| i + 1);
	let due = &accepted[start.min(accepted.len())..];
	match due.iter().position(|(id, _)| !got.contains(id)) {
		Some(0) | None => since,
		Some(i) => Some(due[i - 1].0),
	}
}

/// Checks an export that ended against the chain: it read every contribution `accepted` (in
/// acceptance order) after `since`, no more and no fewer, as its end receipt says (`count`,
/// `last`); a full export's files (`received`) are exactly those. A collective server that
/// withholds contributions fails here, whatever it signed.
fn complete(
	accepted: &[(u64, u32)],
	since: Option<u64>,
	received: Option<&[u64]>,
	count: u64,
	last: Option<u64>,
) -> Result<()> {
	let start = match since {
		None => 0,
		Some(since) => {
			accepted.iter().position(|&(id, _)| id == since).map(|i| i + 1).ok_or_else(|| {
				anyhow!(
					"the export started after contribution #{since}, which is not one the DAO \
					 accepted by its block"
				)
			})?
		},
	};
	let due: Vec<u64> = accepted[start..].iter().map(|&(id, _)| id).collect();
	if let Some(received) = received {
		let got: std::collections::HashSet<u64> = received.iter().copied().collect();
		let missing: Vec<String> =
			due.iter().filter(|id| !got.contains(id)).map(|id| format!("#{id}")).collect();
		ensure!(
			missing.is_empty(),
			"the export is incomplete: the DAO accepted {} contribution(s) it did not send: {}",
			missing.len(),
			missing.join(", ")
		);
	}
	ensure!(
		count == due.len() as u64 && last == due.last().copied(),
		"the export is incomplete: it read {count} contribution(s) up to {last:?}, the DAO \
		 accepted {} after the starting point up to {:?}",
		due.len(),
		due.last()
	);
	Ok(())
}

fn progress_bar(hidden: bool, len: u64, scope: ExportScope) -> indicatif::ProgressBar {
	// indicatif draws nothing when standard error is not a terminal; said here too, so that
	// a script's log stays clean whatever indicatif's default.
	if hidden || !io::stderr().is_terminal() {
		return indicatif::ProgressBar::hidden();
	}
	let bar = indicatif::ProgressBar::new(len);
	// The server copies each contribution it reads into a part of its own: a part a step.
	let template = match scope {
		ExportScope::Full => "exporting {bar:30} {pos}/{len} contributions, eta {eta}",
		ExportScope::Anonymized => {
			"exporting an anonymized copy {bar:30} {pos}/{len} contributions, eta {eta}"
		},
	};
	bar.set_style(indicatif::ProgressStyle::with_template(template).expect("a valid template"));
	bar
}

/// What every receipt of this export must say, and who must sign it.
struct Expected {
	genesis: [u8; 32],
	dao_id: u32,
	/// The request's nonce: a receipt answers one request.
	nonce: [u8; 16],
	/// The DAO's attestation signer.
	signer: [u8; 32],
	/// The grant the server announced.
	grant: u64,
	/// The scope the server announced: contributions, or parts of an anonymized copy.
	scope: ExportScope,
	/// Contributions come after this one (in acceptance order): it does not come again.
	since: Option<u64>,
	/// The finalized block the server announced.
	finalized: u32,
}

impl Expected {
	/// The statement in a receipt, if the DAO's collective server signed it for this chain.
	fn signed(&self, receipt: &[u8]) -> Result<ExportStatement> {
		let (statement, signature) =
			<(ExportStatement, [u8; 64])>::decode_all(&mut &receipt[..])
				.map_err(|e| anyhow!("the receipt is not a statement and its signature: {e}"))?;
		let payload = export_payload(&statement, &self.genesis);
		datacoop_auth::verify(&self.signer, &payload, &signature).map_err(|e| {
			anyhow!("the receipt is not signed by the DAO's collective server: {e}")
		})?;
		Ok(statement)
	}

	/// Checks that a file's receipt answers this request.
	fn answered(&self, dao_id: u32, grant_id: u64, request_nonce: [u8; 16]) -> Result<()> {
		ensure!(dao_id == self.dao_id, "its receipt is for DAO #{dao_id}");
		ensure!(request_nonce == self.nonce, "its receipt answers another request");
		ensure!(
			grant_id == self.grant,
			"its receipt names grant #{grant_id}, the server announced #{}",
			self.grant
		);
		Ok(())
	}
}

/// An entry of the export, by its name.
#[derive(Debug, PartialEq, Eq)]
enum Name {
	Age(u64),
	Receipt(u64),
	/// Part n's age file, and the extension of its data (`jsonl` or `csv`).
	PartAge(u64, &'static str),
	PartReceipt(u64),
	End,
}

/// `contribution-<id>.age`, `contribution-<id>.receipt`, `part-<n>.jsonl.age`,
/// `part-<n>.csv.age`, `part-<n>.receipt` or `end.receipt`; the number in plain decimal (no
/// sign, no leading zero), so one number has one name.
fn entry_name(name: &[u8]) -> Option<Name> {
	let name = std::str::from_utf8(name).ok()?;
	if name == "end.receipt" {
		return Some(Name::End);
	}
	let number = |digits: &str| -> Option<u64> {
		let canonical = !digits.is_empty()
			&& digits.bytes().all(|b| b.is_ascii_digit())
			&& (digits == "0" || !digits.starts_with('0'));
		digits.parse().ok().filter(|_| canonical)
	};
	if let Some(rest) = name.strip_prefix("contribution-") {
		let (id, extension) = rest.split_once('.')?;
		let id = number(id)?;
		return match extension {
			"age" => Some(Name::Age(id)),
			"receipt" => Some(Name::Receipt(id)),
			_ => None,
		};
	}
	let (n, extension) = name.strip_prefix("part-")?.split_once('.')?;
	let n = number(n)?;
	match extension {
		"jsonl.age" => Some(Name::PartAge(n, "jsonl")),
		"csv.age" => Some(Name::PartAge(n, "csv")),
		"receipt" => Some(Name::PartReceipt(n)),
		_ => None,
	}
}

/// The length of an age header with one X25519 recipient (the files come encrypted to me
/// alone): what a receipt's `age_header_hash` covers.
fn age_header_len() -> u64 {
	datacoop_envelope::header_len(1)
}

/// What an age file of the export holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
	Contribution(u64),
	/// Part n of this stream, and its data's extension.
	Part(u64, &'static str),
}

impl Item {
	/// Its data's file name (its age file's, less `.age`).
	fn file_name(self) -> String {
		match self {
			Item::Contribution(id) => format!("contribution-{id}"),
			Item::Part(n, extension) => format!("part-{n}.{extension}"),
		}
	}
}

impl fmt::Display for Item {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Item::Contribution(id) => write!(f, "contribution #{id}"),
			Item::Part(n, _) => write!(f, "part {n}"),
		}
	}
}

/// An age file saved, waiting for its receipt.
struct Saved {
	item: Item,
	path: PathBuf,
	/// BLAKE2-256 of its first [`age_header_len`] bytes.
	header_hash: [u8; 32],
	len: u64,
}

impl Saved {
	/// Checks that it is the file a receipt names.
	fn named(&self, age_header_hash: [u8; 32], age_len: u64) -> Result<()> {
		let len = self.len;
		ensure!(age_len == len, "its file is {len} bytes, its receipt says {age_len}");
		ensure!(
			age_header_hash == self.header_hash,
			"its file's header is not the one its receipt names"
		);
		Ok(())
	}
}

/// A part of an anonymized export, checked and decrypted, in `.partial` until the export's
/// end verifies.
struct Held {
	n: u64,
	extension: &'static str,
	data: PathBuf,
	age: PathBuf,
}

/// Reads an export, checks it entry by entry and keeps what passes. `C` checks a
/// contribution on chain: (id, ciphertext hash named by its receipt).
struct Receiver<C> {
	expected: Expected,
	dir: PathBuf,
	keep_age: bool,
	/// The parts earlier anonymized exports into `dir` kept: part n of this one is kept as
	/// `part-<parts_before + n>`.
	parts_before: u64,
	identity: Identity,
	on_chain: C,
	progress: indicatif::ProgressBar,
	waiting: Option<Saved>,
	ended: bool,
	/// What the end receipt counts and names as the last contribution, once it verified.
	end: Option<(u64, Option<u64>)>,
	received: Vec<u64>,
	/// The same, to find a repeat at once.
	seen: std::collections::HashSet<u64>,
	/// The parts checked, waiting for the end.
	held: Vec<Held>,
	/// The parts' data kept, once the end verified.
	parts: Vec<PathBuf>,
	/// The records in the parts checked, as their receipts say.
	records: u64,
	files: Vec<PathBuf>,
	bytes: u64,
}

impl<C: FnMut(u64, [u8; 32]) -> Result<()>> Receiver<C> {
	fn new(
		expected: Expected,
		dir: PathBuf,
		keep_age: bool,
		parts_before: u64,
		identity: Identity,
		progress: indicatif::ProgressBar,
		on_chain: C,
	) -> Self {
		Receiver {
			expected,
			dir,
			keep_age,
			parts_before,
			identity,
			on_chain,
			progress,
			waiting: None,
			ended: false,
			end: None,
			received: Vec::new(),
			seen: Default::default(),
			held: Vec::new(),
			parts: Vec::new(),
			records: 0,
			files: Vec::new(),
			bytes: 0,
		}
	}

	fn partial(&self, name: &str) -> PathBuf {
		self.dir.join(PARTIAL).join(name)
	}

	/// The stream broke off (or is not a tar stream): what was kept stays, the rest comes
	/// with the next run.
	fn cut_short(&self, e: io::Error) -> anyhow::Error {
		anyhow::Error::new(e).context(self.cut_short_message())
	}

	fn cut_short_message(&self) -> String {
		match self.expected.scope {
			ExportScope::Full => format!(
				"the export was cut short after {} contributions; run the command again to \
				 resume",
				self.received.len()
			),
			ExportScope::Anonymized => format!(
				"the export was cut short after {} parts, none kept (parts name no \
				 contribution to resume after); run the command again to export them anew",
				self.held.len()
			),
		}
	}

	/// Refuses an age file while another waits for its receipt.
	fn none_waiting(&self, item: Item) -> Result<()> {
		if let Some(waiting) = &self.waiting {
			bail!("{}'s receipt is missing: {item}'s file came instead", waiting.item);
		}
		Ok(())
	}

	/// A `contribution-<id>.age` entry: saved to `.partial`, its header hashed and its
	/// length counted.
	fn age(&mut self, id: u64, entry: &mut impl Read) -> Result<()> {
		let item = Item::Contribution(id);
		self.none_waiting(item)?;
		// Each once, and not `since` again: what the resume file records (the last one
		// kept) is then where the next export starts.
		ensure!(
			!self.seen.contains(&id) && self.expected.since != Some(id),
			"contribution #{id} came twice: the export is faulty"
		);
		let path = self.partial(&format!("contribution-{id}.age"));
		let (header_hash, len) = self.save(entry, &path)?;
		self.waiting = Some(Saved { item, path, header_hash, len });
		Ok(())
	}

	/// A `part-<n>.<extension>.age` entry: saved to `.partial` as a contribution's is. Parts
	/// come in order from 0, so that each has its own number.
	fn part_age(&mut self, n: u64, extension: &'static str, entry: &mut impl Read) -> Result<()> {
		let item = Item::Part(n, extension);
		self.none_waiting(item)?;
		let due = self.held.len() as u64;
		ensure!(n == due, "part {n} came where part {due} was due: the export is faulty");
		let path = self.partial(&format!("{}.age", item.file_name()));
		let (header_hash, len) = self.save(entry, &path)?;
		self.waiting = Some(Saved { item, path, header_hash, len });
		Ok(())
	}

	/// Writes `entry` to `path`; the BLAKE2-256 of its header and its length.
	fn save(&self, entry: &mut impl Read, path: &Path) -> Result<([u8; 32], u64)> {
		let cannot = || format!("cannot write {}", path.display());
		let mut file = BufWriter::new(fs::File::create(path).with_context(cannot)?);
		let header_len = age_header_len();
		let mut hasher = Hasher::default();
		let mut len = 0u64;
		let mut buf = vec![0u8; 256 << 10];
		loop {
			let n = match entry.read(&mut buf) {
				Ok(0) => break,
				Ok(n) => n,
				Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
				Err(e) => return Err(self.cut_short(e)),
			};
			let in_header = header_len.saturating_sub(len).min(n as u64) as usize;
			hasher.update(&buf[..in_header]);
			file.write_all(&buf[..n]).with_context(cannot)?;
			len += n as u64;
		}
		file.flush().with_context(cannot)?;
		Ok((hasher.finish().0, len))
	}

	/// A contribution's receipt: checked, then its file decrypted and kept.
	fn receipt(&mut self, id: u64, receipt: &[u8]) -> Result<()> {
		let saved = match self.waiting.take() {
			Some(saved) if saved.item == Item::Contribution(id) => saved,
			_ => bail!("contribution #{id}'s receipt came without its file"),
		};
		self.check_receipt(&saved, id, receipt)
			.with_context(|| format!("contribution #{id} does not verify"))?;
		let (data, bytes) = self.decrypt(&saved)?;
		// Checked and whole: out of `.partial`.
		let output = self.dir.join(format!("contribution-{id}"));
		fs::rename(&data, &output).with_context(|| format!("cannot write {}", output.display()))?;
		self.files.push(output);
		self.keep_or_remove_age(&saved.path, &format!("contribution-{id}.age"))?;
		self.received.push(id);
		self.seen.insert(id);
		self.bytes += bytes;
		let resume =
			Resume { dao: self.expected.dao_id, last: id, parts: 0, scope: ExportScope::Full };
		write_resume(&self.dir, &resume)?;
		self.progress.inc(1);
		Ok(())
	}

	/// With --keep-age, the age file at `path` moves into the directory as `name`; else it
	/// is removed.
	fn keep_or_remove_age(&mut self, path: &Path, name: &str) -> Result<()> {
		if self.keep_age {
			let kept = self.dir.join(name);
			fs::rename(path, &kept).with_context(|| format!("cannot write {}", kept.display()))?;
			self.files.push(kept);
		} else {
			fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
		}
		Ok(())
	}

	fn check_receipt(&mut self, saved: &Saved, id: u64, receipt: &[u8]) -> Result<()> {
		let expected = &self.expected;
		let ExportStatement::Contribution {
			dao_id,
			grant_id,
			request_nonce,
			contribution_id,
			ciphertext_hash,
			age_header_hash,
			age_len,
		} = expected.signed(receipt)?
		else {
			bail!("its receipt is not a contribution's");
		};
		expected.answered(dao_id, grant_id, request_nonce)?;
		ensure!(contribution_id == id, "its receipt is for contribution #{contribution_id}");
		saved.named(age_header_hash, age_len)?;
		(self.on_chain)(id, ciphertext_hash)
	}

	/// A part's receipt: checked, then its file decrypted, in `.partial` until the end.
	fn part_receipt(&mut self, n: u64, receipt: &[u8]) -> Result<()> {
		let Some(saved) = self.waiting.take() else {
			bail!("part {n}'s receipt came without its file");
		};
		let extension = match saved.item {
			Item::Part(m, extension) if m == n => extension,
			_ => bail!("part {n}'s receipt came without its file"),
		};
		let records = self
			.check_part_receipt(&saved, n, receipt)
			.with_context(|| format!("part {n} does not verify"))?;
		let (data, bytes) = self.decrypt(&saved)?;
		self.held.push(Held { n, extension, data, age: saved.path });
		self.records = self.records.saturating_add(records);
		self.bytes += bytes;
		self.progress.inc(1);
		Ok(())
	}

	/// The records a part holds, if its receipt names it. No chain check: it names no
	/// contribution.
	fn check_part_receipt(&self, saved: &Saved, n: u64, receipt: &[u8]) -> Result<u64> {
		let expected = &self.expected;
		let ExportStatement::Part {
			dao_id,
			grant_id,
			request_nonce,
			part,
			records,
			age_header_hash,
			age_len,
		} = expected.signed(receipt)?
		else {
			bail!("its receipt is not a part's");
		};
		expected.answered(dao_id, grant_id, request_nonce)?;
		ensure!(part == n, "its receipt is for part {part}");
		saved.named(age_header_hash, age_len)?;
		Ok(records)
	}

	/// Decrypts a saved file into `.partial`; where, and how many bytes. Nothing is left
	/// there if it does not decrypt whole.
	fn decrypt(&self, saved: &Saved) -> Result<(PathBuf, u64)> {
		let data = self.partial(&saved.item.file_name());
		let result = (|| -> Result<u64> {
			let input = BufReader::new(fs::File::open(&saved.path)?);
			let mut output = fs::File::create(&data)?;
			let n = datacoop_envelope::decrypt(
				std::slice::from_ref(&self.identity),
				input,
				BufWriter::new(&mut output),
				&Parallelism::AllCores,
			)?;
			output.sync_all()?;
			Ok(n)
		})();
		match result {
			Ok(n) => Ok((data, n)),
			Err(e) => {
				let _ = fs::remove_file(&data);
				Err(e.context(format!("{}: cannot decrypt its file", saved.item)))
			},
		}
	}

	/// `end.receipt`: the server's signed word that nothing was left out of what it sent.
	/// An anonymized export's parts are kept then.
	fn end(&mut self, receipt: &[u8]) -> Result<()> {
		if let Some(waiting) = &self.waiting {
			bail!("{}'s receipt is missing: the export ended instead", waiting.item);
		}
		let (count, last) = self.check_end(receipt).context("the export's end does not verify")?;
		if self.expected.scope == ExportScope::Anonymized {
			self.keep_parts(last)?;
		}
		self.end = Some((count, last));
		self.ended = true;
		Ok(())
	}

	/// The contributions the export read and the last of them, as the end receipt counts and
	/// names them, once checked.
	fn check_end(&self, receipt: &[u8]) -> Result<(u64, Option<u64>)> {
		let expected = &self.expected;
		let ExportStatement::End { dao_id, grant_id, request_nonce, finalized, count, last } =
			expected.signed(receipt)?
		else {
			bail!("end.receipt is not an end's receipt");
		};
		ensure!(dao_id == expected.dao_id, "it is for DAO #{dao_id}");
		ensure!(request_nonce == expected.nonce, "it answers another request");
		ensure!(grant_id == expected.grant, "it names grant #{grant_id}");
		ensure!(
			finalized == expected.finalized,
			"it says block {finalized}, the server announced {}",
			expected.finalized
		);
		match expected.scope {
			ExportScope::Full => {
				let received = self.received.len() as u64;
				ensure!(count == received, "it counts {count} contributions, {received} came");
				ensure!(
					last == self.received.last().copied(),
					"it names {last:?} as the last contribution, {:?} came last",
					self.received.last()
				);
			},
			ExportScope::Anonymized => {
				// Parts name no contribution: `last` is only checked to be a place to
				// resume after.
				let parts = self.held.len() as u64;
				ensure!(count == parts, "it counts {count} parts, {parts} came");
				ensure!(
					count == 0 || last.is_some(),
					"it counts {count} parts but names no contribution they came from"
				);
				if let (Some(last), Some(since)) = (last, expected.since) {
					ensure!(
						last != since,
						"it names contribution #{last} as the last read, the one the export \
						 was to start after"
					);
				}
			},
		}
		Ok((count, last))
	}

	/// An anonymized export verified to its end: its parts out of `.partial`, numbered after
	/// those earlier runs kept, and the resume file says where the next one starts. They are
	/// all moved before the resume file is written: a crash in between leaves the old
	/// record, and the next run writes the same names again.
	fn keep_parts(&mut self, last: Option<u64>) -> Result<()> {
		let count = self.held.len() as u64;
		for held in std::mem::take(&mut self.held) {
			let name = format!("part-{}.{}", self.parts_before + held.n, held.extension);
			let output = self.dir.join(&name);
			fs::rename(&held.data, &output)
				.with_context(|| format!("cannot write {}", output.display()))?;
			self.parts.push(output.clone());
			self.files.push(output);
			self.keep_or_remove_age(&held.age, &format!("{name}.age"))?;
		}
		// No last: nothing was read, and the old record stands.
		if let Some(last) = last {
			let resume = Resume {
				dao: self.expected.dao_id,
				last,
				parts: self.parts_before + count,
				scope: ExportScope::Anonymized,
			};
			write_resume(&self.dir, &resume)?;
		}
		Ok(())
	}
}

/// Reads the export's tar stream to its end, each entry as it comes.
fn receive<C: FnMut(u64, [u8; 32]) -> Result<()>>(
	input: impl Read,
	receiver: &mut Receiver<C>,
) -> Result<()> {
	let mut archive = tar::Archive::new(input);
	for entry in archive.entries().map_err(|e| receiver.cut_short(e))? {
		let mut entry = entry.map_err(|e| receiver.cut_short(e))?;
		if receiver.ended {
			bail!("the export goes on after end.receipt: the collective server is faulty");
		}
		let path = entry.path_bytes().into_owned();
		let scope = receiver.expected.scope;
		// Contributions in a full export, parts in an anonymized one.
		let of_scope = |name: &Name| match name {
			Name::Age(_) | Name::Receipt(_) => scope == ExportScope::Full,
			Name::PartAge(..) | Name::PartReceipt(_) => scope == ExportScope::Anonymized,
			Name::End => true,
		};
		let name = entry_name(&path)
			.filter(|name| entry.header().entry_type().is_file() && of_scope(name))
			.ok_or_else(|| {
				anyhow!(
					"the {scope} export holds an unexpected entry {:?}",
					String::from_utf8_lossy(&path)
				)
			})?;
		match name {
			Name::Age(id) => receiver.age(id, &mut entry)?,
			Name::Receipt(id) => {
				let bytes = read_receipt(&mut entry, receiver)?;
				receiver.receipt(id, &bytes)?
			},
			Name::PartAge(n, extension) => receiver.part_age(n, extension, &mut entry)?,
			Name::PartReceipt(n) => {
				let bytes = read_receipt(&mut entry, receiver)?;
				receiver.part_receipt(n, &bytes)?
			},
			Name::End => {
				let bytes = read_receipt(&mut entry, receiver)?;
				receiver.end(&bytes)?
			},
		}
	}
	if !receiver.ended {
		bail!("{}", receiver.cut_short_message());
	}
	Ok(())
}

/// A receipt entry's bytes (bounded: a receipt is small).
fn read_receipt<R: Read, C>(
	entry: &mut tar::Entry<'_, R>,
	receiver: &Receiver<C>,
) -> Result<Vec<u8>>
where
	C: FnMut(u64, [u8; 32]) -> Result<()>,
{
	let size = entry.size();
	ensure!(size <= MAX_RECEIPT, "a receipt of {size} bytes: the export is faulty");
	let mut bytes = Vec::new();
	entry.take(MAX_RECEIPT).read_to_end(&mut bytes).map_err(|e| receiver.cut_short(e))?;
	Ok(bytes)
}

/// The resume file of an export of `dao` into the directory.
#[derive(Serialize, Deserialize)]
struct Resume {
	dao: u32,
	/// The last contribution kept; for an anonymized export, the last one the parts kept
	/// came from.
	last: u64,
	/// The parts an anonymized export kept: the next run's are numbered after them.
	#[serde(default)]
	parts: u64,
	#[serde(default)]
	scope: ExportScope,
}

/// What an earlier export of DAO `dao` into `dir` kept, if any. A directory holding another
/// DAO's export is refused: mixing two DAOs' files would mislead.
fn read_resume(dir: &Path, dao: u32) -> Result<Option<Resume>> {
	let path = dir.join(RESUME);
	let bytes = match fs::read(&path) {
		Ok(bytes) => bytes,
		Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
		Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
	};
	let resume: Resume = serde_json::from_slice(&bytes).with_context(|| {
		format!("{} is not an export's resume file: remove it to start over", path.display())
	})?;
	if resume.dao != dao {
		bail!(
			"{} holds an export of DAO #{}: export DAO #{dao} into another directory",
			dir.display(),
			resume.dao
		);
	}
	Ok(Some(resume))
}

/// Records where the export stands: written aside, then renamed over the old record, so a
/// crash leaves the old one or the new one, never half of one.
fn write_resume(dir: &Path, resume: &Resume) -> Result<()> {
	let path = dir.join(RESUME);
	let aside = dir.join(format!("{RESUME}.tmp"));
	let written = (|| -> io::Result<()> {
		let mut file = fs::File::create(&aside)?;
		file.write_all(&serde_json::to_vec(resume)?)?;
		file.sync_all()?;
		fs::rename(&aside, &path)
	})();
	written.with_context(|| format!("cannot write {}", path.display()))
}

/// An example query, for error messages.
const QUERY_EXAMPLE: &str = r#"{"stats": ["count", {"mean": "/age"}], "group_by": ["/channel"]}"#;

async fn query(args: &QueryArgs, global: &Global, out: &mut impl Write) -> Result<()> {
	// The query first: a malformed one fails before any password is asked.
	let body = query_body(&args.query, args.epsilon)?;
	let account = global.account()?;
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	let collective = CollectiveClient::for_dao(&at, args.dao).await?;
	// Before the request: the server would refuse it, with less to go on.
	let grant = check_aggregate_grant(&at, args.dao, &account).await?;
	let answer: Answer =
		collective.query(&account, client.genesis_hash(), body.bytes).await.map_err(|e| {
			if e.to_string().contains("budget") {
				e.context(format!(
					"grant #{grant}'s privacy budget does not cover this query (a smaller \
					 --epsilon spends less)"
				))
			} else {
				e
			}
		})?;
	print(out, global.json, &QueryView::of(answer, &body.query))
}

/// Refuses early, naming the grant, when my live grant is not an `Aggregate` one: only those
/// answer queries. The grant's id.
async fn check_aggregate_grant(
	at: &chain::At,
	dao_id: u32,
	account: &crate::keystore::Account,
) -> Result<u64> {
	let grant = live_grant(at, dao_id, account).await?;
	match grant.scope {
		Scope::Aggregate { .. } => Ok(grant.id),
		Scope::Full => bail!(
			"grant #{} is a full grant: it answers no aggregate queries (`datacoop data export \
			 --dao {dao_id}` exports the contributions themselves)",
			grant.id
		),
		Scope::Anonymized => bail!(
			"grant #{} is an anonymized grant: it answers no aggregate queries (`datacoop data \
			 export --dao {dao_id}` exports the anonymized copy)",
			grant.id
		),
	}
}

/// A query as sent: the JSON object, its ε set, and its bytes, serialized once. Those bytes
/// are what the request's signature hashes, and what is sent.
struct QueryBody {
	query: Map<String, Value>,
	bytes: Vec<u8>,
}

/// The query `text` (a JSON object) with its `"epsilon"` set to `epsilon` (added, or
/// replacing the one it had), serialized compact.
fn query_body(text: &str, epsilon: f64) -> Result<QueryBody> {
	ensure!(
		epsilon.is_finite() && epsilon > 0.0,
		"--epsilon {epsilon}: the privacy budget a query spends is a number above 0"
	);
	let value: Value = serde_json::from_str(text)
		.map_err(|e| anyhow!("the query is not JSON ({e}): e.g. '{QUERY_EXAMPLE}'"))?;
	let mut query = match value {
		Value::Object(query) => query,
		other => {
			bail!("the query is a JSON object, not {}: e.g. '{QUERY_EXAMPLE}'", json_kind(&other))
		},
	};
	query.insert("epsilon".into(), Value::from(epsilon));
	let bytes = serde_json::to_vec(&query)?;
	Ok(QueryBody { query, bytes })
}

/// What kind of JSON value `value` is, for a message.
fn json_kind(value: &Value) -> &'static str {
	match value {
		Value::Null => "null",
		Value::Bool(_) => "a boolean",
		Value::Number(_) => "a number",
		Value::String(_) => "a string",
		Value::Array(_) => "an array",
		Value::Object(_) => "an object",
	}
}

/// The collective server's answer to a query (its JSON, as the server's `dp::Released` and
/// what it adds).
#[derive(Serialize, Deserialize, Debug)]
struct Answer {
	/// The groups large enough to be answered, in key order.
	groups: Vec<AnswerGroup>,
	/// The ε this answer spent.
	epsilon_spent: f64,
	/// The ε the grant has left after it.
	epsilon_left: f64,
	/// Each mechanism's noise scale, by name (`count`, `mean(/age): sum`, …).
	#[serde(default)]
	scales: Vec<(String, f64)>,
	/// The bound each statistic's noise stays within with probability 99.9 %, by name.
	#[serde(default)]
	bound_99_9: Vec<(String, f64)>,
	grant: u64,
	/// The finalized block the grant was read at.
	finalized: u32,
	/// The records the answer is over.
	records: u64,
	/// Accepted contributions the answer is not over: the server could not refine them (their
	/// blob gone from storage, or data that does not read), and tries again later.
	#[serde(default)]
	left_out: Vec<u64>,
}

/// One group's noisy statistics.
#[derive(Serialize, Deserialize, Debug)]
struct AnswerGroup {
	/// One value per `group_by` field (`null`: the field had no value).
	key: Vec<Option<String>>,
	/// By statistic's label: `count`, `sum(/age)`, `mean(/age)`, `min(/age)`, `max(/age)`: a
	/// number; `histogram(/age,10)`: its bins' counts (an array, or `{"edges", "counts"}`).
	values: Map<String, Value>,
}

/// An answer as shown: `--json` gives the answer as the server sent it; for people, a table
/// with a column per group field (named by the query's `group_by`) and per statistic (in the
/// query's order), then the ε spent and the noise.
#[derive(Serialize)]
#[serde(transparent)]
struct QueryView {
	answer: Answer,
	/// The query's `group_by` fields.
	#[serde(skip)]
	group_by: Vec<String>,
	/// The labels of the query's statistics, in its order.
	#[serde(skip)]
	stats: Vec<String>,
}

impl QueryView {
	fn of(answer: Answer, query: &Map<String, Value>) -> QueryView {
		let strings = |name: &str| -> Vec<Value> {
			query.get(name).and_then(Value::as_array).cloned().unwrap_or_default()
		};
		let group_by =
			strings("group_by").iter().map(|g| g.as_str().unwrap_or("?").to_owned()).collect();
		let stats = strings("stats").iter().filter_map(stat_label).collect();
		QueryView { answer, group_by, stats }
	}

	/// The value columns: the query's statistics in its order, then anything else the answer
	/// holds.
	fn columns(&self) -> Vec<String> {
		let answered =
			|label: &String| self.answer.groups.iter().any(|g| g.values.contains_key(label));
		let mut columns: Vec<String> =
			self.stats.iter().filter(|&label| answered(label)).cloned().collect();
		for group in &self.answer.groups {
			for label in group.values.keys() {
				if !columns.contains(label) {
					columns.push(label.clone());
				}
			}
		}
		columns
	}
}

/// A statistic's label in an answer, from its JSON in the query: `"count"` is `count`,
/// `{"mean": "/age"}` is `mean(/age)`, `{"histogram": ["/age", 10]}` is `histogram(/age,10)`.
fn stat_label(stat: &Value) -> Option<String> {
	match stat {
		Value::String(name) => Some(name.clone()),
		Value::Object(map) if map.len() == 1 => {
			let (name, argument) = map.iter().next()?;
			let argument = match argument {
				Value::String(field) => field.clone(),
				Value::Array(items) => items
					.iter()
					.map(|item| match item {
						Value::String(s) => Some(s.clone()),
						Value::Number(n) => Some(n.to_string()),
						_ => None,
					})
					.collect::<Option<Vec<_>>>()?
					.join(","),
				_ => return None,
			};
			Some(format!("{name}({argument})"))
		},
		_ => None,
	}
}

/// Text from the server, fit for a terminal: no control character.
fn printable(text: &str) -> String {
	text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// A statistic's value in a cell: numbers with 2 decimals, arrays (a histogram's counts)
/// joined with commas.
fn cell(value: &Value) -> String {
	match value {
		Value::Number(n) => match n.as_f64() {
			Some(x) => format!("{x:.2}"),
			None => n.to_string(),
		},
		Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
		// A histogram as the server's `dp` makes it: its counts (the edges follow from the
		// field's range; --json has them).
		Value::Object(map) => match map.get("counts") {
			Some(counts @ Value::Array(_)) => cell(counts),
			_ => printable(&value.to_string()),
		},
		Value::String(s) => printable(s),
		Value::Bool(b) => b.to_string(),
		Value::Null => "-".into(),
	}
}

/// ε as people read it: at most 6 decimals, no trailing zero (`0.1`, not
/// `0.09999999999999999`).
fn epsilon(x: f64) -> String {
	let text = format!("{x:.6}");
	let text = text.trim_end_matches('0').trim_end_matches('.');
	if text == "-0" {
		"0".into()
	} else {
		text.to_owned()
	}
}

/// Writes `rows` under `header` in columns two spaces apart: the first `left` columns (the
/// group keys) aligned left, the others (numbers) right.
fn table(
	f: &mut fmt::Formatter,
	header: &[String],
	rows: &[Vec<String>],
	left: usize,
) -> fmt::Result {
	let width = |s: &String| s.chars().count();
	let widths: Vec<usize> = (0..header.len())
		.map(|c| {
			std::iter::once(&header[c])
				.chain(rows.iter().filter_map(|r| r.get(c)))
				.map(width)
				.max()
				.unwrap_or(0)
		})
		.collect();
	for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
		let mut line = String::new();
		for (c, text) in row.iter().enumerate() {
			if c > 0 {
				line.push_str("  ");
			}
			let pad = " ".repeat(widths[c].saturating_sub(width(text)));
			if c < left {
				line.push_str(text);
				line.push_str(&pad);
			} else {
				line.push_str(&pad);
				line.push_str(text);
			}
		}
		writeln!(f, "{}", line.trim_end())?;
	}
	Ok(())
}

impl fmt::Display for QueryView {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		let answer = &self.answer;
		if answer.groups.is_empty() {
			writeln!(f, "no group to answer (groups below the grant's minimum size are left out)")?;
		} else {
			let keys = answer.groups.iter().map(|g| g.key.len()).max().unwrap_or(0);
			let columns = self.columns();
			let mut header: Vec<String> = (0..keys)
				.map(|i| match self.group_by.get(i) {
					Some(name) => printable(name),
					None => format!("key {}", i + 1),
				})
				.collect();
			header.extend(columns.iter().map(|c| printable(c)));
			let rows: Vec<Vec<String>> = (answer.groups.iter())
				.map(|group| {
					let key = (0..keys).map(|i| match group.key.get(i) {
						Some(Some(value)) => printable(value),
						_ => "(none)".to_owned(),
					});
					let values =
						columns.iter().map(|c| group.values.get(c).map(cell).unwrap_or_default());
					key.chain(values).collect()
				})
				.collect();
			table(f, &header, &rows, keys)?;
		}
		write!(
			f,
			"ε spent {}, left {} (grant #{}, block {}, {} records)",
			epsilon(answer.epsilon_spent),
			epsilon(answer.epsilon_left),
			answer.grant,
			answer.finalized,
			answer.records
		)?;
		if !answer.bound_99_9.is_empty() {
			let bounds: Vec<String> = (answer.bound_99_9.iter())
				.map(|(label, bound)| format!("{} ±{bound:.2}", printable(label)))
				.collect();
			write!(f, "\nnoise: {} (99.9 %)", bounds.join(", "))?;
		}
		if !answer.left_out.is_empty() {
			let ids: Vec<String> = answer.left_out.iter().map(|id| format!("#{id}")).collect();
			write!(
				f,
				"\nleft out: {} accepted contribution(s) the server could not read: {}",
				ids.len(),
				ids.join(", ")
			)?;
		}
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use codec::Encode;
	use datacoop_auth::{KeypairSigner, Signer};

	use super::*;

	const GENESIS: [u8; 32] = [1; 32];
	const NONCE: [u8; 16] = [2; 16];
	const CIPHERTEXT: [u8; 32] = [3; 32];

	fn server() -> KeypairSigner {
		KeypairSigner::from_seed([9; 32])
	}

	fn me() -> Identity {
		Identity::from_bytes([5; 32])
	}

	fn expected(since: Option<u64>) -> Expected {
		Expected {
			genesis: GENESIS,
			dao_id: 4,
			nonce: NONCE,
			signer: server().account(),
			grant: 6,
			scope: ExportScope::Full,
			since,
			finalized: 100,
		}
	}

	fn anonymized(since: Option<u64>) -> Expected {
		Expected { scope: ExportScope::Anonymized, ..expected(since) }
	}

	/// `statement` as the server signs it into a receipt.
	fn receipt(statement: &ExportStatement) -> Vec<u8> {
		let signature = server().sign(&export_payload(statement, &GENESIS));
		(statement.clone(), signature).encode()
	}

	/// `plain` encrypted to me alone, as the server sends it.
	fn seal(plain: &[u8]) -> Vec<u8> {
		let mut age = Vec::new();
		datacoop_envelope::encrypt(&[me().to_public()], plain, &mut age, &Parallelism::OneCore)
			.unwrap();
		age
	}

	fn header_hash(age: &[u8]) -> [u8; 32] {
		let mut hasher = Hasher::default();
		hasher.update(&age[..age_header_len() as usize]);
		hasher.finish().0
	}

	/// The receipt the server signs for `age` as contribution `id` of ciphertext `ciphertext`.
	fn receipt_for(id: u64, age: &[u8], ciphertext: [u8; 32]) -> Vec<u8> {
		receipt(&ExportStatement::Contribution {
			dao_id: 4,
			grant_id: 6,
			request_nonce: NONCE,
			contribution_id: id,
			ciphertext_hash: ciphertext,
			age_header_hash: header_hash(age),
			age_len: age.len() as u64,
		})
	}

	/// The receipt the server signs for `age` as part `part` holding `records` records.
	fn part_receipt(part: u64, age: &[u8], records: u64) -> Vec<u8> {
		receipt(&ExportStatement::Part {
			dao_id: 4,
			grant_id: 6,
			request_nonce: NONCE,
			part,
			records,
			age_header_hash: header_hash(age),
			age_len: age.len() as u64,
		})
	}

	/// Contribution `id`'s age file of `plain`, and its receipt.
	fn contribution(id: u64, plain: &[u8]) -> (Vec<u8>, Vec<u8>) {
		let age = seal(plain);
		let receipt = receipt_for(id, &age, CIPHERTEXT);
		(age, receipt)
	}

	fn end(count: u64, last: Option<u64>) -> Vec<u8> {
		receipt(&ExportStatement::End {
			dao_id: 4,
			grant_id: 6,
			request_nonce: NONCE,
			finalized: 100,
			count,
			last,
		})
	}

	fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
		let mut builder = tar::Builder::new(Vec::new());
		for (name, data) in entries {
			let mut header = tar::Header::new_ustar();
			header.set_size(data.len() as u64);
			header.set_mode(0o644);
			header.set_entry_type(tar::EntryType::Regular);
			builder.append_data(&mut header, name, *data).unwrap();
		}
		builder.into_inner().unwrap()
	}

	/// Receives `stream` into `dir` as the command does (parts numbered after those its
	/// resume file counts), the chain knowing `CIPHERTEXT` only.
	// The closure's type is the test's stand-in for the chain: naming it would take a box.
	#[allow(clippy::type_complexity)]
	fn receive_with(
		dir: &Path,
		expected: Expected,
		keep_age: bool,
		stream: &[u8],
	) -> Result<Receiver<impl FnMut(u64, [u8; 32]) -> Result<()>>> {
		fs::create_dir_all(dir.join(PARTIAL)).unwrap();
		let on_chain = |_: u64, hash: [u8; 32]| -> Result<()> {
			ensure!(hash == CIPHERTEXT, "not on chain");
			Ok(())
		};
		let parts_before = read_resume(dir, 4).unwrap().map_or(0, |r| r.parts);
		let progress = indicatif::ProgressBar::hidden();
		let mut receiver = Receiver::new(
			expected,
			dir.to_owned(),
			keep_age,
			parts_before,
			me(),
			progress,
			on_chain,
		);
		receive(stream, &mut receiver).map(|()| receiver)
	}

	fn receive_into(dir: &Path, since: Option<u64>, stream: &[u8]) -> Result<Vec<u64>> {
		receive_with(dir, expected(since), false, stream).map(|r| r.received)
	}

	/// The last contribution the resume file in `dir` records.
	fn resumed_last(dir: &Path) -> Option<u64> {
		read_resume(dir, 4).unwrap().map(|r| r.last)
	}

	/// What `dir` holds but `.partial`.
	fn outside_partial(dir: &Path) -> Vec<String> {
		fs::read_dir(dir)
			.unwrap()
			.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
			.filter(|name| name != PARTIAL)
			.collect()
	}

	#[test]
	fn the_age_header_of_one_recipient_is_what_receipts_hash() {
		// An empty file is its header, the payload nonce and one empty chunk's tag.
		assert_eq!(age_header_len(), datacoop_envelope::encrypted_len(0, 1) - 16 - 16);
		assert_eq!(age_header_len(), 168);
		let age = seal(b"");
		let header = &age[..age_header_len() as usize];
		assert!(header.starts_with(b"age-encryption.org/v1\n") && header.ends_with(b"\n"));
		let last_line = header[..header.len() - 1].rsplit(|b| *b == b'\n').next().unwrap();
		assert!(last_line.starts_with(b"--- "), "{}", String::from_utf8_lossy(header));
	}

	#[test]
	fn an_export_that_leaves_out_an_accepted_contribution_is_incomplete() {
		// Accepted in this order: #4 at block 10, #2 and #7 at block 11, #9 at block 12.
		let accepted = [(4, 10), (2, 11), (7, 11), (9, 12)];
		let full = |since, received: &[u64], count, last| {
			complete(&accepted, since, Some(received), count, last)
		};
		full(None, &[4, 2, 7, 9], 4, Some(9)).unwrap();
		full(Some(2), &[7, 9], 2, Some(9)).unwrap();
		full(Some(9), &[], 0, None).unwrap();
		// #7 withheld, the end receipt counting what was sent
		let e = full(None, &[4, 2, 9], 3, Some(9)).unwrap_err().to_string();
		assert!(e.contains("did not send: #7"), "{e}");
		let e = full(Some(4), &[2, 9], 2, Some(9)).unwrap_err().to_string();
		assert!(e.contains("#7"), "{e}");
		// the last ones withheld: the end names an earlier last
		let e = full(None, &[4, 2], 2, Some(2)).unwrap_err().to_string();
		assert!(e.contains("#7, #9"), "{e}");
		// a contribution accepted after the export's block sent as well: more than due
		assert!(full(Some(9), &[11], 1, Some(11)).is_err());
		// a starting point the DAO did not accept
		let e = full(Some(5), &[], 0, None).unwrap_err().to_string();
		assert!(e.contains("#5"), "{e}");
		// where the next run resumes: before the first one missing
		assert_eq!(resume_point(&accepted, None, &[4, 2, 9]), Some(2));
		assert_eq!(resume_point(&accepted, None, &[2, 7, 9]), None);
		assert_eq!(resume_point(&accepted, Some(4), &[7, 9]), Some(4));
		assert_eq!(resume_point(&accepted, Some(2), &[7]), Some(7));
		// an export as of a block long before the wallet's own
		check_announced(100, 90).unwrap();
		check_announced(100, 100).unwrap();
		check_announced(5, 9).unwrap();
		assert!(check_announced(100, 69).unwrap_err().to_string().contains("31 blocks behind"));
		// anonymized parts name no contribution: the end's count and last are checked
		complete(&accepted, None, None, 4, Some(9)).unwrap();
		complete(&accepted, Some(7), None, 1, Some(9)).unwrap();
		assert!(complete(&accepted, None, None, 3, Some(9)).is_err());
		assert!(complete(&accepted, None, None, 4, Some(7)).is_err());
	}

	#[test]
	fn entry_names_are_strict() {
		assert_eq!(entry_name(b"contribution-7.age"), Some(Name::Age(7)));
		assert_eq!(entry_name(b"contribution-0.receipt"), Some(Name::Receipt(0)));
		assert_eq!(entry_name(b"end.receipt"), Some(Name::End));
		assert_eq!(entry_name(b"part-0.jsonl.age"), Some(Name::PartAge(0, "jsonl")));
		assert_eq!(entry_name(b"part-12.csv.age"), Some(Name::PartAge(12, "csv")));
		assert_eq!(entry_name(b"part-3.receipt"), Some(Name::PartReceipt(3)));
		for bad in [
			"contribution-07.age",
			"contribution-+7.age",
			"contribution-.age",
			"contribution-7.age.x",
			"contribution-7",
			"contribution-7.jsonl.age",
			"../end.receipt",
			"x",
			"part-01.jsonl.age",
			"part-0.json.age",
			"part-0.jsonl",
			"part-0.age",
			"part-0.csv.receipt",
			"part-.receipt",
		] {
			assert_eq!(entry_name(bad.as_bytes()), None, "{bad}");
		}
	}

	#[test]
	fn a_checked_export_is_kept_and_recorded() {
		let dir = tempfile::tempdir().unwrap();
		// In acceptance order: #8 was accepted before #3.
		let (a, a_receipt) = contribution(8, b"first");
		let (b, b_receipt) = contribution(3, b"second");
		let end = end(2, Some(3));
		let stream = tar(&[
			("contribution-8.age", &a[..]),
			("contribution-8.receipt", &a_receipt[..]),
			("contribution-3.age", &b[..]),
			("contribution-3.receipt", &b_receipt[..]),
			("end.receipt", &end[..]),
		]);
		assert_eq!(receive_into(dir.path(), Some(2), &stream).unwrap(), vec![8, 3]);
		assert_eq!(fs::read(dir.path().join("contribution-8")).unwrap(), b"first");
		assert_eq!(fs::read(dir.path().join("contribution-3")).unwrap(), b"second");
		assert!(!dir.path().join("contribution-3.age").exists());
		assert!(fs::read_dir(dir.path().join(PARTIAL)).unwrap().next().is_none());
		let resume = read_resume(dir.path(), 4).unwrap().unwrap();
		assert_eq!((resume.last, resume.parts, resume.scope), (3, 0, ExportScope::Full));
		// The same contribution twice is refused.
		let twice = tar(&[
			("contribution-8.age", &a[..]),
			("contribution-8.receipt", &a_receipt[..]),
			("contribution-8.age", &a[..]),
		]);
		let err = receive_into(tempfile::tempdir().unwrap().path(), None, &twice).unwrap_err();
		assert!(err.to_string().contains("came twice"), "{err}");
	}

	#[test]
	fn nothing_unchecked_leaves_partial() {
		let (age, good) = contribution(3, b"data");
		// Same length and header, a payload that does not decrypt.
		let mut damaged = age.clone();
		*damaged.last_mut().unwrap() ^= 1;
		// Signed, but for a ciphertext the chain does not have.
		let elsewhere = receipt_for(3, &age, [0; 32]);
		// Not signed by the server.
		let mut forged = good.clone();
		forged[10] ^= 1;
		// Another encryption of the same data: another header.
		let other = seal(b"data");
		let end = end(1, Some(3));
		let cases: [(&[u8], &[u8], &str); 4] = [
			(&damaged[..], &good[..], "cannot decrypt"),
			(&age[..], &elsewhere[..], "not on chain"),
			(&age[..], &forged[..], "not signed"),
			(&other[..], &good[..], "header"),
		];
		for (file, receipt, why) in cases {
			let dir = tempfile::tempdir().unwrap();
			let stream = tar(&[
				("contribution-3.age", file),
				("contribution-3.receipt", receipt),
				("end.receipt", &end[..]),
			]);
			let err = format!("{:#}", receive_into(dir.path(), None, &stream).unwrap_err());
			assert!(err.contains("contribution #3") && err.contains(why), "{why}: {err}");
			assert!(!dir.path().join("contribution-3").exists(), "{why}");
			assert_eq!(resumed_last(dir.path()), None, "{why}");
		}
	}

	#[test]
	fn an_export_without_its_end_was_cut_short() {
		let dir = tempfile::tempdir().unwrap();
		let (age, receipt) = contribution(3, b"data");
		let stream =
			tar(&[("contribution-3.age", &age[..]), ("contribution-3.receipt", &receipt[..])]);
		let err = receive_into(dir.path(), None, &stream).unwrap_err().to_string();
		assert!(err.contains("cut short after 1 contributions"), "{err}");
		// What was checked stays, and the next run starts after it.
		assert_eq!(fs::read(dir.path().join("contribution-3")).unwrap(), b"data");
		assert_eq!(resumed_last(dir.path()), Some(3));
		// `since` again: refused.
		let err = receive_into(tempfile::tempdir().unwrap().path(), Some(3), &stream).unwrap_err();
		assert!(err.to_string().contains("came twice"), "{err}");
		// An end that counts otherwise is refused.
		let wrong_end = end(2, Some(3));
		let stream = tar(&[("end.receipt", &wrong_end[..])]);
		let err = receive_into(tempfile::tempdir().unwrap().path(), None, &stream).unwrap_err();
		assert!(format!("{err:#}").contains("counts 2 contributions, 0 came"), "{err:#}");
	}

	#[test]
	fn an_anonymized_export_is_numbered_after_the_parts_kept_before() {
		let dir = tempfile::tempdir().unwrap();
		// An earlier run kept part-0 and part-1, from the contributions up to #7.
		let earlier = Resume { dao: 4, last: 7, parts: 2, scope: ExportScope::Anonymized };
		write_resume(dir.path(), &earlier).unwrap();
		let one: &[u8] = b"{\"age\":\"30-39\"}\n";
		let two: &[u8] = b"{\"age\":\"40-49\"}\n{\"age\":\"20-29\"}\n";
		let (a, b) = (seal(one), seal(two));
		let (a_receipt, b_receipt) = (part_receipt(0, &a, 1), part_receipt(1, &b, 2));
		let end = end(2, Some(9));
		let stream = tar(&[
			("part-0.jsonl.age", &a[..]),
			("part-0.receipt", &a_receipt[..]),
			("part-1.jsonl.age", &b[..]),
			("part-1.receipt", &b_receipt[..]),
			("end.receipt", &end[..]),
		]);
		let receiver = receive_with(dir.path(), anonymized(Some(7)), true, &stream).unwrap();
		let path = |name: &str| dir.path().join(name);
		assert!(receiver.received.is_empty());
		assert_eq!(receiver.records, 3);
		assert_eq!(receiver.bytes, (one.len() + two.len()) as u64);
		assert_eq!(receiver.parts, vec![path("part-2.jsonl"), path("part-3.jsonl")]);
		assert_eq!(
			receiver.files,
			["part-2.jsonl", "part-2.jsonl.age", "part-3.jsonl", "part-3.jsonl.age"].map(path)
		);
		assert_eq!(fs::read(path("part-2.jsonl")).unwrap(), one);
		assert_eq!(fs::read(path("part-3.jsonl")).unwrap(), two);
		assert_eq!(fs::read(path("part-3.jsonl.age")).unwrap(), b);
		assert!(!path("part-0.jsonl").exists() && !path("part-4.jsonl").exists());
		assert!(fs::read_dir(path(PARTIAL)).unwrap().next().is_none());
		let resume = read_resume(dir.path(), 4).unwrap().unwrap();
		assert_eq!((resume.last, resume.parts, resume.scope), (9, 4, ExportScope::Anonymized));

		// Nothing new: no part, and the record stands.
		let empty = tar(&[("end.receipt", &self::end(0, None)[..])]);
		let receiver = receive_with(dir.path(), anonymized(Some(9)), false, &empty).unwrap();
		assert!(receiver.parts.is_empty() && receiver.files.is_empty());
		let resume = read_resume(dir.path(), 4).unwrap().unwrap();
		assert_eq!((resume.last, resume.parts), (9, 4));
	}

	#[test]
	fn nothing_of_an_anonymized_export_is_kept_before_all_of_it_verifies() {
		let first = seal(b"{}\n");
		let first_receipt = part_receipt(0, &first, 1);
		let second = seal(b"{\"x\":1}\n");
		let good = part_receipt(1, &second, 1);
		// Signed for another place in the stream.
		let misnumbered = part_receipt(2, &second, 1);
		// Another encryption of the same data: another header.
		let other = seal(b"{\"x\":1}\n");
		// A contribution's receipt for the file.
		let contribution = receipt_for(1, &second, CIPHERTEXT);
		let end = end(2, Some(5));
		let cases: [(&[u8], &[u8], &str); 3] = [
			(&second[..], &misnumbered[..], "its receipt is for part 2"),
			(&other[..], &good[..], "header"),
			(&second[..], &contribution[..], "not a part's"),
		];
		for (file, receipt, why) in cases {
			let dir = tempfile::tempdir().unwrap();
			let stream = tar(&[
				("part-0.jsonl.age", &first[..]),
				("part-0.receipt", &first_receipt[..]),
				("part-1.jsonl.age", file),
				("part-1.receipt", receipt),
				("end.receipt", &end[..]),
			]);
			let result = receive_with(dir.path(), anonymized(None), false, &stream);
			let err = format!("{:#}", result.map(drop).unwrap_err());
			assert!(err.contains("part 1") && err.contains(why), "{why}: {err}");
			// Not even the good part 0.
			assert_eq!(outside_partial(dir.path()), Vec::<String>::new(), "{why}");
		}

		// Cut short after two good parts: they wait in .partial, and the next run, from the
		// same place, exports them anew.
		let dir = tempfile::tempdir().unwrap();
		let stream = tar(&[
			("part-0.jsonl.age", &first[..]),
			("part-0.receipt", &first_receipt[..]),
			("part-1.jsonl.age", &second[..]),
			("part-1.receipt", &good[..]),
		]);
		let result = receive_with(dir.path(), anonymized(None), false, &stream);
		let err = result.map(drop).unwrap_err().to_string();
		assert!(err.contains("cut short after 2 parts"), "{err}");
		assert_eq!(outside_partial(dir.path()), Vec::<String>::new());

		// An end that counts otherwise, or names no contribution the parts came from.
		let wrong_ends = [
			(self::end(1, Some(5)), "counts 1 parts, 2 came"),
			(self::end(2, None), "names no contribution"),
		];
		for (wrong, why) in wrong_ends {
			let dir = tempfile::tempdir().unwrap();
			let stream = tar(&[
				("part-0.jsonl.age", &first[..]),
				("part-0.receipt", &first_receipt[..]),
				("part-1.jsonl.age", &second[..]),
				("part-1.receipt", &good[..]),
				("end.receipt", &wrong[..]),
			]);
			let result = receive_with(dir.path(), anonymized(None), false, &stream);
			let err = format!("{:#}", result.map(drop).unwrap_err());
			assert!(err.contains(why), "{why}: {err}");
			assert_eq!(outside_partial(dir.path()), Vec::<String>::new(), "{why}");
		}

		// Out of order.
		let dir = tempfile::tempdir().unwrap();
		let stream = tar(&[("part-1.jsonl.age", &second[..])]);
		let result = receive_with(dir.path(), anonymized(None), false, &stream);
		let err = result.map(drop).unwrap_err().to_string();
		assert!(err.contains("part 1 came where part 0 was due"), "{err}");
	}

	#[test]
	fn a_directory_holds_one_scope() {
		let dir = tempfile::tempdir().unwrap();
		// A resume file from before anonymized exports: a full export's.
		fs::write(dir.path().join(RESUME), r#"{"dao":1,"last":5}"#).unwrap();
		let resume = read_resume(dir.path(), 1).unwrap().unwrap();
		assert_eq!((resume.last, resume.parts, resume.scope), (5, 0, ExportScope::Full));
		check_scope(dir.path(), Some(&resume), ExportScope::Full).unwrap();
		let err = check_scope(dir.path(), Some(&resume), ExportScope::Anonymized)
			.unwrap_err()
			.to_string();
		assert!(
			err.contains("holds a full export; export an anonymized copy into another directory"),
			"{err}"
		);
		let earlier = Resume { dao: 1, last: 6, parts: 1, scope: ExportScope::Anonymized };
		write_resume(dir.path(), &earlier).unwrap();
		let resume = read_resume(dir.path(), 1).unwrap().unwrap();
		assert_eq!((resume.last, resume.parts, resume.scope), (6, 1, ExportScope::Anonymized));
		check_scope(dir.path(), Some(&resume), ExportScope::Anonymized).unwrap();
		let err =
			check_scope(dir.path(), Some(&resume), ExportScope::Full).unwrap_err().to_string();
		assert!(
			err.contains("holds an anonymized export; export the full data into another directory"),
			"{err}"
		);
		check_scope(dir.path(), None, ExportScope::Anonymized).unwrap();

		// Nor does one stream mix them.
		let (age, receipt) = contribution(3, b"data");
		let full =
			tar(&[("contribution-3.age", &age[..]), ("contribution-3.receipt", &receipt[..])]);
		let into = tempfile::tempdir().unwrap();
		let result = receive_with(into.path(), anonymized(None), false, &full);
		let err = result.map(drop).unwrap_err().to_string();
		assert!(err.contains("anonymized export holds an unexpected entry"), "{err}");
		let part = seal(b"{}\n");
		let parts = tar(&[("part-0.jsonl.age", &part[..])]);
		let err = receive_into(into.path(), None, &parts).unwrap_err().to_string();
		assert!(err.contains("full export holds an unexpected entry"), "{err}");
	}

	#[test]
	fn the_resume_file_is_per_dao() {
		let dir = tempfile::tempdir().unwrap();
		assert!(read_resume(dir.path(), 1).unwrap().is_none());
		let full = |last| Resume { dao: 1, last, parts: 0, scope: ExportScope::Full };
		write_resume(dir.path(), &full(41)).unwrap();
		write_resume(dir.path(), &full(42)).unwrap();
		assert_eq!(read_resume(dir.path(), 1).unwrap().map(|r| r.last), Some(42));
		assert!(!dir.path().join(format!("{RESUME}.tmp")).exists());
		let err = read_resume(dir.path(), 2).map(drop).unwrap_err().to_string();
		assert!(err.contains("holds an export of DAO #1"), "{err}");
		fs::write(dir.path().join(RESUME), "{").unwrap();
		assert!(read_resume(dir.path(), 1).is_err());
	}

	#[test]
	fn a_query_is_sent_as_the_bytes_its_header_signs() {
		use datacoop_auth::{decimal, fixed_hex, header_fields};
		use datacoop_primitives::access::{request_payload, AccessRequest, Operation, SCHEME};
		use sp_runtime::traits::{BlakeTwo256, Hash};

		let text = r#"{"stats": ["count", {"mean": "/age"}], "group_by": ["/channel"]}"#;
		let body = query_body(text, 0.25).unwrap();
		let signer = KeypairSigner::from_seed([7; 32]);
		let request =
			crate::collective::query_request(&signer, GENESIS, 4, body.bytes.clone()).unwrap();
		// What is sent is what was serialized, once: compact, the query with its ε.
		assert_eq!(request.body, body.bytes);
		assert!(!request.body.contains(&b' ') && !request.body.contains(&b'\n'));
		let sent: Value = serde_json::from_slice(&request.body).unwrap();
		assert_eq!(
			sent,
			serde_json::json!({"stats": ["count", {"mean": "/age"}], "group_by": ["/channel"],
				"epsilon": 0.25})
		);
		// The header signs a query of BLAKE2-256 of those bytes, for this chain and DAO.
		let fields = header_fields(&request.authorization, SCHEME, 4, "usage").unwrap();
		assert_eq!(fields[0], hex::encode(signer.account()));
		let signed = |body_hash: [u8; 32]| AccessRequest {
			genesis_hash: GENESIS,
			dao_id: 4,
			account: signer.account(),
			operation: Operation::Query { body_hash },
			time: decimal(fields[1], "time").unwrap(),
			nonce: fixed_hex::<16>(fields[2], "nonce").unwrap(),
		};
		let signature = fixed_hex::<64>(fields[3], "signature").unwrap();
		let verifies = |body_hash: [u8; 32]| {
			let payload = request_payload(&signed(body_hash));
			datacoop_auth::verify(&signer.account(), &payload, &signature).is_ok()
		};
		assert!(verifies(<BlakeTwo256 as Hash>::hash(&body.bytes).0));
		// The same query in other bytes (spaced out) is another request.
		let spaced = serde_json::to_vec_pretty(&body.query).unwrap();
		assert_ne!(spaced, body.bytes);
		assert!(!verifies(<BlakeTwo256 as Hash>::hash(&spaced).0));
	}

	#[test]
	fn epsilon_sets_or_overrides_the_querys() {
		let with = query_body(r#"{"stats": ["count"], "epsilon": 5}"#, 0.3).unwrap();
		assert_eq!(with.query["epsilon"], 0.3);
		let sent: Value = serde_json::from_slice(&with.bytes).unwrap();
		assert_eq!(sent, serde_json::json!({"stats": ["count"], "epsilon": 0.3}));
		let without = query_body(r#"{"stats": ["count"]}"#, 0.1).unwrap();
		let sent: Value = serde_json::from_slice(&without.bytes).unwrap();
		assert_eq!(sent, serde_json::json!({"stats": ["count"], "epsilon": 0.1}));
		for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
			let err = query_body(r#"{"stats": ["count"]}"#, bad).map(drop).unwrap_err();
			assert!(err.to_string().contains("above 0"), "{bad}: {err}");
		}

		// 0.1 unless --epsilon says otherwise.
		#[derive(clap::Parser)]
		struct Cli {
			#[command(subcommand)]
			command: DataCommand,
		}
		let parse = |args: &[&str]| {
			let cli = <Cli as clap::Parser>::try_parse_from(
				[&["datacoop", "query", "--dao", "3", r#"{"stats": ["count"]}"#][..], args]
					.concat(),
			)
			.unwrap();
			let DataCommand::Query(args) = cli.command else { panic!("not data query") };
			(args.dao, args.epsilon)
		};
		assert_eq!(parse(&[]), (3, 0.1));
		assert_eq!(parse(&["--epsilon", "0.5"]), (3, 0.5));
	}

	#[test]
	fn a_query_is_a_json_object() {
		for (text, why) in [
			(r#"["count"]"#, "not an array"),
			(r#""count""#, "not a string"),
			("3", "not a number"),
			("null", "not null"),
			("{", "not JSON"),
			("", "not JSON"),
		] {
			let err = query_body(text, 0.1).map(drop).unwrap_err().to_string();
			assert!(err.contains(why), "{text}: {err}");
		}
		assert!(query_body("{}", 0.1).is_ok(), "the server judges what the object asks");
	}

	#[test]
	fn an_answer_reads_as_a_table() {
		let text = r#"{"stats": ["count", {"mean": "/age"}, {"histogram": ["/age", 2]}],
			"group_by": ["/channel"]}"#;
		let query = query_body(text, 0.1).unwrap().query;
		let json = serde_json::json!({
			"groups": [
				{"key": ["general"], "values": {"count": 120.0, "mean(/age)": 41.234,
					"histogram(/age,2)": {"edges": [0.0, 60.0, 120.0], "counts": [70, 50]}}},
				{"key": [null], "values": {"count": 7.5, "mean(/age)": 38.0,
					"histogram(/age,2)": [3, 4]}},
			],
			"epsilon_spent": 0.09999999999999999,
			"epsilon_left": 1.9,
			"scales": [["count", 10.0], ["mean(/age): sum", 1200.0], ["mean(/age): count", 10.0],
				["histogram(/age,2)", 10.0]],
			"bound_99_9": [["count", 69.07755278982137], ["mean(/age)", 12.5]],
			"grant": 6,
			"finalized": 120,
			"records": 270,
		});
		let answer: Answer = serde_json::from_value(json).unwrap();
		let view = QueryView::of(answer, &query);
		// Columns in the query's order (the answer's map holds them sorted).
		assert_eq!(
			view.to_string(),
			"/channel   count  mean(/age)  histogram(/age,2)\n\
			 general   120.00       41.23        70.00,50.00\n\
			 (none)      7.50       38.00          3.00,4.00\n\
			 ε spent 0.1, left 1.9 (grant #6, block 120, 270 records)\n\
			 noise: count ±69.08, mean(/age) ±12.50 (99.9 %)"
		);
		// --json: the answer as the server sent it.
		let out = serde_json::to_value(&view).unwrap();
		assert_eq!(out["groups"][1]["key"], serde_json::json!([null]));
		assert_eq!(
			out["groups"][0]["values"]["histogram(/age,2)"]["counts"],
			serde_json::json!([70, 50])
		);
		assert_eq!((out["grant"].as_u64(), out["records"].as_u64()), (Some(6), Some(270)));
		assert_eq!(out["scales"][1], serde_json::json!(["mean(/age): sum", 1200.0]));
		assert!(out.get("group_by").is_none() && out.get("stats").is_none());

		// No group: said so, and the budget still.
		let empty = serde_json::json!({"groups": [], "epsilon_spent": 0.1, "epsilon_left": 0.0,
			"grant": 6, "finalized": 120, "records": 3});
		let view = QueryView::of(serde_json::from_value(empty).unwrap(), &query);
		assert_eq!(
			view.to_string(),
			"no group to answer (groups below the grant's minimum size are left out)\n\
			 ε spent 0.1, left 0 (grant #6, block 120, 3 records)"
		);
		// Contributions the server could not read: said after the rest.
		let partial = serde_json::json!({"groups": [], "epsilon_spent": 0.1, "epsilon_left": 0.0,
			"grant": 6, "finalized": 120, "records": 3, "left_out": [4, 9]});
		let view = QueryView::of(serde_json::from_value(partial).unwrap(), &query);
		assert!(
			view.to_string().ends_with(
				"\nleft out: 2 accepted contribution(s) the server could not read: #4, #9"
			),
			"{view}"
		);
	}
}
