//! A DAO's secrets at rest: its X25519 decryption key, its sr25519 attestation seed and its
//! fingerprint key, sealed in one JSON file with XChaCha20-Poly1305.
//!
//! The sealing key is either a key file (32 random bytes in hex, which `init` creates with mode
//! 0600 when it does not exist: for a server that starts unattended, with the key file on
//! another volume or in a secrets manager) or a passphrase stretched by scrypt (N = 2^15,
//! r = 8, p = 1). The public keys are kept beside the sealed secrets in clear, so `show` needs
//! no secret, and are authenticated with them: a file edited to show another key does not open.
//!
//! Written here with scrypt + chacha20poly1305 rather than age's scrypt recipient because the
//! envelope implements X25519 recipients only, and one small sealed record needs no STREAM.

use std::{fs, io::Write, path::Path};

use chacha20poly1305::{aead::Aead, KeyInit, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sp_core::{crypto::Pair as _, sr25519};
use zeroize::Zeroizing;

const VERSION: u32 = 1;
const CONTEXT: &[u8] = b"datacoop/collective-secrets/v1";
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// Why secrets could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
	#[error("{0}")]
	Io(String),
	#[error("{path} is not a sealed secrets file: {why}")]
	Format { path: String, why: String },
	#[error("wrong key file or passphrase for {0} (or the file was modified)")]
	WrongKey(String),
	#[error("{0} already exists: refusing to replace a DAO's keys")]
	Exists(String),
	#[error("the system random generator failed: {0}")]
	Random(String),
	#[error("the key file {path}: {why}")]
	KeyFile { path: String, why: String },
}

/// What opens sealed secrets.
pub enum Sealer {
	/// 32 bytes from a key file.
	KeyFile(Zeroizing<[u8; 32]>),
	/// A passphrase, stretched by scrypt.
	Passphrase(Zeroizing<String>),
}

impl Sealer {
	/// The key in `path` (64 hex digits); with `create`, a new random one is written there
	/// (mode 0600) if the file does not exist.
	pub fn key_file(path: &Path, create: bool) -> Result<Sealer, SealError> {
		let fail = |why: String| SealError::KeyFile { path: path.display().to_string(), why };
		if create && !path.exists() {
			let key = Zeroizing::new(random::<32>()?);
			let hex = Zeroizing::new(hex::encode(key.as_ref()));
			write_new(path, hex.as_bytes()).map_err(|e| fail(e.to_string()))?;
			return Ok(Sealer::KeyFile(key));
		}
		let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| fail(e.to_string()))?);
		let mut key = Zeroizing::new([0u8; 32]);
		hex::decode_to_slice(text.trim(), key.as_mut())
			.map_err(|_| fail("not 64 hex digits".into()))?;
		Ok(Sealer::KeyFile(key))
	}

	/// The passphrase in the first line of `path`.
	pub fn passphrase_file(path: &Path) -> Result<Sealer, SealError> {
		let text = Zeroizing::new(
			fs::read_to_string(path)
				.map_err(|e| SealError::Io(format!("{}: {e}", path.display())))?,
		);
		let line = text.lines().next().unwrap_or("");
		if line.is_empty() {
			return Err(SealError::Io(format!("{}: the passphrase is empty", path.display())));
		}
		Ok(Sealer::Passphrase(Zeroizing::new(line.to_owned())))
	}

	fn key(&self, file: &File) -> Result<Zeroizing<[u8; 32]>, SealError> {
		match (self, file.kdf.as_str()) {
			(Sealer::KeyFile(key), "key-file") => Ok(key.clone()),
			(Sealer::Passphrase(pass), "scrypt") => {
				let salt = hex::decode(&file.salt).map_err(|e| SealError::Io(e.to_string()))?;
				let params = scrypt::Params::new(file.log_n, file.r, file.p, 32)
					.map_err(|e| SealError::Io(format!("scrypt parameters: {e}")))?;
				let mut key = Zeroizing::new([0u8; 32]);
				scrypt::scrypt(pass.as_bytes(), &salt, &params, key.as_mut())
					.map_err(|e| SealError::Io(e.to_string()))?;
				Ok(key)
			},
			(Sealer::KeyFile(_), _) => Err(SealError::Io(
				"these secrets are sealed with a passphrase: use --passphrase-file".into(),
			)),
			(Sealer::Passphrase(_), _) => Err(SealError::Io(
				"these secrets are sealed with a key file: use --key-file".into(),
			)),
		}
	}
}

/// The public half, shown to operators and registered on chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Public {
	/// The X25519 key contributions are encrypted to, as age shows it (`age1…`).
	pub encryption_key: String,
	/// The sr25519 attestation key, 0x + 64 hex digits.
	pub attestation_signer: String,
}

/// A DAO's secrets, in memory only (zeroed when dropped).
pub struct Secrets {
	encryption: Zeroizing<[u8; 32]>,
	attestation: Zeroizing<[u8; 32]>,
	fingerprint: Zeroizing<[u8; 32]>,
}

impl Secrets {
	/// New random secrets.
	pub fn generate() -> Result<Secrets, SealError> {
		Ok(Secrets {
			encryption: Zeroizing::new(random()?),
			attestation: Zeroizing::new(random()?),
			fingerprint: Zeroizing::new(random()?),
		})
	}

	/// The identity that decrypts contributions.
	pub fn identity(&self) -> datacoop_envelope::Identity {
		datacoop_envelope::Identity::from_bytes(*self.encryption)
	}

	/// The attestation key pair.
	pub fn attestation_pair(&self) -> sr25519::Pair {
		sr25519::Pair::from_seed(&self.attestation)
	}

	/// The key of fingerprints and MinHash.
	pub fn fingerprint_keys(&self) -> crate::Keys {
		crate::Keys::new(*self.fingerprint)
	}

	/// The root of anonymized copies' pseudonym keys (see
	/// [`PseudonymKey::for_grant`](crate::anonymize::PseudonymKey::for_grant)). Derived from the
	/// fingerprint secret under its own context rather than sealed as a fourth secret, so
	/// existing sealed files keep working; a key of its own, so pseudonyms say nothing about
	/// fingerprints or record hashes.
	pub fn pseudonym_root(&self) -> [u8; 32] {
		use blake2::{
			digest::{consts::U32, Mac},
			Blake2bMac,
		};
		let mut m =
			<Blake2bMac<U32> as blake2::digest::KeyInit>::new_from_slice(&self.fingerprint[..])
				.expect("a 32-byte key");
		m.update(b"datacoop/pseudonym-root/v1");
		m.finalize().into_bytes().into()
	}

	pub fn public(&self) -> Public {
		Public {
			encryption_key: self.identity().to_public().to_string(),
			attestation_signer: format!("0x{}", hex::encode(self.attestation_pair().public().0)),
		}
	}

	/// Seals into a new file at `path` (never replacing one), mode 0600.
	pub fn seal(&self, path: &Path, sealer: &Sealer) -> Result<Public, SealError> {
		let public = self.public();
		let salt = random::<16>()?;
		let nonce = random::<24>()?;
		let mut file = File {
			version: VERSION,
			public: public.clone(),
			kdf: match sealer {
				Sealer::KeyFile(_) => "key-file".into(),
				Sealer::Passphrase(_) => "scrypt".into(),
			},
			log_n: SCRYPT_LOG_N,
			r: SCRYPT_R,
			p: SCRYPT_P,
			salt: hex::encode(salt),
			nonce: hex::encode(nonce),
			sealed: String::new(),
		};
		let key = sealer.key(&file)?;
		let mut plain = Zeroizing::new(Vec::with_capacity(96));
		plain.extend_from_slice(self.encryption.as_ref());
		plain.extend_from_slice(self.attestation.as_ref());
		plain.extend_from_slice(self.fingerprint.as_ref());
		let sealed = XChaCha20Poly1305::new(key.as_ref().into())
			.encrypt(
				XNonce::from_slice(&nonce),
				chacha20poly1305::aead::Payload { msg: &plain, aad: &file.aad() },
			)
			.map_err(|_| SealError::Io("sealing failed".into()))?;
		file.sealed = hex::encode(sealed);
		let json = serde_json::to_vec_pretty(&file).expect("serializable");
		write_new(path, &json).map_err(|e| match e.kind() {
			std::io::ErrorKind::AlreadyExists => SealError::Exists(path.display().to_string()),
			_ => SealError::Io(format!("{}: {e}", path.display())),
		})?;
		Ok(public)
	}

	/// Opens the secrets sealed at `path`.
	pub fn open(path: &Path, sealer: &Sealer) -> Result<Secrets, SealError> {
		let file = File::read(path)?;
		let key = sealer.key(&file)?;
		let bad =
			|why: &str| SealError::Format { path: path.display().to_string(), why: why.into() };
		let nonce = hex::decode(&file.nonce).map_err(|_| bad("nonce"))?;
		let sealed = hex::decode(&file.sealed).map_err(|_| bad("sealed"))?;
		if nonce.len() != 24 {
			return Err(bad("nonce"));
		}
		let plain = Zeroizing::new(
			XChaCha20Poly1305::new(key.as_ref().into())
				.decrypt(
					XNonce::from_slice(&nonce),
					chacha20poly1305::aead::Payload { msg: &sealed, aad: &file.aad() },
				)
				.map_err(|_| SealError::WrongKey(path.display().to_string()))?,
		);
		if plain.len() != 96 {
			return Err(bad("sealed length"));
		}
		let part = |i: usize| {
			let mut k = Zeroizing::new([0u8; 32]);
			k.copy_from_slice(&plain[i * 32..(i + 1) * 32]);
			k
		};
		let secrets = Secrets { encryption: part(0), attestation: part(1), fingerprint: part(2) };
		// Authenticated by the AAD already; checked again so a bug here cannot go unnoticed.
		if secrets.public() != file.public {
			return Err(SealError::WrongKey(path.display().to_string()));
		}
		Ok(secrets)
	}
}

/// The public keys in a sealed file, read without opening it.
pub fn public(path: &Path) -> Result<Public, SealError> {
	Ok(File::read(path)?.public)
}

#[derive(Serialize, Deserialize)]
struct File {
	version: u32,
	public: Public,
	kdf: String,
	log_n: u8,
	r: u32,
	p: u32,
	salt: String,
	nonce: String,
	sealed: String,
}

impl File {
	fn read(path: &Path) -> Result<File, SealError> {
		let bytes =
			fs::read(path).map_err(|e| SealError::Io(format!("{}: {e}", path.display())))?;
		let file: File = serde_json::from_slice(&bytes).map_err(|e| SealError::Format {
			path: path.display().to_string(),
			why: e.to_string(),
		})?;
		if file.version != VERSION {
			return Err(SealError::Format {
				path: path.display().to_string(),
				why: format!("version {} (this server reads {VERSION})", file.version),
			});
		}
		Ok(file)
	}

	/// What the seal authenticates besides the secrets: the context, the public keys and
	/// the KDF parameters.
	fn aad(&self) -> Vec<u8> {
		let mut aad = CONTEXT.to_vec();
		for part in [
			self.public.encryption_key.as_bytes(),
			self.public.attestation_signer.as_bytes(),
			self.kdf.as_bytes(),
			self.salt.as_bytes(),
		] {
			aad.extend_from_slice(&(part.len() as u32).to_le_bytes());
			aad.extend_from_slice(part);
		}
		aad.push(self.log_n);
		aad.extend_from_slice(&self.r.to_le_bytes());
		aad.extend_from_slice(&self.p.to_le_bytes());
		aad
	}
}

fn random<const N: usize>() -> Result<[u8; N], SealError> {
	let mut b = [0u8; N];
	getrandom::getrandom(&mut b).map_err(|e| SealError::Random(e.to_string()))?;
	Ok(b)
}

/// Writes `bytes` to a new file at `path` (mode 0600), atomically: a temporary file beside
/// it, fsync, then a link that fails if `path` exists.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
	let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
	fs::create_dir_all(dir)?;
	let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
	#[cfg(unix)]
	{
		use std::os::unix::fs::PermissionsExt;
		tmp.as_file().set_permissions(fs::Permissions::from_mode(0o600))?;
	}
	tmp.write_all(bytes)?;
	tmp.as_file().sync_all()?;
	tmp.persist_noclobber(path).map_err(|e| e.error)?;
	fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn secrets_round_trip_with_a_key_file_and_a_passphrase() {
		let dir = tempfile::tempdir().unwrap();
		let secrets = Secrets::generate().unwrap();
		let key = Sealer::key_file(&dir.path().join("key"), true).unwrap();
		let public = secrets.seal(&dir.path().join("a.json"), &key).unwrap();
		let again = Sealer::key_file(&dir.path().join("key"), false).unwrap();
		let opened = Secrets::open(&dir.path().join("a.json"), &again).unwrap();
		assert_eq!(opened.public(), public);
		assert_eq!(*opened.fingerprint, *secrets.fingerprint);
		assert_eq!(super::public(&dir.path().join("a.json")).unwrap(), public);
		assert!(public.encryption_key.starts_with("age1"));

		fs::write(dir.path().join("pass"), "correct horse\n").unwrap();
		let pass = Sealer::passphrase_file(&dir.path().join("pass")).unwrap();
		secrets.seal(&dir.path().join("b.json"), &pass).unwrap();
		assert_eq!(Secrets::open(&dir.path().join("b.json"), &pass).unwrap().public(), public);

		fs::write(dir.path().join("wrong"), "incorrect horse\n").unwrap();
		let wrong = Sealer::passphrase_file(&dir.path().join("wrong")).unwrap();
		assert!(matches!(
			Secrets::open(&dir.path().join("b.json"), &wrong),
			Err(SealError::WrongKey(_))
		));
		// a key file does not open passphrase-sealed secrets, and says what to use
		let err = Secrets::open(&dir.path().join("b.json"), &again).err().unwrap().to_string();
		assert!(err.contains("--passphrase-file"), "{err}");
	}

	#[test]
	fn sealed_files_are_never_replaced_and_edits_are_refused() {
		let dir = tempfile::tempdir().unwrap();
		let key = Sealer::key_file(&dir.path().join("key"), true).unwrap();
		let path = dir.path().join("s.json");
		Secrets::generate().unwrap().seal(&path, &key).unwrap();
		let before = fs::read(&path).unwrap();
		assert!(matches!(
			Secrets::generate().unwrap().seal(&path, &key),
			Err(SealError::Exists(_))
		));
		assert_eq!(fs::read(&path).unwrap(), before);
		#[cfg(unix)]
		{
			use std::os::unix::fs::PermissionsExt;
			assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
			let key_mode = fs::metadata(dir.path().join("key")).unwrap().permissions().mode();
			assert_eq!(key_mode & 0o777, 0o600);
		}
		// another signer shown in clear: the seal no longer opens
		let other = Secrets::generate().unwrap().public();
		let mut json: serde_json::Value = serde_json::from_slice(&before).unwrap();
		json["public"]["attestation_signer"] = other.attestation_signer.into();
		fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
		assert!(matches!(Secrets::open(&path, &key), Err(SealError::WrongKey(_))));
		// no secret in clear in the file
		let text = String::from_utf8(before).unwrap();
		assert!(!text.contains("AGE-SECRET-KEY"));
	}
}
