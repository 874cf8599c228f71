#!/usr/bin/python3
"""The fleet view: reactorctl against three real reactord processes at once.

Three reactord (2 loops each) hold 2, 1 and 0 clients. With --target a,b,c:
  info / stats / events  every target answers, each row under its TARGET;
  conns                  one table: each client's row under its server's target;
  --json conns           one {"target", "answer"} document per line, answers as reactord's JSON;
  an unreachable 4th     reported on stderr by name, exit 1, the other three still listed;
  watch --count 1        each target's stream, lines tagged with their target;
  drain / resume         applied to all, reported per target; info shows each draining;
  close --all            every client on every server closed (they see EOF), per-target report.
A name with several addresses (localhost, when it resolves to 127.0.0.1 and ::1) reaches a
server on each address.

usage: fleet_check.py REACTORD_BINARY REACTORCTL_BINARY"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "metrics"), os.path.join(HERE, "..", "support")]
from reactord_process import Reactord  # noqa: E402
from checks import check, verdict  # noqa: E402


def main():
    reactord, reactorctl = sys.argv[1], sys.argv[2]
    servers = [Reactord(reactord, "--loops", "2") for _ in range(3)]
    clients = []
    try:
        targets = [s.wait_for_log(r"control plane listening on (127\.0\.0\.1:\d+)")[0] for s in servers]
        fleet = ",".join(targets)
        for server, n in zip(servers, (2, 1, 0)):
            clients += [(server, server.connect()) for _ in range(n)]

        # gRPC's c-ares resolver (Debian's libcares) leaks a few bytes resolving a name such as
        # localhost: LeakSanitizer (asan preset) is told to ignore that library, not ours.
        suppressions = os.path.join(tempfile.mkdtemp(prefix="reactord-fleet-"), "lsan.supp")
        with open(suppressions, "w") as f:
            f.write("leak:libcares.so\n")
        env = dict(os.environ, LSAN_OPTIONS=f"suppressions={suppressions}")

        def ctl(*args, target=fleet):
            return subprocess.run([reactorctl, "--target", target, "--timeout", "10s", *args],
                                  capture_output=True, text=True, timeout=60, env=env)

        def rows_by_target(stdout):
            lines = stdout.splitlines()
            found = {t: [] for t in targets}
            for line in lines[1:]:
                head = line.split(" ", 1)[0]
                if head in found and not re.search(r"\d+ (connection|event)\(s\)", line):
                    found[head].append(line)
            return lines[0] if lines else "", found

        r = ctl("info")
        check(r.returncode == 0, f"info: exit {r.returncode} {r.stderr}")
        header, found = rows_by_target(r.stdout)
        check(header.startswith("TARGET"), f"info header: {header!r}")
        for t, s in zip(targets, servers):
            check(any(f"pid:" in l and str(s.proc.pid) in l for l in found[t]), f"info: no pid line for {t}")

        r = ctl("stats")
        header, found = rows_by_target(r.stdout)
        check(r.returncode == 0 and header.split()[:2] == ["TARGET", "LOOP"], f"stats: {r.returncode} {header!r}")
        for t in targets:
            check(len(found[t]) == 2, f"stats: {len(found[t])} loop rows for {t}")

        r = ctl("conns")
        header, found = rows_by_target(r.stdout)
        check(r.returncode == 0 and header.split()[:2] == ["TARGET", "ID"], f"conns: {r.returncode} {header!r}")
        for t, n in zip(targets, (2, 1, 0)):
            check(len(found[t]) == n, f"conns: {len(found[t])} rows for {t}, want {n}:\n{r.stdout}")
        print("conns merged:\n" + r.stdout)

        r = ctl("events")
        header, found = rows_by_target(r.stdout)
        check(r.returncode == 0 and all(found[t] for t in targets), f"events: {r.returncode} {r.stdout[:300]}")

        r = ctl("--json", "conns")
        docs = [json.loads(line) for line in r.stdout.splitlines()]
        check(sorted(d["target"] for d in docs) == sorted(targets), f"--json targets: {[d['target'] for d in docs]}")
        for d in docs:
            want = dict(zip(targets, (2, 1, 0)))[d["target"]]
            check(len(d["answer"].get("connections", [])) == want, f"--json {d['target']}: {d['answer']}")

        # One unreachable target: named on stderr, exit 1, the others still answer.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            dead = f"127.0.0.1:{s.getsockname()[1]}"  # bound, never listening: refused
            r = ctl("conns", target=fleet + "," + dead)
        header, found = rows_by_target(r.stdout)
        check(r.returncode == 1, f"with an unreachable target: exit {r.returncode}")
        check(dead in r.stderr and "UNAVAILABLE" in r.stderr, f"stderr does not name {dead}: {r.stderr}")
        check([len(found[t]) for t in targets] == [2, 1, 0], f"others hidden: {r.stdout}")

        # watch: the existing connections (and the synced marker) from every target.
        r = ctl("watch", "--count", "1")
        check(r.returncode == 0, f"watch: exit {r.returncode} {r.stderr}")
        tagged = {line.split(" ", 1)[0] for line in r.stdout.splitlines()}
        check(tagged == set(targets), f"watch lines tagged {tagged}, want {set(targets)}:\n{r.stdout}")

        # drain and resume apply to all, with one report per target.
        r = ctl("drain")
        check(r.returncode == 0 and all(t in r.stdout for t in targets), f"drain: {r.returncode} {r.stdout} {r.stderr}")
        r = ctl("info")
        _, found = rows_by_target(r.stdout)
        check(all(any("draining" in l for l in found[t]) for t in targets), f"info after drain:\n{r.stdout}")
        r = ctl("resume")
        check(r.returncode == 0 and all(t in r.stdout for t in targets), f"resume: {r.returncode} {r.stdout}")
        r = ctl("info")
        _, found = rows_by_target(r.stdout)
        check(all(any("serving" in l for l in found[t]) for t in targets), f"info after resume:\n{r.stdout}")

        # close --all: every client of every server sees EOF.
        r = ctl("close", "--all", "--wait")
        check(r.returncode == 0 and all(t in r.stdout for t in targets), f"close --all: {r.returncode} {r.stdout} {r.stderr}")
        for server, sock in clients:
            sock.settimeout(10)
            try:
                check(sock.recv(1) == b"", "a client was not closed")
            except OSError as e:
                check(False, f"a client was not closed: {e}")
        r = ctl("conns")
        _, found = rows_by_target(r.stdout)
        check(all(not found[t] for t in targets), f"connections left after close --all:\n{r.stdout}")

        # A name with several addresses: one reactord per address of localhost, same port.
        addresses = sorted({a[4][0] for a in socket.getaddrinfo("localhost", 1, type=socket.SOCK_STREAM)})
        print("localhost resolves to", addresses)
        if len(addresses) >= 2:
            port = None
            for _ in range(20):  # a port free on every address
                with socket.socket(socket.AF_INET6 if ":" in addresses[0] else socket.AF_INET) as probe:
                    probe.bind((addresses[0], 0))
                    candidate = probe.getsockname()[1]
                try:
                    for a in addresses[1:]:
                        with socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET) as p2:
                            p2.bind((a, candidate))
                    port = candidate
                    break
                except OSError:
                    continue
            named = [Reactord(reactord, "--control-listen",
                              (f"[{a}]:{port}" if ":" in a else f"{a}:{port}")) for a in addresses]
            try:
                for n in named:
                    n.wait_for_log(r"control plane listening on")
                r = ctl("info", target=f"localhost:{port}")
                header, _ = r.stdout.splitlines()[0], None
                shown = {line.split(" ", 1)[0] for line in r.stdout.splitlines()[1:]}
                want = {f"[{a}]:{port}" if ":" in a else f"{a}:{port}" for a in addresses}
                check(r.returncode == 0 and shown == want, f"localhost:{port} reached {shown}, want {want}")
            finally:
                for n in named:
                    n.stop()
        else:
            r = ctl("info", target=targets[0].replace("127.0.0.1", "localhost"))
            check(r.returncode == 0 and not r.stdout.startswith("TARGET"),
                  f"one address: the plain (non-fleet) answer: {r.stdout[:100]}")
    finally:
        for _, sock in clients:
            sock.close()
        for s in servers:
            s.stop()
    return verdict("fleet view")


if __name__ == "__main__":
    sys.exit(main())
