//! age's STREAM payload: a 16-byte nonce, then the plaintext in 64 KiB chunks, each sealed
//! with ChaCha20-Poly1305 under the payload key and the nonce `counter (11 bytes, big endian)
//! ‖ last-chunk flag (1 byte)`. Only the last chunk may be shorter than 64 KiB; it is empty
//! only if the whole plaintext is.
//!
//! Chunks are independent, so a batch of them is sealed or opened on every core (rayon). The
//! readers keep two batches in the pool while the calling thread reads the next batch in and
//! hands the finished one out, so reading, copying and sealing overlap. Memory is a few
//! batches, whatever the file's size. A chunk is known to be the last by looking one byte
//! past it.

use std::{
	collections::VecDeque,
	io::{self, Read},
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

	/// Chunks per batch: enough to keep every thread busy, 2 to 4 MiB. With two batches in
	/// the pool and one being handed out, a reader holds at most about 7 batch buffers
	/// (28 MiB on 8 cores or more, 14 MiB on 2) whatever the file's size.
	fn batch_chunks(&self) -> usize {
		let threads = match self {
			Self::Global => rayon::current_num_threads(),
			Self::Inline => 1,
			Self::Pool(pool) => pool.current_num_threads(),
		};
		(threads * 8).clamp(32, 64)
	}

	/// Batches submitted ahead of the one being handed out.
	fn depth(&self) -> usize {
		match self {
			Self::Inline => 1,
			Self::Global | Self::Pool(_) => 2,
		}
	}

	/// Runs `work(i, input chunk i, output chunk i)` over the batch's paired chunks (once on
	/// empty chunks if the input is empty), in the pool, and keeps the results in order.
	fn submit<T: Send + 'static>(
		&self,
		mut batch: Batch<T>,
		in_size: usize,
		out_size: usize,
		work: impl Fn(usize, &[u8], &mut [u8]) -> T + Send + Sync + 'static,
	) -> Pending<T> {
		let run = move |parallel: bool, batch: &mut Batch<T>| {
			let (input, output) = (&batch.input, &mut batch.output);
			batch.results = if input.is_empty() {
				vec![work(0, &[], output)]
			} else if parallel {
				input
					.par_chunks(in_size)
					.zip(output.par_chunks_mut(out_size))
					.enumerate()
					.map(|(i, (inp, out))| work(i, inp, out))
					.collect()
			} else {
				input
					.chunks(in_size)
					.zip(output.chunks_mut(out_size))
					.enumerate()
					.map(|(i, (inp, out))| work(i, inp, out))
					.collect()
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

/// A batch of chunks on its way through the pool.
struct Batch<T> {
	/// Plaintext (encrypting) or sealed chunks (decrypting).
	input: Vec<u8>,
	output: Vec<u8>,
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

/// Buffers a reader reuses, so that batches do not allocate.
#[derive(Default)]
struct Spares {
	input: Option<Vec<u8>>,
	output: Option<Vec<u8>>,
}

impl Spares {
	fn keep<T>(&mut self, batch: Batch<T>, previous_output: Vec<u8>) -> Vec<u8> {
		self.input = Some(batch.input);
		self.output = Some(previous_output);
		batch.output
	}
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

/// Reads a batch: up to `size` bytes after the byte carried over from the last batch,
/// plus one byte more if there is one, which is carried to the next. Returns whether the
/// input ended in this batch.
fn read_batch<R: Read>(
	input: &mut R,
	buf: &mut Vec<u8>,
	carry: &mut Option<u8>,
	size: usize,
) -> io::Result<bool> {
	buf.clear();
	buf.extend(carry.take());
	let start = buf.len();
	buf.resize(size + 1, 0);
	let read = fill(input, &mut buf[start..])?;
	buf.truncate(start + read);
	if buf.len() > size {
		*carry = buf.pop();
		Ok(false)
	} else {
		Ok(true)
	}
}

/// Serves `out[pos..]` to `read` calls.
fn serve(out: &[u8], pos: &mut usize, buf: &mut [u8]) -> usize {
	let n = buf.len().min(out.len() - *pos);
	buf[..n].copy_from_slice(&out[*pos..*pos + n]);
	*pos += n;
	n
}

/// Encrypts as it is read: yields `prefix` (the header), the payload nonce, then the
/// sealed chunks of what it reads from `input`.
pub struct EncryptingReader<R> {
	input: R,
	cipher: Arc<ChaCha20Poly1305>,
	runner: Runner,
	batch_chunks: usize,
	/// Index of the next chunk to submit.
	counter: u64,
	carry: Option<u8>,
	/// Whether the input's end has been read (the last batch is submitted).
	input_done: bool,
	queue: VecDeque<Pending<Result<(), ()>>>,
	spares: Spares,
	/// The sealed bytes being handed out, and how far.
	out: Vec<u8>,
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
			runner,
			counter: 0,
			carry: None,
			input_done: false,
			queue: VecDeque::new(),
			spares: Spares::default(),
			out: prefix,
			pos: 0,
			done: false,
		})
	}

	/// Reads the next batch of plaintext and hands it to the pool.
	fn submit_next(&mut self) -> io::Result<()> {
		let mut plain = self.spares.input.take().unwrap_or_default();
		let end =
			read_batch(&mut self.input, &mut plain, &mut self.carry, self.batch_chunks * CHUNK)?;
		// Only an empty plaintext makes an empty (and only) chunk.
		let chunks = plain.len().div_ceil(CHUNK).max(1);
		let mut out = self.spares.output.take().unwrap_or_default();
		out.clear();
		out.resize(plain.len() + chunks * TAG, 0);
		let (first, cipher) = (self.counter, self.cipher.clone());
		let seal = move |i: usize, plain: &[u8], out: &mut [u8]| -> Result<(), ()> {
			let last = end && i + 1 == chunks;
			let (body, tag) = out.split_at_mut(plain.len());
			body.copy_from_slice(plain);
			let sealed =
				cipher.encrypt_in_place_detached(&chunk_nonce(first + i as u64, last), &[], body);
			tag.copy_from_slice(&sealed.map_err(|_| ())?);
			Ok(())
		};
		let batch = Batch { input: plain, output: out, first, chunks, end, results: Vec::new() };
		self.queue.push_back(self.runner.submit(batch, CHUNK, CHUNK + TAG, seal));
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
		let previous = std::mem::take(&mut self.out);
		self.out = self.spares.keep(batch, previous);
		self.pos = 0;
		// Start the next batch before this one is handed out.
		if !self.input_done && self.queue.len() < self.runner.depth() {
			self.submit_next()?;
		}
		Ok(())
	}
}

impl<R: Read> Read for EncryptingReader<R> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		loop {
			if self.pos < self.out.len() || buf.is_empty() {
				return Ok(serve(&self.out, &mut self.pos, buf));
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
/// fails, so a caller never takes part of a file for the whole.
pub struct DecryptingReader<R> {
	input: R,
	cipher: Arc<ChaCha20Poly1305>,
	runner: Runner,
	batch_chunks: usize,
	/// Index of the next chunk to submit.
	counter: u64,
	carry: Option<u8>,
	input_done: bool,
	queue: VecDeque<Pending<Result<bool, &'static str>>>,
	spares: Spares,
	/// Authenticated plaintext being handed out, and how far.
	out: Vec<u8>,
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
			runner,
			counter: 0,
			carry: None,
			input_done: false,
			queue: VecDeque::new(),
			spares: Spares::default(),
			out: Vec::new(),
			pos: 0,
			finished: None,
		})
	}

	/// Reads the next batch of sealed chunks and hands it to the pool.
	fn submit_next(&mut self) -> io::Result<()> {
		let mut sealed = self.spares.input.take().unwrap_or_default();
		let size = self.batch_chunks * (CHUNK + TAG);
		let end = read_batch(&mut self.input, &mut sealed, &mut self.carry, size)?;
		let chunks = sealed.len().div_ceil(CHUNK + TAG);
		let mut out = self.spares.output.take().unwrap_or_default();
		out.clear();
		// Room for `chunks` full chunks, so every sealed chunk, even an empty last one, has
		// its own slot and is authenticated; cut to the plaintext's length after.
		out.resize(chunks * CHUNK, 0);
		let (first, cipher) = (self.counter, self.cipher.clone());
		// Opens chunk `i`; says whether it is the last chunk. A full-size chunk is a middle
		// chunk or, failing that, the last one (as age itself reads them); a shorter one can
		// only be the last.
		let open = move |i: usize, sealed: &[u8], out: &mut [u8]| -> Result<bool, &'static str> {
			let index = first + i as u64;
			if sealed.len() < TAG {
				return Err("a chunk is shorter than its tag");
			}
			let (body, tag) = sealed.split_at(sealed.len() - TAG);
			if body.is_empty() && index > 0 {
				return Err("the last chunk is empty");
			}
			let out = &mut out[..body.len()];
			let mut try_open = |last: bool| {
				out.copy_from_slice(body);
				cipher
					.decrypt_in_place_detached(
						&chunk_nonce(index, last),
						&[],
						out,
						Tag::from_slice(tag),
					)
					.is_ok()
			};
			if body.len() == CHUNK && try_open(false) {
				Ok(false)
			} else if try_open(true) {
				Ok(true)
			} else {
				Err("a chunk does not authenticate (modified, reordered, truncated or extended)")
			}
		};
		let batch = Batch { input: sealed, output: out, first, chunks, end, results: Vec::new() };
		self.queue.push_back(if chunks == 0 {
			// Only at the very start can a batch be empty (a carried byte starts the others).
			Pending::Ready(batch)
		} else {
			self.runner.submit(batch, CHUNK + TAG, CHUNK, open)
		});
		self.counter += chunks as u64;
		self.input_done = end;
		Ok(())
	}

	/// Takes the oldest batch: what authenticates goes to `out`, a failure to `finished`.
	fn next_batch(&mut self) -> io::Result<()> {
		while self.queue.len() < self.runner.depth() && !self.input_done {
			self.submit_next()?;
		}
		let Some(pending) = self.queue.pop_front() else {
			// Not reached: the batch with the input's end settles `finished`.
			self.finished = Some(Err(Error::Payload { chunk: self.counter, reason: "no chunks" }));
			return Ok(());
		};
		let mut batch = pending.wait()?;
		let (first, chunks, end) = (batch.first, batch.chunks, batch.end);
		if chunks == 0 {
			self.finished = Some(Err(Error::Payload { chunk: 0, reason: "no chunks" }));
		}
		// Release the plaintext up to the first failure or the last chunk, and no more. Only
		// the last chunk can be short, so what is released is contiguous from the start.
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
					let sealed_len = (batch.input.len() - i * (CHUNK + TAG)).min(CHUNK + TAG);
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
		batch.output.truncate(released);
		let previous = std::mem::take(&mut self.out);
		self.out = self.spares.keep(batch, previous);
		self.pos = 0;
		if self.finished.is_some() {
			// Nothing after this batch will be handed out.
			self.queue.clear();
		} else if !self.input_done && self.queue.len() < self.runner.depth() {
			self.submit_next()?;
		}
		Ok(())
	}
}

impl<R: Read> Read for DecryptingReader<R> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		loop {
			if self.pos < self.out.len() || buf.is_empty() {
				return Ok(serve(&self.out, &mut self.pos, buf));
			}
			match &self.finished {
				Some(Ok(())) => return Ok(0),
				Some(Err(e)) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.clone())),
				None => self.next_batch()?,
			}
		}
	}
}
