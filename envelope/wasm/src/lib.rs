//! # The contribution envelope in a web page
//!
//! [`datacoop_envelope`] through wasm-bindgen, for the web app (`web/`): the page hands the
//! plaintext over chunk by chunk as it reads a `File` in slices ([`Sealer`]), so memory stays
//! flat however large the file, and the bytes are those the wallet writes (the age v1 format),
//! opened by `datacoop decrypt-file` and by `age`. Built by `scripts/build-web.sh` with the
//! `wasm-bindgen` command at the version in Cargo.lock. Errors reach JavaScript as `Error`s
//! with one line saying what is wrong.
//!
//! Natively the crate builds as an ordinary library, so its functions are tested with
//! `cargo test` like the rest.

use datacoop_envelope::{Identity as AgeIdentity, Recipient};
use wasm_bindgen::prelude::*;

fn recipients(keys: &[String]) -> Result<Vec<Recipient>, JsError> {
	keys.iter()
		.map(|k| k.trim().parse::<Recipient>().map_err(|e| JsError::new(&format!("{k}: {e}"))))
		.collect()
}

/// Encrypts a file chunk by chunk: write [`Sealer::header`], then [`Sealer::seal`] each
/// 64 KiB chunk of the plaintext in order, the last one flagged.
#[wasm_bindgen]
pub struct Sealer(datacoop_envelope::Sealer);

#[wasm_bindgen]
impl Sealer {
	/// A new file (a fresh file key) for these recipients (`age1…` strings).
	#[wasm_bindgen(constructor)]
	pub fn new(keys: Vec<String>) -> Result<Sealer, JsError> {
		let recipients = recipients(&keys)?;
		Ok(Sealer(datacoop_envelope::sealer(&recipients)?))
	}

	/// The age header and the payload nonce: the file's first bytes.
	pub fn header(&self) -> Vec<u8> {
		self.0.header().to_vec()
	}

	/// The next chunk, sealed: 65,536 bytes of plaintext unless it is the `last`.
	pub fn seal(&mut self, chunk: &[u8], last: bool) -> Result<Vec<u8>, JsError> {
		Ok(self.0.seal(chunk, last)?)
	}

	/// The next chunk sealed into `out` (room for the chunk and its 16-byte tag: a view into
	/// a buffer the page reuses, so sealing allocates nothing on the JavaScript side);
	/// returns the bytes written.
	#[wasm_bindgen(js_name = sealInto)]
	pub fn seal_into(
		&mut self,
		chunk: &[u8],
		last: bool,
		out: &mut [u8],
	) -> Result<usize, JsError> {
		Ok(self.0.seal_into(chunk, last, out)?)
	}

	/// Whether the last chunk was sealed.
	#[wasm_bindgen(js_name = isDone)]
	pub fn is_done(&self) -> bool {
		self.0.is_done()
	}
}

/// The size of the encrypted file for `plain_len` bytes of plaintext and `recipients`
/// recipients, before encrypting (to check a DAO's size rules first). A JavaScript number
/// holds every length below 2^53 bytes exactly.
#[wasm_bindgen]
pub fn encrypted_len(plain_len: f64, recipients: u32) -> Result<f64, JsError> {
	if !(plain_len >= 0.0 && plain_len.fract() == 0.0 && plain_len < 9_007_199_254_740_992.0) {
		return Err(JsError::new("a length is a whole number of bytes below 2^53"));
	}
	Ok(datacoop_envelope::encrypted_len(plain_len as u64, recipients as usize) as f64)
}

/// The `age1…` recipient of a 32-byte X25519 public key (a DAO's collective key on chain).
#[wasm_bindgen]
pub fn recipient_from_bytes(key: &[u8]) -> Result<String, JsError> {
	let key: [u8; 32] =
		key.try_into().map_err(|_| JsError::new("an X25519 public key is 32 bytes"))?;
	Ok(Recipient::from_bytes(key).to_string())
}

/// The recipient of the key that opens an account's own contributions, derived from the
/// account's secret URI as the wallet derives it (`datacoop decrypt ID`).
#[wasm_bindgen]
pub fn contribution_recipient(account_public: &[u8], secret_uri: &str) -> Result<String, JsError> {
	let public: [u8; 32] =
		account_public.try_into().map_err(|_| JsError::new("an sr25519 public key is 32 bytes"))?;
	Ok(AgeIdentity::for_contributions(&public, secret_uri.trim()).to_public().to_string())
}

/// An age X25519 identity (a secret key), for accounts whose secret the page does not hold
/// (those of a browser extension): generated in the page and kept by the person.
#[wasm_bindgen]
pub struct Identity(AgeIdentity);

#[wasm_bindgen]
impl Identity {
	/// A new random identity.
	#[wasm_bindgen(constructor)]
	pub fn new() -> Result<Identity, JsError> {
		Ok(Identity(AgeIdentity::generate()?))
	}

	/// The identity written as `AGE-SECRET-KEY-1…`.
	pub fn parse(secret: &str) -> Result<Identity, JsError> {
		Ok(Identity(secret.trim().parse()?))
	}

	/// `AGE-SECRET-KEY-1…`, as age writes identities.
	pub fn secret(&self) -> String {
		self.0.to_bech32().to_string()
	}

	/// Its `age1…` recipient.
	pub fn recipient(&self) -> String {
		self.0.to_public().to_string()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn what_the_page_seals_the_envelope_opens() {
		let me = AgeIdentity::generate().unwrap();
		let mut sealer = Sealer::new(vec![me.to_public().to_string()]).unwrap();
		let plain: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
		let mut file = sealer.header();
		file.extend(sealer.seal(&plain[..65_536], false).unwrap());
		file.extend(sealer.seal(&plain[65_536..], true).unwrap());
		assert!(sealer.is_done());
		assert_eq!(file.len() as f64, encrypted_len(70_000.0, 1).unwrap());
		let mut out = Vec::new();
		datacoop_envelope::decrypt(
			&[me],
			&file[..],
			&mut out,
			&datacoop_envelope::Parallelism::OneCore,
		)
		.unwrap();
		assert!(out == plain);
	}

	#[test]
	fn the_page_derives_the_wallets_contribution_key() {
		let public = [7u8; 32];
		let derived = contribution_recipient(&public, " //Bob ").unwrap();
		assert_eq!(
			derived,
			AgeIdentity::for_contributions(&public, "//Bob").to_public().to_string()
		);
		assert_ne!(derived, contribution_recipient(&public, "//Alice").unwrap());
	}
}
