//! The age v1 header: the version line, one stanza per recipient and the header MAC.
//!
//! ```text
//! age-encryption.org/v1
//! -> X25519 <ephemeral share, base64>
//! <wrapped file key, base64, lines of 64 columns, the last one shorter (maybe empty)>
//! --- <HMAC-SHA256 of everything above, up to and including "---", base64>
//! ```
//!
//! Parsing is strict, as the spec asks: LF line ends only, canonical unpadded base64, full
//! 64-column body lines but the last, arguments of visible ASCII. And bounded: at most
//! [`MAX_STANZAS`] stanzas, lines of 8 KiB, 1 MiB in all.

use std::io::{BufRead, Read};

use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Error, FileKey};

pub(crate) const VERSION_LINE: &[u8] = b"age-encryption.org/v1";
const STANZA_PREFIX: &[u8] = b"-> ";
const MAC_PREFIX: &[u8] = b"---";
const COLUMNS: usize = 64;
/// Longest header line accepted. X25519 lines are 53 bytes; other recipient types (which
/// this crate skips) have longer arguments, post-quantum ones about 1.5 KiB.
const MAX_LINE: usize = 8 * 1024;
/// Largest header accepted: 64 stanzas even of post-quantum recipients fit many times over.
/// Keeps a hostile file from making the reader buffer without end.
pub(crate) const MAX_HEADER: usize = 1024 * 1024;
/// Most recipient stanzas accepted in a header (and written: see `encrypting_reader`).
/// Contributions have two (the collective and the contributor). Without a cap, a 1 MiB
/// header holds about 10,000 X25519 stanzas, an X25519 operation each for every identity
/// tried, or about 170,000 tiny stanzas of other types, a few allocations each.
pub const MAX_STANZAS: usize = 64;

/// One recipient stanza: its arguments (the first is its type) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stanza {
	pub args: Vec<String>,
	pub body: Vec<u8>,
}

/// A parsed header, with what its MAC covers.
pub(crate) struct Header {
	pub stanzas: Vec<Stanza>,
	pub mac: [u8; 32],
	/// The header's bytes up to and including `---`.
	pub mac_input: Vec<u8>,
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
	STANDARD_NO_PAD.encode(bytes)
}

/// Canonical unpadded base64 only (no padding, no stray bits, no whitespace).
pub(crate) fn base64_decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
	STANDARD_NO_PAD.decode(s)
}

fn is_base64_char(b: u8) -> bool {
	b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// The MAC of a header, keyed from the file key.
pub(crate) fn header_mac(file_key: &FileKey, mac_input: &[u8]) -> Hmac<Sha256> {
	let mut key = zeroize::Zeroizing::new([0u8; 32]);
	Hkdf::<Sha256>::new(Some(&[]), file_key)
		.expand(b"header", key.as_mut())
		.expect("32 bytes is a valid HKDF-SHA256 output length");
	let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref()).expect("HMAC takes any key");
	mac.update(mac_input);
	mac
}

/// Writes a header for `stanzas`, authenticated with `file_key`.
pub(crate) fn encode(stanzas: &[Stanza], file_key: &FileKey) -> Vec<u8> {
	let mut out = Vec::with_capacity(64 + stanzas.len() * 100);
	out.extend_from_slice(VERSION_LINE);
	out.push(b'\n');
	for stanza in stanzas {
		out.extend_from_slice(STANZA_PREFIX);
		out.extend_from_slice(stanza.args.join(" ").as_bytes());
		out.push(b'\n');
		let body = base64_encode(&stanza.body);
		// Full lines of 64 columns, then a shorter one: empty if the body fills the last.
		let mut rest = body.as_bytes();
		while rest.len() >= COLUMNS {
			out.extend_from_slice(&rest[..COLUMNS]);
			out.push(b'\n');
			rest = &rest[COLUMNS..];
		}
		out.extend_from_slice(rest);
		out.push(b'\n');
	}
	out.extend_from_slice(MAC_PREFIX);
	let mac = header_mac(file_key, &out).finalize().into_bytes();
	out.push(b' ');
	out.extend_from_slice(base64_encode(&mac).as_bytes());
	out.push(b'\n');
	out
}

/// Reads one LF-terminated line, without the LF; `raw` gets the line as read.
fn read_line<R: BufRead>(input: &mut R, raw: &mut Vec<u8>) -> Result<Vec<u8>, Error> {
	let mut line = Vec::new();
	input.by_ref().take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line)?;
	if line.last() != Some(&b'\n') {
		return Err(if line.len() > MAX_LINE {
			Error::Header("a header line is too long")
		} else {
			Error::Header("the header ends before its MAC line")
		});
	}
	raw.extend_from_slice(&line);
	if raw.len() > MAX_HEADER {
		return Err(Error::Header("the header is larger than 1 MiB"));
	}
	line.pop();
	Ok(line)
}

/// Reads the header from the start of `input`, leaving `input` at the payload.
pub(crate) fn parse<R: BufRead>(input: &mut R) -> Result<Header, Error> {
	let mut raw = Vec::new();
	// Whatever else is wrong, a file that does not start like an age file is not one.
	let start = input.fill_buf()?;
	if !b"age".starts_with(&start[..start.len().min(3)]) {
		return Err(Error::Header("not an age file (no age-encryption.org/v1 line)"));
	}
	let version = read_line(input, &mut raw)?;
	if version != VERSION_LINE {
		return Err(if version.starts_with(b"age-encryption.org/") {
			Error::Header("an unsupported age version")
		} else {
			Error::Header("not an age file (no age-encryption.org/v1 line)")
		});
	}
	let mut stanzas = Vec::new();
	let mut line = read_line(input, &mut raw)?;
	loop {
		if let Some(args) = line.strip_prefix(STANZA_PREFIX) {
			if stanzas.len() == MAX_STANZAS {
				return Err(Error::Header("the header has more than 64 recipient stanzas"));
			}
			let args = args
				.split(|b| *b == b' ')
				.map(|arg| {
					if arg.is_empty() || !arg.iter().all(|b| (0x21..=0x7e).contains(b)) {
						Err(Error::Header("a stanza argument is empty or not visible ASCII"))
					} else {
						Ok(String::from_utf8(arg.to_vec()).expect("checked ASCII"))
					}
				})
				.collect::<Result<Vec<_>, _>>()?;
			let mut body = String::new();
			loop {
				let body_line = read_line(input, &mut raw)?;
				if body_line.len() > COLUMNS || !body_line.iter().all(|b| is_base64_char(*b)) {
					return Err(Error::Header(
						"a stanza body line is not base64 of 64 columns at most",
					));
				}
				body.push_str(core::str::from_utf8(&body_line).expect("checked ASCII"));
				if body_line.len() < COLUMNS {
					break;
				}
			}
			let body = base64_decode(&body)
				.map_err(|_| Error::Header("a stanza body is not canonical base64"))?;
			stanzas.push(Stanza { args, body });
			line = read_line(input, &mut raw)?;
		} else if let Some(rest) = line.strip_prefix(MAC_PREFIX) {
			let mac_input = raw[..raw.len() - line.len() - 1 + MAC_PREFIX.len()].to_vec();
			let encoded = rest
				.strip_prefix(b" ")
				.ok_or(Error::Header("the MAC line is not `--- ` and a MAC"))?;
			let mac: [u8; 32] = core::str::from_utf8(encoded)
				.ok()
				.and_then(|s| base64_decode(s).ok())
				.and_then(|b| b.try_into().ok())
				.ok_or(Error::Header("the header MAC is not 32 bytes of canonical base64"))?;
			if stanzas.is_empty() {
				return Err(Error::Header("the header has no recipient stanza"));
			}
			if stanzas.len() > 1 && stanzas.iter().any(|s| s.args[0] == "scrypt") {
				return Err(Error::Header("an scrypt stanza must be the only one"));
			}
			return Ok(Header { stanzas, mac, mac_input });
		} else {
			return Err(Error::Header("a header line is neither a stanza nor the MAC"));
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn stanza(args: &[&str], body: &[u8]) -> Stanza {
		Stanza { args: args.iter().map(|s| s.to_string()).collect(), body: body.to_vec() }
	}

	#[test]
	fn headers_round_trip_at_every_body_length() {
		let key = [7u8; 16];
		// 0, 47, 48 (exactly one full line: then an empty last line) and 49 bytes of body.
		for len in [0, 1, 47, 48, 49, 96, 200] {
			let stanzas =
				vec![stanza(&["X25519", "abc"], &vec![9u8; len]), stanza(&["other"], b"x")];
			let encoded = encode(&stanzas, &key);
			let mut input = &encoded[..];
			let header = parse(&mut input).unwrap();
			assert!(input.is_empty());
			assert_eq!(header.stanzas, stanzas);
			header_mac(&key, &header.mac_input).verify_slice(&header.mac).unwrap();
		}
	}

	#[test]
	fn malformed_headers_fail_to_parse() {
		let good = encode(&[stanza(&["X25519", "abc"], &[1u8; 32])], &[7u8; 16]);
		let text = String::from_utf8(good.clone()).unwrap();
		for bad in [
			text.replacen("v1", "v2", 1),
			text.replace('\n', "\r\n"),
			text.replacen("-> X25519 abc", "->  X25519", 1),
			text.replacen("--- ", "---  ", 1),
			text[..text.len() - 1].to_string(),
			text[..text.find("---").unwrap()].to_string(),
			text.replacen("-> X25519 abc\n", "", 1).replacen(
				&text.lines().nth(2).unwrap().to_string(),
				"",
				1,
			),
		] {
			assert!(parse(&mut bad.as_bytes()).is_err(), "{bad:?}");
		}
		// A line of 10 MB is refused after 8 KiB, not buffered whole.
		let mut long = b"age-encryption.org/v1\n-> ".to_vec();
		long.extend(std::iter::repeat_n(b'a', 10_000_000));
		assert!(matches!(parse(&mut &long[..]), Err(Error::Header("a header line is too long"))));
	}

	#[test]
	fn at_most_max_stanzas_are_read() {
		let key = [7u8; 16];
		let stanzas = vec![stanza(&["X25519", "abc"], &[1u8; 32]); MAX_STANZAS + 1];
		let header = parse(&mut &encode(&stanzas[..MAX_STANZAS], &key)[..]).unwrap();
		assert_eq!(header.stanzas.len(), MAX_STANZAS);
		let err = parse(&mut &encode(&stanzas, &key)[..]).err().unwrap();
		assert!(
			matches!(err, Error::Header("the header has more than 64 recipient stanzas")),
			"{err}"
		);
		assert_eq!(MAX_STANZAS, 64, "the error message says 64");
		// Refused at the 65th stanza line, whatever follows it.
		let mut flood = b"age-encryption.org/v1\n".to_vec();
		for _ in 0..MAX_STANZAS + 1 {
			flood.extend_from_slice(b"-> x\n\n");
		}
		flood.extend(std::iter::repeat_n(b'a', MAX_HEADER * 2));
		assert!(matches!(
			parse(&mut &flood[..]),
			Err(Error::Header("the header has more than 64 recipient stanzas"))
		));
	}
}
