#!/usr/bin/env python3
"""Rewrites the outputs of a Markdown file's console transcripts with what the commands print
now (tests/doc_transcripts_test.sh runs them and keeps each output). For a developer who changed
an output on purpose: review the diff before committing. An expected output holding a "..."
wildcard line is left alone and named, to edit by hand.

Usage: tools/scripts/update_doc_transcripts.py BUILD_DIR FILE   (FILE relative to the tree)
"""
import os
import subprocess
import sys
import tempfile

def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build, doc = sys.argv[1], sys.argv[2]
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with tempfile.TemporaryDirectory() as actual:
        env = dict(os.environ, DOC_TRANSCRIPTS_ACTUAL=actual)
        subprocess.run([os.path.join(src, "tests/doc_transcripts_test.sh"), build, src, doc],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        path = os.path.join(src, doc)
        lines = open(path).read().split("\n")
        out, block, k, i = [], 0, 0, 0
        while i < len(lines):
            line = lines[i]
            out.append(line)
            i += 1
            if line != "```console":
                if line.startswith("```") and line != "```":
                    # any other fenced block: copy through its end
                    while i < len(lines):
                        out.append(lines[i])
                        i += 1
                        if lines[i - 1].startswith("```"):
                            break
                    if line == "```sh":
                        block += 1  # the test numbers console and sh blocks only
                continue
            block += 1
            k = 0
            while i < len(lines) and not lines[i].startswith("```"):
                cmd = [lines[i]]
                i += 1
                while cmd[-1].endswith("\\") and i < len(lines):
                    cmd.append(lines[i])
                    i += 1
                out.extend(cmd)
                k += 1
                want = []
                while i < len(lines) and not lines[i].startswith("$ ") and not lines[i].startswith("```"):
                    want.append(lines[i])
                    i += 1
                got_file = os.path.join(actual, "%03d-%03d.txt" % (block, k))
                if any(w.strip() == "..." for w in want) or not os.path.exists(got_file):
                    if any(w.strip() == "..." for w in want):
                        print("%s: %s: has a '...' line, left as it is" % (doc, cmd[0]))
                    out.extend(want)
                    continue
                got = open(got_file).read()
                out.extend(got[:-1].split("\n") if got.endswith("\n") else got.split("\n") if got else [])
        open(path, "w").write("\n".join(out))
    r = subprocess.run([os.path.join(src, "tests/doc_transcripts_test.sh"), build, src, doc])
    sys.exit(r.returncode)

if __name__ == "__main__":
    main()
