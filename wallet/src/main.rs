//! `datacoop`: the contributor's wallet. See README, "Wallet".
//!
//! This file holds the command line: the options every command takes ([`Global`]), the
//! list of commands ([`Command`]) and the one-line error. Each command lives in its own file
//! under `commands/` with its arguments and its `run`; see [`commands`] for the map.

mod chain;
mod collective;
mod commands;
mod keystore;

use std::{fs, io::Write, path::PathBuf, process::ExitCode};

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use subxt::utils::AccountId32;

use commands::{
	access, access_log, balance, contribute, contributions, dao, data, envelope, key,
	parse_address, proposal, rewards,
};
use keystore::{Account, Keystore};

#[derive(Parser)]
#[command(
	name = "datacoop",
	version,
	about = "The Datacoop wallet: keys, data DAOs, contributions, dataset tokens, rewards, governance and access to data."
)]
struct Cli {
	#[command(flatten)]
	global: Global,
	#[command(subcommand)]
	command: Command,
}

/// The options every command takes, before or after the command's name.
#[derive(clap::Args)]
struct Global {
	/// The node's RPC endpoint.
	#[arg(long, global = true, env = "DATACOOP_URL", default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// The encrypted storage service contributions are uploaded to.
	#[arg(long, global = true, env = "DATACOOP_STORAGE", default_value = "http://127.0.0.1:9900")]
	storage: String,
	/// Where accounts are kept (encrypted).
	#[arg(long, global = true, env = "DATACOOP_KEYSTORE")]
	keystore: Option<PathBuf>,
	/// The account to act as: a name from the keystore, or a dev URI such as //Alice.
	#[arg(long, short = 'a', global = true, env = "DATACOOP_ACCOUNT")]
	account: Option<String>,
	/// A file holding the keystore password (else DATACOOP_PASSWORD, else a prompt).
	#[arg(long, global = true, env = "DATACOOP_PASSWORD_FILE")]
	password_file: Option<PathBuf>,
	/// Print JSON for scripts instead of text.
	#[arg(long, global = true)]
	json: bool,
}

#[derive(Subcommand)]
enum Command {
	/// Accounts: generate, import, list, inspect.
	#[command(subcommand)]
	Key(key::Command),
	/// Data DAOs: list, show, create, hand over to the token holders.
	#[command(subcommand)]
	Dao(dao::Command),
	/// A DAO's governance: propose, list, show, vote, close, unlock.
	#[command(subcommand)]
	Proposal(proposal::Command),
	/// Access to a DAO's data: grants (list, show, buy at an offer, prune).
	#[command(subcommand)]
	Grant(access::GrantCommand),
	/// What a DAO sells access at.
	#[command(subcommand)]
	Offer(access::OfferCommand),
	/// A DAO's treasury.
	#[command(subcommand)]
	Treasury(access::TreasuryCommand),
	/// Encrypt FILE for a DAO while uploading it, submit it, and report its status.
	Contribute(contribute::Args),
	/// My contributions and their status.
	Contributions,
	/// Withdraw my contribution that is still Pending after the chain's timeout (its blob
	/// never reached the collective server, say): the deposit comes back and the same file
	/// can be contributed again.
	Cancel(contributions::CancelArgs),
	/// Native balance, and dataset token balances (all DAOs, or --dao).
	Balance(balance::Args),
	/// Send native tokens, or a DAO's dataset tokens with --dao.
	Transfer(balance::TransferArgs),
	/// Rewards paid to a DAO's token holders.
	#[command(subcommand)]
	Rewards(rewards::Command),
	/// Fetch my contribution's ciphertext and decrypt it into OUT.
	Decrypt(contributions::DecryptArgs),
	/// Encrypt FILE to age recipients (offline).
	Encrypt(envelope::EncryptArgs),
	/// Decrypt an age file (offline) with my account's key or an age identity file.
	DecryptFile(envelope::DecryptFileArgs),
	/// A DAO's data, from its collective server, as my grant allows: export, query.
	#[command(subcommand)]
	Data(data::DataCommand),
	/// Who got a DAO's data: its collective server's signed access log (token holders only).
	AccessLog(access_log::Args),
}

fn main() -> ExitCode {
	let cli = Cli::parse();
	let runtime = match tokio::runtime::Runtime::new() {
		Ok(r) => r,
		Err(e) => {
			eprintln!("Error: cannot start: {e}");
			return ExitCode::FAILURE;
		},
	};
	match runtime.block_on(run(&cli, &mut std::io::stdout())) {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			// One line: the error and its causes.
			let mut line = e.to_string();
			for cause in e.chain().skip(1) {
				line.push_str(": ");
				line.push_str(&cause.to_string());
			}
			eprintln!("Error: {line}");
			ExitCode::FAILURE
		},
	}
}

/// Runs the command, writing its result to `out`.
async fn run(cli: &Cli, out: &mut impl Write) -> Result<()> {
	let global = &cli.global;
	match &cli.command {
		Command::Key(command) => key::run(command, global, out),
		Command::Dao(command) => dao::run(command, global, out).await,
		Command::Proposal(command) => proposal::run(command, global, out).await,
		Command::Grant(command) => access::grant(command, global, out).await,
		Command::Offer(command) => access::offer(command, global, out).await,
		Command::Treasury(command) => access::treasury(command, global, out).await,
		Command::Contribute(args) => contribute::run(args, global, out).await,
		Command::Contributions => contributions::run(global, out).await,
		Command::Cancel(args) => contributions::cancel(args, global, out).await,
		Command::Decrypt(args) => contributions::decrypt(args, global, out).await,
		Command::Balance(args) => balance::run(args, global, out).await,
		Command::Transfer(args) => balance::transfer(args, global, out).await,
		Command::Rewards(command) => rewards::run(command, global, out).await,
		Command::Encrypt(args) => envelope::encrypt(args, global, out),
		Command::DecryptFile(args) => envelope::decrypt_file(args, global, out),
		Command::Data(command) => data::run(command, global, out).await,
		Command::AccessLog(args) => access_log::run(args, global, out).await,
	}
}

/// Where the wallet keeps its files: the keystore (unless --keystore) and the journal of
/// uploads.
fn data_dir() -> PathBuf {
	if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
		return PathBuf::from(d).join("datacoop");
	}
	let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
	home.join(".local/share/datacoop")
}

impl Global {
	fn keystore(&self) -> Keystore {
		Keystore::open(&self.keystore.clone().unwrap_or_else(|| data_dir().join("keys")))
	}

	fn password(&self, prompt: &str) -> Result<zeroize::Zeroizing<String>> {
		if let Some(file) = &self.password_file {
			let what = format!("the password file {}", file.display());
			let f = fs::File::open(file).with_context(|| format!("cannot open {what}"))?;
			return keystore::read_secret(f, &what);
		}
		if let Ok(p) = std::env::var("DATACOOP_PASSWORD") {
			return Ok(zeroize::Zeroizing::new(p));
		}
		rpassword::prompt_password(prompt).map(zeroize::Zeroizing::new).map_err(|e| {
			anyhow!("no password: {e} (set DATACOOP_PASSWORD or --password-file when not on a terminal)")
		})
	}

	/// The `--account` given, or a message saying how to give one.
	fn account_name(&self) -> Result<&str> {
		self.account.as_deref().ok_or_else(|| {
			anyhow!("which account? pass --account NAME (see `datacoop key list`) or set DATACOOP_ACCOUNT")
		})
	}

	/// The acting account: a dev URI as is, else unlocked from the keystore.
	fn account(&self) -> Result<Account> {
		self.account_named(self.account_name()?)
	}

	fn account_named(&self, name: &str) -> Result<Account> {
		if keystore::is_dev_uri(name)? {
			return Account::from_uri(name, name);
		}
		let ks = self.keystore();
		ks.address(name)?; // a clear error before asking for a password
		ks.unlock(name, &self.password(&format!("password for {name}: "))?)
	}

	/// The acting account's address, without a password.
	fn account_id(&self) -> Result<AccountId32> {
		let name = self.account_name()?;
		if keystore::is_dev_uri(name)? {
			return Ok(Account::from_uri(name, name)?.account_id());
		}
		parse_address(&self.keystore().address(name)?)
	}
}

#[cfg(test)]
mod tests {
	use clap::CommandFactory;

	use super::*;

	fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
		Cli::try_parse_from(std::iter::once("datacoop").chain(args.iter().copied()))
	}

	#[test]
	fn the_command_line_is_consistent() {
		Cli::command().debug_assert();
	}

	#[test]
	fn arguments_are_checked_before_anything_runs() {
		assert!(parse(&["contribute", "f"]).is_err(), "--dao is required");
		assert!(parse(&["contribute", "f", "--dao", "x"]).is_err(), "a DAO id is a number");
		assert!(parse(&["contribute", "f", "--dao", "-1"]).is_err());
		assert!(parse(&["encrypt", "f", "-o", "o"]).is_err(), "--to is required");
		assert!(parse(&["transfer", "addr"]).is_err(), "an amount is required");
		assert!(parse(&["transfer", "addr", "1.5"]).is_err(), "amounts are whole planck");
		assert!(parse(&["key", "generate"]).is_err(), "--name is required");
		assert!(parse(&["frobnicate"]).is_err());
		let cli = parse(&["--json", "-a", "bob", "contribute", "f", "--dao", "3", "--wait", "10"])
			.unwrap();
		assert!(cli.global.json);
		assert_eq!(cli.global.account.as_deref(), Some("bob"));
		assert!(matches!(
			cli.command,
			Command::Contribute(contribute::Args { dao: 3, wait: 10, .. })
		));
		// global flags go anywhere
		let cli = parse(&["balance", "--url", "ws://x:1", "--json"]).unwrap();
		assert_eq!(cli.global.url, "ws://x:1");
	}

	#[test]
	fn governance_and_access_arguments_are_checked_before_anything_runs() {
		let grant = |extra: &[&str]| {
			let base = ["proposal", "create", "--dao", "0", "grant-access"];
			parse(&[&base[..], extra].concat())
		};
		assert!(grant(&["--scope", "full", "--duration", "7d", "--fee", "10COOP"]).is_ok());
		assert!(grant(&["--scope", "all", "--duration", "7d", "--fee", "1"]).is_err());
		assert!(grant(&["--scope", "full", "--duration", "7", "--fee", "1"]).is_err());
		assert!(grant(&["--scope", "full", "--duration", "7d", "--fee", "ten"]).is_err());
		assert!(parse(&["proposal", "vote", "3", "yes"]).is_err(), "aye or nay");
		assert!(parse(&["proposal", "vote", "3", "aye", "--amount", "5"]).is_ok());
		assert!(parse(&["grant", "show"]).is_err(), "an id or --dao");
		assert!(parse(&["grant", "show", "4", "--dao", "1"]).is_err(), "not both");
		assert!(parse(&["grant", "buy", "--dao", "0", "--scope", "aggregate:0", "--days", "1"])
			.is_err());
		let cli =
			parse(&["proposal", "create", "--dao", "2", "update-rules", "--quorum", "300000"])
				.unwrap();
		let Command::Proposal(proposal::Command::Create(args)) = cli.command else {
			panic!("not proposal create")
		};
		let proposal::ActionArgs::UpdateRules(change) = args.action else {
			panic!("not update-rules")
		};
		assert_eq!((change.quorum, change.approval), (Some(300_000), None));
	}

	#[test]
	fn data_arguments_are_checked_before_anything_runs() {
		assert!(parse(&["data", "export", "-o", "out"]).is_err(), "--dao is required");
		assert!(parse(&["data", "export", "--dao", "1"]).is_err(), "-o is required");
		let export = |extra: &[&str]| {
			parse(&[&["data", "export", "--dao", "1", "-o", "d"][..], extra].concat())
		};
		assert!(export(&["--since", "x"]).is_err(), "--since is a contribution id");
		assert!(parse(&["access-log"]).is_err(), "--dao is required");
		let cli = export(&["--since", "4", "--keep-age"]).unwrap();
		let Command::Data(data::DataCommand::Export(args)) = cli.command else {
			panic!("not data export")
		};
		assert_eq!((args.dao, args.since, args.keep_age), (1, Some(4), true));
		assert_eq!(args.output, PathBuf::from("d"));
		assert!(matches!(
			parse(&["access-log", "--dao", "2", "--json"]).unwrap().command,
			Command::AccessLog(access_log::Args { dao: 2 })
		));
	}

	const PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
	const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

	/// Runs a `key` command; what it printed.
	fn run_key(cli: &Cli) -> Result<String> {
		let Command::Key(k) = &cli.command else { panic!("not a key command") };
		let mut out = Vec::new();
		key::run(k, &cli.global, &mut out)?;
		Ok(String::from_utf8(out).unwrap())
	}

	#[test]
	fn a_secret_on_the_command_line_is_refused_without_being_repeated() {
		let dir = tempfile::tempdir().unwrap();
		let keystore = dir.path().to_str().unwrap();
		let alice_with_password = "//Alice///secret-pw".to_owned();
		let with_path = format!("{PHRASE}//Alice");
		let cases: [&[&str]; 6] = [
			&["key", "import", "--name", "x", PHRASE],
			&["key", "import", "--name", "x", "--mnemonic", PHRASE],
			&["key", "inspect", PHRASE],
			&["-a", PHRASE, "balance"],
			&["-a", with_path.as_str(), "balance"],
			&["-a", alice_with_password.as_str(), "balance"],
		];
		for args in cases {
			let cli = parse(&[&["--keystore", keystore][..], args].concat())
				.unwrap_or_else(|e| panic!("{args:?}: {e}"));
			let err = match cli.command {
				Command::Key(_) => run_key(&cli).err(),
				_ => cli.global.account().err().and(cli.global.account_id().err()),
			}
			.unwrap_or_else(|| panic!("{args:?} was accepted"))
			.to_string();
			assert!(err.contains("--secret-file FILE"), "{args:?}: {err}");
			assert!(!err.contains("bottom") && !err.contains("secret-pw"), "echoed: {err}");
		}
		assert!(fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing was stored");
		// Dev accounts are public and stay usable.
		let cli = parse(&["--keystore", keystore, "-a", "//Alice//stash", "balance"]).unwrap();
		assert!(cli.global.account_id().is_ok());
		let shown =
			run_key(&parse(&["--keystore", keystore, "key", "inspect", "//Alice"]).unwrap())
				.unwrap();
		assert!(shown.starts_with(&format!("address:          {ALICE}\n")), "{shown}");
	}

	#[test]
	fn key_import_reads_the_secret_from_a_file() {
		let dir = tempfile::tempdir().unwrap();
		let keystore = dir.path().join("keys");
		let secret = dir.path().join("secret");
		let password = dir.path().join("password");
		fs::write(&secret, format!("{PHRASE}//Alice\n")).unwrap();
		fs::write(&password, "pw\n").unwrap();
		let import = |name: &str| {
			run_key(
				&parse(&[
					"--keystore",
					keystore.to_str().unwrap(),
					"--password-file",
					password.to_str().unwrap(),
					"key",
					"import",
					"--name",
					name,
					"--secret-file",
					secret.to_str().unwrap(),
				])
				.unwrap(),
			)
		};
		assert_eq!(import("alice").unwrap(), format!("account alice: {ALICE}\n"));
		let ks = Keystore::open(&keystore);
		assert_eq!(ks.address("alice").unwrap(), ALICE);
		assert_eq!(ks.unlock("alice", "pw").unwrap().address(), ALICE);
		fs::write(&secret, "\n").unwrap();
		let err = import("empty").err().unwrap().to_string();
		assert!(err.contains("no secret given"), "{err}");
	}
}
