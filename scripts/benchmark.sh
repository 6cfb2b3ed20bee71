#!/usr/bin/env bash
# Measures the weights of our pallets on this machine and writes each pallet's weights.rs.
#
#   scripts/benchmark.sh                   every pallet, then `db` and `overhead`
#   scripts/benchmark.sh pallet_data_daos  one pallet
#   scripts/benchmark.sh db                ParityDB's read and write costs, on a state the
#                                          size of a chain in use (runtime/src/weights/
#                                          paritydb_weights.rs)
#   scripts/benchmark.sh overhead          the base costs of a block and of an extrinsic
#                                          (block_weights.rs, extrinsic_weights.rs there)
#
# Builds datacoop-node with `--features runtime-benchmarks` (kept aside as
# $CARGO_TARGET_DIR/datacoop-node-benchmarks, so the normal node stays free of benchmark
# code) and runs `datacoop-node benchmark pallet|storage|overhead`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

# pallet name as the runtime lists it in benchmarks.rs => the weights file it gets. Our
# pallets' files use our template (a WeightInfo trait, SubstrateWeight and ()); the runtime's
# weights for polkadot-sdk pallets (runtime/src/weights/) use the CLI's default template,
# which implements that pallet's own WeightInfo trait.
declare -A outputs=(
	[pallet_contributions]=pallets/contributions/src/weights.rs
	[pallet_data_daos]=pallets/data-daos/src/weights.rs
	[pallet_dataset_tokens]=pallets/dataset-tokens/src/weights.rs
	[pallet_dao_governance]=pallets/governance/src/weights.rs
	[pallet_access_grants]=pallets/access-grants/src/weights.rs
	[frame_system_extensions]=runtime/src/weights/frame_system_extensions.rs
	[pallet_transaction_payment]=runtime/src/weights/pallet_transaction_payment.rs
)
# Weights from the median-slopes analysis: on a shared 2-core machine a few repeats run far
# slower than the rest, and least squares lets them set the weight (seen here: a mean of
# 541 µs against a median of 214 µs). The raw results stay in $CARGO_TARGET_DIR.
# Steps and repeats per pallet. Dataset tokens, governance and access grants: two steps, i.e.
# exactly 10 and 100,000 holders, to show reward deposits and claims, votes, closes and
# purchases do not grow with the number of holders (each step sets 100,000 holders up, so
# fifty would take hours).
declare -A steps=([pallet_dataset_tokens]=2 [pallet_dao_governance]=2 [pallet_access_grants]=2)
declare -A repeats=([pallet_dataset_tokens]=5 [pallet_dao_governance]=5 [pallet_access_grants]=5)
# Contributions in the synthetic state `db` measures on (1.25 million keys in all, see
# e2e/js/tools/synthetic-state.mjs): more than the chain will hold for a long while.
db_contributions=${DB_BENCH_CONTRIBUTIONS:-250000}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${!outputs[@]}" db overhead)

ensure_node_build_deps
say "building datacoop-node with runtime benchmarks"
# The benchmarking CLI depends on a test runtime whose wasm build looks itself up in our
# workspace's `cargo metadata`, which (the CLI being optional) does not list it, and fails.
# Its wasm serves only `benchmark storage --mode validate-block`, which we do not run: skip it.
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
(cd "$repo" && cargo build --locked --release -p datacoop-node --features runtime-benchmarks >&2)
bin="$CARGO_TARGET_DIR/datacoop-node-benchmarks"
cp "$CARGO_TARGET_DIR/release/datacoop-node" "$bin"

bench_db() {
	local work="$CARGO_TARGET_DIR/benchmark-db"
	rm -rf "$work" && mkdir -p "$work"
	say "writing a chain spec with the state of $db_contributions contributions"
	"$bin" build-spec --chain dev --raw 2> /dev/null > "$work/dev-raw.json"
	ensure_node_js
	(cd "$repo/e2e/js" && [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error)
	(cd "$repo/e2e/js" && node tools/synthetic-state.mjs \
		"$work/dev-raw.json" "$work/spec.json" "$db_contributions")
	say "benchmarking storage (reads and writes every key)"
	"$bin" benchmark storage \
		--chain "$work/spec.json" \
		--base-path "$work/db" \
		--database paritydb \
		--state-version 1 \
		--weight-path runtime/src/weights/
	rm -rf "$work"
}

bench_overhead() {
	say "benchmarking block and extrinsic overhead"
	"$bin" benchmark overhead \
		--chain dev \
		--wasm-execution compiled \
		--weight-path runtime/src/weights/
}

cd "$repo"
for pallet in "${targets[@]}"; do
	case $pallet in
		db) bench_db; continue ;;
		overhead) bench_overhead; continue ;;
	esac
	output=${outputs[$pallet]:-}
	[ -n "$output" ] || die "unknown target '$pallet' (one of: ${!outputs[*]} db overhead)"
	template=()
	[[ $output == pallets/* ]] && template=(--template scripts/templates/pallet-weights.hbs)
	mkdir -p "$(dirname "$output")"
	say "benchmarking $pallet"
	"$bin" benchmark pallet \
		--chain dev \
		--pallet "$pallet" \
		--extrinsic '*' \
		--steps "${steps[$pallet]:-50}" \
		--repeat "${repeats[$pallet]:-20}" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--output-analysis median-slopes \
		--json-file "$CARGO_TARGET_DIR/benchmark-$pallet.json" \
		"${template[@]}" \
		--output "$output"
done
say "done: review and commit the weights files"
