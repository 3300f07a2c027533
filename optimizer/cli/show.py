"""``python -m optimizer show RUN_ID [--json FILE_OR_-]``: one run (or search) by its id.

Prints the run exactly as ``run --json`` did (``results.json``); when that file is missing or
damaged the results are rebuilt from ``events.jsonl`` and ``"damaged"`` says what was wrong.
A search prints its ``outcome.json``. RUN_ID is an id from ``history`` (or a run folder).
"""
from __future__ import annotations

from optimizer.cli import UsageError
from optimizer.cli.output import write_json


def add_parser(sub) -> None:
    p = sub.add_parser("show", help="print one run or search by its id (see `history`)")
    p.add_argument("run_id", metavar="RUN_ID", help="an id listed by `history` (or a folder)")
    p.add_argument("--json", nargs="?", const="-", default="-", metavar="FILE",
                   help="write the run's JSON to FILE (default: - for stdout)")
    p.set_defaults(func=run)


def run(args) -> int:
    from optimizer.workspace import index

    folder = index.folder_of(args.run_id)
    if folder is None or not folder.is_dir():
        raise UsageError(f"no run with id {args.run_id!r}; list them with `python -m optimizer "
                         f"history` (or rebuild the list: `history --rebuild`)")
    write_json(index.document(folder, args.run_id), args.json)
    return 0
