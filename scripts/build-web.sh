#!/usr/bin/env bash
# Builds the web page (web/) into web/dist: the contribution envelope compiled to
# WebAssembly (envelope/wasm, with the `wasm-bindgen` command at the version in Cargo.lock,
# installed by cargo when missing), then the TypeScript page bundled by Vite. Installs what is
# missing. scripts/dev.sh serves the result; scripts/test.sh tests it in Chromium.
#
#   scripts/build-web.sh            build envelope and page
#   scripts/build-web.sh --wasm     only the envelope, into web/src/envelope/pkg
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

page=true
[ "${1:-}" = --wasm ] && page=false

ensure_rust
ensure_node_js
rustup_add target wasm32-unknown-unknown "which the web page's envelope needs"

# wasm-bindgen's command and library must be the same version: the one Cargo.lock pins.
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$repo/Cargo.lock")
[ -n "$version" ] || die "Cargo.lock has no wasm-bindgen"
if [ "$(wasm-bindgen --version 2> /dev/null | awk '{print $2}')" != "$version" ]; then
	say "installing wasm-bindgen-cli $version (cargo install; a few minutes, once)"
	# With its own lock file where the registry has every crate it names; where one is missing
	# (a registry mirror without a yanked or too-new release), with the newest that fit.
	cargo install --quiet --locked wasm-bindgen-cli --version "$version" 2> /dev/null \
		|| cargo install --quiet wasm-bindgen-cli --version "$version" \
		|| die "cargo install wasm-bindgen-cli --version $version failed (see above)"
fi

say "building the envelope for the web (wasm32-unknown-unknown, profile web)"
(cd "$repo" && cargo build --locked --profile web -p datacoop-envelope-wasm --target wasm32-unknown-unknown) \
	|| die "the envelope does not build for WebAssembly (see above)"
wasm-bindgen --target web --out-dir "$repo/web/src/envelope/pkg" \
	"$CARGO_TARGET_DIR/wasm32-unknown-unknown/web/datacoop_envelope_wasm.wasm" \
	|| die "wasm-bindgen failed (see above)"

$page || exit 0
say "building the page (npm ci; vite build -> web/dist)"
cd "$repo/web"
npm ci --no-audit --no-fund --loglevel=error
npm run build
