#!/usr/bin/env bash
# The main job: installs what is missing, builds the node, the storage service, the
# collective server and the wallet, and runs a development chain (one validator, Alice; dev
# accounts funded; sudo Alice) with a fresh state each time, beside `datacoop-storage` on
# 127.0.0.1:9900 and `datacoop-collective` on 127.0.0.1:9950, and registers a demo DAO
# ("Chat exports", collective/examples/chat-rules.json) as //Alice once the chain runs; the
# collective server starts once its key set is bound to that DAO (one key set, one DAO).
# It says when the DAO is registered and the collective server answers, and prints the lines
# for the README's "Try it": the `export PATH=...` that puts scripts/datacoop (the wallet built
# here) on the PATH, then the wallet's commands. It also builds the web page
# (scripts/build-web.sh) and serves it on 127.0.0.1:9980 with a config.json naming the chain,
# storage and collective above; storage answers CORS for that origin.
#
#   scripts/dev.sh                 run `datacoop-node --dev --tmp`, storage and collective
#   scripts/dev.sh --base-path D   keep the chain in D across restarts (extra flags go to the
#                                  node); blobs are then kept in D/storage, the collective's
#                                  sealed keys and index in D/collective
#   scripts/dev.sh --no-build      use the release binaries and web/dist already built, build
#                                  nothing
#
# Ports, all on 127.0.0.1 (environment; each is checked free before anything starts, and a
# port in use ends the script with one line saying which):
#   DATACOOP_RPC_PORT         9944   the node's JSON-RPC / WebSocket (or pass --rpc-port)
#   DATACOOP_P2P_PORT         30333  the node's p2p (or pass --port)
#   DATACOOP_PROMETHEUS_PORT  9615   the node's Prometheus metrics (or pass --prometheus-port,
#                                    or --no-prometheus)
#   DATACOOP_STORAGE_PORT     9900   datacoop-storage
#   DATACOOP_COLLECTIVE_PORT  9950   datacoop-collective
#   DATACOOP_WEB_PORT         9980   the web page
# The wallet's defaults are 9944 and 9900: with other ports, the lines printed at the start
# include the `export DATACOOP_URL=... DATACOOP_STORAGE=...` that points it at them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

rpc_port=${DATACOOP_RPC_PORT:-9944}
p2p_port=${DATACOOP_P2P_PORT:-30333}
prometheus_port=${DATACOOP_PROMETHEUS_PORT:-9615}
storage_port=${DATACOOP_STORAGE_PORT:-9900}
collective_port=${DATACOOP_COLLECTIVE_PORT:-9950}
web_port=${DATACOOP_WEB_PORT:-9980}

# The flags for the node: ours, unless the same flag is among the script's arguments.
build=true
persist=false
base=""
args=()
set_rpc=true set_p2p=true set_prometheus=true
while [ $# -gt 0 ]; do
	case "$1" in
		--no-build) build=false; shift; continue ;;
		--rpc-port) set_rpc=false; rpc_port=${2:-$rpc_port} ;;
		--rpc-port=*) set_rpc=false; rpc_port=${1#--rpc-port=} ;;
		--port) set_p2p=false; p2p_port=${2:-$p2p_port} ;;
		--port=*) set_p2p=false; p2p_port=${1#--port=} ;;
		--prometheus-port) set_prometheus=false; prometheus_port=${2:-$prometheus_port} ;;
		--prometheus-port=*) set_prometheus=false; prometheus_port=${1#--prometheus-port=} ;;
		--no-prometheus) set_prometheus=false; prometheus_port="" ;;
		--base-path|-d) persist=true; base=${2:-} ;;
		--base-path=*) persist=true; base=${1#--base-path=} ;;
	esac
	args+=("$1"); shift
done
$set_rpc && args+=(--rpc-port "$rpc_port")
$set_p2p && args+=(--port "$p2p_port")
$set_prometheus && args+=(--prometheus-port "$prometheus_port")
$persist || args=(--tmp "${args[@]}")

# Every port this script's processes will listen on must be free: one line naming the first
# one in use, rather than a process failing among the node's logs.
check_ports() {
	local what port name var
	for what in "rpc:$rpc_port:the node's RPC:DATACOOP_RPC_PORT (or --rpc-port)" \
		"p2p:$p2p_port:the node's p2p:DATACOOP_P2P_PORT (or --port)" \
		"prometheus:$prometheus_port:the node's Prometheus:DATACOOP_PROMETHEUS_PORT (or --prometheus-port)" \
		"storage:$storage_port:datacoop-storage:DATACOOP_STORAGE_PORT" \
		"collective:$collective_port:datacoop-collective:DATACOOP_COLLECTIVE_PORT" \
		"web:$web_port:the web page:DATACOOP_WEB_PORT"; do
		IFS=: read -r _ port name var <<< "$what"
		[ -n "$port" ] || continue
		[[ $port =~ ^[0-9]{1,5}$ ]] && [ "$port" -lt 65536 ] || die "$var: '$port' is not a port number"
		! port_busy "$port" \
			|| die "port $port ($name) is in use on this machine: stop what holds it, or set $var to another port"
	done
}

ensure_commands jq curl python3
check_ports
bin="$CARGO_TARGET_DIR/release"
if $build; then
	# The same build as scripts/test.sh: after one, the other compiles nothing.
	node_bin=$(build_node)
	"$here/build-web.sh"
	check_ports # again: a long build leaves time for something else to take one
else
	node_bin=${DATACOOP_NODE:-$bin/datacoop-node}
	for b in "$node_bin" "$bin/datacoop-storage" "$bin/datacoop-collective" "$bin/datacoop"; do
		[ -x "$b" ] || die "$b is missing: run scripts/dev.sh without --no-build"
	done
	[ -e "$repo/web/dist/index.html" ] \
		|| die "web/dist is missing: run scripts/build-web.sh, or scripts/dev.sh without --no-build"
fi

# Encrypted storage and the collective server beside the chain: in the chain's base path,
# or a temporary directory.
run=$(mktemp -d -t datacoop-dev.XXXXXX)
if $persist && [ -n "$base" ]; then
	blobs="$base/storage"
	collective="$base/collective"
else
	blobs="$run/storage"
	collective="$run/collective"
fi
mkdir -p "$blobs" "$collective"
storage_url="http://127.0.0.1:$storage_port"
collective_url="http://127.0.0.1:$collective_port"
node_url="ws://127.0.0.1:$rpc_port"
web_url="http://127.0.0.1:$web_port"

storage_pid="" helper_pid="" web_pid=""
cleanup() {
	local pid
	for pid in $helper_pid $storage_pid $web_pid $(cat "$run/collective.pid" 2> /dev/null); do
		kill "$pid" 2> /dev/null || true
	done
	for pid in $helper_pid $storage_pid $web_pid; do wait "$pid" 2> /dev/null || true; done
	rm -rf "$run"
}
trap cleanup EXIT
# Ctrl-C reaches the node, the storage service and this script: clean up once the node is down.
trap 'exit 130' INT TERM

# Waits until URL gets any HTTP answer; fails if PID exits first or after SECONDS.
wait_http() {
	local url=$1 pid=$2 seconds=$3
	for _ in $(seq 1 $((seconds * 4))); do
		kill -0 "$pid" 2> /dev/null || return 1
		[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)" != 000 ] && return 0
		sleep 0.25
	done
	return 1
}

"$bin/datacoop-storage" --listen "127.0.0.1:$storage_port" --store "$blobs" \
	--cors-origin "$web_url" --cors-origin "http://localhost:$web_port" &
storage_pid=$!
wait_http "$storage_url/" "$storage_pid" 20 \
	|| die "datacoop-storage did not come up on 127.0.0.1:$storage_port (its error, if any, is above)"

# The web page: web/dist and the config.json that points it at this chain, storage and
# collective, served by Python's HTTP server (any static server would do) without caching.
mkdir -p "$run/web"
cp -R "$repo/web/dist/." "$run/web/"
jq -n --arg chain "$node_url" --arg storage "$storage_url" --arg collective "$collective_url" \
	'{chain: $chain, storage: $storage, collective: $collective, dev: true}' > "$run/web/config.json"
python3 -c '
import functools, http.server, sys
class Page(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript", ".json": "application/json"}
    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()
    def log_message(self, *args):
        pass
handler = functools.partial(Page, directory=sys.argv[2])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
' "$web_port" "$run/web" &
web_pid=$!
wait_http "$web_url/" "$web_pid" 20 || die "the web page's server did not come up on 127.0.0.1:$web_port (its error, if any, is above)"

# The demo DAO's keys, sealed with a key file beside them (a dev convenience: an operator keeps
# the key file elsewhere, or uses --passphrase-file).
export DATACOOP_COLLECTIVE_DIR="$collective" DATACOOP_COLLECTIVE_KEY_FILE="$collective/seal.key"
[ -e "$collective/daos/chat/secrets.json" ] \
	|| "$bin/datacoop-collective" init --name chat --rules "$repo/collective/examples/chat-rules.json" > /dev/null \
	|| die "datacoop-collective init failed (see above)"
keys=$("$bin/datacoop-collective" show --json) || die "datacoop-collective show failed (see above)"
key=$(jq -r '.[] | select(.name == "chat") | .encryption_key' <<< "$keys")
bound=$(jq -r '.[] | select(.name == "chat") | .dao' <<< "$keys")

# What to type in another terminal once the demo DAO is served.
try_it() {
	printf '==> ready: demo DAO #%s "Chat exports", served by datacoop-collective on %s\n' "$1" "$collective_url"
	printf '    in another terminal, from %s (README, "Try it"):\n' "$repo"
	# shellcheck disable=SC2016 # $PATH as typed, not expanded
	printf '      export PATH="%s:$PATH"   # scripts/datacoop runs the wallet built here\n' "$here"
	if [ "$rpc_port" != 9944 ] || [ "$storage_port" != 9900 ]; then
		printf '      export DATACOOP_URL=%s DATACOOP_STORAGE=%s\n' "$node_url" "$storage_url"
	fi
	printf '      datacoop --account //Bob contribute chat.json --dao %s\n' "$1"
	printf '      datacoop --account //Bob balance --dao %s\n' "$1"
	printf '      datacoop --account //Eve grant buy --dao %s --scope full --days 1\n' "$1"
	printf '      datacoop --account //Eve data export --dao %s -o export\n' "$1"
	printf '    or open the web page %s and contribute a file as //Bob\n' "$web_url"
}

# Gives the demo DAO a standing offer of its full records (1 COOP a day, up to 30 days), as
# its holders would: //Alice contributes a small chat export of her own, earns the DAO's
# tokens, proposes the offer, votes for it with them and closes the vote (the demo DAO votes
# for 5 blocks). Nothing is done if the DAO already has the offer.
demo_offer() {
	local dao=$1 file proposal
	[ "$("$bin/datacoop" offer list --dao "$dao" --json | jq 'map(select(.scope == "full")) | length')" = 0 ] || return 0
	say "giving demo DAO #$dao an offer: //Alice contributes, proposes it, votes, closes (about a minute)"
	file="$run/alice-chat.json"
	python3 -c 'import json, sys; print(json.dumps({"messages": [{"account": sys.argv[1], "text": f"demo message {i}", "at": 1700000000 + i} for i in range(60)]}))' \
		"$("$bin/datacoop" --json key inspect //Alice | jq -r .address)" > "$file"
	"$bin/datacoop" --json --account //Alice contribute "$file" --dao "$dao" --wait 90 | jq -e '.status == "accepted"' > /dev/null || return 1
	proposal=$("$bin/datacoop" --json --account //Alice proposal create --dao "$dao" \
		set-offer --scope full --price-per-day 1COOP --max-days 30 | jq -er .id) || return 1
	"$bin/datacoop" --json --account //Alice proposal vote "$proposal" aye > /dev/null || return 1
	for _ in $(seq 1 60); do
		[ "$("$bin/datacoop" --json proposal show "$proposal" | jq .voting)" = false ] && break
		sleep 2
	done
	"$bin/datacoop" --json --account //Dave proposal close "$proposal" | jq -e .executed > /dev/null
}

# Once the chain answers: registers the demo DAO as //Alice (unless the chain has one with
# these keys already, as with --base-path), binds the key set to it (a key set serves the one
# DAO it is bound to), then runs the collective server, which fetches blobs from the storage
# above only. Each failure is said, and leaves the chain and storage running.
(
	set +e
	collective_pid=""
	trap '[ -z "$collective_pid" ] || kill "$collective_pid" 2> /dev/null; exit 0' TERM
	export DATACOOP_URL="$node_url" DATACOOP_STORAGE="$storage_url"
	fail() { say "$*; the collective server is not started (the chain and storage run on)"; exit 1; }
	for _ in $(seq 1 240); do
		rpc_call "$rpc_port" system_health '[]' > /dev/null 2>&1 && break
		sleep 0.5
	done
	rpc_call "$rpc_port" system_health '[]' > /dev/null 2>&1 \
		|| fail "the chain did not answer on $node_url within 2 minutes: the demo DAO is not registered"
	dao=$bound
	if [ "$dao" = null ]; then
		daos=$("$bin/datacoop" dao list --json) || fail "listing the chain's DAOs failed (see above)"
		# By the signer too: an encryption key is not held to one DAO (the signer is).
		signer=$(jq -r '.[] | select(.name == "chat") | .attestation_signer' <<< "$keys")
		dao=$(jq -r --arg key "$key" --arg signer "$signer" \
			'[.[] | select(.collective.encryption_key == $key and .collective.attestation_signer == $signer)][0].id // empty' <<< "$daos")
	fi
	if [ -z "$dao" ]; then
		# The key set's consent to serve the DAO //Alice is about to create (the chain's next id).
		alice=5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY  # //Alice, who creates it: the proof holds for her creation only
		proof=$("$bin/datacoop-collective" --json prove --name chat --next --admin "$alice" --url "$node_url" | jq -er .key_proof) \
			|| fail "datacoop-collective prove failed (see above): the demo DAO is not registered"
		dao=$("$bin/datacoop" --json --account //Alice dao create --name "Chat exports" \
			--token-name "Chat" --token-symbol CHAT \
			--collective-key "$key" \
			--signer "$(jq -r '.[] | select(.name == "chat") | .attestation_signer' <<< "$keys")" \
			--measurement "$(jq -r '.[] | select(.name == "chat") | .measurement' <<< "$keys")" \
			--endpoint "$collective_url" --key-proof "$proof" --min-size 100 --max-size 100000000 \
			--min-score 100000 --voting-period 5 | jq -er .id) \
			|| fail "registering the demo DAO failed (the wallet's error is above)"
		say "demo DAO #$dao \"Chat exports\" registered by //Alice"
	fi
	if [ "$bound" = null ]; then
		"$bin/datacoop-collective" bind --name chat --dao "$dao" > /dev/null \
			|| fail "datacoop-collective bind --name chat --dao $dao failed (see above)"
	fi
	"$bin/datacoop-collective" run --listen "127.0.0.1:$collective_port" --storage "$storage_url" &
	collective_pid=$!
	echo "$collective_pid" > "$run/collective.pid"
	if ! wait_http "$collective_url/v1/health" "$collective_pid" 30; then
		say "datacoop-collective did not come up on 127.0.0.1:$collective_port (its error, if any, is above): contributions to DAO #$dao stay Pending (the chain and storage run on)"
		exit 1
	fi
	demo_offer "$dao" || say "the demo DAO has no offer: 'grant buy' will be refused (the wallet's error is above)"
	try_it "$dao" >&2
	wait "$collective_pid"
	status=$?
	# 130 and 143: stopped with the rest (Ctrl-C, or this script's exit)
	case $status in 0|130|143) ;; *) say "datacoop-collective exited (status $status): contributions to DAO #$dao stay Pending" ;; esac
) &
helper_pid=$!

wallet_env=""
if [ "$rpc_port" != 9944 ] || [ "$storage_port" != 9900 ]; then
	wallet_env="
    wallet settings       export DATACOOP_URL=$node_url DATACOOP_STORAGE=$storage_url"
fi
cat >&2 <<MSG
==> starting the Datacoop dev chain
    JSON-RPC / WebSocket  $node_url
    polkadot.js Apps      https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A$rpc_port
    encrypted storage     $storage_url (blobs in $blobs)
    collective server     $collective_url once the demo DAO is registered (keys and index in $collective)
    web page              $web_url
    wallet                export PATH="$here:\$PATH"   (then: datacoop --account //Bob dao list)$wallet_env
    dev accounts          //Alice (validator, sudo), //Bob, //Charlie, ... 1,000,000 COOP each
    stop with Ctrl-C
MSG
"$node_bin" --dev --rpc-cors all "${args[@]}"
