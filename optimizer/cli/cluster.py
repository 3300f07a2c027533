"""``python -m optimizer cluster [--ray-address HOST:PORT] [--json FILE|-]``: the Ray cluster's
size and queue (what the Run page shows when the executor is ``ray``)."""
from __future__ import annotations

from optimizer.cli import UsageError
from optimizer.cli.output import write_json


def add_parser(sub) -> None:
    p = sub.add_parser("cluster", help="the Ray cluster's nodes, CPUs and queue")
    p.add_argument("--ray-address", metavar="HOST:PORT", default=None,
                   help="the Ray head (default from OPTIMIZER_RAY_ADDRESS)")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write the figures as JSON to FILE (or - for stdout)")
    p.set_defaults(func=run)


def run(args) -> int:
    from optimizer.runs.cluster import ClusterStatus, probe
    from optimizer.runs.executor import choose_executor

    try:
        choice = choose_executor("ray", args.ray_address)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    figures = probe(choice.address)   # ValueError (unreachable) -> one line, exit 2
    if args.json is not None:
        write_json(figures, args.json)
    else:
        print(ClusterStatus(**figures).text)
    return 0
