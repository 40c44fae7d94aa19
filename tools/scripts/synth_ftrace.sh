#!/usr/bin/env bash
# Writes a small synthesised ftrace text recording (two forms) and the busy windows a `trace` host load must
# read from it (docs/host-trace.md), for tests/host_trace_test.cpp:
#   DIR/synth.trace     the recording: header, sched_switch and sched_wakeup lines, an irq line,
#                       a CPU the load does not select, the QEMU vCPU threads "CPU N/KVM" (comms
#                       with a space), a comm holding "-91", the record-tgid column, lines without
#                       the irq-info flags, a newer kernel's extra next_policy field
#   DIR/synth.report    the same events as `trace-cmd report` prints them (cpus=N, the plugin's
#                       "COMM:PID [PRIO] STATE ==> COMM:PID [PRIO]")
#   DIR/synth.expected  per trace CPU 0 and 1, the windows with the default exclude list and the
#                       whole recording as window: "CPU START_US END_US", relative to the first line
# Usage: tools/scripts/synth_ftrace.sh [DIR]   (default: tests/inputs/host_trace)
set -euo pipefail
dir=${1:-$(dirname "$0")/../../tests/inputs/host_trace}
mkdir -p "$dir"
origin=1000  # seconds: a recording's times are the host's uptime

# ev COMM PID CPU FLAGS T_US EVENT FIELDS REPORT_FIELDS [TGID]: one event, appended to both
# forms. synth.trace in trace_print_context's columns ("%16s-%-7d [%03d] FLAGS %5lu.%06lu: EVENT:
# FIELDS"; FLAGS "-" leaves the irq-info column out); synth.report as `trace-cmd report` prints it
# ("%16s-%-5d [%03d] %5lu.%06lu: EVENT:" padded to 22, then libtraceevent's plugin form).
ev() {
  local comm=$1 pid=$2 cpu=$3 flags=$4 t=$5 event=$6 fields=$7 report=$8 tgid=${9:-}
  local stamp task
  stamp=$(printf '%5d.%06d' $((origin + t / 1000000)) $((t % 1000000)))
  task=$(printf '%16s-%-7d ' "$comm" "$pid")
  [ -n "$tgid" ] && task+=$(printf '(%7s) ' "$tgid")
  if [ "$flags" = - ]; then
    printf '%s[%03d] %s: %s: %s\n' "$task" "$cpu" "$stamp" "$event" "$fields" >> "$dir/synth.trace"
  else
    printf '%s[%03d] %s %s: %s: %s\n' "$task" "$cpu" "$flags" "$stamp" "$event" "$fields" \
      >> "$dir/synth.trace"
  fi
  printf '%16s-%-5d [%03d] %s: %-21s %s\n' "$comm" "$pid" "$cpu" "$stamp" "$event:" "$report" \
    >> "$dir/synth.report"
}
# sw PREV_COMM PREV_PID PREV_STATE NEXT_COMM NEXT_PID: sched_switch fields (TP_printk's form).
sw() {
  printf 'prev_comm=%s prev_pid=%s prev_prio=120 prev_state=%s ==> next_comm=%s next_pid=%s next_prio=120' \
    "$1" "$2" "$3" "$4" "$5"
}
# rsw: the same in trace-cmd report's form.
rsw() {
  printf '%s:%s [120] %s ==> %s:%s [120]' "$1" "$2" "$3" "$4" "$5"
}
# both NAME ARGS...: the two forms of a switch, as the last two arguments of ev.
both() {
  local extra=${6:-}
  ev_args+=("$(sw "$1" "$2" "$3" "$4" "$5")$extra" "$(rsw "$1" "$2" "$3" "$4" "$5")")
}
switch() {  # COMM PID CPU FLAGS T_US PREV_COMM PREV_PID STATE NEXT_COMM NEXT_PID [EXTRA] [TGID]
  ev_args=()
  both "$6" "$7" "$8" "$9" "${10}" "${11:-}"
  ev "$1" "$2" "$3" "$4" "$5" sched_switch "${ev_args[0]}" "${ev_args[1]}" "${12:-}"
}
wakeup() {  # COMM PID CPU FLAGS T_US WOKEN_COMM WOKEN_PID TARGET [TGID]
  ev "$1" "$2" "$3" "$4" "$5" sched_wakeup \
    "$(printf 'comm=%s pid=%s prio=120 target_cpu=%03d' "$6" "$7" "$8")" \
    "$(printf '%s:%s [120] CPU:%03d' "$6" "$7" "$8")" "${9:-}"
}

printf '%s\n' '# tracer: nop' '#' '# entries-in-buffer/entries-written: 13/13   #P:3' '#' \
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION' \
  '#              | |         |   |||||     |         |' > "$dir/synth.trace"
echo 'cpus=3' > "$dir/synth.report"
switch '<idle>' 0 0 d..2. 0 swapper/0 0 R stress 2001
switch bash 2500 1 d..2. 50 bash 2500 R+ 'CPU 1/KVM' 3002
switch stress 2001 0 d..2. 100 stress 2001 R+ 'CPU 0/KVM' 3001
switch '<idle>' 0 2 d..2. 150 swapper/2 0 R other 4000
ev 'CPU 1/KVM' 3002 1 d.h3. 200 irq_handler_entry 'irq=24 name=virtio0' 'irq=24 name=virtio0'
switch 'CPU 0/KVM' 3001 0 d..2. 250 'CPU 0/KVM' 3001 S kworker/0:1 40 '' 2900
switch kworker/0:1 40 0 - 300 kworker/0:1 40 I memfd:sealed-91 22161
switch memfd:sealed-91 22161 0 d..2. 420 memfd:sealed-91 22161 S swapper/0 0
wakeup '<idle>' 0 0 dNh4. 500 stress 2001 0
switch '<idle>' 0 0 d..2. 510 swapper/0 0 R stress 2001 ' next_policy=0'
switch 'CPU 1/KVM' 3002 1 d..2. 600 'CPU 1/KVM' 3002 R+ bash 2500 '' 2900
switch bash 2500 1 - 700 bash 2500 S swapper/1 0
wakeup '<idle>' 0 1 d..4. 900 bash 2500 1 '-------'

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
