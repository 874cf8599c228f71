#!/usr/bin/env bash
# The .deb as an operator gets it (ctest label `packages`, run once in CI, not under the
# sanitizers):
#  build    cpack -G DEB from the build tree (stripped binaries).
#  inspect  dpkg-deb: name, version, dependencies from dpkg-shlibdeps (gRPC, libsystemd), the
#           files (binaries, unit, env file, doc), /etc/default/reactord a conffile, the
#           maintainer scripts; systemd-analyze verify on the packaged unit; the unit's
#           sandboxing (DynamicUser, ProtectSystem=strict, NoNewPrivileges, LimitNOFILE,
#           Type=notify).
#  install  into a clean Debian 12 container (debootstrap minbase image, podman, host
#           network): apt-get install ./reactord_*.deb pulls its dependencies.
#  run      the unit's ExecStart with its EnvironmentFile, as an unprivileged user, with
#           NOTIFY_SOCKET on a host socket: READY=1 arrives, a TCP client from the host gets
#           the greeting and its echo, `reactorctl health` answers inside, SIGTERM (the
#           unit's KillSignal) brings STOPPING=1 and exit code 0.
# Usage: deb_package_check.sh BUILD_DIR   (as root; installs podman/debootstrap if missing)
set -euo pipefail
build=$(readlink -f "$1")
repo=$(readlink -f "$(dirname "$0")/../..")
[ "$(id -u)" -eq 0 ] || exec sudo -E "$0" "$@"

work=$(mktemp -d /tmp/reactord-deb.XXXXXX)
ctr=reactord-deb-test-$$
image=localhost/reactord-deb-base:$$
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  podman rm -f -t 0 "$ctr" >/dev/null 2>&1
  podman rmi -f "$image" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
failed=0
check() {  # check NAME COMMAND...
  local name=$1
  shift
  if "$@"; then echo "PASS $name"; else echo "FAIL $name" >&2; failed=$((failed + 1)); fi
}

# --- build ---------------------------------------------------------------------------------
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; exit 1; }
deb=$(ls "$work"/out/reactord_*.deb)
echo "built $(basename "$deb"): $(($(stat -c %s "$deb") / 1000)) kB"

# --- inspect -------------------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
has_file() { grep -qx "./${1#/}" <<<"$contents" || { echo "  missing $1" >&2; return 1; }; }
version=$(sed -n 's/^project(reactord VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
check "Package reactord, Version $version" test "$(field Package) $(field Version)" = "reactord $version"
depends=$(field Depends)
echo "  Depends: $depends"
check "Depends (dpkg-shlibdeps) names gRPC, prometheus-cpp and libsystemd" \
  bash -c "grep -q 'libgrpc++1.51' <<<'$depends' && grep -q 'libprometheus-cpp' <<<'$depends' && grep -q 'libsystemd0' <<<'$depends'"
for f in /usr/bin/reactord /usr/bin/reactorctl /usr/bin/reactor-client \
         /usr/lib/systemd/system/reactord.service /etc/default/reactord /usr/share/doc/reactord/README.md; do
  check "contains $f" has_file "$f"
done
dpkg-deb -e "$deb" "$work/control"
check "/etc/default/reactord is a conffile" grep -qx /etc/default/reactord "$work/control/conffiles"
check "maintainer scripts postinst/prerm/postrm are executable" \
  test -x "$work/control/postinst" -a -x "$work/control/prerm" -a -x "$work/control/postrm"
dpkg-deb -x "$deb" "$work/root"
unit=$work/root/usr/lib/systemd/system/reactord.service
unit_has() { grep -qx "$1" "$unit" || { echo "  $unit lacks $1" >&2; return 1; }; }
for setting in Type=notify DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes \
               'LimitNOFILE=[0-9]*' 'EnvironmentFile=-/etc/default/reactord' KillSignal=SIGTERM; do
  check "unit: $setting" unit_has "$setting"
done
verify_unit() {  # systemd's own checker on the packaged unit, its ExecStart pointed at the
  local out      # unpacked binary (the host has no /usr/bin/reactord); any remark fails
  mkdir -p "$work/verify"
  sed "s|^ExecStart=/usr/bin/reactord|ExecStart=$work/root/usr/bin/reactord|" "$unit" >"$work/verify/reactord.service"
  out=$(systemd-analyze verify "$work/verify/reactord.service" 2>&1) || { echo "$out" >&2; return 1; }
  [ -z "$(grep -v '^$' <<<"$out")" ] || { echo "$out" >&2; return 1; }
}
check "systemd-analyze verify reactord.service" verify_unit
exposure=$(systemd-analyze security --offline=yes "$work/verify/reactord.service" 2>/dev/null | tail -1 || true)
echo "  systemd-analyze security: ${exposure:-n/a}"
check "binaries are stripped" bash -c "! file '$work/root/usr/bin/reactord' | grep -q 'not stripped'"

# --- install into a clean container ------------------------------------------------------
missing=()
for p in podman runc debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF=$work/containers.conf
"$repo/deploy/make-base-images.sh" >"$work/base.log" 2>&1 || { cat "$work/base.log" >&2; exit 1; }
# A private copy of the clean bookworm image: nothing else on the machine shares its tag.
podman tag docker.io/library/debian:bookworm "$image"
cp "$deb" "$work/pkg.deb"
podman run -d --name "$ctr" --network=host -v "$work:/work:z" "$image" sleep 600 >/dev/null
in_ctr() { podman exec "$ctr" sh -c "$1"; }
install_deb() {
  in_ctr 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /work/pkg.deb' \
    >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; return 1; }
}
check "apt-get install ./reactord.deb in a clean Debian 12 container" install_deb
check "dpkg -s reactord: installed" bash -c "podman exec $ctr dpkg -s reactord | grep -q 'Status: install ok installed'"
check "every library of the installed binaries resolves" \
  in_ctr 'ldd /usr/bin/reactord /usr/bin/reactorctl >/tmp/l && grep -q libgrpc /tmp/l && ! grep -q "not found" /tmp/l'

# --- start the unit's command ------------------------------------------------------------
read -r port control metrics < <(python3 -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
exec_start=$(in_ctr "sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/reactord.service")
echo "  ExecStart=$exec_start"
# systemd's side of sd_notify: a datagram socket on the host, mounted into the container.
chmod 0711 "$work"  # the unprivileged uid reaches the notify socket below it
mkdir -p "$work/notify"
chmod 0777 "$work/notify"
python3 -u - "$work/notify/sock" >"$work/notify.log" 2>&1 <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
print("bound", flush=True)
while True:
    print(s.recv(4096).decode().replace("\n", " | "), flush=True)
PY
pids+=($!)
for _ in $(seq 50); do grep -q bound "$work/notify.log" && break; sleep 0.1; done
# As systemd would: the EnvironmentFile's variables, then the listen ports moved to free
# loopback ports (host network); an unprivileged uid as DynamicUser gives.
podman exec -d "$ctr" sh -c "set -a; . /etc/default/reactord; set +a
  export REACTORD_LISTEN=127.0.0.1:$port REACTORD_CONTROL_LISTEN=127.0.0.1:$control \
         REACTORD_METRICS_LISTEN=127.0.0.1:$metrics REACTORD_DRAIN_TIMEOUT=2s NOTIFY_SOCKET=/work/notify/sock
  setpriv --reuid=61234 --regid=61234 --clear-groups $exec_start >/work/reactord.out 2>/work/reactord.err
  echo \$? >/work/reactord.rc" >/dev/null
ready() {
  local i
  for i in $(seq 200); do grep -q 'READY=1' "$work/notify.log" && return 0; sleep 0.1; done
  cat "$work/reactord.err" >&2
  return 1
}
check "sd_notify READY=1 from the unit's command" ready
echo "  notify: $(grep READY "$work/notify.log" | head -1)"
greets() {
  local out
  out=$(printf 'from-host\n' | timeout 5 nc -N 127.0.0.1 "$port" || true)
  [ "$out" = "$(printf 'Hello, World!\nfrom-host')" ] || { echo "  got $(printf %q "$out")" >&2; return 1; }
}
check "greeting + echo from the host" greets
check "reactorctl health inside the container" in_ctr "reactorctl --target 127.0.0.1:$control health | grep -qw SERVING"
check "runs as the unprivileged uid" in_ctr '[ "$(stat -c %u /proc/$(pidof reactord))" = 61234 ]'
stops() {
  local i pid
  pid=$(in_ctr 'pidof reactord')
  in_ctr "kill -TERM $pid"
  for i in $(seq 100); do in_ctr "kill -0 $pid 2>/dev/null" || break; sleep 0.1; done
  grep -q 'STOPPING=1' "$work/notify.log" || { echo "  no STOPPING=1: $(cat "$work/notify.log")" >&2; return 1; }
  for i in $(seq 50); do [ -s "$work/reactord.rc" ] && break; sleep 0.1; done
  echo "  exit code $(cat "$work/reactord.rc" 2>/dev/null)"
  [ "$(cat "$work/reactord.rc" 2>/dev/null)" = 0 ]
}
check "SIGTERM: STOPPING=1, drained, exited" stops
[ "$failed" -eq 0 ] || { echo "reactord's log:" >&2; tail -20 "$work/reactord.err" >&2; }
echo "deb package: $failed failed"
[ "$failed" -eq 0 ]
