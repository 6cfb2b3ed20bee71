//! `datacoop-metadata --url ws://127.0.0.1:9944 [-o FILE]`: writes the runtime's metadata
//! (v15, SCALE-encoded `RuntimeMetadataPrefixed`: the bytes `subxt metadata` writes) to FILE or
//! stdout. `scripts/refresh-metadata.sh` uses it to refresh and check
//! `artifacts/datacoop.scale`, from which datacoop-client generates the chain's types. It does
//! not use those types, so it builds when they are stale.

use std::{io::Write, path::PathBuf, process::ExitCode};

use clap::Parser;
use codec::{Decode, Encode};
use subxt::{config::RpcConfigFor, PolkadotConfig};
use subxt_rpcs::{methods::LegacyRpcMethods, RpcClient};

#[derive(Parser)]
#[command(about = "Writes a Datacoop node's runtime metadata (SCALE, v15) to a file or stdout")]
struct Args {
	/// The node's RPC endpoint.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// The metadata version.
	#[arg(long, default_value_t = 15)]
	version: u32,
	/// Where to write it (stdout if not given).
	#[arg(short, long)]
	output: Option<PathBuf>,
}

/// The metadata at `version`, from the `Metadata_metadata_at_version` runtime call, which
/// answers `Option<OpaqueMetadata>` (`OpaqueMetadata` encodes as `Vec<u8>`).
async fn metadata(url: &str, version: u32) -> Result<Vec<u8>, String> {
	let client = RpcClient::from_insecure_url(url).await.map_err(|e| format!("{url}: {e}"))?;
	let rpc = LegacyRpcMethods::<RpcConfigFor<PolkadotConfig>>::new(client);
	let answer = rpc
		.state_call("Metadata_metadata_at_version", Some(&version.encode()), None)
		.await
		.map_err(|e| format!("{url}: {e}"))?;
	Option::<Vec<u8>>::decode(&mut &answer[..])
		.map_err(|e| format!("{url}: not metadata: {e}"))?
		.ok_or_else(|| format!("{url}: the runtime does not serve metadata v{version}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
	let args = Args::parse();
	let result = async {
		let bytes = metadata(&args.url, args.version).await?;
		match &args.output {
			Some(path) => std::fs::write(path, &bytes)
				.map_err(|e| format!("cannot write {}: {e}", path.display())),
			None => std::io::stdout().write_all(&bytes).map_err(|e| format!("stdout: {e}")),
		}
	}
	.await;
	match result {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("Error: {e}");
			ExitCode::FAILURE
		},
	}
}
