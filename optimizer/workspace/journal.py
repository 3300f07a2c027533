"""The history journal: every run and search folder ever recorded, one JSON line each.

``<workspace>/history.journal`` is append-only: ``note(folder, kind)`` adds
``{"t": .., "kind": "run"|"search", "folder": "/abs/path"}`` the first time the history
records a folder -- also a ``--out`` folder outside the workspace, made from any current
folder. A rebuild of the database (``optimizer.workspace.rebuild``) reads it, so runs made
elsewhere are found again whatever folder the rebuild runs from, even when the database was
lost. Each line is one ``write`` on an ``O_APPEND`` descriptor (whole lines even with several
writers); a cut or corrupt line is skipped by the reader. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from optimizer import paths

JOURNAL = "history.journal"


def journal_path() -> Path:
    """``<workspace>/history.journal``."""
    return paths.workspace() / JOURNAL


def note(folder: Path | str, kind: str) -> None:
    """Append one line for ``folder`` (resolved). ``OSError`` (a full disk) is the caller's."""
    line = json.dumps({"t": round(time.time(), 3), "kind": str(kind),
                       "folder": str(Path(folder).resolve())}) + "\n"
    data = line.encode()
    fd = os.open(journal_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        try:
            if os.write(fd, data) != len(data):
                raise OSError(28, "No space left on device (short write)", str(journal_path()))
        except OSError:
            os.ftruncate(fd, size)   # never leave half a line for the next one to glue onto
            raise
    finally:
        os.close(fd)


def folders() -> list[Path]:
    """Every folder the journal lists, each once, in the order first recorded."""
    try:
        data = journal_path().read_bytes()
    except FileNotFoundError:
        return []
    seen: dict[str, None] = {}
    for raw in data.split(b"\n"):
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("folder"), str):
            seen.setdefault(entry["folder"], None)
    return [Path(folder) for folder in seen]
