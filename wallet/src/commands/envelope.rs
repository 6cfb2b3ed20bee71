//! `datacoop encrypt` and `datacoop decrypt-file`: the envelope offline, to age recipients
//! and from age identities (the account's own, or an identity file). Also the file handling
//! the contributions' `decrypt` shares: outputs written whole or not at all.

use std::{
	fmt, fs,
	io::{BufReader, Write},
	path::{Path, PathBuf},
};

use anyhow::{anyhow, bail, Context, Result};
use datacoop_envelope::{Identity, Parallelism, Recipient};
use serde::Serialize;

use super::print;
use crate::Global;

#[derive(clap::Args)]
pub struct EncryptArgs {
	pub file: PathBuf,
	/// Recipient (age1…); repeat for several.
	#[arg(long = "to", required = true)]
	pub to: Vec<String>,
	#[arg(short, long)]
	pub output: PathBuf,
	/// Use one core (for benchmarks).
	#[arg(long)]
	pub one_core: bool,
}

#[derive(clap::Args)]
pub struct DecryptFileArgs {
	pub file: PathBuf,
	#[arg(short, long)]
	pub output: PathBuf,
	/// An age identity file (AGE-SECRET-KEY-1… lines) instead of the account's key.
	#[arg(long, short = 'i')]
	pub identity: Option<PathBuf>,
	#[arg(long)]
	pub one_core: bool,
}

/// The file `encrypt` wrote: where, and how many bytes.
#[derive(Serialize)]
struct Encrypted<'a> {
	output: &'a Path,
	bytes: u64,
}

impl fmt::Display for Encrypted<'_> {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "encrypted into {} ({} bytes)", self.output.display(), self.bytes)
	}
}

/// The file `decrypt-file` wrote: where, and how many bytes.
#[derive(Serialize)]
struct Decrypted<'a> {
	output: &'a Path,
	bytes: u64,
}

impl fmt::Display for Decrypted<'_> {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "decrypted {} bytes into {}", self.bytes, self.output.display())
	}
}

pub fn encrypt(args: &EncryptArgs, global: &Global, out: &mut impl Write) -> Result<()> {
	let recipients = args
		.to
		.iter()
		.map(|r| r.parse::<Recipient>().map_err(|e| anyhow!("{r}: {e}")))
		.collect::<Result<Vec<_>>>()?;
	let input = fs::File::open(&args.file)
		.with_context(|| format!("cannot open {}", args.file.display()))?;
	let n = write_atomically(&args.output, |output| {
		Ok(datacoop_envelope::encrypt(
			&recipients,
			input,
			std::io::BufWriter::new(output),
			&parallelism(args.one_core),
		)?)
	})?;
	print(out, global.json, &Encrypted { output: &args.output, bytes: n })
}

pub fn decrypt_file(args: &DecryptFileArgs, global: &Global, out: &mut impl Write) -> Result<()> {
	let identities = match &args.identity {
		Some(path) => read_identities(path)?,
		None => vec![global.account()?.contribution_identity()],
	};
	let input = fs::File::open(&args.file)
		.with_context(|| format!("cannot open {}", args.file.display()))?;
	let n = write_atomically(&args.output, |output| {
		datacoop_envelope::decrypt(
			&identities,
			BufReader::new(input),
			std::io::BufWriter::new(output),
			&parallelism(args.one_core),
		)
		.map_err(|e| anyhow!("cannot decrypt: {e}"))
	})?;
	print(out, global.json, &Decrypted { output: &args.output, bytes: n })
}

fn read_identities(path: &Path) -> Result<Vec<Identity>> {
	let text =
		fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
	let ids = text
		.lines()
		.map(str::trim)
		.filter(|l| !l.is_empty() && !l.starts_with('#'))
		.map(|l| l.parse::<Identity>().map_err(|e| anyhow!("{}: {e}", path.display())))
		.collect::<Result<Vec<_>>>()?;
	if ids.is_empty() {
		bail!("{}: no AGE-SECRET-KEY-1… line", path.display());
	}
	Ok(ids)
}

pub fn parallelism(one_core: bool) -> Parallelism {
	if one_core {
		Parallelism::OneCore
	} else {
		Parallelism::AllCores
	}
}

/// A temporary file beside `path`, renamed over it only when all went well: a failed run
/// never leaves a partial output behind.
pub fn write_atomically(
	path: &Path,
	write: impl FnOnce(&mut fs::File) -> Result<u64>,
) -> Result<u64> {
	let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
	let mut temp = tempfile::NamedTempFile::new_in(dir)
		.with_context(|| format!("cannot write in {}", dir.display()))?;
	let n = write(temp.as_file_mut())?;
	temp.as_file().sync_all()?;
	temp.persist(path).map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
	Ok(n)
}
