#!/usr/bin/env bash
# Measures the weights of our pallets on this machine and writes each pallet's weights.rs.
#
#   scripts/benchmark.sh                   every Datacoop pallet
#   scripts/benchmark.sh pallet_data_daos  one
#
# Builds datacoop-node with `--features runtime-benchmarks` (kept aside as
# $CARGO_TARGET_DIR/datacoop-node-benchmarks, so the normal node stays free of benchmark
# code) and runs `datacoop-node benchmark pallet` on the dev chain.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

# pallet name as the runtime lists it in benchmarks.rs => its folder
declare -A folders=(
	[pallet_data_daos]=pallets/data-daos
	[pallet_dataset_tokens]=pallets/dataset-tokens
)
# Steps and repeats per pallet. Dataset tokens: two steps, i.e. exactly 10 and 100,000
# holders, to show reward deposits and claims do not grow with the number of holders (each
# step sets 100,000 holders up, so fifty would take hours).
declare -A steps=([pallet_dataset_tokens]=2)
declare -A repeats=([pallet_dataset_tokens]=5)
pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=("${!folders[@]}")

ensure_toolchain
say "building datacoop-node with runtime benchmarks"
(cd "$repo" && cargo build --locked --release -p datacoop-node --features runtime-benchmarks >&2)
bin="$CARGO_TARGET_DIR/datacoop-node-benchmarks"
cp "$CARGO_TARGET_DIR/release/datacoop-node" "$bin"

cd "$repo"
for pallet in "${pallets[@]}"; do
	folder=${folders[$pallet]:-}
	[ -n "$folder" ] || die "unknown pallet '$pallet' (one of: ${!folders[*]})"
	say "benchmarking $pallet"
	"$bin" benchmark pallet \
		--chain dev \
		--pallet "$pallet" \
		--extrinsic '*' \
		--steps "${steps[$pallet]:-50}" \
		--repeat "${repeats[$pallet]:-20}" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/templates/pallet-weights.hbs \
		--output "$folder/src/weights.rs"
done
say "done: review and commit the weights.rs files"
