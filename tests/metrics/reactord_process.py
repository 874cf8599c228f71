"""Runs a real reactord for the metrics integration scripts: every port is 0, the bound ports
are read from its log, and stop() checks it exits cleanly (sanitizer reports fail the test).
Every wait is bounded."""
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request

GREETING = b"Hello, World!\n"


class Reactord:
    def __init__(self, binary, *extra_args):
        self.log_lines = []
        self._log_lock = threading.Lock()
        # Each address defaults to 127.0.0.1:0 unless extra_args gives it (a flag given twice
        # is a usage error).
        args = [binary]
        for flag in ("--listen", "--metrics-listen", "--control-listen"):
            if flag not in extra_args:
                args += [flag, "127.0.0.1:0"]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        # stdout says "listening on ADDR" (the seed's lines); stderr is the log.
        self._readers = [threading.Thread(target=self._read_log, args=(stream,), daemon=True)
                         for stream in (self.proc.stdout, self.proc.stderr)]
        for reader in self._readers:
            reader.start()
        self.port = int(self.wait_for_log(r"(?m)^listening on 127\.0\.0\.1:(\d+)$")[0])
        self.metrics_port = int(self.wait_for_log(
            r"metrics listening on http://127\.0\.0\.1:(\d+)/metrics")[0])

    def _read_log(self, stream):
        for line in stream:
            with self._log_lock:
                self.log_lines.append(line)

    def log(self):
        with self._log_lock:
            return "".join(self.log_lines)

    def wait_for_log(self, pattern, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log())
            if match:
                return match.groups()
            if self.proc.poll() is not None:
                raise RuntimeError(f"reactord exited ({self.proc.returncode}):\n{self.log()}")
            time.sleep(0.05)
        raise RuntimeError(f"no log line matching {pattern!r} within {timeout}s:\n{self.log()}")

    def scrape(self):
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            if response.status != 200:
                raise RuntimeError(f"scrape: HTTP {response.status}")
            return response.read().decode()

    def connect(self):
        """A client that has read its greeting."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        got = b""
        while len(got) < len(GREETING):
            chunk = sock.recv(len(GREETING) - len(got))
            if not chunk:
                raise RuntimeError("connection closed before the greeting")
            got += chunk
        assert got == GREETING, got
        return sock

    def stop(self, timeout=30):
        """SIGTERM: drain and exit 0. Raises if it does not, or if a sanitizer complained."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"reactord did not stop within {timeout}s:\n{self.log()}")
        for reader in self._readers:
            reader.join(timeout=5)
        if code != 0:
            raise RuntimeError(f"reactord exited with {code}:\n{self.log()}")
        for marker in ("ERROR: AddressSanitizer", "WARNING: ThreadSanitizer", "runtime error:"):
            if marker in self.log():
                raise RuntimeError(f"sanitizer report in reactord's log:\n{self.log()}")


def echo(sock, payload):
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed during echo")
        got += chunk
    assert got == payload


def wait_until(predicate, timeout=10, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
