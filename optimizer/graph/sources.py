"""Which ``.tflite`` files a browser may see as graphs: only its own workspace's models.

A browser never names a file. It names a run (an id from this workspace's history, or the
unguessable id of a share link) and a technique of that run; ``model_file`` finds the file the
run recorded for that technique and refuses, with ``GraphRefused``, anything else:

* a run id that is a path (absolute or relative, ``..``), unknown, or another workspace's;
* a technique the run has no file for (names never reach the filesystem);
* a recorded file that resolves (after symlinks) outside the run's own folder, or outside the
  workspace's sessions, or that is not a ``.tflite``.

Every graph the app converts goes through here; Model Explorer's own server, which opens any
path its ``?data=`` parameter names, is never started (see ``graph.web``).
"""
from __future__ import annotations

from pathlib import Path

from optimizer import paths


class GraphRefused(ValueError):
    """A request for a file the graph view must not open; the message says why."""


def run_folder(run_id: str, owner: str | None, shared: bool = False) -> Path:
    """The folder of run or search ``run_id`` when it belongs to workspace ``owner`` (or, with
    ``shared``, when ``run_id`` is a share link's id). ``GraphRefused`` otherwise."""
    from optimizer.artifacts import history
    from optimizer.workspace.index import shared_folder

    if not isinstance(run_id, str) or not run_id or "/" in run_id or "\\" in run_id or \
            run_id.startswith(".") or Path(run_id).is_absolute():
        raise GraphRefused("refused: a graph is opened by its run's id, never by a path")
    if shared:
        folder = shared_folder(run_id)
        if folder is None:
            raise GraphRefused("refused: this link opens no run")
        return folder
    try:
        row = history.get_run(run_id)
    except ValueError:
        row = None
    if row is None:
        raise GraphRefused(f"refused: no run with id {run_id!r} in this workspace")
    folder = Path(row["folder"])
    if owner is None or row.get("owner") != owner or paths.owner_of(folder) != owner:
        raise GraphRefused("refused: that run belongs to another workspace")
    return folder


def model_file(folder: Path | str, technique: str, results, owner: str | None,
               shared: bool = False) -> Path:
    """The ``.tflite`` that ``results`` (the run's records) hold for ``technique``, checked to
    lie inside ``folder``, which must be workspace ``owner``'s (or, with ``shared``, a share
    link's folder from ``run_folder``). ``GraphRefused`` otherwise."""
    folder = Path(folder).resolve()
    sessions = (paths.workspace() / "sessions").resolve()
    if not folder.is_relative_to(sessions):
        raise GraphRefused("refused: that run is not in this server's workspace")
    if not shared and (owner is None or paths.owner_of(folder) != owner):
        raise GraphRefused("refused: that run belongs to another workspace")
    result = next((r for r in results if getattr(r, "technique", None) == technique), None)
    if result is None or not result.ok or not result.tflite_path:
        raise GraphRefused(f"refused: the run has no model file for {technique!r}")
    path = Path(result.tflite_path)
    if not path.is_absolute():
        path = folder / path
    path = path.resolve()
    if not path.is_relative_to(folder) or path.suffix != ".tflite" or not path.is_file():
        raise GraphRefused(f"refused: the file recorded for {technique!r} is not one of this "
                           f"run's models")
    return path
