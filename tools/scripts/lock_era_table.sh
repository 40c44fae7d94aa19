#!/usr/bin/env bash
# Prints docs/locks.md's pvqspinlock era table: throughput (million acquisitions per simulated
# second) and lock steals past a halted queue head, per guest.locks.era, on 16 and 32 pCPUs at 1x,
# 1.5x and 2x overcommit, PLE on and off (bench/lock-overcommit.json, 30 ms runs, longer than a host slice: minutes on one
# core). Usage: tools/scripts/lock_era_table.sh [BUILD_DIR]   (needs jq)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin="${1:-$here/build}/vcpusim"
base="$here/bench/lock-overcommit.json"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "| pCPUs | PLE | era | 1x | 1.5x | 2x |"
echo "|---|---|---|---|---|---|"
for p in 16 32; do
  for ple in on off; do
    for era in 2015 2016 current; do
      row="| $p | $ple | $era |"
      for f in 2 3 4; do
        v=$((p * f / 2))
        list=$(seq -s, 0 $((v - 1)))
        sets=(--set "host.pcpus=$p" --set "guest.locks.era=\"$era\"" --set "vm.vcpus=$v"
              --set "guest.workloads[0].vcpus=[$list]" --set duration=30ms)
        [ "$ple" = off ] && sets+=(--set vm.ple_gap=0)
        echo "  $era on $p pCPUs, $v vCPUs, PLE $ple" >&2
        "$bin" run "$base" "${sets[@]}" --json "$out/r.json" --quiet --no-expect
        row+=$(jq -r '.metrics | " \((."locks.acquisitions_per_s" / 1e6 * 100 | round) / 100) (\(."locks.steals_while_head_halted" // "-"))|"' "$out/r.json")
      done
      echo "$row"
    done
  done
done
