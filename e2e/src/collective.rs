//! The `datacoop-collective` binary as the tests run it: on a directory of key sets, sealed
//! under a key file.

use std::{path::Path, process::Command};

use serde_json::Value;

use crate::binary;

/// `datacoop-collective --dir dir`, its key sets sealed under the key in file `key`; the
/// caller adds the subcommand.
pub fn command(dir: &Path, key: &Path) -> Command {
	let mut c = Command::new(binary("datacoop-collective"));
	c.arg("--dir").arg(dir).env("DATACOOP_COLLECTIVE_KEY_FILE", key);
	c
}

/// Key set `name`'s consent to serve the DAO `admin` (SS58) creates next on the chain at
/// `url`, as `prove --next --admin … --json` prints it (`key_proof`, `dao`, `admin`).
pub fn key_proof_for_next(dir: &Path, key: &Path, name: &str, url: &str, admin: &str) -> Value {
	let out = command(dir, key)
		.args(["prove", "--name", name, "--next", "--admin", admin, "--json", "--url", url])
		.output()
		.expect("datacoop-collective runs");
	assert!(out.status.success(), "prove: {}", String::from_utf8_lossy(&out.stderr));
	serde_json::from_slice(&out.stdout).expect("prove --json prints JSON")
}
