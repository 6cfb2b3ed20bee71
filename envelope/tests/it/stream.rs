//! Round trips at chunk and batch boundaries, on one core and many, and every way of
//! damaging a file: each fails with a clear error and never passes part of a file as whole.

use std::io::{self, IoSliceMut, Read};

use datacoop_envelope::{
	decrypt, decrypting_reader, encrypt, encrypted_len, Error, Identity, Parallelism, Recipient,
	CHUNK, MAX_STANZAS,
};
use proptest::prelude::*;

const HEADER_ONE_RECIPIENT: usize = 22 + 98 + 48;
const NONCE: usize = 16;
const SEALED: usize = CHUNK + 16;

fn data(len: usize) -> Vec<u8> {
	(0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn seal(me: &Identity, plain: &[u8], parallelism: &Parallelism) -> Vec<u8> {
	let mut sealed = Vec::new();
	let n = encrypt(&[me.to_public()], plain, &mut sealed, parallelism).unwrap();
	assert_eq!(n as usize, sealed.len());
	sealed
}

fn open(me: &Identity, sealed: &[u8]) -> (Result<u64, Error>, Vec<u8>) {
	let mut out = Vec::new();
	let result = decrypt(std::slice::from_ref(me), sealed, &mut out, &Parallelism::AllCores);
	(result, out)
}

#[test]
fn round_trips_at_chunk_and_batch_boundaries() {
	let me = Identity::generate().unwrap();
	for len in [
		0,
		1,
		CHUNK - 1,
		CHUNK,
		CHUNK + 1,
		3 * CHUNK,
		32 * CHUNK,
		32 * CHUNK + 1,
		64 * CHUNK,
		64 * CHUNK + 1,
		129 * CHUNK + 5,
	] {
		let plain = data(len);
		for parallelism in [Parallelism::OneCore, Parallelism::AllCores, Parallelism::Threads(3)] {
			let sealed = seal(&me, &plain, &parallelism);
			assert_eq!(sealed.len() as u64, encrypted_len(len as u64, 1), "{len} bytes");
			let mut out = Vec::new();
			decrypt(std::slice::from_ref(&me), &sealed[..], &mut out, &parallelism).unwrap();
			assert!(out == plain, "{len} bytes, {parallelism:?}");
		}
	}
}

/// A reader that gives at most `step` bytes per call, spread over as many buffers as a
/// vectored read offers: the short reads of pipes and sockets.
struct Trickle<'a> {
	data: &'a [u8],
	step: usize,
}

impl Read for Trickle<'_> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		self.read_vectored(&mut [IoSliceMut::new(buf)])
	}

	fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
		let mut given = 0;
		for buf in bufs {
			let n = buf.len().min(self.step - given).min(self.data.len());
			buf[..n].copy_from_slice(&self.data[..n]);
			self.data = &self.data[n..];
			given += n;
			if given == self.step || self.data.is_empty() {
				break;
			}
		}
		Ok(given)
	}
}

#[test]
fn short_reads_seal_the_same_plaintext() {
	let me = Identity::generate().unwrap();
	let cases = [
		(0, 1),
		(CHUNK + 1, 1),
		(CHUNK, 1000),
		(3 * CHUNK + 7, 1000),
		(40 * CHUNK, CHUNK + 1),
		(40 * CHUNK + 1, CHUNK - 1),
		(70 * CHUNK + 9, 5 * CHUNK + 3),
	];
	for (len, step) in cases {
		let plain = data(len);
		for parallelism in [Parallelism::OneCore, Parallelism::AllCores] {
			let mut sealed = Vec::new();
			let input = Trickle { data: &plain, step };
			encrypt(&[me.to_public()], input, &mut sealed, &parallelism).unwrap();
			assert_eq!(sealed.len() as u64, encrypted_len(len as u64, 1), "{len} bytes by {step}");
			let (result, out) = open(&me, &sealed);
			assert_eq!(result.unwrap(), len as u64);
			assert!(out == plain, "{len} bytes by {step}, {parallelism:?}");
		}
	}
}

#[test]
fn every_recipient_can_open_the_file_and_no_one_else() {
	let (contributor, collective, stranger) = (
		Identity::generate().unwrap(),
		Identity::generate().unwrap(),
		Identity::generate().unwrap(),
	);
	let plain = data(100_000);
	let mut sealed = Vec::new();
	encrypt(
		&[contributor.to_public(), collective.to_public()],
		&plain[..],
		&mut sealed,
		&Parallelism::AllCores,
	)
	.unwrap();
	assert_eq!(sealed.len() as u64, encrypted_len(100_000, 2));
	for who in [&contributor, &collective] {
		assert_eq!(open(who, &sealed).1, plain);
	}
	let (result, out) = open(&stranger, &sealed);
	assert!(matches!(result, Err(Error::NoMatch)), "{result:?}");
	assert!(out.is_empty());
	assert!(matches!(
		encrypt(&[], &plain[..], &mut Vec::new(), &Parallelism::OneCore),
		Err(Error::NoRecipients)
	));
}

#[test]
fn files_have_at_most_max_stanzas_recipients() {
	let ids: Vec<Identity> = (0..=MAX_STANZAS).map(|_| Identity::generate().unwrap()).collect();
	let recipients: Vec<Recipient> = ids.iter().map(Identity::to_public).collect();
	let plain = data(1000);
	let mut sealed = Vec::new();
	encrypt(&recipients[..MAX_STANZAS], &plain[..], &mut sealed, &Parallelism::OneCore).unwrap();
	assert_eq!(sealed.len() as u64, encrypted_len(1000, MAX_STANZAS));
	assert_eq!(open(&ids[MAX_STANZAS - 1], &sealed).1, plain, "the last one opens it");
	// One more would make a file that readers refuse: it is not written.
	let result = encrypt(&recipients, &plain[..], &mut Vec::new(), &Parallelism::OneCore);
	assert!(matches!(result, Err(Error::TooManyRecipients)), "{result:?}");
}

#[test]
fn a_changed_byte_anywhere_fails_and_releases_nothing_after_it() {
	let me = Identity::generate().unwrap();
	let plain = data(3 * CHUNK + 100);
	let sealed = seal(&me, &plain, &Parallelism::AllCores);
	let payload = HEADER_ONE_RECIPIENT + NONCE;
	for (at, what) in [
		(30, "the stanza"),
		(HEADER_ONE_RECIPIENT - 5, "the header MAC"),
		(HEADER_ONE_RECIPIENT + 3, "the payload nonce"),
		(payload + 10, "the first chunk"),
		(payload + SEALED - 1, "the first chunk's tag"),
		(payload + 2 * SEALED + 7, "the third chunk"),
		(sealed.len() - 1, "the last chunk's tag"),
	] {
		let mut bad = sealed.clone();
		bad[at] ^= 0x20;
		let (result, out) = open(&me, &bad);
		assert!(result.is_err(), "a change in {what} went unnoticed");
		// Whatever came out is whole authentic chunks from the start, no more.
		assert!(
			out.len() % CHUNK == 0 && plain.starts_with(&out),
			"{what}: {} bytes out",
			out.len()
		);
	}
}

#[test]
fn damage_in_a_later_batch_releases_exactly_the_chunks_before_it() {
	// 200 chunks: several batches (32 to 64 chunks each), two of them in the pool ahead of the
	// one being handed out. Damage in chunk k: exactly chunks 0..k come out, then the error.
	let me = Identity::generate().unwrap();
	let plain = data(200 * CHUNK + 3);
	let payload = HEADER_ONE_RECIPIENT + NONCE;
	for parallelism in [Parallelism::AllCores, Parallelism::Threads(3), Parallelism::OneCore] {
		let sealed = seal(&me, &plain, &parallelism);
		for k in [31usize, 32, 33, 64, 65, 130, 199] {
			let mut bad = sealed.clone();
			bad[payload + k * SEALED + 100] ^= 1;
			let mut reader =
				decrypting_reader(std::slice::from_ref(&me), &bad[..], &parallelism).unwrap();
			let mut out = Vec::new();
			let err = reader.read_to_end(&mut out).unwrap_err();
			assert_eq!(out.len(), k * CHUNK, "chunk {k} ({parallelism:?}): {err}");
			assert!(plain.starts_with(&out));
			match Error::from(err) {
				Error::Payload { chunk, .. } => assert_eq!(chunk, k as u64),
				other => panic!("chunk {k}: {other}"),
			}
			// `decrypt` writes straight from the batches: the same chunks, the same error
			let mut written = Vec::new();
			let err = decrypt(std::slice::from_ref(&me), &bad[..], &mut written, &parallelism)
				.unwrap_err();
			assert!(written == out, "chunk {k} ({parallelism:?}): {} bytes written", written.len());
			assert!(matches!(err, Error::Payload { chunk, .. } if chunk == k as u64), "{err}");
		}
		// cut after chunk k, on a chunk boundary: chunks 0..k out, then "truncated"
		for k in [32usize, 96, 150] {
			let cut = &sealed[..payload + k * SEALED];
			let (result, out) = open(&me, cut);
			assert!(result.is_err());
			assert!(out.len() <= k * CHUNK && plain.starts_with(&out), "cut {k}");
		}
	}
}

#[test]
fn truncated_extended_and_reordered_files_fail() {
	let me = Identity::generate().unwrap();
	let plain = data(3 * CHUNK);
	let sealed = seal(&me, &plain, &Parallelism::AllCores);
	let payload = HEADER_ONE_RECIPIENT + NONCE;
	// Cut at every chunk boundary (the file then looks complete but its last chunk is not
	// marked last), mid-chunk, inside the header and inside the nonce.
	for cut in [
		payload + SEALED,
		payload + 2 * SEALED,
		payload + SEALED + 500,
		sealed.len() - 1,
		50,
		payload - 3,
		payload,
	] {
		let (result, out) = open(&me, &sealed[..cut]);
		assert!(result.is_err(), "cut at {cut} went unnoticed");
		assert!(out.len() % CHUNK == 0 && plain.starts_with(&out));
		assert!(out.len() < plain.len());
	}
	let mut longer = sealed.clone();
	longer.extend_from_slice(&[0u8; 40]);
	assert!(matches!(open(&me, &longer).0, Err(Error::Payload { .. })));

	let mut swapped = sealed.clone();
	let (a, b) = (payload, payload + SEALED);
	let first = sealed[a..a + SEALED].to_vec();
	swapped.copy_within(b..b + SEALED, a);
	swapped[b..b + SEALED].copy_from_slice(&first);
	let (result, out) = open(&me, &swapped);
	assert!(matches!(result, Err(Error::Payload { chunk: 0, .. })), "{result:?}");
	assert!(out.is_empty());
}

#[test]
fn errors_say_what_is_wrong() {
	let me = Identity::generate().unwrap();
	let (result, _) = open(&me, b"PK\x03\x04 a zip file");
	assert_eq!(
		result.unwrap_err().to_string(),
		"not a valid age file: not an age file (no age-encryption.org/v1 line)"
	);
	let sealed = seal(&me, &data(10), &Parallelism::OneCore);
	let (result, _) = open(&Identity::generate().unwrap(), &sealed);
	assert_eq!(
		result.unwrap_err().to_string(),
		"the file was not encrypted to this key (no recipient stanza matches)"
	);
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	#[test]
	fn any_change_is_caught(len in 0usize..(2 * CHUNK + 10), at in any::<prop::sample::Index>(), bit in 0u8..8) {
		let me = Identity::generate().unwrap();
		let plain = data(len);
		let mut sealed = seal(&me, &plain, &Parallelism::OneCore);
		let at = at.index(sealed.len());
		sealed[at] ^= 1 << bit;
		let (result, out) = open(&me, &sealed);
		prop_assert!(result.is_err());
		prop_assert!(out.len() % CHUNK == 0 && plain.starts_with(&out));
	}

	#[test]
	fn any_cut_is_caught(len in 0usize..(2 * CHUNK + 10), keep in any::<prop::sample::Index>()) {
		let me = Identity::generate().unwrap();
		let plain = data(len);
		let sealed = seal(&me, &plain, &Parallelism::OneCore);
		let keep = keep.index(sealed.len());
		let (result, out) = open(&me, &sealed[..keep]);
		prop_assert!(result.is_err());
		prop_assert!(out.len() % CHUNK == 0 && plain.starts_with(&out));
	}
}

/// What a [`datacoop_envelope::Sealer`] makes of `plain` handed over chunk by chunk.
fn seal_by_chunks(recipients: &[Recipient], plain: &[u8]) -> Vec<u8> {
	let mut sealer = datacoop_envelope::sealer(recipients).unwrap();
	let mut out = sealer.header().to_vec();
	let chunks: Vec<&[u8]> =
		if plain.is_empty() { vec![&[]] } else { plain.chunks(CHUNK).collect() };
	for (i, chunk) in chunks.iter().enumerate() {
		out.extend(sealer.seal(chunk, i + 1 == chunks.len()).unwrap());
	}
	assert!(sealer.is_done());
	out
}

#[test]
fn a_sealer_fed_chunk_by_chunk_makes_the_same_format() {
	let me = Identity::generate().unwrap();
	let other = Identity::generate().unwrap();
	for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 3] {
		let plain = data(len);
		let sealed = seal_by_chunks(&[me.to_public(), other.to_public()], &plain);
		assert_eq!(sealed.len() as u64, encrypted_len(len as u64, 2), "{len}");
		for who in [&me, &other] {
			let (result, out) = open(who, &sealed);
			assert_eq!(result.unwrap(), len as u64);
			assert!(out == plain, "{len}");
		}
	}
}

#[test]
fn a_sealer_refuses_chunks_that_would_make_a_file_readers_refuse() {
	let me = Identity::generate().unwrap();
	let mut sealer = datacoop_envelope::sealer(&[me.to_public()]).unwrap();
	let short = |e: Error| assert!(matches!(e, Error::Chunk(_)), "{e}");
	// A short chunk that is not the last, and a chunk over 64 KiB.
	short(sealer.seal(&[1; 10], false).unwrap_err());
	short(sealer.seal(&vec![1; CHUNK + 1], true).unwrap_err());
	// Refusals changed nothing: the file is still whole once sealed properly.
	let mut file = sealer.header().to_vec();
	file.extend(sealer.seal(&[7; CHUNK], false).unwrap());
	// An empty last chunk after others, then anything after the last.
	short(sealer.seal(&[], true).unwrap_err());
	file.extend(sealer.seal(&[8; 3], true).unwrap());
	short(sealer.seal(&[9; 3], true).unwrap_err());
	let (result, out) = open(&me, &file);
	assert_eq!(result.unwrap(), CHUNK as u64 + 3);
	assert!(out[..CHUNK].iter().all(|&b| b == 7) && out[CHUNK..] == [8, 8, 8]);
	assert!(matches!(datacoop_envelope::sealer(&[]), Err(Error::NoRecipients)));

	// Into a buffer: the same file, and a buffer without room for the tag is refused.
	let mut sealer = datacoop_envelope::sealer(&[me.to_public()]).unwrap();
	let mut file = sealer.header().to_vec();
	let mut out = vec![0u8; CHUNK + 16];
	short(sealer.seal_into(&[7; CHUNK], false, &mut out[..CHUNK + 15]).unwrap_err());
	let n = sealer.seal_into(&[7; CHUNK], false, &mut out).unwrap();
	file.extend_from_slice(&out[..n]);
	let n = sealer.seal_into(&[8; 3], true, &mut out).unwrap();
	file.extend_from_slice(&out[..n]);
	let (result, opened) = open(&me, &file);
	assert_eq!(result.unwrap(), CHUNK as u64 + 3);
	assert!(opened[..CHUNK].iter().all(|&b| b == 7) && opened[CHUNK..] == [8, 8, 8]);
}
