#!/usr/bin/python3
"""The status page's HTTP side against the real binary (urllib as the client):
  - the page and its assets come from the binary (HTML, JS, CSS with their types), the API
    answers protobuf JSON, bad parameters get 400 with a JSON error, unknown paths 404,
    POST 405 (read-only);
  - beyond loopback reactord refuses to start without a control token;
  - beyond loopback (bound to 0.0.0.0, reached on 127.0.0.1) every API call needs a token:
    none or a wrong one → 401, the viewer token → 200; the static page needs none;
  - on loopback with tokens configured the page reads without one (the viewer token is used);
  - on ::1: page, API, the security headers on every answer (404 and 405 too), keep-alive.

usage: status_page_http_check.py REACTORD_BINARY"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, verdict  # noqa: E402


def get(url, token=None):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


class Reactord:
    def __init__(self, binary, *args):
        self.err = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                      "--control-listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.DEVNULL, stderr=self.err, text=True)

    def log(self):
        self.err.seek(0)
        return self.err.read()

    def page_port(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = re.search(r"status page on http://[^ ]*:(\d+)/", self.log())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise RuntimeError(f"reactord exited {self.proc.returncode}: {self.log()}")
            time.sleep(0.05)
        raise RuntimeError("no status page line: " + self.log())

    def stop(self):
        self.proc.terminate()
        check(self.proc.wait(timeout=30) == 0, f"reactord exit code {self.proc.returncode}")


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="reactord-status-")
    admin, viewer = os.path.join(tmp, "admin"), os.path.join(tmp, "viewer")
    with open(admin, "w") as f:
        f.write("admin-token-for-the-status-test\n")
    with open(viewer, "w") as f:
        f.write("viewer-token-for-the-status-test\n")

    # Loopback, no tokens: page, assets, API, errors.
    r = Reactord(binary, "--http-listen", "127.0.0.1:0")
    try:
        base = f"http://127.0.0.1:{r.page_port()}"
        for path, kind in (("/", "text/html"), ("/status.js", "text/javascript"), ("/status.css", "text/css")):
            status, ctype, body = get(base + path)
            check(status == 200 and ctype.startswith(kind) and body, f"GET {path}: {status} {ctype}")
        status, _, body = get(base + "/api/info.json")
        check(status == 200 and json.loads(body)["version"], f"info.json: {status} {body[:200]}")
        status, _, body = get(base + "/api/connections.json?max_results=5000")
        check(status == 400 and "max_results" in json.loads(body)["error"], f"max_results=5000: {status} {body}")
        status, _, body = get(base + "/api/connections.json?state=sleepy")
        check(status == 400 and "state" in json.loads(body)["error"], f"state=sleepy: {status} {body}")
        status, _, _ = get(base + "/api/nothing.json")
        check(status == 404, f"unknown resource: {status}")
        status, _, _ = get(base + "/nothing.html")
        check(status == 404, f"unknown page: {status}")
        for path in ("/", "/api/info.json"):
            request = urllib.request.Request(base + path, data=b"x", method="POST")
            try:
                urllib.request.urlopen(request, timeout=10)
                check(False, f"POST {path} succeeded")
            except urllib.error.HTTPError as e:
                check(e.code == 405, f"POST {path}: {e.code}, not 405")
    finally:
        r.stop()

    # Beyond loopback without a token: refused at start, naming the flag.
    refused = subprocess.run([binary, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                              "--control-listen", "127.0.0.1:0", "--http-listen", "0.0.0.0:0"],
                             capture_output=True, text=True, timeout=30)
    check(refused.returncode != 0 and "--http-listen" in refused.stderr,
          f"0.0.0.0 without a token: exit {refused.returncode}, {refused.stderr.strip()[-200:]}")

    # Beyond loopback with tokens: the API needs one.
    r = Reactord(binary, "--http-listen", "0.0.0.0:0", "--control-token-file", admin,
                 "--control-viewer-token-file", viewer)
    try:
        base = f"http://127.0.0.1:{r.page_port()}"
        check(get(base + "/")[0] == 200, "the static page needs no token")
        check(get(base + "/api/info.json")[0] == 401, "API without a token is not 401")
        check(get(base + "/api/info.json", "wrong-token")[0] == 401, "API with a wrong token is not 401")
        status, _, body = get(base + "/api/stats.json", "viewer-token-for-the-status-test")
        check(status == 200 and "loops" in json.loads(body), f"API with the viewer token: {status} {body[:200]}")
    finally:
        r.stop()

    # Loopback with tokens: the page reads with the viewer token itself.
    r = Reactord(binary, "--http-listen", "127.0.0.1:0", "--control-token-file", admin,
                 "--control-viewer-token-file", viewer)
    try:
        status, _, body = get(f"http://127.0.0.1:{r.page_port()}/api/info.json")
        check(status == 200 and json.loads(body)["version"], f"loopback page with tokens: {status} {body[:200]}")
        # Tokens rotated (a new file renamed over the old, as a Kubernetes Secret), SIGHUP:
        # the page reads with the new viewer token, and shows the reload.
        for path, token in ((admin, "rotated-admin-token"), (viewer, "rotated-viewer-token")):
            with open(path + ".new", "w") as f:
                f.write(token + "\n")
            os.chmod(path + ".new", 0o600)
            os.replace(path + ".new", path)
        r.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while "reload (SIGHUP): done" not in r.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        check("status.token changed" in r.log(), "the status page did not take the new token:\n" + r.log())
        status, _, body = get(f"http://127.0.0.1:{r.page_port()}/api/info.json")
        info = json.loads(body) if status == 200 else {}
        check(status == 200 and info.get("reloadsOk") == "1" and info.get("logLevel") == "info",
              f"loopback page after a token rotation: {status} {body[:300]}")
        check(get(f"http://127.0.0.1:{r.page_port()}/api/info.json", "viewer-token-for-the-status-test")[0] == 401,
              "the old viewer token still reads the API after the rotation")
    finally:
        r.stop()

    # On ::1 (our HTTP server listens on IPv6; civetweb could not): page, API, the headers
    # every answer carries (405 and 404 included), and keep-alive (one connection, three answers).
    r = Reactord(binary, "--http-listen", "[::1]:0")
    try:
        port = r.page_port()
        base = f"http://[::1]:{port}"
        status, ctype, body = get(base + "/")
        check(status == 200 and ctype.startswith("text/html") and "<html" in body.lower(),
              f"page on ::1: {status} {ctype}")
        status, _, body = get(base + "/api/info.json")
        check(status == 200 and json.loads(body)["version"], f"API on ::1: {status} {body[:200]}")
        import http.client
        conn = http.client.HTTPConnection("::1", port, timeout=10)
        for method, path, want in (("GET", "/status.js", 200), ("POST", "/api/info.json", 405),
                                   ("GET", "/nothing", 404)):
            conn.request(method, path, body=b"x" if method == "POST" else None)
            resp = conn.getresponse()
            resp.read()
            check(resp.status == want, f"{method} {path} on ::1: {resp.status}, not {want}")
            for name, value in (("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                                ("X-Frame-Options", "DENY"),
                                ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")):
                check(resp.getheader(name) == value, f"{method} {path}: {name} is {resp.getheader(name)!r}")
            if method == "POST":  # the body was not read: the server closes, the client reconnects
                conn.close()
                conn = http.client.HTTPConnection("::1", port, timeout=10)
        conn.close()
        # keep-alive: three requests on one socket
        conn = http.client.HTTPConnection("::1", port, timeout=10)
        for _ in range(3):
            conn.request("GET", "/api/stats.json")
            resp = conn.getresponse()
            check(resp.status == 200 and "loops" in json.loads(resp.read()), f"keep-alive on ::1: {resp.status}")
        sock = conn.sock
        check(sock is not None, "the status page closed a keep-alive connection")
        conn.close()
    finally:
        r.stop()

    return verdict("status page (http)")


if __name__ == "__main__":
    sys.exit(main())
