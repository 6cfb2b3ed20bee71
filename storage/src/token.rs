//! Upload tokens: who may upload, how much, and once.
//!
//! An upload (PUT or POST of a blob) carries
//! `Authorization: DatacoopUpload <account>:<time>:<nonce>:<size>:<signature>`:
//!
//! | field | form |
//! |---|---|
//! | account | the uploader's sr25519 public key (a chain account), 64 hex digits |
//! | time | when the token was made, unix seconds (decimal) |
//! | nonce | 16 random bytes, 32 hex digits: a token is good for one upload |
//! | size | the most bytes the upload may carry (decimal) |
//! | signature | 128 hex digits: sr25519 (schnorrkel, signing context `substrate`, as polkadot.js and subxt sign) over the message below |
//!
//! The message signed is `datacoop/upload/v1` ‖ account (32) ‖ blob hash (32; all zeros for a
//! POST, whose hash is known only at the end) ‖ size (u64 LE) ‖ time (u64 LE) ‖ nonce (16). The
//! same message wrapped in `<Bytes>` … `</Bytes>` is accepted too: that is what the polkadot.js
//! extension's `signRaw` signs, so a browser can upload with the extension's account.
//!
//! What the service checks (see [`crate::limits`] for the rest): the signature, the time
//! against its clock (± [`MAX_SKEW`]), the nonce against the account's recent ones, the body
//! against the size, a PUT's path against the hash.

use std::{fmt, str::FromStr};

use datacoop_auth::{decimal, fixed_hex, header_fields, AuthError};
pub use datacoop_auth::{
	KeypairSigner as KeypairUploader, Signer as Uploader, MAX_SKEW, SIGNING_CONTEXT,
};

use crate::hash::BlobHash;

/// The prefix of every signed upload message: no other message the account signs (a
/// transaction, an attestation, a contribution statement) starts with it.
pub const DOMAIN: &[u8] = b"datacoop/upload/v1";
/// The HTTP authorization scheme.
pub const SCHEME: &str = "DatacoopUpload";

/// A parsed upload token (not yet checked: see [`UploadToken::verify`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UploadToken {
	pub account: [u8; 32],
	pub time: u64,
	pub nonce: [u8; 16],
	pub size: u64,
	pub signature: [u8; 64],
}

/// Why a token was refused. Each is one line a client can show as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
	#[error("no upload token: uploads need `Authorization: DatacoopUpload …` signed by a chain account (see docs/storage.md)")]
	Missing,
	#[error("malformed upload token: {0}")]
	Malformed(&'static str),
	#[error("the upload token's signature does not verify for its account and this upload")]
	BadSignature,
	#[error("the upload token was made at {time}, more than {MAX_SKEW} s from this service's clock ({now}): check the clock, and make a fresh token")]
	Stale { time: u64, now: u64 },
	#[error("the upload token's nonce was already used: make a fresh token for each upload")]
	Replayed,
	#[error("the body is longer than the {size} bytes the upload token allows")]
	Exceeded { size: u64 },
}

impl From<AuthError> for TokenError {
	fn from(e: AuthError) -> TokenError {
		match e {
			AuthError::Malformed(what) => TokenError::Malformed(what),
			AuthError::BadSignature => TokenError::BadSignature,
			AuthError::Stale { time, now } => TokenError::Stale { time, now },
		}
	}
}

impl UploadToken {
	/// A token for an upload of at most `size` bytes (of the blob `hash`, for a PUT), signed by
	/// `uploader` now.
	pub fn sign(
		uploader: &dyn Uploader,
		hash: Option<&BlobHash>,
		size: u64,
		time: u64,
		nonce: [u8; 16],
	) -> UploadToken {
		let account = uploader.account();
		let signature = uploader.sign(&message(&account, hash, size, time, &nonce));
		UploadToken { account, time, nonce, size, signature }
	}

	/// The value of the `Authorization` header.
	pub fn header_value(&self) -> String {
		format!(
			"{SCHEME} {}:{}:{}:{}:{}",
			hex::encode(self.account),
			self.time,
			hex::encode(self.nonce),
			self.size,
			hex::encode(self.signature)
		)
	}

	/// Checks the signature over this upload (`hash`: the PUT's path; `None` for a POST), as
	/// signed raw or wrapped in `<Bytes>` … `</Bytes>`.
	pub fn verify(&self, hash: Option<&BlobHash>) -> Result<(), TokenError> {
		let message = message(&self.account, hash, self.size, self.time, &self.nonce);
		Ok(datacoop_auth::verify(&self.account, &message, &self.signature)?)
	}

	/// Is the token's time within [`MAX_SKEW`] of `now`?
	pub fn check_time(&self, now: u64) -> Result<(), TokenError> {
		Ok(datacoop_auth::check_time(self.time, now)?)
	}
}

impl fmt::Debug for UploadToken {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(
			f,
			"UploadToken(0x{} at {}, {} bytes)",
			hex::encode(self.account),
			self.time,
			self.size
		)
	}
}

/// The message an upload token signs; see the module docs.
pub fn message(
	account: &[u8; 32],
	hash: Option<&BlobHash>,
	size: u64,
	time: u64,
	nonce: &[u8; 16],
) -> Vec<u8> {
	let mut m = Vec::with_capacity(DOMAIN.len() + 32 + 32 + 8 + 8 + 16);
	m.extend_from_slice(DOMAIN);
	m.extend_from_slice(account);
	m.extend_from_slice(&hash.map(|h| h.0).unwrap_or([0; 32]));
	m.extend_from_slice(&size.to_le_bytes());
	m.extend_from_slice(&time.to_le_bytes());
	m.extend_from_slice(nonce);
	m
}

impl FromStr for UploadToken {
	type Err = TokenError;

	/// Parses an `Authorization` header value.
	fn from_str(value: &str) -> Result<Self, TokenError> {
		// At most MAX_HEADER characters: the scheme, 64 + 20 + 32 + 20 + 128 characters and
		// the separators fit with room to spare.
		let f = header_fields(
			value,
			SCHEME,
			5,
			"expected `DatacoopUpload <account>:<time>:<nonce>:<size>:<signature>`",
		)?;
		let account = fixed_hex::<32>(f[0], "the account is not 64 hex digits")?;
		let time = decimal(f[1], "the time is not a decimal number of seconds")?;
		let nonce = fixed_hex::<16>(f[2], "the nonce is not 32 hex digits")?;
		let size = decimal(f[3], "the size is not a decimal number of bytes")?;
		let signature = fixed_hex::<64>(f[4], "the signature is not 128 hex digits")?;
		Ok(UploadToken { account, time, nonce, size, signature })
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn token(u: &KeypairUploader, hash: Option<&BlobHash>) -> UploadToken {
		UploadToken::sign(u, hash, 1000, 1_700_000_000, [7; 16])
	}

	#[test]
	fn round_trips_and_verifies() {
		let u = KeypairUploader::from_seed([1; 32]);
		let hash = BlobHash::of(b"blob");
		let t = token(&u, Some(&hash));
		let parsed: UploadToken = t.header_value().parse().unwrap();
		assert_eq!(parsed, t);
		parsed.verify(Some(&hash)).unwrap();
		// bound to the hash, the size, the time, the nonce, the account
		assert_eq!(parsed.verify(None), Err(TokenError::BadSignature));
		assert_eq!(parsed.verify(Some(&BlobHash::of(b"other"))), Err(TokenError::BadSignature));
		for changed in [
			UploadToken { size: 1001, ..t },
			UploadToken { time: t.time + 1, ..t },
			UploadToken { nonce: [8; 16], ..t },
			UploadToken { account: KeypairUploader::from_seed([2; 32]).account(), ..t },
		] {
			assert_eq!(changed.verify(Some(&hash)), Err(TokenError::BadSignature), "{changed:?}");
		}
	}

	#[test]
	fn accepts_the_polkadot_js_bytes_wrapping() {
		let u = KeypairUploader::from_seed([3; 32]);
		let (size, time, nonce) = (5u64, 1_700_000_000u64, [9u8; 16]);
		let account = u.account();
		let mut wrapped = b"<Bytes>".to_vec();
		wrapped.extend(message(&account, None, size, time, &nonce));
		wrapped.extend(b"</Bytes>");
		let t = UploadToken { account, time, nonce, size, signature: u.sign(&wrapped) };
		t.verify(None).unwrap();
		// wrapped the other way round: not accepted
		let mut odd = b"<Bytes>".to_vec();
		odd.extend(message(&account, None, size, time, &nonce));
		let t = UploadToken { signature: u.sign(&odd), ..t };
		assert_eq!(t.verify(None), Err(TokenError::BadSignature));
	}

	#[test]
	fn time_window() {
		let t = token(&KeypairUploader::from_seed([1; 32]), None);
		t.check_time(t.time + MAX_SKEW).unwrap();
		t.check_time(t.time - MAX_SKEW).unwrap();
		assert!(matches!(t.check_time(t.time + MAX_SKEW + 1), Err(TokenError::Stale { .. })));
		assert!(matches!(t.check_time(t.time - MAX_SKEW - 1), Err(TokenError::Stale { .. })));
	}

	#[test]
	fn malformed_headers_are_refused_without_panicking() {
		let good = token(&KeypairUploader::from_seed([1; 32]), None).header_value();
		let fields: Vec<&str> = good.split(' ').nth(1).unwrap().split(':').collect();
		let with = |i: usize, v: &str| {
			let mut f = fields.clone();
			f[i] = v;
			format!("DatacoopUpload {}", f.join(":"))
		};
		for bad in [
			String::new(),
			"Bearer x".into(),
			"DatacoopUpload".into(),
			good.replace("DatacoopUpload ", "DatacoopUpload"),
			with(0, "00"),
			with(0, &"zz".repeat(32)),
			with(1, "-1"),
			with(1, "18446744073709551616"),
			with(2, &"é".repeat(16)),
			with(3, ""),
			with(4, &"0".repeat(127)),
			format!("{good}:extra"),
			format!("{good}{}", "0".repeat(500)),
		] {
			assert!(matches!(bad.parse::<UploadToken>(), Err(TokenError::Malformed(_))), "{bad:?}");
		}
	}
}
