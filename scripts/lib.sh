# shellcheck shell=bash
# Shared by the scripts: where things are built, and what each script installs.
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

# port_busy PORT: whether a process on this machine listens on TCP PORT (on any address).
# A bind with SO_REUSEADDR, as the servers do, so a port left in TIME_WAIT counts as free.
port_busy() {
	if command -v python3 > /dev/null; then
		! python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))' "$1" 2> /dev/null
	else
		(exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null
	fi
}

# What the scripts install, each only what it uses, saying what it does and quiet when all is
# there: apt packages on Debian and Ubuntu, rustup targets and components, moto in a venv.

# apt_install PKG...: installs Debian/Ubuntu packages (with sudo unless root).
apt_install() {
	say "installing $* (apt)"
	command -v apt-get > /dev/null || die "apt-get not found: install $* yourself"
	local sudo="" out; [ "$(id -u)" = 0 ] || sudo=sudo
	# apt's output only if it fails
	out=$($sudo apt-get update -qq 2>&1 \
		&& DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" 2>&1) \
		|| { printf '%s\n' "$out" >&2; die "apt-get could not install $*"; }
}

# ensure_commands CMD[:PACKAGE]...: installs the apt package of each missing command (the
# package is the command's name unless given).
ensure_commands() {
	local spec missing=()
	for spec in "$@"; do
		command -v "${spec%%:*}" > /dev/null || missing+=("${spec#*:}")
	done
	[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# Rust, from rustup: the toolchain rust-toolchain.toml pins, and a C compiler and linker.
# rustup installs the pinned release, with the targets and components the file lists, where it
# can download it; where it cannot (this workplace's machines have their one toolchain,
# `stable`, and fetch no other), the same release installed under another name stands in.
ensure_rust() {
	command -v cargo > /dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
	ensure_commands cc:build-essential
	command -v rustup > /dev/null || return 0
	local channel dir host home=${RUSTUP_HOME:-$HOME/.rustup}
	channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$repo/rust-toolchain.toml" 2> /dev/null)
	[ -n "$channel" ] || return 0
	rustup toolchain list | grep -q "^$channel-" && return 0
	# rustup refuses `toolchain link` for a release's name, so the stand-in is a symlink in its
	# toolchains directory, which rustup takes as that release installed.
	for dir in "$home"/toolchains/*; do
		[ -x "$dir/bin/rustc" ] && [ ! -L "$dir" ] || continue
		"$dir/bin/rustc" -vV 2> /dev/null | grep -qx "release: $channel" || continue
		host=$("$dir/bin/rustc" -vV | sed -n 's/^host: //p')
		say "Rust $channel, which rust-toolchain.toml pins, is installed as $(basename "$dir"): naming it $channel-$host too"
		ln -s "$dir" "$home/toolchains/$channel-$host" || die "could not link $home/toolchains/$channel-$host"
		return 0
	done
	say "installing Rust $channel, which rust-toolchain.toml pins (rustup)"
	(cd "$repo" && rustup toolchain install "$channel" > /dev/null) \
		|| die "rustup could not install Rust $channel, which rust-toolchain.toml pins"
}

# rustup_add target|component NAME WHY: adds it to the clone's toolchain if it is missing.
rustup_add() {
	command -v rustup > /dev/null || return 0
	(cd "$repo" && rustup "$1" list --installed 2> /dev/null | grep -q "^$2") && return 0
	say "installing the $2 Rust $1 (rustup), $3"
	(cd "$repo" && rustup "$1" add "$2" > /dev/null) || die "rustup could not add the $2 $1"
}

# What building the node needs beyond Rust: protoc and libclang, which polkadot-sdk's
# dependencies build with, and the runtime's wasm targets and rust-src.
ensure_node_build_deps() {
	ensure_rust
	local missing=()
	command -v protoc > /dev/null || missing+=(protobuf-compiler)
	command -v clang > /dev/null || missing+=(clang)
	[ -e /usr/include/clang-c/Index.h ] || ls /usr/lib/llvm-*/include/clang-c/Index.h > /dev/null 2>&1 \
		|| missing+=(libclang-dev)
	[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
	rustup_add target wasm32-unknown-unknown "which the runtime's wasm build needs"
	rustup_add target wasm32v1-none "which the runtime's wasm build needs"
	rustup_add component rust-src "which the runtime's wasm build needs"
}

# rustfmt, which checks the code's layout (scripts/test.sh).
ensure_rustfmt() {
	ensure_rust
	rustup_add component rustfmt "which checks the code's layout"
}

ensure_clippy() {
	ensure_rust
	rustup_add component clippy "the linter scripts/test.sh runs"
}

# The age tool: the envelope's interoperability tests and benchmark run it.
ensure_age() {
	ensure_commands age age-keygen:age
}

# moto's S3 server, which datacoop-storage's S3 backend is tested against
# (storage/tests/it/s3.rs runs $MOTO_SERVER, else moto_server from PATH). Installed with pip into
# a virtual environment, $DATACOOP_VENV (default $HOME/.cache/datacoop-venv): a plain
# `pip install` is refused by the system Python of current Debian and Ubuntu (PEP 668).
# Exports MOTO_SERVER, the absolute path of the one found or installed.
ensure_moto() {
	local venv=${DATACOOP_VENV:-$HOME/.cache/datacoop-venv}
	if [ -n "${MOTO_SERVER:-}" ]; then
		command -v "$MOTO_SERVER" > /dev/null || die "MOTO_SERVER=$MOTO_SERVER is not an executable"
	elif [ -x "$venv/bin/moto_server" ]; then
		MOTO_SERVER=$venv/bin/moto_server
	elif command -v moto_server > /dev/null; then
		MOTO_SERVER=$(command -v moto_server)
	else
		ensure_commands python3
		say "installing moto[server], an S3 API for the storage tests (pip, in the venv $venv)"
		# Debian and Ubuntu ship what `venv` needs (ensurepip) in a package of its own.
		if [ ! -x "$venv/bin/pip" ] && ! python3 -m venv --clear "$venv" > /dev/null 2>&1; then
			apt_install python3-venv
			python3 -m venv --clear "$venv" || die "python3 -m venv $venv failed"
		fi
		"$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]' \
			|| die "pip could not install moto[server] into $venv"
		[ -x "$venv/bin/moto_server" ] || die "no moto_server in $venv/bin after pip install"
		MOTO_SERVER=$venv/bin/moto_server
	fi
	export MOTO_SERVER
}

# Node.js and npm for the polkadot.js tests.
ensure_node_js() {
	ensure_commands node:nodejs npm
}

# Debian's Chromium, which the web page's test drives headless (playwright-core with the
# system browser: no browser download).
ensure_chromium() {
	ensure_commands chromium
}

# The one cargo build every script runs: the whole workspace, binaries and test binaries, in
# release. Cargo picks dependency features from the packages a command builds, so `-p X`
# builds would compile hundreds of crates again with other features; with one command the test
# run, dev.sh, the metadata check and the wallet wrapper all reuse one build (a no-op when up to
# date).
build_workspace() {
	ensure_node_build_deps
	say "building the workspace (release; target dir $CARGO_TARGET_DIR)"
	# `|| die`: called inside `$(...)`, where `set -e` does not reach, a failed build would
	# otherwise go on to print the path of an old binary.
	(cd "$repo" && cargo build --locked --release --workspace --bins --tests >&2) \
		|| die "the workspace does not build (see above; if datacoop-client fails, the runtime's \
metadata changed: build the node alone, \`cargo build --release -p datacoop-node\`, then run \
DATACOOP_NODE=\$CARGO_TARGET_DIR/release/datacoop-node scripts/refresh-metadata.sh)"
}

# The release binary NAME of the workspace, built or brought up to date; prints its path.
workspace_binary() {
	build_workspace
	echo "$CARGO_TARGET_DIR/release/$1"
}

# Builds the release node (with the rest of the workspace) and prints its path.
build_node() {
	workspace_binary datacoop-node
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
