#!/usr/bin/env bash
# Writes a small synthesised ftrace text recording and the busy windows a `trace` host load must
# read from it (docs/host-trace.md), for tests/host_trace_test.cpp:
#   DIR/synth.trace     the recording: header, sched_switch and sched_wakeup lines, an irq line,
#                       a CPU the load does not select, the QEMU vCPU threads "CPU N/KVM" (comms
#                       with a space), a comm holding "-91", the record-tgid column, lines without
#                       the irq-info flags, a newer kernel's extra next_policy field
#   DIR/synth.expected  per trace CPU 0 and 1, the windows with the default exclude list and the
#                       whole recording as window: "CPU START_US END_US", relative to the first line
# Usage: tools/scripts/synth_ftrace.sh [DIR]   (default: tests/inputs/host_trace)
set -euo pipefail
dir=${1:-$(dirname "$0")/../../tests/inputs/host_trace}
mkdir -p "$dir"
origin=1000  # seconds: a recording's times are the host's uptime

# line COMM PID CPU FLAGS T_US EVENT FIELDS [TGID]: one event line in trace_print_context's
# columns ("%16s-%-7d [%03d] FLAGS %5lu.%06lu: EVENT: "); FLAGS "-" leaves the column out.
line() {
  local comm=$1 pid=$2 cpu=$3 flags=$4 t=$5 event=$6 fields=$7 tgid=${8:-}
  local task
  task=$(printf '%16s-%-7d ' "$comm" "$pid")
  [ -n "$tgid" ] && task+=$(printf '(%7s) ' "$tgid")
  local stamp
  stamp=$(printf '%5d.%06d' $((origin + t / 1000000)) $((t % 1000000)))
  if [ "$flags" = - ]; then
    printf '%s[%03d] %s: %s: %s\n' "$task" "$cpu" "$stamp" "$event" "$fields"
  else
    printf '%s[%03d] %s %s: %s: %s\n' "$task" "$cpu" "$flags" "$stamp" "$event" "$fields"
  fi
}
sw() {  # sched_switch fields: PREV_COMM PREV_PID PREV_STATE NEXT_COMM NEXT_PID
  printf 'prev_comm=%s prev_pid=%s prev_prio=120 prev_state=%s ==> next_comm=%s next_pid=%s next_prio=120' \
    "$1" "$2" "$3" "$4" "$5"
}

{
  echo '# tracer: nop'
  echo '#'
  echo '# entries-in-buffer/entries-written: 13/13   #P:3'
  echo '#'
  echo '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION'
  echo '#              | |         |   |||||     |         |'
  line '<idle>' 0 0 d..2. 0 sched_switch "$(sw swapper/0 0 R stress 2001)"
  line bash 2500 1 d..2. 50 sched_switch "$(sw bash 2500 R+ 'CPU 1/KVM' 3002)"
  line stress 2001 0 d..2. 100 sched_switch "$(sw stress 2001 R+ 'CPU 0/KVM' 3001)"
  line '<idle>' 0 2 d..2. 150 sched_switch "$(sw swapper/2 0 R other 4000)"
  line 'CPU 1/KVM' 3002 1 d.h3. 200 irq_handler_entry 'irq=24 name=virtio0'
  line 'CPU 0/KVM' 3001 0 d..2. 250 sched_switch "$(sw 'CPU 0/KVM' 3001 S kworker/0:1 40)" 2900
  line kworker/0:1 40 0 - 300 sched_switch "$(sw kworker/0:1 40 I memfd:sealed-91 22161)"
  line memfd:sealed-91 22161 0 d..2. 420 sched_switch "$(sw memfd:sealed-91 22161 S swapper/0 0)"
  line '<idle>' 0 0 dNh4. 500 sched_wakeup 'comm=stress pid=2001 prio=120 target_cpu=000'
  line '<idle>' 0 0 d..2. 510 sched_switch "$(sw swapper/0 0 R stress 2001) next_policy=0"
  line 'CPU 1/KVM' 3002 1 d..2. 600 sched_switch "$(sw 'CPU 1/KVM' 3002 R+ bash 2500)" 2900
  line bash 2500 1 - 700 sched_switch "$(sw bash 2500 S swapper/1 0)"
  line '<idle>' 0 1 d..4. 900 sched_wakeup 'comm=bash pid=2500 prio=120 target_cpu=001' '-------'
} > "$dir/synth.trace"

# CPU 0: stress from the first line to 100 us; kworker/0:1 then memfd:sealed-91 (one window,
# they touch) 250-420; stress again from 510 to the last line (900). CPU 1: bash ran before its
# first switch (since the first line) to 50 and again 600-700. CPU 2 is not selected; the
# "CPU N/KVM" threads and the idle task are excluded.
cat > "$dir/synth.expected" <<'EOF'
0 0 100
0 250 420
0 510 900
1 0 50
1 600 700
EOF
