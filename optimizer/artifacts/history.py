"""The run history: an embedded SQLite database in the workspace that indexes every run,
search and upload.

The run folders stay the artifact store (``optimizer.artifacts.store``); this database is an
index over them that ``rebuild`` can always recreate from the folders alone (``python -m
optimizer history --rebuild``). One row per run or search: id, kind, owner (the workspace
token of the browser that started it, None from the command line), model (demo name or the
upload's file name, never a server path), techniques, settings, status, times, the best
result, the folder, and whether its results were served from the cache.

WAL mode lets the app read while a run writes; ``PRAGMA user_version`` holds the schema
version and ``connect`` migrates an older database on open. An SQLite error is worded by what
it means (``explain``): a full disk names the disk, a damaged file says how to rebuild, any
other I/O failure is never called damage. The file is never deleted on an error: a rebuild
(``optimizer.workspace.rebuild``) writes a new file and swaps it in when complete, keeping a
damaged one aside (``set_aside``). Nothing here knows how a run folder is read: callers
(``optimizer.workspace.index``) pass rows. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

from optimizer import paths
from optimizer.artifacts import space

DB_NAME = "history.sqlite3"
SCHEMA_VERSION = 2

#: Migrations from version ``i`` to ``i + 1`` (index 0 creates the first schema).
MIGRATIONS = (
    """CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT, model TEXT,
        techniques TEXT NOT NULL DEFAULT '[]', settings TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL, queued_at REAL, started_at REAL, finished_at REAL,
        best TEXT, folder TEXT NOT NULL UNIQUE, updated_at REAL);
    CREATE INDEX IF NOT EXISTS runs_owner ON runs(owner, queued_at);
    CREATE TABLE IF NOT EXISTS uploads (
        id TEXT PRIMARY KEY, owner TEXT, name TEXT, sha256 TEXT, folder TEXT NOT NULL UNIQUE,
        created_at REAL);""",
    """ALTER TABLE runs ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN cached_from TEXT;
    ALTER TABLE runs ADD COLUMN cache_key TEXT;
    CREATE INDEX IF NOT EXISTS runs_cache_key ON runs(cache_key, status)""",
)

RUN_COLUMNS = ("id", "kind", "owner", "model", "techniques", "settings", "status", "queued_at",
               "started_at", "finished_at", "best", "folder", "updated_at", "cached",
               "cached_from", "cache_key")
_JSON_COLUMNS = ("techniques", "settings", "best", "cached_from")
FINAL = ("finished", "failed", "cancelled", "stopped")
#: Columns an update without a value keeps.
_KEPT = ("cache_key", "owner")
#: Columns whose first value stays: when the run was queued (recorded when it is claimed; a
#: later re-read of its folder must not move it, or two identical runs could both measure).
_FIRST = ("queued_at",)


def db_path() -> Path:
    """``<workspace>/history.sqlite3``."""
    return paths.workspace() / DB_NAME


class HistoryDamaged(ValueError):
    """The database file is not (or no longer) a sound SQLite database: rebuild it."""


class HistoryTooNew(ValueError):
    """The database was written by a newer version of the app (a later schema)."""


#: SQLite's primary result codes (``sqlite_errorcode & 0xff``) this module tells apart.
SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_FULL = 11, 26, 13
#: Below this much free space an SQLite I/O error is named as the full disk it most likely is.
LOW_SPACE_BYTES = 5 * space.MB
REBUILD_FIX = "rebuild it from the run folders: python -m optimizer history --rebuild"


def explain(exc: sqlite3.Error, path: Path | str | None = None) -> ValueError:
    """One line naming what an SQLite error means for the history file at ``path``: a full disk
    (``space.NoSpace``: the disk, what is free, the fix), a damaged file (``HistoryDamaged``:
    rebuild it) or another failure to read or write it (``ValueError``, never called damage)."""
    path = Path(path or db_path())
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc).strip()
    if code == SQLITE_FULL or "disk is full" in text:
        return space.NoSpace(space.no_space_message(path.parent, None, "the run history"))
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB) or "not a database" in text or \
            "malformed" in text or text.startswith("no such "):
        return HistoryDamaged(f"the run history {path.name} is damaged ({text}); {REBUILD_FIX}")
    try:
        low = space.free_bytes(path.parent) < LOW_SPACE_BYTES
    except OSError:
        low = False
    if low:
        return space.NoSpace(space.no_space_message(path.parent, None, "the run history"))
    return ValueError(f"the run history {path.name} could not be read or written ({text}); "
                      f"check the disk and the workspace folder's permissions, then try again")


def connect(path: Path | str | None = None) -> sqlite3.Connection:
    """Open the database (WAL, waits up to 10 s for a writer) and migrate it to the current
    schema. A file that is not a database raises ``HistoryDamaged`` naming the fix; a full
    disk ``space.NoSpace`` (see ``explain``)."""
    conn = None
    try:
        conn = sqlite3.connect(str(path or db_path()), timeout=10.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        migrate(conn)
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise explain(exc, path) from None
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return conn


@contextmanager
def opened(path: Path | str | None = None) -> Iterator[sqlite3.Connection]:
    """A connection for one block, closed after it; an SQLite error inside the block is
    raised as ``explain`` words it (one line, never a traceback)."""
    conn = connect(path)
    try:
        yield conn
    except sqlite3.Error as exc:
        raise explain(exc, path) from None
    finally:
        conn.close()


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations the database lacks (in one transaction); return the version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryTooNew(f"the run history was written by a newer version (schema {version}); "
                         f"update the app or rebuild it: python -m optimizer history --rebuild")
    if version == SCHEMA_VERSION:
        return version
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process won
        for step in MIGRATIONS[version:]:
            for statement in filter(str.strip, step.split(";")):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def new_run_id() -> str:
    """A run id that is also a share link's secret: the time, then 128 random bits."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(16)


def _encode(row: dict) -> dict:
    out = {k: row.get(k) for k in RUN_COLUMNS}
    out["techniques"] = out["techniques"] or []
    out["settings"] = out["settings"] or []
    for key in _JSON_COLUMNS:
        if out[key] is not None and not isinstance(out[key], str):
            out[key] = json.dumps(out[key], default=str)
    out["cached"] = int(bool(out.get("cached")))
    out["updated_at"] = round(time.time(), 3)
    return out


def _decode(row: sqlite3.Row) -> dict:
    out = dict(row)
    for key in _JSON_COLUMNS:
        if out.get(key):
            try:
                out[key] = json.loads(out[key])
            except ValueError:
                out[key] = None
    out["cached"] = bool(out.get("cached"))
    return out


def _unique_id(conn, wanted: str, folder: str) -> str:
    """``wanted`` unless another folder has it (two CLI runs named alike): then a suffix."""
    row = conn.execute("SELECT folder FROM runs WHERE id = ?", (wanted,)).fetchone()
    if row is None or row["folder"] == folder:
        return wanted
    return f"{wanted}-{hashlib.sha1(folder.encode()).hexdigest()[:8]}"


def upsert_run(row: dict, conn: sqlite3.Connection | None = None) -> str:
    """Insert or update the row for ``row["folder"]``; its id is kept once given. Returns it."""
    with opened() if conn is None else nullcontext(conn) as conn:
        folder = str(row["folder"])
        existing = conn.execute("SELECT id FROM runs WHERE folder = ?", (folder,)).fetchone()
        run_id = existing["id"] if existing else _unique_id(conn, str(row["id"]), folder)
        data = _encode({**row, "id": run_id, "folder": folder})
        columns = ", ".join(RUN_COLUMNS)
        marks = ", ".join(f":{c}" for c in RUN_COLUMNS)
        updates = ", ".join(f"{c} = COALESCE(excluded.{c}, runs.{c})" if c in _KEPT else
                            f"{c} = COALESCE(runs.{c}, excluded.{c})" if c in _FIRST else
                            f"{c} = excluded.{c}" for c in RUN_COLUMNS if c != "id")
        conn.execute(f"INSERT INTO runs ({columns}) VALUES ({marks}) "
                     f"ON CONFLICT(folder) DO UPDATE SET {updates}", data)
        return run_id


def get_run(run_id: str) -> dict | None:
    """The row of one run or search by id, or None."""
    with opened() as conn:
        row = conn.execute("SELECT * FROM runs WHERE id = ?", (str(run_id),)).fetchone()
    return _decode(row) if row else None


def finished_with_key(cache_key: str) -> list[dict]:
    """The finished, measured (not themselves cached) runs with this cache key, newest first
    (the cache serves the first whose results are all sound)."""
    with opened() as conn:
        rows = conn.execute("SELECT * FROM runs WHERE cache_key = ? AND status = 'finished' "
                            "AND cached = 0 ORDER BY finished_at DESC", (cache_key,)).fetchall()
    return [_decode(r) for r in rows]


def find_folder(folder: Path | str) -> dict | None:
    """The row indexing ``folder``, or None."""
    with opened() as conn:
        row = conn.execute("SELECT * FROM runs WHERE folder = ?", (str(folder),)).fetchone()
    return _decode(row) if row else None


def list_rows(owner: str | None = None, kind: str | None = None, any_owner: bool = True
              ) -> list[dict]:
    """Rows, newest first; only ``owner``'s when given (``any_owner=False`` with None: the
    command line's own runs)."""
    sql, args = "SELECT * FROM runs", []
    where = []
    if owner is not None or not any_owner:
        where.append("owner IS ?")
        args.append(owner)
    if kind:
        where.append("kind = ?")
        args.append(kind)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY COALESCE(queued_at, started_at, 0) DESC"
    with opened() as conn:
        return [_decode(r) for r in conn.execute(sql, args).fetchall()]


def delete_run(run_id: str) -> bool:
    """Remove one row (the caller removes the folder). True if there was one."""
    with opened() as conn:
        return conn.execute("DELETE FROM runs WHERE id = ?", (str(run_id),)).rowcount > 0


def record_upload(upload_id: str, owner: str | None, name: str, sha256: str | None,
                  folder: Path | str, conn: sqlite3.Connection | None = None) -> None:
    """Index one checked upload (its folder holds the manifest and the files)."""
    with opened() if conn is None else nullcontext(conn) as conn:
        conn.execute("INSERT INTO uploads (id, owner, name, sha256, folder, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(folder) DO UPDATE SET "
                     "name = excluded.name, sha256 = excluded.sha256",
                     (upload_id, owner, name, sha256, str(folder), round(time.time(), 3)))


def list_uploads(owner: str | None) -> list[dict]:
    """An owner's uploads that still exist, newest first (rows of removed ones are dropped)."""
    with opened() as conn:
        rows = [dict(r) for r in conn.execute(
            "SELECT * FROM uploads WHERE owner IS ? ORDER BY created_at DESC", (owner,))]
        gone = [r["id"] for r in rows if not Path(r["folder"]).is_dir()]
        conn.executemany("DELETE FROM uploads WHERE id = ?", [(i,) for i in gone])
    return [r for r in rows if r["id"] not in gone]


def recent_work_seconds(limit: int = 10) -> list[float]:
    """Work time (start to finish, queue wait excluded) of the last finished measured runs."""
    with opened() as conn:
        rows = conn.execute("SELECT finished_at - started_at FROM runs WHERE kind = 'run' AND "
                            "status = 'finished' AND cached = 0 AND started_at IS NOT NULL AND "
                            "finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
                            (int(limit),)).fetchall()
    return [float(r[0]) for r in rows if r[0] is not None and r[0] >= 0]


def files_of(path: Path | str) -> list[Path]:
    """The database file and the ``-wal`` / ``-shm`` files SQLite keeps beside it."""
    path = Path(path)
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def set_aside(path: Path | str, label: str = "damaged", stamped: bool = True) -> Path | None:
    """Rename the database (and its ``-wal``/``-shm``) to ``<name>.<label>-<time>`` beside it
    (``<name>.<label>`` when not ``stamped``, replacing an older one): a damaged history is
    kept for inspection, never deleted. Returns the new name of the main file, or None when
    there was no database."""
    path = Path(path)
    if not path.exists():
        return None
    aside = path.with_name(f"{path.name}.{label}" +
                           (time.strftime("-%Y%m%d-%H%M%S") if stamped else ""))
    number = 2
    while stamped and aside.exists():
        aside = path.with_name(f"{path.name}.{label}{time.strftime('-%Y%m%d-%H%M%S')}-{number}")
        number += 1
    for source, target in zip(files_of(path), files_of(aside)):
        if source.exists():
            source.replace(target)
        else:
            target.unlink(missing_ok=True)
    return aside


def checkpoint(path: Path | str) -> None:
    """Fold the ``-wal`` file into the database and close it (a complete single file)."""
    conn = sqlite3.connect(str(path), timeout=10.0, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")   # no -wal/-shm left beside the file
    finally:
        conn.close()
