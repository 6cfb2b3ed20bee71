//! Encrypt and decrypt throughput of the envelope on a 1 GiB payload, on one core and on all
//! cores, beside raw ChaCha20-Poly1305 over the same bytes in 64 KiB chunks (the ceiling for
//! one core). `scripts/bench-envelope.sh` runs this and Go `age` on the same file.
//!
//!   cargo bench -p datacoop-envelope --bench throughput
//!
//! `ENVELOPE_BENCH_MIB` sets the payload size (default 1024).

use std::io;

use chacha20poly1305::{aead::AeadInPlace, ChaCha20Poly1305, KeyInit};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use datacoop_envelope::{decrypt, encrypt, Identity, Parallelism, CHUNK};

fn size() -> u64 {
	std::env::var("ENVELOPE_BENCH_MIB").ok().and_then(|s| s.parse().ok()).unwrap_or(1024) << 20
}

fn throughput(c: &mut Criterion) {
	let len = size();
	let me = Identity::generate().unwrap();
	let mut group = c.benchmark_group("envelope");
	group.sample_size(10).throughput(Throughput::Bytes(len));

	group.bench_function("raw chacha20poly1305, one core", |b| {
		let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
		let mut chunk = vec![1u8; CHUNK];
		b.iter(|| {
			for i in 0..len / CHUNK as u64 {
				let mut nonce = [0u8; 12];
				nonce[3..11].copy_from_slice(&i.to_be_bytes());
				let tag = cipher.encrypt_in_place_detached(&nonce.into(), &[], &mut chunk).unwrap();
				std::hint::black_box(tag);
			}
		})
	});

	// Both directions read from memory and write to a sink, so each measures the same
	// work: the copy into the chunk slots, the cipher, and the write out of the batches.
	let plain: Vec<u8> = (0..len).map(|i| (i * 7 + (i >> 16)) as u8).collect();
	for (name, parallelism) in
		[("one core", Parallelism::OneCore), ("all cores", Parallelism::AllCores)]
	{
		group.bench_function(format!("encrypt, {name}"), |b| {
			b.iter(|| encrypt(&[me.to_public()], &plain[..], io::sink(), &parallelism).unwrap())
		});
	}

	let mut sealed = Vec::with_capacity(len as usize + len as usize / 1000 + 4096);
	encrypt(&[me.to_public()], &plain[..], &mut sealed, &Parallelism::AllCores).unwrap();
	drop(plain);
	for (name, parallelism) in
		[("one core", Parallelism::OneCore), ("all cores", Parallelism::AllCores)]
	{
		group.bench_function(format!("decrypt, {name}"), |b| {
			b.iter(|| {
				decrypt(std::slice::from_ref(&me), &sealed[..], io::sink(), &parallelism).unwrap()
			})
		});
	}
	group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
