#!/usr/bin/python3
"""TLS echo: server CPU per message, reactord --tls-listen against socat (OPENSSL-LISTEN … PIPE,
the same OpenSSL 3 library), at 64 B and 4 KiB, printed as a markdown table with ratios.

One client connection (Python's ssl, TLS 1.3, the same cipher negotiated with both servers)
sends a message and waits for its echo, `--messages` times per size. Server CPU is
utime+stime: reactord's from /proc/PID/stat around the run (its greeting read first, the
handshake outside the measurement); socat's from getrusage(RUSAGE_CHILDREN) once it exits
(socat serves that one connection and exits; its handshake is inside, a few hundred
microseconds, reported apart as "handshake incl."). Both servers are pinned to CPU 0, the
client to CPU 1. Bounded: at most --budget seconds.

  /usr/bin/python3 bench/echo/tls_echo.py --build build/release
"""
import argparse
import datetime
import os
import re
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def make_cert(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port, cert, deadline):
    ctx = ssl.create_default_context(cafile=cert)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    while True:
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=10)
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def ping_pong(s, size, count):
    msg = (b"x" * (size - 1)) + b"\n"
    t0 = time.monotonic()
    for _ in range(count):
        s.sendall(msg)
        got = 0
        while got < size:
            chunk = s.recv(size - got)
            if not chunk:
                raise RuntimeError("EOF during the echo")
            got += len(chunk)
    return time.monotonic() - t0


def run_reactord(build, cert, key, size, count, deadline):
    port = free_port()
    proc = subprocess.Popen(["taskset", "-c", "0", os.path.join(build, "server/reactord"), "--listen", "127.0.0.1:0",
                             "--tls-listen", "127.0.0.1:%d" % port, "--tls-cert", cert, "--tls-key", key,
                             "--control-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                             "--log-level", "warn", "--audit-log", os.devnull],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        s = connect(port, cert, deadline)
        greeting = b""
        while not greeting.endswith(b"\n"):
            greeting += s.recv(100)
        cipher = s.cipher()[0]
        c0 = proc_cpu(proc.pid)
        wall = ping_pong(s, size, count)
        cpu = proc_cpu(proc.pid) - c0
        s.close()
        return cpu, wall, cipher
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_socat(cert, key, size, count, deadline):
    port = free_port()
    c0 = children_cpu()
    t_start = time.monotonic()
    proc = subprocess.Popen(["taskset", "-c", "0", "socat",
                             "OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,cert=%s,key=%s,verify=0,nodelay" %
                             (port, cert, key), "PIPE"], stderr=subprocess.DEVNULL)
    s = connect(port, cert, deadline)
    cipher = s.cipher()[0]
    wall = ping_pong(s, size, count)
    s.close()
    proc.wait(timeout=30)
    return children_cpu() - c0, wall, cipher, time.monotonic() - t_start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build/release")
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--budget", type=float, default=240)
    args = p.parse_args()
    deadline = time.monotonic() + args.budget
    os.sched_setaffinity(0, {1})
    tmp = tempfile.mkdtemp(prefix="tls-echo-")
    cert, key = make_cert(tmp)
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    print("TLS echo, %s UTC, %d CPUs, load %.2f, %s, %d messages per size, 1 connection, depth 1\n" %
          (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"), os.cpu_count(), os.getloadavg()[0], version,
           args.messages))
    print("| size | reactord CPU µs/msg | socat CPU µs/msg | reactord ÷ socat | reactord msgs/s | socat msgs/s | cipher |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    for size in (64, 4096):
        if time.monotonic() > deadline:
            ok = False
            break
        r_cpu, r_wall, r_cipher = run_reactord(args.build, cert, key, size, args.messages, deadline)
        s_cpu, s_wall, s_cipher, _ = run_socat(cert, key, size, args.messages, deadline)
        r_us, s_us = r_cpu / args.messages * 1e6, s_cpu / args.messages * 1e6
        print("| %d B | %.1f | %.1f | %.2fx | %.0f | %.0f | %s |" %
              (size, r_us, s_us, r_us / s_us if s_us else float("nan"), args.messages / r_wall,
               args.messages / s_wall, r_cipher if r_cipher == s_cipher else r_cipher + " / " + s_cipher))
    print("\nsocat's CPU includes its handshake and process start (one connection per process);"
          " reactord's excludes them. kTLS: off for both (the kernel here has no tls module).")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
