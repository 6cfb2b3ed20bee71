//! `datacoop-storage`: the encrypted blob store, over HTTP; `datacoop-storage gc` removes the
//! blobs no contribution on chain references. See the crate docs and docs/storage.md.

use std::{net::SocketAddr, process::ExitCode, sync::Arc, time::Duration};

use clap::{Args as ClapArgs, Parser, Subcommand};
use datacoop_storage::{
	gc::{self, Chain, GcOptions, Outcome, RpcDeadlines},
	limits::Limits,
	server::{self, UploadTimeouts},
	Store,
};

#[derive(Parser, Debug)]
#[command(
	name = "datacoop-storage",
	version,
	about = "Keeps contribution ciphertexts under their BLAKE2-256 hash, over HTTP.",
	args_conflicts_with_subcommands = true
)]
struct Cli {
	#[command(subcommand)]
	command: Option<Command>,
	#[command(flatten)]
	serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
	/// Remove blobs older than the grace period that no contribution on chain references.
	Gc(GcArgs),
}

#[derive(ClapArgs, Debug)]
struct StoreArg {
	/// Where blobs are kept: a directory (or file://DIR), s3://BUCKET/PREFIX (credentials,
	/// region and endpoint from AWS_* variables), or memory:// (lost at exit).
	#[arg(long, env = "DATACOOP_STORAGE_STORE", default_value = "./datacoop-storage")]
	store: String,
}

/// Serving (no subcommand).
#[derive(ClapArgs, Debug)]
struct ServeArgs {
	/// Address and port to listen on.
	#[arg(long, env = "DATACOOP_STORAGE_LISTEN", default_value = "127.0.0.1:9900")]
	listen: SocketAddr,
	#[command(flatten)]
	store: StoreArg,
	/// The largest blob accepted, e.g. 4GiB or 500MB. On S3 at most 5GiB (a server-side copy
	/// names blobs uploaded without their hash).
	#[arg(long, env = "DATACOOP_STORAGE_MAX_SIZE", default_value = "4GiB")]
	max_size: bytesize::ByteSize,
	/// Bytes one account may upload per --quota-window.
	#[arg(long, env = "DATACOOP_STORAGE_QUOTA", default_value = "2GiB")]
	quota: bytesize::ByteSize,
	/// The period of --quota, e.g. 24h.
	#[arg(long, env = "DATACOOP_STORAGE_QUOTA_WINDOW", default_value = "24h", value_parser = humantime::parse_duration)]
	quota_window: Duration,
	/// Uploads one account may start per minute.
	#[arg(long, env = "DATACOOP_STORAGE_UPLOADS_PER_MINUTE", default_value_t = 20)]
	uploads_per_minute: u32,
	/// Accounts whose uploads are tracked at once; when full, accounts not tracked are refused
	/// (503) until tracked ones' quota windows end.
	#[arg(long, env = "DATACOOP_STORAGE_MAX_ACCOUNTS", default_value_t = 10_000)]
	max_accounts: usize,
	/// Upload requests one IP address may make per minute, before its token is checked
	/// (0: no limit; behind a reverse proxy every request comes from the proxy's address).
	#[arg(long, env = "DATACOOP_STORAGE_ADDRESS_RATE", default_value_t = 120)]
	upload_requests_per_address: u32,
	/// An upload that sends no byte for this long is cut off, and nothing of it kept.
	#[arg(long, env = "DATACOOP_STORAGE_READ_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
	read_timeout: Duration,
	/// An upload must finish within max(--upload-time-floor, size / --min-upload-rate).
	#[arg(long, env = "DATACOOP_STORAGE_UPLOAD_TIME_FLOOR", default_value = "60s", value_parser = humantime::parse_duration)]
	upload_time_floor: Duration,
	/// Per second; see --upload-time-floor.
	#[arg(long, env = "DATACOOP_STORAGE_MIN_UPLOAD_RATE", default_value = "64KiB")]
	min_upload_rate: bytesize::ByteSize,
	/// A web page's origin (e.g. http://127.0.0.1:9980) whose scripts may upload and read
	/// blobs from a browser (CORS); repeat for several, or `*` for any. None by default.
	#[arg(long = "cors-origin", env = "DATACOOP_STORAGE_CORS_ORIGINS", value_delimiter = ',')]
	cors_origins: Vec<String>,
}

#[derive(ClapArgs, Debug)]
struct GcArgs {
	#[command(flatten)]
	store: StoreArg,
	/// The RPC endpoint of a node of the chain (http://, or ws:// which the same port serves).
	#[arg(long, env = "DATACOOP_URL", default_value = "http://127.0.0.1:9944")]
	node: String,
	/// Only blobs last uploaded longer ago than this are considered, e.g. 24h: the time a
	/// contributor has between uploading and submitting.
	#[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
	grace: Duration,
	/// Print what would be removed; remove nothing.
	#[arg(long)]
	dry_run: bool,
	/// The chain's genesis hash (0x…): refuse to run against a node of another chain, which
	/// would see no contribution at all.
	#[arg(long, env = "DATACOOP_STORAGE_GENESIS")]
	genesis: Option<String>,
	/// The deadline of each RPC request to the node.
	#[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
	rpc_timeout: Duration,
}

fn main() -> ExitCode {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
		)
		.with_writer(std::io::stderr)
		.init();
	let cli = Cli::parse();
	let runtime = match tokio::runtime::Runtime::new() {
		Ok(r) => r,
		Err(e) => return fail(format!("cannot start: {e}")),
	};
	let result = match cli.command {
		Some(Command::Gc(args)) => runtime.block_on(collect(args)),
		None => runtime.block_on(run(cli.serve)),
	};
	match result {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => fail(e),
	}
}

fn fail(message: String) -> ExitCode {
	eprintln!("Error: {message}");
	ExitCode::FAILURE
}

async fn run(args: ServeArgs) -> Result<(), String> {
	// Checked before anything is opened or created.
	let cors = server::Cors::parse(&args.cors_origins)?;
	let location = &args.store.store;
	if location.starts_with("s3://") && args.max_size.as_u64() > 5 << 30 {
		return Err(format!(
			"--max-size {} is above S3's 5 GiB limit for a server-side copy",
			args.max_size
		));
	}
	if args.min_upload_rate.as_u64() == 0 {
		return Err("--min-upload-rate must be above 0".into());
	}
	let store = Store::open(location).await.map_err(|e| format!("cannot open the store {e}"))?;
	let listener = tokio::net::TcpListener::bind(args.listen).await.map_err(|e| {
		format!("cannot listen on {}: {e} (is another service using it? --listen)", args.listen)
	})?;
	let address = listener.local_addr().map_err(|e| e.to_string())?;
	let limits = Limits {
		quota: args.quota.as_u64(),
		quota_window: args.quota_window,
		uploads_per_minute: args.uploads_per_minute,
		max_accounts: args.max_accounts,
		requests_per_minute_per_address: args.upload_requests_per_address,
		..Limits::default()
	};
	let timeouts = UploadTimeouts {
		read: args.read_timeout,
		floor: args.upload_time_floor,
		min_rate: args.min_upload_rate.as_u64(),
	};
	tracing::info!(
		"serving {location} on http://{address} (largest blob {}, quota {} per {} per account)",
		args.max_size,
		args.quota,
		humantime::format_duration(args.quota_window)
	);
	let service = Arc::new(
		server::Service::new(store, args.max_size.as_u64(), limits, timeouts).with_cors(cors),
	);
	server::serve(listener, service, datacoop_storage::shutdown_signal())
		.await
		.map_err(|e| format!("serving: {e}"))?;
	tracing::info!("stopped");
	Ok(())
}

async fn collect(args: GcArgs) -> Result<(), String> {
	let location = &args.store.store;
	let store = Store::open(location).await.map_err(|e| format!("cannot open the store {e}"))?;
	let deadlines = RpcDeadlines { request: args.rpc_timeout, ..RpcDeadlines::default() };
	let chain = Chain::new(&args.node, deadlines).map_err(|e| e.to_string())?;
	chain.check(args.genesis.as_deref()).await.map_err(|e| format!("{e} (--node)"))?;
	let options = GcOptions { grace: args.grace, dry_run: args.dry_run, concurrency: 8 };
	let verb = if args.dry_run { "would remove" } else { "removed" };
	let report = gc::collect(&store, &chain, options, |blob, outcome| match outcome {
		Outcome::Removed => println!("{verb} {} ({} bytes)", blob.hash, blob.size),
		Outcome::Kept(why) => println!("kept {} on doubt: {why}", blob.hash),
		_ => {},
	})
	.await
	.map_err(|e| e.to_string())?;
	let done = if args.dry_run { "to remove" } else { "removed" };
	eprintln!(
		"{} blobs: {} {done} ({} bytes), {} referenced on chain, {} within the grace period, \
		 {} uploaded again meanwhile, {} kept on doubt",
		report.examined,
		report.removed,
		report.removed_bytes,
		report.referenced,
		report.young,
		report.renewed,
		report.kept_on_error
	);
	if report.kept_on_error > 0 {
		return Err(format!("{} blobs were kept on doubt (see above)", report.kept_on_error));
	}
	Ok(())
}
