#!/usr/bin/env bash
# Issue 29's benchmark row: a synthesised host recording of SIZE_MB megabytes (default 1024),
# streamed through a pipe from a generator (awk) into `vcpusim load import -`: its MB/s, MB per
# CPU second of the import and peak memory (max RSS, GNU time), against the generator alone into
# `wc -c` in the same run (the pipe's own rate, the baseline: the import cannot read faster than
# the generator writes, so its wall rate is at most the baseline's; its CPU rate is its own).
# Usage: bench/trace_import.sh [BUILD_DIR] [SIZE_MB]   (default build, 1024)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
size_mb=${2:-1024}
vcpusim="$build/vcpusim"
[ -x "$vcpusim" ] || { echo "trace_import.sh: $vcpusim is missing (tools/scripts/setup.sh)" >&2; exit 2; }
[[ $size_mb =~ ^[0-9]+$ ]] || { echo "trace_import.sh: SIZE_MB is a whole number" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Four CPUs, each switching between a host thread, QEMU's vCPU thread and the idle task every
# 5-40 us, a hard and a soft interrupt every 16th step: tracefs' text, stopped after SIZE_MB.
generate() {
  awk -v bytes=$((size_mb * 1024 * 1024)) 'BEGIN {
    srand(1); t = 0; total = 0
    comm[0] = "kworker/u8:1"; pid[0] = 4242; prio[0] = 120
    comm[1] = "CPU 0/KVM";    pid[1] = 3001; prio[1] = 120
    comm[2] = "swapper";      pid[2] = 0;    prio[2] = 120
    comm[3] = "migration";    pid[3] = 21;   prio[3] = 0
    for (c = 0; c < 4; c++) cur[c] = 2
    while (total < bytes) {
      t += 5 + int(rand() * 35); c = step % 4; step++
      next_task = (cur[c] + 1 + int(rand() * 3)) % 4
      p = cur[c]; n = next_task
      stamp = sprintf("%d.%06d", 1000 + int(t / 1000000), t % 1000000)
      line = sprintf("%16s-%-7d [%03d] d..2. %s: sched_switch: prev_comm=%s prev_pid=%d prev_prio=%d prev_state=S ==> next_comm=%s next_pid=%d next_prio=%d\n",
                     comm[p] == "swapper" ? "<idle>" : comm[p], pid[p], c, stamp,
                     comm[p] == "swapper" ? "swapper/" c : comm[p], pid[p], prio[p],
                     comm[n] == "swapper" ? "swapper/" c : comm[n], pid[n], prio[n])
      printf "%s", line; total += length(line)
      cur[c] = n
      if (step % 16 == 0) {
        t += 1; stamp = sprintf("%d.%06d", 1000 + int(t / 1000000), t % 1000000)
        line = sprintf("%16s-%-7d [%03d] d.h.. %s: irq_handler_entry: irq=42 name=virtio3-tx\n", comm[n] == "swapper" ? "<idle>" : comm[n], pid[n], c, stamp)
        t += 2; stamp = sprintf("%d.%06d", 1000 + int(t / 1000000), t % 1000000)
        line = line sprintf("%16s-%-7d [%03d] d.h.. %s: irq_handler_exit: irq=42 ret=handled\n", comm[n] == "swapper" ? "<idle>" : comm[n], pid[n], c, stamp)
        printf "%s", line; total += length(line)
      }
    }
  }'
}

cpu_seconds() {  # the user + system seconds GNU time wrote to $1
  awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$1"
}

echo "trace_import.sh: generating ${size_mb} MB twice (baseline, then the import)"
start=$(date +%s.%N)
generate | wc -c > "$scratch/bytes"
base_wall=$(echo "$(date +%s.%N) - $start" | bc)
bytes=$(cat "$scratch/bytes")

start=$(date +%s.%N)
generate | /usr/bin/time -v -o "$scratch/time" "$vcpusim" load import - --quiet -o "$scratch/out.json"
wall=$(echo "$(date +%s.%N) - $start" | bc)
rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$scratch/time")
out_mb=$(( $(stat -c %s "$scratch/out.json") / 1048576 ))
mb=$(echo "scale=1; $bytes / 1048576" | bc)
cpu=$(cpu_seconds "$scratch/time")
printf '| %s MB of ftrace text through a pipe into | wall s | MB/s (wall) | CPU s | MB per CPU s | peak RSS | output |\n' "$mb"
printf '|---|---|---|---|---|---|---|\n'
printf '| wc -c (the baseline: the generator'"'"'s rate) | %.1f | %.0f | | | | |\n' "$base_wall" "$(echo "$mb / $base_wall" | bc -l)"
printf '| vcpusim load import - | %.1f | %.0f | %s | %.0f | %d MB | %d MB |\n' "$wall" \
  "$(echo "$mb / $wall" | bc -l)" "$cpu" "$(echo "$mb / $cpu" | bc -l)" $((rss_kb / 1024)) "$out_mb"
printf 'import wall / baseline wall: %.2fx\n' "$(echo "$wall / $base_wall" | bc -l)"
