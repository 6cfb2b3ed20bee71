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

fuzz_target!(|data: &[u8]| {
	let (id, header) = setup();
	let mut file = header.clone();
	file.extend_from_slice(data);
	let threads = if data.first().is_some_and(|b| b & 1 == 1) { Parallelism::Threads(2) } else { Parallelism::OneCore };
	let mut reader = decrypting_reader(std::slice::from_ref(id), &file[..], &threads).expect("the header is valid");
	let mut out = Vec::new();
	// Without the file key nothing here can authenticate, except the empty-payload edge cases
	// libFuzzer will not forge: any success must come with no plaintext.
	if reader.read_to_end(&mut out).is_ok() {
		assert!(out.is_empty(), "unauthenticated plaintext released");
	}
});
