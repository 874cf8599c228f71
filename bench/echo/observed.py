#!/usr/bin/python3
"""reactord observed vs unobserved (issue #7): does watching the server cost echo throughput,
and how long does ListConnections take over 10,000 connections?

run.py --observed uses the functions here (reactord only, one server on CPU 0):
  1. reactor-bench --idle N holds N idle connections (the RSS test's client, pinned to CPU 1);
  2. quiet latency: ListConnections called back to back for each request kind below;
  3. observation cost: the server's CPU time per second while observed (ListConnections
     only, scrapes only, both), with no echo load: a figure the machine's noise barely moves;
  4. the echo load at (50, 1, 64), alternating unobserved / observed runs (A/B/A/B...):
     observed = the observer scrapes /metrics every 1 s and calls ListConnections 10 times a
     second (cycling through the request kinds), from CPU 1 (the client's CPU, not the server's).
Reported: msgs/s of each run, observed ÷ unobserved, server CPU per message, and the
ListConnections latency measured at the client (p50 / p99 / max).

Run as a program this file IS the observer: a long-lived python3-grpcio client (no process
per call), driven by run.py through stdin, one command a line; every answer is one line
"RESULT {json}":
  latency N   N calls of each request kind, back to back
  observe [both|scrape|list]   start scraping and/or calling
  stop        stop observing; the RESULT holds every call's and scrape's latency
The message classes come from proto/reactord/v1/reactord.proto compiled with protoc
(--python_out) into a temporary directory: no generated code in the tree, no grpc_tools.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "..", "proto")
METRICS = re.compile(r"metrics listening on (http://\S+)")
CONTROL = re.compile(r"control plane listening on (\S+)")
ACTIVE = re.compile(r"^reactord_connections_active(?:\{[^}]*\})? ([0-9.e+]+)$", re.M)
ROW = (50, 1, 64)
TARGET_RATIO = 0.98
TARGET_LIST_MS = 20.0
MAX_OBSERVED_BUDGET = 180.0
# A pair is calm when neither run waited more than this share of its time for a CPU. Above
# run.py's --max-wait: the observer's own threads make observed runs wait ~5 % on a quiet
# machine (they share the CPUs with the server and the client by design).
CALM_WAIT_PCT = 10.0

# ListConnections requests: (name, max_results, min_bytes_in). The filter matches only
# connections that sent something: over idle connections it has to look at every one of them
# (the worst case: nothing stops the scan early).
KINDS = [("page 100", 0, 0), ("page 1000", 1000, 0),
         ("page 100, filter min_bytes_in=1", 0, 1), ("page 1000, filter min_bytes_in=1", 1000, 1)]


# ---------------------------------------------------------------- the observer (a process)

def load_stubs(proto_root, workdir):
    subprocess.run(["protoc", "-I", proto_root, "--python_out", workdir,
                    "reactord/v1/reactord.proto"], check=True)
    sys.path.insert(0, workdir)
    from reactord.v1 import reactord_pb2  # noqa: E402 (generated just now)
    return reactord_pb2


class Observer:
    def __init__(self, control, metrics_url, proto_root, workdir):
        import grpc
        self.grpc = grpc
        pb = load_stubs(proto_root, workdir)
        self.pb = pb
        self.metrics_url = metrics_url
        self.channel = grpc.insecure_channel(control)
        grpc.channel_ready_future(self.channel).result(timeout=10)
        self.list_rpc = self.channel.unary_unary(
            "/reactord.v1.Inspect/ListConnections",
            request_serializer=pb.ListConnectionsRequest.SerializeToString,
            response_deserializer=pb.ListConnectionsResponse.FromString)
        self.requests = []
        for _, max_results, min_bytes_in in KINDS:
            r = pb.ListConnectionsRequest(max_results=max_results)
            if min_bytes_in:
                r.filter.min_bytes_in = min_bytes_in
            self.requests.append(r)
        self.stop_event = threading.Event()
        self.threads = []
        self.cycle = list(range(len(KINDS)))  # the kinds the observing calls go through
        self.samples = []   # (kind index, ms, ok, connections returned)
        self.scrapes = []   # (ms, ok, bytes)

    def call(self, kind):
        t = time.perf_counter()
        try:
            out = self.list_rpc(self.requests[kind], timeout=2.0)
            return (kind, (time.perf_counter() - t) * 1e3, True, len(out.connections))
        except self.grpc.RpcError as e:
            return (kind, (time.perf_counter() - t) * 1e3, False, str(e.code()))

    def scrape(self):
        t = time.perf_counter()
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=2.0) as r:
                size = len(r.read())
            return ((time.perf_counter() - t) * 1e3, True, size)
        except OSError as e:
            return ((time.perf_counter() - t) * 1e3, False, str(e))

    def latency(self, n):
        samples = [self.call(k) for k in range(len(KINDS)) for _ in range(n)]
        return {"samples": samples}

    def _scrape_loop(self):
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            self.scrapes.append(self.scrape())
            next_at += 1.0
            self.stop_event.wait(max(0.0, next_at - time.monotonic()))

    def _call_loop(self):
        next_at, i = time.monotonic(), 0
        while not self.stop_event.is_set():
            self.samples.append(self.call(self.cycle[i % len(self.cycle)]))
            i += 1
            next_at += 0.1  # 10 calls a second; a late call is not made up twice
            self.stop_event.wait(max(0.0, next_at - time.monotonic()))

    def observe(self, what):
        """what: "both", "scrape" (metrics only) or "list" (ListConnections only)."""
        self.samples, self.scrapes = [], []
        self.stop_event.clear()
        self.threads = []
        if what in ("both", "scrape"):
            self.threads.append(threading.Thread(target=self._scrape_loop))
        if what in ("both", "list"):
            self.threads.append(threading.Thread(target=self._call_loop))
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join()
        return {"samples": self.samples, "scrapes": self.scrapes}


def observer_main(argv):
    control, metrics_url, kinds = argv[0], argv[1], argv[2]
    workdir = tempfile.mkdtemp(prefix="reactord-observer-")
    try:
        obs = Observer(control, metrics_url, PROTO_ROOT, workdir)
        obs.cycle = [int(k) for k in kinds.split(",")]
        print("READY", flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "latency":
                answer = obs.latency(int(words[1]))
            elif words[0] == "observe":
                obs.observe(words[1] if len(words) > 1 else "both")
                answer = {"observing": True}
            elif words[0] == "stop":
                answer = obs.stop()
            else:
                answer = {"error": "unknown command " + words[0]}
            print("RESULT " + json.dumps(answer), flush=True)
    finally:
        subprocess.run(["rm", "-rf", workdir], check=False)
    return 0


# ---------------------------------------------------------------- the mode (inside run.py)

class ObserverProcess:
    """The observer, pinned to CPU 1, spoken to line by line."""

    def __init__(self, control, metrics_url, kinds, deadline):
        self.proc = subprocess.Popen(
            ["taskset", "-c", "1", "/usr/bin/python3", os.path.abspath(__file__), "--observer",
             control, metrics_url, ",".join(str(k) for k in kinds)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self.deadline = deadline
        self.expect("READY", 30)

    def expect(self, prefix, timeout):
        """The next line starting with prefix (other lines are kept as diagnostics)."""
        timeout = min(timeout, self.deadline.left())
        result, noise = {}, []

        def read():
            for line in self.proc.stdout:
                if line.startswith(prefix):
                    result["line"] = line[len(prefix):].strip()
                    return
                noise.append(line)
        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(max(0.0, timeout))
        if "line" not in result:
            self.close()
            raise RuntimeError("observer: no %s within %.0f s:\n%s" % (prefix, timeout, "".join(noise)[-2000:]))
        return result["line"]

    def command(self, text, timeout=30):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return json.loads(self.expect("RESULT ", timeout))

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def active_connections(metrics_url):
    with urllib.request.urlopen(metrics_url, timeout=2.0) as r:
        m = ACTIVE.search(r.read().decode())
    return int(float(m.group(1))) if m else 0


def wait_for_addresses(server, deadline):
    limit = time.monotonic() + min(15.0, max(0.0, deadline.left()))
    while time.monotonic() < limit:
        out = server.output()
        mm, mc = METRICS.search(out), CONTROL.search(out)
        if mm and mc:
            return mc.group(1), mm.group(1)
        time.sleep(0.05)
    raise RuntimeError("reactord did not log its metrics and control addresses:\n" + server.output()[-2000:])


def cpu_ns(pid):
    """utime + stime of the whole process so far, in ns (/proc/PID/stat: 10 ms ticks, but
    threads that ended still count, unlike the per-thread schedstat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e9 / os.sysconf("SC_CLK_TCK")


def observation_cost(server, observer, args):
    """Server CPU time per second of observation, with no echo load: what watching costs
    the server (on a CPU-bound server, the share of throughput it takes), measured without
    the noise of the echo runs. One window each: nothing, ListConnections only, scrapes only,
    both."""
    out = []
    for what in ("nothing", "list", "scrape", "both"):
        c0, t0 = cpu_ns(server.proc.pid), time.monotonic()
        o0 = cpu_ns(observer.proc.pid)
        calls = scrapes = 0
        if what == "nothing":
            time.sleep(args.cost_seconds)
        else:
            observer.command("observe " + what)
            time.sleep(args.cost_seconds)
            got = observer.command("stop")
            calls, scrapes = len(got["samples"]), len(got["scrapes"])
        seconds = time.monotonic() - t0
        ms = (cpu_ns(server.proc.pid) - c0) / 1e6
        oms = (cpu_ns(observer.proc.pid) - o0) / 1e6
        out.append({"observer": what, "seconds": seconds, "server_cpu_ms_per_s": ms / seconds,
                    "observer_cpu_ms_per_s": oms / seconds, "calls": calls, "scrapes": scrapes})
    return out


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(p * (len(s) - 1) + 0.5))]


def latency_stats(samples):
    """Per request kind: calls, errors, p50 / p99 / max ms, connections returned (last)."""
    out = []
    for k, (name, _, _) in enumerate(KINDS):
        mine = [s for s in samples if s[0] == k]
        ok = [s[1] for s in mine if s[2]]
        out.append({"kind": name, "calls": len(mine), "errors": len(mine) - len(ok),
                    "p50_ms": percentile(ok, 0.5), "p99_ms": percentile(ok, 0.99),
                    "max_ms": max(ok) if ok else None,
                    "returned": mine[-1][3] if mine and mine[-1][2] else None})
    return out


def measure_observed(run, args, deadline):
    """run: the run.py module (Server, measure_echo, client_command). Returns a dict."""
    result = {"idle": args.idle, "runs": [], "quiet": [], "observed": [], "scrapes": [],
              "problems": []}
    server = run.Server("reactord", args, deadline, log_level="info")
    holder = observer = None
    try:
        control, metrics_url = wait_for_addresses(server, deadline)
        hold = "%ds" % int(max(10, deadline.left() + 10))
        holder = subprocess.Popen(run.client_command(args, server.port, [
            "--idle", str(args.idle), "--hold", hold, "--timeout", "60s"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            start_new_session=True)
        limit = time.monotonic() + min(60.0, deadline.left())
        while active_connections(metrics_url) < args.idle:
            if time.monotonic() > limit or holder.poll() is not None:
                raise RuntimeError("only %d of %d idle connections came up"
                                   % (active_connections(metrics_url), args.idle))
            time.sleep(0.2)
        result["idle_ready"] = active_connections(metrics_url)
        observer = ObserverProcess(control, metrics_url, args.list_kinds, deadline)
        quiet = observer.command("latency %d" % args.latency_calls, timeout=60)
        result["quiet"] = latency_stats(quiet["samples"])
        result["cost"] = observation_cost(server, observer, args)
        samples = []
        for pair in range(args.pairs):
            for observed in (False, True):
                if observed:
                    observer.command("observe")
                m = run.measure_echo(server, ROW, args, deadline, threads_may_end=True)
                if observed:
                    got = observer.command("stop")
                    samples += got["samples"]
                    result["scrapes"] += got["scrapes"]
                    m["list_calls"] = len(got["samples"])
                    m["scrapes"] = len(got["scrapes"])
                m.update({"pair": pair + 1, "observed": observed})
                result["runs"].append(m)
                if not m["ok"]:
                    result["problems"].append("echo run %d (%s): reactor-bench reported errors"
                                              % (pair + 1, "observed" if observed else "unobserved"))
                if server.proc.poll() is not None:
                    raise RuntimeError("reactord exited (status %s); its last output:\n%s"
                                       % (server.proc.returncode, server.output()[-1500:]))
        result["observed"] = latency_stats(samples)
        failed = [s for s in samples if not s[2]] + [s for s in result["scrapes"] if not s[1]]
        if failed:
            result["problems"].append("%d failed observer calls, e.g. %s" % (len(failed), failed[0]))
        result["active_after"] = active_connections(metrics_url)
    except (TimeoutError, subprocess.TimeoutExpired) as e:
        result["problems"].append("stopped at the time budget: %s" % e)
    except (RuntimeError, OSError) as e:
        result["problems"].append(str(e))
    finally:
        if observer:
            observer.close()
        if holder and holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait()
        server.stop()
    return result


def mean(values):
    return sum(values) / len(values) if values else None


def pair_ratios(result, key, max_wait=None):
    """observed ÷ unobserved of `key` within each pair (the two runs are adjacent in time, so
    a machine that drifts slower or faster shifts both); with max_wait, only the pairs whose
    two runs waited at most that share of the time for a CPU (calm pairs)."""
    by_pair = {}
    for m in result["runs"]:
        by_pair.setdefault(m["pair"], {})[m["observed"]] = m
    out = []
    for p in by_pair.values():
        a, b = p.get(False), p.get(True)
        if not a or not b or not a.get(key) or not b.get(key):
            continue
        if max_wait is not None and max(a["wait_pct"], b["wait_pct"]) > max_wait:
            continue
        out.append(b[key] / a[key])
    return out


def summary(result):
    """observed ÷ unobserved: {msgs: (median of the pairs, of the means, min, max),
    cpu: the same for server CPU per message}; Nones when not measured."""
    out = {}
    for name, key in (("msgs", "msgs_per_s"), ("cpu", "cpu_ns_per_msg")):
        ratios = pair_ratios(result, key)
        a = mean([m[key] for m in result["runs"] if not m["observed"] and m[key]])
        b = mean([m[key] for m in result["runs"] if m["observed"] and m[key]])
        out[name] = (percentile(ratios, 0.5), b / a if a and b else None,
                     min(ratios) if ratios else None, max(ratios) if ratios else None)
    return out


def render(result, args, num):
    out = ["| pair | run | msgs/s | p50 µs | p99 µs | server CPU ns/msg | server CPU % "
           "| client CPU % | wait % | ListConnections calls | scrapes |", "|" + "---|" * 11]
    for m in result["runs"]:
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            m["pair"], ("observed" if m["observed"] else "unobserved") + ("" if m["ok"] else " (errors)"),
            num(m["msgs_per_s"]), num(m["p50_us"]), num(m["p99_us"]), num(m["cpu_ns_per_msg"]),
            num(m["server_cpu_pct"]), num(m["client_cpu_pct"]), num(m["wait_pct"]),
            m.get("list_calls", ""), m.get("scrapes", "")))
    sums = summary(result)
    out.append("")
    for name, label in (("msgs", "msgs/s"), ("cpu", "server CPU/msg")):
        med, of_means, lo, hi = sums[name]
        calm = pair_ratios(result, "msgs_per_s" if name == "msgs" else "cpu_ns_per_msg",
                           CALM_WAIT_PCT)
        out.append("- observed ÷ unobserved %s: median of the pairs %s (pairs from %s to %s; "
                   "ratio of the means %s; median of the %d calm pairs, wait ≤ %g %%: %s)"
                   % (label, num(med, "%.3f"), num(lo, "%.3f"), num(hi, "%.3f"),
                      num(of_means, "%.3f"), len(calm), CALM_WAIT_PCT,
                      num(percentile(calm, 0.5), "%.3f")))
    out.append("")
    if result.get("cost"):
        out.append("| observer, no echo load (%s idle connections) | server CPU ms per s "
                   "(CPU 0) | observer CPU ms per s (CPU 1) | calls | scrapes |"
                   % result.get("idle_ready", args.idle))
        out.append("|---|---|---|---|---|")
        kinds = " / ".join(KINDS[k][0] for k in args.list_kinds)
        names = {"nothing": "nothing", "list": "ListConnections 10/s (%s)" % kinds,
                 "scrape": "/metrics scrape 1/s", "both": "both"}
        for c in result["cost"]:
            out.append("| %s | %.1f | %.1f | %d | %d |" % (
                names[c["observer"]], c["server_cpu_ms_per_s"], c["observer_cpu_ms_per_s"],
                c["calls"], c["scrapes"]))
        out.append("")
    out.append("| ListConnections over %s connections | request | calls | errors | p50 ms | p99 ms "
               "| max ms | returned |" % result.get("idle_ready", args.idle))
    out.append("|" + "---|" * 8)
    for phase, rows in (("quiet (back to back)", result["quiet"]),
                        ("during observed echo runs", result["observed"])):
        for r in rows:
            if r["calls"] == 0:  # a kind --list-kinds left out of the observing cycle
                continue
            out.append("| %s | %s | %d | %d | %s | %s | %s | %s |" % (
                phase, r["kind"], r["calls"], r["errors"], num(r["p50_ms"], "%.2f"),
                num(r["p99_ms"], "%.2f"), num(r["max_ms"], "%.2f"), num(r["returned"])))
    ok = [s[0] for s in result["scrapes"] if s[1]]
    if ok:
        out.append("")
        out.append("/metrics scrapes: %d, p50 %.2f ms, max %.2f ms, %s bytes"
                   % (len(ok), percentile(ok, 0.5), max(ok), result["scrapes"][-1][2]))
    return "\n".join(out)


def targets(result):
    ratio = summary(result)["msgs"][0]
    out = []
    if ratio is not None:
        out.append(("observed ÷ unobserved msgs/s ≥ %.2f at %s (median of the pairs)"
                    % (TARGET_RATIO, ROW), ratio >= TARGET_RATIO, "%.3f" % ratio))
    worst = [r["p99_ms"] for r in result["observed"] if r["p99_ms"] is not None]
    if worst:
        out.append(("ListConnections p99 ≤ %g ms while observed (every request kind)" % TARGET_LIST_MS,
                    max(worst) <= TARGET_LIST_MS, "%.2f ms" % max(worst)))
    return out


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--observer":
        sys.exit(observer_main(sys.argv[2:]))
    print("this is the observer of bench/echo/run.py --observed; run that instead", file=sys.stderr)
    sys.exit(2)
