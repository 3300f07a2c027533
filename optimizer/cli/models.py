"""``python -m optimizer models [--json FILE|-]``: the built-in demo models (no TensorFlow)."""
from __future__ import annotations

from optimizer.cli.output import write_json


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list the built-in demo models")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write JSON to FILE (or - / no value for stdout)")
    p.set_defaults(func=run)


def demo_rows() -> list[dict]:
    """One JSON-ready row per demo: name, title, description, input shape, task, classes and
    the number of samples per data split."""
    from optimizer.models.demos import list_demos

    rows = []
    for demo in list_demos():
        rows.append({
            "name": demo.name, "title": demo.title, "description": demo.description,
            "input_description": demo.input_description,
            "input_shape": list(demo.input_shape), "task": demo.task,
            "num_classes": demo.num_classes, "class_names": list(demo.class_names),
            "data": _split_sizes(demo),
        })
    return rows


def _split_sizes(demo) -> dict:
    try:  # cheap: counts the source split without preprocessing (no 96x96 upsampling)
        from optimizer.models.demos.datasets import split_sizes

        return split_sizes(demo.name)
    except ImportError:
        return demo.dataset().sizes()


def run(args) -> int:
    rows = demo_rows()
    if args.json is not None:
        write_json({"models": rows}, args.json)
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        shape = "x".join(str(d) for d in r["input_shape"])
        sizes = r["data"]
        print(f"{r['name']:<{width}}  {shape:<9} {r['num_classes']:>3} classes  "
              f"train {sizes['train']}, test {sizes['test']}  {r['title']}")
    return 0
