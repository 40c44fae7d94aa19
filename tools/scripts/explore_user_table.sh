#!/usr/bin/env bash
# Prints issue 27's table of user-written scenarios (docs/explore.md, "Scenarios written as users
# write them"): for each scenario in scenarios/explore/users/, the schedules to the first failure
# of the strategies window (the default), pct, cover and random, each the median over explore
# seeds 1..N (a seed that found nothing within the budget counts as more than the budget; "-"
# when that is the median) with how many seeds found it; then the scenario's fixed variant
# (scenarios/explore/users/fixed.txt: one --set per file) explored with the default strategy for
# the same budget with each seed, which must find nothing.
# Exits 1 when the default strategy found a scenario's bug with fewer than ceil(0.8 N) of the N
# seeds, or when a fixed variant failed (or explore ended in error); 2 on bad usage.
# Each explore's result goes to stderr as it ends (a full run takes long).
# Usage: tools/scripts/explore_user_table.sh BUILD_DIR [--seeds N] [--budget N] [--reduced]
#                                            [--only NAME]... [--strategies LIST]
#   --reduced: only the cheapest scenario, one seed, budget 100 (the ctest; CI).
#   --only NAME: only that scenario (its file name without .json; repeatable), e.g. to run
#                the rows in two processes on two cores.
#   --strategies LIST: only these of window,pct,cover,random (comma-separated); the others'
#                cells say "not run" (window is always run: the exit status depends on it).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
users="$here/scenarios/explore/users"
# The cheapest: 10 ms of idle-looking vCPUs taking NMIs, ~85 schedules/s, found within 2.
reduced_scenario=seed000-nmi-time.json

usage() {
  echo "usage: $0 BUILD_DIR [--seeds N] [--budget N] [--reduced] [--only NAME]... [--strategies LIST]" >&2
  exit 2
}
positive() {  # option value -> value, or exit 2
  if ! [[ "$2" =~ ^[1-9][0-9]{0,8}$ ]]; then
    echo "explore_user_table: $1 must be a whole number from 1 to 999999999, not '$2'" >&2
    exit 2
  fi
  printf '%s\n' "$2"
}

[ $# -ge 1 ] || usage
build=$1
shift
seeds= budget= reduced=0
only=()
strategies=window,pct,cover,random
while [ $# -gt 0 ]; do
  case "$1" in
    --strategies)
      [ $# -ge 2 ] || usage
      if ! [[ "$2" =~ ^(window|pct|cover|random)(,(window|pct|cover|random))*$ ]]; then
        echo "explore_user_table: --strategies takes a comma-separated list of window, pct, cover, random, not '$2'" >&2
        exit 2
      fi
      strategies="window,$2"; shift 2 ;;
    --only)
      [ $# -ge 2 ] || usage
      if [ ! -f "$users/$2.json" ]; then
        echo "explore_user_table: --only: no scenario '$2' in scenarios/explore/users/" >&2
        exit 2
      fi
      only+=("$2"); shift 2 ;;
    --seeds) [ $# -ge 2 ] || usage; seeds=$(positive --seeds "$2"); shift 2 ;;
    --budget) [ $# -ge 2 ] || usage; budget=$(positive --budget "$2"); shift 2 ;;
    --reduced) reduced=1; shift ;;
    *) echo "explore_user_table: unknown argument '$1'" >&2; usage ;;
  esac
done
if [ "$reduced" = 1 ]; then
  seeds=${seeds:-1}
  budget=${budget:-100}
else
  seeds=${seeds:-5}
  budget=${budget:-2000}
fi
bin="$build/vcpusim"
if [ ! -x "$bin" ]; then
  echo "explore_user_table: no vcpusim in '$build' (build it first)" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

files=()
if [ "$reduced" = 1 ]; then
  files=("$users/$reduced_scenario")
elif [ ${#only[@]} -gt 0 ]; then
  for n in "${only[@]}"; do files+=("$users/$n.json"); done
else
  for f in "$users"/*.json; do files+=("$f"); done
fi

fix_of() {  # file name -> its --set from fixed.txt, or nothing
  local name fix rest
  while read -r name fix rest; do
    case "$name" in '#'* | '') continue ;; esac
    if [ "$name" = "$1" ]; then
      printf '%s\n' "$fix"
      return
    fi
  done <"$users/fixed.txt"
}

# One explore; sets $found (schedules to the first failure, or -), $check (the first failure's
# check), $code (explore's exit status: 0 none found, 1 found, else an error).
run_explore() {  # file strategy seed [--set S]
  local file=$1 strategy=$2 seed=$3
  shift 3
  rm -rf -- "$tmp/out"
  code=0
  "$bin" explore "$file" --strategy "$strategy" --first --schedules "$budget" \
    --explore-seed "$seed" --quiet -o "$tmp/out" "$@" 2>"$tmp/err" || code=$?
  found=- check=
  if [ "$code" -gt 1 ] || [ ! -f "$tmp/out/explore.json" ]; then
    local why
    why=$(grep -v ': warning: ' "$tmp/err" | head -n 1 || true)
    [ -n "$why" ] || [ "$code" -le 128 ] || why="killed by signal $((code - 128))"
    echo "explore_user_table: $(basename "$file") $strategy seed $seed: explore exited $code: $why" >&2
    [ "$code" -gt 1 ] || code=3
    return
  fi
  local i
  i=$(jq -r '.first_failure_schedule' "$tmp/out/explore.json")
  if [ "$i" != -1 ]; then
    found=$((i + 1))
    check=$(jq -r --argjson i "$i" \
      '[.failures[] | select(.first_schedule == $i) | .check][0] // ""' "$tmp/out/explore.json")
  fi
}

median() {  # values, "-" for not found -> "median (k/N)"
  local sorted k n m
  n=$#
  k=$(printf '%s\n' "$@" | grep -cv '^-$' || true)
  # Not found sorts after every number: the median is the ((n+1)/2)-th smallest.
  sorted=$(printf '%s\n' "$@" | sed 's/^-$/999999999999/' | sort -n)
  m=$(printf '%s\n' "$sorted" | sed -n "$(((n + 1) / 2))p")
  [ "$m" = 999999999999 ] && m=-
  printf '%s (%s/%s)\n' "$m" "$k" "$n"
}

status=0
need=$(((8 * seeds + 9) / 10))  # ceil(0.8 N)
echo "| scenario | vCPUs/pCPUs | check | window | pct | cover | random | fixed |"
echo "|---|---|---|---|---|---|---|---|"
for f in "${files[@]}"; do
  name=$(basename "$f" .json)
  size="$(jq -r '.vm.vcpus // 2' "$f")/$(jq -r '.host.pcpus // 2' "$f")"
  checks=()
  row=""
  for strategy in window pct cover random; do
    if [[ ",$strategies," != *",$strategy,"* ]]; then
      row="$row not run |"
      continue
    fi
    vals=()
    errors=0
    for e in $(seq 1 "$seeds"); do
      run_explore "$f" "$strategy" "$e"
      echo "explore_user_table: $name $strategy seed $e: ${found}${check:+ ($check)}" >&2
      vals+=("$found")
      [ -z "$check" ] || checks+=("$check")
      [ "$code" -le 1 ] || errors=$((errors + 1))
    done
    cell=$(median "${vals[@]}")
    [ "$errors" = 0 ] || cell="$cell, $errors error(s)"
    row="$row $cell |"
    if [ "$strategy" = window ]; then
      k=$(printf '%s\n' "${vals[@]}" | grep -cv '^-$' || true)
      if [ "$k" -lt "$need" ]; then
        echo "explore_user_table: $name: window found it with $k of $seeds seeds (needs $need)" >&2
        status=1
      fi
    fi
  done
  fix=$(fix_of "$(basename "$f")")
  if [ -z "$fix" ]; then
    fixed="no fixed variant in fixed.txt"
    status=1
  else
    fixed="clean ($seeds x $budget)"
    for e in $(seq 1 "$seeds"); do
      run_explore "$f" window "$e" --set "$fix"
      echo "explore_user_table: $name fixed seed $e: ${found}${check:+ ($check)}" >&2
      if [ "$code" -gt 1 ]; then
        fixed="error (explore exit $code, seed $e)"
      elif [ "$found" != - ]; then
        fixed="FAILS: $check at schedule $found, seed $e"
      else
        continue
      fi
      status=1
      break
    done
    fixed="\`$fix\`: $fixed"
  fi
  found_checks=$(printf '%s\n' "${checks[@]+"${checks[@]}"}" | grep . | sort -u | paste -sd, - | sed "s/,/, /g" || true)
  echo "| $name | $size | ${found_checks:--} |$row $fixed |"
done
exit "$status"
