#!/usr/bin/env bash
# Builds the libFuzzer targets (ASan+UBSan) and runs each for a bounded time on its seed corpus.
# Usage: fuzz/run.sh [SECONDS_PER_TARGET]   (default 60; needs build/vcpusim for the seed traces)
# A finding leaves crash-*/leak-*/timeout-* in build-fuzz/findings/TARGET and fails the script:
# copy the input to fuzz/regressions/TARGET/ (tests/robustness_test.cpp replays it), fix.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
out="$here/build-fuzz"
[ -n "${FUZZ_NO_BUILD:-}" ] || "$here/tools/scripts/setup.sh" --fuzz --build-dir "$out"
vcpusim="$here/build/vcpusim"
[ -x "$vcpusim" ] || { echo "fuzz/run.sh: build/vcpusim is missing: run tools/scripts/setup.sh" >&2; exit 2; }

seeds="$out/seeds"
rm -rf "$seeds" "$out/findings" "$out/sweep-seed"
targets="scenario_fuzzer trace_fuzzer result_fuzzer replay_fuzzer sweep_fuzzer host_trace_fuzzer"
for t in $targets; do mkdir -p "$seeds/$t"; done
cp "$here"/scenarios/*.json "$here"/tests/bad_scenarios/*.json "$seeds/scenario_fuzzer/"
printf '%s\n#set\nhost.load[0].busy=2ms\nguest.timekeeping.ntp.mult_steps=7\n' \
  "$(cat "$here/scenarios/vdso-time-backwards.json")" >"$seeds/scenario_fuzzer/with-set"
# Small traces and results: a short window of every catalogue scenario.
for s in "$here"/scenarios/*.json; do
  n=$(basename "$s" .json)
  [ "$n" = scenario.schema ] && continue
  "$vcpusim" run "$s" --quiet --json "$seeds/result_fuzzer/$n.json" \
    --trace "$seeds/trace_fuzzer/$n.json" --trace-to 50us >/dev/null || true
done
# Replay files: what a short explore of each unplaced scenario keeps.
for s in "$here"/scenarios/explore/*.json; do
  n=$(basename "$s" .json)
  "$vcpusim" explore "$s" --schedules 60 --first -q -o "$seeds/explore-$n" >/dev/null || true
  for f in "$seeds/explore-$n"/failure-*.replay.json; do
    if [ -f "$f" ]; then cp "$f" "$seeds/replay_fuzzer/$n-$(basename "$f")"; fi
  done
  rm -rf "$seeds/explore-$n"
done
# Sweep specs (the fuzzed spec sits in scenarios/sweeps/: tests/sweeps' scenario paths are
# rewritten to resolve from there), and a sweep.json with each of its run records.
cp "$here"/scenarios/sweeps/*.json "$seeds/sweep_fuzzer/"
for s in "$here"/tests/sweeps/*.json; do
  sed 's|"\.\./\.\./scenarios/|"../|' "$s" >"$seeds/sweep_fuzzer/tests-$(basename "$s")"
done
"$vcpusim" sweep "$here/tests/sweeps/small.json" --shard 0/12 -j 1 -o "$out/sweep-seed" \
  >/dev/null 2>&1 || true
cp "$out/sweep-seed/sweep.json" "$seeds/sweep_fuzzer/sweep.json" 2>/dev/null || true
for r in "$out"/sweep-seed/runs/run-*.json; do
  [ -f "$r" ] || continue
  { cat "$out/sweep-seed/sweep.json"; printf '#record\n'; cat "$r"; } \
    >"$seeds/sweep_fuzzer/with-$(basename "$r")"
done
# Host recordings: the test inputs in each format byte (fuzz/host_trace_input.hpp).
for f in "$here"/tests/inputs/host_trace/*.trace "$here"/tests/inputs/host_trace/*.report \
         "$here"/tests/inputs/host_trace/*.perf "$here"/tests/inputs/host_trace/*.json; do
  [ -f "$f" ] || continue
  for mode in 0 5; do
    { printf "\\$(printf '%03o' "$mode")"; head -c 60000 "$f"; } \
      >"$seeds/host_trace_fuzzer/$mode-$(basename "$f")"
  done
done
for t in $targets; do
  [ -d "$here/fuzz/regressions/$t" ] && cp "$here/fuzz/regressions/$t"/* "$seeds/$t/" 2>/dev/null || true
done

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in $targets; do
  mkdir -p "$out/findings/$t" "$out/corpus/$t"
  echo "fuzz: $t for ${seconds}s"
  if ! "$out/$t" "$out/corpus/$t" "$seeds/$t" -max_total_time="$seconds" -max_len=65536 \
       -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$out/findings/$t/" >"$out/findings/$t.log" 2>&1; then
    echo "fuzz: $t found a problem (build-fuzz/findings/$t.log):" >&2
    tail -40 "$out/findings/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$out/findings/$t.log" | tail -2
  fi
done
exit $status
