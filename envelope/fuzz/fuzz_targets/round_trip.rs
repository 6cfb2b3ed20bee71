//! Any plaintext, on one core or several: decrypt(encrypt(x)) == x, and the size is the one
//! `encrypted_len` announced (the wallet checks DAO size rules with it).
#![no_main]

use datacoop_envelope::{decrypt, encrypt, encrypted_len, Identity, Parallelism};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	let id = Identity::from_bytes([3; 32]);
	// The first 4 bytes give a length (up to 3 chunks and a bit, so every chunk boundary is
	// in reach) and the parallelism; the rest is repeated to that length.
	let (parallel, plain) = match data.split_first_chunk::<4>() {
		Some((head, rest)) => {
			let n = u32::from_le_bytes(*head);
			let len = (n >> 1) as usize % (3 * 65536 + 17);
			let plain: Vec<u8> = if rest.is_empty() {
				vec![0; len]
			} else {
				rest.iter().copied().cycle().take(len).collect()
			};
			(n & 1 == 1, plain)
		},
		None => (false, data.to_vec()),
	};
	let parallel = if parallel { Parallelism::AllCores } else { Parallelism::OneCore };
	let mut sealed = Vec::new();
	encrypt(&[id.to_public()], &plain[..], &mut sealed, &parallel).unwrap();
	assert_eq!(sealed.len() as u64, encrypted_len(plain.len() as u64, 1));
	let mut back = Vec::new();
	decrypt(&[id], &sealed[..], &mut back, &parallel).unwrap();
	assert_eq!(back, plain);
});
