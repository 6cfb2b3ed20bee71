# Shared by the scripts: where things are built, and the set-up every script needs.
# Sourced, not run.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# One cargo target directory outside the clone, shared by every script, CI and the next
# session, so nothing is built twice.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/datacoop-target}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# JSON-RPC over HTTP to a node on loopback: rpc_call PORT METHOD PARAMS_JSON
rpc_call() {
	curl -sf -m 5 -H 'Content-Type: application/json' \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$2\",\"params\":$3}" \
		"http://127.0.0.1:$1"
}

# Installs what building the node needs, saying what it does; quiet when all is there.
ensure_toolchain() {
	local missing=()
	command -v protoc > /dev/null || missing+=(protobuf-compiler)
	command -v clang > /dev/null || missing+=(clang)
	[ -e /usr/include/clang-c/Index.h ] || ls /usr/lib/llvm-*/include/clang-c/Index.h > /dev/null 2>&1 \
		|| missing+=(libclang-dev)
	command -v jq > /dev/null || missing+=(jq)
	command -v curl > /dev/null || missing+=(curl)
	# The age tool: the envelope's interoperability tests encrypt and decrypt with it.
	command -v age > /dev/null || missing+=(age)
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]} (apt)"
		local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" > /dev/null
	fi
	# moto's S3 server: datacoop-storage's S3 backend is tested against it (storage/tests/s3.rs).
	if ! command -v moto_server > /dev/null; then
		say "installing moto[server], an S3 API for the storage tests (pip)"
		python3 -m pip install --quiet --disable-pip-version-check 'moto[server]' \
			|| die "pip could not install moto[server]"
		hash -r
		command -v moto_server > /dev/null || die "moto_server is not on PATH after pip install"
	fi
	command -v cargo > /dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
	local installed; installed=$(rustup target list --installed 2>/dev/null || true)
	if ! grep -q '^wasm32-unknown-unknown$' <<< "$installed"; then
		say "installing the wasm32-unknown-unknown Rust target (rustup)"
		rustup target add wasm32-unknown-unknown > /dev/null
	fi
	if ! grep -q '^wasm32v1-none$' <<< "$installed"; then
		say "installing the wasm32v1-none Rust target (rustup)"
		rustup target add wasm32v1-none > /dev/null
	fi
	if ! rustup component list --installed 2>/dev/null | grep -q '^rustfmt'; then
		say "installing rustfmt (rustup), which checks the code's layout"
		rustup component add rustfmt > /dev/null
	fi
	if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
		say "installing rust-src (rustup), which the runtime's wasm build needs"
		rustup component add rust-src > /dev/null
	fi
}

# Node.js and npm for the polkadot.js tests.
ensure_node_js() {
	if ! command -v npm > /dev/null; then
		say "installing nodejs and npm (apt)"
		local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm > /dev/null
	fi
}

# Builds the release node (a no-op when up to date) and prints its path.
build_node() {
	ensure_toolchain
	say "building datacoop-node (release; target dir $CARGO_TARGET_DIR)"
	# `|| die`: called as `$(build_node)`, where `set -e` does not reach, a failed build
	# would otherwise go on to print the path of an old binary.
	(cd "$repo" && cargo build --locked --release -p datacoop-node >&2) \
		|| die "the node does not build (see above)"
	echo "$CARGO_TARGET_DIR/release/datacoop-node"
}

# The node binary: $DATACOOP_NODE if set, else the release build, built or brought up to date
# (a no-op when it is; it also replaces the runtime-benchmarks binary scripts/benchmark.sh
# leaves there, which cannot run the normal runtime).
ensure_node_binary() {
	if [ -n "${DATACOOP_NODE:-}" ]; then
		[ -x "$DATACOOP_NODE" ] || die "DATACOOP_NODE=$DATACOOP_NODE is not an executable"
		echo "$DATACOOP_NODE"
	else
		build_node
	fi
}
