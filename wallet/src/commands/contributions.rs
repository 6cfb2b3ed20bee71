//! `datacoop contributions`, `cancel` and `decrypt`: my contributions once submitted. The
//! listing with each one's verdict; withdrawing one that stays Pending; fetching one back and
//! decrypting it. Also the view of a contribution `contribute` reports with.

use std::{
	collections::BTreeMap,
	fmt,
	io::{BufReader, Write},
	path::{Path, PathBuf},
};

use anyhow::{anyhow, bail, Context, Result};
use datacoop_envelope::Identity;
use datacoop_primitives::contribution::{split_statement, STATEMENT_LINE_LEN};
use datacoop_storage::StorageClient;
use futures::StreamExt;
use serde::Serialize;

use super::{
	envelope::{parallelism, write_atomically},
	existing_dao, permill, print, Amount, List, Token,
};
use crate::{
	chain::{self, datacoop as rt, ContributionStatus},
	keystore::Account,
	Global,
};

#[derive(clap::Args)]
pub struct CancelArgs {
	pub contribution: u64,
}

#[derive(clap::Args)]
pub struct DecryptArgs {
	pub contribution: u64,
	#[arg(short, long)]
	pub output: PathBuf,
}

/// A contribution as the wallet shows it. Its text is `contributions`' line.
#[derive(Serialize)]
pub struct ContributionView {
	pub id: u64,
	pub dao: u32,
	pub url: String,
	pub ciphertext_hash: String,
	pub size: u64,
	pub submitted_at: u32,
	#[serde(flatten)]
	pub status: Status,
}

/// Where a contribution stands; in JSON, `"status"` and the verdict's fields beside the
/// contribution's.
#[derive(Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Status {
	Pending,
	Accepted {
		/// The dataset tokens minted for it.
		reward: Amount,
		at: u32,
		scores: Scores,
	},
	Rejected {
		reason: String,
		/// In COOP, for people (`1 COOP`), in JSON too.
		slashed: String,
		at: u32,
		overall: String,
	},
}

/// The collective server's scores, as percentages.
#[derive(Serialize)]
pub struct Scores {
	authenticity: String,
	ownership: String,
	quality: String,
	uniqueness: String,
	overall: String,
}

/// Contribution `id` as shown; `token` is its DAO's dataset token.
pub fn view(id: u64, c: &chain::ContributionInfo, token: &Token) -> ContributionView {
	let status = match &c.status {
		ContributionStatus::Pending => Status::Pending,
		ContributionStatus::Accepted { scores, reward, at } => Status::Accepted {
			reward: token.amount(*reward),
			at: *at,
			scores: Scores {
				authenticity: permill(scores.authenticity.deconstruct()),
				ownership: permill(scores.ownership.deconstruct()),
				quality: permill(scores.quality.deconstruct()),
				uniqueness: permill(scores.uniqueness.deconstruct()),
				overall: permill(scores.overall.deconstruct()),
			},
		},
		ContributionStatus::Rejected { scores, reason, slashed, at } => Status::Rejected {
			reason: chain::text(reason),
			slashed: Amount::coop(*slashed).to_string(),
			at: *at,
			overall: permill(scores.overall.deconstruct()),
		},
	};
	ContributionView {
		id,
		dao: c.dao_id,
		url: chain::text(&c.url),
		ciphertext_hash: format!("{:?}", c.ciphertext_hash),
		size: c.ciphertext_size,
		submitted_at: c.submitted_at,
		status,
	}
}

impl fmt::Display for Status {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Status::Pending => f.write_str("pending (waiting for the DAO's collective server)"),
			Status::Accepted { reward, scores, .. } => {
				write!(f, "accepted, overall score {}, {reward} minted", scores.overall)
			},
			Status::Rejected { reason, .. } => write!(f, "rejected: {reason}"),
		}
	}
}

impl fmt::Display for ContributionView {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "#{:<6} DAO #{:<4} {:>12} bytes  {}", self.id, self.dao, self.size, self.status)
	}
}

/// `datacoop contributions`: mine, oldest first.
pub async fn run(global: &Global, out: &mut impl Write) -> Result<()> {
	let who = global.account_id()?;
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	let mut tokens = BTreeMap::new();
	let mut rows = Vec::new();
	for id in at.contributions_of(&who).await? {
		if let Some(c) = at.contribution(id).await? {
			if let std::collections::btree_map::Entry::Vacant(e) = tokens.entry(c.dao_id) {
				e.insert(Token::of(&existing_dao(&at, c.dao_id).await?));
			}
			rows.push(view(id, &c, &tokens[&c.dao_id]));
		}
	}
	print(out, global.json, &List::new(rows, "no contributions yet"))
}

/// My contribution `id`, read at the finalized block, for a command only its contributor may
/// run (`doing`: what the command does, for the error).
async fn my_contribution(
	global: &Global,
	id: u64,
	doing: &str,
) -> Result<(Account, chain::Chain, chain::At, chain::ContributionInfo)> {
	let account = global.account()?;
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	let c = at.contribution(id).await?.ok_or_else(|| anyhow!("there is no contribution #{id}"))?;
	if c.contributor != account.account_id() {
		bail!(
			"contribution #{id} is {}'s, not {}'s: only its contributor can {doing} it",
			c.contributor,
			account.address()
		);
	}
	Ok((account, client, at, c))
}

/// A cancelled contribution: its deposits are back.
#[derive(Serialize)]
struct Withdrawn {
	contribution: u64,
	cancelled: bool,
	deposit: Amount,
}

impl fmt::Display for Withdrawn {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(
			f,
			"cancelled contribution #{}; its deposits of {} are back",
			self.contribution, self.deposit
		)
	}
}

/// A cancel request on chain: the withdrawal opens at block `withdraw_from`.
#[derive(Serialize)]
struct CancelRequested {
	contribution: u64,
	cancel_requested: bool,
	withdraw_from: u64,
	/// When that is, for people (`block 120, 14 blocks from now (about 2 min)`).
	#[serde(skip)]
	when: String,
}

impl fmt::Display for CancelRequested {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		let id = self.contribution;
		write!(
			f,
			"asked to cancel contribution #{id}: unless its verdict lands first, run \
			 `datacoop cancel {id}` again from {} to take its deposits back",
			self.when
		)
	}
}

/// `datacoop cancel`. Cancelling takes two steps on chain (see the Contributions pallet): a
/// request once the contribution has been Pending for `PendingTimeout` blocks, then the
/// withdrawal `CancelDelay` blocks later, unless a verdict lands in between. `datacoop cancel
/// ID` does whichever step is due, and says when the next one is.
pub async fn cancel(args: &CancelArgs, global: &Global, out: &mut impl Write) -> Result<()> {
	let id = args.contribution;
	let (account, client, at, c) = my_contribution(global, id, "cancel").await?;
	if !matches!(c.status, ContributionStatus::Pending) {
		let token = Token::of(&existing_dao(&at, c.dao_id).await?);
		bail!(
			"contribution #{id} is {}: only a pending contribution can be cancelled",
			view(id, &c, &token).status
		);
	}
	let now = u64::from(at.number());
	let block_ms = at.block_time_ms()?;
	let wait = |from: u64| {
		let minutes = ((from - now) * block_ms).div_ceil(60_000);
		format!("block {from}, {} blocks from now (about {minutes} min)", from - now)
	};
	if let Some(from) = c.withdrawable_from.map(u64::from) {
		if now < from {
			bail!(
				"contribution #{id}: cancelling was asked; it can be withdrawn from {} \
				 (run this command again then)",
				wait(from)
			);
		}
		let tx = rt::transactions().contributions().withdraw(id);
		chain::submit(&client, &tx, &account.keypair).await?;
		let back = c.deposit.saturating_add(c.record_deposit);
		let withdrawn =
			Withdrawn { contribution: id, cancelled: true, deposit: Amount::coop(back) };
		return print(out, global.json, &withdrawn);
	}
	// The pallet says the same (TooEarly); checked here to say when instead.
	let timeout =
		at.subxt().constants().entry(rt::constants().contributions().pending_timeout())?;
	let from = u64::from(c.submitted_at.saturating_add(timeout));
	if now < from {
		bail!(
			"contribution #{id} is still within its timeout: it can be cancelled from {}",
			wait(from)
		);
	}
	let tx = rt::transactions().contributions().cancel(id);
	chain::submit(&client, &tx, &account.keypair).await?;
	// Finalized by now: read when the withdrawal opens, as the chain recorded it.
	let withdraw_from = client
		.at_finalized()
		.await?
		.contribution(id)
		.await?
		.and_then(|c| c.withdrawable_from.map(u64::from))
		.ok_or_else(|| anyhow!("contribution #{id}: the cancel request is not on chain"))?;
	let requested = CancelRequested {
		contribution: id,
		cancel_requested: true,
		withdraw_from,
		when: wait(withdraw_from),
	};
	print(out, global.json, &requested)
}

/// A contribution decrypted into a file.
#[derive(Serialize)]
struct Decrypted<'a> {
	contribution: u64,
	output: &'a Path,
	bytes: u64,
}

impl fmt::Display for Decrypted<'_> {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(
			f,
			"decrypted contribution #{} into {} ({} bytes)",
			self.contribution,
			self.output.display(),
			self.bytes
		)
	}
}

/// `datacoop decrypt`: my contribution's ciphertext, fetched from storage and decrypted with
/// my account's key.
pub async fn decrypt(args: &DecryptArgs, global: &Global, out: &mut impl Write) -> Result<()> {
	let id = args.contribution;
	let (account, _, _, c) = my_contribution(global, id, "decrypt").await?;
	let url = chain::text(&c.url);
	let (storage, hash) = StorageClient::for_blob_url(&url)?;
	if hash.0 != c.ciphertext_hash.0 {
		bail!("contribution #{id}: its URL {url} does not name its ciphertext hash");
	}
	// Download (checked against the hash as it comes), then decrypt: no plaintext is written
	// unless the whole ciphertext is the one on chain.
	let (_, mut stream) = storage.get(&hash).await?;
	let mut blob = tempfile::tempfile().context("cannot create a temporary file")?;
	while let Some(chunk) = stream.next().await {
		let chunk = chunk.map_err(|e| anyhow!("downloading {url}: {e}"))?;
		blob.write_all(&chunk)?;
	}
	std::io::Seek::rewind(&mut blob)?;
	let n = decrypt_contribution_to(blob, &[account.contribution_identity()], &args.output)?;
	print(out, global.json, &Decrypted { contribution: id, output: &args.output, bytes: n })
}

/// Decrypts a contribution into `output`, without the statement the wallet put before the
/// data (what was contributed is the file, byte for byte).
fn decrypt_contribution_to(
	input: std::fs::File,
	identities: &[Identity],
	output: &Path,
) -> Result<u64> {
	use std::io::Read;
	write_atomically(output, |file| {
		let mut reader = datacoop_envelope::decrypting_reader(
			identities,
			BufReader::new(input),
			&parallelism(false),
		)
		.map_err(|e| anyhow!("cannot decrypt: {e}"))?;
		let mut head = Vec::with_capacity(STATEMENT_LINE_LEN);
		(&mut reader)
			.take(STATEMENT_LINE_LEN as u64)
			.read_to_end(&mut head)
			.map_err(|e| anyhow!("cannot decrypt: {e}"))?;
		let mut out = std::io::BufWriter::new(file);
		let mut n = 0;
		if split_statement(&head).is_err() {
			out.write_all(&head)?;
			n += head.len() as u64;
		}
		n += std::io::copy(&mut reader, &mut out).map_err(|e| anyhow!("cannot decrypt: {e}"))?;
		out.flush()?;
		Ok(n)
	})
}

#[cfg(test)]
mod tests {
	use serde_json::json;

	use super::*;

	fn contribution(status: Status) -> ContributionView {
		ContributionView {
			id: 7,
			dao: 0,
			url: "http://127.0.0.1:9900/v1/blobs/0xab".into(),
			ciphertext_hash: "0xab".into(),
			size: 300_123,
			submitted_at: 12,
			status,
		}
	}

	fn scores() -> Scores {
		let p = || permill(800_000);
		Scores { authenticity: p(), ownership: p(), quality: p(), uniqueness: p(), overall: p() }
	}

	/// Scripts and tests read these fields: names and values as they have always been.
	#[test]
	fn a_contribution_keeps_its_json_fields() {
		let common = json!({
			"id": 7, "dao": 0, "url": "http://127.0.0.1:9900/v1/blobs/0xab",
			"ciphertext_hash": "0xab", "size": 300_123, "submitted_at": 12,
		});
		let with = |extra: serde_json::Value| {
			let mut v = common.clone();
			v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
			v
		};
		let chat = Token { symbol: "CHAT".into(), decimals: 12 };
		let json = |s| serde_json::to_value(contribution(s)).unwrap();
		assert_eq!(json(Status::Pending), with(json!({"status": "pending"})));
		let accepted =
			Status::Accepted { reward: chat.amount(8_000_000_000_000), at: 20, scores: scores() };
		assert_eq!(
			json(accepted),
			with(json!({
				"status": "accepted", "reward": "8000000000000", "at": 20,
				"scores": {"authenticity": "80.0%", "ownership": "80.0%", "quality": "80.0%",
					"uniqueness": "80.0%", "overall": "80.0%"},
			}))
		);
		let rejected = Status::Rejected {
			reason: "duplicate of contribution #3".into(),
			slashed: Amount::coop(500_000_000_000).to_string(),
			at: 21,
			overall: permill(100_000),
		};
		assert_eq!(
			json(rejected),
			with(json!({
				"status": "rejected", "reason": "duplicate of contribution #3",
				"slashed": "0.5 COOP", "at": 21, "overall": "10.0%",
			}))
		);
	}

	#[test]
	fn a_contribution_reads_with_its_tokens_decimals() {
		let chat = Token { symbol: "CHAT".into(), decimals: 12 };
		let accepted =
			Status::Accepted { reward: chat.amount(8_000_000_000_000), at: 20, scores: scores() };
		assert_eq!(
			contribution(accepted).to_string(),
			"#7      DAO #0          300123 bytes  accepted, overall score 80.0%, 8 CHAT minted"
		);
		assert_eq!(
			contribution(Status::Pending).status.to_string(),
			"pending (waiting for the DAO's collective server)"
		);
	}
}
