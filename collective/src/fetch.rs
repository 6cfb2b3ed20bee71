//! Where the collective server fetches a contribution's blob from, and the fetch itself.
//!
//! A contribution names its blob by a URL its contributor chose. The server fetches only
//! from the operator's storage (`--storage`) and from the hosts the operator allows by name
//! (`--allow-storage-host HOST[:PORT]`), and there only the blob the contribution submitted
//! (`/blobs/0x<hash>`: the request is made for the submitted hash, never for the URL's own
//! path). A URL with another host, userinfo, a query, a fragment or another path is refused
//! without a request ([`UrlRefused`]: a fixed reason, signed into an Invalid verdict).
//!
//! A fetch has a connect deadline, a read deadline (for the answer's headers, then between
//! two chunks) and a total deadline; a fetch past one ends ([`FetchError::TimedOut`]) and
//! frees its worker. What storage says when it fails (its body, the connection error) is
//! kept in [`FetchError`] for the log and never answered or signed: callers get the fixed
//! text of the variant.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use datacoop_storage::{BlobHash, ClientError, StorageClient};
use futures::StreamExt;
use url::Url;

/// Why a contribution's storage URL is refused: each is a fixed reason the server signs into
/// an Invalid verdict (see docs/collective.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
	/// Not UTF-8, not an http(s) URL, or its path is not `/blobs/0x` and 64 hex digits.
	#[error("the storage URL is not a blob URL (http(s)://HOST/blobs/0x<hash>)")]
	NotABlobUrl,
	/// A user name or password, a query or a fragment.
	#[error("the storage URL has a user, a query or a fragment")]
	Extras,
	/// Neither the collective's storage nor a host it allows.
	#[error("the storage URL is not on a storage host this collective fetches from")]
	HostNotAllowed,
	/// The blob it names is not the one submitted.
	#[error("the storage URL names another blob than the submitted hash")]
	OtherBlob,
}

/// A storage URL the operator configured that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
	#[error("--storage {0:?}: not a storage URL (http://HOST:PORT or https://…, no user, query or fragment)")]
	Storage(String),
	#[error("--allow-storage-host {0:?}: expected HOST or HOST:PORT")]
	Host(String),
}

/// A host the operator allows, beside its storage.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Allowed {
	/// As `Url::host_str` writes it: lower case, IPv6 in brackets.
	host: String,
	/// `None`: the default port of the URL's scheme.
	port: Option<u16>,
}

impl Allowed {
	fn parse(entry: &str) -> Result<Allowed, PolicyError> {
		let fail = || PolicyError::Host(entry.into());
		let url = Url::parse(&format!("http://{entry}/")).map_err(|_| fail())?;
		let plain = url.path() == "/"
			&& url.username().is_empty()
			&& url.password().is_none()
			&& url.query().is_none()
			&& url.fragment().is_none();
		let host = url.host_str().filter(|h| plain && !h.is_empty()).ok_or_else(fail)?;
		// `Url` drops a port that is its scheme's default: read the one written, if any.
		let port = match entry.rsplit_once(':') {
			Some((_, digits))
				if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
			{
				Some(digits.parse::<u16>().map_err(|_| fail())?)
			},
			_ => None,
		};
		Ok(Allowed { host: host.to_owned(), port })
	}

	fn admits(&self, url: &Url) -> bool {
		url.host_str() == Some(self.host.as_str())
			&& match self.port {
				Some(port) => url.port_or_known_default() == Some(port),
				None => url.port().is_none(),
			}
	}
}

/// Where blobs may be fetched from: the operator's storage, and the hosts it allows.
pub struct HostPolicy {
	/// The operator's storage, parsed: its origin and the path blobs are under.
	storage_url: Url,
	storage: StorageClient,
	allowed: Vec<Allowed>,
	/// Clients for allowed hosts, by origin, made when first needed (at most two per allowed
	/// host: http and https).
	clients: Mutex<HashMap<String, StorageClient>>,
	deadlines: Deadlines,
}

/// Where a contribution's blob is fetched from.
pub struct Source {
	pub client: StorageClient,
	pub hash: BlobHash,
}

impl HostPolicy {
	/// The operator's storage service at `storage` (its base URL), the hosts in `allowed`
	/// (`HOST` or `HOST:PORT`; without a port, the default port of the URL's scheme), and the
	/// deadlines of every client made (no client follows a redirect).
	pub fn new(
		storage: &str,
		allowed: &[String],
		deadlines: Deadlines,
	) -> Result<HostPolicy, PolicyError> {
		let fail = || PolicyError::Storage(storage.into());
		let storage_url = Url::parse(storage.trim_end_matches('/')).map_err(|_| fail())?;
		let plain = matches!(storage_url.scheme(), "http" | "https")
			&& storage_url.host_str().is_some_and(|h| !h.is_empty())
			&& storage_url.username().is_empty()
			&& storage_url.password().is_none()
			&& storage_url.query().is_none()
			&& storage_url.fragment().is_none();
		if !plain {
			return Err(fail());
		}
		let storage = client(storage.trim_end_matches('/'), deadlines).map_err(|_| fail())?;
		let allowed = allowed.iter().map(|a| Allowed::parse(a)).collect::<Result<_, _>>()?;
		Ok(HostPolicy { storage_url, storage, allowed, clients: Default::default(), deadlines })
	}

	/// Where the blob `url` names is fetched from, if the policy allows it and it is the
	/// submitted blob `submitted`. Makes no request.
	pub fn source(&self, url: &[u8], submitted: &BlobHash) -> Result<Source, UrlRefused> {
		let url = std::str::from_utf8(url).map_err(|_| UrlRefused::NotABlobUrl)?;
		let url = Url::parse(url).map_err(|_| UrlRefused::NotABlobUrl)?;
		if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
			return Err(UrlRefused::NotABlobUrl);
		}
		if !url.username().is_empty()
			|| url.password().is_some()
			|| url.query().is_some()
			|| url.fragment().is_some()
		{
			return Err(UrlRefused::Extras);
		}
		let ours = url.scheme() == self.storage_url.scheme()
			&& url.host_str() == self.storage_url.host_str()
			&& url.port_or_known_default() == self.storage_url.port_or_known_default();
		let prefix = if ours { self.storage_url.path().trim_end_matches('/') } else { "" };
		let name = url
			.path()
			.strip_prefix(prefix)
			.and_then(|p| p.strip_prefix("/blobs/0x"))
			.filter(|digits| digits.len() == 64)
			.and_then(|digits| digits.parse::<BlobHash>().ok());
		let Some(named) = name else {
			// On the storage host, under another path: not a blob URL there.
			return Err(if ours || self.allowed.iter().any(|a| a.admits(&url)) {
				UrlRefused::NotABlobUrl
			} else {
				UrlRefused::HostNotAllowed
			});
		};
		if ours {
			return (named == *submitted)
				.then(|| Source { client: self.storage.clone(), hash: named })
				.ok_or(UrlRefused::OtherBlob);
		}
		if !self.allowed.iter().any(|a| a.admits(&url)) {
			return Err(UrlRefused::HostNotAllowed);
		}
		if named != *submitted {
			return Err(UrlRefused::OtherBlob);
		}
		let origin = url.origin().ascii_serialization();
		let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
		let client = match clients.get(&origin) {
			Some(c) => c.clone(),
			None => {
				// An allowed host and a parsed URL: a client can be made for it.
				let c = client(&origin, self.deadlines).map_err(|_| UrlRefused::NotABlobUrl)?;
				clients.insert(origin, c.clone());
				c
			},
		};
		Ok(Source { client, hash: named })
	}

	/// The deadlines of every fetch.
	pub fn deadlines(&self) -> Deadlines {
		self.deadlines
	}
}

/// A storage client for `base` with these deadlines (and no redirects). [`fetch`] keeps
/// the read and total deadlines itself; the client's read deadline is a second behind, a
/// backstop, so a silent host is reported as slow rather than as broken.
fn client(base: &str, deadlines: Deadlines) -> Result<StorageClient, ClientError> {
	let within = datacoop_storage::Deadlines {
		connect: deadlines.connect,
		read: deadlines.read.saturating_add(Duration::from_secs(1)),
		request: deadlines.total,
		..Default::default()
	};
	StorageClient::with_deadlines(base, within)
}

/// How long a fetch may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
	/// To connect.
	pub connect: Duration,
	/// For the answer's headers once connected, then between two chunks of the body.
	pub read: Duration,
	/// For the whole fetch, from the request to the last byte.
	pub total: Duration,
}

/// Why a blob could not be fetched: never the contributor's fault for certain, so never a
/// verdict. The `String`s are what storage said, for the log only.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	#[error("the blob is not in storage (yet)")]
	NotFound,
	#[error("storage did not send the blob in time")]
	TimedOut,
	#[error("storage could not send the blob")]
	Storage(String),
}

impl FetchError {
	/// What storage said, for the log (never for a caller).
	pub fn detail(&self) -> Option<&str> {
		match self {
			FetchError::Storage(detail) => Some(detail),
			_ => None,
		}
	}
}

/// What a fetch found.
#[derive(Debug)]
pub enum Fetched {
	/// The blob, `declared` bytes that hash to the submitted hash.
	Blob(Vec<u8>),
	/// Storage holds the blob with another size than the contribution declared.
	SizeDiffers { stored: u64 },
}

/// Fetches blob `hash` of `declared` bytes (the caller has checked that many are
/// acceptable) from `client`, within `deadlines`. The bytes are checked against the hash
/// as they come (the storage client does that).
pub async fn fetch(
	client: &StorageClient,
	hash: &BlobHash,
	declared: u64,
	deadlines: Deadlines,
) -> Result<Fetched, FetchError> {
	let whole = async {
		let headers = deadlines.connect.saturating_add(deadlines.read);
		let (size, mut stream) = match tokio::time::timeout(headers, client.get(hash)).await {
			Err(_) => return Err(FetchError::TimedOut),
			Ok(Err(ClientError::NotFound { .. })) => return Err(FetchError::NotFound),
			Ok(Err(ClientError::TimedOut { .. })) => return Err(FetchError::TimedOut),
			Ok(Err(e)) => return Err(FetchError::Storage(e.to_string())),
			Ok(Ok(found)) => found,
		};
		if size != declared {
			return Ok(Fetched::SizeDiffers { stored: size });
		}
		let declared = usize::try_from(declared)
			.map_err(|_| FetchError::Storage("a blob larger than memory".into()))?;
		// Room for the whole blob once it is arriving, not before: a host that never sends
		// a byte costs no memory.
		let mut blob = Vec::new();
		loop {
			let chunk = match tokio::time::timeout(deadlines.read, stream.next()).await {
				Err(_) => return Err(FetchError::TimedOut),
				Ok(None) => break,
				Ok(Some(Err(e))) => return Err(FetchError::Storage(e.to_string())),
				Ok(Some(Ok(chunk))) => chunk,
			};
			if chunk.len() > declared - blob.len() {
				return Err(FetchError::Storage("storage sent more than the blob's size".into()));
			}
			if blob.capacity() == 0 {
				blob.reserve_exact(declared);
			}
			blob.extend_from_slice(&chunk);
		}
		if blob.len() != declared {
			return Err(FetchError::Storage("storage sent less than the blob's size".into()));
		}
		Ok(Fetched::Blob(blob))
	};
	tokio::time::timeout(deadlines.total, whole).await.unwrap_or(Err(FetchError::TimedOut))
}

#[cfg(test)]
mod tests {
	use super::*;

	const DEADLINES: Deadlines = Deadlines {
		connect: Duration::from_secs(1),
		read: Duration::from_secs(1),
		total: Duration::from_secs(1),
	};
	const HASH: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

	fn policy(allowed: &[&str]) -> HostPolicy {
		let allowed: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
		HostPolicy::new("http://storage.local:9900", &allowed, DEADLINES).unwrap()
	}

	fn source(policy: &HostPolicy, url: &str) -> Result<String, UrlRefused> {
		let hash: BlobHash = HASH.parse().unwrap();
		policy.source(url.as_bytes(), &hash).map(|s| s.client.base().to_owned())
	}

	#[test]
	fn only_blob_urls_on_allowed_hosts_are_fetched() {
		let p = policy(&["blobs.example.org", "10.0.0.7:8080", "[::1]:9"]);
		let ok = |url: &str| source(&p, url).unwrap();
		assert_eq!(
			ok(&format!("http://storage.local:9900/blobs/{HASH}")),
			"http://storage.local:9900"
		);
		assert_eq!(
			ok(&format!("HTTP://Storage.Local:9900/blobs/{HASH}")),
			"http://storage.local:9900"
		);
		assert_eq!(
			ok(&format!("https://blobs.example.org/blobs/{HASH}")),
			"https://blobs.example.org"
		);
		assert_eq!(
			ok(&format!("http://blobs.example.org:80/blobs/{HASH}")),
			"http://blobs.example.org"
		);
		assert_eq!(ok(&format!("http://10.0.0.7:8080/blobs/{HASH}")), "http://10.0.0.7:8080");
		assert_eq!(ok(&format!("http://[::1]:9/blobs/{HASH}")), "http://[::1]:9");
		let other = "0x2222222222222222222222222222222222222222222222222222222222222222";
		for (url, why) in [
			(format!("http://storage.local:9900/blobs/{other}"), UrlRefused::OtherBlob),
			(format!("http://blobs.example.org/blobs/{other}"), UrlRefused::OtherBlob),
			(format!("http://evil.example/blobs/{HASH}"), UrlRefused::HostNotAllowed),
			(format!("http://127.0.0.1:9900/blobs/{HASH}"), UrlRefused::HostNotAllowed),
			(format!("http://storage.local:9901/blobs/{HASH}"), UrlRefused::HostNotAllowed),
			(format!("https://storage.local:9900/blobs/{HASH}"), UrlRefused::HostNotAllowed),
			(format!("http://blobs.example.org:8080/blobs/{HASH}"), UrlRefused::HostNotAllowed),
			(format!("http://10.0.0.7/blobs/{HASH}"), UrlRefused::HostNotAllowed),
			(
				format!("http://blobs.example.org.evil.example/blobs/{HASH}"),
				UrlRefused::HostNotAllowed,
			),
			(format!("http://storage.local:9900/blobs/{HASH}?x=1"), UrlRefused::Extras),
			(format!("http://storage.local:9900/blobs/{HASH}?"), UrlRefused::Extras),
			(format!("http://storage.local:9900/blobs/{HASH}#f"), UrlRefused::Extras),
			(format!("http://u:p@storage.local:9900/blobs/{HASH}"), UrlRefused::Extras),
			(format!("http://storage.local:9900/admin/blobs/{HASH}"), UrlRefused::NotABlobUrl),
			(format!("http://storage.local:9900/blobs/{HASH}/"), UrlRefused::NotABlobUrl),
			(format!("http://storage.local:9900/blobs/{}", &HASH[2..]), UrlRefused::NotABlobUrl),
			(
				format!("http://storage.local:9900/blobs/0x%31{}", &HASH[3..]),
				UrlRefused::NotABlobUrl,
			),
			(format!("http://blobs.example.org/internal/{HASH}"), UrlRefused::NotABlobUrl),
			(format!("file:///blobs/{HASH}"), UrlRefused::NotABlobUrl),
			(format!("gopher://storage.local:9900/blobs/{HASH}"), UrlRefused::NotABlobUrl),
			("not a url".to_owned(), UrlRefused::NotABlobUrl),
		] {
			assert_eq!(source(&p, &url), Err(why), "{url}");
		}
		let hash: BlobHash = HASH.parse().unwrap();
		assert_eq!(
			p.source(b"http://storage.local:9900/\xff", &hash).err(),
			Some(UrlRefused::NotABlobUrl)
		);
		// dot segments are resolved before the check: the request is for the hash anyway
		assert!(source(&p, &format!("http://storage.local:9900/x/../blobs/{HASH}")).is_ok());
	}

	#[test]
	fn storage_under_a_path_and_bad_configuration() {
		let p = HostPolicy::new("https://cdn.example/datacoop/", &[], DEADLINES).unwrap();
		assert_eq!(
			source(&p, &format!("https://cdn.example/datacoop/blobs/{HASH}")).unwrap(),
			"https://cdn.example/datacoop"
		);
		assert_eq!(
			source(&p, &format!("https://cdn.example/blobs/{HASH}")),
			Err(UrlRefused::NotABlobUrl)
		);
		for bad in ["ftp://x", "http://", "http://u@h", "http://h/?q", "nonsense"] {
			assert!(HostPolicy::new(bad, &[], DEADLINES).is_err(), "{bad}");
		}
		for bad in ["", "h/p", "u@h", "h:99999", "h?q", "::1"] {
			let e = HostPolicy::new("http://s", &[bad.to_owned()], DEADLINES);
			assert!(e.is_err(), "{bad}");
		}
	}
}
