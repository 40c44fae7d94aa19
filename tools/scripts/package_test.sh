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
echo "package: installed, ran the demo, removing"
