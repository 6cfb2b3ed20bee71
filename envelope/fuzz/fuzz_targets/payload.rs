//! A valid header for a known key, followed by any bytes: the STREAM decryptor (nonce, chunk
//! splitting, last-chunk flag, tags, batches on several threads) must fail cleanly.
#![no_main]

use std::{io::Read, sync::OnceLock};

use datacoop_envelope::{decrypting_reader, encrypt, Identity, Parallelism};
use libfuzzer_sys::fuzz_target;

fn setup() -> &'static (Identity, Vec<u8>) {
	static SETUP: OnceLock<(Identity, Vec<u8>)> = OnceLock::new();
	SETUP.get_or_init(|| {
		let id = Identity::from_bytes([9; 32]);
		let mut sealed = Vec::new();
		encrypt(&[id.to_public()], &b""[..], &mut sealed, &Parallelism::OneCore).unwrap();
		// The header ends with the MAC line, "--- <43 chars>\n".
		let end = sealed.windows(4).position(|w| w == b"\n---").unwrap() + 1;
		let end = end + sealed[end..].iter().position(|&b| b == b'\n').unwrap() + 1;
		sealed.truncate(end);
		(id, sealed)
	})
}

/// The input, stretched: its first 4 bytes give a length (up to 5 MiB, so past several chunks
/// and two batches), the rest is repeated to that length. Without this, libFuzzer would
/// never reach the chunk and batch boundaries in a bounded run.
fn stretch(data: &[u8]) -> (bool, Vec<u8>) {
	let Some((head, rest)) = data.split_first_chunk::<4>() else {
		return (false, data.to_vec());
	};
	let n = u32::from_le_bytes(*head);
	let parallel = n & 1 == 1;
	let len = (n >> 1) as usize % (5 << 20);
	if rest.is_empty() {
		return (parallel, vec![0; len.min(1 << 20)]);
	}
	(parallel, rest.iter().copied().cycle().take(len.max(rest.len())).collect())
}

fuzz_target!(|data: &[u8]| {
	let (id, header) = setup();
	let (parallel, payload) = stretch(data);
	let mut file = header.clone();
	file.extend_from_slice(&payload);
	let threads = if parallel { Parallelism::AllCores } else { Parallelism::OneCore };
	// A payload shorter than its 16-byte nonce is refused here, cleanly.
	let Ok(mut reader) = decrypting_reader(std::slice::from_ref(id), &file[..], &threads) else {
		assert!(payload.len() < 16, "a valid header with a nonce must open");
		return;
	};
	let mut out = Vec::new();
	// Without the file key nothing here can authenticate: any success must come with no
	// plaintext, and a failure must release none either.
	let result = reader.read_to_end(&mut out);
	assert!(out.is_empty(), "unauthenticated plaintext released ({result:?})");
});
