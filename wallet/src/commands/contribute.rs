//! `datacoop contribute`: a file to a DAO. Signs a statement naming me, this chain and the
//! DAO; encrypts the statement and the file to the DAO's collective server and to me while
//! uploading them to storage; submits the ciphertext on chain; waits for the verdict.
//!
//! A journal of uploads lets a re-run find its upload and its submission instead of making
//! new ones.

use std::{
	fmt, fs,
	io::Write,
	path::{Path, PathBuf},
	time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use datacoop_envelope::{Parallelism, Recipient};
use datacoop_primitives::contribution::{statement_line, statement_payload, Statement};
use datacoop_storage::{reader_stream, BlobHash, StorageClient};
use futures::StreamExt;
use serde::Serialize;

use super::{
	contributions::{view, ContributionView},
	existing_dao, print, Token,
};
use crate::{
	chain::{self, datacoop as rt, ContributionStatus},
	data_dir, Global,
};

#[derive(clap::Args)]
pub struct Args {
	pub file: PathBuf,
	#[arg(long)]
	pub dao: u32,
	/// Wait up to this many seconds for the collective server's verdict (0: return as
	/// soon as it is submitted, Pending).
	#[arg(long, default_value_t = 120)]
	pub wait: u64,
}

/// What a contribution of one file to one DAO became, kept so that a re-run finds its upload
/// and its submission instead of making new ones.
#[derive(serde::Serialize, serde::Deserialize)]
struct Journal {
	hash: BlobHash,
	size: u64,
	url: String,
}

fn journal_path(address: &str, dao: u32, file: &Path, meta: &fs::Metadata) -> Result<PathBuf> {
	use sha2::Digest;
	let canonical = fs::canonicalize(file)?;
	let modified = meta
		.modified()
		.ok()
		.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
		.map(|d| d.as_nanos())
		.unwrap_or(0);
	let key = format!("{address}\n{dao}\n{}\n{}\n{modified}", canonical.display(), meta.len());
	Ok(data_dir().join("uploads").join(format!("{}.json", hex::encode(sha2::Sha256::digest(key)))))
}

/// The contribution on chain once submitted (and judged, if the verdict came in time).
#[derive(Serialize)]
#[serde(transparent)]
struct Contributed(ContributionView);

impl fmt::Display for Contributed {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		let c = &self.0;
		write!(
			f,
			"contribution #{} to DAO #{}: {} ({} bytes at {})",
			c.id, c.dao, c.status, c.size, c.url
		)
	}
}

pub async fn run(args: &Args, global: &Global, out: &mut impl Write) -> Result<()> {
	let (file, dao_id) = (args.file.as_path(), args.dao);
	// Opened once, before anything else: a missing or unreadable file fails at once, and
	// what is encrypted is the file whose size was checked.
	let input = fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
	let meta = input.metadata().with_context(|| format!("cannot read {}", file.display()))?;
	if !meta.is_file() {
		bail!("{} is not a file", file.display());
	}
	let account = global.account()?;
	let client = chain::connect(&global.url).await?;
	let at = client.at_finalized().await?;
	let dao = existing_dao(&at, dao_id).await?;
	if dao.status == datacoop_primitives::dao::DaoStatus::Retired {
		bail!("DAO #{dao_id} is retired and takes no new contributions");
	}
	let recipients = [
		Recipient::from_bytes(dao.collective.encryption_key),
		account.contribution_identity().to_public(),
	];
	// The statement inside the data: it is mine, for this DAO on this chain. Whoever copies
	// the ciphertext and submits it first is judged Invalid by the collective server.
	let statement = Statement {
		genesis_hash: client.genesis_hash().into(),
		dao_id,
		contributor: account.account_id().0,
	};
	let signature = account.keypair.sign(&statement_payload(&statement)).0;
	let statement = statement_line(&statement, &signature);
	let plain_len = meta.len() + statement.len() as u64;
	let size = datacoop_envelope::encrypted_len(plain_len, recipients.len());
	let (min, max) = (dao.rules.min_contribution_size, dao.rules.max_contribution_size);
	if size < min || size > max {
		bail!(
			"{} would be {size} bytes encrypted; DAO #{dao_id} takes {min} to {max} bytes",
			file.display()
		);
	}
	let storage = StorageClient::new(&global.storage)?;
	let journal_file = journal_path(&account.address(), dao_id, file, &meta)?;
	let mut known: Option<Journal> =
		fs::read(&journal_file).ok().and_then(|b| serde_json::from_slice(&b).ok());

	// Another account may submit my ciphertext before me (it is public in the pool and in
	// storage). Its contribution is judged Invalid; mine needs a ciphertext of its own:
	// encrypted again (a fresh file key), it is. Once is all it should take; a few times, at most.
	let mut tries = 0;
	let id = loop {
		tries += 1;
		let upload = match known.take() {
			Some(j) if storage.size(&j.hash).await.map_err(storage_error)? == Some(j.size) => {
				if !global.json {
					eprintln!("already uploaded as {}", j.hash);
				}
				j
			},
			_ => {
				let mut input = input.try_clone()?;
				std::io::Seek::rewind(&mut input)?;
				let plain = std::io::Read::chain(std::io::Cursor::new(statement.clone()), input);
				let reader = datacoop_envelope::encrypting_reader(
					&recipients,
					plain,
					&Parallelism::AllCores,
				)
				.map_err(|e| anyhow!("cannot encrypt: {e}"))?;
				let bar = progress_bar(global.json, size);
				let tick = bar.clone();
				let stream = reader_stream(reader, 1 << 20).inspect(move |chunk| {
					if let Ok(c) = chunk {
						tick.inc(c.len() as u64)
					}
				});
				// The upload token is signed by the account that contributes.
				let stored = storage.post(&account, stream, size).await;
				bar.finish_and_clear();
				let stored = stored.map_err(storage_error)?;
				if stored.size != size {
					bail!(
						"{} changed while it was read: uploaded {} bytes, expected {size}; run again",
						file.display(),
						stored.size
					);
				}
				let j = Journal { hash: stored.hash, size, url: storage.blob_url(&stored.hash) };
				fs::create_dir_all(journal_file.parent().expect("has a parent"))?;
				fs::write(&journal_file, serde_json::to_vec(&j)?)?;
				j
			},
		};
		let taken = |by: &str| -> Result<()> {
			if tries >= 3 {
				bail!(
					"the ciphertext of {} was submitted by {by} first, {tries} times",
					file.display()
				);
			}
			if !global.json {
				eprintln!(
					"the ciphertext {} was submitted by {by} first; encrypting it again",
					upload.hash
				);
			}
			let _ = fs::remove_file(&journal_file);
			Ok(())
		};
		let at = client.at_finalized().await?;
		if let Some(id) = at.contribution_by_ciphertext(dao_id, upload.hash.0).await? {
			let c =
				at.contribution(id).await?.ok_or_else(|| anyhow!("contribution #{id} vanished"))?;
			// Only a contribution of mine is adopted.
			if c.contributor == account.account_id() {
				break id;
			}
			taken(&c.contributor.to_string())?;
			continue;
		}
		let tx = rt::transactions().contributions().submit(
			dao_id,
			upload.url.clone().into_bytes(),
			subxt::utils::H256(upload.hash.0),
			upload.size,
		);
		match chain::submit(&client, &tx, &account.keypair).await {
			Ok(events) => {
				break events
					.find_first::<rt::contributions::events::Submitted>()
					.ok_or_else(|| anyhow!("no Submitted event"))??
					.contribution_id;
			},
			// Taken between the look-up and the submission (the other one is not final yet).
			Err(e) if e.to_string().contains("DuplicateCiphertext") => {
				taken("another account")?;
				continue;
			},
			Err(e) => return Err(e),
		}
	};
	let deadline = Instant::now() + Duration::from_secs(args.wait);
	let record = loop {
		let c = client
			.at_finalized()
			.await?
			.contribution(id)
			.await?
			.ok_or_else(|| anyhow!("contribution #{id} vanished"))?;
		if !matches!(c.status, ContributionStatus::Pending) || Instant::now() >= deadline {
			break c;
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	};
	print(out, global.json, &Contributed(view(id, &record, &Token::of(&dao))))
}

/// A storage error, with the flag that names the service when it cannot be reached.
fn storage_error(e: datacoop_storage::ClientError) -> anyhow::Error {
	use datacoop_storage::ClientError::{TimedOut, Unreachable};
	match e {
		Unreachable { .. } | TimedOut { .. } => anyhow!("{e} (--storage or DATACOOP_STORAGE)"),
		e => e.into(),
	}
}

fn progress_bar(hidden: bool, len: u64) -> indicatif::ProgressBar {
	if hidden {
		return indicatif::ProgressBar::hidden();
	}
	let bar = indicatif::ProgressBar::new(len);
	bar.set_style(
		indicatif::ProgressStyle::with_template(
			"encrypting and uploading {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
		)
		.expect("a valid template"),
	);
	bar
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn upload_tokens_signed_by_the_account_verify_as_storage_checks_them() {
		let alice = crate::keystore::Account::from_uri("alice", "//Alice").unwrap();
		let hash = BlobHash::of(b"ciphertext");
		let t =
			datacoop_storage::UploadToken::sign(&alice, Some(&hash), 10, 1_700_000_000, [1; 16]);
		assert_eq!(t.account, alice.keypair.public_key().0);
		t.verify(Some(&hash)).unwrap();
		assert!(t.verify(None).is_err());
	}
}
