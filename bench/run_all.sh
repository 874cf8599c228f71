#!/usr/bin/env bash
# Runs every benchmark of docs/PERFORMANCE.md in one go on this machine and prints the report:
# the machine, the micro-benchmark ratios (compare.py), the echo table (echo/run.py) and the
# control plane at 19,000 connections (scale_bench).
#   bench/run_all.sh [BUILD_DIR]        (default build/release; build it first:
#                                        cmake --workflow --preset release)
# On a shared machine run it as root under `nice -n -15` so that the measured processes
# are scheduled first; the tables' wait % column shows what disturbance remained.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
echo "# Benchmark run $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"\
     "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo
echo "## Micro-benchmarks"
echo
python3 bench/compare.py --binary "$build/bench/reactor_microbench" --min-time "${MIN_TIME:-0.2}" \
  --repetitions "${REPETITIONS:-3}" --json-out "${TMPDIR:-/tmp}/reactor_microbench.json"
echo
echo "## Echo"
echo
python3 bench/echo/run.py --build "$build" --json-out "${TMPDIR:-/tmp}/reactor_echo.json"
echo
echo "## Observed vs unobserved"
echo
# reactord alone: /metrics every second and ListConnections 10 times a second over 10,000
# idle connections, against the same echo load unobserved (python3-grpcio: /usr/bin/python3).
/usr/bin/python3 bench/echo/run.py --build "$build" --observed
echo
echo "## Scale"
echo
# reactord --loops 2 with 19,000 clients (tests/scale/client_holder): a page of 1000, ListEvents,
# a scrape, closing every client by filter. ~30 s.
"$build/bench/scale_bench" --reactord "$build/server/reactord" \
  --holder "$build/tests/scale/client_holder" --json-out "${TMPDIR:-/tmp}/reactor_scale.json"
