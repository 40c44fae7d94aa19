#!/usr/bin/env bash
# Stops the Slurm that start-single-node.sh BASE started: cancels its jobs, stops its daemons by
# the PIDs in their pid files, kills leftover job steps of this instance only (by PID), and with
# --rm removes BASE.  Usage: stop-single-node.sh BASE [--rm]
set -uo pipefail
base=${1:?usage: stop-single-node.sh BASE [--rm]}
d=$(cd "$base" 2>/dev/null && pwd) || exit 0
export SLURM_CONF=$d/etc/slurm.conf
host=$(hostname -s)
if [ -f "$SLURM_CONF" ] && command -v squeue >/dev/null; then
  ids=$(squeue -h -o %A 2>/dev/null || true)
  [ -n "$ids" ] && scancel $ids 2>/dev/null
  for _ in $(seq 40); do [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.25; done
fi
stop_pids() {  # SIGTERM, wait up to 15 s, then SIGKILL
  local pids=("$@") alive
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null
  for _ in $(seq 60); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.25
  done
  kill -KILL "${pids[@]}" 2>/dev/null
}
pids=()
for f in "$d/run/slurmd-$host.pid" "$d/run/slurmctld.pid"; do
  [ -f "$f" ] && pids+=("$(cat "$f")")
done
stop_pids "${pids[@]}"
# Job steps of this instance (their environment holds our SLURM_CONF) and their descendants.
steps=()
while read -r pid comm; do
  [ "$comm" = slurmstepd ] || continue
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "SLURM_CONF=$SLURM_CONF" && steps+=("$pid")
done < <(ps -eo pid=,comm=)
if [ ${#steps[@]} -gt 0 ]; then
  all=("${steps[@]}")
  tree=$(ps -eo pid=,ppid=)
  for _ in 1 2 3 4 5; do
    for p in $(awk -v set=" ${all[*]} " 'index(set, " " $2 " ") && !index(set, " " $1 " ") {print $1}' <<<"$tree"); do
      all+=("$p")
    done
  done
  kill -KILL "${all[@]}" 2>/dev/null
fi
[ -f "$d/munge/munged.pid" ] && stop_pids "$(cat "$d/munge/munged.pid")"
[ "${2:-}" = --rm ] && rm -rf "$d"
exit 0
