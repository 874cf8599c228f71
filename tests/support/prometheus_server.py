"""Debian's `prometheus` as a test peer (tests/metrics/prometheus_server_check.py,
tests/deploy/monitoring_check.py): started on a free 127.0.0.1 port with a temporary TSDB,
its log kept in a file and shown (its tail) when the check inside fails, always stopped."""
import contextlib
import os
import socket
import subprocess


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, timeout=15):
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running_prometheus(config_path, workdir):
    """Yields (process, port): prometheus with `config_path`, listening on 127.0.0.1:port, its
    TSDB in workdir/data and its output in workdir/prometheus.log. An exception raised inside
    prints the log's last 3000 characters and goes on; prometheus is stopped either way."""
    port = free_port()
    with open(os.path.join(workdir, "prometheus.log"), "w+") as log:
        prom = subprocess.Popen(["prometheus", f"--config.file={config_path}",
                                 f"--storage.tsdb.path={os.path.join(workdir, 'data')}",
                                 f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
        try:
            yield prom, port
        except Exception:
            log.seek(0)
            print("prometheus log (tail):\n" + log.read()[-3000:])
            raise
        finally:
            stop(prom)
