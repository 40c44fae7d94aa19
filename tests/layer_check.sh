#!/usr/bin/env bash
# The layers point one way (DESIGN "Architecture", each folder's README): guest/ -> cpu/ -> sim/,
# plugin/ (C guest code) on guest/, and tools/ drives them all. Fails, printing every offending
# line, when sim/ includes anything of cpu/, guest/, plugin/ or tools/; cpu/ anything of guest/,
# plugin/ or tools/; guest/ anything of plugin/ or tools/; plugin/ anything of tools/; and
# between the rooms of tools/ (tools/README.md): run/ includes no other room, view/ only run/,
# explore/ and sweep/ not each other, load/ only run/; a room includes of tools/ itself only cli_args.hpp and
# version.hpp (the command table and main.cpp sit above the rooms). Between the rooms of cpu/
# (cpu/README.md): host/ includes no other room and of cpu/ itself only params.hpp; vm/ may use
# host/ but not ftrace/; ftrace/ may use host/ and vm/ and of cpu/ itself only params.hpp (the
# machine and the parameters at cpu/ itself assemble the rooms). Between the rooms of sim/
# (sim/README.md): config/ includes no other room, record/ only config/, core/ only record/,
# trace/ only record/, checks/ any but trace/; the files of sim/ itself (time, error) include no
# room, and every room may use them.
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
dirs=(sim cpu guest)
for optional in plugin tools; do if [ -d "$optional" ]; then dirs+=("$optional"); fi; done
mapfile -d '' sources < <(find "${dirs[@]}" -type f \( -name '*.hpp' -o -name '*.cpp' \
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
  function layer_name(p) { sub(/\/.*/, "", p); return p ~ /^(sim|cpu|guest|plugin|tools)$/ }
  # The unit a path belongs to: its top folder, or for tools/ and cpu/ its room ("tools/run",
  # "cpu/host"), or "tools" / "cpu" for the files of the folder itself.
  function unit(p,    part) {
    split(p, part, "/")
    if (part[1] == "tools" && part[2] ~ /^(run|view|explore|sweep|load|scripts)$/)
      return "tools/" part[2]
    if (part[1] == "cpu" && part[2] ~ /^(host|vm|ftrace)$/) return "cpu/" part[2]
    if (part[1] == "sim" && part[2] ~ /^(core|config|record|checks|trace)$/) return "sim/" part[2]
    return part[1]
  }
  BEGIN {
    deny["sim"] = " sim/core sim/config sim/record sim/checks sim/trace cpu guest plugin tools "
    deny["sim/config"] = " sim/core sim/record sim/checks sim/trace cpu guest plugin tools "
    deny["sim/record"] = " sim/core sim/checks sim/trace cpu guest plugin tools "
    deny["sim/core"] = " sim/config sim/checks sim/trace cpu guest plugin tools "
    deny["sim/trace"] = " sim/core sim/config sim/checks cpu guest plugin tools "
    deny["sim/checks"] = " sim/trace cpu guest plugin tools "
    deny["cpu"] = " guest plugin tools "
    deny["cpu/host"] = " cpu/vm cpu/ftrace cpu guest plugin tools "
    deny["cpu/vm"] = " cpu/ftrace guest plugin tools "
    deny["cpu/ftrace"] = " cpu guest plugin tools "
    deny["guest"] = " plugin tools "; deny["plugin"] = " tools "
    deny["tools/run"] = " tools/view tools/explore tools/sweep tools "
    deny["tools/view"] = " tools/explore tools/sweep tools "
    deny["tools/explore"] = " tools/sweep tools "
    deny["tools/sweep"] = " tools/explore tools "
    deny["tools/load"] = " tools/view tools/explore tools/sweep tools "
    # What a room may include of its folder itself.
    shared["tools/cli_args.hpp"] = "tools"; shared["tools/version.hpp"] = "tools"
    shared["cpu/params.hpp"] = "cpu"
  }
  FNR == 1 {
    files++
    layer = unit(FILENAME)
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
    to = unit(path)
    # The tools/ and cpu/ layers are one unit each seen from outside them.
    if (to ~ /^tools\// && layer !~ /^tools/) to = "tools"
    if (to ~ /^cpu\// && layer !~ /^cpu/) to = "cpu"
    if (to ~ /^sim\// && layer !~ /^sim/) to = "sim"
    if (path ~ /\// && !(path in shared && index(layer, shared[path] "/") == 1) &&
        index(deny[layer], " " to " ")) {
      printf "%s:%d: %s/ must not include %s/: %s\n", FILENAME, FNR, layer, to, $0
      bad = 1
    }
  }
  END {
    if (bad) {
      print "layer_check: includes against the layering (plugin/ -> guest/ -> cpu/ -> sim/; tools/ on top)" \
        > "/dev/stderr"
      exit 1
    }
    printf "layer_check: %d files of sim/, cpu/, guest/, plugin/ and tools/ include only what their layer may\n", \
      files
  }' "${sources[@]}"
