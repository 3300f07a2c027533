"""``python -m optimizer bench ptq-sweep --model NAME [--data PATH] [--json FILE|-]``.

Prints measured figures (see ``optimizer.benchmarks.ptq_sweep``): naive vs optimized post-training sweep,
each in a fresh process, with the speed-up and peak memory.
"""
from __future__ import annotations

import json

from optimizer.cli.output import write_json


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks that print measured figures (ptq-sweep)")
    p.add_argument("name", choices=["ptq-sweep", "table1"],
                   help="which benchmark: ptq-sweep, or table1 (the guide's Table 1 "
                        "architectures measured here; writes assets/learn/table1_measured.json)")
    p.add_argument("--model", default="digits-mobilenetv2", metavar="NAME_OR_PATH",
                   help="demo name or tf_keras model file (default digits-mobilenetv2)")
    p.add_argument("--data", metavar="PATH", help=".npz data for a model file")
    p.add_argument("--out", metavar="DIR", help="where the files and logs go (default under "
                                               "the workspace)")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write the figures as JSON to FILE (or - for stdout)")
    p.set_defaults(func=run)


def run(args) -> int:
    from optimizer.benchmarks.ptq_sweep import ptq_sweep

    if args.name == "table1":
        from optimizer.benchmarks.table1 import OUT, measure_table1

        document = measure_table1(args.out)
        if args.json is not None:
            write_json(document, args.json)
        print(f"wrote {OUT.relative_to(OUT.parents[2])}: {len(document['rows'])} models")
        return 0

    figures = ptq_sweep(args.model, args.data, args.out)
    if args.json is not None:
        write_json(figures, args.json)
        return 0
    print(f"ptq-sweep on {figures['model']} ({figures['measured_on']})")
    print(f"{'technique':<14} {'naive s':>8} {'opt s':>7} {'bytes':>10} {'gzip':>10} "
          f"{'acc naive':>9} {'acc opt':>8}")
    for v in figures["variants"]:
        print(f"{v['technique']:<14} {_f(v['naive_seconds'])} {_f(v['optimized_seconds'], 7)} "
              f"{_f(v['optimized_bytes'], 10, '{:,}')} {_f(v['optimized_gzip_bytes'], 10, '{:,}')} "
              f"{_f(v['naive_accuracy'], 9, '{:.4f}')} {_f(v['optimized_accuracy'], 8, '{:.4f}')}")
    print(json.dumps({k: figures[k] for k in ("naive_s", "optimized_s", "speedup",
                                               "peak_rss_mb")}))
    return 0


def _f(value, width: int = 8, pattern: str = "{:.2f}") -> str:
    return ("-" if value is None else pattern.format(value)).rjust(width)
