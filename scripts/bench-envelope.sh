#!/usr/bin/env bash
# The envelope's speed and memory, beside Go `age` on the same files (README, "Envelope").
#
#   scripts/bench-envelope.sh            1 GiB for speed, 2 GiB for peak memory
#   ENVELOPE_BENCH_MIB=256 scripts/bench-envelope.sh
#
# 1. criterion: encrypt / decrypt throughput on one core and all cores, and raw
#    ChaCha20-Poly1305 over the same bytes (the one-core ceiling), in memory.
# 2. Whole programs on files (the `seal` example and `age`, page cache warm, output to
#    /dev/null): wall time, best of three, and peak resident memory (/usr/bin/time).
# 3. Side by side with `age`: ENVELOPE_BENCH_ROUNDS (11) alternating runs each way, so a
#    slow moment of the machine hits both alike; median, fastest and slowest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
ensure_rust
ensure_age
ensure_commands /usr/bin/time:time
mib=${ENVELOPE_BENCH_MIB:-1024}

cd "$repo"
say "criterion: throughput on $mib MiB"
ENVELOPE_BENCH_MIB=$mib cargo bench --locked -p datacoop-envelope --bench throughput -- --noplot

say "building the seal example"
cargo build --locked --release -p datacoop-envelope --example seal >&2
seal="$CARGO_TARGET_DIR/release/examples/seal"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c $((mib << 20)) /dev/urandom > "$work/plain"
head -c $((2 * mib << 20)) /dev/urandom > "$work/plain2"
"$seal" keygen > "$work/key.txt" 2> "$work/recipient"
recipient=$(cat "$work/recipient")

# best of three runs: "seconds peak-KiB"
measure() {
	local best="" line
	for _ in 1 2 3; do
		line=$( { /usr/bin/time -f '%e %M' "$@" > /dev/null; } 2>&1 | tail -1)
		if [ -z "$best" ] || awk -v a="${line% *}" -v b="${best% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
	done
	echo "$best"
}
report() {
	local what=$1 file_mib=$2; shift 2
	local r; r=$(measure "$@")
	awk -v w="$what" -v s="${r% *}" -v m="${r#* }" -v mib="$file_mib" \
		'BEGIN{printf "%-40s %6.2f s  %7.0f MiB/s  peak %6.1f MiB\n", w, s, mib/s, m/1024}'
}

"$seal" encrypt "$recipient" < "$work/plain" > "$work/ours.age"
age -r "$recipient" -o "$work/theirs.age" "$work/plain"
"$seal" encrypt "$recipient" < "$work/plain2" > "$work/ours2.age"

say "whole programs on $mib MiB (peak memory on $((2 * mib)) MiB)"
report "seal encrypt, all cores" "$mib" sh -c "'$seal' encrypt '$recipient' < '$work/plain'"
report "seal encrypt, one core" "$mib" env SEAL_ONE_CORE=1 sh -c "'$seal' encrypt '$recipient' < '$work/plain'"
report "age encrypt" "$mib" age -r "$recipient" "$work/plain"
report "seal decrypt, all cores" "$mib" sh -c "'$seal' decrypt '$work/key.txt' < '$work/ours.age'"
report "seal decrypt, one core" "$mib" env SEAL_ONE_CORE=1 sh -c "'$seal' decrypt '$work/key.txt' < '$work/ours.age'"
report "age decrypt" "$mib" age -d -i "$work/key.txt" "$work/theirs.age"
report "seal encrypt $((2 * mib)) MiB, all cores" "$((2 * mib))" sh -c "'$seal' encrypt '$recipient' < '$work/plain2'"
report "seal decrypt $((2 * mib)) MiB, all cores" "$((2 * mib))" sh -c "'$seal' decrypt '$work/key.txt' < '$work/ours2.age'"

# alternating runs of two commands: "median min max" of each
side_by_side() {
	local what=$1 ours=$2 theirs=$3 rounds=${ENVELOPE_BENCH_ROUNDS:-11}
	: > "$work/ours.t"
	: > "$work/theirs.t"
	for _ in $(seq "$rounds"); do
		/usr/bin/time -f %e -a -o "$work/ours.t" sh -c "$ours" > /dev/null
		/usr/bin/time -f %e -a -o "$work/theirs.t" sh -c "$theirs" > /dev/null
	done
	for who in ours theirs; do
		sort -n "$work/$who.t" | awk -v w="$what, $who" -v mib="$mib" '{t[NR]=$1}
			END{m=t[int((NR+1)/2)]; printf "%-40s median %5.3f s (%5.3f to %5.3f)  %5.0f MiB/s\n", w, m, t[1], t[NR], mib/m}'
	done
}
say "side by side with age, ${ENVELOPE_BENCH_ROUNDS:-11} alternating runs on $mib MiB"
side_by_side "encrypt" "'$seal' encrypt '$recipient' < '$work/plain'" "age -r '$recipient' '$work/plain'"
side_by_side "decrypt" "'$seal' decrypt '$work/key.txt' < '$work/ours.age'" "age -d -i '$work/key.txt' '$work/theirs.age'"
