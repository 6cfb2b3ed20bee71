//! Noise for aggregate answers, and what it costs in privacy: the exact answers of [`engine`]
//! released through opendp's mechanisms, each calibrated with its own privacy map. No noise
//! is sampled here: opendp samples it (discrete Laplace, exactly, whatever the float; its
//! randomness, without its `use-openssl` feature, is `rand`'s thread CSPRNG, ChaCha seeded
//! from the OS).
//!
//! **Unit of privacy: one contributor.** [`Engine::ingest`] keeps at most k =
//! `max_records_per_contributor` records of each contributor, values clamped into their range
//! `[lo, hi]`. Adding or removing one contributor so changes
//! - the vector of group counts by at most k in L1 (their k records, in one group or spread
//!   over up to k groups): Laplace noise of scale k / ε;
//! - the vector of group sums of a field by at most k·max(|lo|, |hi|) in L1;
//! - the vector of all groups' histogram bins by at most k in L1 (a record is in one bin);
//! - each group's list of values by at most k records (symmetric distance), for the
//!   approximate extremes (a DP quantile, whose privacy map is linear in that distance, so
//!   the groups together cost what one group with all k records would).
//!
//! A query's ε is split evenly over its statistics (a mean takes two shares: a noisy sum over
//! a noisy count of the records that have the field), each mechanism's scale is chosen so its
//! privacy map at that sensitivity is at most its share, and the shares add up (basic
//! sequential composition): [`cost`] is that sum, known before any noise is drawn, never more
//! than the query's ε. The stability of the SQL (bounding at ingest, clamping, the group
//! threshold) is ours; opendp proves the mechanisms and their maps. Sums are added by SQLite
//! in floating point: their rounding is not accounted for (ULPs of the sum, far below the
//! noise).
//!
//! **Which groups exist also leaks**: a group present only because of one contributor's
//! records says that someone has records with that key. The defence here is the minimum group
//! size, in *distinct contributors*, applied to the exact answer before any noise
//! ([`Engine::exact`]): a group needs that many people in it to be listed at all. It is a
//! threshold, not a DP guarantee; opendp's `make_laplace_threshold` (noisy counts over a
//! map of groups, released only above a noisy threshold, (ε, δ)-DP over which groups are
//! listed) is the stronger option for later, at the cost of a δ in the budget.
//!
//! [`engine`]: crate::engine
//! [`Engine::ingest`]: crate::engine::Engine::ingest
//! [`Engine::exact`]: crate::engine::Engine::exact

use opendp::{
	core::Measurement,
	domains::{AtomDomain, VectorDomain},
	error::Fallible,
	measurements::{make_laplace, make_private_quantile},
	measures::MaxDivergence,
	metrics::{L1Distance, SymmetricDistance},
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{
	engine::{AggregateQuery, ExactGroup, QueryError, Stat},
	rules::AggregateRules,
};

/// Candidates of the approximate extremes: points of a grid over the field's range.
pub const QUANTILE_GRID: usize = 100;
/// The quantile an approximate minimum is (the 1st percentile).
pub const MIN_ALPHA: f64 = 0.01;
/// The quantile an approximate maximum is (the 99th percentile).
pub const MAX_ALPHA: f64 = 0.99;

/// Why no answer was released.
#[derive(Debug, thiserror::Error)]
pub enum DpError {
	/// The query asks for something the rules do not offer, or more ε than one query may
	/// spend.
	#[error(transparent)]
	Query(#[from] QueryError),
	/// A mechanism could not be made or run.
	#[error("differential privacy: {0}")]
	OpenDp(String),
	/// The exact answers are not of this query (a bug of the caller).
	#[error("the exact answers do not fit the query: {0}")]
	Shape(String),
}

impl From<opendp::error::Error> for DpError {
	fn from(e: opendp::error::Error) -> DpError {
		DpError::OpenDp(match &e.message {
			Some(message) => format!("{}: {message}", e.variant),
			None => e.variant.to_string(),
		})
	}
}

/// The answer the server gives: noisy statistics of each group, never a row, never an exact
/// figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Released {
	/// The groups of at least the minimum size, in key order.
	pub groups: Vec<ReleasedGroup>,
	/// The ε this answer spent (at most the query's ε; what [`cost`] said).
	pub epsilon_spent: f64,
	/// Each mechanism's noise scale, by name: `count`, `sum(/age)`, `mean(/age): sum`,
	/// `mean(/age): count`, `histogram(/age,10)` are Laplace scales (with probability 99.9 %
	/// the noise is within [`bound_99_9`] of it); `min(/age)`, `max(/age)` are the scales of
	/// the quantile's selection over its grid.
	pub scales: Vec<(String, f64)>,
}

/// One group's noisy statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleasedGroup {
	/// The group's values, one per `group_by` field (`null`: the field had no value).
	pub key: Vec<Option<String>>,
	/// By statistic's label ([`Stat::label`]): `count` an integer ≥ 0; `sum(f)` a number;
	/// `mean(f)` a number within the field's range; `min(f)`, `max(f)` a point of the grid
	/// over its range; `histogram(f,n)` `{"edges": [n + 1 numbers], "counts": [n integers ≥
	/// 0]}`. Negative noisy counts are answered as 0 (post-processing, free in privacy).
	pub values: Map<String, Value>,
}

/// The bound |Laplace noise of `scale`| stays within with probability 99.9 %: scale·ln(1000),
/// about 6.9 × scale.
pub fn bound_99_9(scale: f64) -> f64 {
	scale * 1000f64.ln()
}

/// The ε `q` spends under `rules`, computed by the mechanisms' privacy maps before any noise
/// is drawn (the server checks the grant's budget with it first). Refuses a query the rules
/// do not answer, or one over `max_epsilon_per_query`.
pub fn cost(q: &AggregateQuery, rules: &AggregateRules) -> Result<f64, DpError> {
	Ok(spent(&plan(q, rules)?))
}

/// The noisy answer to `q` from its exact answer `groups` ([`Engine::exact`] of the same query
/// under the same rules): each statistic through its mechanism, at its share of the query's
/// ε.
///
/// [`Engine::exact`]: crate::engine::Engine::exact
pub fn release(
	groups: &[ExactGroup],
	q: &AggregateQuery,
	rules: &AggregateRules,
) -> Result<Released, DpError> {
	let plan = plan(q, rules)?;
	let stats = q.stats.len();
	for g in groups {
		if g.key.len() != q.group_by.len()
			|| g.sums.len() != stats
			|| g.value_counts.len() != stats
			|| g.histograms.len() != stats
			|| g.values.len() != stats
		{
			return Err(DpError::Shape("a group has other fields or statistics".into()));
		}
	}
	let mut values: Vec<Map<String, Value>> = vec![Map::new(); groups.len()];
	for (s, (stat, parts)) in q.stats.iter().zip(&plan).enumerate() {
		let label = stat.label();
		match (stat, parts.as_slice()) {
			(Stat::Count, [Part { noise: Noise::Counts(m), .. }]) => {
				let noisy = m.invoke(&groups.iter().map(|g| g.count as i64).collect())?;
				for (v, count) in values.iter_mut().zip(noisy) {
					v.insert(label.clone(), json!(count.max(0)));
				}
			},
			(Stat::Sum(_), [Part { noise: Noise::Sums(m), .. }]) => {
				let noisy = m.invoke(&groups.iter().map(|g| g.sums[s]).collect())?;
				for (v, sum) in values.iter_mut().zip(noisy) {
					v.insert(label.clone(), json!(sum));
				}
			},
			(
				Stat::Mean(field),
				[Part { noise: Noise::Sums(sum), .. }, Part { noise: Noise::Counts(count), .. }],
			) => {
				let [lo, hi] = range_of(rules, field)?;
				let sums = sum.invoke(&groups.iter().map(|g| g.sums[s]).collect())?;
				let counts =
					count.invoke(&groups.iter().map(|g| g.value_counts[s] as i64).collect())?;
				for ((v, sum), n) in values.iter_mut().zip(sums).zip(counts) {
					// A mean is within the range whatever the noise did.
					let mean = (sum / n.max(1) as f64).clamp(lo, hi);
					v.insert(label.clone(), json!(mean));
				}
			},
			(Stat::Histogram { field, bins }, [Part { noise: Noise::Counts(m), .. }]) => {
				let bins = *bins as usize;
				if groups.iter().any(|g| g.histograms[s].len() != bins) {
					return Err(DpError::Shape(format!("a histogram has not {bins} bins")));
				}
				let flat: Vec<i64> = (groups.iter())
					.flat_map(|g| g.histograms[s].iter().map(|&c| c as i64))
					.collect();
				let noisy = m.invoke(&flat)?;
				let edges = edges(range_of(rules, field)?, bins);
				for (v, counts) in values.iter_mut().zip(noisy.chunks(bins)) {
					let counts: Vec<i64> = counts.iter().map(|&c| c.max(0)).collect();
					v.insert(label.clone(), json!({"edges": edges, "counts": counts}));
				}
			},
			(Stat::Min(_) | Stat::Max(_), [Part { noise: Noise::Quantile(m), .. }]) => {
				for (v, g) in values.iter_mut().zip(groups) {
					v.insert(label.clone(), json!(m.invoke(&g.values[s])?));
				}
			},
			_ => return Err(DpError::Shape(format!("no mechanism planned for {label}"))),
		}
	}
	Ok(Released {
		groups: (groups.iter().zip(values))
			.map(|(g, values)| ReleasedGroup { key: g.key.clone(), values })
			.collect(),
		epsilon_spent: spent(&plan),
		scales: plan.iter().flatten().map(|p| (p.label.clone(), p.scale)).collect(),
	})
}

/// Laplace noise on a vector of counts (discrete Laplace: counts stay integers).
type CountNoise =
	Measurement<VectorDomain<AtomDomain<i64>>, L1Distance<i64>, MaxDivergence, Vec<i64>>;
/// Laplace noise on a vector of sums.
type SumNoise =
	Measurement<VectorDomain<AtomDomain<f64>>, L1Distance<f64>, MaxDivergence, Vec<f64>>;
/// A quantile of a list of values, chosen among a grid's points.
type QuantileNoise =
	Measurement<VectorDomain<AtomDomain<f64>>, SymmetricDistance, MaxDivergence, f64>;

fn count_noise(scale: f64) -> Fallible<CountNoise> {
	make_laplace(
		VectorDomain::new(AtomDomain::<i64>::new_non_nan()),
		L1Distance::<i64>::default(),
		scale,
		None,
	)
}

fn sum_noise(scale: f64) -> Fallible<SumNoise> {
	make_laplace(
		VectorDomain::new(AtomDomain::<f64>::new_non_nan()),
		L1Distance::<f64>::default(),
		scale,
		None,
	)
}

fn quantile_noise(grid: Vec<f64>, alpha: f64, scale: f64) -> Fallible<QuantileNoise> {
	make_private_quantile(
		VectorDomain::new(AtomDomain::<f64>::new_non_nan()),
		SymmetricDistance,
		MaxDivergence,
		grid,
		alpha,
		scale,
	)
}

/// A mechanism of a query's answer.
enum Noise {
	Counts(CountNoise),
	Sums(SumNoise),
	Quantile(QuantileNoise),
}

/// One mechanism, calibrated: the ε its privacy map gives at the sensitivity.
struct Part {
	label: String,
	scale: f64,
	epsilon: f64,
	noise: Noise,
}

/// The mechanisms `q`'s answer is made with, per statistic in its order (a mean has two: its
/// sum, then its count), each calibrated to its share of the query's ε. Depends on the query
/// and the rules only, never on the data.
fn plan(q: &AggregateQuery, rules: &AggregateRules) -> Result<Vec<Vec<Part>>, DpError> {
	q.check(rules)?;
	let k = rules.max_records_per_contributor;
	let parts = q.stats.iter().map(|s| if matches!(s, Stat::Mean(_)) { 2 } else { 1 }).sum();
	let share = share_of(q.epsilon, parts);
	let mut plan = Vec::with_capacity(q.stats.len());
	for stat in &q.stats {
		let label = stat.label();
		plan.push(match stat {
			Stat::Count | Stat::Histogram { .. } => vec![counts(label, k, share)?],
			Stat::Sum(field) => vec![sums(label, k, range_of(rules, field)?, share)?],
			Stat::Mean(field) => vec![
				sums(format!("{label}: sum"), k, range_of(rules, field)?, share)?,
				counts(format!("{label}: count"), k, share)?,
			],
			Stat::Min(field) => {
				vec![quantile(label, k, range_of(rules, field)?, MIN_ALPHA, share)?]
			},
			Stat::Max(field) => {
				vec![quantile(label, k, range_of(rules, field)?, MAX_ALPHA, share)?]
			},
		});
	}
	Ok(plan)
}

/// What a plan spends: its mechanisms' ε, added in order.
fn spent(plan: &[Vec<Part>]) -> f64 {
	plan.iter().flatten().fold(0.0, |sum, part| sum + part.epsilon)
}

/// ε / `parts`, rounded down until `parts` shares, added in floating point, are at most ε:
/// the parts of an answer, each at most a share, never add up to more than asked.
fn share_of(epsilon: f64, parts: usize) -> f64 {
	let mut share = epsilon / parts as f64;
	while (0..parts).fold(0.0, |sum, _| sum + share) > epsilon {
		share = share.next_down();
	}
	share
}

/// The range the rules give `field`.
fn range_of(rules: &AggregateRules, field: &str) -> Result<[f64; 2], DpError> {
	(rules.values.get(field).copied())
		.ok_or_else(|| DpError::Query(QueryError(format!("{field:?} is not a value field"))))
}

/// The scale at which `epsilon_at(scale)` (a mechanism's privacy map at its sensitivity) is at
/// most `share`, and that ε. These maps are proportional to 1 / scale, so scale = ε(1) /
/// share, nudged up while rounding leaves ε over the share.
fn calibrate(share: f64, epsilon_at: impl Fn(f64) -> Fallible<f64>) -> Result<(f64, f64), DpError> {
	let unit = epsilon_at(1.0)?;
	if !(unit.is_finite() && unit > 0.0) {
		return Err(DpError::OpenDp(format!("a privacy map gave ε = {unit} at scale 1")));
	}
	let mut scale = unit / share;
	for _ in 0..64 {
		let epsilon = epsilon_at(scale)?;
		if epsilon <= share {
			return Ok((scale, epsilon));
		}
		scale *= 1.0 + 1e-12;
	}
	Err(DpError::OpenDp(format!("no noise scale keeps ε within {share}")))
}

/// Laplace noise on counts: one contributor moves them by k in L1.
fn counts(label: String, k: u32, share: f64) -> Result<Part, DpError> {
	let d_in = i64::from(k);
	let (scale, epsilon) = calibrate(share, |scale| count_noise(scale)?.map(&d_in))?;
	Ok(Part { label, scale, epsilon, noise: Noise::Counts(count_noise(scale)?) })
}

/// Laplace noise on sums: one contributor moves them by k·max(|lo|, |hi|) in L1.
fn sums(label: String, k: u32, range: [f64; 2], share: f64) -> Result<Part, DpError> {
	let d_in = sum_sensitivity(k, range);
	let (scale, epsilon) = calibrate(share, |scale| sum_noise(scale)?.map(&d_in))?;
	Ok(Part { label, scale, epsilon, noise: Noise::Sums(sum_noise(scale)?) })
}

/// The `alpha` quantile of each group's values, among a grid over `range`: one contributor
/// adds or removes k values (symmetric distance k).
fn quantile(
	label: String,
	k: u32,
	range: [f64; 2],
	alpha: f64,
	share: f64,
) -> Result<Part, DpError> {
	let grid = grid(range);
	let (scale, epsilon) =
		calibrate(share, |scale| quantile_noise(grid.clone(), alpha, scale)?.map(&k))?;
	Ok(Part { label, scale, epsilon, noise: Noise::Quantile(quantile_noise(grid, alpha, scale)?) })
}

/// k·max(|lo|, |hi|), rounded up when the product is not exact.
fn sum_sensitivity(k: u32, [lo, hi]: [f64; 2]) -> f64 {
	let (k, most) = (f64::from(k), lo.abs().max(hi.abs()));
	let d = k * most;
	// The product's rounding error, exactly (one rounding in a fused multiply-add).
	if k.mul_add(most, -d) > 0.0 {
		d.next_up()
	} else {
		d
	}
}

/// [`QUANTILE_GRID`] points from lo to hi, evenly spaced, strictly increasing (fewer when the
/// range holds fewer floats).
fn grid([lo, hi]: [f64; 2]) -> Vec<f64> {
	let last = (QUANTILE_GRID - 1) as f64;
	let mut grid: Vec<f64> = (0..QUANTILE_GRID)
		.map(|i| {
			let t = i as f64 / last;
			// hi - lo overflows for ranges wider than f64::MAX
			if (hi - lo).is_finite() {
				lo + t * (hi - lo)
			} else {
				lo * (1.0 - t) + hi * t
			}
		})
		.map(|x| x.clamp(lo, hi))
		.collect();
	grid[0] = lo;
	grid[QUANTILE_GRID - 1] = hi;
	grid.sort_by(f64::total_cmp);
	grid.dedup();
	grid
}

/// The `bins` + 1 edges of a histogram's bins over `[lo, hi]`.
fn edges([lo, hi]: [f64; 2], bins: usize) -> Vec<f64> {
	let width = (hi - lo) / bins as f64;
	(0..=bins).map(|i| if i == bins { hi } else { lo + i as f64 * width }).collect()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::engine::tests::{chat_rules, twelve};

	fn query(value: Value) -> AggregateQuery {
		serde_json::from_value(value).unwrap()
	}

	/// One group of `count` records and nothing else, for a query of one statistic.
	fn counted(count: f64) -> ExactGroup {
		ExactGroup {
			key: vec![],
			count,
			contributors: 1_000,
			sums: vec![0.0],
			value_counts: vec![0.0],
			histograms: vec![vec![]],
			values: vec![vec![]],
		}
	}

	#[test]
	fn noisy_counts_are_within_the_bound_almost_always() {
		let rules = chat_rules(5, 100);
		let q = query(json!({"stats": ["count"], "epsilon": 1.0}));
		let exact = [counted(10_000.0)];
		let mut within = 0;
		let mut scale = 0.0;
		for _ in 0..100 {
			let released = release(&exact, &q, &rules).unwrap();
			let (label, s) = released.scales[0].clone();
			assert_eq!(label, "count");
			scale = s;
			let noisy = released.groups[0].values["count"].as_i64().unwrap();
			within += u32::from(((noisy - 10_000) as f64).abs() <= bound_99_9(scale));
		}
		// k / ε = 100 / 1
		assert!((scale - 100.0).abs() < 1e-6, "{scale}");
		assert!(within >= 95, "{within} of 100 within {}", bound_99_9(scale));
		assert!((bound_99_9(1.0) - 6.907_755_278_982_137).abs() < 1e-12);
	}

	#[test]
	fn the_cost_is_the_sum_of_the_shares_and_never_more_than_asked() {
		let rules = chat_rules(5, 100);
		for epsilon in [0.3, 0.5, 1.0, 0.1, 2.7, 5.0, 1e-3] {
			for stats in [
				json!(["count"]),
				json!(["count", {"mean": "/age"}]),
				json!(["count", {"mean": "/age"}, {"histogram": ["/age", 10]}, {"min": "/age"},
					{"max": "/age"}, {"sum": "/age"}]),
			] {
				let q =
					query(json!({"stats": stats, "group_by": ["/channel"], "epsilon": epsilon}));
				let cost = cost(&q, &rules).unwrap();
				assert!(cost <= epsilon, "{cost} > {epsilon} for {stats}");
				assert!((cost - epsilon).abs() < 1e-9, "{cost} ≠ {epsilon} for {stats}");
				// release spends what cost said
				let released = release(&[], &q, &rules).unwrap();
				assert_eq!(released.epsilon_spent, cost);
				assert!(released.groups.is_empty());
			}
		}
		// a mean takes two shares: count, mean(sum, count) = 3 shares of ε
		let q = query(json!({"stats": ["count", {"mean": "/age"}], "epsilon": 0.3}));
		let released = release(&[], &q, &rules).unwrap();
		let labels: Vec<&str> = released.scales.iter().map(|(l, _)| l.as_str()).collect();
		assert_eq!(labels, ["count", "mean(/age): sum", "mean(/age): count"]);
		// sensitivity / share: k / 0.1 for counts, k·120 / 0.1 for the sum
		let scales: Vec<f64> = released.scales.iter().map(|&(_, s)| s).collect();
		for (scale, expected) in scales.iter().zip([1_000.0, 120_000.0, 1_000.0]) {
			assert!((scale / expected - 1.0).abs() < 1e-9, "{scale} vs {expected}");
		}
	}

	#[test]
	fn queries_over_the_per_query_budget_or_the_rules_are_refused() {
		let rules = chat_rules(5, 100);
		for q in [
			json!({"stats": ["count"], "epsilon": 5.000001}),
			json!({"stats": ["count"], "epsilon": 0.0}),
			json!({"stats": ["count"], "epsilon": -1.0}),
			json!({"stats": [{"mean": "/text"}], "epsilon": 1.0}),
		] {
			let q = query(q);
			assert!(matches!(cost(&q, &rules), Err(DpError::Query(_))), "{q:?}");
			assert!(matches!(release(&[], &q, &rules), Err(DpError::Query(_))), "{q:?}");
		}
		assert!(cost(&query(json!({"stats": ["count"], "epsilon": 5.0})), &rules).is_ok());
	}

	#[test]
	fn releases_draw_noise_and_keep_to_their_shapes() {
		let (engine, rules) = twelve();
		let q = query(json!({"stats": ["count", {"mean": "/age"}, {"histogram": ["/age", 4]},
			{"min": "/age"}, {"max": "/age"}], "group_by": ["/channel"], "epsilon": 5.0}));
		let exact = engine.exact(&q, 1).unwrap();
		let one = release(&exact, &q, &rules).unwrap();
		let two = release(&exact, &q, &rules).unwrap();
		assert_ne!(one, two, "noise is drawn anew");
		assert_eq!(one.groups.len(), 2);
		let keys: Vec<_> = one.groups.iter().map(|g| g.key.clone()).collect();
		assert_eq!(keys, [vec![Some("general".to_owned())], vec![Some("random".to_owned())]]);
		for group in &one.groups {
			assert!(group.values["count"].as_i64().unwrap() >= 0);
			let mean = group.values["mean(/age)"].as_f64().unwrap();
			assert!((0.0..=120.0).contains(&mean), "{mean}");
			let histogram = &group.values["histogram(/age,4)"];
			assert_eq!(histogram["edges"], json!([0.0, 30.0, 60.0, 90.0, 120.0]));
			assert_eq!(histogram["counts"].as_array().unwrap().len(), 4);
			for extreme in ["min(/age)", "max(/age)"] {
				let x = group.values[extreme].as_f64().unwrap();
				assert!((0.0..=120.0).contains(&x), "{extreme} {x}");
			}
			// exact figures and contributor counts never leave
			assert!(group.values.get("contributors").is_none());
		}
		let text = serde_json::to_string(&one).unwrap();
		assert!(text.contains(r#""scales":[["count","#), "{text}");
		let read: Released = serde_json::from_str(&text).unwrap();
		assert_eq!((read.groups.len(), read.scales.len()), (2, 6));
		// answers for other exact groups than the query's are refused
		let other = query(json!({"stats": ["count"], "epsilon": 1.0}));
		assert!(matches!(release(&exact, &other, &rules), Err(DpError::Shape(_))));
	}

	#[test]
	fn the_grid_and_the_sensitivities() {
		let g = grid([0.0, 99.0]);
		assert_eq!(g.len(), QUANTILE_GRID);
		assert_eq!((g[0], g[99]), (0.0, 99.0));
		assert!(g.iter().enumerate().all(|(i, &x)| (x - i as f64).abs() < 1e-12), "{g:?}");
		assert!(g.windows(2).all(|w| w[0] < w[1]));
		let wide = grid([-f64::MAX, f64::MAX]);
		assert!(wide.iter().all(|x| x.is_finite()) && wide.windows(2).all(|w| w[0] < w[1]));
		let narrow = grid([1.0, 1.0 + 4.0 * f64::EPSILON]);
		assert!(narrow.len() <= 5 && narrow.windows(2).all(|w| w[0] < w[1]), "{narrow:?}");
		assert_eq!(sum_sensitivity(100, [-3.0, 120.0]), 12_000.0);
		assert_eq!(sum_sensitivity(100, [-300.0, 120.0]), 30_000.0);
		assert!(sum_sensitivity(3, [0.0, 0.1]) >= 0.30000000000000004);
		assert_eq!(edges([0.0, 1.0], 4), [0.0, 0.25, 0.5, 0.75, 1.0]);
		for (epsilon, parts) in [(0.3, 3), (1.0, 7), (0.7, 6), (5.0, 1)] {
			let share = share_of(epsilon, parts);
			assert!((0..parts).fold(0.0, |s, _| s + share) <= epsilon);
			assert!((share * parts as f64 - epsilon).abs() < 1e-12);
		}
	}
}
