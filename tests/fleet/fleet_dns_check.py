#!/usr/bin/python3
"""The fleet view's DNS path: `reactorctl --target NAME:PORT` where NAME resolves to several
addresses (a headless Kubernetes Service) reaches one reactord per address.

Two real reactord processes listen on the same control port, one on 127.0.0.1 and one on ::1.
A name resolving to both exists only for reactorctl: it runs in a private mount namespace
(`unshare -rm`, no root needed) where /etc/hosts is replaced by a file mapping
reactord-fleet.test to 127.0.0.1 and ::1 — the machine's own files are never touched.

  info (plaintext)   two rows, one per address, each the right server (its pid);
  info over TLS      the certificate names only reactord-fleet.test (as a Service's would):
                     each address is checked against the NAME the operator typed, not the IP;
  reload             applied to both, reported per target;
  one server gone    reported by its address, the other still answers, exit 1.

usage: fleet_dns_check.py REACTORD_BINARY REACTORCTL_BINARY"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "metrics"), os.path.join(HERE, "..", "support")]
from reactord_process import Reactord  # noqa: E402
from checks import check, verdict  # noqa: E402

NAME = "reactord-fleet.test"


def free_port_on_both():
    """A port free on 127.0.0.1 and on ::1 (bounded attempts)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET) as v4:
            v4.bind(("127.0.0.1", 0))
            port = v4.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET6) as v6:
                    v6.bind(("::1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no port free on both 127.0.0.1 and ::1")


def make_pki(directory):
    """A CA and a server certificate naming only reactord-fleet.test (no IP address)."""
    script = f"""set -e
cd {directory}
printf 'subjectAltName=DNS:{NAME}\\n' > san.ext
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout ca.key -out ca.pem -days 1 -subj /CN=fleet-test-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout server.key -out server.csr -subj /CN={NAME} 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -out server.pem -days 1 -extfile san.ext 2>/dev/null
chmod 600 server.key
"""
    subprocess.run(["/bin/sh", "-c", script], check=True, timeout=60)


def main():
    reactord, reactorctl = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if shutil.which("unshare") is None:
        print("FAIL: unshare (util-linux) is needed to give reactorctl a private /etc/hosts")
        return 1
    work = tempfile.mkdtemp(prefix="reactord-fleet-dns-")
    hosts = os.path.join(work, "hosts")
    with open(hosts, "w") as f:
        f.write(f"127.0.0.1 localhost\n127.0.0.1 {NAME}\n::1 {NAME}\n")
    probe = subprocess.run(["unshare", "-rm", "sh", "-c",
                            f"mount --bind {hosts} /etc/hosts && getent ahosts {NAME}"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0 or "::1" not in probe.stdout or "127.0.0.1" not in probe.stdout:
        print("FAIL: cannot give reactorctl a private /etc/hosts (unprivileged user namespaces "
              f"off?): {probe.stderr.strip()}")
        return 1
    make_pki(work)
    suppressions = os.path.join(work, "lsan.supp")
    with open(suppressions, "w") as f:
        f.write("leak:libcares.so\n")  # as fleet_check.py: Debian's c-ares, not ours
    env = dict(os.environ, LSAN_OPTIONS=f"suppressions={suppressions}")

    def ctl(*args):
        """reactorctl as a person types it, in the namespace where NAME has two addresses."""
        command = " ".join(["mount --bind", hosts, "/etc/hosts && exec", reactorctl,
                            *[f"'{a}'" for a in args]])
        return subprocess.run(["unshare", "-rm", "sh", "-c", command], capture_output=True,
                              text=True, timeout=90, env=env)

    for tls in (False, True):
        port = free_port_on_both()
        flags = []
        if tls:
            flags = ["--control-tls-cert", os.path.join(work, "server.pem"),
                     "--control-tls-key", os.path.join(work, "server.key")]
        servers = [Reactord(reactord, "--control-listen", address, *flags)
                   for address in (f"127.0.0.1:{port}", f"[::1]:{port}")]
        label = "TLS" if tls else "plaintext"
        try:
            for s in servers:
                s.wait_for_log(r"control plane listening on")
            want = {f"127.0.0.1:{port}": str(servers[0].proc.pid),
                    f"[::1]:{port}": str(servers[1].proc.pid)}
            tls_args = ["--tls-ca", os.path.join(work, "ca.pem")] if tls else []
            r = ctl("--target", f"{NAME}:{port}", *tls_args, "info")
            check(r.returncode == 0, f"{label} info: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
            lines = r.stdout.splitlines()
            check(lines and lines[0].split() == ["TARGET", "ANSWER"],
                  f"{label}: not the fleet view:\n{r.stdout}")
            pids = {}
            for line in lines[1:]:
                target, _, rest = line.partition(" ")
                rest = rest.strip()
                if rest.startswith("pid:"):
                    pids[target] = rest.split()[1]
            check(pids == want, f"{label}: reached {pids}, want {want}\n{r.stdout}\n{r.stderr}")

            r = ctl("--target", f"{NAME}:{port}", *tls_args, "reload")
            check(r.returncode == 0, f"{label} reload: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
            for target in want:
                check(f"{target}  reloaded" in r.stdout or
                      any(l.startswith(target) and l.rstrip().endswith("reloaded")
                          for l in r.stdout.splitlines()),
                      f"{label} reload: {target} did not report\n{r.stdout}")

            # One address stops answering: reported by its address, the other still listed.
            servers[1].stop()
            r = ctl("--target", f"{NAME}:{port}", *tls_args, "--timeout", "3s", "info")
            check(r.returncode == 1, f"{label} one down: exit {r.returncode}, want 1")
            check(f"[::1]:{port}: reactorctl: UNAVAILABLE" in r.stderr or
                  f"[::1]:{port}: reactorctl: DEADLINE_EXCEEDED" in r.stderr,
                  f"{label} one down: the gone target not named:\n{r.stderr}")
            check(f"pid:          {servers[0].proc.pid}" in r.stdout,
                  f"{label} one down: the live one hidden:\n{r.stdout}")
        finally:
            for s in servers:
                s.stop()
    shutil.rmtree(work, ignore_errors=True)
    return verdict("fleet DNS name")


if __name__ == "__main__":
    sys.exit(main())
