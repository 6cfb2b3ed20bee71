//! `datacoop`: the contributor's wallet. See README, "Wallet".

mod chain;
mod keystore;

use std::{
	fs,
	io::BufReader,
	path::{Path, PathBuf},
	process::ExitCode,
	time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use datacoop_envelope::{Identity, Parallelism, Recipient};
use datacoop_primitives::contribution::{
	split_statement, statement_line, statement_payload, Statement, STATEMENT_LINE_LEN,
};
use datacoop_storage::{reader_stream, BlobHash, StorageClient};
use futures::StreamExt;
use serde_json::{json, Value};
use subxt::utils::AccountId32;

use chain::{datacoop as rt, ContributionStatus};
use keystore::{Account, Keystore};

/// Native token: 12 decimals, COOP.
const DECIMALS: u32 = 12;

#[derive(Parser)]
#[command(
	name = "datacoop",
	version,
	about = "The Datacoop wallet: keys, data DAOs, contributions, dataset tokens and rewards."
)]
struct Cli {
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
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Accounts: generate, import, list, inspect.
	#[command(subcommand)]
	Key(KeyCommand),
	/// Data DAOs: list, show, create.
	#[command(subcommand)]
	Dao(DaoCommand),
	/// Encrypt FILE for a DAO while uploading it, submit it, and report its status.
	Contribute {
		file: PathBuf,
		#[arg(long)]
		dao: u32,
		/// Wait up to this many seconds for the collective server's verdict (0: return as
		/// soon as it is submitted, Pending).
		#[arg(long, default_value_t = 120)]
		wait: u64,
	},
	/// My contributions and their status.
	Contributions,
	/// Withdraw my contribution that is still Pending after the chain's timeout (its blob
	/// never reached the collective server, say): the deposit comes back and the same file
	/// can be contributed again.
	Cancel { contribution: u64 },
	/// Native balance, and dataset token balances (all DAOs, or --dao).
	Balance {
		#[arg(long)]
		dao: Option<u32>,
	},
	/// Send native tokens, or a DAO's dataset tokens with --dao.
	Transfer {
		/// SS58 address.
		to: String,
		/// In planck (10^-12 COOP) for native tokens; in token units for dataset tokens.
		amount: u128,
		#[arg(long)]
		dao: Option<u32>,
	},
	/// Rewards paid to a DAO's token holders.
	#[command(subcommand)]
	Rewards(RewardsCommand),
	/// Fetch my contribution's ciphertext and decrypt it into OUT.
	Decrypt {
		contribution: u64,
		#[arg(short, long)]
		output: PathBuf,
	},
	/// Encrypt FILE to age recipients (offline).
	Encrypt {
		file: PathBuf,
		/// Recipient (age1…); repeat for several.
		#[arg(long = "to", required = true)]
		to: Vec<String>,
		#[arg(short, long)]
		output: PathBuf,
		/// Use one core (for benchmarks).
		#[arg(long)]
		one_core: bool,
	},
	/// Decrypt an age file (offline) with my account's key or an age identity file.
	DecryptFile {
		file: PathBuf,
		#[arg(short, long)]
		output: PathBuf,
		/// An age identity file (AGE-SECRET-KEY-1… lines) instead of the account's key.
		#[arg(long, short = 'i')]
		identity: Option<PathBuf>,
		#[arg(long)]
		one_core: bool,
	},
}

#[derive(Subcommand)]
enum KeyCommand {
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

#[derive(Subcommand)]
enum DaoCommand {
	List,
	Show { id: u32 },
	Create(CreateDao),
}

#[derive(Args)]
struct CreateDao {
	#[arg(long)]
	name: String,
	#[arg(long, default_value = "")]
	metadata_uri: String,
	#[arg(long)]
	token_name: String,
	#[arg(long)]
	token_symbol: String,
	/// The collective server's encryption key (age1…).
	#[arg(long)]
	collective_key: String,
	/// Its attestation signer (sr25519 public key, 0x…, or an SS58 address).
	#[arg(long)]
	signer: String,
	#[arg(long)]
	endpoint: String,
	/// 0x + 64 hex digits.
	#[arg(long)]
	measurement: String,
	#[arg(long, default_value_t = 1)]
	min_size: u64,
	#[arg(long, default_value_t = 1 << 30)]
	max_size: u64,
	/// Dataset tokens (in units of 10^-12) minted for a contribution scored 100 %.
	#[arg(long, default_value_t = 1_000_000_000_000)]
	reward: u128,
	/// Minimum overall score, in parts per million.
	#[arg(long, default_value_t = 500_000)]
	min_score: u32,
	/// Contribution deposit, in planck.
	#[arg(long, default_value_t = 1_000_000_000_000)]
	deposit: u128,
	#[arg(long, default_value_t = 100)]
	voting_period: u32,
	#[arg(long, default_value_t = 200_000)]
	quorum: u32,
	#[arg(long, default_value_t = 500_000)]
	approval: u32,
}

#[derive(Subcommand)]
enum RewardsCommand {
	Show {
		#[arg(long)]
		dao: u32,
	},
	Claim {
		#[arg(long)]
		dao: u32,
	},
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
	match runtime.block_on(run(&cli)) {
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

fn data_dir() -> PathBuf {
	if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
		return PathBuf::from(d).join("datacoop");
	}
	let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
	home.join(".local/share/datacoop")
}

impl Cli {
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

	/// The acting account: a dev URI as is, else unlocked from the keystore.
	/// The `--account` given, or a message saying how to give one.
	fn account_name(&self) -> Result<&str> {
		self.account.as_deref().ok_or_else(|| {
			anyhow!("which account? pass --account NAME (see `datacoop key list`) or set DATACOOP_ACCOUNT")
		})
	}

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

	fn print(&self, value: Value, text: impl FnOnce() -> String) {
		if self.json {
			println!("{value}");
		} else {
			println!("{}", text());
		}
	}
}

fn parse_address(s: &str) -> Result<AccountId32> {
	s.parse::<AccountId32>().map_err(|_| anyhow!("{s}: not an SS58 address"))
}

fn coop(planck: u128) -> String {
	let unit = 10u128.pow(DECIMALS);
	let frac = format!("{:012}", planck % unit);
	let frac = frac.trim_end_matches('0');
	if frac.is_empty() {
		format!("{} COOP", planck / unit)
	} else {
		format!("{}.{frac} COOP", planck / unit)
	}
}

fn permill(p: u32) -> String {
	format!("{:.1}%", p as f64 / 10_000.0)
}

async fn run(cli: &Cli) -> Result<()> {
	match &cli.command {
		Command::Key(k) => key(cli, k),
		Command::Encrypt { file, to, output, one_core } => {
			encrypt_file(cli, file, to, output, *one_core)
		},
		Command::DecryptFile { file, output, identity, one_core } => {
			let identities = match identity {
				Some(path) => read_identities(path)?,
				None => vec![cli.account()?.contribution_identity()],
			};
			let n = decrypt_to(
				fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
				&identities,
				output,
				*one_core,
			)?;
			cli.print(json!({"output": output, "bytes": n}), || {
				format!("decrypted {n} bytes into {}", output.display())
			});
			Ok(())
		},
		Command::Dao(d) => dao(cli, d).await,
		Command::Contribute { file, dao, wait } => contribute(cli, file, *dao, *wait).await,
		Command::Contributions => contributions(cli).await,
		Command::Balance { dao } => balance(cli, *dao).await,
		Command::Transfer { to, amount, dao } => transfer(cli, to, *amount, *dao).await,
		Command::Rewards(r) => rewards(cli, r).await,
		Command::Cancel { contribution } => cancel(cli, *contribution).await,
		Command::Decrypt { contribution, output } => {
			decrypt_contribution(cli, *contribution, output).await
		},
	}
}

fn key(cli: &Cli, command: &KeyCommand) -> Result<()> {
	let ks = cli.keystore();
	match command {
		KeyCommand::Generate { name } => {
			let mut entropy = zeroize::Zeroizing::new([0u8; 16]);
			getrandom::getrandom(entropy.as_mut()).map_err(|e| anyhow!("no randomness: {e}"))?;
			let phrase = zeroize::Zeroizing::new(
				subxt_signer::bip39::Mnemonic::from_entropy(entropy.as_ref())
					.map_err(|e| anyhow!("{e}"))?
					.to_string(),
			);
			let password = new_password(cli)?;
			let account = ks.add(name, &phrase, &password)?;
			let address = account.address();
			let contribution_key = account.contribution_identity().to_public().to_string();
			// Printed from one buffer, allocated once and zeroized: a format!ed String or a
			// serde_json::Value would leave copies of the phrase behind.
			let mut out = zeroize::Zeroizing::new(Vec::with_capacity(1024));
			if cli.json {
				#[derive(serde::Serialize)]
				struct Generated<'a> {
					name: &'a str,
					address: &'a str,
					mnemonic: &'a str,
					contribution_key: &'a str,
				}
				let generated = Generated {
					name,
					address: &address,
					mnemonic: &phrase,
					contribution_key: &contribution_key,
				};
				serde_json::to_writer(&mut *out, &generated)?;
				out.push(b'\n');
			} else {
				std::io::Write::write_fmt(
					&mut *out,
					format_args!(
						"account {name}: {address}\nmnemonic (write it down; it is the only way back): {}\n",
						phrase.as_str()
					),
				)?;
			}
			std::io::Write::write_all(&mut std::io::stdout().lock(), &out)?;
		},
		KeyCommand::Import { name, secret_file, secret, secret_flag } => {
			if !secret.is_empty() || secret_flag.is_some() {
				bail!("{}", keystore::SECRET_NOT_ON_COMMAND_LINE);
			}
			let uri = match secret_file {
				Some(path) => keystore::read_secret(
					fs::File::open(path).with_context(|| {
						format!("cannot open the secret file {}", path.display())
					})?,
					&format!("the secret file {}", path.display()),
				)?,
				None => keystore::read_secret_from_stdin()?,
			};
			if uri.trim().is_empty() {
				bail!("no secret given: pipe one line with a mnemonic or secret URI into standard input, or pass --secret-file FILE");
			}
			let password = new_password(cli)?;
			let account = ks.add(name, uri.trim(), &password)?;
			cli.print(json!({"name": name, "address": account.address()}), || {
				format!("account {name}: {}", account.address())
			});
		},
		KeyCommand::List => {
			let list = ks.list()?;
			cli.print(serde_json::to_value(&list)?, || {
				if list.is_empty() {
					"no accounts yet: `datacoop key generate --name NAME`".into()
				} else {
					list.iter()
						.map(|a| format!("{:<20} {}", a.name, a.address))
						.collect::<Vec<_>>()
						.join("\n")
				}
			});
		},
		KeyCommand::Inspect { account, show_secret } => {
			let name = account
				.clone()
				.or_else(|| cli.account.clone())
				.ok_or_else(|| anyhow!("which account? `datacoop key inspect NAME`"))?;
			let account = if keystore::is_dev_uri(&name)? {
				Account::from_uri(&name, &name)?
			} else {
				cli.account_named(&name)?
			};
			let identity = account.contribution_identity();
			let mut v = json!({
				"name": account.name,
				"address": account.address(),
				"public_key": format!("0x{}", hex::encode(account.keypair.public_key().0)),
				"contribution_key": identity.to_public().to_string(),
			});
			if *show_secret {
				v["contribution_identity"] = json!(identity.to_bech32().as_str());
			}
			cli.print(v.clone(), || {
				let mut s = format!(
					"address:          {}\npublic key:       {}\ncontribution key: {}",
					v["address"].as_str().unwrap_or_default(),
					v["public_key"].as_str().unwrap_or_default(),
					v["contribution_key"].as_str().unwrap_or_default()
				);
				if let Some(id) = v["contribution_identity"].as_str() {
					s.push_str(&format!("\nage identity:     {id}"));
				}
				s
			});
		},
	}
	Ok(())
}

fn new_password(cli: &Cli) -> Result<zeroize::Zeroizing<String>> {
	let p = cli.password("new password: ")?;
	if cli.password_file.is_none() && std::env::var("DATACOOP_PASSWORD").is_err() {
		let again = zeroize::Zeroizing::new(rpassword::prompt_password("again: ")?);
		if again != p {
			bail!("the passwords differ: nothing was saved");
		}
	}
	Ok(p)
}

fn read_identities(path: &Path) -> Result<Vec<Identity>> {
	let text =
		fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
	let ids = text
		.lines()
		.map(str::trim)
		.filter(|l| !l.is_empty() && !l.starts_with('#'))
		.map(|l| l.parse::<Identity>().map_err(|e| anyhow!("{}: {e}", path.display())))
		.collect::<Result<Vec<_>>>()?;
	if ids.is_empty() {
		bail!("{}: no AGE-SECRET-KEY-1… line", path.display());
	}
	Ok(ids)
}

fn parallelism(one_core: bool) -> Parallelism {
	if one_core {
		Parallelism::OneCore
	} else {
		Parallelism::AllCores
	}
}

/// A temporary file beside `path`, renamed over it only when all went well: a failed run
/// never leaves a partial output behind.
fn write_atomically(path: &Path, write: impl FnOnce(&mut fs::File) -> Result<u64>) -> Result<u64> {
	let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
	let mut temp = tempfile::NamedTempFile::new_in(dir)
		.with_context(|| format!("cannot write in {}", dir.display()))?;
	let n = write(temp.as_file_mut())?;
	temp.as_file().sync_all()?;
	temp.persist(path).map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
	Ok(n)
}

fn encrypt_file(
	cli: &Cli,
	file: &Path,
	to: &[String],
	output: &Path,
	one_core: bool,
) -> Result<()> {
	let recipients = to
		.iter()
		.map(|r| r.parse::<Recipient>().map_err(|e| anyhow!("{r}: {e}")))
		.collect::<Result<Vec<_>>>()?;
	let input = fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
	let n = write_atomically(output, |out| {
		Ok(datacoop_envelope::encrypt(
			&recipients,
			input,
			std::io::BufWriter::new(out),
			&parallelism(one_core),
		)?)
	})?;
	cli.print(json!({"output": output, "bytes": n}), || {
		format!("encrypted into {} ({n} bytes)", output.display())
	});
	Ok(())
}

fn decrypt_to(
	input: fs::File,
	identities: &[Identity],
	output: &Path,
	one_core: bool,
) -> Result<u64> {
	write_atomically(output, |out| {
		datacoop_envelope::decrypt(
			identities,
			BufReader::new(input),
			std::io::BufWriter::new(out),
			&parallelism(one_core),
		)
		.map_err(|e| anyhow!("cannot decrypt: {e}"))
	})
}

/// Decrypts a contribution into `output`, without the statement the wallet put before the
/// data (what was contributed is the file, byte for byte).
fn decrypt_contribution_to(input: fs::File, identities: &[Identity], output: &Path) -> Result<u64> {
	use std::io::{Read, Write};
	write_atomically(output, |out| {
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
		let mut out = std::io::BufWriter::new(out);
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

async fn dao(cli: &Cli, command: &DaoCommand) -> Result<()> {
	let client = chain::connect(&cli.url).await?;
	let at = chain::at(&client).await?;
	match command {
		DaoCommand::List => {
			let next = chain::next_dao_id(&at).await?;
			let mut rows = Vec::new();
			for id in 0..next {
				if let Some(d) = chain::dao(&at, id).await? {
					rows.push(dao_json(id, &d));
				}
			}
			cli.print(Value::Array(rows.clone()), || {
				if rows.is_empty() {
					return "no DAOs yet".into();
				}
				rows.iter()
					.map(|d| {
						format!(
							"#{:<4} {:<10} {:<8} {}",
							d["id"],
							d["token_symbol"].as_str().unwrap_or(""),
							d["status"].as_str().unwrap_or(""),
							d["name"].as_str().unwrap_or("")
						)
					})
					.collect::<Vec<_>>()
					.join("\n")
			});
		},
		DaoCommand::Show { id } => {
			let d = chain::dao(&at, *id)
				.await?
				.ok_or_else(|| anyhow!("there is no DAO #{id}: see `datacoop dao list`"))?;
			let v = dao_json(*id, &d);
			cli.print(v.clone(), || serde_json::to_string_pretty(&v).unwrap_or_default());
		},
		DaoCommand::Create(c) => {
			let account = cli.account()?;
			let key: Recipient =
				c.collective_key.parse().map_err(|e| anyhow!("--collective-key: {e}"))?;
			let signer = if let Some(hex) = c.signer.strip_prefix("0x") {
				let mut b = [0u8; 32];
				hex::decode_to_slice(hex, &mut b)
					.map_err(|_| anyhow!("--signer: 0x + 64 hex digits, or an SS58 address"))?;
				b
			} else {
				parse_address(&c.signer)?.0
			};
			let measurement: BlobHash =
				c.measurement.parse().map_err(|_| anyhow!("--measurement: 0x + 64 hex digits"))?;
			use rt::runtime_types::{
				datacoop_primitives::dao::*, sp_arithmetic::per_things::Permill,
			};
			let tx = rt::transactions().data_daos().create(
				c.name.clone().into_bytes(),
				c.metadata_uri.clone().into_bytes(),
				TokenInfo {
					name: c.token_name.clone().into_bytes(),
					symbol: c.token_symbol.clone().into_bytes(),
				},
				Collective {
					encryption_key: key.to_bytes(),
					attestation_signer: signer,
					endpoint: c.endpoint.clone().into_bytes(),
					measurement: subxt::utils::H256(measurement.0),
				},
				DaoRules {
					min_contribution_size: c.min_size,
					max_contribution_size: c.max_size,
					reward_at_full_score: c.reward,
					min_score: Permill(c.min_score),
					contribution_deposit: c.deposit,
					voting_period: c.voting_period,
					quorum: Permill(c.quorum),
					approval_threshold: Permill(c.approval),
				},
			);
			let events = chain::submit(&client, &tx, &account.keypair).await?;
			let created = events
				.find_first::<rt::data_daos::events::Created>()
				.ok_or_else(|| anyhow!("no Created event"))??;
			cli.print(json!({"id": created.dao_id}), || format!("created DAO #{}", created.dao_id));
		},
	}
	Ok(())
}

fn dao_json(id: u32, d: &chain::Dao) -> Value {
	use rt::runtime_types::datacoop_primitives::dao::DaoStatus;
	json!({
		"id": id,
		"name": chain::text(&d.name.0),
		"metadata_uri": chain::text(&d.metadata_uri.0),
		"token_name": chain::text(&d.token.name.0),
		"token_symbol": chain::text(&d.token.symbol.0),
		"admin": d.admin.to_string(),
		"status": match d.status { DaoStatus::Active => "active", DaoStatus::Retired => "retired" },
		"collective": {
			"encryption_key": Recipient::from_bytes(d.collective.encryption_key).to_string(),
			"attestation_signer": format!("0x{}", hex::encode(d.collective.attestation_signer)),
			"endpoint": chain::text(&d.collective.endpoint.0),
			"measurement": format!("{:?}", d.collective.measurement),
		},
		"rules": {
			"min_contribution_size": d.rules.min_contribution_size,
			"max_contribution_size": d.rules.max_contribution_size,
			"reward_at_full_score": d.rules.reward_at_full_score.to_string(),
			"min_score": permill(d.rules.min_score.0),
			"contribution_deposit": coop(d.rules.contribution_deposit),
		},
		"created_at": d.created_at,
	})
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

async fn contribute(cli: &Cli, file: &Path, dao_id: u32, wait: u64) -> Result<()> {
	// Opened once, before anything else: a missing or unreadable file fails at once, and
	// what is encrypted is the file whose size was checked.
	let input = fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
	let meta = input.metadata().with_context(|| format!("cannot read {}", file.display()))?;
	if !meta.is_file() {
		bail!("{} is not a file", file.display());
	}
	let account = cli.account()?;
	let client = chain::connect(&cli.url).await?;
	let at = chain::at(&client).await?;
	let dao = chain::dao(&at, dao_id)
		.await?
		.ok_or_else(|| anyhow!("there is no DAO #{dao_id}: see `datacoop dao list`"))?;
	if matches!(dao.status, rt::runtime_types::datacoop_primitives::dao::DaoStatus::Retired) {
		bail!("DAO #{dao_id} is retired and takes no new contributions");
	}
	let recipients = [
		Recipient::from_bytes(dao.collective.encryption_key),
		account.contribution_identity().to_public(),
	];
	// The statement inside the data: it is mine, for this DAO on this chain. Whoever copies
	// the ciphertext and submits it first is judged Invalid by the collective server.
	let statement = Statement {
		genesis_hash: at
			.genesis_hash()
			.ok_or_else(|| anyhow!("the node names no genesis"))?
			.0
			.into(),
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
	let storage = StorageClient::new(&cli.storage)?;
	let journal_file = journal_path(&account.address(), dao_id, file, &meta)?;
	let mut known: Option<Journal> =
		fs::read(&journal_file).ok().and_then(|b| serde_json::from_slice(&b).ok());

	// Another account may submit my ciphertext before me (it is public in the pool and in
	// storage). Its contribution is judged Invalid; mine needs a ciphertext of its own:
	// encrypted again (a fresh file key), it is. Once is all it should take; a few times, at most.
	let mut tries = 0;
	let (upload, id) = loop {
		tries += 1;
		let upload = match known.take() {
			Some(j) if storage.size(&j.hash).await.map_err(storage_error)? == Some(j.size) => {
				if !cli.json {
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
				let bar = progress_bar(cli.json, size);
				let tick = bar.clone();
				let stream = reader_stream(reader, 1 << 20).inspect(move |chunk| {
					if let Ok(c) = chunk {
						tick.inc(c.len() as u64)
					}
				});
				// The upload token is signed by the account that contributes.
				let uploader = AccountUploader(&account.keypair);
				let stored = storage.post(&uploader, stream, size).await;
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
			if !cli.json {
				eprintln!(
					"the ciphertext {} was submitted by {by} first; encrypting it again",
					upload.hash
				);
			}
			let _ = fs::remove_file(&journal_file);
			Ok(())
		};
		let at = chain::at(&client).await?;
		if let Some(id) = chain::contribution_by_ciphertext(&at, dao_id, upload.hash.0).await? {
			let c = chain::contribution(&at, id)
				.await?
				.ok_or_else(|| anyhow!("contribution #{id} vanished"))?;
			// Only a contribution of mine is adopted.
			if c.contributor == account.account_id() {
				break (upload, id);
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
				let id = events
					.find_first::<rt::contributions::events::Submitted>()
					.ok_or_else(|| anyhow!("no Submitted event"))??
					.contribution_id;
				break (upload, id);
			},
			// Taken between the look-up and the submission (the other one is not final yet).
			Err(e) if e.to_string().contains("DuplicateCiphertext") => {
				taken("another account")?;
				continue;
			},
			Err(e) => return Err(e),
		}
	};
	let deadline = Instant::now() + Duration::from_secs(wait);
	let record = loop {
		let c = chain::contribution(&chain::at(&client).await?, id)
			.await?
			.ok_or_else(|| anyhow!("contribution #{id} vanished"))?;
		if !matches!(c.status, ContributionStatus::Pending) || Instant::now() >= deadline {
			break c;
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	};
	let v = contribution_json(id, &record);
	cli.print(v.clone(), || {
		format!(
			"contribution #{id} to DAO #{dao_id}: {} ({} bytes at {})",
			describe(&v),
			upload.size,
			upload.url
		)
	});
	Ok(())
}

/// Signs storage upload tokens with the wallet's account (sr25519, as for transactions).
struct AccountUploader<'a>(&'a subxt_signer::sr25519::Keypair);

impl datacoop_storage::Uploader for AccountUploader<'_> {
	fn account(&self) -> [u8; 32] {
		self.0.public_key().0
	}

	fn sign(&self, message: &[u8]) -> [u8; 64] {
		self.0.sign(message).0
	}
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

fn contribution_json(id: u64, c: &chain::Contribution) -> Value {
	let status = match &c.status {
		ContributionStatus::Pending => json!({"status": "pending"}),
		ContributionStatus::Accepted { scores, reward, at } => json!({
			"status": "accepted", "reward": reward.to_string(), "at": at,
			"scores": {"authenticity": permill(scores.authenticity.0), "ownership": permill(scores.ownership.0),
				"quality": permill(scores.quality.0), "uniqueness": permill(scores.uniqueness.0), "overall": permill(scores.overall.0)},
		}),
		ContributionStatus::Rejected { scores, reason, slashed, at } => json!({
			"status": "rejected", "reason": chain::text(&reason.0), "slashed": coop(*slashed), "at": at,
			"overall": permill(scores.overall.0),
		}),
	};
	let mut v = json!({
		"id": id, "dao": c.dao_id, "url": chain::text(&c.url.0),
		"ciphertext_hash": format!("{:?}", c.ciphertext_hash), "size": c.ciphertext_size,
		"submitted_at": c.submitted_at,
	});
	if let (Value::Object(a), Value::Object(b)) = (&mut v, status) {
		a.extend(b);
	}
	v
}

fn describe(v: &Value) -> String {
	match v["status"].as_str() {
		Some("accepted") => format!(
			"accepted, overall score {}, {} tokens minted",
			v["scores"]["overall"].as_str().unwrap_or("?"),
			v["reward"].as_str().unwrap_or("?")
		),
		Some("rejected") => format!("rejected: {}", v["reason"].as_str().unwrap_or("")),
		_ => "pending (waiting for the DAO's collective server)".into(),
	}
}

async fn contributions(cli: &Cli) -> Result<()> {
	let who = cli.account_id()?;
	let client = chain::connect(&cli.url).await?;
	let at = chain::at(&client).await?;
	let mut rows = Vec::new();
	for id in chain::contributions_of(&at, &who).await? {
		if let Some(c) = chain::contribution(&at, id).await? {
			rows.push(contribution_json(id, &c));
		}
	}
	cli.print(Value::Array(rows.clone()), || {
		if rows.is_empty() {
			return "no contributions yet".into();
		}
		rows.iter()
			.map(|r| {
				format!(
					"#{:<6} DAO #{:<4} {:>12} bytes  {}",
					r["id"],
					r["dao"],
					r["size"],
					describe(r)
				)
			})
			.collect::<Vec<_>>()
			.join("\n")
	});
	Ok(())
}

async fn balance(cli: &Cli, dao: Option<u32>) -> Result<()> {
	let who = cli.account_id()?;
	let client = chain::connect(&cli.url).await?;
	let at = chain::at(&client).await?;
	let native = chain::native_free(&at, &who).await?;
	let daos: Vec<u32> = match dao {
		Some(d) => vec![d],
		None => (0..chain::next_dao_id(&at).await?).collect(),
	};
	let mut tokens = Vec::new();
	for id in daos {
		let Some(d) = chain::dao(&at, id).await? else {
			bail!("there is no DAO #{id}");
		};
		let balance = chain::token_balance(&at, id, &who).await?;
		if balance > 0 || dao.is_some() {
			tokens.push(
				json!({"dao": id, "symbol": chain::text(&d.token.symbol.0), "balance": balance.to_string()}),
			);
		}
	}
	let v = json!({"address": who.to_string(), "native": native.to_string(), "tokens": tokens});
	cli.print(v.clone(), || {
		let mut s = format!("{}: {}", who, coop(native));
		for t in &tokens {
			s.push_str(&format!(
				"\n  DAO #{} {} {}",
				t["dao"],
				t["balance"].as_str().unwrap_or(""),
				t["symbol"].as_str().unwrap_or("")
			));
		}
		s
	});
	Ok(())
}

async fn transfer(cli: &Cli, to: &str, amount: u128, dao: Option<u32>) -> Result<()> {
	let dest = parse_address(to)?;
	if amount == 0 {
		bail!("nothing to send: the amount is 0");
	}
	let account = cli.account()?;
	let client = chain::connect(&cli.url).await?;
	match dao {
		None => {
			let tx = rt::transactions().balances().transfer_keep_alive(dest.clone().into(), amount);
			chain::submit(&client, &tx, &account.keypair).await?;
			cli.print(json!({"to": to, "amount": amount.to_string()}), || {
				format!("sent {} to {to}", coop(amount))
			});
		},
		Some(d) => {
			let tx = rt::transactions().dataset_tokens().transfer(d, dest, amount);
			chain::submit(&client, &tx, &account.keypair).await?;
			cli.print(json!({"to": to, "dao": d, "amount": amount.to_string()}), || {
				format!("sent {amount} of DAO #{d}'s tokens to {to}")
			});
		},
	}
	Ok(())
}

async fn rewards(cli: &Cli, command: &RewardsCommand) -> Result<()> {
	match command {
		RewardsCommand::Show { dao } => {
			let who = cli.account_id()?;
			let client = chain::connect(&cli.url).await?;
			let at = chain::at(&client).await?;
			chain::dao(&at, *dao).await?.ok_or_else(|| anyhow!("there is no DAO #{dao}"))?;
			let c = chain::claimable(&at, *dao, &who).await?;
			cli.print(json!({"dao": dao, "claimable": c.to_string()}), || {
				format!("claimable from DAO #{dao}: {}", coop(c))
			});
		},
		RewardsCommand::Claim { dao } => {
			let account = cli.account()?;
			let client = chain::connect(&cli.url).await?;
			let at = chain::at(&client).await?;
			let before = chain::claimable(&at, *dao, &account.account_id()).await?;
			if before == 0 {
				bail!("nothing to claim from DAO #{dao}");
			}
			let tx = rt::transactions().dataset_tokens().claim_rewards(*dao);
			let events = chain::submit(&client, &tx, &account.keypair).await?;
			let paid = events
				.find_first::<rt::dataset_tokens::events::RewardsClaimed>()
				.transpose()?
				.map(|e| e.amount)
				.unwrap_or(before);
			cli.print(json!({"dao": dao, "claimed": paid.to_string()}), || {
				format!("claimed {} from DAO #{dao}", coop(paid))
			});
		},
	}
	Ok(())
}

/// My contribution `id`, read at the finalized block, for a command only its contributor may
/// run (`doing`: what the command does, for the error).
async fn my_contribution(
	cli: &Cli,
	id: u64,
	doing: &str,
) -> Result<(Account, chain::Client, chain::At, chain::Contribution)> {
	let account = cli.account()?;
	let client = chain::connect(&cli.url).await?;
	let at = chain::at(&client).await?;
	let c = chain::contribution(&at, id)
		.await?
		.ok_or_else(|| anyhow!("there is no contribution #{id}"))?;
	if c.contributor != account.account_id() {
		bail!(
			"contribution #{id} is {}'s, not {}'s: only its contributor can {doing} it",
			c.contributor,
			account.address()
		);
	}
	Ok((account, client, at, c))
}

/// Cancelling takes two steps on chain (see the Contributions pallet): a request once the
/// contribution has been Pending for `PendingTimeout` blocks, then the withdrawal
/// `CancelDelay` blocks later, unless a verdict lands in between. `datacoop cancel ID` does
/// whichever step is due, and says when the next one is.
async fn cancel(cli: &Cli, id: u64) -> Result<()> {
	let (account, client, at, c) = my_contribution(cli, id, "cancel").await?;
	if !matches!(c.status, ContributionStatus::Pending) {
		bail!(
			"contribution #{id} is {}: only a pending contribution can be cancelled",
			describe(&contribution_json(id, &c))
		);
	}
	let now = at.block_number();
	let block_ms = chain::block_time_ms(&at)?;
	let wait = |from: u64| {
		let minutes = ((from - now) * block_ms).div_ceil(60_000);
		format!("block {from}, {} blocks from now (about {minutes} min)", from - now)
	};
	if let Some(from) = chain::cancel_requested(&at, id).await? {
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
		cli.print(
			json!({"contribution": id, "cancelled": true, "deposit": back.to_string()}),
			|| format!("cancelled contribution #{id}; its deposits of {} are back", coop(back)),
		);
		return Ok(());
	}
	// The pallet says the same (TooEarly); checked here to say when instead.
	let timeout = at.constants().entry(rt::constants().contributions().pending_timeout())?;
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
	let withdraw_from = chain::cancel_requested(&chain::at(&client).await?, id)
		.await?
		.ok_or_else(|| anyhow!("contribution #{id}: the cancel request is not on chain"))?;
	cli.print(
		json!({"contribution": id, "cancel_requested": true, "withdraw_from": withdraw_from}),
		|| {
			format!(
				"asked to cancel contribution #{id}: unless its verdict lands first, run \
				 `datacoop cancel {id}` again from {} to take its deposits back",
				wait(withdraw_from)
			)
		},
	);
	Ok(())
}

async fn decrypt_contribution(cli: &Cli, id: u64, output: &Path) -> Result<()> {
	let (account, _, _, c) = my_contribution(cli, id, "decrypt").await?;
	let url = chain::text(&c.url.0);
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
		std::io::Write::write_all(&mut blob, &chunk)?;
	}
	std::io::Seek::rewind(&mut blob)?;
	let n = decrypt_contribution_to(blob, &[account.contribution_identity()], output)?;
	cli.print(json!({"contribution": id, "output": output, "bytes": n}), || {
		format!("decrypted contribution #{id} into {} ({n} bytes)", output.display())
	});
	Ok(())
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
	fn upload_tokens_signed_by_the_account_verify_as_storage_checks_them() {
		let alice = subxt_signer::sr25519::dev::alice();
		let hash = BlobHash::of(b"ciphertext");
		let t = datacoop_storage::UploadToken::sign(
			&AccountUploader(&alice),
			Some(&hash),
			10,
			1_700_000_000,
			[1; 16],
		);
		assert_eq!(t.account, alice.public_key().0);
		t.verify(Some(&hash)).unwrap();
		assert!(t.verify(None).is_err());
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
		assert!(cli.json);
		assert_eq!(cli.account.as_deref(), Some("bob"));
		assert!(matches!(cli.command, Command::Contribute { dao: 3, wait: 10, .. }));
		// global flags go anywhere
		let cli = parse(&["balance", "--url", "ws://x:1", "--json"]).unwrap();
		assert_eq!(cli.url, "ws://x:1");
	}

	#[test]
	fn amounts_read_as_people_write_them() {
		assert_eq!(coop(0), "0 COOP");
		assert_eq!(coop(1_000_000_000_000), "1 COOP");
		assert_eq!(coop(1_500_000_000_000), "1.5 COOP");
		assert_eq!(coop(1), "0.000000000001 COOP");
		assert_eq!(coop(u128::MAX), "340282366920938463463374607.431768211455 COOP");
		assert_eq!(permill(500_000), "50.0%");
	}

	#[test]
	fn bad_addresses_are_refused() {
		assert!(parse_address("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty").is_ok());
		for bad in ["", "bob", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694tz"] {
			assert!(parse_address(bad).is_err(), "{bad}");
		}
	}

	const PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
	const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

	fn run_key(cli: &Cli) -> Result<()> {
		let Command::Key(k) = &cli.command else { panic!("not a key command") };
		key(cli, k)
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
				_ => cli.account().err().and(cli.account_id().err()),
			}
			.unwrap_or_else(|| panic!("{args:?} was accepted"))
			.to_string();
			assert!(err.contains("--secret-file FILE"), "{args:?}: {err}");
			assert!(!err.contains("bottom") && !err.contains("secret-pw"), "echoed: {err}");
		}
		assert!(fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing was stored");
		// Dev accounts are public and stay usable.
		let cli = parse(&["--keystore", keystore, "-a", "//Alice//stash", "balance"]).unwrap();
		assert!(cli.account_id().is_ok());
		run_key(&parse(&["--keystore", keystore, "key", "inspect", "//Alice"]).unwrap()).unwrap();
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
		import("alice").unwrap();
		let ks = Keystore::open(&keystore);
		assert_eq!(ks.address("alice").unwrap(), ALICE);
		assert_eq!(ks.unlock("alice", "pw").unwrap().address(), ALICE);
		fs::write(&secret, "\n").unwrap();
		let err = import("empty").err().unwrap().to_string();
		assert!(err.contains("no secret given"), "{err}");
	}
}
