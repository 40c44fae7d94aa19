#!/usr/bin/env bash
# Writes vcpusim's man page from its --help texts: the general one, then each command's.
# Usage: tools/scripts/make_man.sh path/to/vcpusim OUT.1.gz   (run by the build when help2man is installed)
set -euo pipefail
bin=$1 out=$2
include=$(mktemp)
trap 'rm -f "$include"' EXIT
# Help text as roff text (docs/security-checklist.md): backslashes become \e, and a line that
# roff would read as a request (. or ') or help2man as an include section ([name]) or pattern
# (/re/) gets a leading \& (zero width), so no text can become a command.
roff_text() { sed -e 's/\\/\\e/g' -e "s|^[.'[/]|\\\\\\&&|"; }
{
  echo "[COMMANDS]"
  for cmd in $("$bin" help --list); do  # the command table (tools/commands.cpp)
    echo ".SS $cmd"
    echo ".nf"
    "$bin" "$cmd" --help | roff_text
    echo ".fi"
  done
  echo "[FILES]"
  echo ".TP"
  echo "/usr/share/vcpusim/scenarios"
  echo "the catalogue scenarios and scenario.schema.json, the scenario format's JSON Schema"
  echo ".TP"
  echo "/usr/share/vcpusim/scenarios/explore, /usr/share/vcpusim/scenarios/sweeps"
  echo "scenarios to explore (each hides a failure) and sweep specs with sweep.schema.json"
  echo ".TP"
  echo "/usr/share/doc/vcpusim"
  echo "the README and docs/: tutorial, scenario format, metrics, checks, trace, explore, sweeps"
  echo "[SEE ALSO]"
  echo "/usr/share/doc/vcpusim/README.md, then /usr/share/doc/vcpusim/docs/tutorial.md."
} >"$include"
help2man --no-info --no-discard-stderr --section 1 \
  --name "deterministic simulator of multi-vCPU VM hosts" --include "$include" \
  --output "${out%.gz}" "$bin"
gzip -9nf "${out%.gz}"
