#!/usr/bin/env bash
# Prints docs/locks.md's user-mode experiment ("A kernel build is mostly user mode"): Long's
# 32 pCPU x 32 / 48 / 60 vCPU table (bench/lock-overcommit.json, PLE on, 50 ms) for three
# lock_torture mixes: the bench as it is (think 5 us, all kernel), the kernel-build stand-in
# (think 55 us, 90% of it in user mode: the same 6 us of kernel work per acquisition, 49.5 us of
# user work) and its control (think 55 us, all kernel: the same timing, no user mode).
# Each point is the sum over seeds 1-4 (one 50 ms run holds only a few host slices per vCPU).
# First table: throughput at 1x (M acquisitions per simulated second, mean over the seeds) and
# the slowdown at 1.5x and 1.9x (1x throughput / throughput). Second: PLE exits, candidates the
# in-kernel filter skipped and pv halts at 48 and 60 vCPUs (per run, mean over the seeds).
# Usage: tools/scripts/lock_user_table.sh [BUILD_DIR]   (needs jq; 180 runs, minutes on one core)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin="${1:-$here/build}/vcpusim"
base="$here/bench/lock-overcommit.json"
kinds=(ticket pvticket qspinlock pvqspinlock tas)
mixes=("5us 0" "55us 0" "55us 90")
seeds=(1 2 3 4)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # kind vcpus think user_percent seed -> $out/KIND-VCPUS-THINK-USER-SEED.json
  local list
  list=$(seq -s, 0 $(($2 - 1)))
  echo "  $1 at $2 vCPUs, think $3, $4% user, seed $5" >&2
  "$bin" run "$base" --seed "$5" --set "guest.locks.kind=$1" --set "vm.vcpus=$2" \
    --set "guest.workloads[0].vcpus=[$list]" --set "guest.workloads[0].think=\"$3\"" \
    --set "guest.workloads[0].user_percent=$4" --json "$out/$1-$2-$3-$4-$5.json" --quiet \
    --no-expect
}
mean() {  # key kind vcpus think user: the metric's mean over the seeds
  local files=()
  for s in "${seeds[@]}"; do files+=("$out/$2-$3-$4-$5-$s.json"); done
  jq -rs --arg k "$1" 'map(.metrics[$k] // 0) | add / length' "${files[@]}"
}

for mix in "${mixes[@]}"; do
  read -r think user <<<"$mix"
  for k in "${kinds[@]}"; do
    for v in 32 48 60; do
      for s in "${seeds[@]}"; do run "$k" "$v" "$think" "$user" "$s"; done
    done
  done
done

header="| mix | vCPUs |"; rule="|---|---|"
for k in "${kinds[@]}"; do header+=" $k |"; rule+="---|"; done
echo "$header"; echo "$rule"
for mix in "${mixes[@]}"; do
  read -r think user <<<"$mix"
  for v in 32 48 60; do
    row="| think $think, $user% user | $v |"
    for k in "${kinds[@]}"; do
      one=$(mean locks.acquisitions_per_s "$k" 32 "$think" "$user")
      this=$(mean locks.acquisitions_per_s "$k" "$v" "$think" "$user")
      if [ "$v" = 32 ]; then
        row+=$(awk -v t="$this" 'BEGIN { printf " %.2f M |", t / 1e6 }')
      else
        row+=$(awk -v a="$one" -v b="$this" 'BEGIN { printf " %.2fx |", a / b }')
      fi
    done
    echo "$row"
  done
done
echo
header="| mix | vCPUs |"; rule="|---|---|"
for k in "${kinds[@]}"; do header+=" $k |"; rule+="---|"; done
echo "PLE exits / candidates skipped in user mode / pv halts, per run:"
echo
echo "$header"; echo "$rule"
for mix in "${mixes[@]}"; do
  read -r think user <<<"$mix"
  for v in 48 60; do
    row="| think $think, $user% user | $v |"
    for k in "${kinds[@]}"; do
      row+=$(printf " %.0f / %.0f / %.0f |" "$(mean kvm.ple_exits "$k" "$v" "$think" "$user")" \
        "$(mean kvm.yield_skipped_user "$k" "$v" "$think" "$user")" \
        "$(mean locks.halts "$k" "$v" "$think" "$user")")
    done
    echo "$row"
  done
done
