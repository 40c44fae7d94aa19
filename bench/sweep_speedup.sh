#!/usr/bin/env bash
# The -j2 / -j1 speed-up of `vcpusim sweep` (goal: at least 1.7x on 2 cores). Runs SPEC
# (default bench/sweep-bench.json) alternately with -j1 and -j2, ROUNDS times each (default 2),
# each into a fresh directory, and reports the best wall time of each and their ratio; checks
# that every runs.csv is the same bytes. Usage: bench/sweep_speedup.sh [SPEC] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
spec=${1:-$here/bench/sweep-bench.json}
rounds=${2:-2}
vcpusim=${VCPUSIM:-$here/build/vcpusim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
t1=""; t2=""
for r in $(seq "$rounds"); do
  for j in 1 2; do
    start=$(date +%s.%N)
    "$vcpusim" sweep "$spec" -j "$j" -o "$tmp/j$j-$r" 2>/dev/null
    t=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
    echo "round $r -j$j: ${t}s"
    if [ "$j" = 1 ]; then t1=$(best "$t1" "$t"); else t2=$(best "$t2" "$t"); fi
    cmp -s "$tmp/j1-1/runs.csv" "$tmp/j$j-$r/runs.csv" || { echo "runs.csv differs" >&2; exit 1; }
  done
done
runs=$(($(wc -l <"$tmp/j1-1/runs.csv") - 1))
awk -v a="$t1" -v b="$t2" -v n="$runs" -v c="$(nproc)" 'BEGIN {
  printf "%d runs on %d cores: -j1 %.2fs, -j2 %.2fs (best of each): speed-up %.2fx\n", n, c, a, b, a / b }'
echo "runs.csv identical in every round"
