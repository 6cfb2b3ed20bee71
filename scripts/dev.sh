#!/usr/bin/env bash
# The main job: installs what is missing, builds the node, the storage service, the
# collective server and the wallet, and runs a development chain (one validator, Alice; dev
# accounts funded; sudo Alice) with a fresh state each time, beside `datacoop-storage` on
# 127.0.0.1:9900 and `datacoop-collective` on 127.0.0.1:9950, and registers a demo DAO
# ("Chat exports", collective/examples/chat-rules.json) as //Alice once the chain runs; the
# collective server starts once its key set is bound to that DAO (one key set, one DAO).
#
#   scripts/dev.sh                 run `datacoop-node --dev --tmp`, storage and collective
#   scripts/dev.sh --base-path D   keep the chain in D across restarts (extra flags go to the
#                                  node); blobs are then kept in D/storage, the collective's
#                                  sealed keys and index in D/collective
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

node_bin=$(build_node)
say "building datacoop-storage, datacoop-collective and the datacoop wallet (release)"
(cd "$repo" && cargo build --locked --release -p datacoop-storage -p datacoop-collective \
	-p datacoop-wallet >&2) || die "the storage service, collective server or wallet does not build (see above)"
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

# Encrypted storage and the collective server beside the chain: in the chain's base path,
# or a temporary directory.
if $persist && [ -n "$base" ]; then
	blobs="$base/storage"
	collective="$base/collective"
else
	scratch=$(mktemp -d -t datacoop-dev.XXXXXX)
	blobs="$scratch/storage"
	collective="$scratch/collective"
fi
mkdir -p "$blobs" "$collective"
bin="$CARGO_TARGET_DIR/release"
"$bin/datacoop-storage" --listen 127.0.0.1:9900 --store "$blobs" &
storage_pid=$!
# The demo DAO's keys, sealed with a key file beside them (a dev convenience: an operator keeps
# the key file elsewhere, or uses --passphrase-file).
export DATACOOP_COLLECTIVE_DIR="$collective" DATACOOP_COLLECTIVE_KEY_FILE="$collective/seal.key"
[ -e "$collective/daos/chat/secrets.json" ] \
	|| "$bin/datacoop-collective" init --name chat --rules "$repo/collective/examples/chat-rules.json" > /dev/null \
	|| die "datacoop-collective init failed"
keys=$("$bin/datacoop-collective" show --json)
# Registers the demo DAO once the chain answers (and has none yet), binds the demo key set
# to it (a key set serves the one DAO it is bound to), then becomes the collective server,
# which fetches blobs from the storage above only.
(
	for _ in $(seq 1 240); do
		rpc_call "$rpc_port" system_health '[]' > /dev/null 2>&1 && break
		sleep 0.5
	done
	export DATACOOP_URL="ws://127.0.0.1:$rpc_port" DATACOOP_STORAGE=http://127.0.0.1:9900
	dao=0
	if [ "$("$bin/datacoop" dao list --json | jq length)" = 0 ]; then
		dao=$("$bin/datacoop" --json --account //Alice dao create --name "Chat exports" \
			--token-name "Chat" --token-symbol CHAT \
			--collective-key "$(jq -r '.[0].encryption_key' <<< "$keys")" \
			--signer "$(jq -r '.[0].attestation_signer' <<< "$keys")" \
			--measurement "$(jq -r '.[0].measurement' <<< "$keys")" \
			--endpoint http://127.0.0.1:9950 --min-size 100 --max-size 100000000 \
			--min-score 100000 | jq -r .id) \
			&& say "demo DAO #$dao \"Chat exports\" registered: datacoop --account //Bob contribute FILE --dao $dao"
	fi
	if [ "$(jq -r '.[0].dao' <<< "$keys")" = null ]; then
		"$bin/datacoop-collective" bind --name chat --dao "$dao" > /dev/null \
			|| die "datacoop-collective bind --name chat --dao $dao failed"
	fi
	exec "$bin/datacoop-collective" run --listen 127.0.0.1:9950 --storage http://127.0.0.1:9900
) &
collective_pid=$!
cleanup() {
	kill "$collective_pid" "$storage_pid" 2> /dev/null || true
	wait "$collective_pid" "$storage_pid" 2> /dev/null || true
	$persist || rm -rf "$scratch"
}
trap cleanup EXIT
# Ctrl-C reaches the node, the storage service and this script: clean up once the node is down.
trap 'exit 130' INT TERM

cat >&2 <<MSG
==> starting the Datacoop dev chain
    JSON-RPC / WebSocket  ws://127.0.0.1:$rpc_port
    polkadot.js Apps      https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A$rpc_port
    encrypted storage     http://127.0.0.1:9900 (blobs in $blobs)
    collective server     http://127.0.0.1:9950 (keys and index in $collective)
    wallet                $CARGO_TARGET_DIR/release/datacoop (e.g. datacoop --account //Bob dao list)
    dev accounts          //Alice (validator, sudo), //Bob, //Charlie, ... 1,000,000 COOP each
    stop with Ctrl-C
MSG
"$node_bin" --dev --rpc-cors all "${args[@]}"
