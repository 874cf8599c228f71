#!/usr/bin/env bash
# Proves deploy/ on a machine without a Docker engine or a registry (run by .ci/run):
#  static   dockerfilelint on the Dockerfile; the Kubernetes base and dev overlay against
#           their schemas, each other and the hardening rules (validate-k8s.mjs);
#           compose.yaml (validate-compose.mjs); promtool on prometheus.yml and the alert
#           rules' unit tests; the Dockerfile's build packages are in setup.sh.
#  image    base images from debootstrap (make-base-images.sh), then podman build of
#           deploy/Dockerfile (Release build of reactord and reactorctl inside, or prebuilt
#           ones: REACTORD_DEPLOY_PREBUILT); the image runs as a
#           non-root user, has the ENTRYPOINT/STOPSIGNAL/HEALTHCHECK/ports it promises, all
#           libraries resolve, and no compiler or headers are left in it.
#  run      the image with --network=host on free loopback ports, read-only, no capabilities:
#           greeting + echo over TCP from the host, `reactorctl health` inside, the image's
#           HEALTHCHECK, /metrics from the host, uid != 0, and `podman stop` with a client
#           still connected → drain → exit code 0 well before the stop timeout.
#  compose  the image with compose.yaml's settings (control beyond loopback, the token as a
#           mounted secret file): it refuses that address without a token, serves health
#           without one, serves Inspect with the token and not without, and a real
#           Prometheus with deploy/prometheus.yml (target pointed at loopback) scrapes it.
# Every container and image it makes is removed on exit, also on failure or time-out.
#
# Usage: deploy/test-image.sh          (as root, as in CI)
# Env:   REACTORD_DEPLOY_PREBUILT=DIR  skip compiling: package DIR's binaries (see below)
#        REACTORD_DEPLOY_TIMEOUT  overall limit in seconds (default 2400)
#        REACTORD_DEPLOY_KEEP=1   keep the images (faster reruns while working on deploy/)
#        REACTORD_DEPLOY_CACHE    where the debootstrap tarballs are cached
set -euo pipefail
script=$(readlink -f "$0")
cd "$(dirname "$script")/.."

if [ "$(id -u)" -ne 0 ]; then exec sudo -E "$script" "$@"; fi
# Bounded in time: rerun under timeout(1), which signals the whole process group; the
# TERM trap below turns that into an exit, and the EXIT trap cleans up.
if [ -z "${REACTORD_DEPLOY_UNDER_TIMEOUT:-}" ]; then
  export REACTORD_DEPLOY_UNDER_TIMEOUT=1
  exec timeout --kill-after=60 "${REACTORD_DEPLOY_TIMEOUT:-2400}" "$script" "$@"
fi

started=$SECONDS
timings=()
step_started=$SECONDS
step() {  # closes the previous step's timing, announces the next
  [ -z "${step_name:-}" ] || timings+=("$(printf '%-38s %5d s' "$step_name" $((SECONDS - step_started)))")
  step_name=$1
  step_started=$SECONDS
  echo "== deploy: $1 (t=$((SECONDS - started)) s)"
}
passed=0
failed=0
check() {  # check NAME COMMAND...: runs COMMAND, counts it, goes on either way
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "  PASS $name"
  else
    failed=$((failed + 1))
    echo "  FAIL $name" >&2
  fi
}

size=0
finish() {  # prints the timings and the tally, exits 0 only if every check passed
  step "done"
  echo "== deploy: timings${1:+ ($1)}"
  printf '  %s\n' "${timings[@]}"
  printf '  %-38s %5d s\n' "total" $((SECONDS - started))
  [ "$size" = 0 ] || echo "  image size: $((size / 1000000)) MB"
  echo "deploy: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && exit 0
  exit 1
}

work=$(mktemp -d /tmp/reactord-deploy.XXXXXX)
tag=localhost/reactord:test-$$
containers=()
bg_pids=()
images_before=$work/images-before
cleanup() {
  local rc=$?
  set +e
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
  if [ "${REACTORD_DEPLOY_KEEP:-0}" != 1 ] && [ -f "$images_before" ]; then
    podman rmi -f "$tag" docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim \
      >/dev/null 2>&1
    # Intermediate images of the multi-stage build: whatever appeared since the start.
    podman images -a -q --no-trunc | sort -u >"$work/images-after"
    comm -13 "$images_before" "$work/images-after" | xargs -r podman rmi -f >/dev/null 2>&1
  fi
  rm -rf "$work" "${build_tmp:-}"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "deploy: interrupted (time limit?)" >&2; exit 124' TERM INT

# --- tools -------------------------------------------------------------------------------
step "packages"
scripts/setup.sh
missing=()
for p in $(grep -v '^#' deploy/packages.txt); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "deploy: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# runc, not crun (crun fails on hybrid cgroups); the sandbox cannot raise rlimits.
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF=$work/containers.conf
podman images -a -q --no-trunc | sort -u >"$images_before"
# podman commits each layer of a build through temporary files in $TMPDIR (/var/tmp unless
# set), about twice the layer's size (podman issue #22342); short of room there, the commit
# fails with "storing layer ... to file: io: read/write on closed pipe". Keep them on the
# image store's own filesystem, which must have the room anyway, in a folder removed on exit.
graphroot=$(podman info --format '{{.Store.GraphRoot}}')
mkdir -p "$graphroot"
build_tmp=$(mktemp -d "$(dirname "$graphroot")/reactord-deploy-tmp.XXXXXX")
export TMPDIR=$build_tmp
disk_report() {  # free space where an image build writes: the image store, its temporary files
  df -h "$graphroot" "$TMPDIR" "$work" | awk 'NR == 1 || !seen[$1]++' | sed 's/^/  /'
}

step "npm ci (deploy/tools)"
# Skipped when node_modules was installed from this very lockfile.
if ! cmp -s deploy/tools/package-lock.json deploy/tools/node_modules/.installed-from-lock; then
  npm ci --prefix deploy/tools --no-audit --no-fund --loglevel=error
  cp deploy/tools/package-lock.json deploy/tools/node_modules/.installed-from-lock
fi

# --- static checks -----------------------------------------------------------------------
step "static checks"
check "dockerfilelint deploy/Dockerfile" deploy/tools/node_modules/.bin/dockerfilelint deploy/Dockerfile
check "k8s base (apply -k deploy/k8s) + PodMonitor: schemas, cross-references, hardening, no tokens" \
  node deploy/validate-k8s.mjs deploy/k8s deploy/k8s/podmonitor.yaml
check "k8s dev overlay (apply -k deploy/k8s/dev): the same, with its development Secret" \
  node deploy/validate-k8s.mjs --require-secrets deploy/k8s/dev
check "alert rules: promtool test rules deploy/monitoring/alerts_test.yml" \
  promtool test rules deploy/monitoring/alerts_test.yml
check "compose.yaml: files, secret, scrape target" node deploy/validate-compose.mjs
check "promtool check config deploy/prometheus.yml" promtool check config deploy/prometheus.yml
build_packages_in_setup() {  # the Dockerfile's build stage installs nothing setup.sh lacks
  local p ok=0
  for p in $(sed -n '/^FROM .* AS build/,/^FROM /p' deploy/Dockerfile |
             sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
             grep -vxE 'apt-get|install|clean|rm|rf'); do
    grep -qE "(^|[[:space:]])${p//+/\\+}([[:space:]]|$)" scripts/setup.sh || { echo "  $p is not in scripts/setup.sh" >&2; ok=1; }
  done
  return $ok
}
check "Dockerfile build packages are a subset of scripts/setup.sh" build_packages_in_setup

# --- image -------------------------------------------------------------------------------
step "base images (debootstrap)"
deploy/make-base-images.sh

step "image build"
# REACTORD_DEPLOY_PREBUILT=DIR (DIR/server/reactord, DIR/client/reactorctl; a build tree):
# package those binaries, stripped as the build stage strips them, in the Dockerfile's runtime
# stage instead of compiling in the build stage. CI sets it to the release tree whose heavy
# suites it has just run (.ci/run); quick iterations on deploy/ use it too.
dockerfile=deploy/Dockerfile
context=.
build_kind="Release build inside"
if [ -n "${REACTORD_DEPLOY_PREBUILT:-}" ]; then
  build_kind="prebuilt binaries from $REACTORD_DEPLOY_PREBUILT"
  context=$work/prebuilt-context
  mkdir -p "$context/out"
  install -m 0755 -s "$REACTORD_DEPLOY_PREBUILT/server/reactord" "$REACTORD_DEPLOY_PREBUILT/client/reactorctl" "$context/out/"
  install -m 0755 deploy/healthcheck.sh "$context/out/reactord-healthcheck"
  deploy/list-runtime-packages.sh "$context/out/reactord" "$context/out/reactorctl" >"$context/out/runtime-packages.txt"
  dockerfile=$context/Dockerfile
  { printf 'FROM debian:bookworm AS build\nCOPY out/ /out/\n'
    sed -n '/^FROM debian:bookworm-slim/,$p' deploy/Dockerfile; } >"$dockerfile"
  echo "  PREBUILT: packaging $REACTORD_DEPLOY_PREBUILT's binaries, no compile stage"
fi
echo "  free disk before the build:"
disk_report
build_ok=0
if podman build --pull=never --network=host --format docker --build-arg BUILD_JOBS=2 \
     -f "$dockerfile" -t "$tag" "$context" >"$work/build.log" 2>&1; then
  build_ok=1
  grep -E 'runtime packages:|tests passed|Total Test time|build stage:' "$work/build.log" | sed 's/^/  /' || true
else
  tail -40 "$work/build.log" >&2
  echo "  free disk after the failed build (a layer commit needs about twice the layer free):" >&2
  disk_report >&2
fi
check "podman build deploy/Dockerfile ($build_kind)" test "$build_ok" = 1
if [ "$build_ok" != 1 ]; then
  finish "image build failed: nothing to run"
fi
size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "  image $tag: $((size / 1000000)) MB"

step "image checks"
podman image inspect "$tag" >"$work/inspect.json"
image_config_is() {  # image_config_is PYTHON-EXPRESSION over c (the image's Config)
  python3 -c "import json,sys; i=json.load(open(sys.argv[1]))[0]; c=dict(i['Config'])
c.setdefault('Healthcheck', i.get('Healthcheck'))  # podman reports it beside Config
sys.exit(0 if ($1) else 1)" "$work/inspect.json"
}
check "USER is numeric, not root" image_config_is "c.get('User','').split(':')[0] not in ('','0','root') and c['User'].split(':')[0].isdigit()"
check "ENTRYPOINT [reactord]" image_config_is "c.get('Entrypoint') == ['reactord']"
check "STOPSIGNAL SIGTERM" image_config_is "c.get('StopSignal') in ('SIGTERM', '15')"
check "HEALTHCHECK runs reactord-healthcheck" image_config_is "'reactord-healthcheck' in (c.get('Healthcheck') or {}).get('Test', [])"
check "EXPOSE 9995 9464 50051" image_config_is "{'9995/tcp','9464/tcp','50051/tcp'} <= set(c.get('ExposedPorts') or {})"
in_image() { podman run --rm --network=none --no-healthcheck --entrypoint /bin/sh "$tag" -c "$1"; }
check "every library of reactord/reactorctl resolves" \
  in_image 'ldd /usr/local/bin/reactord /usr/local/bin/reactorctl >/tmp/l && ! grep "not found" /tmp/l'
check "the Kubernetes preStop command (sleep) exists in the image" in_image 'command -v sleep'
check "no compiler, cmake or -dev headers in the runtime image" \
  in_image '! command -v g++ && ! command -v cc && ! command -v cmake && [ ! -d /usr/include/grpcpp ]'

# --- run ---------------------------------------------------------------------------------
free_ports() {  # N distinct free loopback ports (bound together so they differ)
  python3 -c 'import socket,sys
socks=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}
wait_port() {  # wait_port CONTAINER PORT: until PORT accepts (10 s), or the container died
  local i
  for i in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    [ "$(podman inspect --format '{{.State.Running}}' "$1")" = true ] || break
    sleep 0.1
  done
  echo "  $1 never listened on $2; its log:" >&2
  podman logs "$1" 2>&1 | tail -20 >&2
  return 1
}
greets_and_echoes() {
  local out
  out=$(printf 'deploy-check\n' | timeout 5 nc -N 127.0.0.1 "$1" || true)
  [ "$out" = "$(printf 'Hello, World!\ndeploy-check')" ] || { echo "  got: $(printf %q "$out")" >&2; return 1; }
}
serves_metrics() {
  curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" >"$work/metrics.txt" &&
    grep -q '^reactord_' "$work/metrics.txt"
}
health_serving() {  # health_serving CONTAINER [reactorctl args...]
  local c=$1
  shift
  local out
  out=$(podman exec "$c" reactorctl "$@" health) && grep -qw SERVING <<<"$out"
}
not_root() { [ "$(podman exec "$1" id -u)" != 0 ]; }
healthcheck_healthy() { podman healthcheck run "$1" >&2; }  # silent and 0 when healthy
stops_cleanly() {  # stops_cleanly CONTAINER DATA_PORT DRAIN_SECONDS: stop with a client connected
  local c=$1 t0 elapsed code holder
  sleep 60 | nc 127.0.0.1 "$2" >/dev/null 2>&1 &
  holder=$!
  bg_pids+=("$holder")
  sleep 0.5
  t0=$SECONDS
  podman stop -t 30 "$c" >/dev/null 2>&1
  elapsed=$((SECONDS - t0))
  code=$(podman inspect --format '{{.State.ExitCode}}' "$c")
  kill "$holder" 2>/dev/null || true
  echo "  stop took ${elapsed} s (drain timeout ${3} s, stop timeout 30 s), exit code $code"
  [ "$code" = 0 ] && [ "$elapsed" -lt 30 ]
}
# As the Kubernetes manifests run it. podman's healthcheck timers need systemd, which this
# machine lacks (it logs an error and carries on): `podman healthcheck run` checks instead.
run_flags=(--network=host --read-only --cap-drop=ALL --security-opt=no-new-privileges)

step "run (defaults, loopback ports)"
read -r p_data p_metrics p_control <<<"$(free_ports 3)"
ctr=reactord-deploy-test-$$-a
containers+=("$ctr")
podman run -d --name "$ctr" "${run_flags[@]}" \
  -e REACTORD_LISTEN="127.0.0.1:$p_data" -e REACTORD_METRICS_LISTEN="127.0.0.1:$p_metrics" \
  -e REACTORD_CONTROL_LISTEN="127.0.0.1:$p_control" -e REACTORCTL_TARGET="127.0.0.1:$p_control" \
  -e REACTORD_DRAIN_TIMEOUT=3s "$tag" >/dev/null 2>"$work/run-a.log"
if check "container starts and listens" wait_port "$ctr" "$p_data"; then
  check "greeting + echo over TCP from the host" greets_and_echoes "$p_data"
  check "reactorctl health inside the container: SERVING" health_serving "$ctr"
  check "image HEALTHCHECK reports healthy" healthcheck_healthy "$ctr"
  check "/metrics from the host has reactord_ series" serves_metrics "$p_metrics"
  check "runs as non-root (id -u)" not_root "$ctr"
  check "podman stop with a client connected: drain, exit 0" stops_cleanly "$ctr" "$p_data" 3
fi

step "run (compose settings + Prometheus)"
refuses_open_control_without_token() {
  local out rc=0
  out=$(timeout 30 podman run --rm --network=none --no-healthcheck -e REACTORD_CONTROL_LISTEN=0.0.0.0:50051 "$tag" 2>&1) || rc=$?
  echo "  reactord said: $(printf '%s' "$out" | tail -1)"
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
}
check "refuses control beyond loopback without a token" refuses_open_control_without_token

read -r q_data q_metrics q_control q_prom <<<"$(free_ports 4)"
env_args=()
while IFS='=' read -r key value; do
  case $key in  # compose's listen addresses, moved to free loopback ports (host network)
    REACTORD_LISTEN) value=127.0.0.1:$q_data ;;
    REACTORD_METRICS_LISTEN) value=127.0.0.1:$q_metrics ;;
    REACTORD_CONTROL_LISTEN) value=${value%:*}:$q_control ;;
  esac
  env_args+=(-e "$key=$value")
done < <(node deploy/validate-compose.mjs --env reactord)
ctr=reactord-deploy-test-$$-b
containers+=("$ctr")
podman run -d --name "$ctr" "${run_flags[@]}" "${env_args[@]}" \
  -v "$PWD/deploy/secrets/control-token.dev:/run/secrets/reactord_control_token:ro" \
  -e REACTORCTL_TARGET="127.0.0.1:$q_control" "$tag" >/dev/null 2>"$work/run-b.log"
inspect_needs_token() {
  local cmd=(podman exec "$ctr" reactorctl)
  "${cmd[@]}" --token-file /run/secrets/reactord_control_token info >/dev/null &&
    ! "${cmd[@]}" info >/dev/null 2>&1
}
prometheus_scrapes() {  # deploy/prometheus.yml, pointed at the loopback port, scrapes reactord
  local i cfg=$work/prometheus.yml
  sed -e "s/reactord:9464/127.0.0.1:$q_metrics/" -e "s/localhost:9090/127.0.0.1:$q_prom/" \
      -e 's/scrape_interval: 15s/scrape_interval: 1s/' deploy/prometheus.yml >"$cfg"
  mkdir -p "$work/monitoring" && cp deploy/monitoring/alerts.yml "$work/monitoring/"  # rule_files
  prometheus --config.file="$cfg" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$q_prom" >"$work/prometheus.log" 2>&1 &
  bg_pids+=($!)
  for i in $(seq 60); do
    sleep 0.5
    curl -fsS -G --max-time 2 "http://127.0.0.1:$q_prom/api/v1/query" \
      --data-urlencode 'query=up{job="reactord"} == 1 and on() count({job="reactord",__name__=~"reactord_.+"}) > 0' \
      2>/dev/null | grep -q '"result":\[{' && { echo "  Prometheus: up{job=\"reactord\"}=1 after $((i / 2)) s"; return 0; }
  done
  tail -5 "$work/prometheus.log" >&2
  return 1
}
if check "container (compose settings, token secret) starts" wait_port "$ctr" "$q_data"; then
  check "greeting + echo over TCP from the host" greets_and_echoes "$q_data"
  check "health answers without a token" health_serving "$ctr"
  check "image HEALTHCHECK reaches a 0.0.0.0 control address" healthcheck_healthy "$ctr"
  check "Inspect works with the token, not without" inspect_needs_token
  check "Prometheus with deploy/prometheus.yml scrapes reactord" prometheus_scrapes
  check "podman stop: drain, exit 0" stops_cleanly "$ctr" "$q_data" 10
fi

finish
