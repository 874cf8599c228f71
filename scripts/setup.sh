#!/usr/bin/env bash
# Installs the Debian 12 packages reactord needs to build, test and benchmark.
# Idempotent: installs only what is missing. Runs as root or through sudo.
set -euo pipefail
packages=(
  # build
  cmake g++ ninja-build pkg-config git
  lld  # the linker (CMakeLists.txt: REACTORD_USE_LLD); GNU ld is used without it
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  prometheus-cpp-dev libcli11-dev libspdlog-dev libsystemd-dev
  clang-format-14  # scripts/format.sh --check in .ci/run
  clang-14 libclang-rt-14-dev  # the libFuzzer targets (the fuzz preset, tests/fuzz)
  clang-tidy-14  # scripts/tidy.sh (.clang-tidy)
  gcovr  # scripts/coverage.sh: line coverage per folder (README)
  help2man man-db  # man pages generated at build time (cli_docs/); man renders them in a test
  libssl-dev  # reactord parses the control plane's PEM files before binding (OpenSSL)
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libevent-dev
  # real peers used by the integration tests
  netcat-openbsd socat python3 python3-grpcio python3-h2 python3-prometheus-client python3-yaml prometheus procps curl
  openssl  # test certificates for the control plane TLS tests
  chromium chromium-driver python3-selenium  # the status page in a real browser (label browser)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
