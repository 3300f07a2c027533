"""The history index over run and search folders: record, list, rebuild, show, delete.

Rows are built from a folder alone (``read_run`` / ``read_search``), so the database can be
rebuilt at any time (``rebuild``); a row whose run is still going is re-read from its folder
when listed. A folder's owner is the workspace token in its path
(``<workspace>/sessions/<owner>/runs/<id>``); runs from the command line have none.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from optimizer import access, paths
from optimizer.paths import owner_of
from optimizer.artifacts import history, store
from optimizer.artifacts.events import EventType, read_events
from optimizer.models.labels import model_label
from optimizer.report.public import public_record
from optimizer.runs.background import read_run
from optimizer.search.background import read_search
from optimizer.search.runner import SEARCH
from optimizer.workspace import journal

#: The keys of ``python -m optimizer history --json`` rows (the issue's contract).
PUBLIC_KEYS = ("id", "kind", "model", "techniques", "status", "queued_at", "started_at",
               "finished_at", "cached", "best")


def kind_of(folder: Path | str) -> str | None:
    """"search", "run", or None for a folder that holds neither."""
    folder = Path(folder)
    if (folder / SEARCH).exists():
        return "search"
    if (folder / store.REQUEST).exists() or (folder / store.EVENTS).exists():
        return "run"
    return None


def _times(folder: Path) -> tuple:
    events = read_events(folder / store.EVENTS)
    pid = store.read_pid(folder) or {}
    queued = events[0]["t"] if events else pid.get("t")
    started = next((e["t"] for e in events if e["type"] == EventType.RUN_STARTED.value), None)
    finished = next((e["t"] for e in reversed(events)
                     if e["type"] == EventType.RUN_FINISHED.value), None)
    return queued, started, finished


def best_of(folder: Path | str, results=None) -> dict | None:
    """The run's best variant as the Results page shows it (``report.judge.best_variant``,
    judged by the goals the run was made for, with its size basis), or None."""
    from optimizer.report.verdict import run_best

    try:
        best = run_best(folder, results=results)
    except (OSError, ValueError, TypeError):
        return None
    return best.row() if best is not None else None


def search_best(outcome) -> dict | None:
    """A search's winner as its outcome chose it (on the search's size measure), or None."""
    from optimizer.report.judge import Best

    if outcome is None or not outcome.best:
        return None
    best, base = outcome.trial(outcome.best), outcome.trial("float32")
    key = "gzip_bytes" if outcome.size_measure == "gzip" else "size_bytes"
    if best is None or not getattr(best, key):
        return None
    goals = sum(1 for value in (outcome.goals or {}).values() if value is not None)
    return Best(best.technique, outcome.size_measure, int(getattr(best, key)),
                getattr(base, key, None) if base is not None else None, goals, best).row()


def row_for(folder: Path | str) -> dict | None:
    """The history row of a folder, read from its files (None if it holds no run)."""
    folder = Path(folder).resolve()
    kind = kind_of(folder)
    if kind is None:
        return None
    queued, started, finished = _times(folder)
    doc = store.read_json(folder / store.RESULTS)
    doc = doc if isinstance(doc, dict) else {}
    row = {"id": folder.name, "kind": kind, "owner": owner_of(folder), "folder": str(folder),
           "queued_at": queued, "started_at": started, "finished_at": finished,
           "cached": bool(doc.get("cached")), "cached_from": doc.get("cached_from"),
           "cache_key": doc.get("cache_key")}
    if kind == "run":
        run = read_run(folder)
        request = run.request
        row.update(model=model_label(request.model if request else run.model),
                   techniques=list(request.specs) if request else [],
                   settings=list(request.settings) if request else [], status=run.status,
                   best=best_of(folder, run.results))
    else:
        search = read_search(folder)
        trials = search.outcome.trials if search.outcome else []
        row.update(model=model_label(search.request.model if search.request else search.model),
                   techniques=[t.technique for t in trials],
                   settings=list(search.request.settings) if search.request else [],
                   status=search.status, best=search_best(search.outcome))
    return row


def record(folder: Path | str, **fields) -> str:
    """Index (or re-index) one folder and return its run id. A folder the history does not
    know yet is first noted in the journal (``workspace.journal``), so a rebuild finds it
    even if the database cannot be written now."""
    row = row_for(folder)
    if row is None:
        raise ValueError(f"{Path(folder).name} holds no run or search")
    try:
        known = history.find_folder(row["folder"]) is not None
    except ValueError:      # a damaged or unreachable database: note it all the same
        known = False
    if not known:
        try:
            journal.note(row["folder"], row["kind"])
        except OSError:     # the disk is full: the database write below says so
            pass
    return history.upsert_run({**row, **fields})


def runs(owner: str | None = None, any_owner: bool = True) -> list[dict]:
    """History rows, newest first (by when each was queued; live runs too), with live runs
    re-read from their folders (a folder deleted by hand, or swept with its idle session,
    drops its row)."""
    rows = []
    for row in history.list_rows(owner, any_owner=any_owner):
        folder = Path(row["folder"])
        if not folder.is_dir():
            history.delete_run(row["id"])
            continue
        if row["status"] not in history.FINAL:
            history.upsert_run({**row_for(folder), "id": row["id"]})
            row = history.get_run(row["id"]) or row
        elif row["kind"] == "run":
            # the best follows the readiness checked since the run ended (the Results page's)
            best = best_of(folder)
            if best != row.get("best"):
                history.upsert_run({**row, "best": best})
                row = {**row, "best": best}
        rows.append(row)
    return sorted(rows, key=_newest, reverse=True)


def _newest(row: dict) -> tuple:
    return (row.get("queued_at") or row.get("started_at") or row.get("updated_at") or 0.0,
            row.get("id") or "")


def public_row(row: dict) -> dict:
    """A row as the CLI and downloads show it: the issue's keys, no folder or owner."""
    return public_record({key: row.get(key) for key in PUBLIC_KEYS})


def folder_of(run_id: str) -> Path | None:
    """The folder of a run id (or of a folder path given instead), None if unknown."""
    row = history.get_run(run_id)
    if row is not None:
        return Path(row["folder"])
    path = Path(run_id)
    return path.resolve() if path.is_dir() and kind_of(path) else None


#: The ids a share link may name: the app's runs (time, then 128 random bits).
_LINK_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{32}$")


def shared_folder(run_id) -> Path | None:
    """The folder a share link (``/results?run=<id>``) opens, read-only, or None.

    Only an id from the history whose random part makes it unguessable opens anything;
    never a path, never a command-line run (its id is a readable folder name).
    """
    if not isinstance(run_id, str) or not _LINK_ID.match(run_id):
        return None
    try:
        row = history.get_run(run_id)
    except ValueError:
        return None
    if row is None or row["owner"] is None:
        return None
    folder = Path(row["folder"])
    return folder if folder.is_dir() else None


def workspace_runs(owner: str) -> list[dict]:
    """One workspace's runs and searches, newest first; folders the history does not know
    yet (made before it existed, or while it was unwritable) are indexed on the way."""
    sessions = paths.workspace() / "sessions" / owner
    known = {r["folder"] for r in history.list_rows(owner)}
    for pattern in ("runs/*", "searches/*"):
        for folder in sessions.glob(pattern):
            if str(folder.resolve()) not in known and kind_of(folder):
                record(folder)
    return runs(owner)


def delete_run(run_id: str, owner: str | None) -> bool:
    """Delete one run or search of ``owner``: its folder and its row. Refuses a live run and
    another owner's run (``ValueError``); False if there is no such run."""
    row = history.get_run(run_id)
    if row is None:
        return False
    if row["owner"] != owner:
        raise access.ReadOnly("this run belongs to another workspace; only its owner can "
                              "delete it")
    folder = Path(row["folder"])
    if store.RunLock.is_held(folder):
        raise ValueError("this run is still going; cancel it first, then delete it")
    if folder.is_dir():
        shutil.rmtree(folder)
    history.delete_run(run_id)
    return True


def document(folder: Path | str, run_id: str | None = None) -> dict:
    """A run's JSON as ``run --json`` printed it (``results.json``) plus its ``status`` as
    ``history`` and the pages read it (``read_run``); when the run did not end normally
    (killed, cancelled) or its files are damaged, the results are the ones the pages show
    (every unfinished technique as an error or cancelled result), with ``"error"`` and
    ``"damaged"`` saying why. A search's ``outcome.json``. Carries ``run_id``."""
    from optimizer.search.runner import OUTCOME

    folder = Path(folder)
    row = history.find_folder(folder.resolve())
    run_id = (row or {}).get("id") or run_id or folder.name
    if kind_of(folder) == "search":
        doc = store.read_json(folder / OUTCOME)
        return {**(doc if isinstance(doc, dict) else {"status": read_search(folder).status}),
                "run_id": run_id}
    doc = store.read_json(folder / store.RESULTS)
    run = read_run(folder)
    base = doc if isinstance(doc, dict) else {}
    if base and run.status in ("finished", "running", "queued") and not run.damaged \
            and run.error is None:
        return {**base, "run_id": run_id, "status": run.status, **_judgement(folder)}
    out = {**{k: v for k, v in base.items() if k != "results"}, "model": base.get("model") or
           run.model, "run_id": run_id, "status": run.status,
           "results": [r.to_dict() for r in run.results]}
    for key, value in (("error", run.error), ("damaged", run.damaged)):
        if value:
            out[key] = value
    return {**out, **_judgement(folder)}


def _judgement(folder: Path) -> dict:
    """The run judged now by the answers and goals it was made for, with the readiness
    checked since it ended (``report.verdict.run_verdict``): ``insights``, ``checks``,
    ``verdict``; {} for a folder whose results cannot be judged."""
    from optimizer.report.verdict import run_verdict

    try:
        return run_verdict(folder).judgement()
    except (OSError, ValueError, TypeError):
        return {}
