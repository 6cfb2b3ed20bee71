//! The aggregate query engine: the refined records of a DAO's accepted contributions, in an
//! SQLite database held in memory, and the exact answers to aggregate queries over them.
//! Exact answers never leave the server: [`dp::release`](crate::dp::release) adds noise to
//! them first.
//!
//! One table, `records(contributor INTEGER NOT NULL, g_0 TEXT, …, v_0 REAL, …)`: a column per
//! group field of the DAO's [`AggregateRules`] (`g_i`, the i-th in name order) and per value
//! field (`v_j`), and an index per group column. `contributor` is a local surrogate the
//! caller chooses (never the account). The database is in memory only: `temp_store =
//! MEMORY`, so a sort never spills plaintext to a temporary file, and no journal.
//!
//! Bounding happens at ingest, so that a query is a plain `GROUP BY`: a contributor's first
//! `max_records_per_contributor` records are kept, over all their contributions, and each
//! value is clamped into its range. One contributor so moves any count by at most k (their
//! kept records) and any sum by at most k·max(|lo|, |hi|): the sensitivities [`dp`] calibrates
//! its noise to.
//!
//! The SQL is built here from column indexes, never from text a client sent: a query's
//! fields are looked up among the rules' fields ([`AggregateQuery::check`]), and a name that
//! is not one of them is refused before any SQL exists.
//!
//! [`dp`]: crate::dp

use std::{cell::Cell, collections::HashMap, rc::Rc};

use rusqlite::{params_from_iter, types::Value as Sql, Connection};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
	anonymize::{
		day_of_rfc3339, day_of_timestamp, day_of_timestamp_f64, each_json_record, AnonymizeError,
		JsonRecord,
	},
	records::{bad, Capped, Format, FormatError, Limits, CSV_BUFFER},
	rules::{AggregateRules, GroupKind, MAX_GROUP_FIELDS, MAX_VALUE_FIELDS},
};

/// A category longer than this (in characters) is no value: free text is not a group.
pub const MAX_CATEGORY_CHARS: usize = 64;
/// Statistics one query may ask for at most.
pub const MAX_STATS: usize = 8;
/// Fields one query may group by at most.
pub const MAX_GROUP_BY: usize = 3;
/// Bins a histogram may have at most.
pub const MAX_BINS: u32 = 100;

/// Why the engine could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
	/// The query asks for something the rules do not offer, or is malformed.
	#[error(transparent)]
	Query(#[from] QueryError),
	/// A contribution does not read as the DAO's format (it was judged valid, so only a change
	/// of rules since gets here).
	#[error("the contribution does not read as the DAO's format: {0}")]
	Format(#[from] FormatError),
	/// The engine cannot hold these rules, or was made with other rules.
	#[error("aggregate rules: {0}")]
	Rules(String),
	/// A contributor's surrogate id past SQLite's integers.
	#[error("contributor id {0} is past 2^63 - 1")]
	Contributor(u64),
	#[error("the query engine: {0}")]
	Sqlite(#[from] rusqlite::Error),
}

impl From<AnonymizeError> for EngineError {
	fn from(e: AnonymizeError) -> EngineError {
		match e {
			AnonymizeError::Format(f) => EngineError::Format(f),
			// Neither is met reading records: no copy is written, and JSON has fields.
			other => EngineError::Format(FormatError(other.to_string())),
		}
	}
}

/// Why a query is refused; the message is the client's to read (it names the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// An aggregate query, as a client sends it (JSON):
/// `{"stats": ["count", {"mean": "/age"}, {"histogram": ["/age", 10]}, {"min": "/age"}],
/// "group_by": ["/channel"], "epsilon": 0.5}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateQuery {
	/// 1 to [`MAX_STATS`] statistics, each of one of the rules' value fields (or the count).
	pub stats: Vec<Stat>,
	/// Up to [`MAX_GROUP_BY`] of the rules' group fields; none: one group, everything.
	#[serde(default)]
	pub group_by: Vec<String>,
	/// The privacy budget the answer spends, split evenly over its statistics.
	pub epsilon: f64,
}

/// One statistic of each group. In JSON: `"count"`, `{"sum": "/age"}`, `{"mean": "/age"}`,
/// `{"min": "/age"}`, `{"max": "/age"}`, `{"histogram": ["/age", 10]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "StatForm", into = "StatForm")]
pub enum Stat {
	/// Records in the group.
	Count,
	/// The sum of a value field (clamped values; records without a number add nothing).
	Sum(String),
	/// The mean of a value field over the records that have a number: noisy sum over noisy
	/// count.
	Mean(String),
	/// An approximate minimum: a DP 1st percentile, on a 100-point grid over the field's range
	/// (an exact minimum cannot be differentially private).
	Min(String),
	/// An approximate maximum: a DP 99th percentile, likewise.
	Max(String),
	/// Counts of a value field in `bins` equal bins over its range.
	Histogram { field: String, bins: u32 },
}

/// [`Stat`] as JSON spells it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StatForm {
	Count,
	Sum(String),
	Mean(String),
	Min(String),
	Max(String),
	Histogram(String, u32),
}

impl From<StatForm> for Stat {
	fn from(form: StatForm) -> Stat {
		match form {
			StatForm::Count => Stat::Count,
			StatForm::Sum(f) => Stat::Sum(f),
			StatForm::Mean(f) => Stat::Mean(f),
			StatForm::Min(f) => Stat::Min(f),
			StatForm::Max(f) => Stat::Max(f),
			StatForm::Histogram(field, bins) => Stat::Histogram { field, bins },
		}
	}
}

impl From<Stat> for StatForm {
	fn from(stat: Stat) -> StatForm {
		match stat {
			Stat::Count => StatForm::Count,
			Stat::Sum(f) => StatForm::Sum(f),
			Stat::Mean(f) => StatForm::Mean(f),
			Stat::Min(f) => StatForm::Min(f),
			Stat::Max(f) => StatForm::Max(f),
			Stat::Histogram { field, bins } => StatForm::Histogram(field, bins),
		}
	}
}

impl Stat {
	/// Its name in an answer: `count`, `sum(/age)`, `mean(/age)`, `min(/age)`, `max(/age)`,
	/// `histogram(/age,10)`.
	pub fn label(&self) -> String {
		match self {
			Stat::Count => "count".into(),
			Stat::Sum(f) => format!("sum({f})"),
			Stat::Mean(f) => format!("mean({f})"),
			Stat::Min(f) => format!("min({f})"),
			Stat::Max(f) => format!("max({f})"),
			Stat::Histogram { field, bins } => format!("histogram({field},{bins})"),
		}
	}

	/// The value field it is of; `None` for the count.
	pub fn field(&self) -> Option<&str> {
		match self {
			Stat::Count => None,
			Stat::Sum(f) | Stat::Mean(f) | Stat::Min(f) | Stat::Max(f) => Some(f.as_str()),
			Stat::Histogram { field, .. } => Some(field.as_str()),
		}
	}
}

/// A statistic with its field resolved to a value column's index.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum StatColumn {
	Count,
	Sum(usize),
	Mean(usize),
	Min(usize),
	Max(usize),
	Histogram(usize, u32),
}

/// A query in columns: what the SQL is built from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Resolved {
	/// Group columns (`g_i`), in the query's order.
	pub group_by: Vec<usize>,
	/// One per statistic, in the query's order.
	pub stats: Vec<StatColumn>,
}

/// `name` for an error message: quoted, and cut when long (it is the client's text).
fn shown(name: &str) -> String {
	let mut cut: String = name.chars().take(80).collect();
	if cut.len() < name.len() {
		cut.push('…');
	}
	format!("{cut:?}")
}

impl AggregateQuery {
	/// Whether `rules` answer this query: 1 to [`MAX_STATS`] statistics, none twice, each of
	/// a value field (histograms of 1 to [`MAX_BINS`] bins); up to [`MAX_GROUP_BY`] group
	/// fields, none twice; an ε in (0, `max_epsilon_per_query`]. A field the rules do not
	/// name is refused by name.
	pub fn check(&self, rules: &AggregateRules) -> Result<(), QueryError> {
		self.resolve(rules).map(|_| ())
	}

	/// The query in columns, once checked (see [`AggregateQuery::check`]).
	pub(crate) fn resolve(&self, rules: &AggregateRules) -> Result<Resolved, QueryError> {
		let fail = |why: String| Err(QueryError(why));
		if self.stats.is_empty() || self.stats.len() > MAX_STATS {
			return fail(format!("a query asks for 1 to {MAX_STATS} stats"));
		}
		if self.group_by.len() > MAX_GROUP_BY {
			return fail(format!("a query groups by {MAX_GROUP_BY} fields at most"));
		}
		let most = rules.max_epsilon_per_query;
		if !(self.epsilon.is_finite() && self.epsilon > 0.0 && self.epsilon <= most) {
			return fail(format!(
				"epsilon {} is not in (0, {most}] (the DAO's max_epsilon_per_query)",
				self.epsilon
			));
		}
		let offered = |names: Vec<&String>| {
			if names.is_empty() {
				"none".to_owned()
			} else {
				names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
			}
		};
		let mut group_by = Vec::with_capacity(self.group_by.len());
		for name in &self.group_by {
			let Some(i) = rules.group_by.keys().position(|k| k == name) else {
				return fail(format!(
					"{} is not a field this DAO groups by (it offers {})",
					shown(name),
					offered(rules.group_by.keys().collect())
				));
			};
			if group_by.contains(&i) {
				return fail(format!("group_by names {} twice", shown(name)));
			}
			group_by.push(i);
		}
		let mut stats = Vec::with_capacity(self.stats.len());
		for (n, stat) in self.stats.iter().enumerate() {
			if self.stats[..n].contains(stat) {
				return fail(format!("stats asks for {} twice", shown(&stat.label())));
			}
			let column = match stat.field() {
				None => None,
				Some(name) => match rules.values.keys().position(|k| k == name) {
					Some(j) => Some(j),
					None => {
						return fail(format!(
							"{} is not a value field of this DAO (it offers {})",
							shown(name),
							offered(rules.values.keys().collect())
						))
					},
				},
			};
			stats.push(match (stat, column) {
				(Stat::Count, _) => StatColumn::Count,
				(Stat::Sum(_), Some(j)) => StatColumn::Sum(j),
				(Stat::Mean(_), Some(j)) => StatColumn::Mean(j),
				(Stat::Min(_), Some(j)) => StatColumn::Min(j),
				(Stat::Max(_), Some(j)) => StatColumn::Max(j),
				(Stat::Histogram { bins, .. }, Some(j)) => {
					if !(1..=MAX_BINS).contains(bins) {
						return fail(format!("a histogram has 1 to {MAX_BINS} bins, not {bins}"));
					}
					StatColumn::Histogram(j, *bins)
				},
				(_, None) => unreachable!("every statistic but the count has a field"),
			});
		}
		Ok(Resolved { group_by, stats })
	}
}

/// One group's exact answer. Internal: it never leaves the server ([`dp::release`] adds noise
/// to it first). The vectors hold one entry per statistic of the query, in its order; an
/// entry a statistic has no use for is 0 or empty.
///
/// [`dp::release`]: crate::dp::release
#[derive(Clone, Debug, PartialEq)]
pub struct ExactGroup {
	/// The group's values, one per `group_by` field (`None`: the field had no value).
	pub key: Vec<Option<String>>,
	/// Records in the group.
	pub count: f64,
	/// Distinct contributors in the group (compared with the min group size; never released).
	pub contributors: u64,
	/// Sum and mean: the sum of the field.
	pub sums: Vec<f64>,
	/// Mean: the records that have a number in the field.
	pub value_counts: Vec<f64>,
	/// Histogram: the count in each bin.
	pub histograms: Vec<Vec<f64>>,
	/// Min and max: the field's values (for the quantile mechanism).
	pub values: Vec<Vec<f64>>,
}

/// One record's fields, as the table holds them.
struct Row {
	groups: Vec<Option<String>>,
	values: Vec<Option<f64>>,
}

/// The refined records of a DAO, in memory, and the exact answers to queries over them.
pub struct Engine {
	conn: Connection,
	rules: AggregateRules,
	/// The value fields' ranges, by column.
	ranges: Vec<[f64; 2]>,
	/// Records kept so far of each contributor (at most `max_records_per_contributor`).
	kept: HashMap<u64, u32>,
	/// Records in the table.
	rows: u64,
	/// `INSERT INTO records …` with a parameter per column.
	insert: String,
	/// Per group column, the insert of a (value, contributor) pair into its
	/// `contributors_g_{i}` table.
	pairs: Vec<String>,
}

impl Engine {
	/// An empty engine for `rules`: an in-memory SQLite database with the records table and an
	/// index per group column.
	pub fn new(rules: &AggregateRules) -> Result<Engine, EngineError> {
		if rules.group_by.len() > MAX_GROUP_FIELDS || rules.values.len() > MAX_VALUE_FIELDS {
			return Err(EngineError::Rules("too many fields (see Rules::check)".into()));
		}
		if rules.max_records_per_contributor == 0 {
			return Err(EngineError::Rules("max_records_per_contributor is 0".into()));
		}
		let conn = Connection::open_in_memory()?;
		// Temporary b-trees (sorts, GROUP BY, DISTINCT) in memory, never in a temporary file;
		// no rollback journal: nothing of the plaintext is written anywhere.
		conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA journal_mode = OFF;")?;
		let (groups, values) = (rules.group_by.len(), rules.values.len());
		let mut columns = vec!["contributor INTEGER NOT NULL".to_owned()];
		columns.extend((0..groups).map(|i| format!("g_{i} TEXT")));
		columns.extend((0..values).map(|j| format!("v_{j} REAL")));
		let mut ddl = format!("CREATE TABLE records ({});", columns.join(", "));
		// Each group column's index covers the contributor and every value: a grouped query
		// is one scan of an index in group order, never a lookup into the table per row (at
		// 10^6 rows that took a grouped count and mean from about 0.9 s to the figure in
		// docs/benchmarks.md).
		let covered: String = (0..values).map(|j| format!(", v_{j}")).collect();
		for i in 0..groups {
			ddl.push_str(&format!(
				" CREATE INDEX records_g_{i} ON records (g_{i}, contributor{covered});"
			));
		}
		// Each group column's distinct (value, contributor) pairs, kept at ingest, so that a
		// query grouped by one field counts each group's contributors by scanning this
		// table's key rather than a COUNT(DISTINCT) over every record (the costliest part of
		// a grouped query at 10^6 records; see docs/benchmarks.md). A record without a value
		// is stored under an empty blob, which no TEXT value equals (a key cannot be NULL).
		for i in 0..groups {
			ddl.push_str(&format!(
				" CREATE TABLE contributors_g_{i} (g NOT NULL, contributor INTEGER NOT NULL, \
				 PRIMARY KEY (g, contributor)) WITHOUT ROWID;"
			));
		}
		conn.execute_batch(&ddl)?;
		let names: Vec<String> = std::iter::once("contributor".to_owned())
			.chain((0..groups).map(|i| format!("g_{i}")))
			.chain((0..values).map(|j| format!("v_{j}")))
			.collect();
		let insert = format!(
			"INSERT INTO records ({}) VALUES ({})",
			names.join(", "),
			vec!["?"; names.len()].join(", ")
		);
		let pairs = (0..groups)
			.map(|i| {
				format!(
					"INSERT OR IGNORE INTO contributors_g_{i} (g, contributor) \
					 VALUES (COALESCE(?1, x''), ?2)"
				)
			})
			.collect();
		Ok(Engine {
			conn,
			rules: rules.clone(),
			ranges: rules.values.values().copied().collect(),
			kept: HashMap::new(),
			rows: 0,
			insert,
			pairs,
		})
	}

	/// The rules the engine was made with.
	pub fn rules(&self) -> &AggregateRules {
		&self.rules
	}

	/// Records in the table.
	pub fn rows(&self) -> u64 {
		self.rows
	}

	/// Adds the records of one contribution of `contributor` (a local surrogate id, never the
	/// account): `plain` read as `format` within `limits`, as judging reads it. Of each
	/// contributor, only the first `max_records_per_contributor` records are kept, counted
	/// over all their contributions; group fields are read as their [`GroupKind`] says, value
	/// fields clamped into their range (not a number: no value). All or nothing: a
	/// contribution that does not read is refused whole. `rules` are those the engine was
	/// made with. Answers the records kept.
	pub fn ingest(
		&mut self,
		contributor: u64,
		plain: &[u8],
		format: &Format,
		rules: &AggregateRules,
		limits: Limits,
	) -> Result<u64, EngineError> {
		if *rules != self.rules {
			return Err(EngineError::Rules("the engine was made with other rules".into()));
		}
		let id = i64::try_from(contributor).map_err(|_| EngineError::Contributor(contributor))?;
		let kept = self.kept.get(&contributor).copied().unwrap_or(0);
		let room = self.rules.max_records_per_contributor.saturating_sub(kept) as usize;
		if room == 0 {
			return Ok(0);
		}
		let mut rows = Vec::new();
		match format {
			Format::Json { records, .. } => {
				self.read_json(plain, records.as_deref(), limits, room, &mut rows)?
			},
			Format::Csv { .. } => self.read_csv(plain, limits, room, &mut rows)?,
			Format::Raw => {
				return Err(EngineError::Rules("the raw format has no fields to aggregate".into()))
			},
		}
		// Counted before they are written: should writing fail halfway (there is no journal to
		// roll back), the rows written still count, so the cap holds whatever happened.
		let n = rows.len() as u32;
		self.kept.insert(contributor, kept + n);
		let tx = self.conn.transaction()?;
		{
			let mut insert = tx.prepare(&self.insert)?;
			let mut pairs =
				self.pairs.iter().map(|sql| tx.prepare(sql)).collect::<Result<Vec<_>, _>>()?;
			let mut params: Vec<Sql> = Vec::with_capacity(1 + self.ranges.len() + 16);
			for row in rows {
				params.clear();
				params.push(Sql::Integer(id));
				params.extend(row.groups.iter().map(|g| g.clone().map_or(Sql::Null, Sql::Text)));
				params.extend(row.values.into_iter().map(|v| v.map_or(Sql::Null, Sql::Real)));
				insert.execute(params_from_iter(params.iter()))?;
				self.rows += 1;
				// The record before its pairs: should a write fail in between (no journal to
				// roll back), a group can only count a contributor too few, never one without
				// a record (which could lift a small group over the minimum).
				for (pair, g) in pairs.iter_mut().zip(&row.groups) {
					pair.execute((g.as_deref(), id))?;
				}
			}
		}
		tx.commit()?;
		Ok(u64::from(n))
	}

	/// A JSON record's row.
	fn row_of_json(&self, record: &Value) -> Row {
		Row {
			groups: (self.rules.group_by.iter())
				.map(|(pointer, &kind)| {
					record.pointer(pointer).and_then(|value| group_of_json(kind, value))
				})
				.collect(),
			values: (self.rules.values.keys().zip(&self.ranges))
				.map(|(pointer, &range)| {
					record.pointer(pointer).and_then(Value::as_f64).and_then(|v| clamped(v, range))
				})
				.collect(),
		}
	}

	/// Reads the first `room` records of a JSON contribution into `rows`; the rest are counted
	/// and measured, as judging does, but not parsed.
	fn read_json(
		&self,
		plain: &[u8],
		pointer: Option<&str>,
		limits: Limits,
		room: usize,
		rows: &mut Vec<Row>,
	) -> Result<(), EngineError> {
		let mut seen = 0usize;
		each_json_record(plain, pointer, limits, &mut |record| -> Result<(), AnonymizeError> {
			limits.count(seen)?;
			seen += 1;
			let parsed;
			let record = match record {
				JsonRecord::Whole(value) => value,
				JsonRecord::Raw(raw) => {
					if raw.get().len() as u64 > limits.max_record_bytes {
						return Err(limits.too_long().into());
					}
					if rows.len() >= room {
						return Ok(());
					}
					parsed = serde_json::from_str::<Value>(raw.get())
						.map_err(|e| bad(format!("not JSON: {e}")))?;
					&parsed
				},
			};
			if rows.len() < room {
				rows.push(self.row_of_json(record));
			}
			Ok(())
		})?;
		Ok(())
	}

	/// Reads the first `room` rows of a CSV contribution into `rows` (cells trimmed; a column
	/// the file lacks is no value); the rest are counted and measured, as judging does.
	fn read_csv(
		&self,
		plain: &[u8],
		limits: Limits,
		room: usize,
		rows: &mut Vec<Row>,
	) -> Result<(), EngineError> {
		// Read as judging reads it: a row longer than the limit fails while it is read.
		let (end, hit) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(false)));
		let input = Capped { rest: plain, given: 0, end: end.clone(), hit: hit.clone() };
		let allow_row_from = |start: u64| {
			end.set(start.saturating_add(limits.max_record_bytes).saturating_add(CSV_BUFFER))
		};
		let mut reader = csv::ReaderBuilder::new()
			.has_headers(true)
			.flexible(false)
			.buffer_capacity(CSV_BUFFER as usize)
			.from_reader(input);
		allow_row_from(0);
		let headers = match reader.headers() {
			Ok(headers) => headers.clone(),
			Err(_) if hit.get() => return Err(limits.too_long().into()),
			Err(e) => return Err(bad(format!("not CSV: {e}")).into()),
		};
		let column = |name: &str| headers.iter().position(|h| h.trim() == name);
		let groups: Vec<(Option<usize>, GroupKind)> =
			self.rules.group_by.iter().map(|(name, &kind)| (column(name), kind)).collect();
		let values: Vec<(Option<usize>, [f64; 2])> =
			self.rules.values.keys().zip(&self.ranges).map(|(n, &r)| (column(n), r)).collect();
		let mut row = csv::StringRecord::new();
		let mut n = 0usize;
		loop {
			allow_row_from(reader.position().byte());
			match reader.read_record(&mut row) {
				Ok(true) => {},
				Ok(false) => break,
				Err(_) if hit.get() => return Err(limits.too_long().into()),
				Err(e) => return Err(bad(format!("CSV row {}: {e}", n + 1)).into()),
			}
			limits.count(n)?;
			n += 1;
			if rows.len() >= room {
				continue;
			}
			let cell = |j: Option<usize>| {
				j.and_then(|j| row.get(j)).map(str::trim).filter(|c| !c.is_empty())
			};
			rows.push(Row {
				groups: groups
					.iter()
					.map(|&(j, kind)| cell(j).and_then(|c| group_of_cell(kind, c)))
					.collect(),
				values: values
					.iter()
					.map(|&(j, range)| {
						cell(j).and_then(|c| c.parse::<f64>().ok()).and_then(|v| clamped(v, range))
					})
					.collect(),
			});
		}
		Ok(())
	}

	/// Distinct contributors of each value of group column `i` (`None`: records without a
	/// value), from its pairs table.
	fn contributors_by_value(&self, i: usize) -> Result<HashMap<Option<String>, i64>, EngineError> {
		let mut statement =
			self.conn.prepare(&format!("SELECT g, COUNT(*) FROM contributors_g_{i} GROUP BY g"))?;
		let mut rows = statement.query(())?;
		let mut by_value = HashMap::new();
		while let Some(row) = rows.next()? {
			let value = match row.get_ref(0)? {
				rusqlite::types::ValueRef::Text(text) => {
					Some(String::from_utf8_lossy(text).into_owned())
				},
				_ => None,
			};
			by_value.insert(value, row.get::<_, i64>(1)?);
		}
		Ok(by_value)
	}

	/// The exact answer to `q`, one [`ExactGroup`] per group of at least `min_group` distinct
	/// contributors (and never fewer than the rules' `min_group_size`), ordered by key. Groups
	/// below it are dropped here, before any noise: not listed, not counted. The SQL is made
	/// of column indexes only; the client's text never reaches it.
	pub fn exact(
		&self,
		q: &AggregateQuery,
		min_group: u32,
	) -> Result<Vec<ExactGroup>, EngineError> {
		let resolved = q.resolve(&self.rules)?;
		let min_group = i64::from(min_group.max(self.rules.min_group_size).max(1));
		let stats = resolved.stats.len();
		let keys: Vec<String> = resolved.group_by.iter().map(|i| format!("g_{i}")).collect();
		let key_list = keys.join(", ");
		// The group columns first, each followed by a comma (for the selects below).
		let key_prefix: String = keys.iter().map(|k| format!("{k}, ")).collect();

		// Grouped by one field, each group's contributors come from that field's pairs table
		// (one scan of its key); otherwise from a COUNT(DISTINCT) over the records.
		let single = match resolved.group_by.as_slice() {
			&[i] => Some(self.contributors_by_value(i)?),
			_ => None,
		};
		let distinct = if single.is_some() { "0" } else { "COUNT(DISTINCT contributor)" };
		let mut select = vec!["COUNT(*)".to_owned(), distinct.to_owned()];
		for stat in &resolved.stats {
			match *stat {
				StatColumn::Sum(j) => select.push(format!("TOTAL(v_{j})")),
				StatColumn::Mean(j) => {
					select.push(format!("TOTAL(v_{j})"));
					select.push(format!("COUNT(v_{j})"));
				},
				_ => {},
			}
		}
		let mut groups = Vec::new();
		{
			let mut sql = format!("SELECT {key_prefix}{} FROM records", select.join(", "));
			if single.is_some() {
				sql.push_str(&format!(" GROUP BY {key_list} ORDER BY {key_list}"));
			} else if !keys.is_empty() {
				sql.push_str(&format!(
					" GROUP BY {key_list} HAVING COUNT(DISTINCT contributor) >= ?1 \
					 ORDER BY {key_list}"
				));
			}
			let mut statement = self.conn.prepare(&sql)?;
			let mut rows = if keys.is_empty() || single.is_some() {
				statement.query(())?
			} else {
				statement.query((min_group,))?
			};
			let n = keys.len();
			while let Some(row) = rows.next()? {
				let key = (0..n)
					.map(|i| row.get::<_, Option<String>>(i))
					.collect::<Result<Vec<_>, _>>()?;
				let count: i64 = row.get(n)?;
				let contributors: i64 = match &single {
					Some(by_value) => by_value.get(&key[0]).copied().unwrap_or(0),
					None => row.get(n + 1)?,
				};
				if contributors < min_group {
					continue;
				}
				let (mut sums, mut value_counts) = (vec![0.0; stats], vec![0.0; stats]);
				let mut at = n + 2;
				for (s, stat) in resolved.stats.iter().enumerate() {
					match stat {
						StatColumn::Sum(_) => {
							sums[s] = row.get(at)?;
							at += 1;
						},
						StatColumn::Mean(_) => {
							sums[s] = row.get(at)?;
							value_counts[s] = row.get::<_, i64>(at + 1)? as f64;
							at += 2;
						},
						_ => {},
					}
				}
				groups.push(ExactGroup {
					key,
					count: count as f64,
					contributors: contributors as u64,
					sums,
					value_counts,
					histograms: vec![Vec::new(); stats],
					values: vec![Vec::new(); stats],
				});
			}
		}

		let index: HashMap<Vec<Option<String>>, usize> =
			groups.iter().enumerate().map(|(g, group)| (group.key.clone(), g)).collect();
		let n = keys.len();
		let group_by =
			if keys.is_empty() { String::new() } else { format!(" GROUP BY {key_list}") };
		for (s, stat) in resolved.stats.iter().enumerate() {
			match *stat {
				StatColumn::Histogram(j, bins) => {
					for group in &mut groups {
						group.histograms[s] = vec![0.0; bins as usize];
					}
					let [lo, hi] = self.ranges[j];
					let width = (hi - lo) / f64::from(bins);
					let last = i64::from(bins) - 1;
					// Values are clamped into [lo, hi] at ingest: the quotient's integer part
					// is in 0..=bins (bins for hi itself), and MIN puts hi in the last bin.
					let by = if keys.is_empty() {
						" GROUP BY bin".to_owned()
					} else {
						format!("{group_by}, bin")
					};
					let sql = format!(
						"SELECT {key_prefix}MIN(CAST((v_{j} - ?1) / ?2 AS INTEGER), ?3) AS bin, \
						 COUNT(*) FROM records WHERE v_{j} IS NOT NULL{by}"
					);
					let mut statement = self.conn.prepare(&sql)?;
					let mut rows = statement.query((lo, width, last))?;
					while let Some(row) = rows.next()? {
						let key = (0..n)
							.map(|i| row.get::<_, Option<String>>(i))
							.collect::<Result<Vec<_>, _>>()?;
						let Some(&g) = index.get(&key) else { continue };
						let bin: i64 = row.get(n)?;
						let count: i64 = row.get(n + 1)?;
						groups[g].histograms[s][bin.clamp(0, last) as usize] += count as f64;
					}
				},
				StatColumn::Min(j) | StatColumn::Max(j) => {
					let sql =
						format!("SELECT {key_prefix}v_{j} FROM records WHERE v_{j} IS NOT NULL");
					let mut statement = self.conn.prepare(&sql)?;
					let mut rows = statement.query(())?;
					while let Some(row) = rows.next()? {
						let key = (0..n)
							.map(|i| row.get::<_, Option<String>>(i))
							.collect::<Result<Vec<_>, _>>()?;
						let Some(&g) = index.get(&key) else { continue };
						groups[g].values[s].push(row.get::<_, f64>(n)?);
					}
				},
				StatColumn::Count | StatColumn::Sum(_) | StatColumn::Mean(_) => {},
			}
		}
		Ok(groups)
	}
}

/// `v` clamped into `range`; `None` when it is not a finite number.
fn clamped(v: f64, [lo, hi]: [f64; 2]) -> Option<f64> {
	v.is_finite().then(|| v.clamp(lo, hi))
}

/// A category's text, when it is one: not empty, at most [`MAX_CATEGORY_CHARS`] characters.
fn category(text: &str) -> Option<String> {
	let fits = !text.is_empty() && text.chars().nth(MAX_CATEGORY_CHARS).is_none();
	fits.then(|| text.to_owned())
}

/// A JSON value as a group's value (see [`GroupKind`]).
fn group_of_json(kind: GroupKind, value: &Value) -> Option<String> {
	match kind {
		GroupKind::Category => match value {
			Value::String(s) => category(s),
			Value::Number(n) => category(&n.to_string()),
			Value::Bool(b) => Some(b.to_string()),
			_ => None,
		},
		// As anonymized copies generalise a day (anonymize::Action::json).
		GroupKind::Day => match value {
			Value::Number(n) => match n.as_i64() {
				Some(i) => day_of_timestamp(i),
				None => n.as_f64().and_then(day_of_timestamp_f64),
			},
			Value::String(s) => day_of_rfc3339(s),
			_ => None,
		},
	}
}

/// A CSV cell (trimmed, not empty) as a group's value (see [`GroupKind`]).
fn group_of_cell(kind: GroupKind, cell: &str) -> Option<String> {
	match kind {
		GroupKind::Category => category(cell),
		// As anonymized copies generalise a day (anonymize::Action::cell).
		GroupKind::Day => match cell.parse::<i64>() {
			Ok(i) => day_of_timestamp(i),
			Err(_) => match cell.parse::<f64>().ok().filter(|v| v.is_finite()) {
				Some(v) => day_of_timestamp_f64(v),
				None => day_of_rfc3339(cell),
			},
		},
	}
}

#[cfg(test)]
pub(crate) mod tests {
	use std::collections::BTreeMap;

	use serde_json::json;

	use super::*;

	pub(crate) const LIMITS: Limits = Limits { max_records: 100_000, max_record_bytes: 1 << 20 };

	pub(crate) fn chat_format() -> Format {
		Format::Json { records: Some("/messages".into()), schema: None }
	}

	/// Chats grouped by channel and day, with ages in [0, 120].
	pub(crate) fn chat_rules(
		min_group_size: u32,
		max_records_per_contributor: u32,
	) -> AggregateRules {
		AggregateRules {
			group_by: BTreeMap::from([
				("/at".to_owned(), GroupKind::Day),
				("/channel".to_owned(), GroupKind::Category),
			]),
			values: BTreeMap::from([("/age".to_owned(), [0.0, 120.0])]),
			min_group_size,
			max_records_per_contributor,
			epsilon_per_grant: 10.0,
			max_epsilon_per_query: 5.0,
		}
	}

	/// A chat export: one message per `(channel, age)`, on 2023-11-14.
	pub(crate) fn chat(messages: &[(&str, Value)]) -> Vec<u8> {
		let messages: Vec<Value> = messages
			.iter()
			.enumerate()
			.map(|(i, (channel, age))| {
				json!({"account": "5Grw", "text": "words", "at": 1_700_000_000u64 + i as u64,
					"channel": channel, "age": age})
			})
			.collect();
		json!({"exported": "2023-11-20", "messages": messages}).to_string().into_bytes()
	}

	fn query(value: Value) -> AggregateQuery {
		serde_json::from_value(value).unwrap()
	}

	/// The group of `key` in `groups`.
	fn group<'a>(groups: &'a [ExactGroup], key: &[&str]) -> Option<&'a ExactGroup> {
		groups.iter().find(|g| {
			g.key.iter().map(|k| k.as_deref()).collect::<Vec<_>>()
				== key.iter().map(|k| Some(*k)).collect::<Vec<_>>()
		})
	}

	/// 12 contributors: contributor c writes c + 1 messages in "general" (ages 20 + c) and, for
	/// even c, 2 in "random" (age 40).
	pub(crate) fn twelve() -> (Engine, AggregateRules) {
		let rules = chat_rules(3, 100);
		let mut engine = Engine::new(&rules).unwrap();
		for c in 0..12u64 {
			let mut messages: Vec<(&str, Value)> =
				(0..=c).map(|_| ("general", json!(20 + c))).collect();
			if c % 2 == 0 {
				messages.extend([("random", json!(40)), ("random", json!(40))]);
			}
			let n = engine.ingest(c, &chat(&messages), &chat_format(), &rules, LIMITS).unwrap();
			assert_eq!(n, messages.len() as u64);
		}
		(engine, rules)
	}

	#[test]
	fn the_database_stays_in_memory() {
		let (engine, _) = twelve();
		let temp_store: i64 =
			engine.conn.pragma_query_value(None, "temp_store", |r| r.get(0)).unwrap();
		assert_eq!(temp_store, 2, "MEMORY");
		let journal: String =
			engine.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
		assert_eq!(journal.to_lowercase(), "off");
		assert_eq!(engine.conn.path(), Some(""));
	}

	#[test]
	fn grouped_counts_and_means_are_exact() {
		let (engine, _) = twelve();
		assert_eq!(engine.rows(), 78 + 12);
		let q = query(json!({"stats": ["count", {"mean": "/age"}, {"sum": "/age"}],
			"group_by": ["/channel"], "epsilon": 1.0}));
		let groups = engine.exact(&q, 1).unwrap();
		assert_eq!(groups.len(), 2);
		let general = group(&groups, &["general"]).unwrap();
		// Σ (c + 1) messages, of age 20 + c each
		let sum: u64 = (0..12).map(|c| (c + 1) * (20 + c)).sum();
		assert_eq!(general.count, 78.0);
		assert_eq!(general.contributors, 12);
		assert_eq!(general.sums, vec![0.0, sum as f64, sum as f64]);
		assert_eq!(general.value_counts, vec![0.0, 78.0, 0.0]);
		let random = group(&groups, &["random"]).unwrap();
		assert_eq!((random.count, random.contributors), (12.0, 6));
		assert_eq!(random.sums[1] / random.value_counts[1], 40.0);
		// ordered by key
		assert_eq!(groups[0].key, vec![Some("general".to_owned())]);

		// no group_by: one group, everything
		let all = engine.exact(&query(json!({"stats": ["count"], "epsilon": 1.0})), 1).unwrap();
		assert_eq!(all.len(), 1);
		assert_eq!((all[0].key.len(), all[0].count, all[0].contributors), (0, 90.0, 12));

		// two group fields: the day is read from unix seconds
		let q = query(json!({"stats": ["count"], "group_by": ["/channel", "/at"], "epsilon": 1.0}));
		let groups = engine.exact(&q, 1).unwrap();
		assert_eq!(group(&groups, &["random", "2023-11-14"]).unwrap().count, 12.0);
	}

	#[test]
	fn histograms_and_values_are_exact() {
		let rules = chat_rules(1, 100);
		let mut engine = Engine::new(&rules).unwrap();
		let ages = [json!(0), json!(11.9), json!(12), json!(60), json!(119.9), json!(120)];
		let messages: Vec<(&str, Value)> = ages.iter().map(|a| ("general", a.clone())).collect();
		engine.ingest(1, &chat(&messages), &chat_format(), &rules, LIMITS).unwrap();
		let q = query(json!({"stats": [{"histogram": ["/age", 10]}, {"min": "/age"}],
			"group_by": ["/channel"], "epsilon": 1.0}));
		let groups = engine.exact(&q, 1).unwrap();
		let mut expected = vec![0.0; 10];
		(expected[0], expected[1], expected[5], expected[9]) = (2.0, 1.0, 1.0, 2.0);
		assert_eq!(groups[0].histograms[0], expected);
		assert!(groups[0].histograms[1].is_empty());
		let mut values = groups[0].values[1].clone();
		values.sort_by(f64::total_cmp);
		assert_eq!(values, vec![0.0, 11.9, 12.0, 60.0, 119.9, 120.0]);
	}

	#[test]
	fn a_contributor_counts_for_at_most_k_records_over_all_their_contributions() {
		let rules = chat_rules(1, 3);
		let mut engine = Engine::new(&rules).unwrap();
		let two = chat(&[("general", json!(30)), ("general", json!(31))]);
		assert_eq!(engine.ingest(7, &two, &chat_format(), &rules, LIMITS).unwrap(), 2);
		assert_eq!(engine.ingest(7, &two, &chat_format(), &rules, LIMITS).unwrap(), 1);
		assert_eq!(engine.ingest(7, &two, &chat_format(), &rules, LIMITS).unwrap(), 0);
		assert_eq!(engine.ingest(8, &two, &chat_format(), &rules, LIMITS).unwrap(), 2);
		let q = query(json!({"stats": ["count", {"sum": "/age"}], "epsilon": 1.0}));
		let all = engine.exact(&q, 1).unwrap();
		// the first records are kept: 30, 31, then 30
		assert_eq!((all[0].count, all[0].sums[1]), (5.0, 30.0 + 31.0 + 30.0 + 30.0 + 31.0));
		let four = chat(&[("a", json!(1)), ("b", json!(2)), ("c", json!(3)), ("d", json!(4))]);
		assert_eq!(engine.ingest(9, &four, &chat_format(), &rules, LIMITS).unwrap(), 3);
	}

	#[test]
	fn values_are_clamped_into_their_range_and_non_numbers_are_no_value() {
		let rules = chat_rules(1, 100);
		let mut engine = Engine::new(&rules).unwrap();
		let messages = [
			("general", json!(150)),
			("general", json!(-5)),
			("general", json!("old")),
			("general", json!(null)),
			("general", json!(60.5)),
		];
		engine.ingest(1, &chat(&messages), &chat_format(), &rules, LIMITS).unwrap();
		let q =
			query(json!({"stats": ["count", {"mean": "/age"}, {"max": "/age"}], "epsilon": 1.0}));
		let all = engine.exact(&q, 1).unwrap();
		assert_eq!(all[0].count, 5.0);
		assert_eq!((all[0].sums[1], all[0].value_counts[1]), (120.0 + 0.0 + 60.5, 3.0));
		let mut values = all[0].values[2].clone();
		values.sort_by(f64::total_cmp);
		assert_eq!(values, vec![0.0, 60.5, 120.0]);
	}

	#[test]
	fn groups_of_too_few_contributors_are_absent() {
		let (engine, _) = twelve();
		let q = query(json!({"stats": ["count"], "group_by": ["/channel"], "epsilon": 1.0}));
		// "random" has 6 distinct contributors (with 12 records), "general" 12
		let groups = engine.exact(&q, 7).unwrap();
		assert_eq!(groups.len(), 1);
		assert!(group(&groups, &["general"]).is_some());
		assert!(group(&groups, &["random"]).is_none());
		assert!(engine.exact(&q, 13).unwrap().is_empty());
		// the rules' min_group_size is a floor whatever the caller asks
		let mut rules = chat_rules(7, 100);
		rules.values.clear();
		let mut engine = Engine::new(&rules).unwrap();
		for c in 0..6 {
			let messages = [("random", json!(1))];
			engine.ingest(c, &chat(&messages), &chat_format(), &rules, LIMITS).unwrap();
		}
		assert!(engine.exact(&q, 1).unwrap().is_empty());
		let all = query(json!({"stats": ["count"], "epsilon": 1.0}));
		assert!(engine.exact(&all, 1).unwrap().is_empty(), "no group_by: the threshold holds too");
	}

	#[test]
	fn one_field_groups_count_their_contributors_as_count_distinct_does() {
		let rules = chat_rules(1, 100);
		let mut engine = Engine::new(&rules).unwrap();
		// Contributor c: c % 4 + 1 messages in "general", one in "c<c % 3>", and for odd c
		// two messages without a channel; every record of some contributors twice over two
		// contributions (a pair is counted once).
		for c in 0..30u64 {
			let mut messages: Vec<Value> = (0..=c % 4)
				.map(
					|_| json!({"at": 1_700_000_000u64 + c * 86_400, "channel": "general", "age": 30}),
				)
				.collect();
			messages.push(json!({"at": 1_700_000_000u64, "channel": format!("c{}", c % 3)}));
			if c % 2 == 1 {
				messages.extend([json!({"age": 1}), json!({"channel": 7})]);
			}
			let plain = json!({"messages": messages}).to_string().into_bytes();
			for _ in 0..1 + c % 2 {
				engine.ingest(c, &plain, &chat_format(), &rules, LIMITS).unwrap();
			}
		}
		for (i, field) in ["/at", "/channel"].into_iter().enumerate() {
			let q = query(json!({"stats": ["count"], "group_by": [field], "epsilon": 1.0}));
			let mut answered: Vec<_> =
				engine.exact(&q, 1).unwrap().into_iter().map(|g| (g.key, g.contributors)).collect();
			answered.sort();
			let sql =
				format!("SELECT g_{i}, COUNT(DISTINCT contributor) FROM records GROUP BY g_{i}");
			let mut statement = engine.conn.prepare(&sql).unwrap();
			let mut expected: Vec<(Vec<Option<String>>, u64)> = statement
				.query_map((), |row| Ok((vec![row.get(0)?], row.get::<_, i64>(1)? as u64)))
				.unwrap()
				.collect::<Result<_, _>>()
				.unwrap();
			expected.sort();
			assert_eq!(answered, expected, "grouped by {field}");
			assert!(answered.iter().any(|(key, n)| key[0].is_none() && *n == 15), "{answered:?}");
			// A threshold between the groups' sizes drops exactly the groups below it.
			let kept = engine.exact(&q, 11).unwrap();
			assert_eq!(kept.len(), expected.iter().filter(|(_, n)| *n >= 11).count());
		}
	}

	#[test]
	fn fields_the_rules_do_not_name_are_refused_and_never_reach_sql() {
		let (engine, _) = twelve();
		let refused = |q: Value, why: &str| {
			let e = engine.exact(&query(q.clone()), 1).unwrap_err();
			assert!(matches!(&e, EngineError::Query(QueryError(m)) if m.contains(why)), "{q}: {e}");
		};
		refused(
			json!({"stats": [{"mean": "/text"}], "epsilon": 1.0}),
			"\"/text\" is not a value field",
		);
		refused(json!({"stats": [{"mean": "/channel"}], "epsilon": 1.0}), "not a value field");
		refused(
			json!({"stats": ["count"], "group_by": ["/age"], "epsilon": 1.0}),
			"\"/age\" is not a field this DAO groups by",
		);
		let injection = "/x'); DROP TABLE records; --";
		refused(json!({"stats": [{"sum": injection}], "epsilon": 1.0}), "is not a value field");
		refused(json!({"stats": ["count"], "group_by": [injection], "epsilon": 1.0}), "groups by");
		refused(json!({"stats": ["count"], "group_by": ["g_0"], "epsilon": 1.0}), "groups by");
		refused(json!({"stats": [{"sum": "v_0"}], "epsilon": 1.0}), "not a value field");
		// the table is still there
		let all = engine.exact(&query(json!({"stats": ["count"], "epsilon": 1.0})), 1).unwrap();
		assert_eq!(all[0].count, 90.0);

		refused(json!({"stats": [], "epsilon": 1.0}), "1 to 8 stats");
		let nine: Vec<Value> = (0..9).map(|b| json!({"histogram": ["/age", b + 1]})).collect();
		refused(json!({"stats": nine, "epsilon": 1.0}), "1 to 8 stats");
		refused(json!({"stats": ["count", "count"], "epsilon": 1.0}), "twice");
		refused(json!({"stats": ["count"], "group_by": ["/at", "/at"], "epsilon": 1.0}), "twice");
		refused(
			json!({"stats": ["count"], "group_by": ["/at", "/channel", "/at", "/channel"],
				"epsilon": 1.0}),
			"3 fields at most",
		);
		refused(json!({"stats": [{"histogram": ["/age", 0]}], "epsilon": 1.0}), "1 to 100 bins");
		refused(json!({"stats": [{"histogram": ["/age", 101]}], "epsilon": 1.0}), "1 to 100 bins");
		refused(json!({"stats": ["count"], "epsilon": 0.0}), "epsilon 0 is not in (0, 5]");
		refused(json!({"stats": ["count"], "epsilon": 5.5}), "max_epsilon_per_query");
	}

	#[test]
	fn queries_read_as_the_server_receives_them() {
		let q = query(json!({"stats": ["count", {"mean": "/age"}, {"histogram": ["/age", 10]},
			{"min": "/age"}, {"max": "/age"}, {"sum": "/age"}], "group_by": ["/channel"], "epsilon": 0.5}));
		assert_eq!(
			q,
			AggregateQuery {
				stats: vec![
					Stat::Count,
					Stat::Mean("/age".into()),
					Stat::Histogram { field: "/age".into(), bins: 10 },
					Stat::Min("/age".into()),
					Stat::Max("/age".into()),
					Stat::Sum("/age".into()),
				],
				group_by: vec!["/channel".into()],
				epsilon: 0.5,
			}
		);
		let text = serde_json::to_string(&q).unwrap();
		assert!(text.contains(r#"["count",{"mean":"/age"},{"histogram":["/age",10]}"#), "{text}");
		assert_eq!(serde_json::from_str::<AggregateQuery>(&text).unwrap(), q);
		for bad in [
			json!({"stats": ["average"], "epsilon": 1.0}),
			json!({"stats": [{"mean": 3}], "epsilon": 1.0}),
			json!({"stats": ["count"], "epsilon": 1.0, "sql": "SELECT 1"}),
			json!({"stats": ["count"]}),
		] {
			assert!(serde_json::from_value::<AggregateQuery>(bad.clone()).is_err(), "{bad}");
		}
		assert_eq!(
			Stat::Histogram { field: "/age".into(), bins: 10 }.label(),
			"histogram(/age,10)"
		);
	}

	#[test]
	fn csv_records_are_read_by_column() {
		let rules = AggregateRules {
			group_by: BTreeMap::from([
				("channel".to_owned(), GroupKind::Category),
				("at".to_owned(), GroupKind::Day),
				("missing".to_owned(), GroupKind::Category),
			]),
			values: BTreeMap::from([("age".to_owned(), [0.0, 100.0])]),
			min_group_size: 1,
			max_records_per_contributor: 100,
			epsilon_per_grant: 1.0,
			max_epsilon_per_query: 1.0,
		};
		let format = Format::Csv { required_columns: vec![] };
		let mut engine = Engine::new(&rules).unwrap();
		let csv = format!(
			"account,channel,at,age\n\
			 5Grw, general ,1700000000,37\n\
			 5Grw,general,2023-11-14T23:30:00-05:00,old\n\
			 5Grw,,1700000000000,250\n\
			 5Grw,{},yesterday,-1\n",
			"x".repeat(65)
		);
		assert_eq!(engine.ingest(1, csv.as_bytes(), &format, &rules, LIMITS).unwrap(), 4);
		let q = query(json!({"stats": ["count", {"sum": "age"}], "group_by": ["channel", "at"],
			"epsilon": 1.0}));
		let groups = engine.exact(&q, 1).unwrap();
		fn key(g: &ExactGroup) -> Vec<Option<&str>> {
			g.key.iter().map(|k| k.as_deref()).collect()
		}
		// NULLs sort first
		assert_eq!(key(&groups[0]), [None, None]);
		assert_eq!((groups[0].count, groups[0].sums[1]), (1.0, 0.0));
		assert_eq!(key(&groups[1]), [None, Some("2023-11-14")]);
		assert_eq!(groups[1].sums[1], 100.0);
		assert_eq!(key(&groups[2]), [Some("general"), Some("2023-11-14")]);
		assert_eq!(key(&groups[3]), [Some("general"), Some("2023-11-15")]);
		assert_eq!(groups[2].sums[1], 37.0);
		let e = engine.ingest(1, b"channel,at\nx\n", &format, &rules, LIMITS).unwrap_err();
		assert!(matches!(e, EngineError::Format(_)), "{e}");
	}

	#[test]
	fn contributions_past_the_limits_are_refused_whole() {
		let rules = chat_rules(1, 2);
		let mut engine = Engine::new(&rules).unwrap();
		let limits = Limits { max_records: 3, ..LIMITS };
		let four = chat(&[("a", json!(1)), ("a", json!(1)), ("a", json!(1)), ("a", json!(1))]);
		let e = engine.ingest(1, &four, &chat_format(), &rules, limits).unwrap_err();
		assert!(matches!(&e, EngineError::Format(f) if f.0.starts_with("more than 3 records")));
		assert_eq!(engine.rows(), 0);
		// and the contributor's cap is untouched
		assert_eq!(engine.ingest(1, &four, &chat_format(), &rules, LIMITS).unwrap(), 2);
		let e = engine.ingest(2, b"{", &chat_format(), &rules, LIMITS).unwrap_err();
		assert!(matches!(&e, EngineError::Format(f) if f.0.starts_with("not JSON")), "{e}");
		let e = engine.ingest(2, &four, &chat_format(), &chat_rules(1, 3), LIMITS).unwrap_err();
		assert!(matches!(e, EngineError::Rules(_)));
		let e = engine.ingest(u64::MAX, &four, &chat_format(), &rules, LIMITS).unwrap_err();
		assert!(matches!(e, EngineError::Contributor(_)));
	}
}
