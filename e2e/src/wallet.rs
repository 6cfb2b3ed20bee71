//! The `datacoop` wallet binary run as a user runs it, in a home of its own.

use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::bins::binary;

/// The wallet pointed at one node and one storage service, with its keystore and data in a
/// temporary home and a fixed keystore password.
pub struct Wallet {
	/// The node (`ws://…`).
	pub url: String,
	/// The storage service (`http://…`).
	pub storage: String,
	/// Keystore and data.
	pub home: tempfile::TempDir,
}

impl Wallet {
	/// A wallet for the node at `url` and the storage at `storage`, in a new home.
	pub fn new(url: String, storage: String) -> Wallet {
		Wallet { url, storage, home: tempfile::tempdir().expect("a temporary directory") }
	}

	/// `datacoop ARGS` with this wallet's environment (stdin closed).
	pub fn command(&self, args: &[&str]) -> Command {
		let mut c = Command::new(binary("datacoop"));
		c.args(args)
			.env("DATACOOP_URL", &self.url)
			.env("DATACOOP_STORAGE", &self.storage)
			.env("DATACOOP_KEYSTORE", self.home.path().join("keys"))
			.env("XDG_DATA_HOME", self.home.path().join("data"))
			.env("DATACOOP_PASSWORD", "correct horse")
			.env_remove("DATACOOP_ACCOUNT")
			.stdin(Stdio::null());
		c
	}

	/// Runs `datacoop ARGS` to completion.
	pub fn run(&self, args: &[&str]) -> Output {
		self.command(args).output().expect("the wallet runs")
	}

	/// Runs with `--json` and parses the output; panics with stderr if it failed.
	pub fn json(&self, args: &[&str]) -> Value {
		let mut all = args.to_vec();
		all.push("--json");
		let out = self.run(&all);
		assert!(
			out.status.success(),
			"datacoop {args:?} failed: {}",
			String::from_utf8_lossy(&out.stderr)
		);
		serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
			panic!("datacoop {args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
		})
	}

	/// Runs expecting failure; returns the one error line.
	pub fn fails(&self, args: &[&str]) -> String {
		let out = self.run(args);
		let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
		assert!(!out.status.success(), "datacoop {args:?} should fail");
		assert!(!stderr.contains("panicked"), "{stderr}");
		let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
		assert_eq!(lines.len(), 1, "one line expected: {stderr}");
		assert!(lines[0].starts_with("Error: "), "{stderr}");
		lines[0].to_owned()
	}

	/// Imports the secret URI `suri` (e.g. `//Bob`) under `name`, as a user types it.
	pub fn import(&self, name: &str, suri: &str) {
		use std::io::Write;
		let mut import = self.command(&["key", "import", "--name", name]);
		import.stdin(Stdio::piped()).stdout(Stdio::null());
		let mut child = import.spawn().expect("the wallet runs");
		child
			.stdin
			.as_mut()
			.expect("piped")
			.write_all(format!("{suri}\n").as_bytes())
			.expect("stdin");
		assert!(child.wait().expect("the wallet runs").success(), "datacoop key import failed");
	}
}

/// The `datacoop-storage` binary on a local directory, with a 64 MiB blob limit.
pub fn start_storage(dir: &std::path::Path) -> (crate::Process, String) {
	let mut c = Command::new(binary("datacoop-storage"));
	c.args(["--listen", "127.0.0.1:0", "--max-size", "64MiB", "--store"]).arg(dir);
	crate::Process::serving(c).expect("datacoop-storage serves")
}
