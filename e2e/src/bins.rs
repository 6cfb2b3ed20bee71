//! Where the workspace's binaries are: the one locator every test and tool uses.

use std::path::PathBuf;

/// The binary `name` of this workspace (`datacoop-node`, `datacoop`, `datacoop-storage`,
/// `datacoop-collective`, ...), built in release. `$DATACOOP_NODE` overrides the node (the
/// scripts pass it); the others are looked up beside the running test: cargo puts test
/// executables in `<target>/release/deps/` and binaries in `<target>/release/`, whatever the
/// target directory is. Outside a test (the load generator), the target directory the scripts
/// use (`$CARGO_TARGET_DIR`, else `~/.cache/datacoop-target`).
///
/// Panics with what to run if the binary is missing: a test cannot go on without it.
pub fn binary(name: &str) -> PathBuf {
	if name == "datacoop-node" {
		if let Some(path) = std::env::var_os("DATACOOP_NODE") {
			return PathBuf::from(path);
		}
	}
	let beside_test = std::env::current_exe()
		.ok()
		.and_then(|exe| Some(exe.parent()?.parent()?.join(name)))
		.filter(|path| path.exists());
	let path = beside_test.unwrap_or_else(|| target_dir().join("release").join(name));
	assert!(
		path.exists(),
		"{} is missing: build the workspace first (scripts/test.sh does, or `cargo build \
		 --release --workspace --bins --tests`)",
		path.display()
	);
	path
}

/// The cargo target directory the scripts use.
pub fn target_dir() -> PathBuf {
	std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
		let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/root".into());
		home.join(".cache/datacoop-target")
	})
}

/// The repository's root (for scripts). Read when the test runs (`cargo test` sets
/// `CARGO_MANIFEST_DIR`), not when it is compiled: clones share one target directory, and cargo
/// reuses a test binary built in another clone, whose compile-time path may be gone.
pub fn repo_root() -> PathBuf {
	let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
	// Tests of any crate run with their own manifest dir; every crate sits one level below the
	// root.
	manifest.parent().expect("every crate sits in the repository root").to_path_buf()
}
