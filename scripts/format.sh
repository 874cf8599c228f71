#!/usr/bin/env bash
# Formats every C/C++ file git knows with the repository's .clang-format (clang-format 14, a
# Debian 12 package). `scripts/format.sh --check` changes nothing and fails, naming the files,
# when one is not formatted: CI runs that.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' '*.c')
if [ "${1:-}" = "--check" ]; then
  # One clang-format per file, one per core (CI spent a minute on them one at a time).
  mapfile -t bad < <(printf '%s\n' "${files[@]}" |
    xargs -P "$(nproc)" -n 16 sh -c 'for f; do clang-format-14 --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"; done' sh)
  if [ ${#bad[@]} -ne 0 ]; then
    echo "format: not formatted (run scripts/format.sh): ${bad[*]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files formatted"
else
  clang-format-14 -i "${files[@]}"
fi
