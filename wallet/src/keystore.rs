//! Accounts on disk, encrypted with a password.
//!
//! One JSON file per account, `<dir>/<name>.json`, mode 0600, written atomically (temporary
//! file, fsync, rename). It holds the account's address in clear and its secret URI (a
//! mnemonic, maybe with `//hard/soft` derivation and `///password`, or a dev URI such as
//! `//Alice`) sealed with XChaCha20-Poly1305 under a key stretched from the password by scrypt
//! with `age`'s passphrase cost (N = 2^18, r = 8, p = 1: 256 MiB and 0.9 to 1.1 s per unlock
//! on a busy 2-core machine, against 0.1 s for N = 2^15; measured with this module's tests),
//! so every guess costs as much. Each file records its own cost: files written with N = 2^15
//! by earlier wallets still open. The name and address are authenticated too: a file
//! edited to show another address does not open.
//!
//! Secrets never come from the command line, where `ps` and shell history show them: `key
//! import` reads one line from standard input or a file ([`read_secret`]), and `--account`
//! takes an account name or a public `//Name` dev URI, nothing else ([`is_dev_uri`]).
//! Passwords, secret URIs and the keys derived from them are zeroized when dropped. (Copies
//! made inside `subxt_signer` while deriving the sr25519 key are out of our reach.)
//!
//! The sr25519 keys come from `subxt_signer`, which derives exactly as polkadot.js does: the
//! same URI gives the same SS58 address in both.
//!
//! The X25519 key that opens one's own contributions is derived from the same secret:
//! HKDF-SHA256 of the secret URI with the account's public key as salt. So an account imported
//! anywhere from its URI decrypts its contributions, and nothing more needs backing up.

use std::{
	fs,
	io::{Read, Write},
	path::{Path, PathBuf},
};

use anyhow::{anyhow, bail, Context, Result};
use chacha20poly1305::{aead::Aead, KeyInit, XChaCha20Poly1305, XNonce};
use datacoop_envelope::Identity;
use subxt::utils::AccountId32;
use subxt_signer::{sr25519::Keypair, SecretUri};
use zeroize::Zeroizing;

/// scrypt cost of new files: `age`'s for passphrases (log2 N = 18).
const SCRYPT_LOG_N: u8 = 18;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// Most scrypt memory (128 * r * N bytes) a keystore file may ask for when it is opened.
const SCRYPT_MAX_MEMORY: u64 = 1 << 30;

/// Longest secret line read: a 24-word mnemonic is under 250 bytes; derivation paths and a
/// `///password` fit with room to spare.
pub const MAX_SECRET: usize = 4096;

/// Why a secret on the command line is refused, and how to give it instead.
pub const SECRET_NOT_ON_COMMAND_LINE: &str = "a mnemonic or secret URI must not be on the command line (`ps` and shell history show it): import it with `datacoop key import --name NAME`, which reads one line from standard input or from --secret-file FILE, then pass --account NAME (a keystore name: 1 to 64 letters, digits, '-', '_' or '.'; or a public //Name dev account)";

/// An account ready to sign, with its secret URI.
pub struct Account {
	pub name: String,
	pub keypair: Keypair,
	uri: Zeroizing<String>,
}

impl Account {
	/// An account from a secret URI (checked: a URI subxt cannot derive is refused).
	pub fn from_uri(name: &str, uri: &str) -> Result<Account> {
		let parsed: SecretUri = uri.trim().parse().map_err(|e| anyhow!("not a secret URI: {e}"))?;
		let keypair =
			Keypair::from_uri(&parsed).map_err(|e| anyhow!("not a usable secret URI: {e}"))?;
		Ok(Account { name: name.into(), keypair, uri: Zeroizing::new(uri.trim().to_owned()) })
	}

	pub fn account_id(&self) -> AccountId32 {
		self.keypair.public_key().into()
	}

	/// The SS58 address (prefix 42), as polkadot.js shows it.
	pub fn address(&self) -> String {
		self.account_id().to_string()
	}

	/// The X25519 identity that opens this account's contributions (see the module docs).
	pub fn contribution_identity(&self) -> Identity {
		Identity::for_contributions(&self.keypair.public_key().0, &self.uri)
	}
}

/// The account signs requests to services (storage upload tokens, the collective server's
/// access requests) as it signs transactions: sr25519 with the `substrate` context, which is
/// what `datacoop_auth::verify` checks.
impl datacoop_auth::Signer for Account {
	fn account(&self) -> [u8; 32] {
		self.keypair.public_key().0
	}

	fn sign(&self, message: &[u8]) -> [u8; 64] {
		self.keypair.sign(message).0
	}
}

#[derive(serde::Serialize, serde::Deserialize)]
struct File {
	version: u32,
	name: String,
	address: String,
	kdf: String,
	log_n: u8,
	r: u32,
	p: u32,
	salt: String,
	cipher: String,
	nonce: String,
	ciphertext: String,
}

/// The keystore directory.
pub struct Keystore {
	dir: PathBuf,
}

/// An account as listed (no password needed).
#[derive(serde::Serialize)]
pub struct Listed {
	pub name: String,
	pub address: String,
}

fn valid_name(name: &str) -> Result<()> {
	let ok = !name.is_empty()
		&& name.len() <= 64
		&& name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
		&& !name.starts_with('.');
	if ok {
		Ok(())
	} else {
		bail!("{name:?} is not an account name: 1 to 64 letters, digits, '-', '_' or '.'")
	}
}

fn stretch(password: &str, salt: &[u8], log_n: u8, r: u32, p: u32) -> Result<Zeroizing<[u8; 32]>> {
	let params = scrypt::Params::new(log_n, r, p, 32)
		.map_err(|e| anyhow!("keystore scrypt parameters: {e}"))?;
	let mut key = Zeroizing::new([0u8; 32]);
	scrypt::scrypt(password.as_bytes(), salt, &params, key.as_mut())
		.map_err(|e| anyhow!("scrypt: {e}"))?;
	Ok(key)
}

fn associated_data(name: &str, address: &str) -> Vec<u8> {
	format!("datacoop keystore v1\n{name}\n{address}").into_bytes()
}

impl Keystore {
	pub fn open(dir: &Path) -> Keystore {
		Keystore { dir: dir.to_owned() }
	}

	fn path(&self, name: &str) -> PathBuf {
		self.dir.join(format!("{name}.json"))
	}

	/// Seals `uri` under `password` as account `name`. Refuses to overwrite an account.
	pub fn add(&self, name: &str, uri: &str, password: &str) -> Result<Account> {
		valid_name(name)?;
		if password.is_empty() {
			bail!("an empty password would leave the key unprotected: choose one");
		}
		let account = Account::from_uri(name, uri)?;
		let path = self.path(name);
		if path.exists() {
			bail!(
				"there is already an account named {name:?} ({}): pick another --name",
				path.display()
			);
		}
		let mut salt = [0u8; 32];
		let mut nonce = [0u8; 24];
		getrandom::getrandom(&mut salt).map_err(|e| anyhow!("no randomness: {e}"))?;
		getrandom::getrandom(&mut nonce).map_err(|e| anyhow!("no randomness: {e}"))?;
		let key = stretch(password, &salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)?;
		let cipher = XChaCha20Poly1305::new(key.as_ref().into());
		let address = account.address();
		let aad = associated_data(name, &address);
		let sealed = cipher
			.encrypt(
				XNonce::from_slice(&nonce),
				chacha20poly1305::aead::Payload { msg: account.uri.as_bytes(), aad: &aad },
			)
			.map_err(|_| anyhow!("sealing the key failed"))?;
		let file = File {
			version: 1,
			name: name.into(),
			address,
			kdf: "scrypt".into(),
			log_n: SCRYPT_LOG_N,
			r: SCRYPT_R,
			p: SCRYPT_P,
			salt: hex::encode(salt),
			cipher: "xchacha20poly1305".into(),
			nonce: hex::encode(nonce),
			ciphertext: hex::encode(sealed),
		};
		fs::create_dir_all(&self.dir)
			.with_context(|| format!("cannot create the keystore {}", self.dir.display()))?;
		write_private(&self.dir, &path, &serde_json::to_vec_pretty(&file)?)?;
		Ok(account)
	}

	fn read(&self, name: &str) -> Result<File> {
		valid_name(name)?;
		let path = self.path(name);
		let bytes = match fs::read(&path) {
			Ok(b) => b,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
				"no account named {name:?} in {}: see `datacoop key list`, or create one with `datacoop key generate`",
				self.dir.display()
			),
			Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
		};
		serde_json::from_slice(&bytes)
			.with_context(|| format!("{} is not a datacoop keystore file", path.display()))
	}

	/// Opens account `name` with `password`.
	pub fn unlock(&self, name: &str, password: &str) -> Result<Account> {
		let file = self.read(name)?;
		if file.version != 1 || file.kdf != "scrypt" || file.cipher != "xchacha20poly1305" {
			bail!("account {name:?} is in a keystore format this wallet does not know");
		}
		// Bound the work a crafted file can ask for (at most 1 GiB of scrypt, 4 passes).
		if file.log_n > 20
			|| file.r > 16
			|| file.p > 4
			|| (128 * u64::from(file.r)) << file.log_n > SCRYPT_MAX_MEMORY
		{
			bail!("account {name:?}: keystore parameters out of range");
		}
		let salt = hex::decode(&file.salt).context("keystore salt")?;
		let nonce: [u8; 24] = hex::decode(&file.nonce)
			.ok()
			.and_then(|n| n.try_into().ok())
			.ok_or_else(|| anyhow!("account {name:?}: bad nonce in the keystore file"))?;
		let sealed = hex::decode(&file.ciphertext).context("keystore ciphertext")?;
		let key = stretch(password, &salt, file.log_n, file.r, file.p)?;
		let cipher = XChaCha20Poly1305::new(key.as_ref().into());
		let aad = associated_data(&file.name, &file.address);
		let uri =
			Zeroizing::new(
				cipher
					.decrypt(
						XNonce::from_slice(&nonce),
						chacha20poly1305::aead::Payload { msg: &sealed, aad: &aad },
					)
					.map_err(|_| {
						anyhow!("wrong password for account {name:?} (or the keystore file was altered)")
					})?,
			);
		let uri =
			std::str::from_utf8(&uri).map_err(|_| anyhow!("account {name:?}: corrupt secret"))?;
		let account = Account::from_uri(name, uri)?;
		if account.address() != file.address {
			bail!("account {name:?}: the key does not match the address on file");
		}
		Ok(account)
	}

	/// The address of `name`, without unlocking it.
	pub fn address(&self, name: &str) -> Result<String> {
		Ok(self.read(name)?.address)
	}

	pub fn list(&self) -> Result<Vec<Listed>> {
		let mut out = Vec::new();
		let entries = match fs::read_dir(&self.dir) {
			Ok(e) => e,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
			Err(e) => return Err(e).with_context(|| format!("cannot read {}", self.dir.display())),
		};
		for entry in entries {
			let path = entry?.path();
			let Some(name) =
				path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json"))
			else {
				continue;
			};
			if let Ok(file) = self.read(name) {
				out.push(Listed { name: file.name, address: file.address });
			}
		}
		out.sort_by(|a, b| a.name.cmp(&b.name));
		Ok(out)
	}
}

/// Whether an account argument (`--account`, `key inspect NAME`) is a dev URI such as
/// `//Alice` or `//Alice//stash` (false: a keystore name). Dev URIs derive from the
/// well-known dev phrase, so they are public; anything else that is not a keystore name (a
/// mnemonic, a hex seed, a `///password`) is a secret and refused, without repeating it.
pub fn is_dev_uri(arg: &str) -> Result<bool> {
	if arg.starts_with("//") && !arg.contains("///") && !arg.contains(char::is_whitespace) {
		return Ok(true);
	}
	if valid_name(arg).is_ok() {
		return Ok(false);
	}
	bail!("{SECRET_NOT_ON_COMMAND_LINE}")
}

/// The first line of `input` (without its line end), for a secret URI or a password read
/// from a pipe or a file; `what` names the source in errors. Reads at most
/// [`MAX_SECRET`] + 1 bytes into one buffer allocated once and zeroized: a growing buffer
/// would leave copies of the secret in freed memory, and an endless input is cut short.
pub fn read_secret(mut input: impl Read, what: &str) -> Result<Zeroizing<String>> {
	let mut buf = Zeroizing::new(vec![0u8; MAX_SECRET + 1]);
	let mut len = 0;
	while !buf[..len].contains(&b'\n') {
		if len == buf.len() {
			bail!("{what}: the first line is longer than {MAX_SECRET} bytes");
		}
		match input.read(&mut buf[len..]) {
			Ok(0) => break,
			Ok(n) => len += n,
			Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {},
			Err(e) => return Err(e).with_context(|| format!("cannot read {what}")),
		}
	}
	let line = buf[..len].split(|b| *b == b'\n').next().unwrap_or_default();
	let line = line.strip_suffix(b"\r").unwrap_or(line);
	let line = std::str::from_utf8(line).map_err(|_| anyhow!("{what}: not UTF-8 text"))?;
	Ok(Zeroizing::new(line.to_owned()))
}

/// The secret for `key import` from standard input: typed at a prompt that does not echo it
/// when standard input is a terminal, else its first line, read past the standard library's
/// buffer (which would keep a copy) on Unix.
pub fn read_secret_from_stdin() -> Result<Zeroizing<String>> {
	use std::io::IsTerminal;
	let stdin = std::io::stdin();
	if stdin.is_terminal() {
		return rpassword::prompt_password("mnemonic or secret URI (not shown): ")
			.map(Zeroizing::new)
			.context("cannot read the secret from the terminal");
	}
	#[cfg(unix)]
	let stdin = {
		use std::os::fd::AsFd;
		fs::File::from(stdin.as_fd().try_clone_to_owned().context("cannot read standard input")?)
	};
	read_secret(stdin, "standard input")
}

/// Writes `bytes` to `path` so that it is whole or absent, readable by its owner only.
fn write_private(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
	let tmp = dir.join(format!(".{}.tmp", std::process::id()));
	let mut options = fs::OpenOptions::new();
	options.write(true).create_new(true);
	#[cfg(unix)]
	std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
	let result = (|| -> std::io::Result<()> {
		let mut f = options.open(&tmp)?;
		f.write_all(bytes)?;
		f.sync_all()?;
		// no replace: a concurrent `add` of the same name loses instead of overwriting
		fs::hard_link(&tmp, path)?;
		fs::File::open(dir)?.sync_all()
	})();
	let _ = fs::remove_file(&tmp);
	result.with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn round_trip_and_wrong_password() {
		let dir = tempfile::tempdir().unwrap();
		let ks = Keystore::open(dir.path());
		let added = ks.add("alice", "//Alice", "pw").unwrap();
		// polkadot.js: //Alice is 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY
		assert_eq!(added.address(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
		let opened = ks.unlock("alice", "pw").unwrap();
		assert_eq!(opened.address(), added.address());
		assert_eq!(
			opened.contribution_identity().to_public(),
			added.contribution_identity().to_public()
		);
		let err = ks.unlock("alice", "PW").err().unwrap().to_string();
		assert!(err.contains("wrong password"), "{err}");
		assert!(ks.add("alice", "//Bob", "pw").is_err(), "no overwrite");
		assert_eq!(ks.list().unwrap().len(), 1);
		assert!(ks.unlock("nobody", "pw").err().unwrap().to_string().contains("no account"));
		for bad in ["", "../x", ".hidden", "a/b"] {
			assert!(ks.add(bad, "//Eve", "pw").is_err(), "{bad:?}");
		}
		assert!(ks.add("empty", "//Eve", "").is_err());
		assert!(ks.add("junk", "not a mnemonic at all", "pw").is_err());
	}

	#[test]
	fn an_edited_address_does_not_open() {
		let dir = tempfile::tempdir().unwrap();
		let ks = Keystore::open(dir.path());
		ks.add("a", "//Alice", "pw").unwrap();
		let path = dir.path().join("a.json");
		let text = fs::read_to_string(&path).unwrap();
		let bob = Account::from_uri("b", "//Bob").unwrap().address();
		fs::write(&path, text.replace("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", &bob))
			.unwrap();
		assert!(ks.unlock("a", "pw").is_err());
	}

	#[test]
	fn new_files_use_the_age_scrypt_cost() {
		let dir = tempfile::tempdir().unwrap();
		let ks = Keystore::open(dir.path());
		ks.add("a", "//Alice", "pw").unwrap();
		let file = ks.read("a").unwrap();
		assert_eq!((file.log_n, file.r, file.p), (18, 8, 1));
		assert_eq!(ks.unlock("a", "pw").unwrap().address(), ALICE);
	}

	/// `//Alice` sealed under "old password" at the former cost (N = 2^15), written by an
	/// independent implementation (Python: hashlib.scrypt, HChaCha20 + ChaCha20-Poly1305).
	const OLD_FILE: &str = r#"{
		"version": 1, "name": "old",
		"address": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
		"kdf": "scrypt", "log_n": 15, "r": 8, "p": 1,
		"salt": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"cipher": "xchacha20poly1305",
		"nonce": "6465666768696a6b6c6d6e6f707172737475767778797a7b",
		"ciphertext": "1f4461135d684ecd9de92f06312e05dde4de0b763ded6e"
	}"#;
	/// polkadot.js's address of //Alice.
	const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

	#[test]
	fn files_written_at_the_old_cost_still_open() {
		let dir = tempfile::tempdir().unwrap();
		fs::write(dir.path().join("old.json"), OLD_FILE).unwrap();
		let ks = Keystore::open(dir.path());
		assert_eq!(ks.unlock("old", "old password").unwrap().address(), ALICE);
		assert!(ks.unlock("old", "new password").is_err());
	}

	#[test]
	fn a_file_asking_for_too_much_scrypt_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let ks = Keystore::open(dir.path());
		// 2^20 with r = 16 is 2 GiB; 2^21 is refused whatever r.
		for (log_n, r) in [(20, 16), (21, 1), (60, 16)] {
			let edited = OLD_FILE
				.replace("\"log_n\": 15", &format!("\"log_n\": {log_n}"))
				.replace("\"r\": 8", &format!("\"r\": {r}"));
			fs::write(dir.path().join("old.json"), edited).unwrap();
			let err = ks.unlock("old", "old password").err().unwrap().to_string();
			assert!(err.contains("out of range"), "{log_n} {r}: {err}");
		}
	}

	#[test]
	fn a_secret_is_one_bounded_line() {
		fn read(input: &[u8]) -> Result<String> {
			read_secret(input, "input").map(|s| s.as_str().to_owned())
		}
		assert_eq!(read(b"//Bob\n").unwrap(), "//Bob");
		assert_eq!(read(b"//Bob").unwrap(), "//Bob");
		assert_eq!(read(b"//Bob\r\nmore lines\n").unwrap(), "//Bob");
		assert_eq!(read(b" pass word \n").unwrap(), " pass word ", "passwords keep their spaces");
		assert_eq!(read(b"").unwrap(), "");
		assert_eq!(read(&[b'a'; MAX_SECRET]).unwrap().len(), MAX_SECRET);
		assert!(read(b"\xff\n").is_err());
		// An endless input (`--secret-file /dev/zero`, a stuck pipe) stops after the bound.
		let err = read_secret(std::io::repeat(b'a'), "input").err().unwrap().to_string();
		assert!(err.contains("longer than 4096 bytes"), "{err}");
	}

	#[test]
	fn only_dev_uris_and_names_are_account_arguments() {
		for dev in ["//Alice", "//Alice//stash", "//Bob/soft"] {
			assert!(is_dev_uri(dev).unwrap(), "{dev}");
		}
		for name in ["bob", "my-key_2.old"] {
			assert!(!is_dev_uri(name).unwrap(), "{name}");
		}
		let phrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
		let seed = format!("0x{}", "ab".repeat(32));
		for secret in [
			phrase.to_owned(),
			format!("{phrase}//Alice"),
			format!("{phrase}///pw"),
			"//Alice///password".to_owned(),
			seed,
		] {
			let err = is_dev_uri(&secret).err().unwrap().to_string();
			assert!(err.contains("--secret-file"), "{err}");
			assert!(!err.contains(&secret) && !err.contains("bottom"), "echoes the secret: {err}");
		}
	}

	#[test]
	fn the_mnemonic_gives_the_polkadot_js_address() {
		// The well-known dev phrase; polkadot.js gives //Alice's address for "<phrase>//Alice".
		let phrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
		let a = Account::from_uri("x", &format!("{phrase}//Alice")).unwrap();
		assert_eq!(a.address(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
		let root = Account::from_uri("x", phrase).unwrap();
		assert_eq!(root.address(), "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV");
	}
}
