//! Blob names: the BLAKE2-256 hash of the ciphertext, as `contributions.submit` records it
//! (`ciphertext_hash`, the same function as `sp_core::hashing::blake2_256`).

use std::{fmt, str::FromStr};

use blake2::{digest::consts::U32, Blake2b, Digest};

/// The BLAKE2b-256 hash naming a blob. Shown as `0x` and 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobHash(pub [u8; 32]);

impl BlobHash {
	/// The hash of `bytes` in one go.
	pub fn of(bytes: &[u8]) -> Self {
		let mut h = Hasher::default();
		h.update(bytes);
		h.finish()
	}

	/// The 64 hex digits without `0x`: the name of the blob's file or object.
	pub fn hex(&self) -> String {
		hex::encode(self.0)
	}
}

impl fmt::Display for BlobHash {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "0x{}", self.hex())
	}
}

impl fmt::Debug for BlobHash {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		fmt::Display::fmt(self, f)
	}
}

/// A string that is not 64 hex digits (with or without `0x`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a BLAKE2-256 hash: expected 64 hex digits, optionally after 0x")]
pub struct BadHash;

impl FromStr for BlobHash {
	type Err = BadHash;

	fn from_str(s: &str) -> Result<Self, BadHash> {
		let digits = s.strip_prefix("0x").unwrap_or(s);
		if digits.len() != 64 {
			return Err(BadHash);
		}
		let mut out = [0u8; 32];
		hex::decode_to_slice(digits, &mut out).map_err(|_| BadHash)?;
		Ok(BlobHash(out))
	}
}

impl serde::Serialize for BlobHash {
	fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
		s.collect_str(self)
	}
}

impl<'de> serde::Deserialize<'de> for BlobHash {
	fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
		let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
		s.parse().map_err(serde::de::Error::custom)
	}
}

/// BLAKE2b-256 over a stream, fed as the bytes go by.
#[derive(Default, Clone)]
pub struct Hasher(Blake2b<U32>);

impl Hasher {
	pub fn update(&mut self, bytes: &[u8]) {
		self.0.update(bytes);
	}

	pub fn finish(self) -> BlobHash {
		BlobHash(self.0.finalize().into())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn matches_substrate_blake2_256() {
		// sp_core::hashing::blake2_256(b"") and (b"abc"), as polkadot.js' blake2AsHex gives them.
		assert_eq!(
			BlobHash::of(b"").to_string(),
			"0x0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
		);
		assert_eq!(
			BlobHash::of(b"abc").to_string(),
			"0xbddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
		);
	}

	#[test]
	fn parses_with_and_without_prefix_and_refuses_the_rest() {
		let h = BlobHash::of(b"x");
		assert_eq!(h.to_string().parse::<BlobHash>(), Ok(h));
		assert_eq!(h.hex().parse::<BlobHash>(), Ok(h));
		assert_eq!(h.hex().to_uppercase().parse::<BlobHash>(), Ok(h));
		for bad in ["", "0x", "0x12", &h.hex()[1..], &format!("{}0", h.hex()), &"g".repeat(64)] {
			assert_eq!(bad.parse::<BlobHash>(), Err(BadHash), "{bad:?}");
		}
		// hex of a multibyte character must not panic on a char boundary
		assert_eq!("é".repeat(32).parse::<BlobHash>(), Err(BadHash));
	}
}
