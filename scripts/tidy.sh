#!/usr/bin/env bash
# clang-tidy 14 with .clang-tidy over our own sources (reactor/, server/, client/, units/,
# grpc_status/, proto/convert/), using the compile_commands.json of a built build tree (default:
# the debug preset's; CI uses the asan preset's, which README's test command has built). Fails
# on any finding. The compile commands may be GCC's (debug, tsan, release): clang is told not
# to report GCC-only warning options among them.
# `scripts/tidy.sh [build-dir] [jobs]`; jobs defaults to 2.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/debug}
jobs=${2:-2}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "tidy: $build/compile_commands.json missing (cmake --preset debug first)" >&2
  exit 2
fi
# The generated protobuf headers must exist for the TUs that include them (CI has built them).
if [ ! -f "$build/proto/gen/reactord/v1/reactord.pb.h" ]; then
  echo "tidy: generated headers missing in $build (cmake --build $build first)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files 'reactor/*.cc' 'reactor/*.c' 'server/*.cc' 'client/*.cc' 'units/*.cc' 'grpc_status/*.cc' 'proto/convert/*.cc')
start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One clang-tidy per file, $jobs at a time; each prints only its findings.
printf '%s\n' "${files[@]}" |
  xargs -P "$jobs" -I{} sh -c 'clang-tidy-14 --quiet --extra-arg=-Wno-unknown-warning-option -p "$0" "$1" 2>/dev/null || echo "tidy: FAILED $1"' "$build" {} >"$log"
if grep -q -E 'tidy: FAILED|(warning|error):' "$log"; then
  cat "$log"
  echo "tidy: findings above ($(grep -c 'tidy: FAILED' "$log") files)" >&2
  exit 1
fi
echo "tidy: ${#files[@]} files clean in $(($(date +%s) - start)) s"
