#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, checks the layout
# (rustfmt.toml), runs clippy, builds the workspace (release), checks the committed metadata, then runs the Rust
# tests (unit and end-to-end against the real node binary) and the polkadot.js tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

# What the tests use: what building the node needs, rustfmt;
# jq, curl and python3 (refresh-metadata.sh); the age tool (the envelope's interoperability
# tests); moto's S3 server, in a venv, for storage/tests/it/s3.rs (exports MOTO_SERVER); Node.js;
# Debian's Chromium for the web page's test.
ensure_node_build_deps
ensure_rustfmt
ensure_clippy
ensure_commands jq curl python3
ensure_age
ensure_moto
ensure_node_js
ensure_chromium

say "cargo fmt --check (rustfmt.toml)"
(cd "$repo" && cargo fmt --all -- --check) || die "the code is not laid out as rustfmt.toml says: run cargo fmt --all"

# Clippy checks in the dev profile (target/debug), apart from the release build: with the
# runtime's wasm build skipped there, sharing the release profile would make the next release
# build rebuild the runtime. Its cost on a cold machine is in docs/testing.md.
say "cargo clippy (every crate and target; warnings are errors)"
(cd "$repo" && SKIP_WASM_BUILD=1 cargo clippy --locked --workspace --all-targets -- -D warnings) \
	|| die "clippy found problems (see above): fix them, or say why in an #[allow] where they are"

export DATACOOP_NODE
DATACOOP_NODE=$(build_node)

say "checking artifacts/datacoop.scale against the runtime"
"$here/refresh-metadata.sh" --check

# --release: the tests share the node's compiled dependencies instead of building all of
# polkadot-sdk a second time in the debug profile.
say "cargo test (unit + end-to-end)"
(cd "$repo" && cargo test --locked --release --workspace)

say "polkadot.js end-to-end tests"
cd "$repo/e2e/js"
npm ci --no-audit --no-fund --loglevel=error
npm test

# The page's envelope in WebAssembly (opened by age and the wallet), then the page itself in
# headless Chromium against the dev stack (scripts/dev.sh --no-build on free ports).
say "web page: build (scripts/build-web.sh), then its tests in Node.js and Chromium"
"$here/build-web.sh"
cd "$repo/web"
npm test
