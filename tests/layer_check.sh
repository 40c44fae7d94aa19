#!/usr/bin/env bash
# The layers point one way (DESIGN "Architecture", each folder's README): guest/ -> cpu/ -> sim/,
# and tools/ drives all three. Fails, printing every offending line, when sim/ includes anything
# of cpu/, guest/ or tools/; cpu/ anything of guest/ or tools/; guest/ anything of tools/.
# An include is resolved as the compiler finds it: next to the including file first ("x.hpp",
# "../tools/x.hpp"), then from the source root ("tools/x.hpp", <tools/x.hpp>); blanks around
# the # and comments after the name do not hide it.
# Usage: tests/layer_check.sh [SOURCE_DIR]   (default: this checkout)
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
for layer in sim cpu guest; do
  [ -d "$root/$layer" ] || { echo "layer_check: $root/$layer is missing" >&2; exit 2; }
done

cd "$root"
mapfile -d '' sources < <(find sim cpu guest -type f \( -name '*.hpp' -o -name '*.cpp' \
  -o -name '*.h' -o -name '*.inc' \) -print0 | sort -z)
awk '
  # A path relative to the root, "." and ".." folded; "" when it leaves the root.
  function fold(p,    n, i, part, out, depth) {
    n = split(p, part, "/"); depth = 0
    for (i = 1; i <= n; i++) {
      if (part[i] == "" || part[i] == ".") continue
      if (part[i] == "..") { if (depth == 0) return ""; depth--; continue }
      out[++depth] = part[i]
    }
    p = ""
    for (i = 1; i <= depth; i++) p = p (i > 1 ? "/" : "") out[i]
    return p
  }
  function exists(p,    line) {
    if (p == "" || (getline line < p) < 0) return 0
    close(p); return 1
  }
  function layer_name(p) { sub(/\/.*/, "", p); return p ~ /^(sim|cpu|guest|tools)$/ }
  BEGIN {
    deny["sim"] = " cpu guest tools "; deny["cpu"] = " guest tools "; deny["guest"] = " tools "
  }
  FNR == 1 {
    files++
    layer = FILENAME; sub(/\/.*/, "", layer)
    dir = FILENAME; sub(/\/[^\/]*$/, "", dir)
  }
  /^[ \t]*#[ \t]*include[ \t]*[<"]/ {
    target = $0
    sub(/^[ \t]*#[ \t]*include[ \t]*[<"]/, "", target)
    sub(/[">].*/, "", target)
    # The quoted form looks next to the including file first; either form then from the root.
    near = fold(dir "/" target); top = fold(target)
    # Neither there (a file being moved): the one that names a layer, the root-relative first.
    path = exists(near) ? near : exists(top) ? top : layer_name(top) ? top : near
    to = path; sub(/\/.*/, "", to)
    if (path ~ /\// && index(deny[layer], " " to " ")) {
      printf "%s:%d: %s/ must not include %s/: %s\n", FILENAME, FNR, layer, to, $0
      bad = 1
    }
  }
  END {
    if (bad) {
      print "layer_check: includes against the layering (guest/ -> cpu/ -> sim/; tools/ on top)" \
        > "/dev/stderr"
      exit 1
    }
    printf "layer_check: %d files of sim/, cpu/ and guest/ include only what their layer may\n", \
      files
  }' "${sources[@]}"
