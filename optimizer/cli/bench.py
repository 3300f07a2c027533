"""``python -m optimizer bench ptq-sweep --model NAME [--data PATH] [--json FILE|-]``,
``python -m optimizer bench search-executors [--model NAME] [--ray-address HOST:PORT]`` and
``python -m optimizer bench first-chart [--json FILE|-]``.

Prints measured figures: naive vs optimized post-training sweep, each in a fresh process, with
the speed-up and peak memory (``optimizer.benchmarks.ptq_sweep``); the same search with the
local executor and on a Ray cluster (``optimizer.benchmarks.search_executors``); the app's
three-click path in Chromium, cold and warm (``optimizer.benchmarks.first_chart``).
"""
from __future__ import annotations

import json

from optimizer import numbers
from optimizer.cli.output import write_json


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks that print measured figures (ptq-sweep, "
                                     "table1, search-executors, first-chart, search-strategies)")
    p.add_argument("name", choices=["ptq-sweep", "table1", "search-executors", "first-chart",
                                    "search-strategies"],
                   help="which benchmark: ptq-sweep; table1 (the guide's Table 1 architectures "
                        "measured here; writes assets/learn/table1_measured.json); "
                        "search-executors (the same search on the local executor and on Ray); "
                        "first-chart (the app's three clicks in Chromium: seconds to the first "
                        "chart and to the whole run, cold and warm); "
                        "search-strategies (full search, keep-worst-in-float, op-type fallback "
                        "and the sensitivity-first search on the demos, as a table)")
    p.add_argument("--model", default=None, metavar="NAME_OR_PATH",
                   help="demo name or tf_keras model file (default digits-mobilenetv2 for "
                        "ptq-sweep, digits-cnn for search-executors)")
    p.add_argument("--ray-address", metavar="HOST:PORT", help="search-executors: the cluster "
                   "(default: a local head started for the benchmark with --cpus CPUs)")
    p.add_argument("--cpus", type=int, default=2, help="search-executors: CPUs of that head")
    p.add_argument("--time-budget", type=float, default=None, metavar="S",
                   help="search-executors: each search's budget (default 1200, large, so "
                        "neither is cut); search-strategies: the full search's (default 300)")
    p.add_argument("--data", metavar="PATH", help=".npz data for a model file")
    p.add_argument("--out", metavar="DIR", help="where the files and logs go (default under "
                                               "the workspace)")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write the figures as JSON to FILE (or - for stdout)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.name == "search-executors":
        return _search_executors(args)
    if args.name == "first-chart":
        from optimizer.benchmarks.first_chart import first_chart, summary_lines

        figures = first_chart(args.out)
        if args.json is not None:
            write_json(figures, args.json)
            return 0
        print("\n".join(summary_lines(figures)))
        return 0
    if args.name == "search-strategies":
        return _search_strategies(args)
    from optimizer.benchmarks.ptq_sweep import ptq_sweep

    if args.name == "table1":
        from optimizer.benchmarks.table1 import OUT, measure_table1

        document = measure_table1(args.out)
        if args.json is not None:
            write_json(document, args.json)
        print(f"wrote {OUT.relative_to(OUT.parents[2])}: {len(document['rows'])} models")
        return 0

    figures = ptq_sweep(args.model or "digits-mobilenetv2", args.data, args.out)
    if args.json is not None:
        write_json(figures, args.json)
        return 0
    print(f"ptq-sweep on {figures['model']} ({figures['measured_on']}); load average "
          f"{numbers.fixed(figures['load_average_before'][0], 2)} before, "
          f"{numbers.fixed(figures['load_average_after'][0], 2)} after")
    print(f"{'technique':<14} {'naive s':>8} {'opt s':>7} {'warm s':>7} {'bytes':>10} "
          f"{'gzip':>10} {'acc naive':>9} {'acc opt':>8}")
    for v in figures["variants"]:
        print(f"{v['technique']:<14} {_f(v['naive_seconds'])} {_f(v['optimized_seconds'], 7)} "
              f"{_f(v.get('warm_seconds'), 7)} "
              f"{_f(v['optimized_bytes'], 10, numbers.count)} "
              f"{_f(v['optimized_gzip_bytes'], 10, numbers.count)} "
              f"{_f(v['naive_accuracy'], 9, _four)} {_f(v['optimized_accuracy'], 8, _four)}")
    print(json.dumps({k: figures[k] for k in ("naive_s", "optimized_s", "warm_s", "speedup",
                                               "peak_rss_mb")}))
    return 0


def _search_strategies(args) -> int:
    from optimizer.benchmarks.search_strategies import SCENARIOS, markdown, search_strategies

    scenarios = [s for s in SCENARIOS if args.model is None or s["model"] == args.model]
    if not scenarios:
        scenarios = [{**s, "model": args.model} for s in SCENARIOS
                     if s["model"] == "digits-outliers"]
    figures = search_strategies(scenarios, args.out, full_budget_s=args.time_budget or 300.0)
    if args.json is not None:
        write_json(figures, args.json)
        return 0
    from optimizer import numbers

    load = figures["load_average"]
    print(f"search-strategies ({figures['measured_on']}, {figures['date']}; load average "
          f"{numbers.sig(load['start'][0])} at the start, {numbers.sig(load['end'][0])} at the "
          f"end; (a) within {numbers.seconds(figures['full_budget_s'])})")
    print(markdown(figures))
    return 0


def _search_executors(args) -> int:
    from optimizer.benchmarks.search_executors import search_executors

    figures = search_executors(args.model or "digits-cnn", args.ray_address, args.cpus,
                               args.out, args.time_budget or 1200.0)
    if args.json is not None:
        write_json(figures, args.json)
        return 0
    print(f"search-executors on {figures['model']} ({figures['measured_on']}); cluster: "
          f"{figures['cluster']}")
    for name in ("local", "ray"):
        f = figures[name]
        print(f"{name:<6} wall {numbers.fixed(f['wall_s'], 1):>7} s  status {f['status']}  "
              f"trials {f['trials']} "
              f"({f['ok']} ok)  best {f['best']}  nodes {', '.join(f['nodes']) or '-'}"
              + (f"  error: {f['error']}" if f["error"] else ""))
    print(json.dumps({"speedup": figures["speedup"], "out": figures["out"]}))
    return 0


def _two(value) -> str:
    return numbers.fixed(value, 2)


def _four(value) -> str:
    return numbers.fixed(value, 4)


def _f(value, width: int = 8, text=_two) -> str:
    """A table cell: the value through optimizer.numbers, "-" when not measured."""
    return ("-" if value is None else text(value)).rjust(width)
