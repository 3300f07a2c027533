"""Rebuild the history database from the run folders, without ever losing it on the way.

``rebuild()`` (``python -m optimizer history --rebuild``) finds every folder -- the ones the
journal lists (``workspace.journal``: every folder ever recorded, also ``--out`` folders
outside the workspace), the ones the old database lists when it can be read, the workspace's
sessions and ``./out`` -- and writes their rows into a **new** file beside the database. Only
when that file is complete and checked is it swapped in; a damaged old database is kept aside
as ``history.sqlite3.damaged-<time>`` (a sound one as ``history.sqlite3.previous``). A full disk
at any point leaves the old database exactly as it was, removes the half-written new file and
says so, naming the disk. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from optimizer import paths
from optimizer.artifacts import history, space
from optimizer.workspace import index, journal


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did: how many rows, and the name the old database was kept under
    (``history.sqlite3.damaged-<time>`` / ``.newer-<time>`` when it could not be used,
    ``history.sqlite3.previous`` when it was sound; None when there was none)."""

    count: int
    aside: Path | None

    @property
    def set_aside_unusable(self) -> bool:
        """True when the old database was unusable (damaged or newer) and kept aside."""
        return self.aside is not None and not self.aside.name.endswith(".previous")


def rebuild(extra: tuple = ()) -> RebuildReport:
    """Recreate the history from the folders (see the module doc) and return what it did.

    Raises ``space.NoSpace`` on a full disk (nothing changed), ``ValueError`` when the old
    database cannot be read for another reason than damage (nothing changed either).
    """
    db = history.db_path()
    new = db.with_name(f"{db.name}.rebuild-{os.getpid()}")
    try:
        _remove(new)
        old_rows, unusable = _old_rows()
        ids = {r["folder"]: r["id"] for r in old_rows}
        folders = _folders(old_rows, extra)
        known = {str(p) for p in journal.folders()}
        for folder in folders:                  # a rebuild completes the journal too
            if str(folder) not in known:
                journal.note(folder, index.kind_of(folder))
        count = _write(new, folders, ids)
        history.checkpoint(new)
        _verify(new, count)
    except (OSError, sqlite3.Error, ValueError) as exc:
        _remove(new)
        raise _why(exc, db) from None
    aside = history.set_aside(db, unusable) if unusable else \
        history.set_aside(db, "previous", stamped=False)
    os.replace(new, db)
    return RebuildReport(count, aside)


def _old_rows() -> tuple[list[dict], str | None]:
    """(rows of the current database, why it is unusable: "damaged", "newer" or None)."""
    if not history.db_path().exists():
        return [], None
    try:
        return history.list_rows(), None
    except history.HistoryDamaged:
        return [], "damaged"
    except history.HistoryTooNew:   # written by a newer version: kept for that version
        return [], "newer"


def _folders(old_rows: list[dict], extra) -> list[Path]:
    """Every folder holding a run or search that the journal, the old rows, the sessions,
    ``./out`` or ``extra`` name, each once, sorted."""
    sessions = paths.workspace() / "sessions"
    found = {p.resolve() for pattern in ("*/runs/*", "*/searches/*")
             for p in sessions.glob(pattern) if p.is_dir()}
    found |= {p.resolve() for p in Path("out").glob("*") if p.is_dir()}  # the CLI's default
    found |= {Path(r["folder"]) for r in old_rows}
    found |= set(journal.folders()) | {Path(p).resolve() for p in extra}
    return sorted(p for p in found if p.is_dir() and index.kind_of(p) is not None)


def _write(path: Path, folders: list[Path], ids: dict) -> int:
    """Every folder's row (keeping the ids the old database gave) and every upload, into the
    new database at ``path``; returns the number of rows."""
    conn = history.connect(path)
    try:
        count = 0
        for folder in folders:
            row = index.row_for(folder)
            if row is None:
                continue
            history.upsert_run({**row, "id": ids.get(row["folder"], row["id"])}, conn=conn)
            count += 1
        _uploads(conn)
        return count
    finally:
        conn.close()


def _uploads(conn) -> None:
    from optimizer.models.uploads.prepare import MANIFEST, PreparedUpload

    for manifest in (paths.workspace() / "sessions").glob(f"*/uploads/*/{MANIFEST}"):
        try:
            upload = PreparedUpload.load(manifest)
        except ValueError:
            continue
        folder = manifest.parent
        history.record_upload(folder.name, folder.parent.parent.name, upload.title,
                              upload.sha256, folder, conn=conn)


def _verify(path: Path, count: int) -> None:
    """The new file is one complete, sound database holding ``count`` rows."""
    if any(p.exists() for p in history.files_of(path)[1:]):
        raise ValueError("the new history file was not written completely")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA quick_check").fetchone()[0]
        rows = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    finally:
        conn.close()
    if ok != "ok" or rows != count:
        raise ValueError(f"the new history file failed its check ({ok}, {rows} of {count} rows)")


def _why(exc: BaseException, db: Path) -> ValueError:
    """The one line a failed rebuild ends with; the old database is untouched."""
    if isinstance(exc, sqlite3.Error):
        exc = history.explain(exc, db)
    kept = "the run history was not rebuilt and is kept as it was"
    if isinstance(exc, space.NoSpace) or space.is_no_space(exc):
        return space.NoSpace(f"{space.no_space_message(db.parent, None, 'the rebuild')}; {kept}")
    return ValueError(f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}; "
                      f"{kept}")


def _remove(path: Path) -> None:
    for item in history.files_of(path):
        item.unlink(missing_ok=True)
