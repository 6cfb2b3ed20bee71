//! The wallet's commands, one file each with its arguments and its `run`, and what they
//! share: how a result is printed ([`print`]), how amounts read ([`amount`]), a DAO's token.
//!
//! | file                | commands                                          |
//! |---------------------|---------------------------------------------------|
//! | `key.rs`            | `key generate`, `key import`, `key list`, `key inspect` |
//! | `dao.rs`            | `dao list`, `dao show`, `dao create`              |
//! | `contribute.rs`     | `contribute`                                      |
//! | `contributions.rs`  | `contributions`, `cancel`, `decrypt`              |
//! | `balance.rs`        | `balance`, `transfer`                             |
//! | `rewards.rs`        | `rewards show`, `rewards claim`                   |
//! | `proposal.rs`       | `proposal create`, `list`, `show`, `vote`, `close`, `unlock` |
//! | `access.rs`         | `grant list`, `show`, `buy`, `prune`; `offer list`; `treasury show` |
//! | `envelope.rs`       | `encrypt`, `decrypt-file` (offline)               |
//! | `data.rs`           | `data export`, `data query` (the collective server) |
//! | `access_log.rs`     | `access-log` (the collective server's signed log) |
//!
//! Every command builds a typed view of its result (`Serialize` for `--json`, `Display` for
//! people) and hands it to [`print`]; none prints anything else to standard output.

pub mod access;
pub mod access_log;
pub mod balance;
pub mod contribute;
pub mod contributions;
pub mod dao;
pub mod data;
pub mod envelope;
pub mod key;
pub mod proposal;
pub mod rewards;

use std::{fmt, io::Write};

use anyhow::{anyhow, Result};
use datacoop_primitives::{governance::Scope, token};
use serde::{Serialize, Serializer};
use subxt::utils::AccountId32;
use zeroize::Zeroizing;

use crate::chain;

/// Prints a command's result to `out`: `view` as one line of JSON with `--json`, else its
/// text (`Display`).
///
/// Rendered into one zeroized buffer and written at once: a view may hold a secret (`key
/// generate`'s mnemonic), and neither a `format!`ed `String` nor a `serde_json::Value` would
/// be wiped. The buffer starts large enough for such a view, so it is never reallocated
/// (which would leave a copy behind).
pub fn print(
	out: &mut impl Write,
	json: bool,
	view: &(impl Serialize + fmt::Display),
) -> Result<()> {
	let mut buffer = Zeroizing::new(Vec::with_capacity(1024));
	if json {
		serde_json::to_writer(&mut *buffer, view)?;
	} else {
		write!(buffer, "{view}")?;
	}
	buffer.push(b'\n');
	out.write_all(&buffer)?;
	out.flush()?;
	Ok(())
}

/// `planck` (a token's smallest unit) of a token with `decimals` decimal places, as people
/// write it: `1.5 COOP`, `8 CHAT`, `0.000000000001 COOP`.
pub fn amount(planck: u128, decimals: u8, symbol: &str) -> String {
	let (whole, fraction) = match 10u128.checked_pow(decimals.into()) {
		Some(unit) => (planck / unit, planck % unit),
		// More decimals than a u128 has digits: every amount is below one token.
		None => (0, planck),
	};
	let fraction = format!("{fraction:0width$}", width = usize::from(decimals));
	let fraction = fraction.trim_end_matches('0');
	if fraction.is_empty() {
		format!("{whole} {symbol}")
	} else {
		format!("{whole}.{fraction} {symbol}")
	}
}

/// A token as its amounts are shown: the native token (COOP) or a DAO's dataset token.
#[derive(Clone)]
pub struct Token {
	pub symbol: String,
	pub decimals: u8,
}

impl Token {
	/// The chain's native token.
	pub fn coop() -> Token {
		Token { symbol: token::SYMBOL.into(), decimals: token::DECIMALS }
	}

	/// `dao`'s dataset token.
	pub fn of(dao: &chain::DaoInfo) -> Token {
		Token { symbol: chain::text(&dao.token.symbol), decimals: dao.token_decimals }
	}

	pub fn amount(&self, planck: u128) -> Amount {
		Amount { planck, token: self.clone() }
	}
}

/// An amount in a view. In JSON: the integer in the token's smallest unit, as a string (a
/// u128 is beyond the numbers many JSON readers take); for people: [`amount`].
pub struct Amount {
	planck: u128,
	token: Token,
}

impl Amount {
	/// `planck` of the native token.
	pub fn coop(planck: u128) -> Amount {
		Token::coop().amount(planck)
	}
}

impl Serialize for Amount {
	fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
		serializer.collect_str(&self.planck)
	}
}

impl fmt::Display for Amount {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		f.write_str(&amount(self.planck, self.token.decimals, &self.token.symbol))
	}
}

/// A listing: a JSON array; for people, one line per item, or what to do when there is none.
#[derive(Serialize)]
#[serde(transparent)]
pub struct List<T> {
	items: Vec<T>,
	#[serde(skip)]
	empty: &'static str,
}

impl<T> List<T> {
	/// `items`, or `empty` said when there are none.
	pub fn new(items: Vec<T>, empty: &'static str) -> List<T> {
		List { items, empty }
	}
}

impl<T: fmt::Display> fmt::Display for List<T> {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		if self.items.is_empty() {
			return f.write_str(self.empty);
		}
		for (i, item) in self.items.iter().enumerate() {
			if i > 0 {
				f.write_str("\n")?;
			}
			write!(f, "{item}")?;
		}
		Ok(())
	}
}

/// Parts per million as a percentage: `50.0%`.
pub fn permill(p: u32) -> String {
	format!("{:.1}%", p as f64 / 10_000.0)
}

pub fn parse_address(s: &str) -> Result<AccountId32> {
	s.parse::<AccountId32>().map_err(|_| anyhow!("{s}: not an SS58 address"))
}

/// A COOP amount as typed: `12.5COOP` or `12.5 COOP` (any case), or an integer of planck
/// (10^-12 COOP), as `transfer` takes.
pub fn parse_coop(s: &str) -> Result<u128, String> {
	let s = s.trim();
	let lower = s.to_ascii_lowercase();
	let Some(number) = lower.strip_suffix("coop").map(str::trim) else {
		return s.parse().map_err(|_| {
			format!("{s}: an amount is planck (an integer) or COOP with the unit, e.g. 12.5COOP")
		});
	};
	let decimals = usize::from(token::DECIMALS);
	let (whole, fraction) = match number.split_once('.') {
		Some((whole, fraction)) => (whole, Some(fraction)),
		None => (number, None),
	};
	let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
	if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
		return Err(format!("{s}: not an amount of COOP, e.g. 12.5COOP"));
	}
	let fraction = fraction.unwrap_or("");
	if fraction.len() > decimals {
		return Err(format!("{s}: COOP has {decimals} decimal places"));
	}
	let padded = format!("{whole}{fraction:0<decimals$}");
	padded.parse().map_err(|_| format!("{s}: too large"))
}

/// A scope as typed: `full`, `anonymized`, or `aggregate:N` (answers over groups of at
/// least N contributions).
pub fn parse_scope(s: &str) -> Result<Scope, String> {
	match s {
		"full" => Ok(Scope::Full),
		"anonymized" => Ok(Scope::Anonymized),
		_ => match s.strip_prefix("aggregate:").map(str::parse::<u32>) {
			Some(Ok(n)) if n > 0 => Ok(Scope::Aggregate { min_group_size: n }),
			_ => Err(format!("{s}: a scope is full, anonymized or aggregate:N (N at least 1)")),
		},
	}
}

/// A scope as people read it (and `parse_scope` takes it back).
pub fn scope_name(scope: &Scope) -> String {
	match scope {
		Scope::Full => "full".into(),
		Scope::Anonymized => "anonymized".into(),
		Scope::Aggregate { min_group_size } => format!("aggregate:{min_group_size}"),
	}
}

/// A duration as typed: days (`7d`), hours (`12h`) or blocks (`600b`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duration {
	Days(u32),
	Hours(u32),
	Blocks(u32),
}

impl std::str::FromStr for Duration {
	type Err = String;
	fn from_str(s: &str) -> Result<Duration, String> {
		let bad = || format!("{s}: a duration is days (7d), hours (12h) or blocks (600b)");
		// By suffix, never by byte index: the last character may take several bytes.
		let parse = |number: &str| number.parse::<u32>().map_err(|_| bad());
		if let Some(n) = s.strip_suffix('d') {
			parse(n).map(Duration::Days)
		} else if let Some(n) = s.strip_suffix('h') {
			parse(n).map(Duration::Hours)
		} else if let Some(n) = s.strip_suffix('b') {
			parse(n).map(Duration::Blocks)
		} else {
			Err(bad())
		}
	}
}

impl Duration {
	/// In blocks of `block_time_ms` (read from the chain), rounded up.
	pub fn blocks(self, block_time_ms: u64) -> Result<u32> {
		let ms = match self {
			Duration::Blocks(n) => return Ok(n),
			Duration::Days(n) => u64::from(n) * 86_400_000,
			Duration::Hours(n) => u64::from(n) * 3_600_000,
		};
		let block_time_ms = block_time_ms.max(1);
		u32::try_from(ms.div_ceil(block_time_ms)).map_err(|_| anyhow!("{self:?}: too long"))
	}
}

/// `blocks` blocks of `block_time_ms` as people read a span: `7d`, `3h 20m`, `45s`.
pub fn span(blocks: u32, block_time_ms: u64) -> String {
	let secs = u64::from(blocks) * block_time_ms / 1000;
	let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60, secs % 60);
	let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "m"), (s, "s")]
		.into_iter()
		.filter(|(n, _)| *n > 0)
		.map(|(n, unit)| format!("{n}{unit}"))
		.collect();
	if parts.is_empty() {
		"0s".into()
	} else {
		parts.join(" ")
	}
}

/// DAO `id`, read at `at`; an error saying where to look if there is none.
pub async fn existing_dao(at: &chain::At, id: u32) -> Result<chain::DaoInfo> {
	at.dao(id).await?.ok_or_else(|| anyhow!("there is no DAO #{id}: see `datacoop dao list`"))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_read_as_people_write_them() {
		let coop = |planck| Amount::coop(planck).to_string();
		assert_eq!(coop(0), "0 COOP");
		assert_eq!(coop(1_000_000_000_000), "1 COOP");
		assert_eq!(coop(1_500_000_000_000), "1.5 COOP");
		assert_eq!(coop(1), "0.000000000001 COOP");
		assert_eq!(coop(u128::MAX), "340282366920938463463374607.431768211455 COOP");
		assert_eq!(permill(500_000), "50.0%");
	}

	#[test]
	fn dataset_token_amounts_read_with_their_decimals() {
		assert_eq!(amount(8_000_000_000_000, 12, "CHAT"), "8 CHAT");
		assert_eq!(amount(1_250_000_000_000, 12, "CHAT"), "1.25 CHAT");
		assert_eq!(amount(1_000_000_000_000, 0, "RAW"), "1000000000000 RAW");
		assert_eq!(amount(15, 1, "X"), "1.5 X");
		assert_eq!(amount(1, 18, "X"), "0.000000000000000001 X");
		assert_eq!(amount(u128::MAX, 38, "X"), "3.40282366920938463463374607431768211455 X");
		// more decimals than a u128 has digits
		assert_eq!(amount(5, 40, "X"), "0.0000000000000000000000000000000000000005 X");
		assert_eq!(amount(0, 40, "X"), "0 X");
	}

	#[test]
	fn amounts_are_raw_integers_in_json() {
		let token = Token { symbol: "CHAT".into(), decimals: 12 };
		let a = token.amount(8_000_000_000_000);
		assert_eq!(serde_json::to_string(&a).unwrap(), r#""8000000000000""#);
		assert_eq!(a.to_string(), "8 CHAT");
		let max = serde_json::to_string(&Amount::coop(u128::MAX)).unwrap();
		assert_eq!(max, format!("\"{}\"", u128::MAX));
	}

	#[test]
	fn a_view_prints_as_json_or_text() {
		#[derive(Serialize)]
		struct Sent {
			to: &'static str,
			amount: Amount,
		}
		impl fmt::Display for Sent {
			fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
				write!(f, "sent {} to {}", self.amount, self.to)
			}
		}
		let view = Sent { to: "bob", amount: Amount::coop(1_500_000_000_000) };
		let printed = |json| {
			let mut out = Vec::new();
			print(&mut out, json, &view).unwrap();
			String::from_utf8(out).unwrap()
		};
		assert_eq!(printed(false), "sent 1.5 COOP to bob\n");
		assert_eq!(printed(true), "{\"to\":\"bob\",\"amount\":\"1500000000000\"}\n");
	}

	#[test]
	fn an_empty_listing_says_what_to_do() {
		let printed = |list: &List<u32>| {
			let mut out = Vec::new();
			print(&mut out, false, list).unwrap();
			print(&mut out, true, list).unwrap();
			String::from_utf8(out).unwrap()
		};
		assert_eq!(printed(&List::new(vec![], "none yet")), "none yet\n[]\n");
		assert_eq!(printed(&List::new(vec![1, 2], "none yet")), "1\n2\n[1,2]\n");
	}

	#[test]
	fn coop_amounts_parse_with_their_unit_or_as_planck() {
		assert_eq!(parse_coop("12.5COOP"), Ok(12_500_000_000_000));
		assert_eq!(parse_coop("1 coop"), Ok(1_000_000_000_000));
		assert_eq!(parse_coop("0.000000000001COOP"), Ok(1));
		assert_eq!(parse_coop("1500"), Ok(1_500));
		for bad in ["", "COOP", "1.COOP", ".5COOP", "1.0000000000001COOP", "-1", "1e3COOP", "x"] {
			assert!(parse_coop(bad).is_err(), "{bad}");
		}
		assert!(parse_coop("999999999999999999999999999999COOP").is_err());
	}

	#[test]
	fn scopes_and_durations_parse_as_typed() {
		assert_eq!(parse_scope("full"), Ok(Scope::Full));
		assert_eq!(parse_scope("aggregate:10"), Ok(Scope::Aggregate { min_group_size: 10 }));
		for bad in ["", "Full", "aggregate", "aggregate:0", "aggregate:-1"] {
			assert!(parse_scope(bad).is_err(), "{bad}");
		}
		let scope = Scope::Aggregate { min_group_size: 7 };
		assert_eq!(parse_scope(&scope_name(&scope)), Ok(scope));
		let blocks = |s: &str| s.parse::<Duration>().unwrap().blocks(6_000).unwrap();
		assert_eq!(blocks("7d"), 7 * 14_400);
		assert_eq!(blocks("1h"), 600);
		assert_eq!(blocks("42b"), 42);
		for bad in ["", "7", "d", "7w", "-1d", "1.5d", "1µ", "µ", "7dd"] {
			assert!(bad.parse::<Duration>().is_err(), "{bad}");
		}
		assert_eq!(span(14_400, 6_000), "1d");
		assert_eq!(span(605, 6_000), "1h 30s");
		assert_eq!(span(0, 6_000), "0s");
	}

	#[test]
	fn bad_addresses_are_refused() {
		assert!(parse_address("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty").is_ok());
		for bad in ["", "bob", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694tz"] {
			assert!(parse_address(bad).is_err(), "{bad}");
		}
	}
}
