#!/usr/bin/env python3
"""Is reactord's (1,1,64) p99 bimodal across processes, and is the raw server too? (issue #19)

An earlier run saw some reactord processes at the raw server's p99 and others at 2-4x it at
one connection × depth 1 × 64 B. One long-lived process per server (paired.py) cannot show a
per-process mode, so here every measurement gets a FRESH server process: round after round,
each server (reactord, the raw epoll server, the raw server with one idle thread, libevent)
starts, is driven by reactor-bench for --duration seconds, and stops, the order rotating per
round so a slow minute hits all of them alike (servers on CPU 0, reactor-bench on CPU 1, as
in run.py).

Reported per server: every process's p99 in round order, their median, and how many processes
were SLOW, i.e. had a p99 above --slow (default 1.5) times the median p99 of the OTHER servers'
processes in the same round. A server with a mode of its own has slow processes in rounds
where the others are not; when the machine is slow, every server is slow together and no
one counts as slow. Rounds are also listed as a table.

  bench/echo/p99_modes.py --build build/release --rounds 12 --duration 2    # ~2 minutes

Never a test: it measures and asserts nothing. 127.0.0.1 only; bounded by --budget seconds
(every process is killed past it). Exit status 0 when every measurement ran clean.
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as echo  # noqa: E402  (the servers, the client and the CPU accounting)

SERVERS = ("reactord", "epoll", "epoll-mt", "libevent")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build/release")
    p.add_argument("--reactord"), p.add_argument("--reactor-bench")
    p.add_argument("--libevent-echo"), p.add_argument("--epoll-echo")
    p.add_argument("--rounds", type=int, default=12, help="fresh processes per server (default 12)")
    p.add_argument("--duration", type=float, default=2.0, help="seconds per measurement")
    p.add_argument("--row", default="1,1,64", metavar="C,D,S")
    p.add_argument("--slow", type=float, default=1.5,
                   help="a process is slow above this times the other servers' median p99 in its round")
    p.add_argument("--budget", type=float, default=600.0, help="hard bound in seconds (≤ 1800)")
    p.add_argument("--json-out")
    args = p.parse_args()
    echo.resolve_binaries(p, args)
    args.row = tuple(int(x) for x in args.row.split(","))
    if len(args.row) != 3 or not (2 <= args.rounds <= 60 and 0 < args.duration <= 30 and 0 < args.budget <= 1800):
        p.error("out of range: --row C,D,S, --rounds [2,60], --duration (0,30], --budget (0,1800]")
    return args


def measure_fresh(name, args, deadline):
    server = echo.Server(name, args, deadline)
    try:
        return echo.measure_echo(server, args.row, args, deadline)
    finally:
        server.stop()


def main():
    args = parse_args()
    deadline = echo.Deadline(args.budget)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load = os.getloadavg()
    rounds, problems = [], []
    try:
        for i in range(args.rounds):
            order = SERVERS[i % len(SERVERS):] + SERVERS[:i % len(SERVERS)]
            one = {}
            for name in order:
                m = measure_fresh(name, args, deadline)
                if not m["ok"] or m["p99_us"] is None:
                    problems.append("%s round %d: reactor-bench reported errors" % (name, i + 1))
                one[name] = m
            rounds.append(one)
            if deadline.left() < args.duration * len(SERVERS) + 10:
                problems.append("stopped at the time budget after %d rounds" % len(rounds))
                break
    except (TimeoutError, RuntimeError) as e:
        problems.append(str(e))

    print("p99 per fresh process, %s, %s, load average %.2f %.2f %.2f at the start, %gs per "
          "process, servers on CPU 0, reactor-bench on CPU 1\n"
          % ("%d × %d × %d" % args.row, started, load[0], load[1], load[2], args.duration))
    print("| round | " + " | ".join("%s p99 µs" % n for n in SERVERS) + " | " +
          " | ".join("%s CPU ns/msg" % n for n in SERVERS) + " |")
    print("|---" * (1 + 2 * len(SERVERS)) + "|")
    slow = {n: 0 for n in SERVERS}
    for i, r in enumerate(rounds):
        cells = []
        for n in SERVERS:
            others = [r[o]["p99_us"] for o in SERVERS if o != n and r.get(o) and r[o]["p99_us"]]
            mine = r[n]["p99_us"] if r.get(n) else None
            is_slow = bool(mine and others and mine > args.slow * statistics.median(others))
            slow[n] += is_slow
            cells.append(("**%d**" if is_slow else "%d") % mine if mine else "—")
        cpu = ["%.0f" % r[n]["cpu_ns_per_msg"] if r.get(n) and r[n]["cpu_ns_per_msg"] else "—" for n in SERVERS]
        print("| %d | %s | %s |" % (i + 1, " | ".join(cells), " | ".join(cpu)))
    print()
    print("| server | processes | p99 median µs | min–max | slow processes (> %.1fx the others' median in the round) |"
          % args.slow)
    print("|---|---|---|---|---|")
    for n in SERVERS:
        v = [r[n]["p99_us"] for r in rounds if r.get(n) and r[n]["p99_us"]]
        if v:
            print("| %s | %d | %d | %d–%d | %d |" % (n, len(v), statistics.median(v), min(v), max(v), slow[n]))
    for pr in problems:
        print("PROBLEM: " + pr, file=sys.stderr)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"started": started, "load": load, "row": list(args.row), "rounds": rounds,
                       "slow": slow, "problems": problems}, f, indent=1)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
