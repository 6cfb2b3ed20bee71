//! Requests signed by a chain account.
//!
//! Storage uploads and the collective server's data requests are authorised the same way: the
//! client's chain account (an sr25519 key, as polkadot.js, the polkadot.js extension and
//! subxt-signer hold it) signs a message that starts with a domain of its own (so it can never
//! pass for a transaction, an attestation or another kind of request), names what is asked,
//! and carries a time and a nonce; the service checks the signature, the time against its
//! clock and the nonce against those it has seen. This crate holds what both services and
//! their clients share: [`Signer`], [`verify`], [`check_time`] and the parsing of the
//! `Authorization` header's fields. What each message holds is the service's own.

use std::fmt;

/// The signing context of sr25519 signatures in Substrate (polkadot.js, subxt-signer).
pub const SIGNING_CONTEXT: &[u8] = b"substrate";
/// How far a request's time may be from the service's clock, in seconds, either way.
pub const MAX_SKEW: u64 = 300;
/// Longest `Authorization` header value a service parses; longer ones are refused unread.
pub const MAX_HEADER: usize = 400;

/// Why a signed request was refused before the service looked at what it asks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
	#[error("malformed authorization: {0}")]
	Malformed(&'static str),
	#[error("the signature does not verify for its account and this request")]
	BadSignature,
	#[error("the request was signed at {time}, more than {MAX_SKEW} s from this service's clock ({now}): check the clock, and sign a fresh request")]
	Stale { time: u64, now: u64 },
}

/// A chain account that signs requests. The wallet implements it over its account's keypair;
/// tests over a schnorrkel keypair ([`KeypairSigner`]).
pub trait Signer: Send + Sync {
	/// The account's sr25519 public key.
	fn account(&self) -> [u8; 32];
	/// An sr25519 signature (context `substrate`) of `message`.
	fn sign(&self, message: &[u8]) -> [u8; 64];
}

/// A [`Signer`] over a schnorrkel keypair (what subxt-signer's sr25519 keypair holds).
pub struct KeypairSigner(pub schnorrkel::Keypair);

impl KeypairSigner {
	/// The sr25519 keypair of a 32-byte seed (expanded as Substrate expands mini secret keys).
	pub fn from_seed(seed: [u8; 32]) -> KeypairSigner {
		let mini =
			schnorrkel::MiniSecretKey::from_bytes(&seed).expect("32 bytes is a mini secret key");
		KeypairSigner(mini.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519))
	}
}

impl Signer for KeypairSigner {
	fn account(&self) -> [u8; 32] {
		self.0.public.to_bytes()
	}

	fn sign(&self, message: &[u8]) -> [u8; 64] {
		self.0.sign_simple(SIGNING_CONTEXT, message).to_bytes()
	}
}

impl fmt::Debug for KeypairSigner {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "KeypairSigner(0x{})", hex::encode(self.account()))
	}
}

/// Checks `signature` by `account` over `message`, signed as it is or wrapped in `<Bytes>` …
/// `</Bytes>` (what the polkadot.js extension's `signRaw` signs, so a browser can sign with
/// the extension's account).
pub fn verify(account: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<(), AuthError> {
	let public = schnorrkel::PublicKey::from_bytes(account)
		.map_err(|_| AuthError::Malformed("the account is not an sr25519 public key"))?;
	let signature = schnorrkel::Signature::from_bytes(signature)
		.map_err(|_| AuthError::Malformed("the signature is not an sr25519 signature"))?;
	if public.verify_simple(SIGNING_CONTEXT, message, &signature).is_ok() {
		return Ok(());
	}
	let mut wrapped = Vec::with_capacity(message.len() + 15);
	wrapped.extend_from_slice(b"<Bytes>");
	wrapped.extend_from_slice(message);
	wrapped.extend_from_slice(b"</Bytes>");
	public.verify_simple(SIGNING_CONTEXT, &wrapped, &signature).map_err(|_| AuthError::BadSignature)
}

/// Is `time` within [`MAX_SKEW`] of `now`?
pub fn check_time(time: u64, now: u64) -> Result<(), AuthError> {
	if time.abs_diff(now) > MAX_SKEW {
		return Err(AuthError::Stale { time, now });
	}
	Ok(())
}

/// The colon-separated fields of an `Authorization` header value `<scheme> <f1>:<f2>:…`:
/// exactly `count` of them, or `Malformed(usage)`. Values longer than [`MAX_HEADER`] are
/// refused before they are split.
pub fn header_fields<'a>(
	value: &'a str,
	scheme: &str,
	count: usize,
	usage: &'static str,
) -> Result<Vec<&'a str>, AuthError> {
	if value.len() > MAX_HEADER {
		return Err(AuthError::Malformed("too long"));
	}
	let rest = value
		.strip_prefix(scheme)
		.and_then(|r| r.strip_prefix(' '))
		.ok_or(AuthError::Malformed(usage))?;
	let fields: Vec<&str> = rest.trim().split(':').collect();
	if fields.len() != count {
		return Err(AuthError::Malformed(usage));
	}
	Ok(fields)
}

/// Exactly `N` bytes as `2N` hex digits, or `Malformed(what)`.
pub fn fixed_hex<const N: usize>(s: &str, what: &'static str) -> Result<[u8; N], AuthError> {
	let mut out = [0u8; N];
	if s.len() != 2 * N {
		return Err(AuthError::Malformed(what));
	}
	hex::decode_to_slice(s, &mut out).map_err(|_| AuthError::Malformed(what))?;
	Ok(out)
}

/// A `u64` in plain decimal digits (no sign, no spaces), or `Malformed(what)`.
pub fn decimal(s: &str, what: &'static str) -> Result<u64, AuthError> {
	if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
		return Err(AuthError::Malformed(what));
	}
	s.parse().map_err(|_| AuthError::Malformed(what))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_signature_verifies_raw_or_wrapped_and_for_nothing_else() {
		let signer = KeypairSigner::from_seed([3; 32]);
		let account = signer.account();
		verify(&account, b"message", &signer.sign(b"message")).unwrap();
		let mut wrapped = b"<Bytes>".to_vec();
		wrapped.extend(b"message");
		wrapped.extend(b"</Bytes>");
		verify(&account, b"message", &signer.sign(&wrapped)).unwrap();

		// Wrapped only half-way, another message, another account: refused.
		assert_eq!(
			verify(&account, b"message", &signer.sign(b"<Bytes>message")),
			Err(AuthError::BadSignature)
		);
		assert_eq!(
			verify(&account, b"massage", &signer.sign(b"message")),
			Err(AuthError::BadSignature)
		);
		let other = KeypairSigner::from_seed([4; 32]).account();
		assert_eq!(
			verify(&other, b"message", &signer.sign(b"message")),
			Err(AuthError::BadSignature)
		);
		// Bytes that are no signature at all are malformed, not a panic.
		assert!(matches!(
			verify(&account, b"message", &[0xff; 64]),
			Err(AuthError::Malformed(_) | AuthError::BadSignature)
		));
	}

	#[test]
	fn the_time_window_is_max_skew_either_way() {
		let t = 1_700_000_000;
		check_time(t, t + MAX_SKEW).unwrap();
		check_time(t, t - MAX_SKEW).unwrap();
		assert_eq!(
			check_time(t, t + MAX_SKEW + 1),
			Err(AuthError::Stale { time: t, now: t + MAX_SKEW + 1 })
		);
		assert!(check_time(t, t - MAX_SKEW - 1).is_err());
		assert!(check_time(u64::MAX, 0).is_err());
	}

	#[test]
	fn header_fields_are_counted_bounded_and_parsed_strictly() {
		let usage = "expected `Scheme <a>:<b>`";
		assert_eq!(header_fields("Scheme 1:2", "Scheme", 2, usage).unwrap(), vec!["1", "2"]);
		for bad in ["", "Scheme", "Scheme1:2", "Other 1:2", "Scheme 1:2:3", "Scheme 1"] {
			assert_eq!(header_fields(bad, "Scheme", 2, usage), Err(AuthError::Malformed(usage)));
		}
		let long = format!("Scheme 1:{}", "2".repeat(MAX_HEADER));
		assert_eq!(header_fields(&long, "Scheme", 2, usage), Err(AuthError::Malformed("too long")));

		assert_eq!(fixed_hex::<2>("0aff", "x"), Ok([0x0a, 0xff]));
		for bad in ["0af", "0aff00", "zzzz", "éé"] {
			assert_eq!(fixed_hex::<2>(bad, "x"), Err(AuthError::Malformed("x")));
		}
		assert_eq!(decimal("18446744073709551615", "x"), Ok(u64::MAX));
		for bad in ["", "-1", "+1", " 1", "18446744073709551616", "1e3"] {
			assert_eq!(decimal(bad, "x"), Err(AuthError::Malformed("x")));
		}
	}
}
