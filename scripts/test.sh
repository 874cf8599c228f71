#!/usr/bin/env bash
# Every test, as README's test command runs it (and CI, first):
#  1. the `test` workflow: the asan build (AddressSanitizer + UndefinedBehaviorSanitizer,
#     Debug, asserts on) and every test but the heavy suites;
#  2. the `test-heavy` workflow: the release build of what the heavy suites need (the
#     heavy_suites target) and those suites: packages, browser, scale, soak. They run once,
#     optimised as shipped, never under a sanitizer.
# The plain debug build is not part of it (`cmake --workflow --preset debug` runs every test
# there): one build fewer. Every test runs in one of the two builds: under ASan+UBSan, or, for
# the few a sanitizer build leaves out or checks less, in release (the release-unsanitized preset).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --workflow --preset test
cmake --workflow --preset test-heavy
