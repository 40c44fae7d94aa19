#!/usr/bin/env bash
# Keeps the shell transcripts of one Markdown file (README.md or docs/*.md) true; ctest runs it
# once per file (DocTranscripts.StayTrue/FILE, tests/CMakeLists.txt). In a scratch directory
# holding build/ and links to the tree's scenarios/, tests/, bench/, tools/, docs/ and
# examples/, the file's fenced blocks run in order, so a block may use the files an earlier one
# wrote:
#   ```console  every "$ command" line runs with bash (a line ending in "\" continues on the next);
#               the lines under it, up to the next "$ ", are its output (stdout and stderr),
#               which must match after masking (below). A line "..." alone stands for any number
#               of lines. A non-zero exit status must be shown as a last line "[exit N]".
#   ```sh       runs with bash -e and must exit 0; its output is not compared.
#   anything else (```text, ```json, ...) is illustrative and never run: commands that install,
#               need a cluster or run for minutes, and excerpts. A fence with no language is an
#               error, so that every block says which it is.
# Masking, applied to the expected and the actual output alike, so the docs may show real values:
# wall times ("8.02 s", "17.12s", "ETA 3s", "1350 schedules/s"), the scratch directory and other
# /tmp paths, and 16-digit hex hashes (fingerprints) become "#".
# Usage: tests/doc_transcripts_test.sh BUILD_DIR SOURCE_DIR FILE   (FILE relative to SOURCE_DIR)
# With DOC_TRANSCRIPTS_ACTUAL=DIR, each command's actual output is also kept in DIR
# (BLOCK-K.txt), for tools/scripts/update_doc_transcripts.py.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) doc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$build" "$work/build"
for d in scenarios tests bench tools docs examples; do ln -s "$src/$d" "$work/$d"; done
mkdir "$work/.blocks"

# Split the file into numbered blocks; a fence without a language is reported.
bare=$(awk -v dir="$work/.blocks" '
  /^```/ && inb   { inb = 0; if (f != "") close(f); next }
  /^```console$/  { n++; f = sprintf("%s/%03d.console", dir, n); printf "" > f; inb = 1; next }
  /^```sh$/       { n++; f = sprintf("%s/%03d.sh", dir, n); printf "" > f; inb = 1; next }
  /^```$/         { print FILENAME ":" NR; f = ""; inb = 1; next }
  /^```/          { f = ""; inb = 1; next }
  inb && f != ""  { print > f }
' "$src/$doc")
if [ -n "$bare" ]; then
  echo "FAIL: a fenced block without a language (console, sh, text, json, ...) at:"
  echo "$bare"
  exit 1
fi

mask() {
  sed -E -e "s#$work#/tmp/#g" \
    -e 's#/tmp/[^ :,"'"'"')]*#/tmp/\##g' \
    -e 's/\b[0-9a-f]{16}\b/#/g' \
    -e 's/\b[0-9]+(\.[0-9]+)? ?s\b/# s/g' \
    -e 's/\b[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)? schedules\/s/# schedules\/s/g'
}

# 0 when the masked expected lines (file 1, "..." a wildcard) match the actual ones (file 2).
matches() {
  awk '
    FNR == NR { w[++n] = $0; next }
    { g[++m] = $0 }
    function at(i, j,    k) {
      if (i > n) return j > m
      if (w[i] ~ /^ *\.\.\.$/) {
        for (k = j; k <= m + 1; k++) if (at(i + 1, k)) return 1
        return 0
      }
      return j <= m && w[i] == g[j] && at(i + 1, j + 1)
    }
    END { exit at(1, 1) ? 0 : 1 }
  ' "$1" "$2"
}

failed=0 ran=0
for block in "$work"/.blocks/*; do
  [ -e "$block" ] || continue
  case "$block" in
    *.sh)
      ran=$((ran + 1))
      if ! (cd "$work" && bash -e "$block" >/dev/null 2>&1); then
        echo "FAIL: sh block $(basename "$block") of $doc exited non-zero:"; cat "$block"; failed=1
      fi ;;
    *.console)
      # One pair of files per "$ " line: the command and the output expected from it.
      rm -f "$work"/.cmd.* "$work"/.want.*
      awk -v dir="$work" '
        cont        { print > cmd; cont = /\\$/; next }
        /^\$ /      { k++; cmd = sprintf("%s/.cmd.%03d", dir, k); print substr($0, 3) > cmd
                      printf "" > sprintf("%s/.want.%03d", dir, k); cont = /\\$/; next }
        k > 0       { print >> sprintf("%s/.want.%03d", dir, k) }
      ' "$block"
      if ! ls "$work"/.cmd.* >/dev/null 2>&1; then
        echo "FAIL: console block $(basename "$block") of $doc has no \"\$ \" command"; failed=1
        continue
      fi
      for cmd in "$work"/.cmd.*; do
        ran=$((ran + 1))
        want=${cmd/.cmd./.want.}
        status=0
        (cd "$work" && bash "$cmd") >"$work/.got" 2>&1 || status=$?
        [ "$status" = 0 ] || echo "[exit $status]" >>"$work/.got"
        # tools/scripts/update_doc_transcripts.py reads what each command printed from here.
        if [ -n "${DOC_TRANSCRIPTS_ACTUAL:-}" ]; then
          cp "$work/.got" "$DOC_TRANSCRIPTS_ACTUAL/$(basename "$block" .console)-${cmd##*.cmd.}.txt"
        fi
        mask <"$want" >"$work/.want.masked"
        mask <"$work/.got" >"$work/.got.masked"
        if ! matches "$work/.want.masked" "$work/.got.masked"; then
          echo "FAIL: $doc: \$ $(cat "$cmd")"
          diff "$work/.want.masked" "$work/.got.masked" || true
          failed=1
        fi
      done ;;
  esac
done
echo "$doc: $ran commands/blocks run"
exit $failed
