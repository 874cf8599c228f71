#!/usr/bin/python3
"""Out of memory in the real binary (issue #13, item 9): reactord under an address-space limit
(prlimit --as, applied to the running process once it is up, so the limit sits a fixed margin
above its idle footprint whatever the build) with clients that send and never read, so their
echo parks in reactord's output buffers until a buffer allocation fails.

Checks: the process stays up; the clients whose allocation failed are closed and counted
(reactord_connections_closed_total{reason="no_memory"}); a client connected before keeps
echoing; new clients are served once the parked memory is gone; SIGTERM, still under the
limit, ends it with exit code 0. (A loop that dies anyway exits 70: ServerNoMemory.ALoopThatDiesStopsTheServerWith
ANonZeroExitCode, in process; a real binary cannot be made to fail there on purpose.)

Not under ASan/TSan: a sanitizer runtime reserves terabytes of address space, so --as cannot
be used there.

    out_of_memory_check.py REACTORD_BINARY
"""
import os
import re
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "metrics"))
from reactord_process import Reactord, echo, wait_until  # noqa: E402

MARGIN = 48 << 20        # address space allowed above the idle process
PARKERS = 32             # clients that never read
PER_PARKER = 16 << 20    # bytes each sends at most (512 MiB in all: far above the margin)
ATTACK_SECONDS = 40


def vm_size(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


def no_memory_closes(r):
    m = re.search(r'reactord_connections_closed_total\{[^}]*reason="no_memory"[^}]*\} (\S+)', r.scrape())
    return float(m.group(1)) if m else 0.0


def park(r):
    """Each parker sends until the server closes it, it has sent PER_PARKER, or time is up.
    Returns how many the server closed."""
    socks = []
    for _ in range(PARKERS):
        s = r.connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        socks.append(s)
    sent = {s: 0 for s in socks}
    closed = set()
    chunk = b"x" * 65536
    deadline = time.monotonic() + ATTACK_SECONDS
    while time.monotonic() < deadline:
        active = [s for s in socks if s not in closed and sent[s] < PER_PARKER]
        if not active:
            break
        _, writable, _ = select.select([], active, [], 1.0)
        if not writable:
            # Nothing can be sent: every active parker's echo is parked and its reads paused,
            # or the server stopped reading. Look for closes (a reset or EOF).
            for s in active:
                if server_closed(s):
                    closed.add(s)
            if all(s in closed for s in active):
                break
            continue
        for s in writable:
            try:
                sent[s] += s.send(chunk)
            except OSError:
                closed.add(s)
    for s in socks:
        if s not in closed and server_closed(s):
            closed.add(s)
    return socks, closed, sum(sent.values())


def server_closed(s):
    """True if the server reset or closed this never-reading client (drains what arrived)."""
    try:
        while True:
            data = s.recv(1 << 20)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    binary = sys.argv[1]
    # No per-client output bound short of the memory limit: the limit is what must hold.
    r = Reactord(binary, "--max-output-buffer", "1GiB")
    failures = []
    try:
        steady = r.connect()
        echo(steady, b"before\n")
        r.scrape()  # the metrics endpoint's first request allocates what it keeps
        idle = vm_size(r.proc.pid)
        limit = idle + MARGIN
        subprocess.run(["prlimit", "--pid", str(r.proc.pid), "--as=%d:" % limit], check=True)
        socks, closed, sent = park(r)
        print("idle VmSize %.0f MiB, limit %.0f MiB; %d parkers sent %.0f MiB, %d closed by the server"
              % (idle / 2**20, limit / 2**20, len(socks), sent / 2**20, len(closed)))
        if r.proc.poll() is not None:
            failures.append("reactord exited with %s under the limit:\n%s" % (r.proc.returncode, r.log()))
            return report(failures)
        if not closed:
            failures.append("no parker was closed: the allocations never failed (limit too high?)")
        # The parked memory goes with the parkers; the steady client and new ones are served.
        for s in socks:
            s.close()
        try:
            echo(steady, b"still echoing\n")
        except Exception as e:  # noqa: BLE001
            failures.append("the client connected before did not echo: %s" % e)
        fresh_ok = wait_until(lambda: fresh_client_echoes(r), timeout=20, interval=0.5)
        if not fresh_ok:
            failures.append("a new client was not served after the parkers left")
        counted = wait_until(lambda: no_memory_closes(r) >= 1, timeout=20, interval=0.5)
        if not counted:
            failures.append("reactord_connections_closed_total{reason=\"no_memory\"} did not count them")
        else:
            print("closed{reason=\"no_memory\"} = %d" % no_memory_closes(r))
        steady.close()
    finally:
        try:
            r.stop()  # SIGTERM → exit 0 (raises otherwise)
        except RuntimeError as e:
            failures.append(str(e)[:4000])
    return report(failures)


def fresh_client_echoes(r):
    try:
        s = r.connect()
        try:
            echo(s, b"new client\n")
            return True
        finally:
            s.close()
    except Exception:  # noqa: BLE001
        return False


def report(failures):
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
