//! Interoperability with the reference `age` tool (Debian package `age`, which
//! scripts/lib.sh installs): what we encrypt, `age -d` decrypts, and the reverse; keys
//! made by either are read by the other.

use std::{
	fs,
	io::Write,
	path::{Path, PathBuf},
	process::{Command, Stdio},
};

use datacoop_envelope::{decrypt, encrypt, Identity, Parallelism, Recipient, CHUNK};

fn tool(name: &str) -> Command {
	let found = Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success());
	assert!(
		found,
		"`{name}` is not installed: install the Debian package `age` (scripts/test.sh does)"
	);
	Command::new(name)
}

fn scratch(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("envelope-interop-{}-{name}", std::process::id()));
	fs::create_dir_all(&dir).unwrap();
	dir
}

fn run(cmd: &mut Command) -> Vec<u8> {
	let out = cmd.stderr(Stdio::piped()).output().unwrap();
	assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
	out.stdout
}

fn write_identity(dir: &Path, identity: &Identity) -> PathBuf {
	let path = dir.join("key.txt");
	fs::write(&path, format!("{}\n", identity.to_bech32().as_str())).unwrap();
	path
}

fn sizes() -> [usize; 5] {
	[0, 1, CHUNK, 3 * CHUNK + 17, 70 * CHUNK]
}

fn data(len: usize) -> Vec<u8> {
	(0..len).map(|i| (i % 253) as u8 ^ (i >> 16) as u8).collect()
}

#[test]
fn age_decrypts_what_we_encrypt() {
	let dir = scratch("ours-to-age");
	let me = Identity::generate().unwrap();
	let key = write_identity(&dir, &me);
	for len in sizes() {
		let plain = data(len);
		let sealed_path = dir.join("sealed.age");
		let mut sealed = fs::File::create(&sealed_path).unwrap();
		encrypt(&[me.to_public()], &plain[..], &mut sealed, &Parallelism::AllCores).unwrap();
		sealed.flush().unwrap();
		let out = run(tool("age").arg("-d").arg("-i").arg(&key).arg(&sealed_path));
		assert!(out == plain, "{len} bytes");
	}
	fs::remove_dir_all(dir).unwrap();
}

#[test]
fn we_decrypt_what_age_encrypts() {
	let dir = scratch("age-to-ours");
	let me = Identity::generate().unwrap();
	let other: Recipient = Identity::generate().unwrap().to_public();
	for len in sizes() {
		let plain = data(len);
		let plain_path = dir.join("plain");
		fs::write(&plain_path, &plain).unwrap();
		// Two recipients: ours second, so the first stanza is someone else's.
		let sealed = run(tool("age")
			.arg("-r")
			.arg(other.to_string())
			.arg("-r")
			.arg(me.to_public().to_string())
			.arg(&plain_path));
		let mut out = Vec::new();
		decrypt(std::slice::from_ref(&me), &sealed[..], &mut out, &Parallelism::AllCores).unwrap();
		assert!(out == plain, "{len} bytes");
	}
	fs::remove_dir_all(dir).unwrap();
}

#[test]
fn keys_made_by_either_are_read_by_the_other() {
	let dir = scratch("keys");
	// age-keygen's identity, read by us: the same recipient as age-keygen -y prints.
	let key = dir.join("theirs.txt");
	run(tool("age-keygen").arg("-o").arg(&key));
	let text = fs::read_to_string(&key).unwrap();
	let secret = text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-1")).unwrap();
	let theirs: Identity = secret.parse().unwrap();
	let public = String::from_utf8(run(tool("age-keygen").arg("-y").arg(&key))).unwrap();
	assert_eq!(theirs.to_public().to_string(), public.trim());
	// Ours, read by age-keygen.
	let mine = Identity::generate().unwrap();
	let path = write_identity(&dir, &mine);
	let public = String::from_utf8(run(tool("age-keygen").arg("-y").arg(&path))).unwrap();
	assert_eq!(mine.to_public().to_string(), public.trim());
	fs::remove_dir_all(dir).unwrap();
}
