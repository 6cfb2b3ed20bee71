#!/usr/bin/env bash
# A local four-validator Datacoop testnet (`--chain local`: Alice, Bob, Charlie, Dave) on
# loopback ports, each validator with its own database.
#
#   scripts/local-testnet.sh start            build if needed, start all four, wait for RPC
#   scripts/local-testnet.sh stop             stop all four (SIGTERM)
#   scripts/local-testnet.sh status           best and finalized block of each
#   scripts/local-testnet.sh kill NAME        SIGKILL one validator (a crash)
#   scripts/local-testnet.sh start-node NAME  (re)start one validator on its own database
#   scripts/local-testnet.sh purge            stop and delete every database
#
# Environment: DATACOOP_TESTNET_DIR (default /tmp/datacoop-testnet: databases, logs, pids),
# DATACOOP_TESTNET_RPC_PORT (default 9944: alice 9944, bob 9945, ...),
# DATACOOP_TESTNET_P2P_PORT (default 30333), DATACOOP_NODE (the binary; default: the
# release build in $CARGO_TARGET_DIR, built if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

dir=${DATACOOP_TESTNET_DIR:-/tmp/datacoop-testnet}
rpc_base=${DATACOOP_TESTNET_RPC_PORT:-9944}
p2p_base=${DATACOOP_TESTNET_P2P_PORT:-30333}
names=(alice bob charlie dave)

index_of() {
	local i
	for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && { echo "$i"; return; }; done
	die "unknown validator '$1' (one of: ${names[*]})"
}

# Fixed node keys, so every validator knows Alice's peer id as its bootnode.
node_key() { printf '%064x' "$(( $1 + 1 ))"; }

peer_id() {
	local keyfile="$dir/$1.node-key"
	node_key "$(index_of "$1")" > "$keyfile"
	"$node_bin" key inspect-node-key --file "$keyfile"
}

rpc_port() { echo $(( rpc_base + $(index_of "$1") )); }

pid_of() { [ -f "$dir/$1.pid" ] && cat "$dir/$1.pid" || true; }

running() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

start_node() {
	local name=$1 i; i=$(index_of "$name")
	running "$name" && { say "$name is already running (pid $(pid_of "$name"))"; return; }
	mkdir -p "$dir"
	local bootnode
	bootnode="/ip4/127.0.0.1/tcp/$p2p_base/p2p/$(peer_id alice)"
	"$node_bin" --chain local --"$name" \
		--base-path "$dir/$name" \
		--node-key "$(node_key "$i")" \
		--port $(( p2p_base + i )) --rpc-port "$(rpc_port "$name")" \
		--bootnodes "$bootnode" \
		--no-prometheus --no-telemetry --no-mdns \
		>> "$dir/$name.log" 2>&1 &
	echo $! > "$dir/$name.pid"
	wait_for_rpc "$name"
	say "$name: pid $(pid_of "$name"), ws://127.0.0.1:$(rpc_port "$name"), log $dir/$name.log"
}

wait_for_rpc() {
	local name=$1 port; port=$(rpc_port "$1")
	for _ in $(seq 1 240); do
		running "$name" || die "$name exited; see $dir/$name.log"
		rpc_call "$port" system_health '[]' > /dev/null 2>&1 && return 0
		sleep 0.25
	done
	die "$name's RPC did not answer on port $port; see $dir/$name.log"
}

stop_node() {
	local name=$1 signal=${2:-TERM} pid; pid=$(pid_of "$name")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -s "$signal" "$pid"
		for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		say "$name stopped (SIG$signal)"
	fi
	rm -f "$dir/$name.pid"
}

# The number of a block (the best one unless a hash is given), from the node on port $1;
# fails if its RPC does not answer.
block_number() {
	local params='[]'
	[ -z "${2:-}" ] || params="[\"$2\"]"
	rpc_call "$1" chain_getHeader "$params" | jq -er '.result.number'
}

# Each validator's best and finalized block, or why there are none; never stops at a node that
# is down, or running with its RPC not answering. Asks each RPC port whatever started the node.
status() {
	local name port pid best fin hash
	for name in "${names[@]}"; do
		port=$(rpc_port "$name")
		pid=$(pid_of "$name")
		if best=$(block_number "$port") \
			&& hash=$(rpc_call "$port" chain_getFinalizedHead '[]' | jq -er '.result') \
			&& fin=$(block_number "$port" "$hash"); then
			printf '%-8s best #%d finalized #%d  ws://127.0.0.1:%s\n' "$name" "$best" "$fin" "$port"
		elif running "$name"; then
			printf '%-8s running (pid %s) but its RPC does not answer on port %s; see %s\n' \
				"$name" "$pid" "$port" "$dir/$name.log"
		else
			printf '%-8s not running\n' "$name"
		fi
	done
}

cmd=${1:-}
case "$cmd" in
	start)
		ensure_commands curl
		node_bin=$(ensure_node_binary)
		for name in "${names[@]}"; do start_node "$name"; done
		say "local testnet up: polkadot.js at ws://127.0.0.1:$rpc_base; 'scripts/local-testnet.sh status' to watch it" ;;
	start-node)
		[ -n "${2:-}" ] || die "usage: $0 start-node NAME"
		ensure_commands curl
		node_bin=$(ensure_node_binary); start_node "$2" ;;
	kill)
		[ -n "${2:-}" ] || die "usage: $0 kill NAME"
		index_of "$2" > /dev/null; stop_node "$2" KILL ;;
	stop)
		for name in "${names[@]}"; do stop_node "$name"; done ;;
	status) ensure_commands curl jq; status ;;
	purge)
		for name in "${names[@]}"; do stop_node "$name"; done
		rm -rf "$dir"; say "deleted $dir" ;;
	*) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; [ -z "$cmd" ] || exit 2 ;;
esac
