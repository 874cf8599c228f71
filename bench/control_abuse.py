#!/usr/bin/python3
"""An established client's echo latency while the control plane is abused (issue #13).

    /usr/bin/python3 bench/control_abuse.py --build build/release [--pairs 3] [--seconds 5]

One reactord (--loops 1) holds --idle idle connections (reactor-bench --idle). Then, in
alternating runs (calm, abused, calm, abused, ...), one established client measures its echo
round trip (reactor-bench -c 1 -d 1 -s 64: p50 / p99 / p99.9). During the abused runs an
abuser process hammers the control plane and the metrics port at once, all bounded in count
and time, all on 127.0.0.1:
  - 8 WatchConnections streams that never read, reopened as soon as they are ended (each
    opening lists every connection; each is ended when its queue passes its bound), with
    connection churn (short clients opened and closed) so that they have events to queue;
  - 3 threads calling ListConnections back to back with a filter that matches nothing (a
    scan of every connection) and max_results 1000;
  - 1 thread calling CloseConnections with dry_run and a filter that selects everything;
  - 2 threads scraping /metrics back to back;
  - HTTP/2 noise on the control port from a raw client: HEADERS + RST_STREAM bursts and PINGs.
Prints one table (medians over the pairs) for docs/RELIABILITY.md. Not a test: figures
depend on the machine; run it on a quiet one.
"""
import argparse
import json
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
CONTROL = re.compile(r"control plane listening on (\S+)")
METRICS = re.compile(r"metrics listening on (http://\S+)")
LISTEN = re.compile(r"^listening on (\S+)$", re.M)


# ------------------------------------------------------------------ the abuser (a process)

def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        ">I", stream) + payload


def abuse(control, data_port, metrics_url, seconds):
    import grpc
    import hpack
    workdir = tempfile.mkdtemp()
    subprocess.run(["protoc", "-I", os.path.join(ROOT, "proto"), "--python_out", workdir,
                    "reactord/v1/reactord.proto"], check=True)
    sys.path.insert(0, workdir)
    from reactord.v1 import reactord_pb2 as pb  # noqa: E402 (generated just now)
    stop = threading.Event()
    deadline = time.time() + seconds
    counts = {"watch_opened": 0, "list": 0, "close_dry_run": 0, "scrapes": 0, "churn": 0,
              "h2_resets": 0, "h2_pings": 0}
    lock = threading.Lock()

    def count(key, n=1):
        with lock:
            counts[key] += n

    def channel():
        ch = grpc.insecure_channel(control, options=[("grpc.use_local_subchannel_pool", 1)])
        grpc.channel_ready_future(ch).result(timeout=10)
        return ch

    def watcher():
        ch = channel()
        watch = ch.unary_stream("/reactord.v1.Inspect/WatchConnections",
                                request_serializer=pb.WatchConnectionsRequest.SerializeToString,
                                response_deserializer=pb.ConnectionEvent.FromString)
        while not stop.is_set():
            call = watch(pb.WatchConnectionsRequest(queue_limit=65536), timeout=5)
            count("watch_opened")
            # Never read: wait until the server ends it (or the call's deadline).
            while not stop.is_set() and call.is_active():
                time.sleep(0.05)
            call.cancel()
        ch.close()

    def lister():
        ch = channel()
        rpc = ch.unary_unary("/reactord.v1.Inspect/ListConnections",
                             request_serializer=pb.ListConnectionsRequest.SerializeToString,
                             response_deserializer=pb.ListConnectionsResponse.FromString)
        request = pb.ListConnectionsRequest(max_results=1000)
        request.filter.peer = "10.0.0.0/8"
        while not stop.is_set():
            try:
                rpc(request, timeout=10)
            except grpc.RpcError:
                pass
            count("list")
        ch.close()

    def closer():
        ch = channel()
        rpc = ch.unary_unary("/reactord.v1.Control/CloseConnections",
                             request_serializer=pb.CloseConnectionsRequest.SerializeToString,
                             response_deserializer=pb.CloseConnectionsResponse.FromString)
        request = pb.CloseConnectionsRequest(all=True, dry_run=True)
        while not stop.is_set():
            try:
                rpc(request, timeout=10)
            except grpc.RpcError:
                pass
            count("close_dry_run")
        ch.close()

    def scraper():
        while not stop.is_set():
            try:
                with urllib.request.urlopen(metrics_url, timeout=10) as r:
                    r.read()
            except OSError:
                pass
            count("scrapes")

    def churn():
        while not stop.is_set():
            try:
                socket.create_connection(("127.0.0.1", data_port), timeout=5).close()
                count("churn")
            except OSError:
                pass
            time.sleep(0.002)

    def h2_noise():
        host, port = control.rsplit(":", 1)
        enc = hpack.Encoder()
        headers = enc.encode([(":method", "POST"), (":scheme", "http"),
                              (":path", "/reactord.v1.Inspect/GetServerInfo"),
                              (":authority", "127.0.0.1"), ("content-type", "application/grpc"),
                              ("te", "trailers")])
        while not stop.is_set():
            try:
                s = socket.create_connection((host, int(port)), timeout=2)
                s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0))
                stream = 1
                for _ in range(20):
                    if stop.is_set():
                        break
                    burst = b""
                    for _ in range(50):
                        burst += frame(1, 4, stream, headers) + frame(3, 0, stream,
                                                                      struct.pack(">I", 8))
                        stream += 2
                    burst += b"".join(frame(6, 0, 0, struct.pack(">Q", i)) for i in range(5))
                    s.sendall(burst)
                    count("h2_resets", 50)
                    count("h2_pings", 5)
                    time.sleep(0.01)
                s.close()
            except OSError:
                time.sleep(0.05)

    workers = ([watcher] * 8 + [lister] * 3 + [closer] + [scraper] * 2 + [churn, h2_noise])
    threads = [threading.Thread(target=w, daemon=True) for w in workers]
    for t in threads:
        t.start()
    while time.time() < deadline:
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    print("RESULT " + json.dumps(counts), flush=True)


# ------------------------------------------------------------------ the driver

def start_reactord(build):
    proc = subprocess.Popen(
        [os.path.join(build, "server", "reactord"), "--listen", "127.0.0.1:0",
         "--control-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
         "--log-level", "info", "--max-connections", "20000", "--idle-timeout", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = ""
    deadline = time.time() + 20
    while time.time() < deadline and not (CONTROL.search(log) and METRICS.search(log)):
        log += proc.stderr.readline()
    data = proc.stdout.readline().strip()  # "listening on 127.0.0.1:PORT"
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    return proc, data.split()[-1], CONTROL.search(log).group(1), METRICS.search(log).group(1)


def echo_run(build, address, seconds):
    out = subprocess.run([os.path.join(build, "client", "reactor-bench"), address, "-c", "1",
                          "-d", "1", "-s", "64", "-t", "%ds" % seconds],
                         capture_output=True, text=True, timeout=seconds + 60)
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")]
    if not line:
        raise SystemExit("reactor-bench failed: " + out.stdout + out.stderr)
    return json.loads(line[-1][7:])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--abuser":
        abuse(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--idle", type=int, default=10000)
    args = ap.parse_args()
    proc, address, control, metrics = start_reactord(args.build)
    port = int(address.rsplit(":", 1)[1])
    idle = subprocess.Popen([os.path.join(args.build, "client", "reactor-bench"), address,
                             "--idle", str(args.idle), "--hold",
                             "%ds" % (args.pairs * (2 * args.seconds + 15) + 60)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Wait until the idle connections are all open.
        for _ in range(600):
            with urllib.request.urlopen(metrics, timeout=10) as r:
                m = re.search(rb"^reactord_connections_active ([0-9.e+]+)$", r.read(), re.M)
            if m and float(m.group(1)) >= args.idle:
                break
            time.sleep(0.1)
        calm, abused, counts = [], [], []
        for _ in range(args.pairs):
            calm.append(echo_run(args.build, address, args.seconds))
            abuser = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--abuser",
                                       control, str(port), metrics, str(args.seconds + 3)],
                                      stdout=subprocess.PIPE, text=True)
            time.sleep(2)  # the abuse is in full swing before the measurement starts
            abused.append(echo_run(args.build, address, args.seconds))
            out, _ = abuser.communicate(timeout=120)
            counts.append(json.loads([l for l in out.splitlines() if l.startswith("RESULT ")][-1][7:]))
        print("reactord --loops 1, %d idle connections, one established client (64-byte echo, "
              "depth 1), %d s per run, %d pairs; medians:" % (args.idle, args.seconds, args.pairs))
        print()
        print("| run | msgs/s | echo p50 | echo p99 | echo p99.9 |")
        print("|---|---|---|---|---|")
        for name, runs in (("calm", calm), ("control plane abused", abused)):
            med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
            print("| %s | %.0f | %.0f us | %.0f us | %.0f us |" % (
                name, med("msgs_per_s"), med("p50_us"), med("p99_us"), med("p999_us")))
        print()
        total = {k: sum(c[k] for c in counts) for k in counts[0]}
        print("Abuse per abused run (mean): " + ", ".join(
            "%s %.0f" % (k, v / len(counts)) for k, v in total.items()))
    finally:
        idle.terminate()
        idle.wait(timeout=30)
        proc.terminate()
        proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
