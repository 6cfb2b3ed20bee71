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

# Vite 8 needs Node.js 20.19 or newer.
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
	|| die "Node.js $(node --version) is too old for the page's build (Vite needs 20.19 or newer): install a newer Node.js"

# wasm-bindgen's command and library must be the same version: the one Cargo.lock pins. Run
# from where cargo installs it, whether or not that is on PATH.
wasm_bindgen=${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$repo/Cargo.lock")
[ -n "$version" ] || die "Cargo.lock has no wasm-bindgen"
if [ "$("$wasm_bindgen" --version 2> /dev/null | awk '{print $2}')" != "$version" ]; then
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
"$wasm_bindgen" --target web --out-dir "$repo/web/src/envelope/pkg" \
	"$CARGO_TARGET_DIR/wasm32-unknown-unknown/web/datacoop_envelope_wasm.wasm" \
	|| die "wasm-bindgen failed (see above)"

$page || exit 0
say "building the page (npm ci; vite build -> web/dist)"
cd "$repo/web"
# npm ci wipes node_modules and installs anew: only when the lock file changed since the
# last install (a copy of it is kept in node_modules).
if ! cmp -s package-lock.json node_modules/.datacoop-installed-lock 2> /dev/null; then
	npm ci --no-audit --no-fund --loglevel=error
	cp package-lock.json node_modules/.datacoop-installed-lock
fi
npm run build
