//! The service's Prometheus metrics (`GET /v1/metrics`), prefixed `datacoop_collective_`.

use prometheus_client::{
	metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
	registry::Registry,
};

pub(super) struct Metrics {
	pub(super) registry: Registry,
	outcomes: Family<Vec<(String, String)>, Counter>,
	pub(super) plaintext_bytes: Counter,
	pub(super) seconds: Histogram,
	pub(super) in_flight: Gauge,
}

impl Metrics {
	pub(super) fn new() -> Metrics {
		let mut registry = Registry::with_prefix("datacoop_collective");
		let outcomes = Family::<Vec<(String, String)>, Counter>::default();
		let plaintext_bytes = Counter::default();
		let seconds =
			Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0].into_iter());
		let in_flight = Gauge::default();
		registry.register(
			"validations",
			"Validate requests by outcome (valid, invalid, or the error)",
			outcomes.clone(),
		);
		registry.register("plaintext_bytes", "Bytes of plaintext judged", plaintext_bytes.clone());
		registry.register(
			"validation_seconds",
			"Time to fetch, decrypt, judge and sign one contribution",
			seconds.clone(),
		);
		registry.register("in_flight", "Validations running now", in_flight.clone());
		Metrics { registry, outcomes, plaintext_bytes, seconds, in_flight }
	}

	/// Counts a validate request's outcome: `valid`, `invalid`, `repeated` or an error's kind.
	pub(super) fn outcome(&self, outcome: &str) {
		self.outcomes.get_or_create(&vec![("outcome".into(), outcome.into())]).inc();
	}
}
