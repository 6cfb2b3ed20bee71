//! What each uploader may do: bytes per window, uploads per minute, each token once; and how
//! many requests an address may make before it is known who it is.
//!
//! All of it is in memory, bounded: at most `max_accounts` accounts are tracked, each with at
//! most `uploads_per_minute × 11` remembered nonces (a token is usable for `2 × MAX_SKEW` =
//! 10 minutes, and no more than `uploads_per_minute` are admitted in any minute), and at most
//! `max_addresses` addresses. An account is forgotten once its quota window is over and its
//! nonces have expired. When the table is full, accounts not in it are refused (503, try
//! later) rather than admitted by forgetting another: forgetting would hand the forgotten
//! account a fresh quota. A restart forgets everything (quotas start afresh; replayed tokens
//! are still refused by their time once 5 minutes have passed, and within them only if their
//! nonce was seen by this process).

use std::{
	collections::{HashMap, VecDeque},
	net::IpAddr,
	time::Duration,
};

use crate::token::MAX_SKEW;

/// The limits an operator sets (`datacoop-storage` flags).
#[derive(Clone, Debug)]
pub struct Limits {
	/// Bytes one account may upload per `quota_window`.
	pub quota: u64,
	pub quota_window: Duration,
	/// Uploads one account may start per minute (0: none).
	pub uploads_per_minute: u32,
	/// Accounts tracked at once.
	pub max_accounts: usize,
	/// Upload requests (PUT, POST) one address may make per minute, before its token is
	/// checked (0: no limit).
	pub requests_per_minute_per_address: u32,
	/// Addresses tracked at once.
	pub max_addresses: usize,
}

impl Default for Limits {
	fn default() -> Self {
		Limits {
			quota: 2 << 30,
			quota_window: Duration::from_secs(24 * 3600),
			uploads_per_minute: 20,
			max_accounts: 10_000,
			requests_per_minute_per_address: 120,
			max_addresses: 65_536,
		}
	}
}

/// Why an upload may not start now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
	#[error("the upload token's nonce was already used: make a fresh token for each upload")]
	Replayed,
	#[error("this account has started {limit} uploads in the last minute, the most allowed: try again in a minute")]
	AccountRate { limit: u32 },
	#[error("this account has uploaded {used} of its {quota} bytes for this period; {size} more would exceed it: try again after {retry_after} s")]
	Quota { used: u64, size: u64, quota: u64, retry_after: u64 },
	#[error("too many upload requests from this address: try again in a minute")]
	AddressRate,
	#[error("the service is tracking as many uploaders as it may: try again later")]
	Full,
}

impl Refusal {
	/// Seconds a client should wait before trying again (`Retry-After`), if that helps.
	pub fn retry_after(&self) -> Option<u64> {
		match self {
			Refusal::Replayed => None,
			Refusal::AccountRate { .. } | Refusal::AddressRate => Some(60),
			Refusal::Quota { retry_after, .. } => Some(*retry_after),
			Refusal::Full => Some(60),
		}
	}
}

#[derive(Default)]
struct AccountUse {
	/// Start of the current quota window (unix seconds) and the bytes charged in it.
	window_start: u64,
	bytes: u64,
	/// When the uploads of the last minute started (unix seconds), oldest first.
	recent: VecDeque<u64>,
	/// Nonces seen, and when each stops mattering (the token's time + MAX_SKEW).
	nonces: HashMap<[u8; 16], u64>,
}

/// The state behind [`Limits`]; one per service, behind a mutex (every operation is short).
pub struct Ledger {
	limits: Limits,
	accounts: HashMap<[u8; 32], AccountUse>,
	/// Per address: when last counted, and the requests left then, in sixtieths.
	addresses: HashMap<IpAddr, (u64, u64)>,
}

impl Ledger {
	pub fn new(limits: Limits) -> Ledger {
		Ledger { limits, accounts: HashMap::new(), addresses: HashMap::new() }
	}

	pub fn limits(&self) -> &Limits {
		&self.limits
	}

	/// Counts one upload request from `address` at `now` (unix seconds): per address, a
	/// bucket of `limit` requests refilled at `limit` per minute.
	pub fn request_from(&mut self, address: IpAddr, now: u64) -> Result<(), Refusal> {
		let limit = u64::from(self.limits.requests_per_minute_per_address);
		if limit == 0 {
			return Ok(());
		}
		// In sixtieths of a request: each second adds `limit` of them.
		let full = limit * 60;
		let refilled = |(last, units): (u64, u64)| {
			units.saturating_add(now.saturating_sub(last).saturating_mul(limit)).min(full)
		};
		if !self.addresses.contains_key(&address)
			&& self.addresses.len() >= self.limits.max_addresses
		{
			// A full bucket is the same as none.
			self.addresses.retain(|_, entry| refilled(*entry) < full);
			if self.addresses.len() >= self.limits.max_addresses {
				return Err(Refusal::Full);
			}
		}
		let entry = self.addresses.entry(address).or_insert((now, full));
		let units = refilled(*entry);
		if units < 60 {
			*entry = (now, units);
			return Err(Refusal::AddressRate);
		}
		*entry = (now, units - 60);
		Ok(())
	}

	/// Admits an upload of at most `size` bytes by `account` with token nonce `nonce` made at
	/// `token_time`, at `now`: the nonce is remembered, the upload counted, and `size` bytes
	/// charged (see [`Ledger::settle`] for the part not sent). If refused, nothing is charged
	/// or remembered (an account seen only so is forgotten first when the table is full).
	pub fn admit(
		&mut self,
		account: [u8; 32],
		nonce: [u8; 16],
		token_time: u64,
		size: u64,
		now: u64,
	) -> Result<(), Refusal> {
		let window = self.limits.quota_window.as_secs().max(1);
		if !self.accounts.contains_key(&account) && self.accounts.len() >= self.limits.max_accounts
		{
			self.accounts.retain(|_, a| {
				prune(a, now, window);
				!forgettable(a, now, window)
			});
			if self.accounts.len() >= self.limits.max_accounts {
				return Err(Refusal::Full);
			}
		}
		let (quota, per_minute) = (self.limits.quota, self.limits.uploads_per_minute);
		let a = self.accounts.entry(account).or_default();
		prune(a, now, window);
		if a.nonces.contains_key(&nonce) {
			return Err(Refusal::Replayed);
		}
		if a.recent.len() >= per_minute as usize {
			return Err(Refusal::AccountRate { limit: per_minute });
		}
		// `prune` emptied a window that is over; the next upload starts a new one
		let expired = now >= a.window_start.saturating_add(window);
		let used = a.bytes;
		if used.checked_add(size).is_none_or(|total| total > quota) {
			let retry_after = if used == 0 {
				window // larger than the quota itself: never; say something finite
			} else {
				a.window_start.saturating_add(window).saturating_sub(now).max(1)
			};
			return Err(Refusal::Quota { used, size, quota, retry_after });
		}
		if expired {
			a.window_start = now;
		}
		a.bytes += size;
		a.recent.push_back(now);
		a.nonces.insert(nonce, token_time.saturating_add(MAX_SKEW));
		Ok(())
	}

	/// An upload admitted for `reserved` bytes carried `sent`: the difference is given back.
	pub fn settle(&mut self, account: [u8; 32], reserved: u64, sent: u64) {
		if let Some(a) = self.accounts.get_mut(&account) {
			a.bytes = a.bytes.saturating_sub(reserved.saturating_sub(sent));
		}
	}

	/// Accounts tracked now.
	pub fn accounts(&self) -> usize {
		self.accounts.len()
	}
}

fn prune(a: &mut AccountUse, now: u64, window: u64) {
	while a.recent.front().is_some_and(|&t| t.saturating_add(60) <= now) {
		a.recent.pop_front();
	}
	a.nonces.retain(|_, until| *until >= now);
	if now >= a.window_start.saturating_add(window) {
		a.bytes = 0;
	}
}

fn forgettable(a: &AccountUse, now: u64, window: u64) -> bool {
	a.bytes == 0
		&& a.nonces.is_empty()
		&& a.recent.is_empty()
		&& now >= a.window_start.saturating_add(window)
}

#[cfg(test)]
mod tests {
	use super::*;

	const T: u64 = 1_700_000_000;

	fn ledger(quota: u64, per_minute: u32, max_accounts: usize) -> Ledger {
		Ledger::new(Limits {
			quota,
			quota_window: Duration::from_secs(3600),
			uploads_per_minute: per_minute,
			max_accounts,
			requests_per_minute_per_address: 3,
			max_addresses: 2,
		})
	}

	#[test]
	fn nonces_are_single_use_until_they_expire() {
		let mut l = ledger(1 << 30, 100, 10);
		l.admit([1; 32], [1; 16], T, 10, T).unwrap();
		assert_eq!(l.admit([1; 32], [1; 16], T, 10, T + 1), Err(Refusal::Replayed));
		// another account may use the same nonce
		l.admit([2; 32], [1; 16], T, 10, T + 1).unwrap();
		// remembered as long as the token could pass the time check
		assert_eq!(l.admit([1; 32], [1; 16], T, 10, T + MAX_SKEW), Err(Refusal::Replayed));
		l.admit([1; 32], [1; 16], T, 10, T + MAX_SKEW + 1).unwrap();
	}

	#[test]
	fn quota_per_window_with_refunds() {
		let mut l = ledger(1000, 100, 10);
		l.admit([1; 32], [1; 16], T, 600, T).unwrap();
		let e = l.admit([1; 32], [2; 16], T, 600, T + 10).unwrap_err();
		assert!(matches!(e, Refusal::Quota { used: 600, retry_after: 3590, .. }), "{e:?}");
		// the first sent only 100 of its 600
		l.settle([1; 32], 600, 100);
		l.admit([1; 32], [3; 16], T, 600, T + 10).unwrap();
		assert!(matches!(l.admit([1; 32], [4; 16], T, 301, T + 20), Err(Refusal::Quota { .. })));
		// a new window
		l.admit([1; 32], [5; 16], T + 3600, 1000, T + 3600).unwrap();
		assert!(matches!(
			l.admit([1; 32], [6; 16], T + 3600, 1, T + 3601),
			Err(Refusal::Quota { .. })
		));
		// more than the quota at once: refused, nothing charged
		assert!(matches!(l.admit([2; 32], [1; 16], T, 1001, T), Err(Refusal::Quota { .. })));
		assert!(matches!(l.admit([2; 32], [1; 16], T, u64::MAX, T), Err(Refusal::Quota { .. })));
		l.admit([2; 32], [1; 16], T, 1000, T).unwrap();
	}

	#[test]
	fn uploads_per_minute() {
		let mut l = ledger(1 << 30, 2, 10);
		l.admit([1; 32], [1; 16], T, 1, T).unwrap();
		l.admit([1; 32], [2; 16], T, 1, T + 1).unwrap();
		assert_eq!(l.admit([1; 32], [3; 16], T, 1, T + 59), Err(Refusal::AccountRate { limit: 2 }));
		l.admit([1; 32], [3; 16], T, 1, T + 60).unwrap();
	}

	#[test]
	fn the_account_table_is_bounded_and_refuses_newcomers_when_full() {
		let mut l = ledger(1 << 30, 100, 2);
		l.admit([1; 32], [1; 16], T, 1, T).unwrap();
		l.admit([2; 32], [1; 16], T, 1, T).unwrap();
		assert_eq!(l.admit([3; 32], [1; 16], T, 1, T + 1), Err(Refusal::Full));
		// those tracked go on
		l.admit([1; 32], [2; 16], T, 1, T + 1).unwrap();
		assert_eq!(l.accounts(), 2);
		// once their window is over and their nonces expired, they make room
		l.admit([3; 32], [1; 16], T + 3600, 1, T + 3600).unwrap();
		assert_eq!(l.accounts(), 1);
	}

	#[test]
	fn addresses_are_rate_limited_and_bounded() {
		let mut l = ledger(1 << 30, 100, 2);
		let a: IpAddr = "10.0.0.1".parse().unwrap();
		for _ in 0..3 {
			l.request_from(a, T).unwrap();
		}
		assert_eq!(l.request_from(a, T), Err(Refusal::AddressRate));
		l.request_from("10.0.0.2".parse().unwrap(), T).unwrap();
		assert_eq!(l.request_from("10.0.0.3".parse().unwrap(), T), Err(Refusal::Full));
		// a minute later: buckets are full again, and full ones make room
		let next = T + 60;
		l.request_from("10.0.0.3".parse().unwrap(), next).unwrap();
		l.request_from(a, next).unwrap();
	}
}
