//! One type for every program a test starts: a [`Process`] logs to a file, can be waited on
//! until it serves, and is killed when dropped.

use std::{
	net::TcpListener,
	path::PathBuf,
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

/// A loopback TCP port nobody listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.and_then(|l| l.local_addr())
		.map(|a| a.port())
		.expect("the loopback interface has free ports")
}

/// A running program, killed (SIGKILL) when dropped: nothing may depend on a clean stop.
pub struct Process {
	child: Child,
	name: String,
	log: PathBuf,
}

impl Process {
	/// Starts `command` with stdout discarded and stderr (where our programs log) written to a
	/// file of its own, read by [`Process::log`].
	pub fn start(mut command: Command) -> Result<Process> {
		let name =
			command.get_program().to_string_lossy().rsplit('/').next().unwrap_or("").to_owned();
		// A file of its own, created exclusively (never another process's log, never through
		// a symlink left in /tmp); kept if the test fails (see Drop).
		let (file, log) = tempfile::Builder::new()
			.prefix(&format!("datacoop-e2e-{name}-"))
			.suffix(".log")
			.tempfile()?
			.keep()
			.map_err(|e| e.error)?;
		let child = command
			.stdin(Stdio::null())
			.stdout(Stdio::null())
			.stderr(file)
			.spawn()
			.with_context(|| format!("cannot start {command:?}"))?;
		Ok(Process { child, name, log })
	}

	/// Starts `command` and waits until it logs the address it serves on ("… on
	/// http://ADDR"), as datacoop-storage and datacoop-collective do; returns it with
	/// `http://ADDR`.
	pub fn serving(mut command: Command) -> Result<(Process, String)> {
		// The line waited for is logged at info, whatever RUST_LOG the tests run with.
		command.env("RUST_LOG", "info");
		let mut process = Process::start(command)?;
		let url = process.wait_for_log(Duration::from_secs(60), |log| {
			let at = log.find("on http://")?;
			Some(log[at + 3..].split_whitespace().next()?.to_owned())
		})?;
		Ok((process, url))
	}

	/// Waits until `found` finds what it looks for in the log; fails if the program exits or
	/// `timeout` passes first, with the log in the error.
	pub fn wait_for_log<T>(
		&mut self,
		timeout: Duration,
		found: impl Fn(&str) -> Option<T>,
	) -> Result<T> {
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(t) = found(&self.log()) {
				return Ok(t);
			}
			self.check_running()?;
			if Instant::now() > deadline {
				bail!("{} did not get ready within {timeout:?}:\n{}", self.name, self.log());
			}
			std::thread::sleep(Duration::from_millis(50));
		}
	}

	/// Fails, with the log, if the program has exited.
	pub fn check_running(&mut self) -> Result<()> {
		if let Some(status) = self.child.try_wait()? {
			bail!("{} exited ({status}):\n{}", self.name, self.log());
		}
		Ok(())
	}

	/// What it logged so far (stderr).
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Its process id.
	pub fn id(&self) -> u32 {
		self.child.id()
	}

	/// Asks it to stop (SIGTERM, as systemd or `docker stop` would) and waits for its exit.
	pub fn terminate(mut self) -> Result<std::process::ExitStatus> {
		let pid = self.child.id().to_string();
		Command::new("kill").args(["-TERM", &pid]).status().context("cannot run kill")?;
		Ok(self.child.wait()?)
	}

	/// Stops it as an operator's `kill -9` would.
	pub fn kill(mut self) {
		self.stop();
	}

	fn stop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

impl Drop for Process {
	fn drop(&mut self) {
		self.stop();
		if std::thread::panicking() {
			eprintln!("{}'s log is kept in {}", self.name, self.log.display());
		} else {
			let _ = std::fs::remove_file(&self.log);
		}
	}
}

/// Runs `command` to completion within `timeout`: (exit success, stderr).
pub fn run_to_exit(mut command: Command, timeout: Duration) -> Result<(bool, String)> {
	let mut child =
		command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
	let deadline = Instant::now() + timeout;
	loop {
		if child.try_wait()?.is_some() {
			let out = child.wait_with_output()?;
			return Ok((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()));
		}
		if Instant::now() > deadline {
			let _ = child.kill();
			bail!("{command:?} did not exit within {timeout:?}");
		}
		std::thread::sleep(Duration::from_millis(100));
	}
}
