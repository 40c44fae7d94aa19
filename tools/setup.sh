#!/usr/bin/env bash
# Installs what vcpusim needs on Debian bookworm (idempotent) and builds it into build/.
# Usage: tools/setup.sh [--no-build] [--build-dir DIR] [--sanitize]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$here/build"
do_build=1
sanitize=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) do_build=0 ;;
    --build-dir) build_dir="$2"; shift ;;
    --sanitize) sanitize="address;undefined" ;;
    -h|--help) sed -n '2,3p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

# chromium, gtkwave (vcd2fst/fst2vcd) and nodejs are for the trace tests (docs/trace.md).
packages=(build-essential cmake ninja-build pkg-config libsystemc-dev libboost-program-options-dev
          nlohmann-json3-dev libgtest-dev libbenchmark-dev chromium gtkwave nodejs)
# gnuplot draws the plots of `vcpusim sweep` (its SVG terminal; README "Sweeps").
packages+=(gnuplot-nox)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm comes with some Node.js builds; Debian's own nodejs needs the npm package besides.
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing npm"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm
fi

# The browser tests' JavaScript (speedscope, playwright-core) from the committed lock file; the
# browser is Debian's /usr/bin/chromium, never a downloaded one.
viewer="$here/tests/trace-viewer"
if ! cmp -s "$viewer/package-lock.json" "$viewer/node_modules/.package-lock.json.installed" 2>/dev/null; then
  echo "setup: npm ci in tests/trace-viewer"
  (cd "$viewer" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 \
     npm ci --no-audit --no-fund --loglevel=error)
  cp "$viewer/package-lock.json" "$viewer/node_modules/.package-lock.json.installed"
fi

if [ "$do_build" = 1 ]; then
  cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DVCPUSIM_SANITIZE="$sanitize" >/dev/null
  cmake --build "$build_dir" -j "$(nproc)"
fi
