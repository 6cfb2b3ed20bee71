//! What the wallet's end-to-end tests share: the `datacoop` binary run as a user runs it,
//! and the other binaries of the workspace (storage, collective server) started beside it.

#![allow(dead_code)] // each test file uses its own part

use std::{
	io::{BufRead, BufReader},
	path::{Path, PathBuf},
	process::{Child, Command, Output, Stdio},
};

use serde_json::Value;

pub struct Wallet {
	pub url: String,
	pub storage: String,
	pub home: tempfile::TempDir,
}

impl Wallet {
	pub fn command(&self, args: &[&str]) -> Command {
		let mut c = Command::new(env!("CARGO_BIN_EXE_datacoop"));
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

	pub fn run(&self, args: &[&str]) -> Output {
		self.command(args).output().unwrap()
	}

	/// Runs and parses `--json` output; panics with stderr if it failed.
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
}

/// A binary of this workspace beside this package's `datacoop` (cargo builds them all into
/// the same directory when it tests the workspace, as scripts/test.sh does).
pub fn sibling(name: &str) -> PathBuf {
	let bin = Path::new(env!("CARGO_BIN_EXE_datacoop")).with_file_name(name);
	assert!(
		bin.exists(),
		"{} is missing: run `cargo build --release -p {}` (or test the whole workspace)",
		bin.display(),
		if name == "datacoop-storage" { "datacoop-storage" } else { "datacoop-collective" }
	);
	bin
}

/// A running service, killed when dropped.
pub struct Service(Child);

impl Service {
	/// Stops it as an operator would (SIGKILL: nothing may depend on a clean stop).
	pub fn kill(mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

impl Drop for Service {
	fn drop(&mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

/// Starts `command` and waits for its "… on http://ADDR" log line; returns it and the URL.
pub fn start_service(mut command: Command) -> (Service, String) {
	let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
	let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
	let url = loop {
		let line = match lines.next() {
			Some(line) => line.unwrap(),
			None => panic!("{command:?} exited before serving"),
		};
		if let Some(at) = line.find("on http://") {
			break line[at + 3..].split_whitespace().next().unwrap().to_owned();
		}
	};
	std::thread::spawn(move || for _ in lines {});
	(Service(child), url)
}

/// The `datacoop-storage` binary on a local directory.
pub fn start_storage(dir: &Path) -> (Service, String) {
	let mut c = Command::new(sibling("datacoop-storage"));
	c.args(["--listen", "127.0.0.1:0", "--max-size", "64MiB", "--store"]).arg(dir);
	start_service(c)
}

pub fn write_file(dir: &Path, name: &str, len: usize) -> PathBuf {
	let path = dir.join(name);
	// not all zeros, not repetitive
	let data: Vec<u8> = (0..len).map(|i| ((i * 7919) ^ (i >> 8)) as u8).collect();
	std::fs::write(&path, data).unwrap();
	path
}
