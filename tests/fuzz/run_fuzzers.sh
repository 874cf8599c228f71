#!/usr/bin/env bash
# Runs every libFuzzer target of a `fuzz` preset build for a bounded time each, starting from
# a copy of its committed seed corpus (the repository is never written), and fails on the
# first crash, sanitizer report, leak or timeout. Prints each target's executions per second.
#   tests/fuzz/run_fuzzers.sh [build dir (build/fuzz)] [seconds per target (20)]
# A crashing input is left in <build dir>/fuzz-artifacts/<target>/: copy it to
# tests/fuzz/regressions/<target>/ with the fix, so every preset replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/fuzz}
seconds=${2:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for corpus in tests/fuzz/corpus/*/; do
  target=$(basename "$corpus")
  exe="$build/tests/fuzz/${target}_fuzz"
  [ -x "$exe" ] || { echo "fuzz: $exe is not built" >&2; exit 1; }
  mkdir -p "$work/$target" "$build/fuzz-artifacts/$target"
  log="$build/fuzz-artifacts/$target.log"
  if ! "$exe" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-artifacts/$target/" "$work/$target" "$corpus" >"$log" 2>&1; then
    echo "fuzz: $target FAILED (input in $build/fuzz-artifacts/$target/):" >&2
    grep -m 40 -E 'ERROR|FUZZ_CHECK|runtime error|#[0-9]+ 0x|Test unit written' "$log" >&2 || tail -40 "$log" >&2
    status=1
    continue
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  echo "fuzz: $target ok: $execs executions in ${seconds} s, $rate exec/s"
done
exit $status
