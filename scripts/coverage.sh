#!/usr/bin/env bash
# Line coverage per folder (gcov + gcovr, Debian packages): builds the `coverage` preset, runs
# every test but the heavy suites (scale, soak, fuzz, packages, browser), and prints one line a
# folder of our own code. Measured by hand for README's table, not in CI's every run.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset coverage >/dev/null
cmake --build --preset coverage -j "${JOBS:-2}"
find build/coverage -name '*.gcda' -delete
ctest --preset coverage -LE 'scale|soak|fuzz|packages|browser' -j "${JOBS:-2}" || echo "coverage: some tests failed (figures still printed)" >&2
summary=build/coverage/coverage-summary.json
# Only our sources count: generated stubs (build/), tests and benchmarks are left out.
gcovr --root . --object-directory build/coverage --gcov-ignore-parse-errors \
  --filter 'reactor/' --filter 'server/' --filter 'client/' --filter 'units/' --filter 'grpc_status/' \
  --json-summary "$summary" >/dev/null
python3 - "$summary" <<'PY'
import json, sys
files = json.load(open(sys.argv[1]))["files"]
folders = {}
for f in files:
    parts = f["filename"].split("/")
    key = "/".join(parts[:2]) if parts[0] in ("server", "reactor") and len(parts) > 2 else parts[0]
    c, t = folders.get(key, (0, 0))
    folders[key] = (c + f["line_covered"], t + f["line_total"])
print("| folder | lines covered | lines | line coverage |")
print("|---|---|---|---|")
tc = tt = 0
for key in sorted(folders):
    c, t = folders[key]
    tc += c; tt += t
    print(f"| {key}/ | {c} | {t} | {100.0 * c / t:.1f} % |")
print(f"| all | {tc} | {tt} | {100.0 * tc / tt:.1f} % |")
PY
