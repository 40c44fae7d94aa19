#!/usr/bin/env bash
# Times the README's first quick-start command on a fresh Debian bookworm: a minimal root file
# system made by debootstrap (nothing of this machine's packages), a clean clone of the repository
# in it, then `tools/scripts/setup.sh && build/vcpusim run scenarios/vdso-time-backwards.json` as root in a
# chroot, apt downloads included. Prints the apt, build and run times. Needs root and the network.
# Usage: tools/scripts/first_run_time.sh [WORK_DIR]   (default: a new directory under /tmp; removed after)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "first_run_time.sh: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
root=${1:-$(mktemp -d /tmp/fresh-bookworm.XXXXXX)}
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null || true; done
  [ -z "${1:-}" ] && rm -rf --one-file-system "$root"
}
trap 'cleanup "${1:-}"' EXIT

echo "first_run_time: debootstrap bookworm (minbase) into $root"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$root.debootstrap.log" 2>&1 ||
  { tail -5 "$root.debootstrap.log" >&2; exit 1; }
rm -f "$root.debootstrap.log"
for d in proc sys dev dev/pts; do mount --bind "/$d" "$root/$d"; mounted+=("$root/$d"); done
cp /etc/resolv.conf "$root/etc/resolv.conf"
git clone -q "$here" "$root/root/vcpusim"

# The same command as the README, split only to time its parts (setup.sh prints "setup:
# installing" before apt and nothing else before the build starts).
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /bin/bash -c '
  cd /root/vcpusim
  t0=$(date +%s%N)
  tools/scripts/setup.sh --no-build >/root/apt.log 2>&1 || { tail -20 /root/apt.log; exit 1; }
  t1=$(date +%s%N)
  tools/scripts/setup.sh >/root/build.log 2>&1 || { tail -20 /root/build.log; exit 1; }
  t2=$(date +%s%N)
  build/vcpusim run scenarios/vdso-time-backwards.json >/root/run.log 2>&1 || { tail -20 /root/run.log; exit 1; }
  t3=$(date +%s%N)
  ms() { echo $(( ($2 - $1) / 1000000 )); }
  printf "| apt (packages and downloads) | %d.%03d s |\n" $(( $(ms $t0 $t1) / 1000 )) $(( $(ms $t0 $t1) % 1000 ))
  printf "| build (cmake, ninja vcpusim on %d cores) | %d.%03d s |\n" "$(nproc)" $(( $(ms $t1 $t2) / 1000 )) $(( $(ms $t1 $t2) % 1000 ))
  printf "| demo run | %d.%03d s |\n" $(( $(ms $t2 $t3) / 1000 )) $(( $(ms $t2 $t3) % 1000 ))
  printf "| first quick-start command in total | %d.%03d s |\n" $(( $(ms $t0 $t3) / 1000 )) $(( $(ms $t0 $t3) % 1000 ))
  tail -2 /root/run.log
'
