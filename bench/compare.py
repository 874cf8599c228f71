#!/usr/bin/env python3
"""Runs reactor_microbench and prints its results as markdown tables of ratios.

Benchmarks are named GROUP/IMPL/CASE (IMPL: ours, libevent, epoll). For every CASE this
prints the time per item (CPU time: the machine is shared, wall time is not ours) of each
implementation and the ratios ours/libevent and ours/epoll, with the project's targets:
  dispatch  ours <= 1.03 x raw epoll per callback
  timer     ours <= 1.00 x libevent on every operation
  buffer    (no target; ratios for information)

  bench/compare.py --binary build/release/bench/reactor_microbench [--repetitions 3]
  bench/compare.py --from-json results.json        # render a saved run
  bench/compare.py --binary ... --quick            # a few seconds: CI smoke
Exit status 1 if a benchmark failed or a result is missing (the ratios are not checked: the
exit status says whether the run worked, the table says how fast).
"""
import argparse
import json
import subprocess
import sys
from collections import OrderedDict

IMPLS = ("ours", "libevent", "epoll")
TARGETS = {  # group -> (baseline, max ratio ours/baseline)
    "dispatch": ("epoll", 1.03),
    "timer": ("libevent", 1.00),
}
# Quick (CI smoke): one dispatch case, every timer and buffer case, each for a moment.
QUICK_FILTER = "P:100/A:1/|timer/|buffer/"


def run_benchmarks(args):
    cmd = [args.binary, "--benchmark_format=json"]
    if args.quick:
        cmd += ["--benchmark_min_time=0.01", "--benchmark_filter=" + QUICK_FILTER]
    else:
        cmd += ["--benchmark_min_time=%g" % args.min_time]
        if args.filter:
            cmd += ["--benchmark_filter=" + args.filter]
        if args.repetitions > 1:
            # Repetitions shuffled across all benchmarks: a burst of load from a neighbour
            # lands on different implementations, and the median leaves it out.
            cmd += ["--benchmark_repetitions=%d" % args.repetitions,
                    "--benchmark_enable_random_interleaving=true"]
    print("running: " + " ".join(cmd), file=sys.stderr)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, timeout=args.timeout).stdout
    if args.json_out:
        with open(args.json_out, "wb") as f:
            f.write(out)
    return json.loads(out)


def ns_per_item(bench):
    """CPU nanoseconds per item (callback, timer operation, buffer operation)."""
    ips = bench.get("items_per_second")
    return 1e9 / ips if ips else None


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def collect(data):
    """{group: {case: {impl: median ns}}} in registration order; plus failures."""
    runs, failures = OrderedDict(), []
    # Random interleaving shuffles the output: restore the registration order.
    benchmarks = sorted(data["benchmarks"], key=lambda b: (b.get("family_index", 0),
                                                           b.get("per_family_instance_index", 0)))
    for b in benchmarks:
        if b.get("run_type") == "aggregate":
            continue
        name = b.get("run_name", b["name"])
        parts = name.split("/")
        if len(parts) < 3 or parts[1] not in IMPLS:
            continue
        if b.get("error_occurred"):
            failures.append("%s: %s" % (name, b.get("error_message", "error")))
            continue
        group, impl, case = parts[0], parts[1], "/".join(parts[2:])
        ns = ns_per_item(b)
        if ns is not None:
            runs.setdefault(group, OrderedDict()).setdefault(case, {}).setdefault(impl, []).append(ns)
    table = OrderedDict(
        (g, OrderedDict((c, {i: median(v) for i, v in res.items()}) for c, res in cases.items()))
        for g, cases in runs.items())
    return table, failures


def fmt_ns(v):
    return "—" if v is None else ("%.1f" % v if v < 100 else "%.0f" % v)


def fmt_ratio(a, b):
    return "—" if not a or not b else "%.2f" % (a / b)


def render(table):
    lines, missed, missing = [], [], []
    for group, cases in table.items():
        # "ours" is always expected; a baseline only where the group has one.
        impls = [i for i in IMPLS if i == "ours" or any(i in c for c in cases.values())]
        baselines = [i for i in impls if i != "ours"]
        target = TARGETS.get(group)
        head = ["%s case" % group] + ["%s ns/item" % i for i in impls]
        head += ["ours/%s" % b for b in baselines]
        if target:
            head.append("target ours/%s ≤ %.2f" % target)
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for case, res in cases.items():
            for i in impls:
                if res.get(i) is None:
                    missing.append("%s/%s/%s" % (group, i, case))
            row = [case] + [fmt_ns(res.get(i)) for i in impls]
            row += [fmt_ratio(res.get("ours"), res.get(b)) for b in baselines]
            if target:
                base, limit = target
                if res.get("ours") and res.get(base):
                    ok = res["ours"] / res[base] <= limit
                    row.append("met" if ok else "**missed**")
                    if not ok:
                        missed.append("%s/%s" % (group, case))
                else:
                    row.append("—")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines), missed, missing


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", help="path to reactor_microbench")
    p.add_argument("--from-json", help="render a saved --benchmark_format=json output instead")
    p.add_argument("--json-out", help="also save the raw JSON here")
    p.add_argument("--filter", help="--benchmark_filter regex")
    p.add_argument("--min-time", type=float, default=0.5, help="seconds per benchmark")
    p.add_argument("--repetitions", type=int, default=1,
                   help="repetitions, randomly interleaved (the median is shown)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before giving up")
    p.add_argument("--quick", action="store_true", help="tiny run of a few cases (CI smoke)")
    args = p.parse_args()
    if bool(args.binary) == bool(args.from_json):
        p.error("give exactly one of --binary or --from-json")
    if args.repetitions < 1 or args.min_time <= 0:
        p.error("--repetitions must be >= 1 and --min-time > 0")

    if args.from_json:
        with open(args.from_json) as f:
            data = json.load(f)
    else:
        data = run_benchmarks(args)
    table, failures = collect(data)
    text, missed, missing = render(table)
    ctx = data.get("context", {})
    print("reactor_microbench: %s, %s CPUs at %s MHz; CPU time per item\n" % (
        ctx.get("date", "?"), ctx.get("num_cpus", "?"), ctx.get("mhz_per_cpu", "?")))
    print(text)
    if missed:
        print("targets missed: " + ", ".join(missed))
    for f in failures:
        print("FAILED " + f, file=sys.stderr)
    for m in missing:
        print("MISSING " + m, file=sys.stderr)
    if not table:
        print("no results", file=sys.stderr)
    return 1 if failures or missing or not table else 0


if __name__ == "__main__":
    sys.exit(main())
