//! age's STREAM payload: a 16-byte nonce, then the plaintext in 64 KiB chunks, each sealed
//! with ChaCha20-Poly1305 under the payload key and the nonce `counter (11 bytes, big endian)
//! ‖ last-chunk flag (1 byte)`. Only the last chunk may be shorter than 64 KiB; it is empty
//! only if the whole plaintext is.
//!
//! Chunks are independent, so a batch of them is sealed or opened on every core (rayon), in
//! place: each chunk is read into its slot, sealed or opened there and handed out from there.
//! The readers keep three batches in the pool while the calling thread reads the next batch
//! in and hands the finished one out, so reading, copying and sealing overlap. Memory is five
//! batch buffers, whatever the file's size. A chunk is known to be the last by looking one byte
//! past it.

use std::{
	collections::VecDeque,
	io::{self, IoSliceMut, Read, Write},
	sync::{mpsc, Arc},
};

use chacha20poly1305::{aead::AeadInPlace, ChaCha20Poly1305, KeyInit, Tag};
use hkdf::Hkdf;
use rayon::prelude::*;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Error, FileKey};

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// Poly1305 tag bytes per chunk.
pub const TAG: usize = 16;
/// Bytes of the payload nonce before the first chunk.
pub const NONCE: usize = 16;

/// How many cores to encrypt or decrypt on.
///
/// With `AllCores` the readers hand batches to rayon's global pool and wait for them: do not
/// drive a reader from inside a task of that pool (a `par_iter` body, say), or the pool may
/// have no thread left to seal the batch it waits for. Use `Threads(n)` there.
#[derive(Clone, Debug, Default)]
pub enum Parallelism {
	/// rayon's global pool: every core.
	#[default]
	AllCores,
	/// The calling thread only.
	OneCore,
	/// A pool of its own with this many threads.
	Threads(usize),
}

/// Where a batch runs.
#[derive(Clone)]
enum Runner {
	Global,
	Inline,
	Pool(Arc<rayon::ThreadPool>),
}

impl Runner {
	fn new(parallelism: &Parallelism) -> Result<Self, Error> {
		Ok(match parallelism {
			Parallelism::AllCores => Self::Global,
			Parallelism::OneCore | Parallelism::Threads(0 | 1) => Self::Inline,
			Parallelism::Threads(n) => Self::Pool(Arc::new(
				rayon::ThreadPoolBuilder::new()
					.num_threads(*n)
					.build()
					.map_err(|e| Error::from(io::Error::other(e)))?,
			)),
		})
	}

	/// Chunks per batch: enough to keep every thread busy, 2 to 4 MiB. With three batches in
	/// the pool, one being handed out and a spare, a reader holds five batch buffers (20 MiB
	/// on 8 cores or more, 10 MiB on 2) whatever the file's size.
	fn batch_chunks(&self) -> usize {
		let threads = match self {
			Self::Global => rayon::current_num_threads(),
			Self::Inline => 1,
			Self::Pool(pool) => pool.current_num_threads(),
		};
		(threads * 8).clamp(32, 64)
	}

	/// Batches submitted ahead of the one being handed out. Three, not two: on two cores the
	/// calling thread's reads take a core from the pool now and then, and with a third batch
	/// waiting the pool never runs dry meanwhile (1 GiB encrypted in 0.49 s instead of
	/// 0.50 to 0.56; `scripts/bench-envelope.sh`).
	fn depth(&self) -> usize {
		match self {
			Self::Inline => 1,
			Self::Global | Self::Pool(_) => 3,
		}
	}

	/// Runs `work(i, chunk i)` over `batch.buf[..region]` cut in `slot`-byte chunks (the
	/// last may be shorter), in place, in the pool, and keeps the results in order.
	fn submit<T: Send + 'static>(
		&self,
		mut batch: Batch<T>,
		region: usize,
		slot: usize,
		work: impl Fn(usize, &mut [u8]) -> T + Send + Sync + 'static,
	) -> Pending<T> {
		let run = move |parallel: bool, batch: &mut Batch<T>| {
			let region = &mut batch.buf[..region];
			batch.results = if parallel {
				region.par_chunks_mut(slot).enumerate().map(|(i, c)| work(i, c)).collect()
			} else {
				region.chunks_mut(slot).enumerate().map(|(i, c)| work(i, c)).collect()
			};
		};
		match self {
			Self::Inline => {
				run(false, &mut batch);
				Pending::Ready(batch)
			},
			Self::Global | Self::Pool(_) => {
				let (tx, rx) = mpsc::sync_channel(1);
				let job = move || {
					run(true, &mut batch);
					// The reader may have stopped waiting (an error, or dropped): fine.
					let _ = tx.send(batch);
				};
				match self {
					Self::Pool(pool) => pool.spawn(job),
					_ => rayon::spawn(job),
				}
				Pending::Running(rx)
			},
		}
	}
}

/// A batch of chunks on its way through the pool, sealed or opened in place in `buf`.
struct Batch<T> {
	/// Chunks in slots of `CHUNK + TAG` bytes: plaintext then room for its tag (encrypting),
	/// or sealed chunks (decrypting, where the plaintext replaces each chunk's body).
	buf: Vec<u8>,
	/// Bytes of `buf` in use: plaintext bytes (encrypting) or sealed bytes (decrypting).
	len: usize,
	/// Index of its first chunk in the file.
	first: u64,
	/// Chunks in it.
	chunks: usize,
	/// Whether the input ended with it.
	end: bool,
	/// The work's result for each chunk.
	results: Vec<T>,
}

enum Pending<T> {
	Ready(Batch<T>),
	Running(mpsc::Receiver<Batch<T>>),
}

impl<T> Pending<T> {
	fn wait(self) -> io::Result<Batch<T>> {
		match self {
			Pending::Ready(b) => Ok(b),
			Pending::Running(rx) => {
				rx.recv().map_err(|_| io::Error::other("an encryption thread died"))
			},
		}
	}
}

/// A buffer of `len` bytes: the spare if there is one (grown if need be), else a new one.
/// Buffers are reused as they are, not cleared: every byte handed out was written first.
fn buffer(spare: &mut Option<Vec<u8>>, len: usize) -> Vec<u8> {
	let mut buf = spare.take().unwrap_or_default();
	if buf.len() < len {
		buf.resize(len, 0);
	}
	buf
}

fn payload_cipher(file_key: &FileKey, nonce: &[u8; NONCE]) -> ChaCha20Poly1305 {
	let mut key = Zeroizing::new([0u8; 32]);
	Hkdf::<Sha256>::new(Some(nonce), file_key)
		.expand(b"payload", key.as_mut())
		.expect("32 bytes is a valid HKDF-SHA256 output length");
	ChaCha20Poly1305::new(key.as_ref().into())
}

fn chunk_nonce(counter: u64, last: bool) -> chacha20poly1305::Nonce {
	let mut nonce = [0u8; 12];
	nonce[3..11].copy_from_slice(&counter.to_be_bytes());
	nonce[11] = u8::from(last);
	nonce.into()
}

/// Reads from `input` until `buf` is full or the input ends; returns the bytes read.
fn fill<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
	let mut filled = 0;
	while filled < buf.len() {
		match input.read(&mut buf[filled..]) {
			Ok(0) => break,
			Ok(n) => filled += n,
			Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
			Err(e) => return Err(e),
		}
	}
	Ok(filled)
}

/// Reads up to `size` sealed bytes into `buf` (at least `size + 1` long), after the byte
/// carried over from the last batch, plus one byte more if there is one, carried to the
/// next. Returns the bytes read and whether the input ended in this batch.
fn read_batch<R: Read>(
	input: &mut R,
	buf: &mut [u8],
	carry: &mut Option<u8>,
	size: usize,
) -> io::Result<(usize, bool)> {
	let mut start = 0;
	if let Some(b) = carry.take() {
		buf[0] = b;
		start = 1;
	}
	let len = start + fill(input, &mut buf[start..size + 1])?;
	if len > size {
		*carry = Some(buf[size]);
		Ok((size, false))
	} else {
		Ok((len, true))
	}
}

/// Reads up to `slots` chunks of plaintext into `buf`, each at the start of its
/// `CHUNK + TAG` slot, after the byte carried over from the last batch, and one byte past
/// them, carried to the next batch. One vectored read fills every slot and the byte past
/// (a `readv` on files and pipes), not a read per chunk. Returns the plaintext bytes read
/// and whether the input ended in this batch.
fn read_slots<R: Read>(
	input: &mut R,
	buf: &mut [u8],
	carry: &mut Option<u8>,
	slots: usize,
) -> io::Result<(usize, bool)> {
	let start = match carry.take() {
		Some(b) => {
			buf[0] = b;
			1
		},
		None => 0,
	};
	let mut next = [0u8];
	let mut slices: Vec<IoSliceMut> = buf
		.chunks_mut(CHUNK + TAG)
		.take(slots)
		.enumerate()
		.map(|(i, slot)| IoSliceMut::new(&mut slot[if i == 0 { start } else { 0 }..CHUNK]))
		.chain([IoSliceMut::new(&mut next)])
		.collect();
	let want = slots * CHUNK - start + 1;
	let (mut got, mut unfilled) = (0, &mut slices[..]);
	while got < want {
		match input.read_vectored(unfilled) {
			Ok(0) => break,
			Ok(n) => {
				got += n;
				IoSliceMut::advance_slices(&mut unfilled, n);
			},
			Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
			Err(e) => return Err(e),
		}
	}
	drop(slices);
	if got == want {
		*carry = Some(next[0]);
		Ok((slots * CHUNK, false))
	} else {
		Ok((start + got, true))
	}
}

/// Serves `out[pos..]` to `read` calls.
fn serve(out: &[u8], pos: &mut usize, buf: &mut [u8]) -> usize {
	let n = buf.len().min(out.len() - *pos);
	buf[..n].copy_from_slice(&out[*pos..*pos + n]);
	*pos += n;
	n
}

/// Encrypts chunk by chunk as the caller hands the chunks over, on the calling thread: for a
/// caller that cannot lend a `Read`, such as a web page that reads a `File` slice by slice
/// (the `datacoop-envelope-wasm` crate). The same bytes as [`EncryptingReader`]: the header
/// and payload nonce ([`Sealer::header`]), then each chunk sealed in order.
pub struct Sealer {
	cipher: ChaCha20Poly1305,
	/// The header and the payload nonce.
	header: Vec<u8>,
	/// Index of the next chunk.
	counter: u64,
	/// Whether the last chunk was sealed.
	done: bool,
}

impl Sealer {
	pub(crate) fn new(file_key: &FileKey, mut header: Vec<u8>) -> Result<Self, Error> {
		let mut nonce = [0u8; NONCE];
		getrandom::getrandom(&mut nonce).map_err(|e| Error::Random(e.to_string()))?;
		header.extend_from_slice(&nonce);
		Ok(Self { cipher: payload_cipher(file_key, &nonce), header, counter: 0, done: false })
	}

	/// What comes before the first sealed chunk: the age header and the payload nonce.
	pub fn header(&self) -> &[u8] {
		&self.header
	}

	/// Seals the next chunk of plaintext: [`CHUNK`] bytes exactly unless it is the `last`,
	/// which may be shorter, and empty only if the whole plaintext is. Returns the chunk
	/// sealed (its bytes and a [`TAG`]-byte tag). A chunk out of these rules is refused and
	/// changes nothing, so a caller's slip cannot make a file that readers refuse.
	pub fn seal(&mut self, chunk: &[u8], last: bool) -> Result<Vec<u8>, Error> {
		let mut sealed = vec![0; chunk.len() + TAG];
		self.seal_into(chunk, last, &mut sealed)?;
		Ok(sealed)
	}

	/// [`Sealer::seal`] into `out`, which needs room for the chunk and its tag; returns the
	/// bytes written. For callers that gather sealed chunks in a buffer they reuse.
	pub fn seal_into(&mut self, chunk: &[u8], last: bool, out: &mut [u8]) -> Result<usize, Error> {
		if self.done {
			return Err(Error::Chunk("the last chunk was sealed already"));
		}
		if chunk.len() > CHUNK || (!last && chunk.len() < CHUNK) {
			return Err(Error::Chunk("every chunk but the last must be 64 KiB, the last at most"));
		}
		if last && chunk.is_empty() && self.counter > 0 {
			return Err(Error::Chunk("the last chunk is empty only if the whole file is"));
		}
		let len = chunk.len();
		let Some(out) = out.get_mut(..len + TAG) else {
			return Err(Error::Chunk("no room for the sealed chunk (its bytes and a 16-byte tag)"));
		};
		let (body, tag_room) = out.split_at_mut(len);
		body.copy_from_slice(chunk);
		let tag = self
			.cipher
			.encrypt_in_place_detached(&chunk_nonce(self.counter, last), &[], body)
			.map_err(|_| Error::Chunk("ChaCha20-Poly1305 refused the chunk"))?;
		tag_room.copy_from_slice(&tag);
		self.counter += 1;
		self.done = last;
		Ok(len + TAG)
	}

	/// Whether the last chunk was sealed (the file is whole).
	pub fn is_done(&self) -> bool {
		self.done
	}
}

/// Encrypts as it is read: yields `prefix` (the header), the payload nonce, then the
/// sealed chunks of what it reads from `input`. Plaintext is read straight into the slot
/// where it is sealed, and handed out from there: two copies per byte (in and out), as for
/// any `Read`.
pub struct EncryptingReader<R> {
	input: R,
	cipher: Arc<ChaCha20Poly1305>,
	runner: Runner,
	/// Chunks per batch at most, and in the next batch: the first batch is one chunk and each
	/// doubles up to the most, so a small file costs a small buffer, not megabytes.
	batch_chunks: usize,
	next_chunks: usize,
	/// Index of the next chunk to submit.
	counter: u64,
	carry: Option<u8>,
	/// Whether the input's end has been read (the last batch is submitted).
	input_done: bool,
	queue: VecDeque<Pending<Result<(), ()>>>,
	spare: Option<Vec<u8>>,
	/// The sealed bytes being handed out: `out[..out_len]`, from `pos`.
	out: Vec<u8>,
	out_len: usize,
	pos: usize,
	/// Whether `out` holds the last batch.
	done: bool,
}

impl<R: Read> EncryptingReader<R> {
	pub(crate) fn new(
		input: R,
		file_key: &FileKey,
		mut prefix: Vec<u8>,
		parallelism: &Parallelism,
	) -> Result<Self, Error> {
		let mut nonce = [0u8; NONCE];
		getrandom::getrandom(&mut nonce).map_err(|e| Error::Random(e.to_string()))?;
		prefix.extend_from_slice(&nonce);
		let runner = Runner::new(parallelism)?;
		Ok(Self {
			input,
			cipher: Arc::new(payload_cipher(file_key, &nonce)),
			batch_chunks: runner.batch_chunks(),
			next_chunks: 1,
			runner,
			counter: 0,
			carry: None,
			input_done: false,
			queue: VecDeque::new(),
			spare: None,
			out_len: prefix.len(),
			out: prefix,
			pos: 0,
			done: false,
		})
	}

	/// Reads the next batch of plaintext into its slots and hands it to the pool.
	fn submit_next(&mut self) -> io::Result<()> {
		let slots = self.next_chunks;
		self.next_chunks = (slots * 2).min(self.batch_chunks);
		let mut buf = buffer(&mut self.spare, slots * (CHUNK + TAG));
		let (len, end) = read_slots(&mut self.input, &mut buf, &mut self.carry, slots)?;
		// Only an empty plaintext makes an empty (and only) chunk.
		let chunks = len.div_ceil(CHUNK).max(1);
		let (first, cipher) = (self.counter, self.cipher.clone());
		let seal = move |i: usize, slot: &mut [u8]| -> Result<(), ()> {
			let last = end && i + 1 == chunks;
			let body_len = if last { len - i * CHUNK } else { CHUNK };
			let (body, rest) = slot.split_at_mut(body_len);
			let nonce = chunk_nonce(first + i as u64, last);
			let tag = cipher.encrypt_in_place_detached(&nonce, &[], body).map_err(|_| ())?;
			rest[..TAG].copy_from_slice(&tag);
			Ok(())
		};
		let batch = Batch { buf, len, first, chunks, end, results: Vec::new() };
		self.queue.push_back(self.runner.submit(batch, chunks * (CHUNK + TAG), CHUNK + TAG, seal));
		self.counter += chunks as u64;
		self.input_done = end;
		Ok(())
	}

	/// Keeps the pool busy, then takes the oldest batch as the one to hand out.
	fn next_batch(&mut self) -> io::Result<()> {
		while self.queue.len() < self.runner.depth() && !self.input_done {
			self.submit_next()?;
		}
		let Some(pending) = self.queue.pop_front() else {
			// Not reached: the batch with the input's end sets `done`.
			self.done = true;
			return Ok(());
		};
		let batch = pending.wait()?;
		if batch.results.iter().any(Result::is_err) {
			return Err(io::Error::other("ChaCha20-Poly1305 refused a chunk"));
		}
		self.done = batch.end;
		// Sealed, the batch is its plaintext plus a tag per chunk, contiguous: every chunk
		// but the last fills its slot.
		self.out_len = batch.len + batch.chunks * TAG;
		self.spare = Some(std::mem::replace(&mut self.out, batch.buf));
		self.pos = 0;
		// Start the next batch before this one is handed out.
		if !self.input_done && self.queue.len() < self.runner.depth() {
			self.submit_next()?;
		}
		Ok(())
	}
}

impl<R: Read> EncryptingReader<R> {
	/// Writes everything left to `output` straight from the batch buffers, without the copy
	/// out that `read` makes; returns the bytes written. What `encrypt` uses.
	pub(crate) fn write_to<W: Write>(&mut self, output: &mut W) -> io::Result<u64> {
		let mut written = 0u64;
		loop {
			if self.pos < self.out_len {
				output.write_all(&self.out[self.pos..self.out_len])?;
				written += (self.out_len - self.pos) as u64;
				self.pos = self.out_len;
			}
			if self.done {
				return Ok(written);
			}
			self.next_batch()?;
		}
	}
}

impl<R: Read> Read for EncryptingReader<R> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		loop {
			if self.pos < self.out_len || buf.is_empty() {
				return Ok(serve(&self.out[..self.out_len], &mut self.pos, buf));
			}
			if self.done {
				return Ok(0);
			}
			self.next_batch()?;
		}
	}
}

/// Decrypts as it is read: yields the plaintext of `input`'s payload (after the header),
/// chunk by authenticated chunk. Fails at the first chunk that does not authenticate, or if
/// the payload is cut short or runs on: then the plaintext before it was read but the read
/// fails, so a caller never takes part of a file for the whole. Chunks are opened where they
/// were read (ChaCha20-Poly1305 checks the tag before it decrypts, so a chunk that fails is
/// left as it was and can be tried again as the last one) and handed out from there.
pub struct DecryptingReader<R> {
	input: R,
	cipher: Arc<ChaCha20Poly1305>,
	runner: Runner,
	/// Chunks per batch at most, and in the next batch: the first batch is one chunk and each
	/// doubles up to the most, so a small file costs a small buffer, not megabytes.
	batch_chunks: usize,
	next_chunks: usize,
	/// Index of the next chunk to submit.
	counter: u64,
	carry: Option<u8>,
	input_done: bool,
	queue: VecDeque<Pending<Result<bool, &'static str>>>,
	spare: Option<Vec<u8>>,
	/// The batch being handed out, its opened chunks in their slots.
	out: Vec<u8>,
	/// Plaintext bytes of `out` that authenticated (its first chunks), and how far handed out.
	released: usize,
	pos: usize,
	/// Set once the payload has been read to its end, or has failed.
	finished: Option<Result<(), Error>>,
}

impl<R: Read> DecryptingReader<R> {
	/// `input` is at the payload nonce.
	pub(crate) fn new(
		mut input: R,
		file_key: &FileKey,
		parallelism: &Parallelism,
	) -> Result<Self, Error> {
		let mut nonce = [0u8; NONCE];
		if fill(&mut input, &mut nonce)? < NONCE {
			return Err(Error::Header("the payload nonce is missing or short"));
		}
		let runner = Runner::new(parallelism)?;
		Ok(Self {
			input,
			cipher: Arc::new(payload_cipher(file_key, &nonce)),
			batch_chunks: runner.batch_chunks(),
			next_chunks: 1,
			runner,
			counter: 0,
			carry: None,
			input_done: false,
			queue: VecDeque::new(),
			spare: None,
			out: Vec::new(),
			released: 0,
			pos: 0,
			finished: None,
		})
	}

	/// Reads the next batch of sealed chunks and hands it to the pool.
	fn submit_next(&mut self) -> io::Result<()> {
		let slots = self.next_chunks;
		self.next_chunks = (slots * 2).min(self.batch_chunks);
		let size = slots * (CHUNK + TAG);
		let mut buf = buffer(&mut self.spare, size + 1);
		let (len, end) = read_batch(&mut self.input, &mut buf, &mut self.carry, size)?;
		let chunks = len.div_ceil(CHUNK + TAG);
		let (first, cipher) = (self.counter, self.cipher.clone());
		// Opens chunk `i` in place; says whether it is the last chunk. A full-size chunk is
		// a middle chunk or, failing that, the last one (as age itself reads them); a
		// shorter one can only be the last.
		let open = move |i: usize, sealed: &mut [u8]| -> Result<bool, &'static str> {
			let index = first + i as u64;
			if sealed.len() < TAG {
				return Err("a chunk is shorter than its tag");
			}
			let (body, tag) = sealed.split_at_mut(sealed.len() - TAG);
			if body.is_empty() && index > 0 {
				return Err("the last chunk is empty");
			}
			let tag = Tag::clone_from_slice(tag);
			let full = body.len() == CHUNK;
			let mut try_open = |last: bool| {
				cipher.decrypt_in_place_detached(&chunk_nonce(index, last), &[], body, &tag).is_ok()
			};
			if full && try_open(false) {
				Ok(false)
			} else if try_open(true) {
				Ok(true)
			} else {
				Err("a chunk does not authenticate (modified, reordered, truncated or extended)")
			}
		};
		let batch = Batch { buf, len, first, chunks, end, results: Vec::new() };
		self.queue.push_back(if chunks == 0 {
			// Only at the very start can a batch be empty (a carried byte starts the others).
			Pending::Ready(batch)
		} else {
			self.runner.submit(batch, len, CHUNK + TAG, open)
		});
		self.counter += chunks as u64;
		self.input_done = end;
		Ok(())
	}

	/// Takes the oldest batch: what authenticates is released, a failure goes to `finished`.
	fn next_batch(&mut self) -> io::Result<()> {
		while self.queue.len() < self.runner.depth() && !self.input_done {
			self.submit_next()?;
		}
		let Some(pending) = self.queue.pop_front() else {
			// Not reached: the batch with the input's end settles `finished`.
			self.finished = Some(Err(Error::Payload { chunk: self.counter, reason: "no chunks" }));
			return Ok(());
		};
		let batch = pending.wait()?;
		let (first, chunks, end) = (batch.first, batch.chunks, batch.end);
		if chunks == 0 {
			self.finished = Some(Err(Error::Payload { chunk: 0, reason: "no chunks" }));
		}
		// Release the plaintext up to the first failure or the last chunk, and no more. Only
		// the last chunk can be short, so what is released is whole chunks from the start.
		let mut released = 0;
		for (i, result) in batch.results.iter().enumerate() {
			let index = first + i as u64;
			let fail = |reason| Some(Err(Error::Payload { chunk: index, reason }));
			match result {
				Err(reason) => {
					self.finished = fail(reason);
					break;
				},
				Ok(last) => {
					let sealed_len = (batch.len - i * (CHUNK + TAG)).min(CHUNK + TAG);
					released += sealed_len - TAG;
					let more = i + 1 < chunks || !end;
					self.finished = match (last, more) {
						(true, true) => fail("data follows the last chunk"),
						(true, false) => Some(Ok(())),
						(false, false) => fail("the file ends without its last chunk (truncated)"),
						(false, true) => None,
					};
					if *last {
						break;
					}
				},
			}
		}
		self.spare = Some(std::mem::replace(&mut self.out, batch.buf));
		self.released = released;
		self.pos = 0;
		if self.finished.is_some() {
			// Nothing after this batch will be handed out.
			self.queue.clear();
		} else if !self.input_done && self.queue.len() < self.runner.depth() {
			self.submit_next()?;
		}
		Ok(())
	}

	/// Hands out released plaintext from `pos`, within one chunk (the tags sit between them).
	fn serve(&mut self, buf: &mut [u8]) -> usize {
		let (chunk, offset) = (self.pos / CHUNK, self.pos % CHUNK);
		let n = buf.len().min(self.released - self.pos).min(CHUNK - offset);
		let at = chunk * (CHUNK + TAG) + offset;
		buf[..n].copy_from_slice(&self.out[at..at + n]);
		self.pos += n;
		n
	}
}

impl<R: Read> DecryptingReader<R> {
	/// Writes the rest of the plaintext to `output` straight from the batch buffers, a chunk
	/// at a time, without the copy out that `read` makes; returns the bytes written. As with
	/// `read`, only authenticated chunks are written, and a failure is an error once the
	/// chunks before it are out.
	pub(crate) fn write_to<W: Write>(&mut self, output: &mut W) -> io::Result<u64> {
		let mut written = 0u64;
		loop {
			while self.pos < self.released {
				let (chunk, offset) = (self.pos / CHUNK, self.pos % CHUNK);
				let n = (self.released - self.pos).min(CHUNK - offset);
				let at = chunk * (CHUNK + TAG) + offset;
				output.write_all(&self.out[at..at + n])?;
				self.pos += n;
				written += n as u64;
			}
			match &self.finished {
				Some(Ok(())) => return Ok(written),
				Some(Err(e)) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.clone())),
				None => self.next_batch()?,
			}
		}
	}
}

impl<R: Read> Read for DecryptingReader<R> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		loop {
			if self.pos < self.released || buf.is_empty() {
				return Ok(self.serve(buf));
			}
			match &self.finished {
				Some(Ok(())) => return Ok(0),
				Some(Err(e)) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.clone())),
				None => self.next_batch()?,
			}
		}
	}
}
