"""``python -m optimizer history [--json FILE_OR_-] [--rebuild]``: every run and search indexed
in the workspace's history database, newest first.

``--json`` writes ``{"runs": [{"id", "kind", "model", "techniques", "status", "queued_at",
"started_at", "finished_at", "cached", "best"}, ..]}``; ``--rebuild`` recreates the database
from the run folders first (every folder the workspace's journal lists -- also ``--out``
folders elsewhere --, those under the workspace and ``./out``, and any other folder it still
lists), after a restore or when it is damaged: into a new file swapped in when complete, a
damaged one kept aside (``optimizer.workspace.rebuild``).
"""
from __future__ import annotations

import time

from optimizer.cli.output import write_json


def add_parser(sub) -> None:
    p = sub.add_parser("history", help="list every run and search (the workspace's history)")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write {runs: [...]} as JSON to FILE (or - for stdout)")
    p.add_argument("--rebuild", action="store_true",
                   help="recreate the history database from the run folders first")
    p.add_argument("--owner", metavar="TOKEN", default=None,
                   help="only the runs of one browser workspace (its ?w= token)")
    p.set_defaults(func=run)


def run(args) -> int:
    from optimizer.report.verdict import best_label
    from optimizer.workspace import index
    from optimizer.workspace.rebuild import rebuild

    if args.rebuild:
        report = rebuild()
        if args.json is None:
            aside = f"; the unusable database was kept as {report.aside.name}" \
                if report.set_aside_unusable else ""
            print(f"history rebuilt from the run folders: {report.count} run(s) and "
                  f"search(es){aside}")
    rows = [index.public_row(r) for r in index.runs(args.owner)]
    if args.json is not None:
        write_json({"runs": rows}, args.json)
        return 0
    if not rows:
        print("no runs yet: start one with `python -m optimizer run --model digits-cnn "
              "--technique float16`")
        return 0
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["queued_at"] or 0))
        best_text = ("best " + best_label(row.get("best"))) if row.get("best") else ""
        cached = " cached" if row["cached"] else ""
        print(f"{row['id']}  {when}  {row['kind']:<6}  {row['status']:<9}{cached}  "
              f"{row['model']}  {', '.join(row['techniques'] or [])}  {best_text}".rstrip())
    return 0
