"""The run history: an embedded SQLite database in the workspace that indexes every run,
search and upload.

The run folders stay the artifact store (``optimizer.artifacts.store``); this database is an
index over them that ``rebuild`` can always recreate from the folders alone (``python -m
optimizer history --rebuild``). One row per run or search: id, kind, owner (the workspace
token of the browser that started it, None from the command line), model (demo name or the
upload's file name, never a server path), techniques, settings, status, times, the best
result, the folder, and whether its results were served from the cache.

WAL mode lets the app read while a run writes; ``PRAGMA user_version`` holds the schema
version and ``connect`` migrates an older database on open. Nothing here knows how a run
folder is read: callers (``optimizer.runs.index``) pass rows. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from optimizer import paths

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
#: Columns an update without a value keeps (set once when the run is claimed).
_KEPT = ("cache_key", "owner", "queued_at")


def db_path() -> Path:
    """``<workspace>/history.sqlite3``."""
    return paths.workspace() / DB_NAME


def connect(path: Path | str | None = None) -> sqlite3.Connection:
    """Open the database (WAL, waits up to 10 s for a writer) and migrate it to the current
    schema. A file that is not a database raises ``ValueError`` naming the fix."""
    conn = sqlite3.connect(str(path or db_path()), timeout=10.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ValueError(f"the run history {Path(path or db_path()).name} is damaged ({exc}); "
                         f"rebuild it from the run folders: python -m optimizer history "
                         f"--rebuild") from None
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations the database lacks (in one transaction); return the version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise ValueError(f"the run history was written by a newer version (schema {version}); "
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
    own = conn is None
    conn = conn or connect()
    try:
        folder = str(row["folder"])
        existing = conn.execute("SELECT id FROM runs WHERE folder = ?", (folder,)).fetchone()
        run_id = existing["id"] if existing else _unique_id(conn, str(row["id"]), folder)
        data = _encode({**row, "id": run_id, "folder": folder})
        columns = ", ".join(RUN_COLUMNS)
        marks = ", ".join(f":{c}" for c in RUN_COLUMNS)
        updates = ", ".join(f"{c} = COALESCE(excluded.{c}, runs.{c})" if c in _KEPT else
                            f"{c} = excluded.{c}" for c in RUN_COLUMNS if c != "id")
        conn.execute(f"INSERT INTO runs ({columns}) VALUES ({marks}) "
                     f"ON CONFLICT(folder) DO UPDATE SET {updates}", data)
        return run_id
    finally:
        if own:
            conn.close()


def get_run(run_id: str) -> dict | None:
    """The row of one run or search by id, or None."""
    with closing(connect()) as conn:
        row = conn.execute("SELECT * FROM runs WHERE id = ?", (str(run_id),)).fetchone()
    return _decode(row) if row else None


def find_cached(cache_key: str) -> dict | None:
    """The newest finished, measured (not itself cached) run with this cache key, or None."""
    with closing(connect()) as conn:
        row = conn.execute("SELECT * FROM runs WHERE cache_key = ? AND status = 'finished' "
                           "AND cached = 0 ORDER BY finished_at DESC LIMIT 1",
                           (cache_key,)).fetchone()
    return _decode(row) if row else None


def find_folder(folder: Path | str) -> dict | None:
    """The row indexing ``folder``, or None."""
    with closing(connect()) as conn:
        row = conn.execute("SELECT * FROM runs WHERE folder = ?", (str(folder),)).fetchone()
    return _decode(row) if row else None


def rows_with_key(cache_key: str) -> list[dict]:
    """Every row with this cache key (finished or not), oldest first."""
    with closing(connect()) as conn:
        rows = conn.execute("SELECT * FROM runs WHERE cache_key = ? ORDER BY queued_at",
                            (cache_key,)).fetchall()
    return [_decode(r) for r in rows]


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
    with closing(connect()) as conn:
        return [_decode(r) for r in conn.execute(sql, args).fetchall()]


def delete_run(run_id: str) -> bool:
    """Remove one row (the caller removes the folder). True if there was one."""
    with closing(connect()) as conn:
        return conn.execute("DELETE FROM runs WHERE id = ?", (str(run_id),)).rowcount > 0


def record_upload(upload_id: str, owner: str | None, name: str, sha256: str | None,
                  folder: Path | str) -> None:
    """Index one checked upload (its folder holds the manifest and the files)."""
    with closing(connect()) as conn:
        conn.execute("INSERT INTO uploads (id, owner, name, sha256, folder, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(folder) DO UPDATE SET "
                     "name = excluded.name, sha256 = excluded.sha256",
                     (upload_id, owner, name, sha256, str(folder), round(time.time(), 3)))


def list_uploads(owner: str | None) -> list[dict]:
    """An owner's uploads that still exist, newest first (rows of removed ones are dropped)."""
    with closing(connect()) as conn:
        rows = [dict(r) for r in conn.execute(
            "SELECT * FROM uploads WHERE owner IS ? ORDER BY created_at DESC", (owner,))]
        gone = [r["id"] for r in rows if not Path(r["folder"]).is_dir()]
        conn.executemany("DELETE FROM uploads WHERE id = ?", [(i,) for i in gone])
    return [r for r in rows if r["id"] not in gone]


def clear() -> None:
    """Empty every table (``rebuild`` refills them from the folders)."""
    with closing(connect()) as conn:
        conn.execute("DELETE FROM runs")
        conn.execute("DELETE FROM uploads")



def recent_work_seconds(limit: int = 10) -> list[float]:
    """Work time (start to finish, queue wait excluded) of the last finished measured runs."""
    with closing(connect()) as conn:
        rows = conn.execute("SELECT finished_at - started_at FROM runs WHERE kind = 'run' AND "
                            "status = 'finished' AND cached = 0 AND started_at IS NOT NULL AND "
                            "finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
                            (int(limit),)).fetchall()
    return [float(r[0]) for r in rows if r[0] is not None and r[0] >= 0]
