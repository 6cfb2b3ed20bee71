//! Any bytes as an age file: the header parser, the stanza unwrapping and the payload reader
//! must answer with an error, never a panic, and never release plaintext that is not whole.
#![no_main]

use std::{io::Read, sync::OnceLock};

use datacoop_envelope::{decrypting_reader, Identity, Parallelism};
use libfuzzer_sys::fuzz_target;

fn identity() -> &'static Identity {
	static ID: OnceLock<Identity> = OnceLock::new();
	// A fixed key, so that inputs reaching a matching stanza replay the same way.
	ID.get_or_init(|| Identity::from_bytes([7; 32]))
}

fuzz_target!(|data: &[u8]| {
	if let Ok(mut reader) = decrypting_reader(std::slice::from_ref(identity()), data, &Parallelism::OneCore) {
		let mut out = Vec::new();
		let _ = reader.read_to_end(&mut out);
	}
});
