//! # The Datacoop contribution envelope
//!
//! Contributions are encrypted on the contributor's machine in the age v1 format
//! (<https://age-encryption.org/v1>, C2SP): a random 16-byte file key is wrapped to each
//! recipient with X25519 (the DAO's collective server, and the contributor's own key, so they
//! can always read their data back), and the data is sealed in age's STREAM of 64 KiB
//! ChaCha20-Poly1305 chunks. Anyone can decrypt their own contribution with the standard
//! `age` tool. See `docs/envelope.md` for how contributions use it.
//!
//! Why not the `age` crate: this crate seals and opens chunks on every core, in constant
//! memory (see [`Parallelism`]); the age crate does one chunk at a time on one core. The
//! format is small (a text header and a chunked AEAD) and is checked here against the C2SP
//! CCTV test vectors and against the `age` command itself (`tests/`).
//!
//! ```no_run
//! use datacoop_envelope::{decrypt, encrypt, Identity, Parallelism};
//! let me = Identity::generate()?;
//! let collective = "age1...".parse()?;
//! let mut sealed = Vec::new();
//! encrypt(&[me.to_public(), collective], &b"my export"[..], &mut sealed, &Parallelism::AllCores)?;
//! let mut plain = Vec::new();
//! decrypt(&[me], &sealed[..], &mut plain, &Parallelism::AllCores)?;
//! # Ok::<(), datacoop_envelope::Error>(())
//! ```

use std::{
	io::{self, BufRead, Read, Write},
	sync::Arc,
};

use hmac::Mac;
use zeroize::Zeroizing;

mod header;
mod keys;
mod stream;

pub use header::MAX_STANZAS;
pub use keys::{Identity, Recipient};
pub use stream::{DecryptingReader, EncryptingReader, Parallelism, Sealer, CHUNK};

const FILE_KEY_LEN: usize = 16;
type FileKey = [u8; FILE_KEY_LEN];

/// Why a file could not be encrypted or decrypted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
	/// The header is malformed (or the file is not an age file at all).
	#[error("not a valid age file: {0}")]
	Header(&'static str),
	/// No stanza in the header is for any of the identities given.
	#[error("the file was not encrypted to this key (no recipient stanza matches)")]
	NoMatch,
	/// A file key was found but the header's MAC does not match: the header was altered.
	#[error("the file's header does not authenticate: it was modified")]
	HeaderMac,
	/// The payload failed at a chunk. What came before it was authentic, but the file is
	/// not whole: a caller must not keep the output as the plaintext.
	#[error("the encrypted data is damaged at chunk {chunk} (of 64 KiB): {reason}")]
	Payload { chunk: u64, reason: &'static str },
	/// A key string or key bytes are not usable.
	#[error("invalid key: {0}")]
	InvalidKey(String),
	/// Encrypting to nobody would make a file nobody can open.
	#[error("no recipients to encrypt to")]
	NoRecipients,
	/// More recipients than a reader accepts ([`MAX_STANZAS`]).
	#[error("more than 64 recipients: readers refuse such a file")]
	TooManyRecipients,
	/// A chunk handed to a [`Sealer`] out of order or of the wrong size.
	#[error("cannot seal this chunk: {0}")]
	Chunk(&'static str),
	/// The operating system's random generator failed.
	#[error("the system random generator failed: {0}")]
	Random(String),
	/// Reading the input or writing the output failed.
	#[error("{0}")]
	Io(Arc<io::Error>),
}

impl From<io::Error> for Error {
	/// An I/O error that carries one of ours (from a reader here) becomes that error again.
	fn from(e: io::Error) -> Self {
		if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
			let inner = e.into_inner().expect("checked above");
			return *inner.downcast::<Error>().expect("checked above");
		}
		Self::Io(Arc::new(e))
	}
}

/// A reader of `input` encrypted to `recipients`: the header, then the payload as `input`
/// is read. For streaming, e.g. straight into an upload.
pub fn encrypting_reader<R: Read>(
	recipients: &[Recipient],
	input: R,
	parallelism: &Parallelism,
) -> Result<EncryptingReader<R>, Error> {
	let (file_key, header) = new_header(recipients)?;
	EncryptingReader::new(input, &file_key, header, parallelism)
}

/// A [`Sealer`] of a file encrypted to `recipients`, for callers that hand the plaintext
/// over chunk by chunk rather than as a reader.
pub fn sealer(recipients: &[Recipient]) -> Result<Sealer, Error> {
	let (file_key, header) = new_header(recipients)?;
	Sealer::new(&file_key, header)
}

/// A fresh file key and the header that wraps it to each of `recipients`.
fn new_header(recipients: &[Recipient]) -> Result<(Zeroizing<FileKey>, Vec<u8>), Error> {
	if recipients.is_empty() {
		return Err(Error::NoRecipients);
	}
	if recipients.len() > MAX_STANZAS {
		return Err(Error::TooManyRecipients);
	}
	let mut file_key = Zeroizing::new(FileKey::default());
	getrandom::getrandom(file_key.as_mut()).map_err(|e| Error::Random(e.to_string()))?;
	let stanzas = recipients.iter().map(|r| r.wrap(&file_key)).collect::<Result<Vec<_>, _>>()?;
	let header = header::encode(&stanzas, &file_key);
	Ok((file_key, header))
}

/// Encrypts all of `input` to `recipients` into `output`; returns the bytes written.
pub fn encrypt<R: Read, W: Write>(
	recipients: &[Recipient],
	input: R,
	mut output: W,
	parallelism: &Parallelism,
) -> Result<u64, Error> {
	let mut reader = encrypting_reader(recipients, input, parallelism)?;
	let written = reader.write_to(&mut output)?;
	output.flush()?;
	Ok(written)
}

/// Reads the header of `input` and finds the file key with one of `identities`; returns a
/// reader of the plaintext. Its reads fail (with an [`Error`] inside the `io::Error`,
/// which `Error::from` recovers) as soon as the payload does not authenticate.
pub fn decrypting_reader<R: BufRead>(
	identities: &[Identity],
	mut input: R,
	parallelism: &Parallelism,
) -> Result<DecryptingReader<R>, Error> {
	let header = header::parse(&mut input)?;
	let file_key = file_key(identities, &header)?;
	DecryptingReader::new(input, &file_key, parallelism)
}

/// Decrypts all of `input` into `output`; returns the plaintext bytes written. On an error,
/// `output` may hold the authentic plaintext before the damage, never more: write to a
/// temporary place and keep it only on success.
pub fn decrypt<R: BufRead, W: Write>(
	identities: &[Identity],
	input: R,
	mut output: W,
	parallelism: &Parallelism,
) -> Result<u64, Error> {
	let mut reader = decrypting_reader(identities, input, parallelism)?;
	let written = reader.write_to(&mut output)?;
	output.flush()?;
	Ok(written)
}

/// The size of the encrypted file for a plaintext of `plaintext_len` bytes and
/// `recipients` X25519 recipients: known before encrypting, e.g. to check a DAO's size rules.
pub fn encrypted_len(plaintext_len: u64, recipients: usize) -> u64 {
	let header = header_len(recipients);
	let chunks = plaintext_len.div_ceil(CHUNK as u64).max(1);
	header + stream::NONCE as u64 + plaintext_len + chunks * stream::TAG as u64
}

/// The length of the header of a file encrypted to `recipients` X25519 recipients (what
/// comes before the payload nonce).
pub fn header_len(recipients: usize) -> u64 {
	// "age-encryption.org/v1\n", per stanza "-> X25519 <43>\n<43>\n", "--- <43>\n".
	22 + 98 * recipients as u64 + 48
}

/// The plaintext length of a payload whose sealed chunks (what follows the 16-byte payload
/// nonce) are `sealed_len` bytes, or `None` if no payload is that long: the inverse of
/// [`encrypted_len`]'s payload part, to know a file's plaintext size before decrypting it.
pub fn plaintext_len(sealed_len: u64) -> Option<u64> {
	let sealed_chunk = (CHUNK + stream::TAG) as u64;
	let chunks = sealed_len.div_ceil(sealed_chunk).max(1);
	sealed_len.checked_sub(chunks * stream::TAG as u64)
}

fn file_key(identities: &[Identity], header: &header::Header) -> Result<Zeroizing<FileKey>, Error> {
	let mut found = None;
	// Every stanza is looked at, so a malformed one fails the file whichever key matches.
	for stanza in &header.stanzas {
		for identity in identities {
			if let Some(key) = identity.unwrap(stanza)? {
				found.get_or_insert(Zeroizing::new(key));
			}
		}
	}
	let file_key = found.ok_or(Error::NoMatch)?;
	header::header_mac(&file_key, &header.mac_input)
		.verify_slice(&header.mac)
		.map_err(|_| Error::HeaderMac)?;
	Ok(file_key)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn plaintext_len_inverts_encrypted_len() {
		let header_and_nonce = header_len(1) + stream::NONCE as u64;
		for plain in [
			0,
			1,
			100,
			CHUNK as u64 - 1,
			CHUNK as u64,
			CHUNK as u64 + 1,
			5 * CHUNK as u64,
			123_456_789,
		] {
			let sealed = encrypted_len(plain, 1) - header_and_nonce;
			assert_eq!(plaintext_len(sealed), Some(plain), "{plain}");
		}
		assert_eq!(plaintext_len(15), None);
	}
}
