#!/usr/bin/env bash
# Writes a small synthesised host recording in three text forms and what a `trace` host load must
# read from it (docs/host-trace.md), for tests/host_trace_test.cpp:
#   DIR/synth.trace     the recording: header, sched_switch and sched_wakeup lines, an irq line,
#                       a CPU the load does not select, the QEMU vCPU threads "CPU N/KVM" (comms
#                       with a space), a comm holding "-91", the record-tgid column, lines without
#                       the irq-info flags, a newer kernel's extra next_policy field, hard and
#                       soft interrupts (one during a vCPU thread, one splitting a load's run), a
#                       real-time thread (prio 0) and a niced one (prio 125)
#   DIR/synth.report    the same events as `trace-cmd report` prints them (cpus=N, the plugin's
#                       "COMM:PID [PRIO] STATE ==> COMM:PID [PRIO]")
#   DIR/synth.perf      the same events as `perf sched script` prints them ("COMM PID [CPU]
#                       TIME: SUBSYSTEM:EVENT:", "PID/TID" where the tgid is known)
#   DIR/synth.expected  per trace CPU 0 and 1, with the default exclude list and the whole
#                       recording as window, relative to the first line: "busy CPU START_US
#                       END_US PRIO" (a thread ran) and "irq CPU START_US END_US" (interrupt time)
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
  local id=$pid subsystem=sched
  [ -n "$tgid" ] && [ "$tgid" != ------- ] && id="$tgid/$pid"
  case $event in irq_* | softirq_*) subsystem=irq ;; tracing_mark_write) subsystem=ftrace ;; esac
  printf '%16s %5s [%03d] %s: %25s %s\n' "$comm" "$id" "$cpu" "$stamp" "$subsystem:$event:" \
    "$fields" >> "$dir/synth.perf"
}
# sw PREV_COMM PREV_PID PREV_STATE NEXT_COMM NEXT_PID PREV_PRIO NEXT_PRIO: sched_switch fields
# (TP_printk's form).
sw() {
  printf 'prev_comm=%s prev_pid=%s prev_prio=%s prev_state=%s ==> next_comm=%s next_pid=%s next_prio=%s' \
    "$1" "$2" "$6" "$3" "$4" "$5" "$7"
}
# rsw: the same in trace-cmd report's form.
rsw() {
  printf '%s:%s [%s] %s ==> %s:%s [%s]' "$1" "$2" "$6" "$3" "$4" "$5" "$7"
}
# switch COMM PID CPU FLAGS T_US PREV_COMM PREV_PID STATE NEXT_COMM NEXT_PID [EXTRA] [TGID]
#        [PREV_PRIO] [NEXT_PRIO]
switch() {
  local pp=${13:-120} np=${14:-120}
  ev "$1" "$2" "$3" "$4" "$5" sched_switch "$(sw "$6" "$7" "$8" "$9" "${10}" "$pp" "$np")${11:-}" \
    "$(rsw "$6" "$7" "$8" "$9" "${10}" "$pp" "$np")" "${12:-}"
}
irq() {  # COMM PID CPU T_US EVENT FIELDS
  ev "$1" "$2" "$3" d.h2. "$4" "$5" "$6" "$6"
}
wakeup() {  # COMM PID CPU FLAGS T_US WOKEN_COMM WOKEN_PID TARGET [TGID]
  ev "$1" "$2" "$3" "$4" "$5" sched_wakeup \
    "$(printf 'comm=%s pid=%s prio=120 target_cpu=%03d' "$6" "$7" "$8")" \
    "$(printf '%s:%s [120] CPU:%03d' "$6" "$7" "$8")" "${9:-}"
}

printf '%s\n' '# tracer: nop' '#' '# entries-in-buffer/entries-written: 20/20   #P:3' '#' \
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION' \
  '#              | |         |   |||||     |         |' > "$dir/synth.trace"
echo 'cpus=3' > "$dir/synth.report"
: > "$dir/synth.perf"
switch '<idle>' 0 0 d..2. 0 swapper/0 0 R stress 2001
switch bash 2500 1 d..2. 50 bash 2500 R+ 'CPU 1/KVM' 3002
switch stress 2001 0 d..2. 100 stress 2001 R+ 'CPU 0/KVM' 3001
switch '<idle>' 0 2 d..2. 150 swapper/2 0 R other 4000
irq 'CPU 1/KVM' 3002 1 200 irq_handler_entry 'irq=24 name=virtio0'
irq 'CPU 1/KVM' 3002 1 210 irq_handler_exit 'irq=24 ret=handled'
switch 'CPU 0/KVM' 3001 0 d..2. 250 'CPU 0/KVM' 3001 S kworker/0:1 40 '' 2900
switch kworker/0:1 40 0 - 300 kworker/0:1 40 I memfd:sealed-91 22161
switch memfd:sealed-91 22161 0 d..2. 420 memfd:sealed-91 22161 S swapper/0 0
wakeup '<idle>' 0 0 dNh4. 500 stress 2001 0
switch '<idle>' 0 0 d..2. 510 swapper/0 0 R stress 2001 ' next_policy=0'
irq stress 2001 0 600 irq_handler_entry 'irq=11 name=eth0'
switch 'CPU 1/KVM' 3002 1 d..2. 600 'CPU 1/KVM' 3002 R+ bash 2500 '' 2900
irq stress 2001 0 605 irq_handler_exit 'irq=11 ret=handled'
irq stress 2001 0 605 softirq_entry 'vec=3 [action=NET_RX]'
irq stress 2001 0 620 softirq_exit 'vec=3 [action=NET_RX]'
switch bash 2500 1 - 700 bash 2500 S swapper/1 0
switch '<idle>' 0 1 d..2. 750 swapper/1 0 R migration/1 21 '' '' 120 0
switch migration/1 21 1 d..2. 800 migration/1 21 S nicejob 5000 '' '' 0 125
switch nicejob 5000 1 d..2. 850 nicejob 5000 S swapper/1 0 '' '' 125 120
wakeup '<idle>' 0 1 d..4. 900 bash 2500 1 '-------'

# CPU 0: stress from the first line to 100 us; kworker/0:1 then memfd:sealed-91 (one window,
# they touch) 250-420; stress again from 510 to the last line (900), but for the interrupts at
# 600-620 (a hard irq, then the softirq it raised). CPU 1: bash ran before its first switch
# (since the first line) to 50 and again 600-700; then migration/1 (real-time, prio 0) 750-800
# and nicejob (nice 5) 800-850, which touch but differ in priority; an interrupt hit the vCPU
# thread at 200-210. CPU 2 is not selected; the "CPU N/KVM" threads and the idle task are
# excluded.
cat > "$dir/synth.expected" <<'EOF'
busy 0 0 100 120
busy 0 250 420 120
busy 0 510 600 120
busy 0 620 900 120
irq 0 600 620
busy 1 0 50 120
busy 1 600 700 120
busy 1 750 800 0
busy 1 800 850 125
irq 1 200 210
EOF
