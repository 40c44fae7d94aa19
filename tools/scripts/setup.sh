#!/usr/bin/env bash
# Installs what vcpusim needs on Debian bookworm (idempotent) and builds it into build/.
# Usage: tools/scripts/setup.sh [--tests] [--no-build] [--build-dir DIR] [--sanitize] [--fuzz]
#   (default) the packages to build and run vcpusim; builds only the vcpusim binary
#   --tests   also the test tools (GoogleTest, Google Benchmark, Chromium, GTKWave, Node.js, npm
#             packages, help2man for the man page); builds every target, the tests included
#             (with --sanitize: only the binary and the tests, with ASan+UBSan)
#   --fuzz    clang and libFuzzer; builds the fuzz/ targets with ASan+UBSan (give it its own
#             --build-dir, e.g. build-fuzz); with --tests also the binary and the tests there
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build_dir="$here/build"
do_build=1
tests=0
sanitize=""
fuzz=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tests) tests=1 ;;
    --no-build) do_build=0 ;;
    --build-dir) build_dir="$2"; shift ;;
    --sanitize) sanitize="address;undefined" ;;
    --fuzz) fuzz=1; sanitize="address;undefined" ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

# To build and run vcpusim (one package per line: add new ones here).
runtime_packages=(
  build-essential
  cmake
  ninja-build
  pkg-config
  libsystemc-dev
  libboost-program-options-dev
  libboost-context-dev  # the guest coroutines' stack switches (sim/core/kernel.cpp)
  nlohmann-json3-dev
  gnuplot-nox  # draws the plots of `vcpusim sweep` (its SVG terminal; README "Sweeps")
  libdw-dev  # file:line of a data race in an instrumented C plugin (docs/c-guest-code.md)
)
# Only for the tests, the benchmarks and the .deb: chromium, gtkwave (vcd2fst/fst2vcd) and nodejs
# are for the trace tests (docs/trace.md); help2man writes the man page from --help.
test_packages=(
  libgtest-dev
  libbenchmark-dev
  chromium
  gtkwave
  nodejs
  help2man
  jq  # reads result JSON in the table scripts (tools/scripts/lock_table.sh, explore_table.sh, and
      # explore_user_table.sh, which ctest runs with --reduced)
  bc  # rates in tools/scripts/explore_table.sh
  clang  # tools/scripts/package_test.sh builds every C example with gcc and clang
  # a real single-node Slurm for tests/slurm_sweep_test.cpp (the fixture in tests/slurm/)
  slurmctld
  slurmd
  slurm-client
  munge
)

packages=("${runtime_packages[@]}")
[ "$tests" = 1 ] && packages+=("${test_packages[@]}")
# npm comes with some Node.js builds; Debian's own nodejs needs the npm package besides.
[ "$tests" = 1 ] && ! command -v npm >/dev/null 2>&1 && packages+=(npm)
# libFuzzer ships in Debian's clang runtime package (bookworm's clang is 14).
[ "$fuzz" = 1 ] && packages+=(clang libclang-rt-14-dev)
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

# The browser tests' JavaScript (speedscope, playwright-core) from the committed lock file; the
# browser is Debian's /usr/bin/chromium, never a downloaded one.
viewer="$here/tests/trace-viewer"
if [ "$tests" = 1 ] &&
   ! cmp -s "$viewer/package-lock.json" "$viewer/node_modules/.package-lock.json.installed" 2>/dev/null; then
  echo "setup: npm ci in tests/trace-viewer"
  (cd "$viewer" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 \
     npm ci --no-audit --no-fund --loglevel=error)
  cp "$viewer/package-lock.json" "$viewer/node_modules/.package-lock.json.installed"
fi

if [ "$do_build" = 1 ] && [ "$fuzz" = 1 ]; then
  # With --tests the same build holds the sanitizer suite (.ci/run): one clang ASan+UBSan build
  # for both, and the pinned fingerprints checked under clang as well as gcc.
  fuzz_targets=(scenario_fuzzer trace_fuzzer result_fuzzer replay_fuzzer sweep_fuzzer
                host_trace_fuzzer)
  [ "$tests" = 1 ] && fuzz_targets+=(vcpusim vcpusim_tests)
  CC=clang CXX=clang++ cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DVCPUSIM_SANITIZE="$sanitize" -DVCPUSIM_FUZZ=ON -DVCPUSIM_TESTS="$tests" >/dev/null
  cmake --build "$build_dir" -j "$(nproc)" --target "${fuzz_targets[@]}"
  exit 0
fi

if [ "$do_build" = 1 ]; then
  # Without --tests an existing build directory keeps its VCPUSIM_TESTS setting.
  tests_flag=()
  [ "$tests" = 1 ] && tests_flag=(-DVCPUSIM_TESTS=ON)
  # Release (-O2, no debug info) for speed of building; sanitizer builds keep line tables (-g1).
  build_type=Release
  [ -n "$sanitize" ] && build_type=RelWithDebInfo
  cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" \
        -DVCPUSIM_SANITIZE="$sanitize" "${tests_flag[@]}" >/dev/null
  if [ "$tests" = 1 ] && [ -n "$sanitize" ]; then
    # What the sanitizer suite runs (the tests and the binary they call), not the benchmarks.
    cmake --build "$build_dir" -j "$(nproc)" --target vcpusim vcpusim_tests
  elif [ "$tests" = 1 ]; then
    cmake --build "$build_dir" -j "$(nproc)"
  else
    cmake --build "$build_dir" -j "$(nproc)" --target vcpusim
  fi
fi
