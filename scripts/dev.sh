#!/usr/bin/env bash
# The main job: installs what is missing, builds the node, the storage service and the
# wallet, and runs a development chain (one validator, Alice; dev accounts funded; sudo
# Alice) with a fresh state each time, beside `datacoop-storage` on 127.0.0.1:9900.
#
#   scripts/dev.sh                 run `datacoop-node --dev --tmp` and the storage service
#   scripts/dev.sh --base-path D   keep the chain in D across restarts (extra flags go to the
#                                  node); blobs are then kept in D/storage
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

node_bin=$(build_node)
say "building datacoop-storage and the datacoop wallet (release)"
(cd "$repo" && cargo build --locked --release -p datacoop-storage -p datacoop-wallet >&2) \
	|| die "the storage service or the wallet does not build (see above)"
rpc_port=9944
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	[ "${args[$i]}" = "--rpc-port" ] && rpc_port=${args[$((i + 1))]:-9944}
done
persist=false
base=""
for ((i = 0; i < ${#args[@]}; i++)); do
	case "${args[$i]}" in
		--base-path|-d) persist=true; base=${args[$((i + 1))]:-} ;;
		--base-path=*) persist=true; base=${args[$i]#--base-path=} ;;
	esac
done
$persist || args=(--tmp "${args[@]}")

# Encrypted storage beside the chain: in the chain's base path, or a temporary directory.
if $persist && [ -n "$base" ]; then
	blobs="$base/storage"
else
	blobs=$(mktemp -d -t datacoop-storage.XXXXXX)
fi
"$CARGO_TARGET_DIR/release/datacoop-storage" --listen 127.0.0.1:9900 --store "$blobs" &
storage_pid=$!
cleanup() {
	kill "$storage_pid" 2> /dev/null || true
	wait "$storage_pid" 2> /dev/null || true
	$persist || rm -rf "$blobs"
}
trap cleanup EXIT
# Ctrl-C reaches the node, the storage service and this script: clean up once the node is down.
trap 'exit 130' INT TERM

cat >&2 <<MSG
==> starting the Datacoop dev chain
    JSON-RPC / WebSocket  ws://127.0.0.1:$rpc_port
    polkadot.js Apps      https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A$rpc_port
    encrypted storage     http://127.0.0.1:9900 (blobs in $blobs)
    wallet                $CARGO_TARGET_DIR/release/datacoop (e.g. datacoop --account //Bob dao list)
    dev accounts          //Alice (validator, sudo), //Bob, //Charlie, ... 1,000,000 COOP each
    stop with Ctrl-C
MSG
"$node_bin" --dev --rpc-cors all "${args[@]}"
