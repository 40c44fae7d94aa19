#!/usr/bin/env bash
# Prints issue 15's explore table (docs/explore.md, "Strategies against plain seeds"): schedules
# to the first failure of each strategy on each unplaced scenario (the median over explore seeds
# 1..K; "-" when none of them found it within the budget), against the baseline of plain runs
# with seeds seed, seed+1, ... (`--strategy seeds`, checked against a real `vcpusim run --seed` of
# the seed it reports); then
# schedules per CPU second for a 100 us pv-hash-race run, with the same runs as a shell loop of
# `vcpusim run --seed` processes measured in the same invocation for the ratio; then -j2 against
# -j1 and prefix reuse against none (explore --prefix-reuse), each pair measured side by side.
# Usage: tools/scripts/explore_table.sh [BUILD_DIR] [K] [--rate-only]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
k=${2:-3}
rate_only=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin="$build/vcpusim"

first_failure() {  # scenario strategy budget explore-seed -> index or -
  "$bin" explore "$1" --strategy "$2" --schedules "$3" --first --explore-seed "$4" -q -o "$tmp/x" \
    >/dev/null || true
  local i
  i=$(jq -r '.first_failure_schedule' "$tmp/x/explore.json")
  if [ "$i" = "-1" ]; then echo "-"; else echo $((i + 1)); fi
}

median() {  # values (some "-") -> median of the numbers, or "-" if fewer than half found it
  local nums found total
  nums=$(printf '%s\n' "$@" | grep -v '^-$' | sort -n || true)
  found=$(printf '%s\n' "$nums" | grep -c . || true)
  total=$#
  if [ "$found" -eq 0 ] || [ $((found * 2)) -lt "$total" ]; then echo "- ($found/$total)"; return; fi
  echo "$(printf '%s\n' "$nums" | sed -n "$(((found + 1) / 2))p") ($found/$total)"
}

[ "$rate_only" = --rate-only ] || {
echo "| scenario | budget | seeds (plain runs) | random | pct | cover |"
echo "|---|---|---|---|---|---|"
for f in "$here"/scenarios/explore/*.json; do
  name=$(basename "$f" .json)
  budget=500
  [ "$name" = vdso-unplaced ] && budget=60  # ~0.5 s per 50 ms run
  row="| $name | $budget |"
  s=$(first_failure "$f" seeds "$budget" 1)
  if [ "$s" != "-" ]; then  # the same run as a plain `vcpusim run --seed`
    seed=$(jq -r '.seed' "$f")
    if "$bin" run "$f" --seed $((seed + s - 1)) -q; then
      echo "explore_table: seeds reported schedule $s but run --seed $((seed + s - 1)) passed" >&2
      exit 1
    fi
  fi
  row="$row $s |"
  for strategy in random pct cover; do
    vals=()
    for e in $(seq 1 "$k"); do vals+=("$(first_failure "$f" "$strategy" "$budget" "$e")"); done
    row="$row $(median "${vals[@]}") |"
  done
  echo "$row"
done
}

# Schedules per CPU second (user + sys: "per core", whatever else loads the machine) for 100 us
# of the pv hash race, against a loop of `vcpusim run --seed` processes measured here too.
cpu_seconds() {  # command... -> user+sys seconds of it and its children
  local TIMEFORMAT='%U %S'
  { time "$@" >/dev/null 2>&1; } 2>"$tmp/t" || true
  awk '{print $1 + $2}' "$tmp/t"
}
pv="$here/scenarios/explore/pv-hash-race-unplaced.json"
n=5000
explore_cpu=$(cpu_seconds "$bin" explore "$pv" --set duration=100us --schedules $n -q)
m=200
jq '.duration = "100us"' "$pv" >"$tmp/pv100.json"
loop() { for i in $(seq 1 $m); do "$bin" run "$tmp/pv100.json" --seed "$i" -q --no-expect; done; }
loop_cpu=$(cpu_seconds loop)
explore_rate=$(echo "$n / $explore_cpu" | bc -l)
loop_rate=$(echo "$m / $loop_cpu" | bc -l)
printf '\n100 us pv-hash-race run: explore %.0f schedules per CPU second; a loop of `run --seed` processes %.0f runs per CPU second; ratio %.1fx\n' \
  "$explore_rate" "$loop_rate" "$(echo "$explore_rate / $loop_rate" | bc -l)"

# -j2 against -j1, and prefix reuse (never / auto / always) on the 100 us pv hash race and on the
# 50 ms vDSO scenario (vCPU0 only): CPU seconds per schedule, the first column the baseline.
rate() {  # label schedules command... -> "label: N schedules per CPU second"
  local label=$1 count=$2
  shift 2
  local c
  c=$(cpu_seconds "$@")
  echo "$count / $c" | bc -l
}
echo
echo "| run | baseline | schedules per CPU second | ratio |"
echo "|---|---|---|---|"
# -j2 against -j1, three rounds back to back, each row the median round: a loaded machine's drift
# falls on every run of a round, and one disturbed round does not decide a row. Without prefix
# reuse, so the rows are what the workers cost (with it, the fork server's choice depends on -j).
# The third run of a round is two -j1 explores at once, each half the schedules (explore seeds 1
# and 2): what two busy processes cost on this machine, with no worker pool. -j2 against it is
# explore's own share; against -j1 alone, the machine's share too.
half=$((n / 2))
both() {  # two -j1 explores at once -> their user+sys seconds together
  local TIMEFORMAT='%U %S'
  { time "$bin" explore "$pv" --set duration=100us --schedules $half -q -j 1 --prefix-reuse never \
      --explore-seed 1 >/dev/null 2>&1; } 2>"$tmp/ta" &
  { time "$bin" explore "$pv" --set duration=100us --schedules $half -q -j 1 --prefix-reuse never \
      --explore-seed 2 >/dev/null 2>&1; } 2>"$tmp/tb"
  wait
  cat "$tmp/ta" "$tmp/tb" | awk '{s += $1 + $2} END {print s}'
}
rounds=()
for round in 1 2 3; do
  j1=$(rate j1 $n "$bin" explore "$pv" --set duration=100us --schedules $n -q -j 1 --prefix-reuse never)
  j2=$(rate j2 $n "$bin" explore "$pv" --set duration=100us --schedules $n -q -j 2 --prefix-reuse never)
  two=$(echo "$((half * 2)) / $(both)" | bc -l)
  rounds+=("$j1 $j2 $two")
done
median_of() {  # column -> the median of that column over the rounds
  printf '%s\n' "${rounds[@]}" | awk -v c="$1" '{print $c}' | sort -g | sed -n 2p
}
j1=$(median_of 1) j2=$(median_of 2) two=$(median_of 3)
printf '| 100 us pv hash race, -j2 (no prefix reuse) | -j1 alone: %.0f | %.0f | %.2fx the CPU per schedule |\n' \
  "$j1" "$j2" "$(echo "$j1 / $j2" | bc -l)"
printf '| 100 us pv hash race, two -j1 explores at once | -j1 alone: %.0f | %.0f | %.2fx (the machine: two busy processes) |\n' \
  "$j1" "$two" "$(echo "$j1 / $two" | bc -l)"
printf '| 100 us pv hash race, -j2 (no prefix reuse) | two -j1 at once: %.0f | %.0f | %.2fx (explore'"'"'s own share) |\n' \
  "$two" "$j2" "$(echo "$two / $j2" | bc -l)"
vdso="$here/scenarios/explore/vdso-unplaced.json"
for case in "pv" "vdso"; do
  if [ "$case" = pv ]; then
    args=("$pv" --set duration=100us --schedules 2000)
    what="100 us pv hash race"
    count=2000
  else
    args=("$vdso" --schedules 60)
    what="50 ms vDSO (vdso-unplaced)"
    count=60
  fi
  never=$(rate never $count "$bin" explore "${args[@]}" -q --prefix-reuse never)
  for mode in auto always; do
    got=$(rate "$mode" $count "$bin" explore "${args[@]}" -q --prefix-reuse "$mode")
    printf '| %s, --prefix-reuse %s | never: %.1f | %.1f | %.2fx |\n' \
      "$what" "$mode" "$never" "$got" "$(echo "$got / $never" | bc -l)"
  done
done
