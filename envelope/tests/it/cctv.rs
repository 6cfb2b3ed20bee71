//! The C2SP CCTV age test vectors (testdata/cctv, see testdata/README.md): every vector of the
//! format and of X25519 gives the expected result. Vectors of features this crate does not
//! implement are skipped, each by name with its reason, and the skipped set is checked so
//! nothing else is skipped silently.

use std::{fs, io::Read, path::Path};

use datacoop_envelope::{decrypt, Error, Identity, Parallelism};
use sha2::{Digest, Sha256};

struct Vector {
	name: String,
	expect: String,
	payload: Option<String>,
	identities: Vec<String>,
	passphrase: bool,
	armored: bool,
	file: Vec<u8>,
}

fn load(path: &Path) -> Vector {
	let raw = fs::read(path).unwrap();
	let split = raw.windows(2).position(|w| w == b"\n\n").expect("a header, then an empty line");
	let (head, body) = (std::str::from_utf8(&raw[..split]).unwrap(), &raw[split + 2..]);
	let mut v = Vector {
		name: path.file_name().unwrap().to_string_lossy().into(),
		expect: String::new(),
		payload: None,
		identities: vec![],
		passphrase: false,
		armored: false,
		file: body.to_vec(),
	};
	let mut compressed = false;
	for line in head.lines() {
		let (key, value) = line.split_once(": ").expect("key: value");
		match key {
			"expect" => v.expect = value.into(),
			"payload" => v.payload = Some(value.into()),
			"identity" => v.identities.push(value.into()),
			"passphrase" => v.passphrase = true,
			"armored" => v.armored = value == "yes",
			"compressed" => compressed = value == "zlib",
			_ => {},
		}
	}
	if compressed {
		let mut out = Vec::new();
		flate2::read::ZlibDecoder::new(body).read_to_end(&mut out).unwrap();
		v.file = out;
	}
	v
}

/// Why a vector is skipped, if it is.
fn skip_reason(v: &Vector) -> Option<&'static str> {
	if v.armored {
		return Some("ASCII armor: contributions are binary files");
	}
	if v.identities.iter().any(|i| i.starts_with("AGE-SECRET-KEY-PQ-")) {
		return Some("post-quantum (ML-KEM-768 + X25519) recipients are not implemented");
	}
	if v.passphrase {
		return Some("scrypt passphrase recipients are not implemented");
	}
	None
}

fn check(v: &Vector, parallelism: &Parallelism) -> Result<(), String> {
	let identities: Vec<Identity> = v
		.identities
		.iter()
		.map(|i| i.parse().map_err(|e| format!("identity: {e}")))
		.collect::<Result<_, _>>()?;
	let mut out = Vec::new();
	let result = decrypt(&identities, &v.file[..], &mut out, parallelism);
	let released = hex::encode(Sha256::digest(&out));
	let outcome = match &result {
		Ok(_) => "success",
		Err(Error::NoMatch) => "no match",
		Err(Error::HeaderMac) => "HMAC failure",
		Err(Error::Header(_)) => "header failure",
		Err(Error::Payload { .. }) => "payload failure",
		Err(e) => return Err(format!("unexpected error {e}")),
	};
	if outcome != v.expect {
		return Err(format!("expected {}, got {outcome} ({result:?})", v.expect));
	}
	// On success and on a payload failure, what was released must be exactly the payload
	// the vector names: no unauthenticated byte, no authentic byte missing.
	if matches!(outcome, "success" | "payload failure") && v.payload.as_deref() != Some(&released) {
		return Err(format!("released plaintext hashes to {released}, expected {:?}", v.payload));
	}
	Ok(())
}

#[test]
fn every_x25519_and_format_vector_gives_the_expected_result() {
	// The manifest directory as cargo gives it when it runs the test, not as it was when the
	// binary was built: clones sharing one target directory reuse each other's test binaries.
	let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
		.map(std::path::PathBuf::from)
		.unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
	let dir = manifest.join("testdata/cctv");
	let mut paths: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
	paths.sort();
	assert!(paths.len() >= 140, "the vectors are vendored in {dir:?}");
	let (mut run, mut skipped, mut failures) = (0, vec![], vec![]);
	for path in &paths {
		let v = load(path);
		if let Some(reason) = skip_reason(&v) {
			skipped.push((v.name.clone(), reason));
			continue;
		}
		for parallelism in [Parallelism::OneCore, Parallelism::AllCores] {
			if let Err(e) = check(&v, &parallelism) {
				failures.push(format!("{} ({parallelism:?}): {e}", v.name));
			}
		}
		run += 1;
	}
	for (name, reason) in &skipped {
		println!("skipped {name}: {reason}");
	}
	println!("{run} vectors run, {} skipped", skipped.len());
	assert!(failures.is_empty(), "{} vectors failed:\n{}", failures.len(), failures.join("\n"));
	// Only armor, scrypt and post-quantum vectors are skipped.
	for (name, _) in &skipped {
		assert!(
			["armor_", "scrypt", "hybrid"].iter().any(|p| name.starts_with(p)),
			"{name} was skipped"
		);
	}
	// 143 vectors in cctv-age 0.2.0: 33 armor, 25 scrypt, 18 post-quantum, 67 run here.
	assert_eq!((run, skipped.len()), (67, 76));
}
