//! `datacoop data export`: a DAO's data, as my grant allows, from its collective server into a
//! directory, each contribution checked before it is kept.
//!
//! The server answers a tar stream: for each contribution, in the order the DAO accepted them,
//! `contribution-<id>.age` (an age file encrypted to my account's contribution key) then
//! `contribution-<id>.receipt`, and at the end `end.receipt`. A receipt is the SCALE encoding
//! of an [`ExportStatement`] and its signature by the DAO's attestation signer. A
//! contribution is kept only if its receipt is signed, answers this request, names the file
//! received (its header's hash and its length), and names a contribution the chain shows
//! Accepted in this DAO with the same ciphertext; and then only once its file decrypts (age
//! authenticates every byte under the key the header binds). Until then everything stays in
//! `DIR/.partial`.
//!
//! The stream is read as it comes (constant memory whatever the export's size), and a
//! resume file (`DIR/.datacoop-export.json`) records the last contribution kept, so that a
//! broken export picks up where it stopped.

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
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::print;
use crate::{
	chain::{self, ContributionStatus},
	collective::CollectiveClient,
	Global,
};

#[derive(clap::Subcommand)]
pub enum DataCommand {
	/// Download the DAO's accepted contributions my live grant allows into DIR, decrypted,
	/// each checked against the collective server's signed receipt and the chain. Run it
	/// again to fetch what came since (or to finish a broken export).
	Export(ExportArgs),
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
	/// Keep each contribution's age file too, as `contribution-<id>.age`.
	#[arg(long)]
	pub keep_age: bool,
}

pub async fn run(command: &DataCommand, global: &Global, out: &mut impl Write) -> Result<()> {
	match command {
		DataCommand::Export(args) => export(args, global, out).await,
	}
}

/// Where files wait until they are checked, under the output directory.
const PARTIAL: &str = ".partial";
/// The resume file, in the output directory.
const RESUME: &str = ".datacoop-export.json";
/// The largest receipt read: a statement and its signature are under 300 bytes.
const MAX_RECEIPT: u64 = 1024;

/// What an export wrote.
#[derive(Serialize)]
struct Exported {
	dao: u32,
	grant: u64,
	/// The finalized block the server exported as of.
	finalized: u32,
	/// The contributions received, in the order they came (the DAO's acceptance order).
	contributions: Vec<u64>,
	/// The files written: each contribution's data (and its age file with --keep-age).
	files: Vec<PathBuf>,
	/// Bytes of data decrypted.
	bytes: u64,
}

impl fmt::Display for Exported {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		for file in &self.files {
			writeln!(f, "{}", file.display())?;
		}
		if self.contributions.is_empty() {
			return write!(
				f,
				"nothing new to export from DAO #{} (as of block {})",
				self.dao, self.finalized
			);
		}
		write!(
			f,
			"exported {} contributions of DAO #{} ({} bytes) under grant #{}, as of block {}",
			self.contributions.len(),
			self.dao,
			self.bytes,
			self.grant,
			self.finalized
		)
	}
}

async fn export(args: &ExportArgs, global: &Global, out: &mut impl Write) -> Result<()> {
	let (dir, dao_id) = (args.output.as_path(), args.dao);
	// The directory first: a wrong one fails before any password is asked.
	let resumed = read_resume(dir, dao_id)?;
	fs::create_dir_all(dir.join(PARTIAL))
		.with_context(|| format!("cannot create {}", dir.join(PARTIAL).display()))?;
	let since = args.since.or(resumed);
	if args.since.is_none() && !global.json {
		if let Some(last) = resumed {
			eprintln!("resuming after contribution #{last} ({})", dir.join(RESUME).display());
		}
	}
	let account = global.account()?;
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	let collective = CollectiveClient::for_dao(&at, dao_id).await?;
	check_grant(&at, dao_id, &account).await?;

	// Encrypted to my own contribution key: what `decrypt` opens my contributions with.
	let identity = account.contribution_identity();
	let genesis = client.genesis_hash();
	let (response, nonce) =
		collective.export(&account, genesis, since, &identity.to_public()).await?;
	let announced = announced(&response)?;
	let at = at_or_after(&client, at, announced.finalized).await?;
	let expected = Expected {
		genesis,
		dao_id,
		nonce,
		signer: collective.attestation_signer,
		grant: announced.grant,
		since,
		finalized: announced.finalized,
	};
	let progress = progress_bar(global.json, announced.contributions);
	let handle = tokio::runtime::Handle::current();
	// Called from the blocking thread that reads the stream: it waits for the chain there.
	let on_chain = move |id: u64, ciphertext: [u8; 32]| -> Result<()> {
		handle.block_on(accepted_on_chain(&at, dao_id, id, ciphertext))
	};
	let mut receiver =
		Receiver::new(expected, dir.to_owned(), args.keep_age, identity, progress, on_chain);
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
	let exported = Exported {
		dao: dao_id,
		grant: receiver.expected.grant,
		finalized: receiver.expected.finalized,
		contributions: receiver.received,
		files: receiver.files,
		bytes: receiver.bytes,
	};
	print(out, global.json, &exported)
}

/// Refuses early, with what to do, when I hold no grant that exports anything: the server
/// would refuse too, with less to go on.
async fn check_grant(
	at: &chain::At,
	dao_id: u32,
	account: &crate::keystore::Account,
) -> Result<()> {
	let Some(grant) = at.live_grant(dao_id, &account.account_id()).await? else {
		bail!(
			"{} has no live grant to DAO #{dao_id}'s data: see `datacoop offer list --dao \
			 {dao_id}`",
			account.address()
		);
	};
	if let Scope::Aggregate { .. } = grant.scope {
		bail!("grant #{} allows aggregate queries only: it exports no contributions", grant.id);
	}
	Ok(())
}

/// What the server says of the export before its entries. Not signed: the end receipt
/// says the same, signed, and is checked against it.
struct Announced {
	finalized: u32,
	/// How many contributions will come (for the progress bar).
	contributions: u64,
	grant: u64,
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
	Ok(Announced {
		finalized: u32::try_from(number("Datacoop-Finalized")?)
			.map_err(|_| anyhow!("the collective server's Datacoop-Finalized is no block"))?,
		contributions: number("Datacoop-Contributions")?,
		grant: number("Datacoop-Grant")?,
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

fn progress_bar(hidden: bool, len: u64) -> indicatif::ProgressBar {
	// indicatif draws nothing when standard error is not a terminal; said here too, so that
	// a script's log stays clean whatever indicatif's default.
	if hidden || !io::stderr().is_terminal() {
		return indicatif::ProgressBar::hidden();
	}
	let bar = indicatif::ProgressBar::new(len);
	bar.set_style(
		indicatif::ProgressStyle::with_template(
			"exporting {bar:30} {pos}/{len} contributions, eta {eta}",
		)
		.expect("a valid template"),
	);
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
}

/// An entry of the export, by its name.
#[derive(Debug, PartialEq, Eq)]
enum Name {
	Age(u64),
	Receipt(u64),
	End,
}

/// `contribution-<id>.age`, `contribution-<id>.receipt` or `end.receipt`; the id in plain
/// decimal (no sign, no leading zero), so one id has one name.
fn entry_name(name: &[u8]) -> Option<Name> {
	let name = std::str::from_utf8(name).ok()?;
	if name == "end.receipt" {
		return Some(Name::End);
	}
	let (id, extension) = name.strip_prefix("contribution-")?.split_once('.')?;
	let canonical = !id.is_empty()
		&& id.bytes().all(|b| b.is_ascii_digit())
		&& (id == "0" || !id.starts_with('0'));
	let id = id.parse().ok().filter(|_| canonical)?;
	match extension {
		"age" => Some(Name::Age(id)),
		"receipt" => Some(Name::Receipt(id)),
		_ => None,
	}
}

/// The length of an age header with one X25519 recipient (the files come encrypted to me
/// alone): what a receipt's `age_header_hash` covers.
fn age_header_len() -> u64 {
	datacoop_envelope::header_len(1)
}

/// An age file saved, waiting for its receipt.
struct Saved {
	id: u64,
	path: PathBuf,
	/// BLAKE2-256 of its first [`age_header_len`] bytes.
	header_hash: [u8; 32],
	len: u64,
}

/// Reads an export, checks it entry by entry and keeps what passes. `C` checks a
/// contribution on chain: (id, ciphertext hash named by its receipt).
struct Receiver<C> {
	expected: Expected,
	dir: PathBuf,
	keep_age: bool,
	identity: Identity,
	on_chain: C,
	progress: indicatif::ProgressBar,
	waiting: Option<Saved>,
	ended: bool,
	received: Vec<u64>,
	/// The same, to find a repeat at once.
	seen: std::collections::HashSet<u64>,
	files: Vec<PathBuf>,
	bytes: u64,
}

impl<C: FnMut(u64, [u8; 32]) -> Result<()>> Receiver<C> {
	fn new(
		expected: Expected,
		dir: PathBuf,
		keep_age: bool,
		identity: Identity,
		progress: indicatif::ProgressBar,
		on_chain: C,
	) -> Self {
		Receiver {
			expected,
			dir,
			keep_age,
			identity,
			on_chain,
			progress,
			waiting: None,
			ended: false,
			received: Vec::new(),
			seen: Default::default(),
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
		format!(
			"the export was cut short after {} contributions; run the command again to resume",
			self.received.len()
		)
	}

	/// An `.age` entry: saved to `.partial`, its header hashed and its length counted.
	fn age(&mut self, id: u64, entry: &mut impl Read) -> Result<()> {
		if let Some(waiting) = &self.waiting {
			bail!("contribution #{}'s receipt is missing: #{id}'s file came instead", waiting.id);
		}
		// Each once, and not `since` again: what the resume file records (the last one
		// kept) is then where the next export starts.
		ensure!(
			!self.seen.contains(&id) && self.expected.since != Some(id),
			"contribution #{id} came twice: the export is faulty"
		);
		let path = self.partial(&format!("contribution-{id}.age"));
		let (header_hash, len) = self.save(entry, &path)?;
		self.waiting = Some(Saved { id, path, header_hash, len });
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
			Some(saved) if saved.id == id => saved,
			_ => bail!("contribution #{id}'s receipt came without its file"),
		};
		self.check_receipt(&saved, receipt)
			.with_context(|| format!("contribution #{id} does not verify"))?;
		let (data, bytes) = self.decrypt(&saved)?;
		// Checked and whole: out of `.partial`.
		let output = self.dir.join(format!("contribution-{id}"));
		fs::rename(&data, &output).with_context(|| format!("cannot write {}", output.display()))?;
		self.files.push(output);
		if self.keep_age {
			let kept = self.dir.join(format!("contribution-{id}.age"));
			fs::rename(&saved.path, &kept)
				.with_context(|| format!("cannot write {}", kept.display()))?;
			self.files.push(kept);
		} else {
			fs::remove_file(&saved.path)
				.with_context(|| format!("cannot remove {}", saved.path.display()))?;
		}
		self.received.push(id);
		self.seen.insert(id);
		self.bytes += bytes;
		write_resume(&self.dir, self.expected.dao_id, id)?;
		self.progress.inc(1);
		Ok(())
	}

	fn check_receipt(&mut self, saved: &Saved, receipt: &[u8]) -> Result<()> {
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
		ensure!(dao_id == expected.dao_id, "its receipt is for DAO #{dao_id}");
		ensure!(request_nonce == expected.nonce, "its receipt answers another request");
		ensure!(
			grant_id == expected.grant,
			"its receipt names grant #{grant_id}, the server announced #{}",
			expected.grant
		);
		ensure!(contribution_id == saved.id, "its receipt is for contribution #{contribution_id}");
		let len = saved.len;
		ensure!(age_len == len, "its file is {len} bytes, its receipt says {age_len}");
		ensure!(
			age_header_hash == saved.header_hash,
			"its file's header is not the one its receipt names"
		);
		(self.on_chain)(saved.id, ciphertext_hash)
	}

	/// Decrypts a saved file into `.partial`; where, and how many bytes. Nothing is left
	/// there if it does not decrypt whole.
	fn decrypt(&self, saved: &Saved) -> Result<(PathBuf, u64)> {
		let id = saved.id;
		let data = self.partial(&format!("contribution-{id}"));
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
				Err(e.context(format!("contribution #{id}: cannot decrypt its file")))
			},
		}
	}

	/// `end.receipt`: the server's signed word that nothing was left out of what it sent.
	fn end(&mut self, receipt: &[u8]) -> Result<()> {
		if let Some(waiting) = &self.waiting {
			bail!("contribution #{}'s receipt is missing: the export ended instead", waiting.id);
		}
		self.check_end(receipt).context("the export's end does not verify")?;
		self.ended = true;
		Ok(())
	}

	fn check_end(&self, receipt: &[u8]) -> Result<()> {
		let expected = &self.expected;
		let ExportStatement::End { dao_id, grant_id, request_nonce, finalized, count, last } =
			expected.signed(receipt)?
		else {
			bail!("end.receipt is a contribution's receipt");
		};
		ensure!(dao_id == expected.dao_id, "it is for DAO #{dao_id}");
		ensure!(request_nonce == expected.nonce, "it answers another request");
		ensure!(grant_id == expected.grant, "it names grant #{grant_id}");
		ensure!(
			finalized == expected.finalized,
			"it says block {finalized}, the server announced {}",
			expected.finalized
		);
		let received = self.received.len() as u64;
		ensure!(count == received, "it counts {count} contributions, {received} came");
		ensure!(
			last == self.received.last().copied(),
			"it names {last:?} as the last contribution, {:?} came last",
			self.received.last()
		);
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
		let name = entry_name(&path).filter(|_| entry.header().entry_type().is_file()).ok_or_else(
			|| anyhow!("the export holds an unexpected entry {:?}", String::from_utf8_lossy(&path)),
		)?;
		match name {
			Name::Age(id) => receiver.age(id, &mut entry)?,
			Name::Receipt(id) => {
				let bytes = read_receipt(&mut entry, receiver)?;
				receiver.receipt(id, &bytes)?
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

/// The resume file: the last contribution kept by an export of `dao` into the directory.
#[derive(Serialize, Deserialize)]
struct Resume {
	dao: u32,
	last: u64,
}

/// The last contribution an earlier export of DAO `dao` into `dir` kept, if any. A directory
/// holding another DAO's export is refused: mixing two DAOs' files would mislead.
fn read_resume(dir: &Path, dao: u32) -> Result<Option<u64>> {
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
	Ok(Some(resume.last))
}

/// Records `last` as the last contribution kept: written aside, then renamed over the old
/// record, so a crash leaves the old one or the new one, never half of one.
fn write_resume(dir: &Path, dao: u32, last: u64) -> Result<()> {
	let path = dir.join(RESUME);
	let aside = dir.join(format!("{RESUME}.tmp"));
	let written = (|| -> io::Result<()> {
		let mut file = fs::File::create(&aside)?;
		file.write_all(&serde_json::to_vec(&Resume { dao, last })?)?;
		file.sync_all()?;
		fs::rename(&aside, &path)
	})();
	written.with_context(|| format!("cannot write {}", path.display()))
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
			since,
			finalized: 100,
		}
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

	/// The receipt the server signs for `age` as contribution `id` of ciphertext `ciphertext`.
	fn receipt_for(id: u64, age: &[u8], ciphertext: [u8; 32]) -> Vec<u8> {
		let mut hasher = Hasher::default();
		hasher.update(&age[..age_header_len() as usize]);
		receipt(&ExportStatement::Contribution {
			dao_id: 4,
			grant_id: 6,
			request_nonce: NONCE,
			contribution_id: id,
			ciphertext_hash: ciphertext,
			age_header_hash: hasher.finish().0,
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

	/// Receives `stream` into `dir` as the command does, the chain knowing `CIPHERTEXT` only.
	fn receive_into(dir: &Path, since: Option<u64>, stream: &[u8]) -> Result<Vec<u64>> {
		fs::create_dir_all(dir.join(PARTIAL)).unwrap();
		let on_chain = |_: u64, hash: [u8; 32]| -> Result<()> {
			ensure!(hash == CIPHERTEXT, "not on chain");
			Ok(())
		};
		let progress = indicatif::ProgressBar::hidden();
		let mut receiver =
			Receiver::new(expected(since), dir.to_owned(), false, me(), progress, on_chain);
		receive(stream, &mut receiver).map(|()| receiver.received)
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
	fn entry_names_are_strict() {
		assert_eq!(entry_name(b"contribution-7.age"), Some(Name::Age(7)));
		assert_eq!(entry_name(b"contribution-0.receipt"), Some(Name::Receipt(0)));
		assert_eq!(entry_name(b"end.receipt"), Some(Name::End));
		for bad in [
			"contribution-07.age",
			"contribution-+7.age",
			"contribution-.age",
			"contribution-7.age.x",
			"contribution-7",
			"../end.receipt",
			"x",
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
		assert_eq!(read_resume(dir.path(), 4).unwrap(), Some(3));
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
			assert_eq!(read_resume(dir.path(), 4).unwrap(), None, "{why}");
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
		assert_eq!(read_resume(dir.path(), 4).unwrap(), Some(3));
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
	fn the_resume_file_is_per_dao() {
		let dir = tempfile::tempdir().unwrap();
		assert_eq!(read_resume(dir.path(), 1).unwrap(), None);
		write_resume(dir.path(), 1, 41).unwrap();
		write_resume(dir.path(), 1, 42).unwrap();
		assert_eq!(read_resume(dir.path(), 1).unwrap(), Some(42));
		assert!(!dir.path().join(format!("{RESUME}.tmp")).exists());
		let err = read_resume(dir.path(), 2).unwrap_err().to_string();
		assert!(err.contains("holds an export of DAO #1"), "{err}");
		fs::write(dir.path().join(RESUME), "{").unwrap();
		assert!(read_resume(dir.path(), 1).is_err());
	}
}
