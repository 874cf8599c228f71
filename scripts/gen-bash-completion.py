#!/usr/bin/env python3
"""Writes a bash completion script for one of our CLI11 programs, from its own --help.

    gen-bash-completion.py PROGRAM_PATH NAME OUTPUT

Reads `PROGRAM --help` (and `PROGRAM SUB --help` for each subcommand listed there), so the
completion always matches the binary it was built with. Completes subcommands, each
subcommand's flags plus the global ones (reactorctl takes them after the command too), and
file names after flags that take a file (--*-file, --tls-*, --control-tls-*).
"""
import re
import subprocess
import sys


def help_text(argv):
    r = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        sys.exit("%s --help exited %d: %s" % (" ".join(argv), r.returncode, r.stderr))
    return r.stdout


def sections(text):
    """{"Options": [lines], "Subcommands": [lines]} from CLI11's help layout."""
    out, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^(\w[\w ]*):\s*$", line)
        if m:
            current = m.group(1)
            out.setdefault(current, [])
        elif current and line.startswith("  "):
            out[current].append(line)
        elif not line.strip():
            continue
        else:
            current = None
    return out


def flags(text):
    found = []
    for line in sections(text).get("Options", []):
        spec = line.strip().split(" ")[0]
        for name in spec.split(","):
            if name.startswith("-") and name not in found:
                found.append(name)
    return found


def subcommands(text):
    return [line.split()[0] for line in sections(text).get("Subcommands", []) if line.startswith("  ") and not line.startswith("   ")]


def file_flags(names):
    return [n for n in names if re.search(r"-file$|tls-(ca|cert|key|client-ca)$", n)]


def main():
    program, name, output = sys.argv[1:4]
    top = help_text([program])
    global_flags = flags(top)
    subs = subcommands(top)
    per_sub = {s: flags(help_text([program, s])) for s in subs}
    func = "_" + re.sub(r"\W", "_", name)
    all_files = sorted(set(file_flags(global_flags + sum(per_sub.values(), []))))
    lines = [
        "# bash completion for %s, generated from its --help at build time" % name,
        "# (scripts/gen-bash-completion.py). Source it, or install it in",
        "# /usr/share/bash-completion/completions/%s." % name,
        "%s() {" % func,
        '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="" sub="" i',
        '  [ "$COMP_CWORD" -gt 0 ] && prev="${COMP_WORDS[COMP_CWORD-1]}"',
    ]
    if all_files:
        lines += [
            '  case "$prev" in',
            "    %s) COMPREPLY=( $(compgen -f -- \"$cur\") ); return 0 ;;" % "|".join(all_files),
            "  esac",
        ]
    if subs:
        lines += [
            '  for ((i = 1; i < COMP_CWORD; i++)); do',
            '    case "${COMP_WORDS[i]}" in',
            '      %s) sub="${COMP_WORDS[i]}"; break ;;' % "|".join(subs),
            "    esac",
            "  done",
        ]
    lines += ['  local words="%s"' % " ".join(global_flags + subs)]
    if subs:
        lines += ['  case "$sub" in']
        for s in subs:
            lines += ['    %s) words="%s" ;;' % (s, " ".join(per_sub[s] + [f for f in global_flags if f not in per_sub[s]]))]
        lines += ["  esac"]
    lines += [
        '  COMPREPLY=( $(compgen -W "$words" -- "$cur") )',
        "}",
        "complete -F %s %s" % (func, name),
        "",
    ]
    with open(output, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
