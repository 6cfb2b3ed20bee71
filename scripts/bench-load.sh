#!/usr/bin/env bash
# The contribution path under load (issue 14 item 6; figures in docs/benchmarks.md): starts a
# dev chain (`datacoop-node --dev --tmp`), `datacoop-storage` and a real `datacoop-collective`
# serving a DAO registered by //Alice, all on 127.0.0.1 ports chosen here, runs the load
# generator (e2e/src/bin/load.rs) and prints its figures, then stops everything it started.
#
#   scripts/bench-load.sh                          10,000 junk contributions; 3,000 submits
#                                                  beside 3,000 transfers
#   scripts/bench-load.sh --junk 1000 --rate-count 500      a shorter run
#   scripts/bench-load.sh --no-build ...           use the release binaries already built
#
# 1. Flood fairness: accounts //load/flood/{i}, funded by //Alice, submit --junk contributions
#    to a DAO of their own whose blobs are in no storage (every validator's storage check
#    fails and backs off); then the `datacoop` wallet (//Bob) contributes a real export to the
#    served DAO, and the blocks from its submission's inclusion to its Accepted event are
#    counted (aim: 10). The same before the flood gives the baseline.
# 2. Inclusion rate: --rate-count signed submits and as many transfers, pre-signed from
#    distinct accounts, sent at once; included per block and per second, by kind (aim: submits
#    at least 0.9x the transfers' rate).
# Every other flag goes to the load generator (`load --help`). Logs stay in the scratch
# directory printed at the start if the run fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

build=true
load_args=()
for arg in "$@"; do
	case "$arg" in
		--no-build) build=false ;;
		*) load_args+=("$arg") ;;
	esac
done

bin="$CARGO_TARGET_DIR/release"
if $build; then
	# The workspace build every script shares (the load generator is one of its binaries).
	build_workspace
	node_bin=${DATACOOP_NODE:-$bin/datacoop-node}
else
	node_bin=${DATACOOP_NODE:-$bin/datacoop-node}
fi
for b in "$node_bin" "$bin/datacoop-storage" "$bin/datacoop-collective" "$bin/datacoop" "$bin/load"; do
	[ -x "$b" ] || die "$b is missing: run without --no-build"
done
ensure_commands jq curl python3

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
rpc_port=$(free_port)
p2p_port=$(free_port)
storage_port=$(free_port)
collective_port=$(free_port)
scratch=$(mktemp -d -t datacoop-bench-load.XXXXXX)
say "scratch directory (logs): $scratch"

pids=()
status=1
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
	if [ "$status" = 0 ]; then rm -rf "$scratch"; else say "logs kept in $scratch"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until `curl URL` gets any HTTP answer (or the process PID died).
wait_http() {
	local url=$1 pid=$2 what=$3
	for _ in $(seq 1 240); do
		kill -0 "$pid" 2> /dev/null || die "$what exited (log in $scratch)"
		[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)" != 000 ] && return 0
		sleep 0.5
	done
	die "$what does not answer at $url"
}

say "starting datacoop-node --dev --tmp (RPC 127.0.0.1:$rpc_port)"
"$node_bin" --dev --tmp --rpc-port "$rpc_port" \
	--listen-addr "/ip4/127.0.0.1/tcp/$p2p_port" --no-prometheus --no-telemetry --no-mdns \
	2> "$scratch/node.log" &
pids+=($!)
node_pid=$!
for _ in $(seq 1 240); do
	kill -0 "$node_pid" 2> /dev/null || die "datacoop-node exited (log in $scratch/node.log)"
	rpc_call "$rpc_port" system_health '[]' > /dev/null 2>&1 && break
	sleep 0.5
done
rpc_call "$rpc_port" system_health '[]' > /dev/null || die "the node's RPC does not answer"
url="ws://127.0.0.1:$rpc_port"

say "starting datacoop-storage (127.0.0.1:$storage_port)"
"$bin/datacoop-storage" --listen "127.0.0.1:$storage_port" --store "$scratch/blobs" \
	2> "$scratch/storage.log" &
pids+=($!)
wait_http "http://127.0.0.1:$storage_port/" "$!" datacoop-storage
storage="http://127.0.0.1:$storage_port"

# The served DAO: keys made by the collective server, registered by //Alice with the wallet,
# bound to that DAO, then served (as scripts/dev.sh does).
export DATACOOP_COLLECTIVE_DIR="$scratch/collective" DATACOOP_COLLECTIVE_KEY_FILE="$scratch/collective/seal.key"
export DATACOOP_KEYSTORE="$scratch/wallet/keys" XDG_DATA_HOME="$scratch/wallet/data"
mkdir -p "$DATACOOP_COLLECTIVE_DIR"
"$bin/datacoop-collective" init --name bench --rules "$repo/collective/examples/chat-rules.json" > /dev/null \
	|| die "datacoop-collective init failed"
keys=$("$bin/datacoop-collective" show --json)
alice=5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY  # //Alice, who creates it: the proof holds for her creation only
proof=$("$bin/datacoop-collective" --json prove --name bench --next --admin "$alice" --url "$url" | jq -er .key_proof) \
	|| die "datacoop-collective prove failed"
dao=$("$bin/datacoop" --url "$url" --storage "$storage" --json --account //Alice dao create \
	--name "Bench chat exports" --token-name "Bench chat" --token-symbol BCHAT \
	--collective-key "$(jq -r '.[0].encryption_key' <<< "$keys")" \
	--signer "$(jq -r '.[0].attestation_signer' <<< "$keys")" \
	--measurement "$(jq -r '.[0].measurement' <<< "$keys")" \
	--endpoint "http://127.0.0.1:$collective_port" --key-proof "$proof" --min-size 100 --max-size 100000000 \
	--min-score 100000 | jq -r .id) || die "registering the served DAO failed"
"$bin/datacoop-collective" bind --name bench --dao "$dao" --url "$url" > /dev/null \
	|| die "datacoop-collective bind --name bench --dao $dao failed"
say "starting datacoop-collective for DAO #$dao (127.0.0.1:$collective_port)"
"$bin/datacoop-collective" run --url "$url" --listen "127.0.0.1:$collective_port" \
	--storage "$storage" 2> "$scratch/collective.log" &
pids+=($!)
wait_http "http://127.0.0.1:$collective_port/v1/health" "$!" datacoop-collective

say "running the load generator"
started=$(date +%s)
timeout 7200 "$bin/load" --url "$url" --storage "$storage" --honest-dao "$dao" \
	--wallet "$bin/datacoop" --work-dir "$scratch/load" \
	--command "scripts/bench-load.sh $*" "${load_args[@]}"
status=$?
say "done in $(($(date +%s) - started)) s"
