#!/usr/bin/env bash
# Builds the .deb with CPack from BUILD_DIR, installs it with apt (which pulls its dependencies),
# checks the installed man page, completion, schema and catalogue, runs the demo from the installed
# scenarios, and removes the package again. Run as root on a machine without vcpusim installed.
# Usage: tools/scripts/package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/vcpusim_*.deb | head -1)
echo "package: $(basename "$deb")"
dpkg-deb --field "$deb" Package Version Depends
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
trap 'DEBIAN_FRONTEND=noninteractive $sudo apt-get remove -y -qq vcpusim >/dev/null' EXIT
for f in /usr/bin/vcpusim /usr/share/man/man1/vcpusim.1.gz \
         /usr/share/bash-completion/completions/vcpusim \
         /usr/share/vcpusim/scenarios/scenario.schema.json \
         /usr/share/vcpusim/scenarios/vdso-time-backwards.json; do
  [ -e "$f" ] || { echo "package: $f is missing"; exit 1; }
done
# Every scenario (catalogue, explore, sweeps) and every page of docs/ that --help and the man page
# cite is installed, with the source tree's layout.
src=$(cd "$(dirname "$0")/../.." && pwd)
(cd "$src" && find scenarios -type f) | while read -r f; do
  [ -e "/usr/share/vcpusim/$f" ] || { echo "package: /usr/share/vcpusim/$f is missing"; exit 1; }
done
(cd "$src" && find README.md docs -type f) | while read -r f; do
  [ -e "/usr/share/doc/vcpusim/$f" ] || { echo "package: /usr/share/doc/vcpusim/$f is missing"; exit 1; }
done
vcpusim validate /usr/share/vcpusim/scenarios/explore/vdso-unplaced.json >/dev/null
out=$(cd / && vcpusim run /usr/share/vcpusim/scenarios/vdso-time-backwards.json)
echo "$out" | grep -q '^expect: met$' || { echo "$out"; echo "package: the demo failed"; exit 1; }
echo "$out" | grep '^violations'
zcat /usr/share/man/man1/vcpusim.1.gz | grep -q '^\.SS timeline' || { echo "package: man page"; exit 1; }
bash -c 'source /usr/share/bash-completion/completions/vcpusim && complete -p vcpusim' >/dev/null
# C guest code from the package alone (docs/c-guest-code.md): every installed example, built
# against the installed headers with gcc and with clang, through pkg-config and through
# `vcpusim cc`, then run from the installed catalogue. Nothing of the source tree is used.
[ -e /usr/share/pkgconfig/vcpusim.pc ] || { echo "package: vcpusim.pc is missing"; exit 1; }
examples=/usr/share/doc/vcpusim/examples
catalogue=/usr/share/vcpusim/scenarios
# How each example runs: plain or instrumented (`vcpusim cc --instrument` only), the scenario
# (catalogue/NAME or examples/NAME, both installed) and --set arguments. A new example needs a
# line here.
declare -A example_run=(
  [ticket_lock]="plain catalogue/lock-holder-preemption.json --set guest.locks.kind=c:ticket"
  [mcs_lock]="plain catalogue/lock-holder-preemption.json --set guest.locks.kind=c:mcs"
  [pv_hash_lock]="plain examples/pv_hash_lock.json"
  [timekeeper]="plain examples/timekeeper.json"
  [racy_counter]="instrument examples/racy_counter.json"
)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"; DEBIAN_FRONTEND=noninteractive $sudo apt-get remove -y -qq vcpusim >/dev/null' EXIT
for src in "$examples"/*.c; do
  name=$(basename "$src" .c)
  [ -n "${example_run[$name]:-}" ] || { echo "package: no run for example $name"; exit 1; }
  read -r -a run_args <<< "${example_run[$name]}"
  mode=${run_args[0]}
  case "${run_args[1]}" in
    catalogue/*) scenario="$catalogue/${run_args[1]#catalogue/}" ;;
    examples/*) scenario="$examples/${run_args[1]#examples/}" ;;
  esac
  for cc in gcc clang; do
    sos=()
    if [ "$mode" = instrument ]; then
      CC=$cc vcpusim cc --instrument "$src" -o "$scratch/$name-$cc-cc.so"
      sos=("$scratch/$name-$cc-cc.so")
    else
      # shellcheck disable=SC2046  # pkg-config's flags are words
      $cc $(pkg-config --cflags --libs vcpusim) -O2 -Wall -Werror "$src" -o "$scratch/$name-$cc.so"
      CC=$cc vcpusim cc "$src" -o "$scratch/$name-$cc-cc.so"
      sos=("$scratch/$name-$cc.so" "$scratch/$name-$cc-cc.so")
    fi
    for so in "${sos[@]}"; do
      (cd "$scratch" && vcpusim run "$scenario" --plugin "$so" "${run_args[@]:2}" --quiet) ||
        { echo "package: example $name ($cc, $so) failed"; exit 1; }
    done
  done
  echo "package: example $name ($mode) built with gcc and clang against the installed headers, ran"
done
echo "package: installed, ran the demo, removing"
