//! `datacoop-collective`: a DAO's collective server. See the crate docs and the README.
//!
//! - `init`: creates a DAO's keys (sealed) and rules under `--dir`, prints what to register.
//! - `bind`: binds a key set to the on-chain DAO created with it (checked on chain), for good.
//! - `show`: the public keys, measurements and bindings under `--dir` (no secret needed).
//! - `run`: serves every bound key set under `--dir` over HTTP (see `server`).
//!
//! docs/collective.md describes the commands, flags, storage policy, reasons and limits.

use std::{
	num::NonZeroU32,
	path::{Path, PathBuf},
	process::ExitCode,
	sync::Arc,
	time::Duration,
};

use clap::{Args, Parser, Subcommand};
use datacoop_client::{Chain, Error as ChainError};
use datacoop_collective::{
	dao_dir::{self, DaoDir},
	fetch::{Deadlines, HostPolicy},
	measurement,
	sealed::{self, Sealer},
	server::{self, App, BoundKeySet, Limits},
	Rules,
};

#[derive(Parser)]
#[command(
	name = "datacoop-collective",
	version,
	about = "A data DAO's collective server: holds its keys, judges contributions, signs attestations."
)]
struct Cli {
	/// Where the DAOs' sealed keys, rules and indexes are kept.
	#[arg(
		long,
		global = true,
		env = "DATACOOP_COLLECTIVE_DIR",
		default_value = "./datacoop-collective"
	)]
	dir: PathBuf,
	/// Print JSON (init, show).
	#[arg(long, global = true)]
	json: bool,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Create a DAO's encryption key, attestation key and fingerprint key, sealed at rest,
	/// with its proof-of-contribution rules; print the public keys and the measurement to
	/// register on chain.
	Init {
		/// A name for this DAO on this server (a directory name).
		#[arg(long)]
		name: String,
		/// The DAO's rules: a JSON file (see the README).
		#[arg(long)]
		rules: PathBuf,
		#[command(flatten)]
		seal: Seal,
	},
	/// Bind a key set to the on-chain DAO created with its keys, for good: the server judges
	/// that DAO's contributions with it and refuses any other DAO's, even one that registered
	/// the same keys. Checked on chain: the DAO must have registered this key set.
	Bind {
		/// The key set's name (as given to `init`).
		#[arg(long)]
		name: String,
		/// The DAO's id on chain (what `datacoop dao create` printed).
		#[arg(long)]
		dao: u32,
		/// The node's RPC endpoint.
		#[arg(long, env = "DATACOOP_URL", default_value = "ws://127.0.0.1:9944")]
		url: String,
	},
	/// Sign this key set's consent to serve one DAO (the key proof): what `datacoop dao
	/// create` and a proposal's `update-collective` must carry for the chain to register
	/// these keys for that DAO, and for no other. Prints the DAO id and the proof.
	Prove {
		/// The key set's name (as given to `init`).
		#[arg(long)]
		name: String,
		/// The DAO to serve: an existing DAO's id (for `update-collective`).
		#[arg(long, conflicts_with_all = ["next", "admin"], required_unless_present = "next")]
		dao: Option<u32>,
		/// The DAO to serve is the next one created on chain (for `dao create`), by --admin.
		#[arg(long, requires = "admin")]
		next: bool,
		/// With --next: the account that will create the DAO (SS58). The proof holds for its
		/// `dao create` only, so nobody who sees it can register these keys first.
		#[arg(long, requires = "next")]
		admin: Option<String>,
		/// The node's RPC endpoint (the chain's genesis hash is part of the proof).
		#[arg(long, env = "DATACOOP_URL", default_value = "ws://127.0.0.1:9944")]
		url: String,
		#[command(flatten)]
		seal: Seal,
	},
	/// The public keys, measurements and bindings of the DAOs under --dir.
	Show,
	/// Serve every bound key set under --dir.
	Run(Run),
}

#[derive(Args)]
struct Seal {
	/// A file holding the sealing key (64 hex digits); `init` creates it (mode 0600) if it
	/// does not exist.
	#[arg(long, env = "DATACOOP_COLLECTIVE_KEY_FILE", conflicts_with = "passphrase_file")]
	key_file: Option<PathBuf>,
	/// A file whose first line is the sealing passphrase.
	#[arg(long, env = "DATACOOP_COLLECTIVE_PASSPHRASE_FILE")]
	passphrase_file: Option<PathBuf>,
}

#[derive(Args)]
struct Run {
	#[command(flatten)]
	seal: Seal,
	/// The node's RPC endpoint.
	#[arg(long, env = "DATACOOP_URL", default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// Address and port to listen on.
	#[arg(long, env = "DATACOOP_COLLECTIVE_LISTEN", default_value = "127.0.0.1:9950")]
	listen: std::net::SocketAddr,
	/// The storage service blobs are fetched from (its base URL). A contribution whose URL
	/// is not a blob URL there (or on an --allow-storage-host) is judged Invalid, without a
	/// request.
	#[arg(long, env = "DATACOOP_COLLECTIVE_STORAGE")]
	storage: String,
	/// Another storage host blobs may be fetched from, HOST or HOST:PORT (without a port,
	/// the default port of the URL's scheme); repeat for more. None by default.
	#[arg(
		long = "allow-storage-host",
		value_name = "HOST[:PORT]",
		env = "DATACOOP_COLLECTIVE_ALLOW_STORAGE_HOSTS",
		value_delimiter = ','
	)]
	allow_storage_hosts: Vec<String>,
	/// Seconds to connect to storage.
	#[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
	fetch_connect_timeout: u64,
	/// Seconds storage may stay silent (before the answer, between two chunks).
	#[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
	fetch_read_timeout: u64,
	/// Seconds a whole fetch may take; a fetch past it ends and frees its worker, and the
	/// request gets 504 (the contribution stays Pending).
	#[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
	fetch_timeout: u64,
	/// Largest ciphertext judged; larger contributions get 413 and stay Pending.
	#[arg(long, env = "DATACOOP_COLLECTIVE_MAX_SIZE", default_value = "256MiB")]
	max_size: bytesize::ByteSize,
	/// Validations at once (each holds its plaintext in memory). Default: the cores.
	#[arg(long, env = "DATACOOP_COLLECTIVE_WORKERS")]
	workers: Option<usize>,
	/// Validate requests per second per client address...
	#[arg(long, default_value_t = NonZeroU32::new(20).unwrap())]
	rate: NonZeroU32,
	/// ...with bursts of this many.
	#[arg(long, default_value_t = NonZeroU32::new(40).unwrap())]
	burst: NonZeroU32,
	/// Blocks an attestation may wait for inclusion.
	#[arg(long, default_value_t = 20)]
	validity: u32,
	/// Exports streamed at once (each keeps a thread and two cores' worth of crypto busy);
	/// more get 503.
	#[arg(long, env = "DATACOOP_COLLECTIVE_EXPORTS", default_value_t = 2)]
	exports: usize,
}

fn main() -> ExitCode {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
		)
		.with_writer(std::io::stderr)
		.init();
	let cli = Cli::parse();
	let result = match cli.command {
		Command::Init { ref name, ref rules, ref seal } => init(&cli, name, rules, seal),
		Command::Bind { ref name, dao, ref url } => match tokio::runtime::Runtime::new() {
			Ok(runtime) => runtime.block_on(bind(&cli, name, dao, url)),
			Err(e) => Err(format!("cannot start: {e}")),
		},
		Command::Prove { ref name, dao, ref admin, ref url, ref seal, .. } => {
			match tokio::runtime::Runtime::new() {
				Ok(runtime) => {
					runtime.block_on(prove(&cli, name, dao, admin.as_deref(), url, seal))
				},
				Err(e) => Err(format!("cannot start: {e}")),
			}
		},
		Command::Show => show(&cli),
		Command::Run(ref run) => match tokio::runtime::Runtime::new() {
			Ok(runtime) => runtime.block_on(serve(&cli, run)),
			Err(e) => Err(format!("cannot start: {e}")),
		},
	};
	match result {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("Error: {e}");
			ExitCode::FAILURE
		},
	}
}

fn sealer(seal: &Seal, create: bool) -> Result<Sealer, String> {
	match (&seal.key_file, &seal.passphrase_file) {
		(Some(path), _) => Sealer::key_file(path, create).map_err(|e| e.to_string()),
		(None, Some(path)) => Sealer::passphrase_file(path).map_err(|e| e.to_string()),
		(None, None) => Err("the keys are sealed: give --key-file or --passphrase-file".into()),
	}
}

fn binary_hash() -> Result<[u8; 32], String> {
	measurement::binary_hash().map_err(|e| format!("hashing this program: {e}"))
}

fn init(cli: &Cli, name: &str, rules_path: &Path, seal: &Seal) -> Result<(), String> {
	if !dao_dir::valid_name(name) {
		return Err(format!("--name {name:?}: use 1 to 64 letters, digits, - or _"));
	}
	let rules = Rules::read(rules_path).map_err(|e| e.to_string())?;
	let dir = DaoDir::new(&cli.dir, name);
	if dir.holds_keys() {
		return Err(format!(
			"{} already holds DAO {name:?}'s keys; choose another --name",
			dir.path().display()
		));
	}
	let sealer = sealer(seal, true)?;
	let public = dir.init(&rules, &sealer).map_err(|e| e.to_string())?;
	let binary = binary_hash()?;
	print_dao(cli, &dir, &public, &measurement::of(&binary, &rules), None, true);
	Ok(())
}

/// How long `bind` waits for the node.
const BIND_NODE_TIMEOUT: Duration = Duration::from_secs(30);

/// Signs key set `name`'s consent to serve DAO `dao`, or the next DAO created when it is
/// `None` (by `admin`, which clap requires then), on the chain at `url`, and prints it.
async fn prove(
	cli: &Cli,
	name: &str,
	dao: Option<u32>,
	admin: Option<&str>,
	url: &str,
	seal: &Seal,
) -> Result<(), String> {
	use sp_core::{crypto::Ss58Codec, Pair};
	if !dao_dir::valid_name(name) {
		return Err(format!("--name {name:?}: use 1 to 64 letters, digits, - or _"));
	}
	let creator = match (dao, admin) {
		(None, Some(admin)) => Some(
			sp_core::crypto::AccountId32::from_ss58check(admin)
				.map_err(|e| format!("--admin {admin:?}: not an SS58 address ({e:?})"))?,
		),
		(None, None) => return Err("--next needs --admin, the account that creates".into()),
		(Some(_), _) => None,
	};
	let dir = DaoDir::new(&cli.dir, name);
	// A key set serves one DAO for good: consenting to another would let that DAO register
	// keys whose server will never serve it (and the bound DAO's contributors' keys be
	// shown as another's).
	match (dir.bound_dao().map_err(|e| e.to_string())?, dao) {
		(Some(bound), Some(id)) if bound != id => {
			return Err(format!(
				"{name:?} is bound to DAO #{bound}: it consents to serve that DAO only (init another key set for DAO #{id})"
			))
		},
		(Some(bound), None) => {
			return Err(format!(
				"{name:?} is bound to DAO #{bound}: it consents to serve that DAO only (init another key set for a new DAO)"
			))
		},
		_ => {},
	}
	let secrets = dir.secrets(&sealer(seal, false)?).map_err(|e| e.to_string())?;
	let read = async {
		let chain = Chain::connect(url).await?;
		let at = chain.at_best().await?;
		let (dao_id, exists) = match dao {
			Some(id) => (id, at.dao(id).await?.is_some()),
			None => (at.next_dao_id().await?, false),
		};
		Ok::<_, ChainError>((chain.genesis_hash(), dao_id, exists))
	};
	let (genesis, dao_id, exists) = tokio::time::timeout(BIND_NODE_TIMEOUT, read)
		.await
		.map_err(|_| format!("the node at {url} did not answer within {BIND_NODE_TIMEOUT:?}"))?
		.map_err(|e| e.to_string())?;
	// An existing DAO's proof for an id nobody holds yet would serve whoever creates it:
	// they could register these keys through `update_collective`.
	if dao.is_some() && !exists {
		return Err(format!(
			"there is no DAO #{dao_id} on the chain at {url}: for a DAO about to be created, use --next --admin ADDRESS (its creator)"
		));
	}
	let encryption_key = secrets.identity().to_public().to_bytes();
	let payload = match &creator {
		Some(creator) => datacoop_primitives::dao::collective_key_create_payload(
			&genesis,
			creator,
			dao_id,
			&encryption_key,
		),
		None => datacoop_primitives::dao::collective_key_payload(&genesis, dao_id, &encryption_key),
	};
	let proof = format!("0x{}", hex::encode(secrets.attestation_pair().sign(&payload).0));
	let admin = creator.map(|c| c.to_ss58check());
	if cli.json {
		println!(
			"{}",
			serde_json::json!({ "name": name, "dao": dao_id, "admin": admin, "key_proof": proof })
		);
	} else if let Some(admin) = admin {
		println!("key proof of {name:?} for DAO #{dao_id}, created by {admin}: {proof}");
	} else {
		println!("key proof of {name:?} for DAO #{dao_id}: {proof}");
	}
	Ok(())
}

async fn bind(cli: &Cli, name: &str, dao_id: u32, url: &str) -> Result<(), String> {
	if !dao_dir::valid_name(name) {
		return Err(format!("--name {name:?}: use 1 to 64 letters, digits, - or _"));
	}
	let dir = DaoDir::new(&cli.dir, name);
	let public = dir.public().map_err(|e| e.to_string())?;
	match dir.bound_dao().map_err(|e| e.to_string())? {
		Some(bound) if bound == dao_id => {
			println!("{name:?} is bound to DAO #{dao_id}");
			return Ok(());
		},
		Some(bound) => {
			return Err(format!(
				"{name:?} is bound to DAO #{bound}; a key set serves one DAO for good (init another key set for DAO #{dao_id})"
			))
		},
		None => {},
	}
	// The DAO must have registered this very key set: a slip of the id would otherwise
	// leave the right DAO unserved.
	let read = async {
		let chain = Chain::connect(url).await?;
		let dao = chain.at_best().await?.dao(dao_id).await?;
		Ok::<_, ChainError>(dao)
	};
	let dao = tokio::time::timeout(BIND_NODE_TIMEOUT, read)
		.await
		.map_err(|_| format!("the node at {url} did not answer within {BIND_NODE_TIMEOUT:?}"))?
		.map_err(|e| e.to_string())?
		.ok_or_else(|| format!("there is no DAO #{dao_id} on the chain at {url}"))?;
	let signer = format!("0x{}", hex::encode(dao.collective.attestation_signer));
	let encryption: datacoop_envelope::Recipient =
		public.encryption_key.parse().map_err(|e| format!("{}: {e}", dir.path().display()))?;
	if signer != public.attestation_signer || dao.collective.encryption_key != encryption.to_bytes()
	{
		return Err(format!(
			"DAO #{dao_id} registered other keys than {name:?}'s (attestation signer {signer}, this key set's {}): bind the key set to the DAO created with its keys",
			public.attestation_signer
		));
	}
	dir.bind(dao_id).map_err(|e| e.to_string())?;
	let rules = dir.rules().map_err(|e| e.to_string())?;
	if dao.collective.measurement.0 != measurement::of(&binary_hash()?, &rules) {
		eprintln!(
			"Warning: DAO #{dao_id} registered another measurement than this binary and rules report; it will refuse this server's attestations until they match"
		);
	}
	println!("{name:?} is bound to DAO #{dao_id}: `run` serves it for that DAO only");
	Ok(())
}

fn show(cli: &Cli) -> Result<(), String> {
	let binary = binary_hash()?;
	let dirs = DaoDir::all(&cli.dir).map_err(|e| format!("{}: {e}", cli.dir.display()))?;
	if dirs.is_empty() && !cli.json {
		println!("No DAO under {} (datacoop-collective init)", cli.dir.display());
	}
	let mut all = Vec::new();
	for dir in dirs {
		let public = dir.public().map_err(|e| e.to_string())?;
		let rules = dir.rules().map_err(|e| e.to_string())?;
		let m = measurement::of(&binary, &rules);
		let bound = dir.bound_dao().map_err(|e| e.to_string())?;
		if cli.json {
			all.push(dao_json(dir.name(), &public, &m, bound));
		} else {
			print_dao(cli, &dir, &public, &m, bound, false);
		}
	}
	if cli.json {
		println!("{}", serde_json::Value::Array(all));
	}
	Ok(())
}

fn dao_json(
	name: &str,
	public: &sealed::Public,
	measurement: &[u8; 32],
	bound: Option<u32>,
) -> serde_json::Value {
	serde_json::json!({
		"name": name,
		"dao": bound,
		"encryption_key": public.encryption_key,
		"attestation_signer": public.attestation_signer,
		"measurement": format!("0x{}", hex::encode(measurement)),
	})
}

fn print_dao(
	cli: &Cli,
	dir: &DaoDir,
	public: &sealed::Public,
	measurement: &[u8; 32],
	bound: Option<u32>,
	new: bool,
) {
	let name = dir.name();
	if cli.json {
		println!("{}", dao_json(name, public, measurement, bound));
		return;
	}
	let m = format!("0x{}", hex::encode(measurement));
	println!("DAO {name:?} in {}", dir.path().display());
	println!("  encryption key      {}", public.encryption_key);
	println!("  attestation signer  {}", public.attestation_signer);
	println!("  measurement         {m}");
	match bound {
		Some(dao_id) => println!("  serves DAO          #{dao_id}"),
		None => println!(
			"  serves DAO          none yet (datacoop-collective bind --name {name} --dao ID)"
		),
	}
	if new {
		println!(
			"Sign its consent to serve the DAO the creator's account makes next: \
			 datacoop-collective prove --name {name} --next --admin ADDRESS"
		);
		println!(
			"Register it on chain from that account, e.g.: datacoop dao create --name … \
			 --token-name … --token-symbol … --collective-key {} --signer {} --measurement {m} \
			 --endpoint http://HOST:9950 --key-proof 0x…",
			public.encryption_key, public.attestation_signer
		);
		println!(
			"then bind the key set to the DAO's id: datacoop-collective bind --name {name} --dao ID"
		);
	}
}

async fn serve(cli: &Cli, run: &Run) -> Result<(), String> {
	let dirs = DaoDir::all(&cli.dir).map_err(|e| format!("{}: {e}", cli.dir.display()))?;
	if dirs.is_empty() {
		return Err(format!(
			"no DAO under {}: run datacoop-collective init first",
			cli.dir.display()
		));
	}
	let sealer = sealer(&run.seal, false)?;
	let binary = binary_hash()?;
	let mut key_sets = Vec::new();
	for dir in &dirs {
		let name = dir.name();
		// A key set not bound to a DAO serves nothing: it could only be found by the keys a
		// DAO registered, and any DAO can register any keys.
		if dir.bound_dao().map_err(|e| e.to_string())?.is_none() {
			tracing::warn!(
				"{name:?} is not bound to a DAO on chain and serves nothing: datacoop-collective bind --name {name} --dao ID"
			);
			continue;
		}
		let key_set = BoundKeySet::open(dir, &sealer, &binary).map_err(|e| e.to_string())?;
		tracing::info!(
			name = %name,
			dao = key_set.dao_id(),
			signer = %format!("0x{}", hex::encode(key_set.signer)),
			measurement = %format!("0x{}", hex::encode(key_set.measurement)),
			"unsealed"
		);
		key_sets.push(key_set);
	}
	if key_sets.is_empty() {
		return Err(format!(
			"no key set under {} is bound to a DAO: datacoop-collective bind --name NAME --dao ID",
			cli.dir.display()
		));
	}
	let deadlines = Deadlines {
		connect: Duration::from_secs(run.fetch_connect_timeout),
		read: Duration::from_secs(run.fetch_read_timeout),
		total: Duration::from_secs(run.fetch_timeout),
	};
	let policy = HostPolicy::new(&run.storage, &run.allow_storage_hosts, deadlines)
		.map_err(|e| e.to_string())?;
	let workers = run
		.workers
		.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
	let limits = Limits {
		max_ciphertext: run.max_size.as_u64(),
		workers,
		queue_wait: Duration::from_secs(5),
		rate_per_second: run.rate,
		burst: run.burst,
		validity_blocks: run.validity,
		exports: run.exports,
	};
	let served = key_sets.len();
	let app =
		Arc::new(App::new(key_sets, run.url.clone(), policy, limits).map_err(|e| e.to_string())?);
	let listener = tokio::net::TcpListener::bind(run.listen).await.map_err(|e| {
		format!("cannot listen on {}: {e} (is another service using it? --listen)", run.listen)
	})?;
	let address = listener.local_addr().map_err(|e| e.to_string())?;
	tracing::info!(
		"serving {served} DAO(s) on http://{address} (node {}, blobs from {}{})",
		run.url,
		run.storage,
		if run.allow_storage_hosts.is_empty() {
			String::new()
		} else {
			format!(" and {}", run.allow_storage_hosts.join(", "))
		}
	);
	server::serve(listener, app, datacoop_storage::shutdown_signal())
		.await
		.map_err(|e| format!("serving: {e}"))?;
	tracing::info!("stopped");
	Ok(())
}
