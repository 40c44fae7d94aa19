#!/usr/bin/env bash
# Records what a host's CPUs run, in a text form a `trace` host load and `vcpusim load import`
# read (docs/host-trace.md): sched_switch and sched_wakeup, and hard and soft interrupt entry and
# exit. Runs as root. Tracing is left off afterwards, whatever happens.
#
# Usage: tools/scripts/record_host.sh [--tool tracefs|trace-cmd|perf] [--seconds S]
#                                     [--load idle|hog|bursty] [--cpu N] -o OUT
#   --tool     tracefs (default): the kernel's trace buffer through tracefs, taken as its `trace`
#              file (an 8 MB buffer per CPU; a busy host may overflow it: the reader then refuses
#              the recording, naming the LOST line); trace-cmd: trace-cmd record + report (streams
#              to disk, loses nothing); perf: perf record -a of the same events + perf script
#              (the text perf sched script prints)
#   --seconds  how long to record (default 1)
#   --load     what this script runs meanwhile, pinned to CPU N (default 0): idle (nothing),
#              hog (a busy loop), bursty (2 ms busy, 8 ms asleep, repeated); the host's own
#              threads are recorded too
#   -o OUT     the text recording to write
set -euo pipefail
tool=tracefs seconds=1 load=idle cpu=0 out=
while [ $# -gt 0 ]; do
  case $1 in
    --tool) tool=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "record_host.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "record_host.sh: -o OUT is required" >&2; exit 2; }
case $tool in tracefs | trace-cmd | perf) ;; *) echo "record_host.sh: --tool tracefs, trace-cmd or perf" >&2; exit 2 ;; esac
case $load in idle | hog | bursty) ;; *) echo "record_host.sh: --load idle, hog or bursty" >&2; exit 2 ;; esac
[[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "record_host.sh: --seconds takes a number" >&2; exit 2; }
[[ $cpu =~ ^[0-9]+$ ]] || { echo "record_host.sh: --cpu takes a CPU number" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "record_host.sh: tracing needs root" >&2; exit 2; }

events=(sched:sched_switch sched:sched_wakeup irq:irq_handler_entry irq:irq_handler_exit
        irq:softirq_entry irq:softirq_exit)
tracing=/sys/kernel/tracing
scratch=$(mktemp -d)
load_pid=
stop_tracing() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  if [ -d "$tracing/events" ]; then
    for e in "${events[@]}"; do echo 0 > "$tracing/events/${e/://}/enable" 2>/dev/null || true; done
    echo 0 > "$tracing/tracing_on" 2>/dev/null || true
    echo > "$tracing/trace" 2>/dev/null || true
    echo 1 > "$tracing/tracing_on" 2>/dev/null || true
  fi
  rm -rf "$scratch"
}
trap stop_tracing EXIT

start_load() {
  case $load in
    idle) ;;
    hog) taskset -c "$cpu" sh -c 'while :; do :; done' & load_pid=$! ;;
    bursty)
      taskset -c "$cpu" perl -MTime::HiRes=time,sleep \
        -e 'while (1) { my $end = time + 0.002; 1 while time < $end; sleep 0.008 }' &
      load_pid=$! ;;
  esac
}

case $tool in
  tracefs)
    [ -d "$tracing/events" ] || mount -t tracefs nodev "$tracing"
    echo 8192 > "$tracing/buffer_size_kb"
    echo > "$tracing/trace"
    for e in "${events[@]}"; do echo 1 > "$tracing/events/${e/://}/enable"; done
    start_load
    sleep "$seconds"
    for e in "${events[@]}"; do echo 0 > "$tracing/events/${e/://}/enable"; done
    cat "$tracing/trace" > "$out"
    ;;
  trace-cmd)
    args=()
    for e in "${events[@]}"; do args+=(-e "$e"); done
    start_load
    if ! trace-cmd record -q "${args[@]}" -o "$scratch/host.dat" sleep "$seconds" >/dev/null 2>&1; then
      # Where trace-cmd cannot enable ftrace itself (some virtualised kernels), the events are
      # enabled through tracefs and trace-cmd extract takes the buffer.
      [ -d "$tracing/events" ] || mount -t tracefs nodev "$tracing"
      echo 8192 > "$tracing/buffer_size_kb"
      echo > "$tracing/trace"
      for e in "${events[@]}"; do echo 1 > "$tracing/events/${e/://}/enable"; done
      sleep "$seconds"
      for e in "${events[@]}"; do echo 0 > "$tracing/events/${e/://}/enable"; done
      trace-cmd extract -o "$scratch/host.dat" >/dev/null 2>&1
    fi
    trace-cmd report -i "$scratch/host.dat" > "$out" 2>/dev/null
    ;;
  perf)
    args=()
    for e in "${events[@]}"; do args+=(-e "$e"); done
    start_load
    perf record -q -a "${args[@]}" -o "$scratch/perf.data" -- sleep "$seconds" >/dev/null 2>&1
    perf script -i "$scratch/perf.data" > "$out" 2>/dev/null  # perf sched script's text
    ;;
esac
echo "record_host.sh: wrote $out ($(wc -l < "$out") lines, $tool, load $load on CPU $cpu)"
