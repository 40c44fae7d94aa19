#!/usr/bin/env bash
# Prints the spinlock table of docs/locks.md ("Against Waiman Long's table"): throughput (million
# acquisitions per simulated second) and max wait (us) of each lock at 0.5x, 1x, 1.5x, 2x and 3x
# overcommit of 32 pCPUs
# (bench/lock-overcommit.json), with pause-loop exiting on (KVM's default) and off.
# Usage: tools/scripts/lock_table.sh [BUILD_DIR]   (needs jq: tools/scripts/setup.sh --tests)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin="${1:-$here/build}/vcpusim"
base="$here/bench/lock-overcommit.json"
kinds=(ticket pvticket qspinlock pvqspinlock tas mcs)
points=(16 32 48 64 96)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for ple in on off; do
  echo
  echo "PLE $ple: throughput M acq/s, max wait us (32 pCPUs, 4 locks, 500 ns held, 5 us between)"
  echo
  header="| lock |"; rule="|---|"
  for v in "${points[@]}"; do
    header+=" $(awk -v v="$v" 'BEGIN { printf "%gx", v / 32 }') ($v vCPUs) |"; rule+="---|"
  done
  echo "$header"; echo "$rule"
  for k in "${kinds[@]}"; do
    row="| $k |"
    for v in "${points[@]}"; do
      list=$(seq -s, 0 $((v - 1)))
      sets=(--set "guest.locks.kind=$k" --set "vm.vcpus=$v" --set "guest.workloads[0].vcpus=[$list]")
      [ "$ple" = off ] && sets+=(--set vm.ple_gap=0)
      echo "  $k at $v vCPUs, PLE $ple" >&2
      "$bin" run "$base" "${sets[@]}" --json "$out/r.json" --quiet --no-expect
      row+=$(jq -r '.metrics | " \((."locks.acquisitions_per_s" / 1e6 * 100 | round) / 100), \(."locks.wait_ns.max" / 1000 | round) |"' "$out/r.json")
    done
    echo "$row"
  done
done
