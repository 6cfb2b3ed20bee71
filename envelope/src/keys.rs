//! X25519 identities (secret keys) and recipients (public keys), in age's Bech32 forms:
//! `AGE-SECRET-KEY-1...` and `age1...`, so keys can be used with the standard age tools.

use core::{fmt, str::FromStr};

use bech32::{primitives::decode::CheckedHrpstring, Bech32, Hrp};
use chacha20poly1305::{aead::Aead, ChaCha20Poly1305, KeyInit};
use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::{
	header::{base64_decode, base64_encode, Stanza},
	Error, FileKey, FILE_KEY_LEN,
};

const RECIPIENT_HRP: &str = "age";
const IDENTITY_HRP: &str = "age-secret-key-";
const X25519_TAG: &str = "X25519";
const X25519_INFO: &[u8] = b"age-encryption.org/v1/X25519";
/// A wrapped file key: the key itself and its Poly1305 tag.
const WRAPPED_LEN: usize = FILE_KEY_LEN + 16;

/// A secret X25519 key: decrypts files encrypted to its [`Recipient`].
#[derive(Clone)]
pub struct Identity {
	secret: StaticSecret,
}

/// A public X25519 key: files are encrypted to it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
	public: PublicKey,
}

impl Identity {
	/// A new random identity, from the operating system's generator.
	pub fn generate() -> Result<Self, Error> {
		let mut bytes = Zeroizing::new([0u8; 32]);
		getrandom::getrandom(bytes.as_mut()).map_err(|e| Error::Random(e.to_string()))?;
		Ok(Self::from_bytes(*bytes))
	}

	/// The identity with this secret scalar (clamped by X25519 when used).
	pub fn from_bytes(bytes: [u8; 32]) -> Self {
		Self { secret: StaticSecret::from(bytes) }
	}

	/// The identity that opens an account's own contributions, derived from the account's
	/// secret URI (HKDF-SHA256: salt the account's sr25519 public key, key the URI, info
	/// `datacoop/contribution-key/v1`). The wallet and the web page derive the same key from the
	/// same account, so either opens what the other encrypted.
	pub fn for_contributions(account_public: &[u8; 32], secret_uri: &str) -> Self {
		let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(account_public), secret_uri.as_bytes());
		let mut key = Zeroizing::new([0u8; 32]);
		hk.expand(b"datacoop/contribution-key/v1", key.as_mut())
			.expect("32 bytes is a valid HKDF-SHA256 output length");
		Self::from_bytes(*key)
	}

	/// Its public half, to encrypt to.
	pub fn to_public(&self) -> Recipient {
		Recipient { public: PublicKey::from(&self.secret) }
	}

	/// `AGE-SECRET-KEY-1...`, as age writes identities.
	pub fn to_bech32(&self) -> Zeroizing<String> {
		let hrp = Hrp::parse(IDENTITY_HRP).expect("a valid human-readable part");
		let secret = Zeroizing::new(self.secret.to_bytes());
		Zeroizing::new(
			bech32::encode_upper::<Bech32>(hrp, secret.as_ref())
				.expect("32 bytes are well under Bech32's length limit"),
		)
	}

	/// The file key in `stanza` if it is an X25519 stanza wrapped to this identity;
	/// `Ok(None)` if it is another kind of stanza or for another key; an error if it is an
	/// X25519 stanza that breaks the format.
	pub(crate) fn unwrap(&self, stanza: &Stanza) -> Result<Option<FileKey>, Error> {
		let Some(share) = x25519_share(stanza)? else {
			return Ok(None);
		};
		let shared = self.secret.diffie_hellman(&share);
		if !shared.was_contributory() {
			return Err(Error::Header("an X25519 share of low order"));
		}
		let key = wrap_key(shared.as_bytes(), share.as_bytes(), self.to_public().public.as_bytes());
		let aead = ChaCha20Poly1305::new(key.as_ref().into());
		match aead.decrypt(&[0u8; 12].into(), stanza.body.as_slice()) {
			Ok(file_key) => {
				let file_key = Zeroizing::new(file_key);
				let mut key = FileKey::default();
				key.copy_from_slice(&file_key);
				Ok(Some(key))
			},
			// Wrapped to someone else.
			Err(_) => Ok(None),
		}
	}
}

impl Recipient {
	/// The public key's 32 bytes.
	pub fn to_bytes(&self) -> [u8; 32] {
		self.public.to_bytes()
	}

	/// The recipient with these public key bytes.
	pub fn from_bytes(bytes: [u8; 32]) -> Self {
		Self { public: PublicKey::from(bytes) }
	}

	/// An X25519 stanza wrapping `file_key` to this recipient, with a fresh ephemeral key.
	pub(crate) fn wrap(&self, file_key: &FileKey) -> Result<Stanza, Error> {
		let ephemeral = Identity::generate()?;
		let share = ephemeral.to_public();
		let shared = ephemeral.secret.diffie_hellman(&self.public);
		if !shared.was_contributory() {
			return Err(Error::InvalidKey("the recipient is a low-order point".into()));
		}
		let key = wrap_key(shared.as_bytes(), share.public.as_bytes(), self.public.as_bytes());
		let body = ChaCha20Poly1305::new(key.as_ref().into())
			.encrypt(&[0u8; 12].into(), file_key.as_slice())
			.map_err(|_| Error::InvalidKey("cannot wrap the file key".into()))?;
		Ok(Stanza { args: vec![X25519_TAG.into(), base64_encode(share.public.as_bytes())], body })
	}
}

/// The ephemeral share of an X25519 stanza, after checking the stanza's form; `None` for
/// stanzas of other kinds.
fn x25519_share(stanza: &Stanza) -> Result<Option<PublicKey>, Error> {
	if stanza.args.first().map(String::as_str) != Some(X25519_TAG) {
		return Ok(None);
	}
	let [_, share] = stanza.args.as_slice() else {
		return Err(Error::Header("an X25519 stanza takes exactly one argument"));
	};
	let share: [u8; 32] = base64_decode(share)
		.ok()
		.and_then(|b| b.try_into().ok())
		.ok_or(Error::Header("an X25519 share is not 32 bytes of canonical base64"))?;
	if stanza.body.len() != WRAPPED_LEN {
		return Err(Error::Header("an X25519 stanza's body is not a wrapped 16-byte file key"));
	}
	Ok(Some(PublicKey::from(share)))
}

fn wrap_key(shared: &[u8; 32], share: &[u8; 32], recipient: &[u8; 32]) -> Zeroizing<[u8; 32]> {
	let mut salt = [0u8; 64];
	salt[..32].copy_from_slice(share);
	salt[32..].copy_from_slice(recipient);
	let mut key = Zeroizing::new([0u8; 32]);
	Hkdf::<Sha256>::new(Some(&salt), shared)
		.expand(X25519_INFO, key.as_mut())
		.expect("32 bytes is a valid HKDF-SHA256 output length");
	key
}

/// The data part of a Bech32 string with human-readable part `hrp` (any case).
fn bech32_data(s: &str, hrp: &str, what: &str) -> Result<Vec<u8>, Error> {
	let checked = CheckedHrpstring::new::<Bech32>(s)
		.map_err(|e| Error::InvalidKey(format!("not a Bech32 {what}: {e}")))?;
	if checked.hrp().to_lowercase() != hrp {
		return Err(Error::InvalidKey(format!(
			"not an age {what}: it starts with `{}`",
			checked.hrp()
		)));
	}
	Ok(checked.byte_iter().collect())
}

impl FromStr for Identity {
	type Err = Error;

	fn from_str(s: &str) -> Result<Self, Error> {
		let data = Zeroizing::new(bech32_data(s.trim(), IDENTITY_HRP, "identity")?);
		let bytes: [u8; 32] = data
			.as_slice()
			.try_into()
			.map_err(|_| Error::InvalidKey("an age identity holds 32 bytes".into()))?;
		Ok(Self::from_bytes(bytes))
	}
}

impl FromStr for Recipient {
	type Err = Error;

	fn from_str(s: &str) -> Result<Self, Error> {
		let data = bech32_data(s.trim(), RECIPIENT_HRP, "recipient")?;
		let bytes: [u8; 32] = data
			.try_into()
			.map_err(|_| Error::InvalidKey("an age recipient holds 32 bytes".into()))?;
		Ok(Self::from_bytes(bytes))
	}
}

impl fmt::Display for Recipient {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		let hrp = Hrp::parse(RECIPIENT_HRP).expect("a valid human-readable part");
		let s = bech32::encode_lower::<Bech32>(hrp, self.public.as_bytes())
			.expect("32 bytes are well under Bech32's length limit");
		f.write_str(&s)
	}
}

impl fmt::Debug for Recipient {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "Recipient({self})")
	}
}

/// Never prints the secret.
impl fmt::Debug for Identity {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "Identity(for {})", self.to_public())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	// The CCTV vectors' identity, and its recipient as `age-keygen -y` prints it.
	const IDENTITY: &str =
		"AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
	const RECIPIENT: &str = "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef";

	#[test]
	fn keys_round_trip_through_bech32() {
		let identity: Identity = IDENTITY.parse().unwrap();
		assert_eq!(identity.to_bech32().as_str(), IDENTITY);
		assert_eq!(identity.to_public().to_string(), RECIPIENT);
		assert_eq!(RECIPIENT.parse::<Recipient>().unwrap(), identity.to_public());
		// Either case, as Bech32 allows.
		assert_eq!(
			IDENTITY.to_lowercase().parse::<Identity>().unwrap().to_public(),
			identity.to_public()
		);
	}

	#[test]
	fn bad_keys_are_refused_with_a_reason() {
		for (input, what) in [
			(RECIPIENT.replace("age1", "agf1"), "checksum or prefix"),
			(RECIPIENT[..RECIPIENT.len() - 1].to_string(), "truncated"),
			(IDENTITY.to_string(), "an identity where a recipient belongs"),
			(String::new(), "empty"),
		] {
			assert!(input.parse::<Recipient>().is_err(), "{what}: {input}");
		}
		assert!(RECIPIENT.parse::<Identity>().is_err());
	}

	#[test]
	fn the_debug_form_hides_the_secret() {
		let identity = Identity::generate().unwrap();
		let shown = format!("{identity:?}");
		assert!(!shown.contains(identity.to_bech32().as_str()));
		assert!(shown.contains(&identity.to_public().to_string()));
	}
}
