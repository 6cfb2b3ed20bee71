//! The URLs the chain records for others to call: DAOs' collective endpoints and
//! contributions' storage URLs. Every validator's off-chain worker and every collective server
//! sends requests to them, so the chain takes only plain `http(s)://host[:port]/path` URLs
//! naming a public host: no user info, no query or fragment, and (unless the chain allows it
//! for development) no loopback, private, link-local or otherwise local address, so a URL on
//! chain cannot make a validator call its own local services.
//!
//! Written by hand rather than with the `url` crate: the runtime is `no_std` and needs only
//! this strict subset, and an IP-literal check must not accept the forms (`127.1`,
//! `0x7f.0.0.1`, `2130706433`) that lenient URL parsers turn into loopback addresses.

use core::net::{Ipv4Addr, Ipv6Addr};

/// Why a URL is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlError {
	/// Not `http(s)://host[:port][/path]` in printable ASCII, or it has user info, a query,
	/// a fragment, or a host that looks numeric without being a dotted IPv4 address.
	Malformed,
	/// The host is `localhost` or an IP address in a loopback, private, link-local, shared,
	/// unspecified or otherwise non-public range.
	LocalHost,
}

/// Checks `url` against the rules above; `allow_local` lets local hosts through (development
/// chains, whose collective and storage run on the validator's machine).
pub fn check_http_url(url: &[u8], allow_local: bool) -> Result<(), UrlError> {
	let rest = url
		.strip_prefix(b"https://")
		.or_else(|| url.strip_prefix(b"http://"))
		.ok_or(UrlError::Malformed)?;
	if rest.is_empty() || !rest.iter().all(|c| c.is_ascii_graphic()) {
		return Err(UrlError::Malformed);
	}
	if rest.iter().any(|c| matches!(c, b'?' | b'#' | b'@' | b'\\')) {
		return Err(UrlError::Malformed);
	}
	let authority_end = rest.iter().position(|c| *c == b'/').unwrap_or(rest.len());
	let authority =
		core::str::from_utf8(&rest[..authority_end]).map_err(|_| UrlError::Malformed)?;
	let host = split_port(authority)?;
	if is_local(host)? && !allow_local {
		return Err(UrlError::LocalHost);
	}
	Ok(())
}

/// The `host[:port]` of an `http(s)://` URL, if it has one.
pub fn authority(url: &[u8]) -> Option<&[u8]> {
	let rest = url.strip_prefix(b"https://").or_else(|| url.strip_prefix(b"http://"))?;
	let end = rest.iter().position(|c| *c == b'/').unwrap_or(rest.len());
	Some(&rest[..end]).filter(|a| !a.is_empty())
}

/// Where a validator's operator lists the hosts its off-chain worker may call, in the node's
/// persistent off-chain storage: SCALE `Vec<Vec<u8>>` of lowercase `host` or `host:port`
/// entries (`datacoop-node --offchain-allow-host`). Absent: any host the chain accepted.
pub const OFFCHAIN_ALLOWED_HOSTS_KEY: &[u8] = b"datacoop/ocw/allowed-hosts";

/// Whether `url`'s authority is on the operator's list: an entry `host` allows every port
/// of that host, `host:port` that port only.
pub fn allowed_by(list: &[alloc::vec::Vec<u8>], url: &[u8]) -> bool {
	let Some(authority) = authority(url) else { return false };
	let host = match authority.iter().rposition(|c| *c == b':') {
		// `[v6]` without a port has its colons inside the brackets.
		Some(i) if !authority[i..].contains(&b']') => &authority[..i],
		_ => authority,
	};
	list.iter()
		.any(|entry| entry.eq_ignore_ascii_case(authority) || entry.eq_ignore_ascii_case(host))
}

/// The host of `host[:port]` or `[v6][:port]`, the port checked.
fn split_port(authority: &str) -> Result<&str, UrlError> {
	let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
		let end = v6.find(']').ok_or(UrlError::Malformed)?;
		let after = &v6[end + 1..];
		let port = match after {
			"" => None,
			p => Some(p.strip_prefix(':').ok_or(UrlError::Malformed)?),
		};
		(&authority[..end + 2], port)
	} else {
		match authority.split_once(':') {
			Some((host, port)) => (host, Some(port)),
			None => (authority, None),
		}
	};
	if let Some(port) = port {
		if port.is_empty() || port.len() > 5 || !port.bytes().all(|c| c.is_ascii_digit()) {
			return Err(UrlError::Malformed);
		}
		port.parse::<u16>().map_err(|_| UrlError::Malformed)?;
	}
	if host.is_empty() {
		return Err(UrlError::Malformed);
	}
	Ok(host)
}

/// Whether `host` (a DNS name, a dotted IPv4 address or a bracketed IPv6 address) is local.
fn is_local(host: &str) -> Result<bool, UrlError> {
	if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
		let ip: Ipv6Addr = v6.parse().map_err(|_| UrlError::Malformed)?;
		return Ok(is_local_v6(&ip));
	}
	let lower_last = host.rsplit('.').next().unwrap_or(host);
	let numeric = lower_last.bytes().all(|c| c.is_ascii_digit())
		|| lower_last.len() > 1 && lower_last[..2].eq_ignore_ascii_case("0x");
	if numeric {
		// Only the canonical dotted form: `127.1`, `0177.0.0.1` and `2130706433` are refused
		// rather than guessed at (clients read them as loopback addresses).
		let ip: Ipv4Addr = host.parse().map_err(|_| UrlError::Malformed)?;
		return Ok(is_local_v4(&ip));
	}
	let labels_ok = host.split('.').all(|label| {
		!label.is_empty()
			&& label.len() <= 63
			&& label.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
			&& !label.starts_with('-')
			&& !label.ends_with('-')
	});
	if !labels_ok || host.len() > 253 {
		return Err(UrlError::Malformed);
	}
	let name = host.trim_end_matches('.');
	let is_localhost = name.eq_ignore_ascii_case("localhost")
		|| name.len() > 10 && name[name.len() - 10..].eq_ignore_ascii_case(".localhost");
	Ok(is_localhost)
}

fn is_local_v4(ip: &Ipv4Addr) -> bool {
	let [a, b, ..] = ip.octets();
	a == 0 // "this network", 0.0.0.0
		|| a == 10
		|| a == 127
		|| (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
		|| (a == 169 && b == 254) // link-local, cloud metadata services
		|| (a == 172 && (16..32).contains(&b))
		|| (a == 192 && b == 168)
		|| (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
		|| (a == 198 && (b == 18 || b == 19)) // benchmarking
		|| a >= 224 // multicast, reserved, broadcast
}

fn is_local_v6(ip: &Ipv6Addr) -> bool {
	if let Some(v4) = ip.to_ipv4_mapped() {
		return is_local_v4(&v4);
	}
	let first = ip.segments()[0];
	ip.is_loopback()
		|| ip.is_unspecified()
		|| (first & 0xfe00) == 0xfc00 // unique local
		|| (first & 0xffc0) == 0xfe80 // link-local
		|| (first & 0xff00) == 0xff00 // multicast
		|| ip.segments()[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated) forms
}

#[cfg(test)]
mod tests {
	use super::*;

	fn check(url: &str, allow_local: bool) -> Result<(), UrlError> {
		check_http_url(url.as_bytes(), allow_local)
	}

	#[test]
	fn public_http_urls_pass() {
		for url in [
			"http://collective.example.org",
			"https://storage.example.org:9900/blobs/0xabc",
			"http://93.184.216.34/v1",
			"http://[2001:db8::1]:8080/x",
			"https://a-b.example/",
		] {
			assert_eq!(check(url, false), Ok(()), "{url}");
		}
	}

	#[test]
	fn local_hosts_are_refused_unless_allowed() {
		for url in [
			"http://localhost:9950",
			"http://LOCALHOST",
			"http://api.localhost/",
			"http://127.0.0.1:9944",
			"http://10.1.2.3/",
			"http://172.16.0.1/",
			"http://192.168.1.1/",
			"http://169.254.169.254/latest/meta-data",
			"http://100.64.0.1/",
			"http://0.0.0.0/",
			"http://[::1]:9944/",
			"http://[fd00::1]/",
			"http://[fe80::1]/",
			"http://[::ffff:127.0.0.1]/",
			"http://[::]/",
		] {
			assert_eq!(check(url, false), Err(UrlError::LocalHost), "{url}");
			assert_eq!(check(url, true), Ok(()), "{url} with local hosts allowed");
		}
	}

	#[test]
	fn an_operator_list_allows_hosts_or_host_ports() {
		let list = [b"collective.example".to_vec(), b"storage.example:9900".to_vec()];
		assert!(allowed_by(&list, b"https://Collective.Example:8443/v1/validate"));
		assert!(allowed_by(&list, b"http://storage.example:9900/blobs/0x01"));
		assert!(!allowed_by(&list, b"http://storage.example:9901/blobs/0x01"));
		assert!(!allowed_by(&list, b"http://evil.example/"));
		assert!(!allowed_by(&list, b"ftp://collective.example/"));
		assert!(allowed_by(&[b"[::1]".to_vec()], b"http://[::1]/x"));
	}

	#[test]
	fn tricks_and_malformed_urls_are_refused() {
		for url in [
			"ftp://example.org",
			"http://",
			"http:///path",
			"http://example.org/?q=1",
			"http://example.org/#x",
			"http://user@example.org/",
			"http://example.org@127.0.0.1/",
			"http://127.1/",
			"http://2130706433/",
			"http://0x7f.0.0.1/",
			"http://0177.0.0.1/",
			"http://example.org:99999/",
			"http://example.org:/",
			"http://exa mple.org/",
			"http://[::1/",
			"http://-bad.example/",
			"http://example.org\\@evil/",
		] {
			assert_eq!(check(url, true), Err(UrlError::Malformed), "{url}");
		}
	}
}
