//! Any plaintext, on one core or several: decrypt(encrypt(x)) == x, and the size is the one
//! `encrypted_len` announced (the wallet checks DAO size rules with it).
#![no_main]

use datacoop_envelope::{decrypt, encrypt, encrypted_len, Identity, Parallelism};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	let id = Identity::from_bytes([3; 32]);
	let (parallel, plain) = match data.split_first() {
		Some((p, rest)) => (if p & 1 == 1 { Parallelism::Threads(2) } else { Parallelism::OneCore }, rest),
		None => (Parallelism::OneCore, data),
	};
	let mut sealed = Vec::new();
	encrypt(&[id.to_public()], plain, &mut sealed, &parallel).unwrap();
	assert_eq!(sealed.len() as u64, encrypted_len(plain.len() as u64, 1));
	let mut back = Vec::new();
	decrypt(&[id], &sealed[..], &mut back, &parallel).unwrap();
	assert_eq!(back, plain);
});
