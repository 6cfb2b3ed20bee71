//! Encrypts or decrypts standard input to standard output, for measuring the envelope as a
//! whole program (peak memory with `/usr/bin/time -v`, side by side with `age`):
//!
//!   seal encrypt age1...            < plain  > sealed
//!   seal decrypt key.txt            < sealed > plain     (key.txt: an AGE-SECRET-KEY-1 line)
//!   seal keygen                     > key.txt            (prints the recipient on stderr)
//!
//! `SEAL_ONE_CORE=1` runs on the calling thread only.

use std::{
	fs::File,
	io::{self, BufReader},
	os::fd::AsFd,
};

use datacoop_envelope::{decrypt, encrypt, Error, Identity, Parallelism};

fn main() {
	if let Err(e) = run() {
		eprintln!("seal: {e}");
		std::process::exit(1);
	}
}

fn run() -> Result<(), Error> {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let parallelism = if std::env::var_os("SEAL_ONE_CORE").is_some() {
		Parallelism::OneCore
	} else {
		Parallelism::AllCores
	};
	// The standard streams as plain files: Rust's stdout is line-buffered (it would look for
	// newlines in every sealed batch) and its stdin reads through an 8 KiB buffer; `age`
	// reads and writes its files directly, and so does this.
	let stdin = File::from(io::stdin().as_fd().try_clone_to_owned()?);
	let stdout = File::from(io::stdout().as_fd().try_clone_to_owned()?);
	match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
		["encrypt", recipient] => {
			encrypt(&[recipient.parse()?], stdin, stdout, &parallelism)?;
		},
		["decrypt", key] => {
			let text = std::fs::read_to_string(key)?;
			let identity: Identity = text
				.lines()
				.find(|l| l.starts_with("AGE-SECRET-KEY-1"))
				.ok_or_else(|| Error::InvalidKey(format!("no AGE-SECRET-KEY-1 line in {key}")))?
				.parse()?;
			decrypt(&[identity], BufReader::with_capacity(1 << 20, stdin), stdout, &parallelism)?;
		},
		["keygen"] => {
			let identity = Identity::generate()?;
			eprintln!("{}", identity.to_public());
			println!("{}", identity.to_bech32().as_str());
		},
		_ => {
			eprintln!("usage: seal encrypt RECIPIENT | seal decrypt KEYFILE | seal keygen");
			std::process::exit(2);
		},
	}
	Ok(())
}
