#!/usr/bin/env python3
"""Paired, interleaved echo measure of server CPU per message (issue #19): reactord, the raw
epoll server and the libevent server measured in rotation, pair after pair, on each row, so
that a slow minute of the machine hits all three alike instead of deciding a ratio.

For every row (connections, depth, size) the three servers start once (pinned to CPU 0, as in
run.py; reactor-bench on CPU 1); then each pair measures all three back to back, the order
rotating from pair to pair (reactord first, then epoll first, then libevent first, ...).
Per pair: reactord's and libevent's CPU per message divided by raw epoll's from the SAME pair.
Reported per row: the median of those ratios, their spread (min-max and the interquartile
range), and each server's user-space share of its CPU (utime / (utime + stime) from
/proc/PID/stat: what is left to remove in user space; the rest is the kernel's socket work).
With --perf (and a working `perf`), one extra reactord run per row under `perf record -e
cpu-clock` gives the user-space share by samples and the top user-space symbols.

  bench/echo/paired.py --build build/release                 # 4 rows x 6 pairs x 3 s, ~5 min
  bench/echo/paired.py --build build/release --pairs 8 --perf
  bench/echo/paired.py --build build/release --quick         # one row, 2 pairs of 0.5 s
  bench/echo/paired.py --build build/release --baseline-reactord OLD/reactord  # before/after

With --baseline-reactord, an older reactord binary joins the rotation as a fourth server
("before"): its ratio to raw epoll from the same pairs, and reactord ÷ before per pair.

With --threaded-floor, the raw epoll server with one idle thread ("epoll-mt", echo_args.h)
joins the rotation: a process with a second thread pays on every read() and send() for it
(glibc's cancellation-point path, the kernel's file reference), and reactord always has
threads (gRPC, metrics). epoll-mt ÷ epoll is that price; reactord ÷ epoll-mt is what the
reactor itself costs.

Bounded: --budget seconds at most (default 900); past it every process is killed and the
table shows the pairs measured. Benchmarks are run by hand, never as timed tests: CI runs
--quick only to keep the script working. Exit status 0 when every measurement ran clean.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as echo  # noqa: E402  (the servers, the client and the CPU accounting)

ROWS = [(1, 1, 64), (50, 1, 64), (50, 16, 64), (50, 4, 4096)]
ORDER = ("reactord", "epoll", "libevent")
TARGET = 1.03  # issue #19: median reactord / raw epoll CPU per message on every row


def cpu_split(pid):
    """(utime, stime) in seconds of the whole process."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / echo.CLK_TCK, int(fields[12]) / echo.CLK_TCK


def measure(server, row, args, deadline):
    u0, s0 = cpu_split(server.proc.pid)
    m = echo.measure_echo(server, row, args, deadline)
    u1, s1 = cpu_split(server.proc.pid)
    busy = (u1 - u0) + (s1 - s0)
    m["user_share"] = (u1 - u0) / busy if busy > 0 else None
    return m


def quartiles(values):
    if len(values) < 4:
        return min(values), max(values)
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def reference_row(row, ok_pairs, name):
    """A second reference server `name` in the rotation (the older reactord, or the raw epoll server
    with an idle thread): its ratios to raw epoll, reactord's ratios to it, and the table line
    (conns | depth | size | pairs | name ÷ epoll median | min–max | reactord ÷ name median | min–max)."""
    vs_epoll = [p[name]["cpu_ns_per_msg"] / p["epoll"]["cpu_ns_per_msg"] for p in ok_pairs]
    reactord_vs = [p["reactord"]["cpu_ns_per_msg"] / p[name]["cpu_ns_per_msg"] for p in ok_pairs]
    line = "| %d | %d | %d | %d | %.3f | %.3f–%.3f | **%.3f** | %.3f–%.3f |" % (
        row[0], row[1], row[2], len(ok_pairs), statistics.median(vs_epoll), min(vs_epoll), max(vs_epoll),
        statistics.median(reactord_vs), min(reactord_vs), max(reactord_vs))
    return vs_epoll, reactord_vs, line


def perf_profile(server, row, args, deadline):
    """One reactord run under perf record; (user share by samples, top user symbols) or None."""
    if not shutil.which("perf"):
        return None, "perf not installed"
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-g", "-o", data,
                                "-p", str(server.proc.pid)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.3)
        if rec.poll() is not None:
            return None, "perf record failed: " + rec.stderr.read().strip()[:200]
        try:
            echo.measure_echo(server, row, args, deadline)
        finally:
            rec.send_signal(2)
            try:
                rec.wait(timeout=30)
            except subprocess.TimeoutExpired:
                rec.kill()
                rec.wait()
        rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym",
                              "--stdio", "-q", "-g", "none", "--percent-limit", "0.5"],
                             capture_output=True, text=True, timeout=120)
        if rep.returncode != 0:
            err = (rep.stderr.strip() or rep.stdout.strip())[:200]
            return None, "perf report failed: " + (err or "exit %d, no samples?" % rep.returncode)
        kernel, user, top = 0.0, 0.0, []
        for line in rep.stdout.splitlines():
            parts = line.split()
            if len(parts) < 4 or not parts[0].endswith("%"):
                continue
            pct = float(parts[0].rstrip("%"))
            if "[k]" in parts:
                kernel += pct
            else:
                user += pct
                top.append("%s %s" % (parts[0], " ".join(parts[parts.index("[.]") + 1:])
                                      if "[.]" in parts else " ".join(parts[1:])))
        total = kernel + user
        if not total:
            return None, "perf recorded no samples (cpu-clock sampling does not work on this machine)"
        return user / total, "; ".join(top[:8])


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build/release")
    p.add_argument("--reactord"), p.add_argument("--reactor-bench")
    p.add_argument("--libevent-echo"), p.add_argument("--epoll-echo")
    p.add_argument("--baseline-reactord", help="an older reactord measured in the same rotation")
    p.add_argument("--threaded-floor", action="store_true",
                   help="also the raw epoll server with one idle thread (epoll-mt)")
    p.add_argument("--row", action="append", metavar="C,D,S", help="a row (repeatable)")
    p.add_argument("--pairs", type=int, default=6, help="pairs per row (default 6)")
    p.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    p.add_argument("--perf", action="store_true", help="one reactord run per row under perf")
    p.add_argument("--quick", action="store_true", help="one row, 2 pairs of 0.5 s (CI smoke)")
    p.add_argument("--budget", type=float, default=900.0, help="hard bound in seconds (≤ 1800)")
    p.add_argument("--json-out")
    args = p.parse_args()
    echo.resolve_binaries(p, args)
    if args.baseline_reactord and not os.access(args.baseline_reactord, os.X_OK):
        p.error("not an executable: %s" % args.baseline_reactord)
    args.rows = [tuple(int(x) for x in r.split(",")) for r in args.row] if args.row else ROWS
    if args.quick:
        args.rows, args.pairs, args.duration = [(50, 1, 64)], 2, 0.5
    if not (2 <= args.pairs <= 60 and 0 < args.duration <= 30 and 0 < args.budget <= 1800):
        p.error("out of range: --pairs [2,60], --duration (0,30], --budget (0,1800]")
    return args


def main():
    args = parse_args()
    deadline = echo.Deadline(args.budget)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load = os.getloadavg()
    results, problems = [], []
    names = ORDER + (("before",) if args.baseline_reactord else ()) + \
        (("epoll-mt",) if args.threaded_floor else ())
    for row in args.rows:
        servers = {}
        pairs = []
        profile = (None, "not asked (--perf)")
        try:
            for name in names:
                if name == "before":
                    old = argparse.Namespace(**dict(vars(args), reactord=args.baseline_reactord))
                    servers[name] = echo.Server("reactord", old, deadline)
                elif name == "epoll-mt":
                    servers[name] = echo.Server("epoll-mt", args, deadline)
                else:
                    servers[name] = echo.Server(name, args, deadline)
            for i in range(args.pairs):
                order = names[i % len(names):] + names[:i % len(names)]
                pair = {}
                for name in order:
                    pair[name] = measure(servers[name], row, args, deadline)
                    if not pair[name]["ok"]:
                        problems.append("%s %s pair %d: reactor-bench reported errors" % (name, row, i + 1))
                pairs.append(pair)
            if args.perf:
                profile = perf_profile(servers["reactord"], row, args, deadline)
        except (TimeoutError, subprocess.TimeoutExpired) as e:
            problems.append("stopped at the time budget in %s: %s" % (row, e))
        except RuntimeError as e:
            problems.append(str(e))
        finally:
            for s in servers.values():
                s.stop()
        results.append({"row": list(row), "pairs": pairs, "perf": profile})
        if deadline.left() < 5:
            break

    print("Paired echo CPU per message, %s, %d CPUs, load average %.2f %.2f %.2f at the start: "
          "servers on CPU 0, reactor-bench on CPU 1, %gs per measurement, order rotating per pair\n"
          % (started, os.cpu_count(), load[0], load[1], load[2], args.duration))
    print("| conns | depth | size | pairs | reactord ÷ epoll: median | min–max | IQR | "
          "libevent ÷ epoll: median | min–max | user share reactord / epoll / libevent | "
          "epoll CPU ns/msg median | wait % max |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    before_lines = []
    floor_lines = []
    for r in results:
        ok_pairs = [p for p in r["pairs"] if all(p[n]["cpu_ns_per_msg"] for n in names)]
        if not ok_pairs:
            continue
        rr = [p["reactord"]["cpu_ns_per_msg"] / p["epoll"]["cpu_ns_per_msg"] for p in ok_pairs]
        lr = [p["libevent"]["cpu_ns_per_msg"] / p["epoll"]["cpu_ns_per_msg"] for p in ok_pairs]
        q1, q3 = quartiles(rr)
        share = [statistics.median([p[n]["user_share"] for p in ok_pairs if p[n]["user_share"] is not None] or [0])
                 for n in ORDER]
        epoll_ns = statistics.median([p["epoll"]["cpu_ns_per_msg"] for p in ok_pairs])
        wait = max(p[n]["wait_pct"] for p in ok_pairs for n in names)
        if "before" in names:
            r["before_vs_epoll"], r["reactord_vs_before"], line = reference_row(r["row"], ok_pairs, "before")
            before_lines.append(line)
        if "epoll-mt" in names:
            r["epoll_mt_vs_epoll"], r["reactord_vs_epoll_mt"], line = reference_row(r["row"], ok_pairs, "epoll-mt")
            floor_lines.append(line)
        c, d, s = r["row"]
        med = statistics.median(rr)
        print("| %d | %d | %d | %d | **%.3f** | %.3f–%.3f | %.3f–%.3f | %.3f | %.3f–%.3f | %.1f%% / %.1f%% / %.1f%% | %.0f | %.0f |"
              % (c, d, s, len(ok_pairs), med, min(rr), max(rr), q1, q3, statistics.median(lr), min(lr),
                 max(lr), 100 * share[0], 100 * share[1], 100 * share[2], epoll_ns, wait))
        r["reactord_vs_epoll"] = rr
        r["libevent_vs_epoll"] = lr
        verdicts.append(("(%d, %d, %d)" % (c, d, s), med))
    for lines, name, title in (
            (before_lines, "before", "the older reactord (--baseline-reactord) in the rotation"),
            (floor_lines, "epoll-mt", "the raw epoll server with one idle thread (--threaded-floor)")):
        if not lines:
            continue
        print("\nThe same pairs, with %s:\n" % title)
        print("| conns | depth | size | pairs | %s ÷ epoll: median | min–max | reactord ÷ %s: median | min–max |"
              % (name, name))
        print("|---|---|---|---|---|---|---|---|")
        for line in lines:
            print(line)
    print()
    for r in results:
        share, top = r["perf"]
        if share is not None:
            print("- perf (%s): reactord user space %.1f%% of its samples; top user symbols: %s"
                  % (tuple(r["row"]), 100 * share, top))
        elif args.perf:
            print("- perf (%s): %s" % (tuple(r["row"]), top))
    for name, med in verdicts:
        print("- target median reactord ÷ epoll CPU/msg ≤ %.2f at %s: %s (%.3f)"
              % (TARGET, name, "met" if med <= TARGET else "MISSED", med))
    for pr in problems:
        print("PROBLEM: " + pr, file=sys.stderr)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"started": started, "load": load, "results": results, "problems": problems}, f, indent=1)
    complete = len(results) == len(args.rows) and all(len(r["pairs"]) == args.pairs for r in results)
    return 0 if complete and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
