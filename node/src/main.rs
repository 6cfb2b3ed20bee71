//! `datacoop-node`: the Datacoop validator binary.

// polkadot-sdk's `sc_cli::Error` and `sc_service::Error`, which every subcommand returns, are
// large; boxing them at each call would only add allocations to start-up paths.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() {
	// Errors a person can act on (bad chain spec, port in use, unusable base path) end in
	// one line and a non-zero exit, not a `Debug` dump.
	if let Err(error) = command::run() {
		// The node's log lines are buffered and flushed by a background thread every 50 ms
		// (sc-tracing's stderr writer). Let it flush, so that this error is the last line.
		std::thread::sleep(std::time::Duration::from_millis(200));
		eprintln!("Error: {}", one_line(&error.to_string()));
		std::process::exit(1);
	}
}

/// Folds a multi-line error message into one line.
fn one_line(message: &str) -> String {
	message.split_whitespace().collect::<Vec<_>>().join(" ")
}
