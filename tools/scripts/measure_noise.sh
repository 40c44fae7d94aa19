#!/usr/bin/env bash
# Measures this machine's kernel housekeeping ("OS noise") for a while with tracefs: device
# interrupts (irq:irq_handler_entry/exit), APIC interrupts (irq_vectors: the local timer tick,
# reschedule and function-call IPIs, irq_work), softirqs (irq:softirq_entry/exit) and kworker run time
# (sched:sched_switch into and out of threads named kworker/*). Prints per CPU, per second: the
# event rate, mean duration and the fraction of the CPU each took, the inputs of host.noise
# (docs/host-noise.md). Timestamps come from the x86-tsc trace clock (ns-resolution durations;
# the text trace prints the default clocks in us), converted with two trace_marker stamps.
# Needs root and tracefs; mounts /sys/kernel/tracing when it is not mounted (and unmounts it
# after). The trace settings it changes are put back on exit.
# Usage: tools/scripts/measure_noise.sh [SECONDS]   (default 10)
set -euo pipefail
secs=${1:-10}
case $secs in '' | *[!0-9]*) echo "measure_noise.sh: SECONDS must be a whole number" >&2; exit 2 ;; esac
[ "$secs" -ge 1 ] || { echo "measure_noise.sh: SECONDS must be at least 1" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "measure_noise.sh: needs root (tracefs)" >&2; exit 2; }
T=/sys/kernel/tracing
mounted_here=0
if [ ! -e "$T/trace" ]; then
  mount -t tracefs nodev "$T" || { echo "measure_noise.sh: cannot mount tracefs on $T" >&2; exit 2; }
  mounted_here=1
fi
out=$(mktemp /tmp/measure_noise.XXXXXX)
old_clock=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$T/trace_clock")
old_buf=$(sed 's/ .*//' "$T/buffer_size_kb")
old_on=$(cat "$T/tracing_on")
restore() {
  echo 0 >"$T/tracing_on"
  echo >"$T/set_event"
  echo "$old_clock" >"$T/trace_clock"
  echo "$old_buf" >"$T/buffer_size_kb"
  echo >"$T/trace"
  echo "$old_on" >"$T/tracing_on"
  rm -f "$out"
  [ "$mounted_here" = 1 ] && umount "$T" 2>/dev/null || true
}
trap restore EXIT

echo 0 >"$T/tracing_on"
echo >"$T/set_event"
echo x86-tsc >"$T/trace_clock"
echo 16384 >"$T/buffer_size_kb"
echo >"$T/trace"
for e in irq:irq_handler_entry irq:irq_handler_exit irq:softirq_entry irq:softirq_exit \
  irq_vectors:local_timer_entry irq_vectors:local_timer_exit irq_vectors:reschedule_entry \
  irq_vectors:reschedule_exit irq_vectors:call_function_entry irq_vectors:call_function_exit \
  irq_vectors:call_function_single_entry irq_vectors:call_function_single_exit \
  irq_vectors:irq_work_entry irq_vectors:irq_work_exit sched:sched_switch; do
  echo "$e" >>"$T/set_event"
done
echo 1 >"$T/tracing_on"
echo "noise_mark $(date +%s%N)" >"$T/trace_marker"
sleep "$secs"
echo "noise_mark $(date +%s%N)" >"$T/trace_marker"
echo 0 >"$T/tracing_on"
cat "$T/trace" >"$out"
lost=$(grep -o 'entries-in-buffer/entries-written: [0-9]*/[0-9]*' "$out" || true)

# Fields of the text trace: TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: ...
awk -v lost="$lost" '
  function cpu_of(s) { gsub(/[\[\]]/, "", s); return s + 0 }
  /^#/ { next }
  {
    c = -1; ts = -1; ev = ""
    for (i = 1; i <= NF; i++) {
      if (c < 0 && $i ~ /^\[[0-9]+\]$/) c = cpu_of($i)
      else if (c >= 0 && ts < 0 && $i ~ /^[0-9]+:$/) { ts = substr($i, 1, length($i) - 1); ev = $(i + 1); rest = i + 2; break }
    }
    if (ts < 0) next
    cpus[c] = 1
    if (ev == "tracing_mark_write:" && $(rest) == "noise_mark") {
      nm++; mark_tsc[nm] = ts; mark_ns[nm] = $(rest + 1); next
    }
    if (ev == "irq_handler_entry:") { irq_start[c] = ts; split($(rest), a, "="); name[c] = $(rest + 1) }
    else if (ev == "irq_handler_exit:" && (c in irq_start)) {
      irqn[c]++; irqt[c] += ts - irq_start[c]; delete irq_start[c]
    } else if (ev ~ /^(local_timer|reschedule|call_function|call_function_single|irq_work)_entry:$/) {
      ap_start[c] = ts; ap_kind[c] = ev
    } else if (ev ~ /^(local_timer|reschedule|call_function|call_function_single|irq_work)_exit:$/ && (c in ap_start)) {
      k = ap_kind[c]; sub(/_entry:$/, "", k); d = ts - ap_start[c]
      apn[c]++; apt[c] += d; kn[k]++; kt[k] += d; delete ap_start[c]
    } else if (ev == "softirq_entry:") { si_start[c] = ts; si_vec[c] = $(rest + 1) }
    else if (ev == "softirq_exit:" && (c in si_start)) {
      v = si_vec[c]; sqn[c]++; sit[c] += ts - si_start[c]; vn[v]++; vt[v] += ts - si_start[c]
      delete si_start[c]
    } else if (ev == "sched_switch:") {
      line = $0
      prev_kw = (line ~ /prev_comm=kworker/); next_kw = (line ~ /next_comm=kworker/)
      if (prev_kw && (c in kw_start)) { kwt[c] += ts - kw_start[c]; delete kw_start[c] }
      if (next_kw) { kwn[c]++; kw_start[c] = ts }
    }
  }
  END {
    if (nm < 2) { print "measure_noise: the trace lost its time marks (buffer too small?)" > "/dev/stderr"; exit 1 }
    tpn = (mark_tsc[2] - mark_tsc[1]) / (mark_ns[2] - mark_ns[1])   # TSC ticks per ns
    span = (mark_ns[2] - mark_ns[1]) / 1e9
    printf "window %.3f s, TSC %.3f GHz, %s\n", span, tpn, lost
    printf "%-4s %10s %10s %8s %10s %10s %8s %10s %10s %8s %10s %10s %8s\n", "cpu", "apic/s", \
      "apic_us", "apic_%", "irq/s", "irq_us", "irq_%", \
      "softirq/s", "sirq_us", "sirq_%", "kworker/s", "kw_us", "kw_%"
    for (c in cpus) {
      printf "%-4d %10.1f %10.2f %8.4f %10.1f %10.2f %8.4f %10.1f %10.2f %8.4f %10.1f %10.2f %8.4f\n", c, \
        apn[c] / span, apn[c] ? apt[c] / apn[c] / tpn / 1e3 : 0, apt[c] / tpn / span / 1e7, \
        irqn[c] / span, irqn[c] ? irqt[c] / irqn[c] / tpn / 1e3 : 0, irqt[c] / tpn / span / 1e7, \
        sqn[c] / span, sqn[c] ? sit[c] / sqn[c] / tpn / 1e3 : 0, sit[c] / tpn / span / 1e7, \
        kwn[c] / span, kwn[c] ? kwt[c] / kwn[c] / tpn / 1e3 : 0, kwt[c] / tpn / span / 1e7
    }
    print "APIC interrupts by kind (all CPUs): count/s, mean us"
    for (k in kn) printf "  %-16s %10.1f %10.2f\n", k, kn[k] / span, kt[k] / kn[k] / tpn / 1e3
    print "softirqs by vector (all CPUs): count/s, mean us"
    for (v in vn) printf "  %-16s %10.1f %10.2f\n", v, vn[v] / span, vt[v] / vn[v] / tpn / 1e3
  }' "$out"
