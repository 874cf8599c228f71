#!/usr/bin/python3
"""A real Prometheus server scrapes reactord: start Debian's `prometheus` on 127.0.0.1 (free
port, temporary TSDB, scrape_interval 1s, one target: reactord's metrics port), wait for the
target to be up (bounded: 45 s), then check PromQL answers through its HTTP API.

usage: prometheus_server_check.py REACTORD_BINARY"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "support")]
from reactord_process import Reactord, echo  # noqa: E402
from prometheus_server import running_prometheus  # noqa: E402

UP_TIMEOUT = 45


def query(port, promql):
    """Prometheus' HTTP API through curl, PromQL quoted by --data-urlencode."""
    result = subprocess.run(
        ["curl", "-sS", "--max-time", "10", "-G", f"http://127.0.0.1:{port}/api/v1/query",
         "--data-urlencode", f"query={promql}"],
        capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise ConnectionError(f"curl: {result.returncode} {result.stderr.strip()}")
    body = json.loads(result.stdout)
    if body.get("status") != "success":
        raise RuntimeError(f"query {promql!r}: {body}")
    return body["data"]["result"]


def main():
    server = Reactord(sys.argv[1], "--loops", "2")
    workdir = tempfile.mkdtemp(prefix="reactord-prom-")
    clients = []
    try:
        clients = [server.connect() for _ in range(3)]
        for c in clients:
            echo(c, b"z" * 1000)

        config = os.path.join(workdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: reactord
    static_configs:
      - targets: ['127.0.0.1:{server.metrics_port}']
""")
        with running_prometheus(config, workdir) as (prom, port):
            start = time.monotonic()
            up = []
            while time.monotonic() - start < UP_TIMEOUT:
                if prom.poll() is not None:
                    raise RuntimeError(f"prometheus exited with {prom.returncode}")
                try:
                    up = query(port, 'up{job="reactord"}')
                except (OSError, ValueError):
                    # Not listening yet, or listening but not ready: until its storage is open
                    # Prometheus answers the API with a plain-text 503, not JSON (CI, tsan,
                    # once: the query ran 10 ms before the WAL replay ended).
                    up = []
                if up and up[0]["value"][1] == "1":
                    break
                time.sleep(0.25)
            else:
                raise RuntimeError(f"target not up within {UP_TIMEOUT}s: {up}")
            print(f"target up after {time.monotonic() - start:.1f}s")

            active = query(port, 'reactord_connections_active{job="reactord"}')
            assert len(active) == 1 and active[0]["value"][1] == "3", f"active: {active}"
            received = query(port, 'reactord_received_bytes_total{job="reactord"}')
            assert received and received[0]["value"][1] == "3000", f"received: {received}"
            per_loop = query(port, 'sum by (loop) (reactord_reactor_loop_iterations_total{job="reactord"})')
            loops = sorted(r["metric"].get("loop") for r in per_loop)
            assert loops == ["0", "1"], f"iterations by loop: {per_loop}"
            quantile = query(port, 'histogram_quantile(0.99, sum by (le) '
                                   '(reactord_reactor_callback_duration_seconds_bucket{job="reactord"}))')
            assert quantile and float(quantile[0]["value"][1]) >= 0, f"p99 callback: {quantile}"
            build = query(port, 'reactord_build_info{job="reactord"}')
            assert build and build[0]["value"][1] == "1" and build[0]["metric"].get("version"), build
            print("PromQL OK:", active[0]["value"][1], "active,", received[0]["value"][1],
                  "bytes received, loops", loops, ", p99 callback", quantile[0]["value"][1], "s")
    finally:
        # Closed before the stop, also when a check failed: the stop drains, and a client
        # still open would hold it for its 30 s and hide the failure behind a stop timeout.
        for c in clients:
            c.close()
        shutil.rmtree(workdir, ignore_errors=True)
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
