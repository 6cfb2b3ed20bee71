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

# pallet name as the runtime lists it in benchmarks.rs => the weights file it gets. Our
# pallets' files use our template (a WeightInfo trait, SubstrateWeight and ()); the runtime's
# weights for polkadot-sdk pallets (runtime/src/weights/) use the CLI's default template,
# which implements that pallet's own WeightInfo trait.
declare -A outputs=(
	[pallet_contributions]=pallets/contributions/src/weights.rs
	[pallet_data_daos]=pallets/data-daos/src/weights.rs
	[pallet_dataset_tokens]=pallets/dataset-tokens/src/weights.rs
	[frame_system_extensions]=runtime/src/weights/frame_system_extensions.rs
	[pallet_transaction_payment]=runtime/src/weights/pallet_transaction_payment.rs
)
# Steps and repeats per pallet. Dataset tokens: two steps, i.e. exactly 10 and 100,000
# holders, to show reward deposits and claims do not grow with the number of holders (each
# step sets 100,000 holders up, so fifty would take hours).
declare -A steps=([pallet_dataset_tokens]=2)
declare -A repeats=([pallet_dataset_tokens]=5)
pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=("${!outputs[@]}")

ensure_toolchain
say "building datacoop-node with runtime benchmarks"
(cd "$repo" && cargo build --locked --release -p datacoop-node --features runtime-benchmarks >&2)
bin="$CARGO_TARGET_DIR/datacoop-node-benchmarks"
cp "$CARGO_TARGET_DIR/release/datacoop-node" "$bin"

cd "$repo"
for pallet in "${pallets[@]}"; do
	output=${outputs[$pallet]:-}
	[ -n "$output" ] || die "unknown pallet '$pallet' (one of: ${!outputs[*]})"
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
		"${template[@]}" \
		--output "$output"
done
say "done: review and commit the weights files"
