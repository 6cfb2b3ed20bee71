#!/usr/bin/env bash
# Refreshes artifacts/datacoop.scale, the runtime metadata (v15) from which the wallet and
# the e2e tests generate their types (subxt), from a freshly built dev node.
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

# Metadata_metadata_at_version(15) answers SCALE `Option<OpaqueMetadata>`: strip the option
# byte and the compact length to get the metadata itself.
# The hex goes through a file: it is longer than one command-line argument may be.
hexfile=$(mktemp)
rpc_call "$port" state_call '["Metadata_metadata_at_version", "0x0f000000"]' | jq -r .result > "$hexfile"
new=$(mktemp)
python3 - "$hexfile" "$new" <<'PY'
import sys
raw = bytes.fromhex(open(sys.argv[1]).read().strip()[2:])
if not raw or raw[0] != 1:
    sys.exit("the runtime does not serve metadata v15")
b = raw[1]; mode = b & 3
if mode == 0: n, off = b >> 2, 2
elif mode == 1: n, off = int.from_bytes(raw[1:3], "little") >> 2, 3
elif mode == 2: n, off = int.from_bytes(raw[1:5], "little") >> 2, 5
else:
    k = (b >> 2) + 4; n, off = int.from_bytes(raw[2:2 + k], "little"), 2 + k
body = raw[off:off + n]
if len(body) != n or body[:4] != b"meta":
    sys.exit("unexpected metadata encoding")
open(sys.argv[2], "wb").write(body)
PY
rm -f "$hexfile"

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
