#!/usr/bin/python3
"""--log-format on the real binary: reactord runs with --log-format json (then text) and
--log-level debug, serves a client, drains on SIGTERM and exits; every line it wrote to stderr
is parsed.

  json  each line is one JSON object with exactly ts, level, logger, thread, msg; ts is RFC
        3339 in UTC ("Z", parsed by datetime) and within the run; level is a --log-level
        name; the start-up, client and drain lines are there.
  text  each line starts with an RFC 3339 UTC timestamp ending in Z and a [level].

usage: log_format_check.py REACTORD_BINARY"""
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, verdict  # noqa: E402

LEVELS = {"trace", "debug", "info", "warn", "error", "critical"}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def run(binary, fmt):
    """Starts reactord, serves one client, SIGTERM; returns its stderr lines and the run's span."""
    started = datetime.datetime.now(datetime.timezone.utc)
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                 "--control-listen", "127.0.0.1:0", "--loops", "2", "--log-level", "debug",
                                 "--drain-timeout", "2s", "--log-format", fmt],
                                stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            line = proc.stdout.readline()  # "listening on 127.0.0.1:PORT" (stdout, not a log line)
            m = re.match(r"listening on 127\.0\.0\.1:(\d+)$", line.strip())
            if not check(m, f"{fmt}: no listening line on stdout: {line!r}"):
                return [], started, started
            with socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=10) as c:
                check(c.recv(14) == b"Hello, World!\n", f"{fmt}: no greeting")
            time.sleep(0.2)  # let the loop log the close (debug) before the drain
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
            check(code == 0, f"{fmt}: reactord exited with {code}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        finished = datetime.datetime.now(datetime.timezone.utc)
        err.seek(0)
        return err.read().splitlines(), started, finished


def check_json(binary):
    lines, started, finished = run(binary, "json")
    check(len(lines) >= 3, f"json: only {len(lines)} lines")
    messages = []
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError as e:
            check(False, f"json: not JSON ({e}): {line!r}")
            continue
        if not check(isinstance(obj, dict) and list(obj) == ["ts", "level", "logger", "thread", "msg"],
                     f"json: fields {list(obj) if isinstance(obj, dict) else obj}: {line!r}"):
            continue
        if check(TS.match(obj["ts"]), f"json: ts {obj['ts']!r} is not RFC 3339 UTC"):
            ts = datetime.datetime.fromisoformat(obj["ts"].replace("Z", "+00:00"))
            slack = datetime.timedelta(seconds=1)
            check(started - slack <= ts <= finished + slack, f"json: ts {ts} outside the run {started}..{finished}")
        check(obj["level"] in LEVELS, f"json: level {obj['level']!r}")
        check(isinstance(obj["thread"], int), f"json: thread {obj['thread']!r}")
        check(isinstance(obj["msg"], str) and obj["msg"], f"json: msg {obj['msg']!r}")
        messages.append(obj["msg"])
    text = "\n".join(messages)
    check("metrics listening on http://127.0.0.1:" in text, "json: no metrics listening line")
    check("control plane listening on" in text, "json: no control plane line")
    check(re.search(r"drain", text, re.I), "json: no drain line")
    print(f"json: {len(lines)} lines parsed, levels {sorted({json.loads(l)['level'] for l in lines if l.startswith('{')})}")


def check_text(binary):
    lines, _, _ = run(binary, "text")
    check(len(lines) >= 3, f"text: only {len(lines)} lines")
    for line in lines:
        m = re.match(r"^(\S+) \[(\w+)\] .+", line)
        if check(m, f"text: not 'TIMESTAMP [level] message': {line!r}"):
            check(TS.match(m.group(1)), f"text: timestamp {m.group(1)!r} does not state UTC (Z)")
    print(f"text: {len(lines)} lines, every timestamp in UTC")


def main():
    check_json(sys.argv[1])
    check_text(sys.argv[1])
    return verdict("log format")


if __name__ == "__main__":
    sys.exit(main())
