#!/usr/bin/python3
"""--metrics-listen [::1]:0 on the real binary (issue #13 item 12: civetweb could not start
there): curl -g and Python's urllib scrape /metrics over IPv6; a keep-alive connection is
answered several times (as Prometheus reuses it); idle connections held to the metrics port
add no thread to the process and do not keep a scrape from its answer. Our threads carry names
(rd-loop-N, rd-metrics, ...) that `top -H` shows; gRPC starts and ends its own as it likes, so
the per-connection check counts ours, and bounds the whole process below one thread per client.

usage: metrics_ipv6_check.py REACTORD_BINARY"""
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, verdict  # noqa: E402


def thread_names(pid):
    names = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                names.append(f.read().strip())
        except FileNotFoundError:  # a gRPC thread that ended while we listed
            pass
    return sorted(names)


def ours(names):
    return [n for n in names if n.startswith("rd-")]


def main():
    binary = sys.argv[1]
    err = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
                             "--metrics-listen", "[::1]:0", "--loops", "2"], stdout=subprocess.DEVNULL, stderr=err, text=True)
    try:
        port = None
        deadline = time.monotonic() + 20
        while port is None and time.monotonic() < deadline:
            err.seek(0)
            m = re.search(r"metrics listening on http://\[::1\]:(\d+)/metrics", err.read())
            if m:
                port = int(m.group(1))
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
        err.seek(0)
        if not check(port is not None, "no metrics line on [::1]: " + err.read()[-500:]):
            return 1
        url = f"http://[::1]:{port}/metrics"

        out = subprocess.run(["curl", "-g", "-s", "-f", "--max-time", "20", url], capture_output=True, text=True)
        check(out.returncode == 0 and "reactord_build_info" in out.stdout,
              f"curl -g {url}: exit {out.returncode} {out.stdout[:200]}")
        with urllib.request.urlopen(url, timeout=20) as r:
            body = r.read().decode()
            check(r.status == 200 and "reactord_build_info" in body, f"urllib {url}: {r.status}")
            check(r.headers.get("Content-Type", "").startswith("text/plain"), r.headers.get("Content-Type"))

        # Keep-alive, as Prometheus scrapes: one connection, several answers.
        conn = http.client.HTTPConnection("::1", port, timeout=20)
        for i in range(3):
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            check(resp.status == 200 and b"process_open_fds" in resp.read(), f"keep-alive scrape {i}: {resp.status}")
        check(conn.sock is not None, "the metrics server closed a keep-alive connection")
        conn.close()

        # Idle connections (fewer than --metrics-max-connections): no thread each, and a scrape
        # still answers while they are held.
        # The control plane's threads (rd-grpc-health, rd-h2-guard) may start after the metrics
        # line was printed: wait (bounded) until each named thread is there before counting, or
        # a loaded machine reads them as new threads of the idle connections.
        expected = ("rd-loop-0", "rd-loop-1", "rd-metrics", "rd-signals", "rd-grpc-health", "rd-h2-guard")
        before = thread_names(proc.pid)
        settle = time.monotonic() + 20
        while not all(name in before for name in expected) and time.monotonic() < settle:
            time.sleep(0.05)
            before = thread_names(proc.pid)
        for name in ("rd-loop-0", "rd-loop-1", "rd-metrics", "rd-signals", "rd-grpc-health"):
            check(before.count(name) == 1, f"one thread named {name}: {before}")
        idle = [socket.create_connection(("::1", port), timeout=10) for _ in range(20)]
        time.sleep(0.5)
        during = thread_names(proc.pid)
        check(ours(during) == ours(before), f"our threads {ours(before)} before 20 idle connections, "
              f"{ours(during)} with them")
        check(len(during) < len(before) + 20, f"{len(before)} threads before 20 idle connections, {len(during)} with them")
        out = subprocess.run(["curl", "-g", "-s", "-f", "--max-time", "20", url], capture_output=True, text=True)
        check(out.returncode == 0 and "reactord_metrics_http_connections" in out.stdout,
              f"scrape with 20 idle connections held: exit {out.returncode}")
        m = re.search(r"^reactord_metrics_http_connections (\d+)", out.stdout, re.M)
        check(m is not None and int(m.group(1)) >= 21, f"open connections on the page: {m and m.group(1)}")
        for s in idle:
            s.close()
    finally:
        proc.terminate()
        check(proc.wait(timeout=30) == 0, f"reactord exit code {proc.returncode}")
    return verdict("metrics on [::1]")


if __name__ == "__main__":
    sys.exit(main())
