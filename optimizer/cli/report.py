"""``python -m optimizer report RUN_DIR_OR_ID --out report.html``: the hand-over report.

Writes one self-contained HTML file (plotly.js inlined, nothing loaded from the network) with
the model, the answers and the guide's recommendation, the results table, three charts, the
insights, how it was measured and the commands that reproduce it. ``RUN_DIR_OR_ID`` is a run
folder, or the name of one under ``./out`` or the workspace's session run folders. Exit status
0 when written, 2 with a one-line message when the run has no results. ``--lang vi`` writes
the report in Vietnamese (the words, and numbers with a decimal comma); the command's own output
stays English.
"""
from __future__ import annotations

from pathlib import Path

from optimizer.cli import UsageError
from optimizer.text import LANGUAGES


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report of a run")
    p.add_argument("run", metavar="RUN_DIR_OR_ID",
                   help="a run folder (from `run --out`), or its name under ./out or the "
                        "workspace")
    p.add_argument("--out", default="report.html", metavar="FILE",
                   help="the HTML file to write (default: %(default)s)")
    p.add_argument("--lang", default="en", choices=sorted(LANGUAGES),
                   help="the report's language: en (English) or vi (Vietnamese) "
                        "(default: %(default)s)")
    p.set_defaults(func=run)


def find_run(ref: str) -> Path:
    """The run folder ``ref`` names: a path, or a folder name under ./out or the workspace."""
    from optimizer import paths
    from optimizer.artifacts import store

    path = Path(ref).expanduser()
    if (path / store.RESULTS).is_file():
        return path.resolve()
    if "/" not in ref and ref not in ("", ".", ".."):
        candidates = [Path("out") / ref, *sorted(paths.workspace().glob(f"sessions/*/runs/{ref}")),
                      *sorted(paths.workspace().glob(f"runs/{ref}"))]
        for folder in candidates:
            if (folder / store.RESULTS).is_file():
                return folder.resolve()
    raise UsageError(f"no run with results at '{ref}'; pass a run folder from "
                     f"`python -m optimizer run --out DIR` (it holds {store.RESULTS})")


def run(args) -> int:
    from optimizer.report.handover import report_html
    from optimizer.text import use_language

    run_dir = find_run(args.run)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with use_language(getattr(args, "lang", "en")):
        text = report_html(run_dir)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(text.encode()) / 1e6:.1f} MB) for {run_dir.name}")
    return 0
