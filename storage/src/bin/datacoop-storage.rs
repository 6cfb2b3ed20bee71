//! `datacoop-storage`: the encrypted blob store, over HTTP. See the crate docs and README.

use std::{net::SocketAddr, process::ExitCode, sync::Arc};

use clap::Parser;
use datacoop_storage::{server, Store};

#[derive(Parser, Debug)]
#[command(
	name = "datacoop-storage",
	version,
	about = "Keeps contribution ciphertexts under their BLAKE2-256 hash, over HTTP."
)]
struct Args {
	/// Address and port to listen on.
	#[arg(long, env = "DATACOOP_STORAGE_LISTEN", default_value = "127.0.0.1:9900")]
	listen: SocketAddr,
	/// Where blobs are kept: a directory (or file://DIR), s3://BUCKET/PREFIX (credentials,
	/// region and endpoint from AWS_* variables), or memory:// (lost at exit).
	#[arg(long, env = "DATACOOP_STORAGE_STORE", default_value = "./datacoop-storage")]
	store: String,
	/// The largest blob accepted, e.g. 4GiB or 500MB. On S3 at most 5GiB (a server-side copy
	/// names blobs uploaded without their hash).
	#[arg(long, env = "DATACOOP_STORAGE_MAX_SIZE", default_value = "4GiB")]
	max_size: bytesize::ByteSize,
}

fn main() -> ExitCode {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
		)
		.with_writer(std::io::stderr)
		.init();
	let args = Args::parse();
	let runtime = match tokio::runtime::Runtime::new() {
		Ok(r) => r,
		Err(e) => return fail(format!("cannot start: {e}")),
	};
	match runtime.block_on(run(args)) {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => fail(e),
	}
}

fn fail(message: String) -> ExitCode {
	eprintln!("Error: {message}");
	ExitCode::FAILURE
}

async fn run(args: Args) -> Result<(), String> {
	if args.store.starts_with("s3://") && args.max_size.as_u64() > 5 << 30 {
		return Err(format!(
			"--max-size {} is above S3's 5 GiB limit for a server-side copy",
			args.max_size
		));
	}
	let store = Store::open(&args.store).await.map_err(|e| format!("cannot open the store {e}"))?;
	let listener = tokio::net::TcpListener::bind(args.listen).await.map_err(|e| {
		format!("cannot listen on {}: {e} (is another service using it? --listen)", args.listen)
	})?;
	let address = listener.local_addr().map_err(|e| e.to_string())?;
	tracing::info!("serving {} on http://{address} (largest blob {})", args.store, args.max_size);
	let service = Arc::new(server::Service { store, max_size: args.max_size.as_u64() });
	server::serve(listener, service, datacoop_storage::shutdown_signal())
		.await
		.map_err(|e| format!("serving: {e}"))?;
	tracing::info!("stopped");
	Ok(())
}
