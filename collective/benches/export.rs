//! An export without the network: a contribution's blob (an age file to the DAO, 256 MiB of
//! data after its statement) decrypted, its statement dropped, encrypted again to a grantee
//! and written as a tar entry ([`reseal`]: what `POST /v1/daos/{id}/export` does for each
//! contribution between storage and the client). Throughput in bytes of data.
//!
//!   cargo bench -p datacoop-collective --bench export

use std::io;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use datacoop_collective::reseal::reseal;
use datacoop_envelope::{encrypt, Identity, Parallelism};
use datacoop_primitives::contribution::STATEMENT_LINE_LEN;

const DATA: usize = 256 << 20;

fn bench(c: &mut Criterion) {
	let (dao, grantee) = (Identity::generate().unwrap(), Identity::generate().unwrap());
	let mut plain = vec![b's'; STATEMENT_LINE_LEN];
	plain.extend((0..DATA).map(|i| (i * 131 % 251) as u8));
	let mut blob = Vec::with_capacity(plain.len() + (1 << 20));
	encrypt(&[dao.to_public()], &plain[..], &mut blob, &Parallelism::AllCores).unwrap();
	drop(plain);
	let recipient = grantee.to_public();

	let mut group = c.benchmark_group("export");
	group.sample_size(10).throughput(Throughput::Bytes(DATA as u64));
	group.bench_function("reseal 256 MiB into a tar stream", |b| {
		b.iter(|| {
			let mut tar = tar::Builder::new(io::sink());
			reseal(&mut tar, "contribution-1.age", &dao, &blob[..], blob.len() as u64, &recipient)
				.unwrap()
		})
	});
	group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
