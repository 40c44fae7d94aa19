#!/usr/bin/env bash
# Keeps docs/tutorial.md true: in a scratch directory holding build/ and scenarios/, runs every
# ```sh block (each must exit 0) and every "$ command" of a ```console block, whose output must be
# exactly the lines shown under it.
# Usage: tests/tutorial_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$build" "$work/build"
ln -s "$src/scenarios" "$work/scenarios"
mkdir "$work/.blocks"
awk -v dir="$work/.blocks" '
  /^```sh$/      { n++; f = sprintf("%s/%03d.sh", dir, n); inb = 1; next }
  /^```console$/ { n++; f = sprintf("%s/%03d.console", dir, n); inb = 1; next }
  /^```/         { if (inb) { inb = 0; close(f) } next }
  inb            { print > f }
' "$src/docs/tutorial.md"

failed=0 ran=0
for block in "$work"/.blocks/*; do
  case "$block" in
    *.sh)
      ran=$((ran + 1))
      if ! (cd "$work" && bash -e "$block" >/dev/null); then
        echo "FAIL: sh block $(basename "$block") exited non-zero:"; cat "$block"; failed=1
      fi ;;
    *.console)
      # One pair of files per "$ " line: the command and the output expected from it.
      rm -f "$work"/.cmd.* "$work"/.want.*
      awk -v dir="$work" '
        /^\$ / { k++; print substr($0, 3) > sprintf("%s/.cmd.%03d", dir, k);
                 printf "" > sprintf("%s/.want.%03d", dir, k); next }
        { print >> sprintf("%s/.want.%03d", dir, k) }
      ' "$block"
      for cmd in "$work"/.cmd.*; do
        ran=$((ran + 1))
        want=${cmd/.cmd./.want.}
        if ! got=$(cd "$work" && bash "$cmd" 2>&1); then got="$got"$'\n'"(exit status non-zero)"; fi
        if [ "$got" != "$(cat "$want")" ]; then
          echo "FAIL: \$ $(cat "$cmd")"
          diff <(cat "$want") <(printf '%s\n' "$got") || true
          failed=1
        fi
      done ;;
  esac
done
echo "tutorial: $ran commands/blocks run"
[ "$ran" -gt 5 ] || { echo "FAIL: too few commands found in docs/tutorial.md"; exit 1; }
exit $failed
