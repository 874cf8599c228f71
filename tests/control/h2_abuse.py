#!/usr/bin/python3
"""HTTP/2 abuse on reactord's control port, before any token is checked (issue #13.4).

A raw HTTP/2 client (frames built here, header blocks by Debian's python3-hpack from
python3-h2) drives one attack, bounded in count and time, against a fresh reactord on
127.0.0.1, while a sampler reads the process's threads and RSS from /proc and a well-behaved
client (reactorctl info, and gRPC health over its own connection) keeps calling. Then it checks
that every attacking connection was cut off (a GOAWAY came, or the server closed it), that the
process stayed under the stated bounds of threads and memory, that the well-behaved client was
answered during and after the attack, and that the echo port still answers.
Exit status 0 = every check passed.

    h2_abuse.py REACTORD_BINARY ATTACK [REACTORCTL] [--tls]
        ATTACK: rapid-reset | continuation | ping | oversized-frame | unread-answers | settings
                | connection-caps
        --tls: the control port serves TLS (--control-tls-cert/-key, certificates made here with
               python3-cryptography); every client, attacker or not, speaks HTTP/2 over Python's
               ssl (ALPN h2) and reactorctl uses --tls-ca. The guard terminates TLS, so the same
               bounds must hold.

connection-caps is no flood: reactord runs with --control-max-connections 8 and
--control-max-connections-per-peer 4; connections from 127.0.0.2 and 127.0.0.3 (loopback source
addresses) fill both caps while a reactorctl watch session (127.0.0.1) is open; connections over
a cap are closed before any HTTP/2 and counted in reactord_control_h2_rejected_total{reason=
"limit"} (scraped from /metrics); the watch session keeps streaming, and once the hogs leave a
fresh reactorctl info works.
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

import datetime
import ipaddress
import shutil
import ssl
import tempfile
import urllib.request

import hpack

TLS = "--tls" in sys.argv
TLS_DIR = None   # CA and server certificate when TLS (made in main())

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
ERROR_CODES = {0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x6: "FRAME_SIZE_ERROR", 0xb: "ENHANCE_YOUR_CALM"}
# What RFC 9113 asks for: the attack's connection error, as a GOAWAY (None: any way of ending
# the connection will do).
REQUIRED_END = {"oversized-frame": "GOAWAY FRAME_SIZE_ERROR", "settings": "GOAWAY ENHANCE_YOUR_CALM"}

# The bounds this test holds reactord to (docs/RELIABILITY.md): threads and resident memory
# above the idle process at any moment of the attack (the HTTP/2 guard in front of gRPC cuts
# each attack off within its burst: RST_STREAM 100 per connection, PING 100, a 64 KiB header
# block, 16 KiB frames; 256 KiB relayed at most each way).
MAX_EXTRA_THREADS = 48          # --control-threads 32 plus gRPC's own executor threads
MAX_EXTRA_RSS = 64 << 20
ATTACK_SECONDS = 8


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        ">I", stream & 0x7FFFFFFF) + payload


def request_headers(encoder, path="/reactord.v1.Inspect/GetServerInfo", extra=()):
    return encoder.encode([(":method", "POST"), (":scheme", "http"), (":path", path),
                           (":authority", "127.0.0.1"), ("content-type", "application/grpc"),
                           ("te", "trailers"), *extra])


def make_certificates():
    """A CA and a server certificate for localhost / 127.0.0.1, in a temporary directory."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    directory = tempfile.mkdtemp(prefix="reactord-h2-tls-")
    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(cn, issuer=None, ca=False):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        b = (x509.CertificateBuilder().subject_name(name)
             .issuer_name(issuer[0].subject if issuer else name).public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=2)))
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=ca)
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
        return b.sign(issuer[1] if issuer else key, hashes.SHA256()), key

    ca = cert("h2-abuse test CA", ca=True)
    server = cert("localhost", issuer=ca)
    with open(os.path.join(directory, "ca.pem"), "wb") as f:
        f.write(ca[0].public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(directory, "server.pem"), "wb") as f:
        f.write(server[0].public_bytes(serialization.Encoding.PEM))
    key_path = os.path.join(directory, "server.key")
    with open(key_path, "wb") as f:
        f.write(server[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return directory


def connect(port, timeout, source=None):
    """A connection to the control port: TCP, wrapped in TLS (ALPN h2) with --tls."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    if not TLS:
        return s
    ctx = ssl.create_default_context(cafile=os.path.join(TLS_DIR, "ca.pem"))
    ctx.set_alpn_protocols(["h2"])
    try:
        return ctx.wrap_socket(s, server_hostname="localhost")
    except (OSError, ssl.SSLError):
        s.close()
        raise


def reactorctl_args(reactorctl, port):
    args = [reactorctl, "--target", "127.0.0.1:%d" % port]
    if TLS:
        args += ["--tls-ca", os.path.join(TLS_DIR, "ca.pem"), "--tls-server-name", "localhost"]
    return args


class Reactord:
    def __init__(self, binary, extra=()):
        tls = ["--control-tls-cert", os.path.join(TLS_DIR, "server.pem"),
               "--control-tls-key", os.path.join(TLS_DIR, "server.key")] if TLS else []
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
             "--metrics-listen", "127.0.0.1:0", "--log-level", "warn", *tls, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()  # "listening on 127.0.0.1:PORT"
        m = re.search(r":(\d+)$", line.strip())
        if not m:
            raise SystemExit("reactord did not start: %r" % line)
        self.data_port = int(m.group(1))
        self.control_port = self._control_port()
        self.metrics_port = self._metrics_port()

    def _metrics_port(self):
        ports = listening_ports(self.proc.pid) - {self.data_port, self.control_port}
        return min(ports) if ports else None

    def metric(self, name, labels=""):
        """The value of one sample on /metrics (0 when absent)."""
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port, timeout=10).read()
        for line in body.decode().splitlines():
            if line.startswith(name + labels + " "):
                return float(line.split()[-1])
        return 0.0

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
        with connect(port, 2) as s:
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
        with connect(port, 10) as s:
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
    s = connect(port, 5)
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
    sockets = []
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
        sockets.append(s)
    return "%d streams opened and reset" % sent, sockets


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
    return "%d KiB of CONTINUATION sent (after a GOAWAY the server reads and discards until it closes)" % (sent >> 10), [s]


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
    return "%d PINGs sent" % sent, sockets


def oversized_frame(port, deadline):
    """A DATA frame of 16 MiB - 1 (the largest a frame header can announce), longer than any max
    frame size the server advertises. (Not 1 MiB: gRPC 1.51's first SETTINGS already advertise
    ~4 MiB, and frames up to what gRPC advertised are the client's right: whether a 1 MiB frame
    is refused depended on whether gRPC's SETTINGS had passed the guard before it, a race the
    TLS port lost more often.)"""
    s = attack_connection(port)
    enc = hpack.Encoder()
    ok = send_or_stop(s, frame(HEADERS, END_HEADERS, 1, request_headers(enc)), deadline)
    # The header announces 16 MiB; the first 16 KiB of it are enough to be judged on. (Sending
    # the whole MiB could outlast the server's 2 s lingering close: a close with unread bytes
    # is a reset, which would discard the GOAWAY before we read it.)
    header = frame(DATA, 0, 1)[:9]
    header = struct.pack(">I", (1 << 24) - 1)[1:] + header[3:]
    if ok:
        ok = send_or_stop(s, header + b"\x00" * 16384, deadline)
    return "the header of a 16 MiB DATA frame and 16 KiB of it %s" % ("sent" if ok else "refused"), [s]


def unread_answers(port, deadline):
    """Calls GetServerInfo as fast as the server takes requests, with flow-control windows
    opened wide, and never reads an answer: without backpressure the server queues every
    answer (and RST_STREAM) for a client that never takes them."""
    s = attack_connection(port)
    settings = struct.pack(">HI", 0x4, 0x7FFFFFFF)  # SETTINGS_INITIAL_WINDOW_SIZE
    window = struct.pack(">I", 0x7FFFFFFF - 65535)
    ok = send_or_stop(s, frame(SETTINGS, 0, 0, settings) + frame(WINDOW_UPDATE, 0, 0, window), deadline)
    enc = hpack.Encoder()
    stream, sent = 1, 0
    while ok and stream < 2000000 and time.time() < deadline:
        batch = b""
        for _ in range(200):
            batch += frame(HEADERS, END_HEADERS, stream, request_headers(enc))
            batch += frame(DATA, END_STREAM, stream, b"\x00\x00\x00\x00\x00")
            stream += 2
        ok = send_or_stop(s, batch, deadline)
        if ok:
            sent += 200
    paused = not ok and time.time() < deadline
    return "%d requests sent, answers never read; server %s" % (
        sent, "stopped reading from us" if paused else "kept reading"), [(s, paused)]


def settings_flood(port, deadline):
    """SETTINGS frames (each one changes INITIAL_WINDOW_SIZE, which makes the server walk every
    stream) from 4 connections, 5,000 each at most, never ACKing the server's."""
    sent = 0
    sockets = [attack_connection(port) for _ in range(4)]
    for i, s in enumerate(sockets):
        n = 0
        while n < 5000 and time.time() < deadline:
            batch = b"".join(frame(SETTINGS, 0, 0, struct.pack(">HI", 0x4, 65535 + (n + j) % 1000))
                             for j in range(250))
            if not send_or_stop(s, batch, deadline):
                break
            n += 250
        sent += n
    return "%d SETTINGS frames sent" % sent, sockets


def cut_off(s, deadline):
    """How the server ended an attacking connection: "GOAWAY <error code>", "closed", or None
    (still open)."""
    buf = b""
    try:
        while time.time() < deadline:
            pending = s.pending() if isinstance(s, ssl.SSLSocket) else 0
            readable, _, _ = select.select([s], [], [], 0.5) if not pending else ([s], [], [])
            if not readable:
                continue
            chunk = s.recv(65536)
            if not chunk:
                return "closed"
            buf += chunk
            while len(buf) >= 9:
                length = int.from_bytes(buf[:3], "big")
                if len(buf) < 9 + length:
                    break
                if buf[3] == GOAWAY:
                    return "GOAWAY %s" % ERROR_CODES.get(int.from_bytes(buf[13:17], "big"), "?")
                buf = buf[9 + length:]
    except (OSError, ssl.SSLError):
        return "closed"
    return None


def reactorctl_works(reactorctl, port):
    if not reactorctl:
        return True
    try:
        out = subprocess.run(reactorctl_args(reactorctl, port) + ["info"],
                             capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return False
    return out.returncode == 0


ATTACKS = {"rapid-reset": rapid_reset, "continuation": continuation, "ping": ping_flood,
           "oversized-frame": oversized_frame, "unread-answers": unread_answers,
           "settings": settings_flood}


def refused(port, source):
    """True if a connection from `source` is closed by the server before any HTTP/2 (a
    connection over a cap): no TLS handshake, no SETTINGS."""
    try:
        s = connect(port, 10, source)
    except (OSError, ssl.SSLError):
        return True  # TLS: the server closed before the handshake finished
    try:
        s.sendall(PREFACE + frame(SETTINGS, 0, 0))
        return s.recv(9) == b""
    except (OSError, ssl.SSLError):
        return True
    finally:
        s.close()


def held(port, source):
    """An HTTP/2 connection from `source` that the server answered (its SETTINGS came)."""
    s = connect(port, 10, source)
    s.sendall(PREFACE + frame(SETTINGS, 0, 0))
    head = s.recv(9)
    if len(head) != 9 or head[3] != SETTINGS:
        raise SystemExit("a connection under the caps was not answered with SETTINGS: %r" % head)
    return s


def connection_caps(binary, reactorctl):
    """--control-max-connections 8, --control-max-connections-per-peer 4 against the real
    binary, with a reactorctl watch session open the whole time."""
    failures = []
    r = Reactord(binary, ["--control-max-connections", "8", "--control-max-connections-per-peer", "4"])
    hogs = []
    watch = None
    try:
        # Wait until the probes of the port search have left (each held a connection).
        deadline = time.time() + 10
        while r.metric("reactord_control_h2_connections") > 0 and time.time() < deadline:
            time.sleep(0.1)
        watch = subprocess.Popen(reactorctl_args(reactorctl, r.control_port) + ["watch"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watched = queue_lines(watch.stdout)
        if not wait_line(watched, "synced", 15):
            failures.append("the reactorctl watch session did not start")
        first = TcpHold(r.data_port)
        if not wait_line(watched, "opened", 15):
            failures.append("the watch session saw no connection open before the caps were reached")
        # Per client address: 4 from 127.0.0.2; the fifth is refused, 127.0.0.3 is not.
        hogs += [held(r.control_port, "127.0.0.2") for _ in range(4)]
        if not refused(r.control_port, "127.0.0.2"):
            failures.append("a 5th connection from 127.0.0.2 was served (--control-max-connections-per-peer 4)")
        # In all: watch (1) + 4 + 3 = 8; the next, from a fresh address, is refused.
        hogs += [held(r.control_port, "127.0.0.3") for _ in range(3)]
        if not refused(r.control_port, "127.0.0.4"):
            failures.append("a 9th connection was served (--control-max-connections 8)")
        for _ in range(5):
            refused(r.control_port, "127.0.0.4")
        rejected = r.metric("reactord_control_h2_rejected_total", '{reason="limit"}')
        open_now = r.metric("reactord_control_h2_connections")
        # The session opened before the caps keeps working: it sees a new data connection.
        second = TcpHold(r.data_port)
        session_ok = wait_line(watched, "opened", 15)
        if not session_ok:
            failures.append("the reactorctl watch session stopped streaming at the caps")
        for h in hogs:
            h.close()
        hogs = []
        deadline = time.time() + 10
        while r.metric("reactord_control_h2_connections") > 1 and time.time() < deadline:
            time.sleep(0.1)
        after = reactorctl_works(reactorctl, r.control_port)
        if not after:
            failures.append("reactorctl info failed once the hogs had left")
        print("connection-caps: %d refused and counted (reactord_control_h2_rejected_total{reason=\"limit\"} "
              "= %d), %d open at the caps; watch session during the caps: %s; reactorctl info after: %s" % (
                  7, rejected, open_now, "streaming" if session_ok else "STOPPED", "ok" if after else "FAILED"))
        if rejected != 7:
            failures.append("reactord_control_h2_rejected_total{reason=\"limit\"} is %d, 7 were refused" % rejected)
        if open_now != 8:
            failures.append("reactord_control_h2_connections is %d at the caps, expected 8" % open_now)
        first.close()
        second.close()
        if r.proc.poll() is not None:
            failures.append("reactord exited with %s" % r.proc.returncode)
    finally:
        for h in hogs:
            h.close()
        if watch:
            watch.terminate()
            watch.wait(timeout=10)
        r.stop()
    return failures


class TcpHold:
    """A data-port client that reads its greeting and stays connected."""
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.recv(64)

    def close(self):
        self.s.close()


def queue_lines(stream):
    lines = []
    cond = threading.Condition()

    def pump():
        for line in stream:
            with cond:
                lines.append(line)
                cond.notify_all()
    threading.Thread(target=pump, daemon=True).start()
    return (lines, cond, [0])


def wait_line(watched, word, seconds):
    """True when a line containing `word` arrives after the ones already consumed."""
    lines, cond, seen = watched
    deadline = time.time() + seconds
    with cond:
        while True:
            for i in range(seen[0], len(lines)):
                if word in lines[i].lower():
                    seen[0] = i + 1
                    return True
            seen[0] = len(lines)
            left = deadline - time.time()
            if left <= 0:
                return False
            cond.wait(left)


def main():
    global TLS_DIR
    args = [a for a in sys.argv[1:] if a != "--tls"]
    binary, attack = args[0], args[1]
    reactorctl = args[2] if len(args) > 2 else None
    if TLS:
        TLS_DIR = make_certificates()
    try:
        if attack == "connection-caps":
            failures = connection_caps(binary, reactorctl)
        else:
            failures = run_attack(binary, attack, reactorctl)
    finally:
        if TLS_DIR:
            shutil.rmtree(TLS_DIR, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


def run_attack(binary, attack, reactorctl):
    r = Reactord(binary)
    failures = []
    try:
        time.sleep(0.5)
        base_threads, base_rss = r.threads(), r.rss()
        peak = {"threads": base_threads, "rss": base_rss}
        calls = {"ok": 0, "failed": 0}
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak["threads"] = max(peak["threads"], r.threads())
                    peak["rss"] = max(peak["rss"], r.rss())
                except OSError:
                    return
                time.sleep(0.02)

        def well_behaved():
            # A client that follows the rules keeps being answered while the attack runs.
            while not stop.is_set():
                ok = health_serving(r.control_port) and reactorctl_works(reactorctl, r.control_port)
                calls["ok" if ok else "failed"] += 1
                stop.wait(0.2)

        sampler = threading.Thread(target=sample)
        sampler.start()
        caller = threading.Thread(target=well_behaved)
        caller.start()
        what, sockets = ATTACKS[attack](r.control_port, time.time() + ATTACK_SECONDS)
        # An attack that breaks no rule (unread-answers) is not cut off: the server must stop
        # reading from it instead ("paused"), before its answers pile up.
        ends = [(cut_off(s[0], time.time() + 3) or ("paused" if s[1] else None))
                if isinstance(s, tuple) else cut_off(s, time.time() + 10) for s in sockets]
        for s in sockets:
            (s[0] if isinstance(s, tuple) else s).close()
        # The echo port and health answer while the server digests the attack.
        if not echo_works(r.data_port):
            failures.append("the echo port did not answer after the attack")
        if not health_serving(r.control_port):
            failures.append("gRPC health did not answer SERVING after the attack")
        if not reactorctl_works(reactorctl, r.control_port):
            failures.append("reactorctl info failed after the attack")
        time.sleep(1.0)
        stop.set()
        caller.join()
        sampler.join()
        print("%s%s: %s; connections ended by the server: %s; threads %d -> peak %d; "
              "RSS %.1f MiB -> peak %.1f MiB; well-behaved calls during the attack: %d ok, %d failed" % (
                  attack, " (TLS)" if TLS else "", what, ends, base_threads, peak["threads"], base_rss / 2**20,
                  peak["rss"] / 2**20, calls["ok"], calls["failed"]))
        required = REQUIRED_END.get(attack)
        if required and any(e != required for e in ends):
            failures.append("expected %s on every attacking connection (RFC 9113 §4.2)" % required)
        if None in ends:
            failures.append("%d of %d attacking connections were neither ended nor paused by the "
                            "server (no GOAWAY, not closed, still read)" % (ends.count(None), len(ends)))
        if calls["failed"] or not calls["ok"]:
            failures.append("the well-behaved client failed %d of %d calls during the attack" % (
                calls["failed"], calls["failed"] + calls["ok"]))
        if peak["threads"] > base_threads + MAX_EXTRA_THREADS:
            failures.append("threads peaked at %d (bound %d)" % (
                peak["threads"], base_threads + MAX_EXTRA_THREADS))
        if peak["rss"] > base_rss + MAX_EXTRA_RSS:
            failures.append("RSS peaked at %.1f MiB (bound %.1f MiB)" % (
                peak["rss"] / 2**20, (base_rss + MAX_EXTRA_RSS) / 2**20))
        if r.proc.poll() is not None:
            failures.append("reactord exited with %s" % r.proc.returncode)
    finally:
        r.stop()
    return failures


if __name__ == "__main__":
    sys.exit(main())
