#!/usr/bin/env python3
"""Echo benchmark: reactord vs a libevent echo server vs a raw epoll echo server, side by side
in one run on this machine, printed as one markdown table of ratios.

Each server runs pinned to CPU 0 (taskset -c 0) on 127.0.0.1, the load generator
(reactor-bench, pinned to CPU 1) drives it for every (connections, depth, size) row:
  msgs/s, p50, p99    from reactor-bench's RESULT line (every echoed byte is verified)
  CPU ns/msg          server CPU over the client's run / messages: the scheduler's nanoseconds of
                      every thread (/proc/PID/task/*/schedstat; utime+stime in 10 ms ticks
                      for observed.py, whose RPC threads come and go)
  wait %              time the server's and the client's threads were runnable but not
                      running (run-queue wait, /proc/PID/task/*/schedstat), as a share of the
                      run: how much other load on the machine disturbed it. A measurement
                      above --max-wait is repeated (bounded by the deadline), the calmest kept.
                      On a shared machine, run the script under `nice -n -15`.
Then the RSS per idle connection: a fresh server, reactor-bench --idle N --hold T --pid PID
(the server's VmRSS delta with N idle connections, divided by N).

The whole run is hard-bounded (--budget, 290 s by default; 5 minutes at most): past the
deadline every process is killed and the table shows what was measured. Exit status 0 when
every measurement ran without errors, 1 otherwise (the figures do not decide it: see the
"targets" lines).

  bench/echo/run.py --build build/release           # full run, about 2 minutes
  bench/echo/run.py --build build/release --quick   # a few seconds (CI smoke)
  bench/echo/run.py --build build/release --observed  # reactord watched vs not (observed.py)
"""
import argparse
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time

import observed as observed_mode

ROWS = [(1, 1, 64), (50, 1, 64), (50, 16, 64), (500, 1, 64), (50, 4, 4096)]
QUICK_ROWS = [(1, 1, 64), (50, 4, 4096)]
SERVERS = ("libevent", "epoll", "reactord")
GREETING = "Hello, World!\n"
LISTENING = re.compile(r"(?:^|\] )listening on 127\.0\.0\.1:(\d+)", re.M)
CLK_TCK = os.sysconf("SC_CLK_TCK")
MAX_BUDGET = 300.0

# The project's targets (docs/PERFORMANCE.md).
TARGET_CPU_VS_EPOLL = 1.10
TARGET_ROW = (50, 1, 64)
TARGET_MSGS_VS_LIBEVENT = 1.30
TARGET_RSS_PER_IDLE = 256


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()


def server_command(name, args, log_level="warn"):
    if name == "reactord":
        # Control plane and metrics on free ports: other processes on the machine may hold
        # the defaults. Room for the idle test's connections. At "info" it logs those ports.
        return [args.reactord, "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
                "--metrics-listen", "127.0.0.1:0", "--max-connections", "15000",
                "--log-level", log_level]
    binary = args.libevent_echo if name == "libevent" else args.epoll_echo
    # "epoll-mt": the raw server with one idle thread (echo_args.h: what a second thread
    # costs every system call), the floor for a server that has threads, as reactord does.
    extra = ["--idle-threads", "1"] if name == "epoll-mt" else []
    return [binary, "--port", "0", "--greeting", GREETING] + extra


class Server:
    """A server pinned to CPU 0, its output in a temp file, its port read from that output."""

    def __init__(self, name, args, deadline, log_level="warn"):
        self.name = name
        self.log = tempfile.TemporaryFile(mode="w+")
        cmd = ["taskset", "-c", "0"] + server_command(name, args, log_level)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.port = None
        limit = time.monotonic() + min(15.0, max(0.0, deadline.left()))
        while time.monotonic() < limit and self.proc.poll() is None:
            m = LISTENING.search(self.output())
            if m:
                self.port = int(m.group(1))
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("%s did not start listening:\n%s" % (name, self.output()[-2000:]))

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def cpu_seconds(self):
        """utime + stime of the whole process (all threads, those that ended too), from
        /proc/PID/stat, in 10 ms ticks."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat

    def thread_cpu(self):
        """{tid: ns on a CPU} of every thread now, from /proc/PID/task/TID/schedstat: the
        scheduler's own nanoseconds, where /proc/PID/stat rounds to 10 ms ticks (±0.5 % of a
        2 s measurement at 1 core, at each end: enough to move a paired ratio by a percent)."""
        out = {}
        for tid in os.listdir("/proc/%d/task" % self.proc.pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (self.proc.pid, tid)) as f:
                    out[tid] = int(f.read().split()[0])
            except (OSError, IndexError, ValueError):
                pass  # the thread ended meanwhile
        return out


    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def cpu_between(before, after):
    """Seconds on a CPU between two thread_cpu() snapshots: every thread alive at the second,
    from the first (or from its start). A thread that ended in between is not counted (an echo
    server's threads live as long as it does; measure_echo's threads_may_end is for the others)."""
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9


def runqueue_wait(pid):
    """Seconds the threads of pid spent runnable but waiting for a CPU (0 if it is gone)."""
    total = 0
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0.0
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return total / 1e9


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def client_command(args, port, extra):
    """reactor-bench pinned to CPU 1, against the server on port."""
    return ["taskset", "-c", "1", args.reactor_bench, "127.0.0.1:%d" % port,
            "--greeting", GREETING] + extra


def run_client(args, port, extra, deadline, timeout):
    """Runs reactor-bench on CPU 1; returns (RESULT dict, client CPU s, wall s, client wait s)."""
    cmd = client_command(args, port, extra)
    timeout = min(timeout, deadline.left())
    if timeout <= 1:
        raise TimeoutError("out of time budget")
    c0, t0 = children_cpu(), time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True,
                             stdin=subprocess.DEVNULL)
        # The client's run-queue wait, sampled until it exits (the last 50 ms may be missed).
        wait = 0.0
        while p.poll() is None:
            wait = max(wait, runqueue_wait(p.pid))
            if time.monotonic() - t0 > timeout:
                p.kill()
                p.wait()
                raise subprocess.TimeoutExpired(cmd, timeout)
            time.sleep(0.05)
        wall, ccpu = time.monotonic() - t0, children_cpu() - c0
        out.seek(0)
        text = out.read()
    lines = [l for l in text.splitlines() if l.startswith("RESULT ")]
    if not lines:
        raise RuntimeError("reactor-bench printed no RESULT (exit %d):\n%s" % (p.returncode, text[-2000:]))
    result = json.loads(lines[-1][len("RESULT "):])
    result["exit_code"] = p.returncode
    return result, ccpu, wall, wait


def measure_echo(server, row, args, deadline, threads_may_end=False):
    """One reactor-bench run against server. The server's CPU: the scheduler's nanoseconds per
    thread (thread_cpu), or with threads_may_end (a server answering RPCs meanwhile, whose
    pool threads come and go) the whole process's 10 ms ticks, which keep what ended."""
    conns, depth, size = row
    if threads_may_end:
        cpu_now = server.cpu_seconds
        cpu_used = lambda before: server.cpu_seconds() - before  # noqa: E731
    else:
        cpu_now = server.thread_cpu
        cpu_used = lambda before: cpu_between(before, server.thread_cpu())  # noqa: E731
    cpu0, swait0 = cpu_now(), runqueue_wait(server.proc.pid)
    res, ccpu, wall, cwait = run_client(args, server.port,
                                        ["-c", str(conns), "-d", str(depth), "-s", str(size),
                                         "-t", "%gs" % args.duration],
                                        deadline, args.duration + 30)
    scpu, swait = cpu_used(cpu0), runqueue_wait(server.proc.pid) - swait0
    msgs = res.get("messages", 0)
    return {
        "server": server.name, "row": list(row), "msgs_per_s": res.get("msgs_per_s", 0.0),
        "p50_us": res.get("p50_us"), "p99_us": res.get("p99_us"), "messages": msgs,
        "cpu_ns_per_msg": scpu / msgs * 1e9 if msgs else None,
        "server_cpu_pct": 100 * scpu / wall, "client_cpu_pct": 100 * ccpu / wall,
        "wait_pct": 100 * max(swait, cwait) / wall, "errors": res.get("errors", 0),
        "ok": res.get("exit_code") == 0 and res.get("errors", 1) == 0 and res.get("ready") == conns,
    }


def measure_idle(name, args, deadline):
    server = Server(name, args, deadline)
    try:
        time.sleep(0.2)  # let start-up allocations settle before the baseline
        res, _, _, _ = run_client(args, server.port,
                               ["--idle", str(args.idle), "--hold", "%gs" % args.hold,
                                "--timeout", "60s", "--pid", str(server.proc.pid)],
                               deadline, 90)
    finally:
        server.stop()
    return {"server": name, "connections": res.get("connections"), "ready": res.get("ready"),
            "bytes_per_conn": res.get("server_bytes_per_connection"),
            "ok": res.get("exit_code") == 0 and res.get("ready") == args.idle}


# Options left unset take these values: (with --quick, without).
DEFAULTS = {
    "duration": (1.0, 5.0),
    "idle": (200, 10000),
    "hold": (0.5, 2.0),
    "tries": (1, 3),
    "pairs": (1, 6),
    "cost_seconds": (0.5, 5.0),
    "latency_calls": (3, 100),
}


def ratio(a, b):
    return "—" if a is None or not b else "%.2f" % (a / b)


def num(v, fmt="%.0f"):
    return "—" if v is None else fmt % v


def render(echo, idle, args):
    out = []
    out.append("| conns | depth | size | server | msgs/s | p50 µs | p99 µs | server CPU ns/msg "
               "| server CPU % | client CPU % | wait % | msgs/s ÷ libevent | p99 ÷ libevent "
               "| CPU/msg ÷ libevent | msgs/s ÷ epoll | CPU/msg ÷ epoll |")
    out.append("|" + "---|" * 16)
    for row in args.rows:
        by = {m["server"]: m for m in echo if tuple(m["row"]) == row}
        for name in SERVERS:
            m = by.get(name)
            if m is None:
                continue
            cells = [str(row[0]), str(row[1]), str(row[2]), name if m["ok"] else name + " (errors)",
                     num(m["msgs_per_s"]), num(m["p50_us"]), num(m["p99_us"]),
                     num(m["cpu_ns_per_msg"]), num(m["server_cpu_pct"]),
                     num(m["client_cpu_pct"]), num(m["wait_pct"])]
            if name == "reactord":
                le, ep = by.get("libevent", {}), by.get("epoll", {})
                cells += [ratio(m["msgs_per_s"], le.get("msgs_per_s")),
                          ratio(m["p99_us"], le.get("p99_us")),
                          ratio(m["cpu_ns_per_msg"], le.get("cpu_ns_per_msg")),
                          ratio(m["msgs_per_s"], ep.get("msgs_per_s")),
                          ratio(m["cpu_ns_per_msg"], ep.get("cpu_ns_per_msg"))]
            else:
                cells += [""] * 5
            out.append("| " + " | ".join(cells) + " |")
    if idle:
        out.append("")
        out.append("| server | idle connections | RSS bytes per idle connection | ÷ libevent | ÷ epoll |")
        out.append("|---|---|---|---|---|")
        by = {m["server"]: m for m in idle}
        for name in SERVERS:
            m = by.get(name)
            if m is None:
                continue
            cells = [name if m["ok"] else name + " (errors)", "%s/%s" % (m["ready"], m["connections"]),
                     num(m["bytes_per_conn"])]
            if name == "reactord":
                cells += [ratio(m["bytes_per_conn"], by.get("libevent", {}).get("bytes_per_conn")),
                          ratio(m["bytes_per_conn"], by.get("epoll", {}).get("bytes_per_conn"))]
            else:
                cells += ["", ""]
            out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def check_targets(echo, idle):
    """(description, met or None when not measured, figure) for each target."""
    got = {(tuple(m["row"]), m["server"]): m for m in echo}
    targets = []
    for row in sorted({tuple(m["row"]) for m in echo}):
        ours, ep = got.get((row, "reactord")), got.get((row, "epoll"))
        if ours and ep and ours["cpu_ns_per_msg"] and ep["cpu_ns_per_msg"]:
            r = ours["cpu_ns_per_msg"] / ep["cpu_ns_per_msg"]
            targets.append(("server CPU/msg ≤ %.2fx raw epoll at %s" % (TARGET_CPU_VS_EPOLL, row),
                            r <= TARGET_CPU_VS_EPOLL, "%.2fx" % r))
    ours, le = got.get((TARGET_ROW, "reactord")), got.get((TARGET_ROW, "libevent"))
    if ours and le and le["msgs_per_s"]:
        r = ours["msgs_per_s"] / le["msgs_per_s"]
        targets.append(("msgs/s ≥ %.1fx libevent at %s" % (TARGET_MSGS_VS_LIBEVENT, TARGET_ROW),
                        r >= TARGET_MSGS_VS_LIBEVENT, "%.2fx" % r))
        targets.append(("p99 ≤ libevent at %s" % (TARGET_ROW,), ours["p99_us"] <= le["p99_us"],
                        "%s µs vs %s µs" % (ours["p99_us"], le["p99_us"])))
    for m in idle:
        if m["server"] == "reactord" and m["bytes_per_conn"] is not None:
            targets.append(("RSS ≤ %d B per idle connection" % TARGET_RSS_PER_IDLE,
                            m["bytes_per_conn"] <= TARGET_RSS_PER_IDLE, "%d B" % m["bytes_per_conn"]))
    return targets


def resolve_binaries(parser, args):
    """The four programs of an echo run (also paired.py's): each --NAME given, else its place in
    --build; a parser error names one that is not an executable."""
    for name, rel in (("reactord", "server/reactord"), ("reactor_bench", "client/reactor-bench"),
                      ("libevent_echo", "bench/libevent_echo"), ("epoll_echo", "bench/epoll_echo")):
        if getattr(args, name) is None:
            setattr(args, name, os.path.join(args.build, rel))
        if not os.access(getattr(args, name), os.X_OK):
            parser.error("not an executable: %s (build it, or give --%s)" % (getattr(args, name),
                                                                             name.replace("_", "-")))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build/release", help="build folder holding the binaries")
    p.add_argument("--reactord"), p.add_argument("--reactor-bench")
    p.add_argument("--libevent-echo"), p.add_argument("--epoll-echo")
    p.add_argument("--quick", action="store_true", help="two short rows and a small idle test")
    p.add_argument("--row", action="append", metavar="C,D,S",
                   help="measure only this (connections, depth, size) row; repeatable")
    p.add_argument("--no-idle", action="store_true", help="skip the idle-connection RSS test")
    p.add_argument("--duration", type=float, help="seconds per measurement (default 5; quick 1)")
    p.add_argument("--idle", type=int, help="idle connections (default 10000; quick 200)")
    p.add_argument("--hold", type=float, help="seconds to hold them (default 2; quick 0.5)")
    p.add_argument("--max-wait", type=float, default=5.0,
                   help="repeat a measurement whose run-queue wait %% is above this (default 5)")
    p.add_argument("--tries", type=int, help="measurements per cell at most (default 3; quick 1)")
    p.add_argument("--budget", type=float, default=290.0, help="hard bound in seconds (≤ 300)")
    p.add_argument("--json-out", help="write every measurement here as JSON")
    p.add_argument("--observed", action="store_true",
                   help="only reactord: echo at (50,1,64) with --idle idle connections, "
                        "unobserved vs observed (metrics scraped every 1 s, ListConnections "
                        "10 times a second), alternating; ListConnections latency (observed.py)")
    p.add_argument("--pairs", type=int, help="--observed: unobserved/observed pairs (default 6; quick 1)")
    p.add_argument("--list-kinds", default="0,1,2,3",
                   help="--observed: the ListConnections requests the observer cycles through, "
                        "indices into observed.KINDS (0 page 100, 1 page 1000, 2 page 100 with "
                        "a filter that scans every connection, 3 page 1000 with it; "
                        "default 0,1,2,3)")
    p.add_argument("--cost-seconds", type=float,
                   help="--observed: seconds per observation-cost window (default 5; quick 0.5)")
    p.add_argument("--latency-calls", type=int,
                   help="--observed: back-to-back calls per request kind (default 100; quick 3)")
    args = p.parse_args()
    resolve_binaries(p, args)
    args.rows = QUICK_ROWS if args.quick else ROWS
    if args.row:
        try:
            args.rows = [tuple(int(x) for x in r.split(",")) for r in args.row]
        except ValueError:
            p.error("--row: expected C,D,S (three integers), e.g. 50,1,64")
        if any(len(r) != 3 or not (1 <= r[0] <= 1000 and 1 <= r[1] <= 64 and 1 <= r[2] <= 65536)
               for r in args.rows):
            p.error("--row: connections 1..1000, depth 1..64, size 1..65536")
    for name, (quick, full) in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    try:
        args.list_kinds = [int(k) for k in args.list_kinds.split(",")]
    except ValueError:
        p.error("--list-kinds: expected indices like 0,2")
    if not args.list_kinds or any(not 0 <= k < len(observed_mode.KINDS) for k in args.list_kinds):
        p.error("--list-kinds: indices 0..%d" % (len(observed_mode.KINDS) - 1))
    if args.observed:  # the mode is bounded to 3 minutes
        args.budget = min(args.budget, observed_mode.MAX_OBSERVED_BUDGET)
        if not (1 <= args.pairs <= 10 and 1 <= args.latency_calls <= 200
                and 0 < args.cost_seconds <= 30):
            p.error("out of range: --pairs [1,10], --latency-calls [1,200], --cost-seconds (0,30]")
    if not (0 < args.duration <= 60 and 0 < args.idle <= 15000 and 0 < args.hold <= 60
            and 0 < args.budget <= MAX_BUDGET and 1 <= args.tries <= 5):
        p.error("out of range: --duration (0,60], --idle (0,15000], --hold (0,60], "
                "--budget (0,%g], --tries [1,5]" % MAX_BUDGET)
    return args


def main_observed(args, deadline):
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load = os.getloadavg()
    result = observed_mode.measure_observed(sys.modules[__name__], args, deadline)
    print("reactord observed vs unobserved, %s, %d CPUs (load average %.2f %.2f %.2f at the "
          "start): reactord on CPU 0; reactor-bench and the observer on CPU 1; %d idle "
          "connections; echo at %s, %gs per run; observed = /metrics every 1 s and "
          "ListConnections 10 times a second, cycling through: %s\n"
          % (started, os.cpu_count(), load[0], load[1], load[2], args.idle,
             observed_mode.ROW, args.duration,
             ", ".join(observed_mode.KINDS[k][0] for k in args.list_kinds)))
    print(observed_mode.render(result, args, num))
    print()
    for desc, met, fig in observed_mode.targets(result):
        print("- target %s: %s (%s)" % (desc, "met" if met else "MISSED", fig))
    for pr in result["problems"]:
        print("PROBLEM: " + pr, file=sys.stderr)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(dict(result, started=started, load=load), f, indent=1)
    complete = len(result["runs"]) == 2 * args.pairs and result["observed"]
    return 0 if complete and not result["problems"] else 1


def main():
    args = parse_args()
    deadline = Deadline(args.budget)
    if args.observed:
        return main_observed(args, deadline)
    echo, idle, problems = [], [], []
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    servers = {}
    try:
        for name in SERVERS:
            servers[name] = Server(name, args, deadline)
        for row in args.rows:
            for name in SERVERS:
                if servers[name].proc.poll() is not None:  # a crash is a finding: say so
                    problems.append("%s exited (status %s) before %s; restarted"
                                    % (name, servers[name].proc.returncode, row))
                    servers[name].stop()
                    servers[name] = Server(name, args, deadline)
                best = None
                for attempt in range(args.tries):
                    m = measure_echo(servers[name], row, args, deadline)
                    m["attempts"] = attempt + 1
                    if best is None or m["wait_pct"] < best["wait_pct"]:
                        best = m
                    if (m["wait_pct"] <= args.max_wait or deadline.left() < 60
                            or attempt + 1 == args.tries):
                        break
                    print("%s %s: waited %.0f%% of the run for a CPU, measuring again"
                          % (name, row, m["wait_pct"]),
                          file=sys.stderr)
                echo.append(best)
                if not best["ok"]:
                    problems.append("%s %s: reactor-bench reported errors" % (name, row))
        for s in servers.values():
            s.stop()
        servers.clear()
        for name in () if args.no_idle else SERVERS:
            m = measure_idle(name, args, deadline)
            idle.append(m)
            if not m["ok"]:
                problems.append("%s idle: %s/%s connections ready" % (name, m["ready"], m["connections"]))
    except (TimeoutError, subprocess.TimeoutExpired) as e:
        problems.append("stopped at the time budget: %s" % e)
    except RuntimeError as e:
        problems.append(str(e))
    finally:
        for s in servers.values():
            s.stop()

    print("Echo benchmark, %s, %d CPUs: servers on CPU 0, reactor-bench on CPU 1, "
          "%gs per measurement, 127.0.0.1\n" % (started, os.cpu_count(), args.duration))
    print(render(echo, idle, args))
    print()
    for desc, met, fig in check_targets(echo, idle):
        print("- target %s: %s (%s)" % (desc, "met" if met else "MISSED", fig))
    for pr in problems:
        print("PROBLEM: " + pr, file=sys.stderr)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"started": started, "echo": echo, "idle": idle, "problems": problems}, f, indent=1)
    complete = (len(echo) == len(args.rows) * len(SERVERS)
                and len(idle) == (0 if args.no_idle else len(SERVERS)))
    return 0 if complete and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
