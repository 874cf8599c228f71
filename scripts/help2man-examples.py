#!/usr/bin/env python3
"""Writes a help2man include file that keeps a program's "Examples:" lines as they are.

    help2man-examples.py PROGRAM OUTPUT

help2man fills every paragraph, which runs the example commands of `PROGRAM --help` into one
line; this copies them from the help text into an [=EXAMPLES] section between .nf/.fi (no
fill), and the paragraphs after them as ordinary text; then SEE ALSO naming the other programs.
"""
import subprocess
import sys

program, output = sys.argv[1:3]
text = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=30).stdout
lines = text.splitlines()
out = []
if "Examples:" in lines:
    rest = lines[lines.index("Examples:") + 1:]
    examples = []
    while rest and rest[0].startswith(" "):
        examples.append(rest.pop(0).strip())
    escape = lambda s: s.replace("\\", "\\e").replace("-", "\\-")
    out = ["[=EXAMPLES]", ".nf"] + [escape(e) for e in examples] + [".fi"]
    for line in rest:
        out.append(".PP" if not line.strip() else escape(line))
out += ["[SEE ALSO]", ", ".join("\\fB%s\\fR(1)" % p for p in
                                ("reactord", "reactorctl", "reactor-client", "reactor-bench")
                                if not program.endswith("/" + p))]
with open(output, "w") as f:
    f.write("\n".join(out) + "\n")
