//! `datacoop-collective`: a DAO's collective server. See the crate docs and the README.
//!
//! - `init`: creates a DAO's keys (sealed) and rules under `--dir`, prints what to register.
//! - `show`: the public keys and measurements of the DAOs under `--dir` (no secret needed).
//! - `run`: serves every DAO under `--dir` over HTTP (see `server`).

use std::{
	num::NonZeroU32,
	path::{Path, PathBuf},
	process::ExitCode,
	sync::Arc,
	time::Duration,
};

use clap::{Args, Parser, Subcommand};
use datacoop_collective::{
	sealed::{self, Sealer, Secrets},
	server::{self, App, Limits, Served, RULES_FILE, SECRETS_FILE},
	Rules,
};
use datacoop_storage::StorageClient;

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
	/// The public keys and measurements of the DAOs under --dir.
	Show,
	/// Serve every DAO under --dir.
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
	/// Fetch blobs from this storage service instead of the host in each contribution's URL
	/// (the hash is checked either way).
	#[arg(long, env = "DATACOOP_COLLECTIVE_STORAGE")]
	storage: Option<String>,
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

fn valid_name(name: &str) -> bool {
	!name.is_empty()
		&& name.len() <= 64
		&& name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn init(cli: &Cli, name: &str, rules_path: &Path, seal: &Seal) -> Result<(), String> {
	if !valid_name(name) {
		return Err(format!("--name {name:?}: use 1 to 64 letters, digits, - or _"));
	}
	let text = std::fs::read(rules_path).map_err(|e| format!("{}: {e}", rules_path.display()))?;
	let rules: Rules =
		serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", rules_path.display()))?;
	rules.check().map_err(|e| format!("{}: {e}", rules_path.display()))?;
	let dir = server::dao_dir(&cli.dir, name);
	if dir.join(SECRETS_FILE).exists() {
		return Err(format!(
			"{} already holds DAO {name:?}'s keys; choose another --name",
			dir.display()
		));
	}
	let sealer = sealer(seal, true)?;
	std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
	std::fs::write(dir.join(RULES_FILE), serde_json::to_vec_pretty(&rules).expect("serializable"))
		.map_err(|e| format!("{}: {e}", dir.display()))?;
	let public = Secrets::generate()
		.and_then(|s| s.seal(&dir.join(SECRETS_FILE), &sealer))
		.map_err(|e| e.to_string())?;
	let binary = server::binary_hash().map_err(|e| format!("hashing this program: {e}"))?;
	print_dao(cli, name, &public, &server::measurement(&binary, &rules), true);
	Ok(())
}

fn show(cli: &Cli) -> Result<(), String> {
	let binary = server::binary_hash().map_err(|e| format!("hashing this program: {e}"))?;
	let names = server::dao_names(&cli.dir).map_err(|e| format!("{}: {e}", cli.dir.display()))?;
	if names.is_empty() && !cli.json {
		println!("No DAO under {} (datacoop-collective init)", cli.dir.display());
	}
	let mut all = Vec::new();
	for name in names {
		let dir = server::dao_dir(&cli.dir, &name);
		let public = sealed::public(&dir.join(SECRETS_FILE)).map_err(|e| e.to_string())?;
		let rules: Rules = std::fs::read(dir.join(RULES_FILE))
			.map_err(|e| e.to_string())
			.and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
			.map_err(|e| format!("{}: {e}", dir.join(RULES_FILE).display()))?;
		let m = server::measurement(&binary, &rules);
		if cli.json {
			all.push(dao_json(&name, &public, &m));
		} else {
			print_dao(cli, &name, &public, &m, false);
		}
	}
	if cli.json {
		println!("{}", serde_json::Value::Array(all));
	}
	Ok(())
}

fn dao_json(name: &str, public: &sealed::Public, measurement: &[u8; 32]) -> serde_json::Value {
	serde_json::json!({
		"name": name,
		"encryption_key": public.encryption_key,
		"attestation_signer": public.attestation_signer,
		"measurement": format!("0x{}", hex::encode(measurement)),
	})
}

fn print_dao(cli: &Cli, name: &str, public: &sealed::Public, measurement: &[u8; 32], new: bool) {
	if cli.json {
		println!("{}", dao_json(name, public, measurement));
		return;
	}
	let m = format!("0x{}", hex::encode(measurement));
	println!("DAO {name:?} in {}", server::dao_dir(&cli.dir, name).display());
	println!("  encryption key      {}", public.encryption_key);
	println!("  attestation signer  {}", public.attestation_signer);
	println!("  measurement         {m}");
	if new {
		println!(
			"Register it on chain, e.g.: datacoop dao create --name … --token-name … --token-symbol … \
			 --collective-key {} --signer {} --measurement {m} --endpoint http://HOST:9950",
			public.encryption_key, public.attestation_signer
		);
	}
}

async fn serve(cli: &Cli, run: &Run) -> Result<(), String> {
	let names = server::dao_names(&cli.dir).map_err(|e| format!("{}: {e}", cli.dir.display()))?;
	if names.is_empty() {
		return Err(format!(
			"no DAO under {}: run datacoop-collective init first",
			cli.dir.display()
		));
	}
	let sealer = sealer(&run.seal, false)?;
	let binary = server::binary_hash().map_err(|e| format!("hashing this program: {e}"))?;
	let mut daos = Vec::new();
	for name in &names {
		let served = Served::open(&cli.dir, name, &sealer, &binary)?;
		tracing::info!(
			dao = %name,
			signer = %format!("0x{}", hex::encode(served.signer)),
			measurement = %format!("0x{}", hex::encode(served.measurement)),
			"unsealed"
		);
		daos.push(served);
	}
	let storage = match &run.storage {
		Some(base) => Some(StorageClient::new(base).map_err(|e| e.to_string())?),
		None => None,
	};
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
	};
	let app = Arc::new(App::new(daos, run.url.clone(), storage, limits));
	let listener = tokio::net::TcpListener::bind(run.listen).await.map_err(|e| {
		format!("cannot listen on {}: {e} (is another service using it? --listen)", run.listen)
	})?;
	let address = listener.local_addr().map_err(|e| e.to_string())?;
	tracing::info!("serving {} DAO(s) on http://{address} (node {})", names.len(), run.url);
	server::serve(listener, app, datacoop_storage::shutdown_signal())
		.await
		.map_err(|e| format!("serving: {e}"))?;
	tracing::info!("stopped");
	Ok(())
}
