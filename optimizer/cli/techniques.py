"""``python -m optimizer techniques [--json FILE|-]``: the technique registry."""
from __future__ import annotations

from optimizer.cli.output import write_json
from optimizer.guide.registry import TECHNIQUES


def add_parser(sub) -> None:
    p = sub.add_parser("techniques", help="list every technique with the guide's facts")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write JSON to FILE (or - / no value for stdout)")
    p.set_defaults(func=run)


def run(args) -> int:
    rows = [info.to_dict() for info in TECHNIQUES.values()]
    if args.json is not None:
        write_json({"techniques": rows}, args.json)
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        print(f"{r['id']:<{width}}  {r['data']:<10}  {r['guide_size']:<28}  {r['title']}")
    return 0
