#!/usr/bin/env bash
# The main job: installs what is missing, builds the node, and runs a development chain
# (one validator, Alice; dev accounts funded; sudo Alice) with a fresh state each time.
#
#   scripts/dev.sh                 run `datacoop-node --dev --tmp`
#   scripts/dev.sh --base-path D   keep the chain in D across restarts (extra flags go to the node)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

node_bin=$(build_node)
rpc_port=9944
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	[ "${args[$i]}" = "--rpc-port" ] && rpc_port=${args[$((i + 1))]:-9944}
done
persist=false
for a in "$@"; do case "$a" in --base-path|--base-path=*|-d) persist=true ;; esac; done
$persist || args=(--tmp "${args[@]}")

cat >&2 <<MSG
==> starting the Datacoop dev chain
    JSON-RPC / WebSocket  ws://127.0.0.1:$rpc_port
    polkadot.js Apps      https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A$rpc_port
    dev accounts          //Alice (validator, sudo), //Bob, //Charlie, ... 1,000,000 COOP each
    stop with Ctrl-C
MSG
exec "$node_bin" --dev --rpc-cors all "${args[@]}"
