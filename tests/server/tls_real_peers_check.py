#!/usr/bin/python3
"""reactord --tls-listen against real peers: openssl s_client, Python's ssl, reactor-client --tls.

Usage: tls_real_peers_check.py REACTORD REACTOR_CLIENT REACTORCTL
(TLS_CHECK_ONLY=name runs the checks whose name contains it; TLS_CHECK_SKIP=name skips them.)

Certificates are made here (cryptography): a CA, a server certificate for localhost/127.0.0.1,
an expired one, client certificates from the CA and from another CA. Every wait is bounded;
each check asserts what a client sees and what the metrics counted. Exit 0 when all pass.
"""
import datetime
import hashlib
import json
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import ipaddress

REACTORD, CLIENT, REACTORCTL = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="reactord-tls-")
GREETING = b"Hello, World!\n"


# ---- certificates ---------------------------------------------------------------------------

def make_cert(cn, issuer_cert=None, issuer_key=None, ca=False, days_from=-1, days_to=30):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "reactord tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer_cert.subject if issuer_cert else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now + datetime.timedelta(days=days_from))
               .not_valid_after(now + datetime.timedelta(days=days_to)))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(cn), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert, key


def write_pem(name, cert, key=None):
    cert_path = os.path.join(TMP, name + ".pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    key_path = None
    if key is not None:
        key_path = os.path.join(TMP, name + ".key")
        with open(key_path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        os.chmod(key_path, 0o600)
    return cert_path, key_path


ca_cert, ca_key = make_cert("reactord test CA", ca=True)
CA, _ = write_pem("ca", ca_cert)
other_ca_cert, other_ca_key = make_cert("another CA", ca=True)
OTHER_CA, _ = write_pem("other-ca", other_ca_cert)
CERT, KEY = write_pem("server", *make_cert("localhost", ca_cert, ca_key))
EXPIRED_CERT, EXPIRED_KEY = write_pem("expired", *make_cert("localhost", ca_cert, ca_key, days_from=-30,
                                                            days_to=-1))
CLIENT_CERT, CLIENT_KEY = write_pem("alice", *make_cert("alice", ca_cert, ca_key))
STRANGER_CERT, STRANGER_KEY = write_pem("mallory", *make_cert("mallory", other_ca_cert, other_ca_key))


# ---- reactord -------------------------------------------------------------------------------

class Reactord:
    def __init__(self, *extra, cert=CERT, key=KEY):
        self.log = open(os.path.join(TMP, "reactord-%d.log" % time.monotonic_ns()), "w+b")
        self.proc = subprocess.Popen(
            [REACTORD, "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0", "--metrics-listen",
             "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key,
             "--audit-log", os.devnull] + list(extra),
            stdout=self.log, stderr=self.log)
        text = self.wait_for(r"listening for TLS on 127\.0\.0\.1:(\d+)")
        self.tls_port = int(text)
        self.port = int(self.wait_for(r"(?:^|\n)listening on 127\.0\.0\.1:(\d+)\n"))
        self.metrics_port = int(self.wait_for(r"metrics listening on http://127\.0\.0\.1:(\d+)"))
        self.control_port = int(self.wait_for(r"control plane listening on 127\.0\.0\.1:(\d+)"))

    def reactorctl(self, *args):
        r = subprocess.run([REACTORCTL, "--target", "127.0.0.1:%d" % self.control_port] + list(args),
                           capture_output=True, timeout=60)
        assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
        return r.stdout.decode()

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def wait_for(self, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.output())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("reactord never said %r; output:\n%s" % (pattern, self.output()))

    def metric(self, name, labels=""):
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port, timeout=10).read()
        pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)"
        m = re.search(pattern, body.decode())
        return float(m.group(1)) if m else None

    def eventually_metric(self, name, labels, predicate, timeout=20):
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.metric(name, labels)
            if value is not None and predicate(value):
                return value
            time.sleep(0.1)
        raise AssertionError("%s{%s} = %r" % (name, labels, value))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def client_context(ca=CA, cert=None, key=None, max_version=None):
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def tls_connect(port, ctx=None, server_name="localhost"):
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    return (ctx or client_context()).wrap_socket(raw, server_hostname=server_name)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


# ---- checks ---------------------------------------------------------------------------------

def check_s_client_greeting_and_echo(d):
    p = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % d.tls_port, "-CAfile", CA,
                          "-servername", "localhost", "-verify_return_error", "-brief"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"ping from s_client\n")
    p.stdin.flush()
    out = b""
    deadline = time.monotonic() + 20
    while b"ping from s_client\n" not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([p.stdout], [], [], 0.5)
        if ready:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            out += chunk
    p.stdin.close()  # s_client sends close_notify and exits
    p.wait(timeout=20)
    err = p.stderr.read()
    assert out == GREETING + b"ping from s_client\n", out
    assert b"Verification: OK" in err, err
    assert b"Protocol version: TLSv1.3" in err, err


def check_python_ssl_echo_and_session(d):
    with tls_connect(d.tls_port, server_name="localhost") as s:
        assert recv_exact(s, len(GREETING)) == GREETING
        assert s.version() == "TLSv1.3", s.version()
        s.sendall(b"hello from python\n")
        assert recv_exact(s, 18) == b"hello from python\n"
    # The plaintext port still greets in plaintext.
    with socket.create_connection(("127.0.0.1", d.port), timeout=20) as s:
        assert recv_exact(s, len(GREETING)) == GREETING


def check_64_mib_byte_exact(d):
    """64 MiB through TLS, every byte compared, sending and receiving at once from ONE thread:
    an OpenSSL SSL object must not be used by two threads at a time, and Python's SSLSocket is
    one (a sender thread beside a reader on the same socket ended in a false EOF after 31 MB
    when reactord ran slowly under ThreadSanitizer)."""
    total = 64 << 20
    block = hashlib.sha256(b"reactord").digest() * 512  # 16 KiB, not one repeated byte
    blocks = [hashlib.sha256(block + i.to_bytes(4, "big")).digest() * 512 for i in range(16)]
    with tls_connect(d.tls_port) as s:
        assert recv_exact(s, len(GREETING)) == GREETING
        s.setblocking(False)
        sent_hash, got = hashlib.sha256(), hashlib.sha256()
        sent = n = i = 0
        pending = b""
        deadline = time.monotonic() + 240
        while n < total:
            assert time.monotonic() < deadline, "stalled: sent %d, received %d" % (sent, n)
            sending = sent < total or pending
            if not s.pending():
                readable, writable, _ = select.select([s], [s] if sending else [], [], 30)
                assert readable or writable, "no progress for 30 s: sent %d, received %d" % (sent, n)
            if sending:
                if not pending:
                    pending = blocks[i % 16]
                    i += 1
                    sent_hash.update(pending)
                try:
                    k = s.send(pending)
                    pending = pending[k:]
                    sent += k
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                    pass
            try:
                chunk = s.recv(1 << 20)
                assert chunk, "EOF after %d bytes" % n
                got.update(chunk)
                n += len(chunk)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
        assert sent == total and n == total, (sent, n)
        assert got.hexdigest() == sent_hash.hexdigest()


def check_reactor_client_tls(d):
    r = subprocess.run([CLIENT, "127.0.0.1:%d" % d.tls_port, "--tls", "--tls-ca", CA, "--tls-server-name",
                        "localhost", "--send", "ping", "--timeout", "20s"], capture_output=True, timeout=60)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout == GREETING + b"ping\n", r.stdout
    # By IP address (the certificate has it as a SAN).
    r = subprocess.run([CLIENT, "127.0.0.1:%d" % d.tls_port, "--tls", "--tls-ca", CA, "--send", "by ip"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout == GREETING + b"by ip\n", (r.returncode, r.stdout, r.stderr)
    # Stdin lines, half-close with close_notify, everything echoed before the server closes.
    r = subprocess.run([CLIENT, "127.0.0.1:%d" % d.tls_port, "--tls", "--tls-ca", CA, "--timeout", "20s"],
                       input=b"one\ntwo\n", capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout == GREETING + b"one\ntwo\n", (r.returncode, r.stdout, r.stderr)
    # The wrong CA: exit 1 with OpenSSL's reason.
    r = subprocess.run([CLIENT, "127.0.0.1:%d" % d.tls_port, "--tls", "--tls-ca", OTHER_CA, "--send", "x"],
                       capture_output=True, timeout=60)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert b"certificate verify failed" in r.stderr, r.stderr


def check_wrong_ca_is_refused_and_counted(d):
    before = d.metric("reactord_tls_handshakes_total", 'result="failed"') or 0
    try:
        with tls_connect(d.tls_port, client_context(ca=OTHER_CA)):
            raise AssertionError("handshake succeeded against the wrong CA")
    except ssl.SSLCertVerificationError as e:
        assert "certificate verify failed" in str(e), e
    d.eventually_metric("reactord_tls_handshakes_total", 'result="failed"', lambda v: v >= before + 1)


def check_plaintext_client_on_tls_port(d):
    before = d.metric("reactord_tls_handshakes_total", 'result="failed"') or 0
    with socket.create_connection(("127.0.0.1", d.tls_port), timeout=20) as s:
        s.sendall(b"hello, plaintext\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    assert GREETING not in data, data
    assert data == b"" or data[0] == 0x15, data  # nothing, or a TLS alert record
    d.eventually_metric("reactord_tls_handshakes_total", 'result="failed"', lambda v: v >= before + 1)


def check_stalled_handshake_times_out(d):
    before = d.metric("reactord_tls_handshakes_total", 'result="timeout"') or 0
    with socket.create_connection(("127.0.0.1", d.tls_port), timeout=30) as s:
        s.sendall(b"\x16\x03\x01\x02\x00")  # a record header, then nothing
        start = time.monotonic()
        assert s.recv(4096) == b""  # closed by the server
        assert time.monotonic() - start < 25
    d.eventually_metric("reactord_tls_handshakes_total", 'result="timeout"', lambda v: v == before + 1)


def check_renegotiation_refused(d):
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % d.tls_port, "-CAfile", CA,
                        "-tls1_2", "-servername", "localhost"], input=b"R\n", capture_output=True, timeout=60)
    out = p.stdout + p.stderr
    assert b"RENEGOTIATING" in out, out
    # Refused: OpenSSL's client reports our no_renegotiation alert as an error ("no renegotiation",
    # or "unexpected record" when it arrives in the middle of its new handshake); never a second
    # handshake.
    assert b"no renegotiation" in out or b"unexpected record" in out, out
    assert out.count(b"verify return:1") == 2, out  # the first handshake's chain only
    # The server is fine afterwards.
    with tls_connect(d.tls_port) as s:
        assert recv_exact(s, len(GREETING)) == GREETING


def check_close_notify_then_socket_left_open(d):
    raw = socket.create_connection(("127.0.0.1", d.tls_port), timeout=20)
    s = client_context().wrap_socket(raw, server_hostname="localhost")
    assert recv_exact(s, len(GREETING)) == GREETING
    plain = s.unwrap()  # our close_notify; the server answers with its own
    start = time.monotonic()
    # The TCP socket stays open on our side; the server must not wait for us: FIN soon.
    rest = b""
    while True:
        chunk = plain.recv(4096)
        if not chunk:
            break
        rest += chunk
    assert time.monotonic() - start < 15
    assert rest == b"", rest
    plain.close()


def check_handshake_duration_histogram(d):
    count = d.metric("reactord_tls_handshake_duration_seconds_count")
    ok = d.metric("reactord_tls_handshakes_total", 'result="ok"')
    assert count is not None and count >= 1 and count == ok, (count, ok)
    assert d.metric("reactord_tls_handshake_duration_seconds_bucket", 'le="+Inf"') == count


def check_client_certificate_required():
    d = Reactord("--tls-client-ca", CA)
    try:
        with tls_connect(d.tls_port, client_context(cert=CLIENT_CERT, key=CLIENT_KEY),
                         server_name="localhost") as s, \
                socket.create_connection(("127.0.0.1", d.port), timeout=20) as plain:
            assert recv_exact(s, len(GREETING)) == GREETING
            assert recv_exact(plain, len(GREETING)) == GREETING
            # What operators see: reactorctl conns / conn, the --tls filter and its negation.
            tls_rows = d.reactorctl("conns", "--tls")
            assert "TLSv1.3" in tls_rows and "1 connection(s)" in tls_rows, tls_rows
            plain_rows = d.reactorctl("conns", "--not", "--tls")
            assert "1 connection(s)" in plain_rows and "TLSv1.3" not in plain_rows, plain_rows
            conn_id = re.search(r"^(\d+)\s", tls_rows.split("\n", 1)[1], re.M).group(1)
            detail = d.reactorctl("conn", conn_id)
            assert "tls:          TLSv1.3, TLS_" in detail and "kTLS off" in detail, detail
            assert "tls sni:      localhost" in detail, detail
            assert "tls client:   CN=alice,O=reactord tests" in detail, detail
            listed = d.reactorctl("--json", "conns", "--tls")
            assert '"tls_version":"TLSv1.3"' in listed.replace(" ", ""), listed
            assert '"tls_peer_subject":"CN=alice,O=reactordtests"' in listed.replace(" ", ""), listed
            assert '"tls_ktls":false' in listed.replace(" ", ""), listed
        for cert, key in ((None, None), (STRANGER_CERT, STRANGER_KEY)):
            try:
                with tls_connect(d.tls_port, client_context(cert=cert, key=key)) as s:
                    s.recv(100)  # TLS 1.3: the server's verdict comes after the client's Finished
                    raise AssertionError("accepted without a valid client certificate")
            except (ssl.SSLError, ConnectionResetError) as e:
                assert "certificate" in str(e) or "unknown ca" in str(e) or isinstance(e, ConnectionResetError), e
    finally:
        d.stop()


def check_expired_certificate():
    d = Reactord(cert=EXPIRED_CERT, key=EXPIRED_KEY)
    try:
        try:
            with tls_connect(d.tls_port):
                raise AssertionError("an expired certificate was accepted")
        except ssl.SSLCertVerificationError as e:
            assert "certificate has expired" in str(e), e
        r = subprocess.run([CLIENT, "127.0.0.1:%d" % d.tls_port, "--tls", "--tls-ca", CA, "--send", "x"],
                           capture_output=True, timeout=60)
        assert r.returncode == 1 and b"certificate verify failed" in r.stderr, (r.returncode, r.stderr)
    finally:
        d.stop()


def check_min_version_13():
    d = Reactord("--tls-min-version", "1.3")
    try:
        try:
            with tls_connect(d.tls_port, client_context(max_version=ssl.TLSVersion.TLSv1_2)):
                raise AssertionError("TLS 1.2 accepted with --tls-min-version 1.3")
        except ssl.SSLError as e:
            assert "version" in str(e), e
    finally:
        d.stop()


def check_alpn():
    """--tls-alpn: the server's preference wins among what the client offers; GetConnection shows
    it; a client offering none of ours gets no_application_protocol; no ALPN offered is fine."""
    d = Reactord("--tls-alpn", "echo/1,h2")
    try:
        ctx = client_context()
        ctx.set_alpn_protocols(["h2", "echo/1"])
        with tls_connect(d.tls_port, ctx) as s:
            assert recv_exact(s, len(GREETING)) == GREETING
            assert s.selected_alpn_protocol() == "echo/1", s.selected_alpn_protocol()
            s.sendall(b"alpn echo\n")
            assert recv_exact(s, 10) == b"alpn echo\n"
            listed = json.loads(d.reactorctl("--json", "conns", "--tls"))
            rows = listed["connections"]
            assert len(rows) == 1 and rows[0]["tls_alpn"] == "echo/1", listed
            detail = d.reactorctl("conn", str(rows[0]["id"]))
            assert "tls alpn:     echo/1\n" in detail, detail
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % d.tls_port, "-CAfile", CA,
                            "-servername", "localhost", "-alpn", "h2"],
                           input=b"", capture_output=True, timeout=60)
        assert b"ALPN protocol: h2" in p.stdout + p.stderr, (p.stdout, p.stderr)
        before = d.metric("reactord_tls_handshakes_total", 'result="failed"') or 0
        ctx = client_context()
        ctx.set_alpn_protocols(["spdy/1"])
        try:
            with tls_connect(d.tls_port, ctx):
                raise AssertionError("a handshake without a common ALPN protocol succeeded")
        except ssl.SSLError as e:
            assert "no application protocol" in str(e), e
        d.eventually_metric("reactord_tls_handshakes_total", 'result="failed"', lambda v: v >= before + 1)
        with tls_connect(d.tls_port) as s:  # no ALPN offered
            assert recv_exact(s, len(GREETING)) == GREETING
            assert s.selected_alpn_protocol() is None
            rows = json.loads(d.reactorctl("--json", "conns", "--tls"))["connections"]
            detail = d.reactorctl("conn", str(rows[0]["id"]))
            assert "tls alpn:     (none)\n" in detail, detail
    finally:
        d.stop()


def check_two_loops_and_certificate_reload():
    """--loops 2: both loops serve TLS clients, echo byte-exact; the certificate files are replaced
    and SIGHUP reloads them while every client keeps echoing on its session; new clients see the
    new certificate."""
    cert_path, key_path = os.path.join(TMP, "live.pem"), os.path.join(TMP, "live.key")
    for src, dst in ((CERT, cert_path), (KEY, key_path)):
        with open(src, "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
    with open(CERT, "rb") as f:
        old_der = ssl.PEM_cert_to_DER_cert(f.read().decode())
    d = Reactord("--loops", "2", cert=cert_path, key=key_path)
    clients, threads, errors = [], [], []
    stop = threading.Event()
    try:
        for _ in range(6):
            s = tls_connect(d.tls_port)
            assert recv_exact(s, len(GREETING)) == GREETING
            assert s.getpeercert(binary_form=True) == old_der
            clients.append({"sock": s, "rounds": 0})
        loops = {row["loop"] for row in json.loads(d.reactorctl("--json", "conns", "--tls"))["connections"]}
        assert loops == {0, 1}, loops

        def echo(c, seed):
            # Rounds of 16 KiB (distinct bytes per round), each read back byte-exact.
            try:
                while not stop.is_set():
                    payload = hashlib.sha256(b"%d/%d" % (seed, c["rounds"])).digest() * 512
                    c["sock"].sendall(payload)
                    back = recv_exact(c["sock"], len(payload))
                    assert back == payload, "round %d: %d bytes back" % (c["rounds"], len(back))
                    c["rounds"] += 1
            except Exception as e:  # noqa: BLE001 (reported by the main thread)
                errors.append(e)

        for i, c in enumerate(clients):
            threads.append(threading.Thread(target=echo, args=(c, i)))
            threads[-1].start()

        def wait_rounds(target):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not errors and any(c["rounds"] < target[i]
                                                                     for i, c in enumerate(clients)):
                time.sleep(0.05)
            assert not errors, errors
            assert all(c["rounds"] >= target[i] for i, c in enumerate(clients)), [c["rounds"] for c in clients]

        wait_rounds([3] * len(clients))
        new_cert, new_key = make_cert("localhost", ca_cert, ca_key)
        staged_cert, staged_key = write_pem("rotated", new_cert, new_key)
        os.replace(staged_key, key_path)
        os.replace(staged_cert, cert_path)
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(r"reload \(SIGHUP\): data\.tls (changed)")
        # Every live client goes on echoing on its old session after the reload.
        wait_rounds([c["rounds"] + 3 for c in clients])
        for c in clients:
            assert c["sock"].getpeercert(binary_form=True) == old_der
        new_der = new_cert.public_bytes(serialization.Encoding.DER)
        for _ in range(2):  # both loops get one (round-robin)
            with tls_connect(d.tls_port) as s:
                assert recv_exact(s, len(GREETING)) == GREETING
                assert s.getpeercert(binary_form=True) == new_der
                s.sendall(b"after the reload\n")
                assert recv_exact(s, 17) == b"after the reload\n"
        stop.set()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len(json.loads(d.reactorctl("--json", "conns", "--tls"))["connections"]) == len(clients)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        for c in clients:
            c["sock"].close()
        d.stop()


def check_flags_are_validated_before_binding():
    garbage = os.path.join(TMP, "garbage.pem")
    with open(garbage, "w") as f:
        f.write("not a pem\n")
    other_key = os.path.join(TMP, "other.key")
    with open(other_key, "wb") as f:
        f.write(ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    base = [REACTORD, "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0", "--metrics-listen",
            "127.0.0.1:0"]
    cases = [
        (["--tls-listen", "127.0.0.1:0"], "--tls-cert is needed with --tls-listen"),
        (["--tls-listen", "127.0.0.1:0", "--tls-cert", CERT], "--tls-key is needed with --tls-listen"),
        (["--tls-cert", CERT, "--tls-key", KEY], "--tls-cert needs --tls-listen"),
        (["--tls-listen", "nowhere", "--tls-cert", CERT, "--tls-key", KEY], "invalid --tls-listen"),
        (["--tls-listen", "127.0.0.1:0", "--tls-cert", CERT, "--tls-key", KEY, "--tls-min-version", "1.1"],
         "invalid --tls-min-version '1.1'"),
        (["--tls-listen", "127.0.0.1:0", "--tls-cert", garbage, "--tls-key", KEY], "--tls-cert " + garbage),
        (["--tls-listen", "127.0.0.1:0", "--tls-cert", CERT, "--tls-key", garbage], "--tls-key " + garbage),
        (["--tls-listen", "127.0.0.1:0", "--tls-cert", CERT, "--tls-key", other_key],
         "does not match the certificate"),
        (["--tls-listen", "127.0.0.1:0", "--tls-cert", CERT, "--tls-key", TMP + "/missing.key"],
         "No such file or directory"),
        (["--tls-listen", "127.0.0.1:0", "--tls-cert", CERT, "--tls-key", KEY, "--tls-client-ca", garbage],
         "--tls-client-ca " + garbage),
        (["--tls-listen", "127.0.0.1:0", "--tls-cert", CERT, "--tls-key", KEY, "--tls-alpn", "h2,,x"],
         "invalid --tls-alpn 'h2,,x': an empty protocol name"),
        (["--tls-listen", "127.0.0.1:0", "--tls-cert", CERT, "--tls-key", KEY, "--tls-alpn", "h2,h2"],
         "'h2' is listed twice"),
        (["--tls-alpn", "h2"], "--tls-alpn needs --tls-listen"),
    ]
    for extra, expected in cases:
        r = subprocess.run(base + extra, capture_output=True, timeout=60)
        assert r.returncode == 2, (extra, r.returncode, r.stderr)
        assert expected.encode() in r.stderr, (extra, r.stderr)
        assert b"listening on" not in r.stdout, (extra, r.stdout)


def main():
    failures = 0
    d = Reactord("--tls-handshake-timeout", "500ms")
    shared = [check_s_client_greeting_and_echo, check_python_ssl_echo_and_session, check_64_mib_byte_exact,
              check_reactor_client_tls, check_wrong_ca_is_refused_and_counted, check_plaintext_client_on_tls_port,
              check_stalled_handshake_times_out, check_renegotiation_refused,
              check_close_notify_then_socket_left_open, check_handshake_duration_histogram]
    only = os.environ.get("TLS_CHECK_ONLY")
    skip = os.environ.get("TLS_CHECK_SKIP")
    try:
        for check in shared:
            if only and only not in check.__name__:
                continue
            if skip and skip in check.__name__:
                print("skip " + check.__name__ + " (TLS_CHECK_SKIP)")
                continue
            try:
                check(d)
                print("ok   %s" % check.__name__, flush=True)
            except Exception:  # noqa: BLE001 (every failure is reported, then the exit code says it)
                failures += 1
                print("FAIL %s\n%s" % (check.__name__, traceback.format_exc()), flush=True)
    finally:
        d.stop()
    for check in (check_client_certificate_required, check_expired_certificate, check_min_version_13,
                  check_alpn, check_two_loops_and_certificate_reload, check_flags_are_validated_before_binding):
        if only and only not in check.__name__:
            continue
        try:
            check()
            print("ok   %s" % check.__name__, flush=True)
        except Exception:  # noqa: BLE001
            failures += 1
            print("FAIL %s\n%s" % (check.__name__, traceback.format_exc()), flush=True)
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
