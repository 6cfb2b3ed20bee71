#!/usr/bin/env bash
# Refreshes artifacts/datacoop.scale, the runtime metadata (v15) from which datacoop-client
# generates the chain's types (subxt) for the wallet, the collective and the e2e tests, from a
# freshly built dev node.
#
#   scripts/refresh-metadata.sh           rewrite artifacts/datacoop.scale
#   scripts/refresh-metadata.sh --check   fail if the committed file differs from the runtime
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

# Built or brought up to date unless DATACOOP_NODE names a binary: a stale node (or the one
# scripts/benchmark.sh leaves behind) would give stale metadata.
node_bin=$(ensure_node_binary)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
"$node_bin" --dev --tmp --rpc-port "$port" --port 0 --no-prometheus --no-telemetry --no-mdns \
	> /dev/null 2> "$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 240); do
	rpc_call "$port" system_health '[]' > /dev/null 2>&1 && break
	kill -0 $pid 2>/dev/null || die "the dev node exited: $(tail -3 "$log")"
	sleep 0.25
done

# The runtime's metadata v15, fetched and decoded by datacoop-metadata (tools/metadata): the
# bytes `subxt metadata` writes. scripts/test.sh has built it with the workspace; after a
# runtime change the workspace may not build (datacoop-client is generated from the old
# metadata), so it is then built on its own.
meta_bin="$CARGO_TARGET_DIR/release/datacoop-metadata"
if [ ! -x "$meta_bin" ]; then
	(cd "$repo" && cargo build --locked --release -p datacoop-metadata >&2) \
		|| die "datacoop-metadata does not build (see above)"
fi
new=$(mktemp)
"$meta_bin" --url "ws://127.0.0.1:$port" --output "$new" \
	|| die "could not read the metadata from the dev node"

target="$repo/artifacts/datacoop.scale"
if [ "${1:-}" = "--check" ]; then
	if ! cmp -s "$new" "$target"; then
		rm -f "$new"
		die "artifacts/datacoop.scale is stale: the runtime changed. Run scripts/refresh-metadata.sh and commit it."
	fi
	say "artifacts/datacoop.scale matches the runtime"
	rm -f "$new"
else
	mkdir -p "$repo/artifacts"
	mv "$new" "$target"
	chmod 644 "$target"
	say "wrote artifacts/datacoop.scale ($(wc -c < "$target") bytes)"
fi
