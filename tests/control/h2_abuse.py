#!/usr/bin/python3
"""HTTP/2 abuse on reactord's control port, before any token is checked (issue #13.4).

A raw HTTP/2 client (frames built here, header blocks by Debian's python3-hpack from
python3-h2) drives one attack, bounded in count and time, against a fresh reactord on
127.0.0.1, while a sampler reads the process's threads and RSS from /proc. Then it checks
that the process stayed under the stated bounds and that the echo port and gRPC health still
answer. Exit status 0 = every check passed.

    h2_abuse.py REACTORD_BINARY ATTACK      ATTACK: rapid-reset | continuation | ping
"""
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time

import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1

# The bounds this test holds reactord to (docs/RELIABILITY.md): threads above the idle
# process at any moment of the attack, and the process answering on both ports after it.
# Resident memory is measured and printed, and asserted only where gRPC 1.51 lets us bound it
# (MAX_EXTRA_RSS, None = not bounded yet: a known gap listed in docs/RELIABILITY.md).
MAX_EXTRA_THREADS = 48          # --control-threads 32 plus gRPC's own executor threads
MAX_EXTRA_RSS = {"rapid-reset": None, "continuation": None, "ping": None}
ATTACK_SECONDS = 8


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        ">I", stream & 0x7FFFFFFF) + payload


def request_headers(encoder, path="/reactord.v1.Inspect/GetServerInfo", extra=()):
    return encoder.encode([(":method", "POST"), (":scheme", "http"), (":path", path),
                           (":authority", "127.0.0.1"), ("content-type", "application/grpc"),
                           ("te", "trailers"), *extra])


class Reactord:
    def __init__(self, binary):
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
             "--metrics-listen", "127.0.0.1:0", "--log-level", "warn"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()  # "listening on 127.0.0.1:PORT"
        m = re.search(r":(\d+)$", line.strip())
        if not m:
            raise SystemExit("reactord did not start: %r" % line)
        self.data_port = int(m.group(1))
        self.control_port = self._control_port()

    def _control_port(self):
        # The control port is the one listening socket that is neither data nor metrics: ask
        # reactord itself through /proc (its listening TCP sockets).
        deadline = time.time() + 10
        while time.time() < deadline:
            ports = listening_ports(self.proc.pid)
            ports.discard(self.data_port)
            for port in sorted(ports):
                if answers_grpc(port):
                    return port
            time.sleep(0.1)
        raise SystemExit("no control port found")

    def threads(self):
        return len(os.listdir("/proc/%d/task" % self.proc.pid))

    def rss(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def listening_ports(pid):
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/%d/net/tcp" % pid, "/proc/%d/net/tcp6" % pid):
        with open(table) as f:
            next(f)
            for row in f:
                cols = row.split()
                if cols[3] == "0A" and cols[9] in inodes:  # LISTEN
                    ports.add(int(cols[1].split(":")[1], 16))
    return ports


def answers_grpc(port):
    """True if an HTTP/2 SETTINGS comes back (the metrics port speaks HTTP/1.1)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(PREFACE + frame(SETTINGS, 0, 0))
            head = s.recv(9)
            return len(head) == 9 and head[3] == SETTINGS
    except OSError:
        return False


def health_serving(port):
    """grpc.health.v1.Health/Check over a fresh HTTP/2 connection: True if SERVING."""
    enc = hpack.Encoder()
    dec = hpack.Decoder()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(PREFACE + frame(SETTINGS, 0, 0))
            s.sendall(frame(HEADERS, END_HEADERS, 1,
                            request_headers(enc, "/grpc.health.v1.Health/Check")))
            s.sendall(frame(DATA, END_STREAM, 1, b"\x00\x00\x00\x00\x00"))  # empty request
            buf = b""
            deadline = time.time() + 10
            while time.time() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    return False
                buf += chunk
                while len(buf) >= 9:
                    length = int.from_bytes(buf[:3], "big")
                    if len(buf) < 9 + length:
                        break
                    kind, flags, payload = buf[3], buf[4], buf[9:9 + length]
                    buf = buf[9 + length:]
                    if kind == SETTINGS and not flags & ACK:
                        s.sendall(frame(SETTINGS, ACK, 0))
                    if kind == DATA and len(payload) >= 7:
                        # HealthCheckResponse{status: SERVING(1)} = field 1 varint 1
                        return payload[5:7] == b"\x08\x01"
                    if kind == HEADERS:
                        headers = dict(dec.decode(payload))
                        if "grpc-status" in headers and headers["grpc-status"] != "0":
                            return False
            return False
    except OSError:
        return False


def echo_works(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            greeting = b""
            while not greeting.endswith(b"\n"):
                chunk = s.recv(64)
                if not chunk:
                    return False
                greeting += chunk
            s.sendall(b"still here\n")
            echoed = b""
            while len(echoed) < 11:
                chunk = s.recv(64)
                if not chunk:
                    return False
                echoed += chunk
            return echoed == b"still here\n"
    except OSError:
        return False


def attack_connection(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a client that barely reads
    s.sendall(PREFACE + frame(SETTINGS, 0, 0))
    return s


def send_or_stop(s, data, deadline):
    """Sends data; False when the server stopped taking it (closed, or not reading)."""
    try:
        view = memoryview(data)
        while view:
            if time.time() > deadline:
                return False
            _, writable, _ = select.select([], [s], [], 1.0)
            if not writable:
                return False  # the server stopped reading from us: flow control won
            sent = s.send(view)
            view = view[sent:]
        return True
    except OSError:
        return False


def rapid_reset(port, deadline):
    """HEADERS + RST_STREAM(CANCEL) pairs on 4 connections, 15,000 streams each at most."""
    sent = 0
    for _ in range(4):
        s = attack_connection(port)
        enc = hpack.Encoder()
        stream = 1
        while stream < 30000 and time.time() < deadline:
            batch = b""
            for _ in range(100):
                batch += frame(HEADERS, END_HEADERS, stream, request_headers(enc))
                batch += frame(RST_STREAM, 0, stream, struct.pack(">I", 8))
                stream += 2
            if not send_or_stop(s, batch, deadline):
                break
            sent += 100
        s.close()
    return "%d streams opened and reset" % sent


def continuation(port, deadline):
    """One request whose header block never ends: CONTINUATION frames, each a whole header
    field (16,000-byte value), up to 128 MiB."""
    s = attack_connection(port)
    enc = hpack.Encoder()
    ok = send_or_stop(s, frame(HEADERS, 0, 1, request_headers(enc)), deadline)
    # Literal header field without indexing, new name: 0x00, name, value.
    name = b"x-pad"
    value = b"v" * 16000
    field = b"\x00" + bytes([len(name)]) + name + b"\x7f" + encode_int_tail(len(value), 127) + value
    chunk = frame(CONTINUATION, 0, 1, field) * 16
    sent = 0
    while ok and sent < (128 << 20) and time.time() < deadline:
        ok = send_or_stop(s, chunk, deadline)
        if ok:
            sent += len(chunk)
    s.close()
    return "%d MiB of CONTINUATION accepted before the server stopped taking them" % (sent >> 20)


def encode_int_tail(value, prefix_max):
    value -= prefix_max
    out = b""
    while value >= 128:
        out += bytes([(value & 0x7F) | 0x80])
        value >>= 7
    return out + bytes([value])


def ping_flood(port, deadline):
    """PINGs from 8 connections that never read the PING ACKs, 50,000 each at most."""
    sent = 0
    sockets = [attack_connection(port) for _ in range(8)]
    open_sockets = list(sockets)
    while open_sockets and time.time() < deadline:
        for s in list(open_sockets):
            batch = b"".join(frame(PING, 0, 0, struct.pack(">Q", sent + i)) for i in range(500))
            if not send_or_stop(s, batch, deadline) or sent >= 400000:
                open_sockets.remove(s)
            else:
                sent += 500
    for s in sockets:
        s.close()
    return "%d PINGs sent" % sent


ATTACKS = {"rapid-reset": rapid_reset, "continuation": continuation, "ping": ping_flood}


def main():
    binary, attack = sys.argv[1], sys.argv[2]
    r = Reactord(binary)
    failures = []
    try:
        time.sleep(0.5)
        base_threads, base_rss = r.threads(), r.rss()
        peak = {"threads": base_threads, "rss": base_rss}
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak["threads"] = max(peak["threads"], r.threads())
                    peak["rss"] = max(peak["rss"], r.rss())
                except OSError:
                    return
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        what = ATTACKS[attack](r.control_port, time.time() + ATTACK_SECONDS)
        # The echo port and health answer while the server digests the attack.
        if not echo_works(r.data_port):
            failures.append("the echo port did not answer after the attack")
        if not health_serving(r.control_port):
            failures.append("gRPC health did not answer SERVING after the attack")
        time.sleep(1.0)
        stop.set()
        sampler.join()
        print("%s: %s; threads %d -> peak %d; RSS %.1f MiB -> peak %.1f MiB" % (
            attack, what, base_threads, peak["threads"], base_rss / 2**20, peak["rss"] / 2**20))
        if peak["threads"] > base_threads + MAX_EXTRA_THREADS:
            failures.append("threads peaked at %d (bound %d)" % (
                peak["threads"], base_threads + MAX_EXTRA_THREADS))
        rss_bound = MAX_EXTRA_RSS[attack]
        if rss_bound is not None and peak["rss"] > base_rss + rss_bound:
            failures.append("RSS peaked at %.1f MiB (bound %.1f MiB)" % (
                peak["rss"] / 2**20, (base_rss + rss_bound) / 2**20))
        if r.proc.poll() is not None:
            failures.append("reactord exited with %s" % r.proc.returncode)
    finally:
        r.stop()
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
