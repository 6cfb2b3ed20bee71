#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, checks the layout
# (rustfmt.toml), builds the release node, checks the committed metadata, then runs the Rust
# tests (unit and end-to-end against the real node binary) and the polkadot.js tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

ensure_toolchain
ensure_node_js

say "cargo fmt --check (rustfmt.toml)"
(cd "$repo" && cargo fmt --all -- --check) || die "the code is not laid out as rustfmt.toml says: run cargo fmt --all"

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
