//! `datacoop key`: the accounts in the keystore (generate, import, list, inspect). Offline.
//!
//! Secrets never come from the command line (see `keystore.rs`), and the secrets this command
//! prints (a new account's mnemonic; an age identity with `--show-secret`) go out through
//! [`print`]'s zeroized buffer, never through a `String` left behind.

use std::{
	fmt, fs,
	io::Write,
	path::{Path, PathBuf},
};

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use zeroize::Zeroizing;

use super::{print, List};
use crate::{
	keystore::{self, Listed},
	Global,
};

#[derive(clap::Subcommand)]
pub enum Command {
	/// Create an account from a new 12-word mnemonic.
	Generate {
		#[arg(long)]
		name: String,
	},
	/// Keep an existing secret (mnemonic, hex seed or //Dev URI): one line read from standard
	/// input (at a terminal, a prompt that does not show it) or from --secret-file.
	Import {
		#[arg(long)]
		name: String,
		/// A file whose first line is the mnemonic or secret URI.
		#[arg(long)]
		secret_file: Option<PathBuf>,
		/// Refused with a message saying how to give it: the command line shows in `ps` and
		/// shell history.
		#[arg(hide = true)]
		secret: Vec<String>,
		#[arg(long = "secret", hide = true, aliases = ["mnemonic", "phrase", "seed", "uri", "suri"])]
		secret_flag: Option<String>,
	},
	/// The accounts in the keystore.
	List,
	/// Address, public key and contribution key (age recipient) of an account.
	Inspect {
		/// Account name or secret URI; default: --account.
		account: Option<String>,
		/// Also print the age identity (secret) that decrypts the account's contributions.
		#[arg(long)]
		show_secret: bool,
	},
}

pub fn run(command: &Command, global: &Global, out: &mut impl Write) -> Result<()> {
	match command {
		Command::Generate { name } => generate(name, global, out),
		Command::Import { name, secret_file, secret, secret_flag } => {
			if !secret.is_empty() || secret_flag.is_some() {
				bail!("{}", keystore::SECRET_NOT_ON_COMMAND_LINE);
			}
			import(name, secret_file.as_deref(), global, out)
		},
		Command::List => print(
			out,
			global.json,
			&List::new(
				global.keystore().list()?,
				"no accounts yet: `datacoop key generate --name NAME`",
			),
		),
		Command::Inspect { account, show_secret } => {
			inspect(account.as_deref(), *show_secret, global, out)
		},
	}
}

/// A new account, with the mnemonic that is its only backup.
#[derive(Serialize)]
struct Generated<'a> {
	name: &'a str,
	address: &'a str,
	mnemonic: &'a str,
	contribution_key: &'a str,
}

impl fmt::Display for Generated<'_> {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(
			f,
			"account {}: {}\nmnemonic (write it down; it is the only way back): {}",
			self.name, self.address, self.mnemonic
		)
	}
}

fn generate(name: &str, global: &Global, out: &mut impl Write) -> Result<()> {
	let mut entropy = Zeroizing::new([0u8; 16]);
	getrandom::getrandom(entropy.as_mut()).map_err(|e| anyhow!("no randomness: {e}"))?;
	let phrase = Zeroizing::new(
		subxt_signer::bip39::Mnemonic::from_entropy(entropy.as_ref())
			.map_err(|e| anyhow!("{e}"))?
			.to_string(),
	);
	let password = new_password(global)?;
	let account = global.keystore().add(name, &phrase, &password)?;
	let address = account.address();
	let contribution_key = account.contribution_identity().to_public().to_string();
	print(
		out,
		global.json,
		&Generated {
			name,
			address: &address,
			mnemonic: &phrase,
			contribution_key: &contribution_key,
		},
	)
}

/// An account now in the keystore.
#[derive(Serialize)]
struct Imported {
	name: String,
	address: String,
}

impl fmt::Display for Imported {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "account {}: {}", self.name, self.address)
	}
}

fn import(
	name: &str,
	secret_file: Option<&Path>,
	global: &Global,
	out: &mut impl Write,
) -> Result<()> {
	let uri = match secret_file {
		Some(path) => keystore::read_secret(
			fs::File::open(path)
				.with_context(|| format!("cannot open the secret file {}", path.display()))?,
			&format!("the secret file {}", path.display()),
		)?,
		None => keystore::read_secret_from_stdin()?,
	};
	if uri.trim().is_empty() {
		bail!("no secret given: pipe one line with a mnemonic or secret URI into standard input, or pass --secret-file FILE");
	}
	let password = new_password(global)?;
	let account = global.keystore().add(name, uri.trim(), &password)?;
	print(out, global.json, &Imported { name: name.into(), address: account.address() })
}

/// `key list`'s line for an account.
impl fmt::Display for Listed {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "{:<20} {}", self.name, self.address)
	}
}

/// An account's public keys, and with `--show-secret` the age identity that opens its
/// contributions.
#[derive(Serialize)]
struct Inspected<'a> {
	name: String,
	address: String,
	public_key: String,
	contribution_key: String,
	#[serde(skip_serializing_if = "Option::is_none")]
	contribution_identity: Option<&'a str>,
}

impl fmt::Display for Inspected<'_> {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(
			f,
			"address:          {}\npublic key:       {}\ncontribution key: {}",
			self.address, self.public_key, self.contribution_key
		)?;
		if let Some(identity) = self.contribution_identity {
			write!(f, "\nage identity:     {identity}")?;
		}
		Ok(())
	}
}

fn inspect(
	account: Option<&str>,
	show_secret: bool,
	global: &Global,
	out: &mut impl Write,
) -> Result<()> {
	let name = account
		.or(global.account.as_deref())
		.ok_or_else(|| anyhow!("which account? `datacoop key inspect NAME`"))?;
	let account = global.account_named(name)?;
	let identity = account.contribution_identity();
	let secret = show_secret.then(|| identity.to_bech32());
	print(
		out,
		global.json,
		&Inspected {
			name: account.name.clone(),
			address: account.address(),
			public_key: format!("0x{}", hex::encode(account.keypair.public_key().0)),
			contribution_key: identity.to_public().to_string(),
			contribution_identity: secret.as_ref().map(|s| s.as_str()),
		},
	)
}

/// The password for a new account: asked twice at a terminal.
fn new_password(global: &Global) -> Result<Zeroizing<String>> {
	let p = global.password("new password: ")?;
	if global.password_file.is_none() && std::env::var("DATACOOP_PASSWORD").is_err() {
		let again = Zeroizing::new(rpassword::prompt_password("again: ")?);
		if again != p {
			bail!("the passwords differ: nothing was saved");
		}
	}
	Ok(p)
}
