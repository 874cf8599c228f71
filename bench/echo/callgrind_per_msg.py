#!/usr/bin/env python3
"""User-space instructions per echoed message, counted by callgrind (issue #19).

Time ratios on this shared machine move by several percent from run to run; instruction
counts do not. This runs one echo server under `valgrind --tool=callgrind`, drives it with
reactor-bench for a bounded time, stops it, and divides the loop thread's instructions
(reactord: `reactor::detail::EventBaseImpl::loop` inclusive, a name the LTO build keeps; the
raw servers: `main` inclusive) by the messages reactor-bench counted. With --top N it also
prints the N functions with the most exclusive instructions, per message: where the next
change should look.

  bench/echo/callgrind_per_msg.py --server build/release/server/reactord \
      --reactor-bench build/release/client/reactor-bench --row 1,1,64 --row 50,4,4096

Never a test: it measures, it asserts nothing. 127.0.0.1 only; every run bounded in time.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

GREETING = "Hello, World!\n"
LISTENING = re.compile(r"(?:^|\] )listening on 127\.0\.0\.1:(\d+)", re.M)


def server_command(args):
    name = os.path.basename(args.server)
    if name == "reactord":
        return [args.server, "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
                "--metrics-listen", "127.0.0.1:0", "--log-level", "info"], args.root or "reactor::detail::EventBaseImpl::loop("
    return [args.server, "--port", "0", "--greeting", GREETING], args.root or ":main ["


def run_row(args, row, workdir):
    conns, depth, size = row
    out_file = os.path.join(workdir, "callgrind.%d_%d_%d.out" % row)
    cmd, root = server_command(args)
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_file] + args.callgrind_arg + cmd,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    port = None
    limit = time.monotonic() + 120
    try:
        while time.monotonic() < limit and proc.poll() is None and port is None:
            log.seek(0)
            m = LISTENING.search(log.read())
            if m:
                port = int(m.group(1))
            else:
                time.sleep(0.2)
        if port is None:
            log.seek(0)
            raise RuntimeError("server did not start listening:\n" + log.read()[-2000:])
        bench = subprocess.run([args.reactor_bench, "127.0.0.1:%d" % port, "--greeting", GREETING,
                                "-c", str(conns), "-d", str(depth), "-s", str(size),
                                "-t", "%gs" % args.duration, "--timeout", "60s"],
                               capture_output=True, text=True, timeout=args.duration + 120)
        lines = [l for l in bench.stdout.splitlines() if l.startswith("RESULT ")]
        if not lines:
            raise RuntimeError("reactor-bench printed no RESULT:\n" + bench.stdout[-2000:] + bench.stderr[-2000:])
        result = json.loads(lines[-1][len("RESULT "):])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
    messages = result.get("messages", 0)
    if messages == 0 or result.get("errors", 1) != 0:
        raise RuntimeError("reactor-bench: %s" % result)
    annotate = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out_file],
                              capture_output=True, text=True, check=True).stdout
    loop_ir = None
    for line in annotate.splitlines():
        if root in line:
            loop_ir = int(line.split()[0].replace(",", ""))
            break
    if loop_ir is None:
        raise RuntimeError("no %r in the profile" % root)
    top = []
    if args.top:
        excl = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", out_file],
                              capture_output=True, text=True, check=True).stdout
        for line in excl.splitlines():
            m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)", line)
            if m and "PROGRAM TOTALS" not in line:
                top.append((int(m.group(1).replace(",", "")) / messages, m.group(2)[:150]))
            if len(top) >= args.top:
                break
    return messages, loop_ir, top


def parse_row(text):
    parts = tuple(int(x) for x in text.split(","))
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("a row is CONNS,DEPTH,SIZE")
    return parts


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", required=True, help="reactord, or the raw epoll / libevent echo server")
    p.add_argument("--reactor-bench", required=True)
    p.add_argument("--row", type=parse_row, action="append", help="CONNS,DEPTH,SIZE (repeatable)")
    p.add_argument("--duration", type=float, default=4.0, help="seconds of echo per row (default 4)")
    p.add_argument("--top", type=int, default=0, help="also print the top N functions, exclusive Ir/msg")
    p.add_argument("--root", help="the function whose inclusive count is the loop's (default: reactor::detail::EventBaseImpl::loop( for "
                   "reactord, :main [ for the raw servers); another when a build inlined it (LTO)")
    p.add_argument("--keep", help="directory to keep the callgrind.out files in")
    p.add_argument("--callgrind-arg", action="append", default=[],
                   help="one more valgrind option (repeatable), e.g. --callgrind-arg=--dump-instr=yes with --keep: "
                        "per-instruction counts, read against objdump -d of the binary")
    args = p.parse_args()
    rows = args.row or [(1, 1, 64), (50, 4, 4096)]
    workdir = args.keep or tempfile.mkdtemp(prefix="callgrind_per_msg.")
    os.makedirs(workdir, exist_ok=True)
    try:
        for row in rows:
            messages, loop_ir, top = run_row(args, row, workdir)
            print("%s %dx%dx%d: %d messages, %d Ir, %.0f Ir/msg" %
                  (os.path.basename(args.server), *row, messages, loop_ir, loop_ir / messages))
            for ir, name in top:
                print("  %8.1f  %s" % (ir, name))
            sys.stdout.flush()
    finally:
        if not args.keep:
            for f in os.listdir(workdir):
                os.unlink(os.path.join(workdir, f))
            os.rmdir(workdir)


if __name__ == "__main__":
    main()
