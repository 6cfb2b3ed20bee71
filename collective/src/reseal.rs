//! A contribution re-encrypted for a grantee, as one tar entry: the blob (an age file to the
//! DAO's key) is decrypted as it is read, the contributor statement before the data is
//! dropped, and the data is encrypted again to the grantee's X25519 key, straight into the
//! tar stream. Constant memory: the two envelope readers' buffers, whatever the blob's size.
//!
//! A tar entry's size is written before its bytes, so the age file's length is worked out
//! from the blob's (its header's length, then [`plaintext_len`]) before a byte is decrypted;
//! a blob that does not decrypt to that many bytes fails the entry (and so the stream).

use std::{
	io::{self, BufRead, Read, Write},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
};

use blake2::{digest::consts::U32, Blake2b, Digest};
use datacoop_envelope::{
	decrypting_reader, encrypted_len, encrypting_reader, header_len, plaintext_len, Identity,
	Parallelism, Recipient,
};
use datacoop_primitives::contribution::STATEMENT_LINE_LEN;

/// What the grantee's file is, for its receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resealed {
	/// The age file's length in bytes.
	pub age_len: u64,
	/// BLAKE2-256 of its header.
	pub age_header_hash: [u8; 32],
}

/// Appends the data of `blob` (`blob_len` bytes, an age file `identity` opens, the
/// contributor statement first) to `tar` as entry `name`: an age file to `recipient`.
pub fn reseal<W: Write>(
	tar: &mut tar::Builder<W>,
	name: &str,
	identity: &Identity,
	blob: impl BufRead,
	blob_len: u64,
	recipient: &Recipient,
) -> io::Result<Resealed> {
	let consumed = Arc::new(AtomicU64::new(0));
	let counted = Counted { inner: blob, consumed: consumed.clone() };
	let mut plain =
		decrypting_reader(std::slice::from_ref(identity), counted, &Parallelism::AllCores)
			.map_err(io::Error::other)?;
	// The header and the payload nonce are read: what is left are the sealed chunks.
	let data_len = blob_len
		.checked_sub(consumed.load(Ordering::Relaxed))
		.and_then(plaintext_len)
		.and_then(|p| p.checked_sub(STATEMENT_LINE_LEN as u64))
		.ok_or_else(|| io::Error::other("shorter than a contributor statement"))?;
	let mut statement = [0u8; STATEMENT_LINE_LEN];
	plain.read_exact(&mut statement)?;
	let age_len = encrypted_len(data_len, 1);
	let sealed = encrypting_reader(std::slice::from_ref(recipient), plain, &Parallelism::AllCores)
		.map_err(io::Error::other)?;
	let mut file = Exact::new(sealed, age_len);
	tar.append_data(&mut file_header(age_len), name, &mut file)?;
	Ok(Resealed { age_len, age_header_hash: file.header_hash() })
}

/// Appends `plain` encrypted to `recipient` to `tar` as entry `name` (an anonymized copy,
/// built in memory).
pub fn seal_bytes<W: Write>(
	tar: &mut tar::Builder<W>,
	name: &str,
	plain: &[u8],
	recipient: &Recipient,
) -> io::Result<Resealed> {
	let age_len = encrypted_len(plain.len() as u64, 1);
	let sealed = encrypting_reader(std::slice::from_ref(recipient), plain, &Parallelism::AllCores)
		.map_err(io::Error::other)?;
	let mut file = Exact::new(sealed, age_len);
	tar.append_data(&mut file_header(age_len), name, &mut file)?;
	Ok(Resealed { age_len, age_header_hash: file.header_hash() })
}

/// Appends `bytes` to `tar` as entry `name`.
pub fn append_bytes<W: Write>(
	tar: &mut tar::Builder<W>,
	name: &str,
	bytes: &[u8],
) -> io::Result<()> {
	tar.append_data(&mut file_header(bytes.len() as u64), name, bytes)
}

/// A tar header for a regular file of `len` bytes (no owner, no time: the same export gives
/// the same headers).
fn file_header(len: u64) -> tar::Header {
	let mut header = tar::Header::new_ustar();
	header.set_size(len);
	header.set_mode(0o600);
	header.set_mtime(0);
	header.set_entry_type(tar::EntryType::Regular);
	header
}

/// Counts what is consumed of a buffered reader, to know where the age header ended.
struct Counted<R> {
	inner: R,
	consumed: Arc<AtomicU64>,
}

impl<R: BufRead> Read for Counted<R> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		let n = self.inner.read(buf)?;
		self.consumed.fetch_add(n as u64, Ordering::Relaxed);
		Ok(n)
	}
}

impl<R: BufRead> BufRead for Counted<R> {
	fn fill_buf(&mut self) -> io::Result<&[u8]> {
		self.inner.fill_buf()
	}

	fn consume(&mut self, n: usize) {
		self.inner.consume(n);
		self.consumed.fetch_add(n as u64, Ordering::Relaxed);
	}
}

/// Exactly `len` bytes of a reader, or an error (a tar entry's size is written before its
/// bytes); hashes the first [`age_header_len`] of them.
struct Exact<R> {
	inner: R,
	left: u64,
	hashed: usize,
	hasher: Blake2b<U32>,
}

impl<R: Read> Exact<R> {
	fn new(inner: R, len: u64) -> Exact<R> {
		Exact { inner, left: len, hashed: 0, hasher: Blake2b::new() }
	}

	fn header_hash(self) -> [u8; 32] {
		self.hasher.finalize().into()
	}
}

impl<R: Read> Read for Exact<R> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		if self.left == 0 {
			return Ok(0);
		}
		let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
		let n = self.inner.read(&mut buf[..want])?;
		if n == 0 {
			return Err(io::Error::new(
				io::ErrorKind::UnexpectedEof,
				"a file ended before its size",
			));
		}
		let header = header_len(1) as usize;
		if self.hashed < header {
			let take = n.min(header - self.hashed);
			self.hasher.update(&buf[..take]);
			self.hashed += take;
		}
		self.left -= n as u64;
		Ok(n)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use datacoop_envelope::encrypt;

	/// A contribution as the wallet makes it: a statement line, then the data, to `dao`.
	fn blob(dao: &Identity, data: &[u8]) -> Vec<u8> {
		let mut plain = vec![b's'; STATEMENT_LINE_LEN];
		plain.extend_from_slice(data);
		let mut sealed = Vec::new();
		encrypt(&[dao.to_public()], &plain[..], &mut sealed, &Parallelism::OneCore).unwrap();
		sealed
	}

	#[test]
	fn the_grantee_gets_the_data_without_the_statement() {
		let (dao, grantee) = (Identity::generate().unwrap(), Identity::generate().unwrap());
		let mut tar = tar::Builder::new(Vec::new());
		let mut sizes = Vec::new();
		for len in [0usize, 1, 65_536 - STATEMENT_LINE_LEN, 200_000] {
			let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
			let sealed = blob(&dao, &data);
			let r = reseal(
				&mut tar,
				&format!("f{len}"),
				&dao,
				&sealed[..],
				sealed.len() as u64,
				&grantee.to_public(),
			)
			.unwrap();
			sizes.push((data, r));
		}
		let bytes = tar.into_inner().unwrap();
		let mut archive = tar::Archive::new(&bytes[..]);
		for (entry, (data, r)) in archive.entries().unwrap().zip(sizes) {
			let mut entry = entry.unwrap();
			let mut file = Vec::new();
			entry.read_to_end(&mut file).unwrap();
			assert_eq!(file.len() as u64, r.age_len);
			assert_eq!(
				<[u8; 32]>::from(Blake2b::<U32>::digest(&file[..header_len(1) as usize])),
				r.age_header_hash
			);
			let mut opened = Vec::new();
			datacoop_envelope::decrypt(
				std::slice::from_ref(&grantee),
				&file[..],
				&mut opened,
				&Parallelism::OneCore,
			)
			.unwrap();
			assert!(opened == data);
		}
	}

	#[test]
	fn a_blob_not_for_the_dao_or_cut_short_fails_the_entry() {
		let (dao, other) = (Identity::generate().unwrap(), Identity::generate().unwrap());
		let sealed = blob(&dao, &[7; 100_000]);
		let mut tar = tar::Builder::new(Vec::new());
		let to = other.to_public();
		assert!(reseal(&mut tar, "x", &other, &sealed[..], sealed.len() as u64, &to).is_err());
		let cut = &sealed[..sealed.len() - 10];
		assert!(reseal(&mut tar, "x", &dao, cut, cut.len() as u64, &to).is_err());
		// a size that is not the blob's: the entry fails rather than lie about its length
		assert!(reseal(&mut tar, "x", &dao, &sealed[..], sealed.len() as u64 + 100, &to).is_err());
		let short = blob(&dao, &[]);
		let tiny = &short[..short.len()];
		assert!(reseal(&mut tar, "x", &dao, tiny, tiny.len() as u64 - 1, &to).is_err());
	}
}
