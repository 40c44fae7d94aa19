#!/usr/bin/env bash
# Prints issue 12's performance table (docs/performance.md): the in-process ratios of
# build/vcpusim_bench (guest ops/s over raw SystemC timed waits, events per simulated ms, guest
# ops per event, --trace time over untraced), then, one process per point so peak RSS is the
# point's own, the scale series (N vCPUs on N/4 pCPUs, half busy, half vDSO readers) and the
# demo's peak RSS without and with --trace, and the wall time of every catalogue scenario and of
# the demo's timekeeping variants without host load (median of three runs each).
# Usage: tools/scripts/perf_table.sh [BUILD_DIR] [SCALE_DURATION] [SCALE_SIZES]
#   defaults: build, 100ms, "16 64 256 1024"
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
duration=${2:-100ms}
sizes=${3:-16 64 256 1024}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/vcpusim_bench" --benchmark_filter='^BM_(RawTimedWaits|Demo|TimekeepingLatency|Busy16On4|Demo250)' \
  >"$tmp/bench.txt" 2>&1 || { cat "$tmp/bench.txt" >&2; exit 1; }
grep '^|' "$tmp/bench.txt"

# Wall seconds and peak RSS (KiB) of one vcpusim run.
measure() { /usr/bin/time -f '%e %M' -o "$tmp/time" "$build/vcpusim" run -q --no-expect "$@" >/dev/null; cat "$tmp/time"; }

scale_file() {  # N -> scenario file
  local n=$1 busy readers
  readers=$(seq -s, 0 $((n / 2 - 1)))  # as tests/scale_scenario.hpp
  busy=$(seq -s, $((n / 2)) $((n - 1)))
  cat >"$tmp/scale-$n.json" <<JSON
{"name": "scale-$n", "seed": 1, "duration": "$duration", "host": {"pcpus": $((n / 4))},
 "vm": {"vcpus": $n}, "checks": ["monotonic_time"],
 "guest": {"workloads": [{"kind": "busy", "vcpus": [$busy]},
                         {"kind": "vdso_reader", "vcpus": [$readers], "think": "200ns"}]}}
JSON
  echo "$tmp/scale-$n.json"
}

prev_n="" prev_t=""
for n in $sizes; do
  read -r wall rss < <(measure "$(scale_file "$n")")
  growth=""
  if [ -n "$prev_n" ]; then
    growth=$(awk -v a="$prev_t" -v b="$wall" -v m="$prev_n" -v n="$n" \
      'BEGIN { if (a > 0 && b > 0) printf ", growth N^%.2f", log(b / a) / log(n / m) }')
  fi
  printf '| scale %d vCPUs on %d pCPUs, %s simulated | %.1f s wall, %d MiB peak RSS%s |\n' \
    "$n" $((n / 4)) "$duration" "$wall" $((rss / 1024)) "$growth"
  prev_n=$n prev_t=$wall
done

# Median wall seconds of three runs.
median3() { for _ in 1 2 3; do measure "$@"; done | awk '{ print $1 }' | sort -n | sed -n 2p; }
demo=$here/scenarios/vdso-time-backwards.json
slowest=0 slowest_name="" count=0
while IFS='|' read -r name args; do
  # shellcheck disable=SC2086  # args are --set pairs without spaces
  wall=$(median3 $args)
  count=$((count + 1))
  if awk -v a="$wall" -v b="$slowest" 'BEGIN { exit !(a > b) }'; then slowest=$wall slowest_name=$name; fi
done < <(for f in "$here"/scenarios/*.json "$here"/scenarios/explore/*.json; do
           [ "$(basename "$f")" = scenario.schema.json ] || echo "$(basename "$f" .json)|$f"
         done
         for v in legacy split-publish shadow reanchor; do
           echo "vdso-time-backwards, $v, no host load|$demo --set guest.timekeeping.variant=\"$v\" --set host.load=[]"
         done)
printf '| catalogue: %d scenarios and variants, slowest run (median of 3) | %.2f s (%s) |\n' \
  "$count" "$slowest" "$slowest_name"

read -r wall_plain rss_plain < <(measure "$demo")
read -r wall_trace rss_trace < <(measure "$demo" --trace "$tmp/trace.json")
bytes=$(stat -c %s "$tmp/trace.json")
awk -v a="$wall_plain" -v b="$wall_trace" -v r0="$rss_plain" -v r1="$rss_trace" -v by="$bytes" \
  'BEGIN { printf "| demo (250 ms) as a process: --trace wall over untraced | %.2fx; peak RSS %d MiB untraced, %d MiB traced; trace %.2f MB (%.1f kB/sim ms) |\n", b / a, r0 / 1024, r1 / 1024, by / 1e6, by / 250e3 }'
