#!/usr/bin/python3
"""reactord's exposition after real traffic is valid for the two reference parsers:
`promtool check metrics` (Prometheus' own linter) and prometheus_client's text parser, and
carries the values the traffic implies.

With REACTORCTL, control-plane calls through the real gRPC service are checked too
(reactord_control_requests_total by code, and the admin close they cause).

usage: exposition_check.py REACTORD_BINARY [REACTORCTL_BINARY]"""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from reactord_process import GREETING, Reactord, echo, wait_until  # noqa: E402

REQUIRED_FAMILIES = {
    # prometheus_client names counter families without "_total".
    "reactord_connections_active": "gauge",
    "reactord_connections_accepted": "counter",
    "reactord_connections_rejected": "counter",
    "reactord_connections_closed": "counter",
    "reactord_connection_duration_seconds": "histogram",
    "reactord_received_bytes": "counter",
    "reactord_sent_bytes": "counter",
    "reactord_output_buffered_bytes": "gauge",
    "reactord_backpressure_pauses": "counter",
    "reactord_accepting": "gauge",
    "reactord_draining": "gauge",
    "reactord_reloads": "counter",
    "reactord_last_reload_timestamp_seconds": "gauge",
    "reactord_last_reload_successful": "gauge",
    "reactord_accept_errors": "counter",
    "reactord_reactor_events": "gauge",
    "reactord_reactor_loop_iterations": "counter",
    "reactord_reactor_poll_wait_seconds": "histogram",
    "reactord_reactor_callback_duration_seconds": "histogram",
    "reactord_reactor_longest_callback_seconds": "gauge",
    "reactord_build_info": "gauge",
    "process_cpu_seconds": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_start_time_seconds": "gauge",
}


def main():
    failures = []

    def check(ok, message):
        if not ok:
            failures.append(message)
            print("FAIL:", message)

    server = Reactord(sys.argv[1], "--loops", "2", "--max-connections", "2")
    try:
        a = server.connect()
        b = server.connect()
        echo(a, b"x" * 4096)
        echo(b, b"y" * 100)
        rejected = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        check(rejected.recv(16) == b"", "the client over --max-connections was not closed")
        rejected.close()
        a.close()

        reactorctl = sys.argv[2] if len(sys.argv) > 2 else None
        if reactorctl:
            control = server.wait_for_log(r"control plane listening on (127\.0\.0\.1:\d+)")[0]

            def ctl(*args):
                return subprocess.run([reactorctl, "--target", control, "--timeout", "10s", *args],
                                      capture_output=True, text=True, timeout=30)
            info = ctl("info")
            check(info.returncode == 0, f"reactorctl info: {info.returncode} {info.stderr}")
            missing = ctl("conn", "999999")
            check(missing.returncode != 0, "reactorctl conn 999999 succeeded")
            # b is still connected: the operator resets it (reason admin).
            closed = ctl("close", "--all", "--abort", "--wait")
            check(closed.returncode == 0, f"reactorctl close: {closed.returncode} {closed.stderr}")

        def settled():
            text = server.scrape()
            values = {(s.name, tuple(sorted(s.labels.items()))): s.value
                      for f in text_string_to_metric_families(text) for s in f.samples}
            done = (values.get(("reactord_connections_closed_total", (("reason", "peer_eof"),))) == 1
                    and values.get(("reactord_connections_rejected_total", (("reason", "limit"),))) == 1
                    and (not reactorctl or values.get(
                        ("reactord_connections_closed_total", (("reason", "admin"),))) == 1))
            return (text, values) if done else None

        result = wait_until(settled)
        check(result is not None, "counters did not settle within 10 s")
        text, values = result if result else (server.scrape(), {})

        # 1. promtool, Prometheus' own linter: no errors, no warnings.
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                              capture_output=True, timeout=30)
        check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
              f"promtool check metrics: rc={lint.returncode}\n{lint.stdout}{lint.stderr}")

        # 2. prometheus_client's parser reads every family with the right type.
        families = {f.name: f for f in text_string_to_metric_families(text)}
        for name, kind in REQUIRED_FAMILIES.items():
            check(name in families, f"missing family {name}")
            if name in families:
                check(families[name].type == kind,
                      f"{name} is {families[name].type}, expected {kind}")

        # 3. the values the traffic implies.
        def value(name, **labels):
            return values.get((name, tuple(sorted(labels.items()))))

        if reactorctl:
            check(value("reactord_connections_active") == 0, "active != 0 after the admin close")
            check(value("reactord_connections_closed_total", reason="admin") == 1, "admin != 1")
            check(value("reactord_control_requests_total", service="reactord.v1.Inspect",
                        method="GetServerInfo", code="OK") == 1, "GetServerInfo OK != 1")
            check(value("reactord_control_requests_total", service="reactord.v1.Inspect",
                        method="GetConnection", code="NOT_FOUND") == 1, "GetConnection NOT_FOUND != 1")
            check(value("reactord_control_requests_total", service="reactord.v1.Control",
                        method="CloseConnections", code="OK") == 1, "CloseConnections OK != 1")
            check((value("reactord_control_request_duration_seconds_count",
                         service="reactord.v1.Inspect", method="GetServerInfo") or 0) == 1,
                  "GetServerInfo latency count != 1")
        else:
            check(value("reactord_connections_active") == 1, "active != 1")
        check(value("reactord_connections_accepted_total") == 2, "accepted != 2")
        check(value("reactord_received_bytes_total") == 4196, "received != 4196")
        check(value("reactord_sent_bytes_total") == 2 * len(GREETING) + 4196, "sent mismatch")
        check(value("reactord_connections_rejected_total", reason="limit") == 1, "rejected != 1")
        closed = 2 if reactorctl else 1
        check(value("reactord_connection_duration_seconds_count") == closed,
              f"duration count != {closed}")
        for loop in ("0", "1"):
            check((value("reactord_reactor_loop_iterations_total", loop=loop) or 0) > 0,
                  f"no iterations on loop {loop}")
        build = families["reactord_build_info"].samples if "reactord_build_info" in families else []
        check(len(build) == 1 and build[0].value == 1 and build[0].labels.get("version"),
              f"build_info: {build}")
        check((value("process_open_fds") or 0) > 0, "process_open_fds")
        check((value("process_max_fds") or 0) >= (value("process_open_fds") or 0), "process_max_fds")
        b.close()
    finally:
        server.stop()

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("exposition OK: promtool and prometheus_client accept it, values match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
