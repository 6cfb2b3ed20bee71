#!/usr/bin/env bash
# Fuzzes the envelope's parsers for a bounded time (README, "Tests"): the header parser and
# stanza unwrapping on any bytes (`header`), the STREAM decryptor behind a valid header
# (`payload`), and encrypt/decrypt round trips (`round_trip`).
#
#   scripts/fuzz.sh                 60 s per target
#   FUZZ_SECONDS=600 scripts/fuzz.sh header
#
# Needs the nightly toolchain (cargo fuzz builds with sanitizers) and cargo-fuzz; installs
# cargo-fuzz if it is missing. Corpora stay in $CARGO_TARGET_DIR/fuzz-corpus between runs;
# a crash is saved under envelope/fuzz/artifacts/ and ends the script with an error.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(header payload round_trip)

rustup toolchain list | grep -q '^nightly' || { say "installing the nightly toolchain (rustup)"; rustup toolchain install nightly --profile minimal > /dev/null; }
if ! cargo +nightly fuzz --version > /dev/null 2>&1; then
	say "installing cargo-fuzz (cargo install)"
	cargo install --locked cargo-fuzz > /dev/null
fi
ensure_age # age-keygen and age make the header target's seeds

corpus_root="$CARGO_TARGET_DIR/fuzz-corpus"
# Seeds for the header target: real age files, one and two recipients, empty and multi-chunk.
if [ ! -d "$corpus_root/header" ]; then
	mkdir -p "$corpus_root/header"
	work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
	age-keygen -o "$work/k1" 2> /dev/null; age-keygen -o "$work/k2" 2> /dev/null
	r1=$(age-keygen -y "$work/k1"); r2=$(age-keygen -y "$work/k2")
	printf '' | age -r "$r1" > "$corpus_root/header/empty.age"
	printf 'hello' | age -r "$r1" -r "$r2" > "$corpus_root/header/two.age"
	head -c 70000 /dev/urandom | age -r "$r1" > "$corpus_root/header/chunks.age"
fi

cd "$repo/envelope"
for t in "${targets[@]}"; do
	mkdir -p "$corpus_root/$t"
	say "fuzzing $t for ${seconds}s"
	log="$CARGO_TARGET_DIR/fuzz-$t.log"
	status=0
	cargo +nightly fuzz run --target-dir "$CARGO_TARGET_DIR/fuzz" "$t" "$corpus_root/$t" -- \
		-max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144 > "$log" 2>&1 || status=$?
	grep -E '^(#[0-9]+\s+DONE|Done [0-9]+ runs|SUMMARY|Test unit written)' "$log" || true
	[ "$status" = 0 ] || die "fuzz target $t failed (exit $status): see $log and envelope/fuzz/artifacts/$t/"
done
say "no crash in ${targets[*]} (${seconds}s each)"
