#!/usr/bin/env bash
# Starts a private single-node Slurm (munged + slurmctld + slurmd, Debian's slurm-wlm 22.05) whose
# whole state lives in BASE, on free ports of 127.0.0.1; waits until the node is idle. No systemd,
# no cgroups, nothing under /etc. Prints the environment to use it (export SLURM_CONF=...).
# Exit 77 when this machine cannot run it (the reason on stderr), 1 when starting fails.
# Usage: start-single-node.sh BASE      (stop with stop-single-node.sh BASE)
set -euo pipefail
base=${1:?usage: start-single-node.sh BASE}
skip() { echo "slurm fixture: $*" >&2; exit 77; }
for c in munged mungekey slurmctld slurmd sinfo scontrol sbatch squeue scancel; do
  command -v "$c" >/dev/null 2>&1 ||
    skip "$c is missing (.ci/run installs slurmctld slurmd slurm-client munge)"
done
[ "$(id -u)" = 0 ] || skip "needs root (SlurmUser=root, jobs run as root)"
host=$(hostname -s)
mkdir -p "$base"/{etc,munge,state,log,run,jobs,spool/slurmd-"$host"}
# munged wants o+x on every directory of its socket path.
chmod 755 "$base" "$base/munge"
chmod 700 "$base/state"
d=$(cd "$base" && pwd)
for p in $(dirname "$d") "$d"; do
  [ $(( 0$(stat -c %a "$p") & 1 )) = 1 ] || skip "$p is not world-searchable (munged needs o+x): use /tmp"
done

free_port() {
  local p
  for _ in $(seq 100); do
    p=$(( 20000 + RANDOM % 40000 ))
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port" >&2; return 1
}
ctld_port=$(free_port); slurmd_port=$(free_port)
[ "$ctld_port" != "$slurmd_port" ] || slurmd_port=$(free_port)

cat >"$d/etc/slurm.conf" <<CONF
ClusterName=vcpusimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/slurmd-%n
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd-%n.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MaxArraySize=10001
SlurmdTimeout=300
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

sock=$d/munge/munge.socket
mungekey -c -f -k "$d/munge/munge.key" >/dev/null 2>&1 || mungekey -c -k "$d/munge/munge.key"
chmod 600 "$d/munge/munge.key"
munged -S "$sock" --key-file="$d/munge/munge.key" --log-file="$d/munge/munged.log" \
       --pid-file="$d/munge/munged.pid" --seed-file="$d/munge/munged.seed" ||
  { echo "slurm fixture: munged did not start (see $d/munge/munged.log)" >&2; exit 1; }
export SLURM_CONF=$d/etc/slurm.conf
slurmctld -f "$SLURM_CONF" || { echo "slurm fixture: slurmctld did not start ($d/log)" >&2; exit 1; }
slurmd -f "$SLURM_CONF" -N "$host" || { echo "slurm fixture: slurmd did not start ($d/log)" >&2; exit 1; }

# Readiness: the node reports idle (about 1 s here); give up after 60 s.
for _ in $(seq 240); do
  [ "$(sinfo -h -n "$host" -o %t 2>/dev/null)" = idle ] && {
    echo "export SLURM_CONF='$SLURM_CONF'"
    echo "export SLURM_TEST_JOBDIR='$d/jobs'"
    exit 0
  }
  sleep 0.25
done
echo "slurm fixture: node $host never became idle (logs in $d/log)" >&2
exit 1
