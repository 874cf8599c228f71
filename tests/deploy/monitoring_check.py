#!/usr/bin/python3
"""The monitoring mixin (deploy/monitoring/) against real tools and the real binary:

  structure  the Grafana dashboard JSON: uid/title/schemaVersion, unique panel ids, every
             panel on the 24-column grid without overlaps, a Prometheus target with an
             expression and a unique refId, heatmaps fed `format: heatmap` buckets, and every
             $variable the expressions use defined in templating.
  parse      every PromQL expression (dashboard targets, template queries, alert rules) through
             `promtool check rules` (Grafana's $variables replaced by values first).
  names      every metric an expression names is on a live scrape of the real reactord
             (after traffic and a control RPC, so labelled families are present); `up` is
             Prometheus' own.
  prometheus a real Prometheus with deploy/prometheus.yml's rule_files scrapes that reactord:
             every alert rule evaluates with health "ok" and every dashboard expression
             answers a query without error, and at least one returns data.

usage: monitoring_check.py REPO_ROOT REACTORD_BINARY [REACTORCTL_BINARY]"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "metrics"), os.path.join(HERE, "..", "support")]
from reactord_process import Reactord, echo  # noqa: E402
from checks import check, failures, verdict  # noqa: E402
from prometheus_server import running_prometheus  # noqa: E402

PROMETHEUS_OWN = {"up"}  # synthesized by Prometheus for every target, not exported by reactord
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
                "or", "unless", "offset", "inf", "nan", "atan2"}
UP_TIMEOUT = 45


# --- the files ---------------------------------------------------------------------------
def load(repo):
    mon = os.path.join(repo, "deploy", "monitoring")
    with open(os.path.join(mon, "dashboards", "reactord.json")) as f:
        dashboard = json.load(f)
    with open(os.path.join(mon, "alerts.yml")) as f:
        rules = yaml.safe_load(f)
    return dashboard, rules


def panels_of(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # collapsed rows keep theirs inside


def check_structure(dashboard):
    for key in ("uid", "title", "schemaVersion", "panels", "templating", "time"):
        check(key in dashboard, f"dashboard has no {key}")
    variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
    check({"datasource", "job", "instance"} <= variables, f"template variables: {variables}")
    ids = set()
    cells = {}
    for panel in panels_of(dashboard):
        where = f"panel {panel.get('id')} {panel.get('title')!r}"
        check(isinstance(panel.get("id"), int) and panel["id"] not in ids, f"{where}: id missing or repeated")
        ids.add(panel.get("id"))
        check(panel.get("type") in {"row", "stat", "gauge", "timeseries", "heatmap", "table", "bargauge"},
              f"{where}: unknown type {panel.get('type')}")
        grid = panel.get("gridPos", {})
        ok = all(isinstance(grid.get(k), int) for k in "xywh") and grid["w"] > 0 and grid["h"] > 0 \
            and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
        if check(ok, f"{where}: gridPos {grid} not on the 24-column grid"):
            for x in range(grid["x"], grid["x"] + grid["w"]):
                for y in range(grid["y"], grid["y"] + grid["h"]):
                    check((x, y) not in cells, f"{where} overlaps {cells.get((x, y))}")
                    cells[(x, y)] = where
        if panel.get("type") == "row":
            continue
        check(panel.get("title"), f"{where}: no title")
        check(panel.get("datasource", {}).get("uid") == "${datasource}", f"{where}: datasource is not ${{datasource}}")
        targets = panel.get("targets", [])
        check(targets, f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        check(len(set(refs)) == len(refs) and all(refs), f"{where}: refIds {refs}")
        for t in targets:
            check(t.get("expr"), f"{where}: target {t.get('refId')} has no expr")
            if panel["type"] == "heatmap":
                check(t.get("format") == "heatmap" and "_bucket" in t.get("expr", "")
                      and "by (le)" in t.get("expr", ""), f"{where}: heatmap target is not bucket counts by le")
            for name in re.findall(r"\$\{?(\w+)", t.get("expr", "")):
                check(name.startswith("__") or name in variables, f"{where}: ${name} is not a template variable")
    print(f"structure: {len(ids)} panels checked")


# --- the expressions ---------------------------------------------------------------------
def grafana_to_promql(expr):
    """Grafana's variables → values Prometheus can parse and evaluate."""
    expr = re.sub(r"\$__(rate_interval|interval|range)\b", "1m", expr)
    expr = re.sub(r'=~"\$\{?instance\}?"', '=~".*"', expr)
    return re.sub(r"\$\{?(\w+)\}?", lambda m: "reactord" if m.group(1) == "job" else m.group(1), expr)


def expressions(dashboard, rules):
    """(where, PromQL) for every expression in the dashboard and the rules."""
    out = []
    for panel in panels_of(dashboard):
        for t in panel.get("targets", []):
            out.append((f"panel {panel['title']!r} {t['refId']}", grafana_to_promql(t["expr"])))
    for var in dashboard.get("templating", {}).get("list", []):
        query = var.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        m = re.fullmatch(r"label_values\((.+),\s*\w+\)", query or "")
        if m:  # Grafana's label_values(SELECTOR, LABEL): the selector is PromQL
            out.append((f"variable {var['name']}", grafana_to_promql(m.group(1))))
    for group in rules["groups"]:
        for rule in group["rules"]:
            out.append((f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]))
    return out


def check_parse(exprs, workdir):
    """promtool parses each expression as a recording rule of a generated rules file."""
    doc = {"groups": [{"name": "parse", "rules": [
        {"record": f"parse:expr{i}", "expr": expr} for i, (_, expr) in enumerate(exprs)]}]}
    path = os.path.join(workdir, "parse.yml")
    with open(path, "w") as f:
        yaml.safe_dump(doc, f)
    result = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True, timeout=60)
    check(result.returncode == 0, f"promtool check rules on the expressions:\n{result.stdout}{result.stderr}")
    print(f"parse: promtool parsed {len(exprs)} expressions" if result.returncode == 0 else "parse: failed")


def metric_names(expr):
    """The metric names an expression selects (strings, label matchers, durations and the label
    lists of by/without/on/ignoring/group_* removed; function names are followed by '(')."""
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][\w:]*)", text):
        word = m.group(1)
        if word.lower() in PROMQL_WORDS or text[m.end():].lstrip().startswith("("):
            continue
        names.add(word)
    return names


def scrape_names(page):
    return {re.match(r"[^{\s]+", line).group(0) for line in page.splitlines()
            if line and not line.startswith("#")}


def check_names(exprs, exported):
    used = set()
    for where, expr in exprs:
        names = metric_names(expr)
        check(names, f"{where}: names no metric: {expr}")
        for name in names - exported - PROMETHEUS_OWN:
            check(False, f"{where}: {name} is not exported by reactord")
        used |= names
    print(f"names: {len(used)} metric names used, all on the live scrape" if not failures else "names: see above")


# --- a real Prometheus -------------------------------------------------------------------
def api(port, path, **params):
    args = ["curl", "-sS", "--max-time", "10", "-G", f"http://127.0.0.1:{port}{path}"]
    for k, v in params.items():
        args += ["--data-urlencode", f"{k}={v}"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise ConnectionError(result.stderr.strip())
    return json.loads(result.stdout)


def check_prometheus(repo, server, exprs, workdir):
    """deploy/prometheus.yml, its scrape target moved to the live reactord, its rule files kept."""
    with open(os.path.join(repo, "deploy", "prometheus.yml")) as f:
        config = yaml.safe_load(f)
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["scrape_configs"] = [{"job_name": "reactord",
                                 "static_configs": [{"targets": [f"127.0.0.1:{server.metrics_port}"]}]}]
    config["rule_files"] = [os.path.join(repo, "deploy", r) for r in config.get("rule_files", [])]
    check(config["rule_files"], "deploy/prometheus.yml loads no rule files")
    path = os.path.join(workdir, "prometheus.yml")
    with open(path, "w") as f:
        yaml.safe_dump(config, f)
    with running_prometheus(path, workdir) as (prom, port):
        start = time.monotonic()
        while True:
            if prom.poll() is not None:
                raise RuntimeError(f"prometheus exited with {prom.returncode}")
            try:
                up = api(port, "/api/v1/query", query='up{job="reactord"}')["data"]["result"]
                if up and up[0]["value"][1] == "1":
                    break
            except (OSError, KeyError, ValueError):
                pass
            if time.monotonic() - start > UP_TIMEOUT:
                raise RuntimeError(f"reactord not up in Prometheus within {UP_TIMEOUT}s")
            time.sleep(0.25)
        # Rules are evaluated every second; wait (bounded) until every one has been.
        deadline = time.monotonic() + 20
        while True:
            groups = api(port, "/api/v1/rules")["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        check(len(rules) == sum(len(g["rules"]) for g in yaml.safe_load(
            open(config["rule_files"][0]))["groups"]), f"Prometheus loaded {len(rules)} rules")
        for r in rules:
            check(r.get("health") == "ok", f"rule {r['name']}: health {r.get('health')} {r.get('lastError')}")
        for where, expr in exprs:
            body = api(port, "/api/v1/query", query=expr)
            check(body.get("status") == "success", f"{where}: Prometheus: {body.get('error')}")
        # rate() needs two scrapes in its window: ask again (bounded) until most have data.
        deadline = time.monotonic() + 30
        while True:
            with_data = sum(bool(api(port, "/api/v1/query", query=expr).get("data", {}).get("result"))
                            for _, expr in exprs)
            if with_data > len(exprs) // 2 or time.monotonic() > deadline:
                break
            time.sleep(1)
        check(with_data > len(exprs) // 2, f"only {with_data} of {len(exprs)} expressions returned data")
        print(f"prometheus: {len(rules)} rules healthy, {len(exprs)} expressions answered, "
              f"{with_data} with data")


def main():
    repo, binary = sys.argv[1], sys.argv[2]
    reactorctl = sys.argv[3] if len(sys.argv) > 3 else None
    dashboard, rules = load(repo)
    check_structure(dashboard)
    exprs = expressions(dashboard, rules)
    workdir = tempfile.mkdtemp(prefix="reactord-mixin-")
    server = Reactord(binary, "--loops", "2")
    try:
        check_parse(exprs, workdir)
        # Traffic and a control RPC, so that every labelled family has a series.
        a, b = server.connect(), server.connect()
        echo(a, b"m" * 1000)
        a.close()
        if reactorctl:
            control = server.wait_for_log(r"control plane listening on (127\.0\.0\.1:\d+)")[0]
            info = subprocess.run([reactorctl, "--target", control, "--timeout", "10s", "info"],
                                  capture_output=True, text=True, timeout=30)
            check(info.returncode == 0, f"reactorctl info: {info.stderr}")
        deadline = time.monotonic() + 10
        while True:  # the closed connection's duration is recorded once the loop saw the EOF
            page = server.scrape()
            if "reactord_connection_duration_seconds_count 1" in page or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        exported = scrape_names(page)
        check_names(exprs, exported)
        check_prometheus(repo, server, exprs, workdir)
        b.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        server.stop()
    return verdict("monitoring mixin")


if __name__ == "__main__":
    sys.exit(main())
