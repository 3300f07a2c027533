"""``python -m optimizer export mlflow RUN_OR_SEARCH_ID [--tracking-uri URI] [--json FILE_OR_-]``.

Exports one run or search to MLflow (``optimizer.tracking.mlflow_export``): a parent run with
one nested run per variant or trial, their params, metrics, artifacts and tags. The default
store is offline, ``sqlite:///<workspace>/mlflow.db``. RUN_OR_SEARCH_ID is an id from
``history`` (or a run folder). MLflow is optional: without ``make setup-mlflow`` the command
says so in one line and exits with status 2.
"""
from __future__ import annotations

from optimizer.cli import UsageError
from optimizer.cli.output import write_json


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="export a run or search to an experiment tracker (MLflow)")
    targets = p.add_subparsers(dest="tracker", required=True, metavar="TRACKER")
    m = targets.add_parser("mlflow", help="one parent run, a nested run per variant or trial")
    m.add_argument("run_id", metavar="RUN_OR_SEARCH_ID",
                   help="an id listed by `history` (or a run or search folder)")
    m.add_argument("--tracking-uri", metavar="URI", default=None,
                   help="MLflow tracking URI (default: sqlite:///<workspace>/mlflow.db, "
                        "offline)")
    m.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write the export's summary as JSON to FILE (or - for stdout)")
    m.set_defaults(func=run)


def run(args) -> int:
    from optimizer.tracking.mlflow_export import export_mlflow, mlflow_missing
    from optimizer.workspace import index

    missing = mlflow_missing()
    if missing:
        raise UsageError(missing)
    folder = index.folder_of(args.run_id)
    if folder is None or not folder.is_dir():
        raise UsageError(f"no run or search with id {args.run_id!r}; list them with "
                         f"`python -m optimizer history`")
    row = None
    try:
        from optimizer.artifacts import history

        row = history.find_folder(folder.resolve())
    except ValueError:
        row = None
    summary = export_mlflow(folder, args.tracking_uri, run_id=(row or {}).get("id"))
    if args.json:
        write_json(summary, args.json)
    else:
        print(f"exported {summary['kind']} {summary['run_id']} to {summary['tracking_uri']}: "
              f"MLflow run {summary['parent_run_id']} with {summary['nested_runs']} nested "
              f"runs (experiment \"{summary['experiment']}\")")
        if summary.get("note"):
            print(f"note: {summary['note']}")
    return 0
