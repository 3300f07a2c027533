"""The run history: SQLite in the workspace (WAL, versioned, migrated), rebuilt from the run
folders; ``history`` and ``show`` on the command line. Synthetic folders, no TensorFlow."""
from __future__ import annotations

import json
import sqlite3

import pytest
from run_folders import make_run

from optimizer import paths
from optimizer.artifacts import history, space, store
from optimizer.cli import main
from optimizer.workspace import index
from optimizer.workspace.rebuild import rebuild


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(tmp_path)
    return paths.workspace()


def _session_run(workspace, owner, name, **kw):
    return make_run(workspace / "sessions" / owner / "runs" / name, **kw)


def test_a_new_database_is_wal_and_at_the_current_schema(workspace):
    with history.connect() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION


def test_an_older_database_is_migrated_on_open(workspace):
    conn = sqlite3.connect(history.db_path())
    conn.executescript(history.MIGRATIONS[0] + ";PRAGMA user_version = 1;")
    conn.execute("INSERT INTO runs (id, kind, status, folder) VALUES ('old', 'run', "
                 "'finished', '/x')")
    conn.commit()
    conn.close()
    row = history.get_run("old")
    assert row["status"] == "finished" and row["cached"] is False     # the new column exists
    with history.connect() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION


def test_a_damaged_or_newer_database_says_how_to_rebuild(workspace):
    history.db_path().write_bytes(b"this is not a database" * 100)
    with pytest.raises(ValueError, match="history --rebuild"):
        history.connect()
    history.db_path().unlink()
    conn = sqlite3.connect(history.db_path())
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ValueError, match="newer version"):
        history.connect()


def test_record_list_rebuild_and_delete(workspace):
    mine = _session_run(workspace, "tok-a", "20261201-100000-aaaa")
    theirs = _session_run(workspace, "tok-b", "20261201-100001-bbbb")
    assert index.record(mine) == mine.name
    index.record(theirs)
    rows = index.runs("tok-a")
    assert [r["id"] for r in rows] == [mine.name]
    row = rows[0]
    assert row["status"] == "finished" and row["model"] == "digits-cnn"
    assert row["techniques"] == ["float32", "float16"]
    assert row["best"]["technique"] == "float16" and row["best"]["x_smaller"] == 2.0
    assert row["queued_at"] <= row["started_at"] <= row["finished_at"]
    public = index.public_row(row)
    assert set(public) == set(index.PUBLIC_KEYS) and "folder" not in public

    history.db_path().unlink()                     # the folders are the record
    for suffix in ("-wal", "-shm"):
        history.db_path().with_name(history.DB_NAME + suffix).unlink(missing_ok=True)
    assert rebuild().count == 2
    assert {r["id"] for r in index.runs()} == {mine.name, theirs.name}

    with pytest.raises(ValueError, match="another workspace"):
        index.delete_run(theirs.name, "tok-a")
    assert index.delete_run(mine.name, "tok-a") and not mine.exists()
    assert [r["id"] for r in index.runs()] == [theirs.name]


def test_a_live_run_is_reread_when_listed(workspace):
    folder = _session_run(workspace, "tok-a", "r-live", finished=False)
    store.write_pid(folder, 1)
    with store.RunLock(folder):                        # the run's process holds its lock
        index.record(folder)
        assert index.runs()[0]["status"] == "running"
    assert index.runs()[0]["status"] == "failed"      # it went without finishing: re-read


def test_history_and_show_on_the_command_line(workspace, capsys):
    folder = _session_run(workspace, "tok-a", "20261201-r1")
    index.record(folder)
    assert main(["history", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in doc["runs"]] == ["20261201-r1"]
    assert set(doc["runs"][0]) == set(index.PUBLIC_KEYS)

    assert main(["show", "20261201-r1", "--json", "-"]) == 0
    shown = json.loads(capsys.readouterr().out)
    stored = store.read_json(folder / store.RESULTS)
    assert {k: shown[k] for k in stored} == stored and shown["run_id"] == "20261201-r1"
    # judged now, by the goals the run was made for (none here: the default 1-point budget)
    assert shown["verdict"]["judged_by"].startswith("judged by the default goals")
    assert set(shown) - set(stored) == {"run_id", "status", "insights", "checks", "verdict"}

    (folder / store.RESULTS).write_text('{"model": "digits-cnn", "results": [{"tech')
    assert main(["show", "20261201-r1", "--json", "-"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert "truncated" in shown["damaged"] and shown["status"] == "finished"
    assert [r["technique"] for r in shown["results"]] == ["float32", "float16"]

    assert main(["show", "no-such-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no run with id") and err.count("\n") == 1

    assert main(["history", "--rebuild"]) == 0
    assert "1 run(s)" in capsys.readouterr().out


def test_uploads_are_indexed_by_the_users_file_name(workspace):
    kept, gone = workspace / "up1", workspace / "up2"
    kept.mkdir()
    gone.mkdir()
    history.record_upload("up1", "tok-a", "my model.h5", "abc", kept)
    history.record_upload("up2", "tok-a", "old.h5", "def", gone)
    history.record_upload("up3", "tok-b", "theirs.h5", "ghi", kept / "x")
    gone.rmdir()
    assert [u["name"] for u in history.list_uploads("tok-a")] == ["my model.h5"]


def test_a_search_is_listed_and_shown_with_its_run_id(workspace, capsys):
    from optimizer.search.request import SearchRequest

    folder = workspace / "sessions" / "tok-a" / "searches" / "s1"
    folder.mkdir(parents=True)
    store.write_json_atomic(folder / "search.json", SearchRequest(model="digits-cnn").to_dict())
    store.write_json_atomic(folder / "outcome.json", {"status": "finished", "trials": [],
                                                      "best": None})
    assert index.record(folder) == "s1"
    assert index.public_row(index.runs("tok-a")[0])["kind"] == "search"
    assert main(["show", "s1"]) == 0
    assert json.loads(capsys.readouterr().out) == {"status": "finished", "trials": [],
                                                    "best": None, "run_id": "s1"}
    (folder / "outcome.json").write_text("[1]")                     # damaged: no crash
    assert main(["show", "s1"]) == 0 and json.loads(capsys.readouterr().out)["run_id"] == "s1"


# -- faults: the history survives a full disk and a corrupt database -----------------------------

def _runs_everywhere(workspace, tmp_path):
    """A browser workspace's run and a command-line run made with --out outside the
    workspace from another current folder; both recorded. Returns their ids."""
    import os

    mine = _session_run(workspace, "tok-a", "20261201-100000-aaaa")
    index.record(mine)
    elsewhere = tmp_path / "projects" / "cli-run"
    make_run(elsewhere)
    old = os.getcwd()
    os.chdir(tmp_path / "projects")
    try:
        index.record(elsewhere)                     # `run --out cli-run` from that folder
    finally:
        os.chdir(old)
    return {mine.name, elsewhere.name}


def _listed() -> set:
    return {r["id"] for r in index.runs()}


def test_a_corrupt_database_is_set_aside_and_every_run_is_found_from_any_folder(
        workspace, tmp_path, monkeypatch, capsys):
    ids = _runs_everywhere(workspace, tmp_path)
    db = history.db_path()
    history.checkpoint(db)
    damaged = b"SQLite format 3\0" + b"\x13" * 5000            # a header, then garbage
    db.write_bytes(damaged)
    with pytest.raises(ValueError, match="is damaged .*history --rebuild"):
        index.runs()
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)                                # neither ./out nor the runs
    assert main(["history", "--rebuild"]) == 0
    out = capsys.readouterr().out
    assert "2 run(s)" in out and "history.sqlite3.damaged-" in out
    assert _listed() == ids
    aside = list(workspace.glob("history.sqlite3.damaged-*"))
    assert [p.read_bytes() for p in aside if not p.name.endswith(("-wal", "-shm"))] == [damaged]


def _dump() -> list:
    """Every row of the database file as SQL (read without changing it)."""
    conn = sqlite3.connect(f"file:{history.db_path()}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _full_disk(kind: str):
    import errno

    if kind == "sqlite":
        return sqlite3.OperationalError("database or disk is full")
    return OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("kind", ["sqlite", "oserror"])
def test_a_full_disk_during_rebuild_keeps_the_old_database_and_names_the_disk(
        workspace, tmp_path, monkeypatch, capsys, kind):
    ids = _runs_everywhere(workspace, tmp_path)
    before = _dump()
    real = history.upsert_run
    written = []

    def filling(row, conn=None):                    # the disk fills after the first row
        if conn is not None and written:
            raise _full_disk(kind)
        written.append(row["folder"])
        return real(row, conn=conn)

    monkeypatch.chdir(tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(history, "upsert_run", filling)
        assert main(["history", "--rebuild"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no space left on the server's disk /") and err.count("\n") == 1
    assert "kept as it was" in err and "damaged" not in err
    assert _dump() == before                                     # untouched, not emptied
    assert not list(workspace.glob("history.sqlite3.*"))         # no half-written file left
    assert _listed() == ids                                     # every run still listed
    assert rebuild().count == 2 and _listed() == ids           # and once there is space again


def test_a_full_disk_with_a_corrupt_database_deletes_nothing(workspace, tmp_path, monkeypatch):
    ids = _runs_everywhere(workspace, tmp_path)
    history.checkpoint(history.db_path())
    history.db_path().write_bytes(b"not a database" * 300)

    def full(*args, **kwargs):
        raise _full_disk("sqlite")

    with monkeypatch.context() as patch:
        patch.setattr(history, "checkpoint", full)
        with pytest.raises(space.NoSpace, match="the run history was not rebuilt"):
            rebuild()
    assert history.db_path().read_bytes() == b"not a database" * 300
    assert rebuild().count == 2 and _listed() == ids


def test_a_full_disk_is_named_as_a_full_disk_not_damage(workspace, monkeypatch):
    error = history.explain(sqlite3.OperationalError("database or disk is full"))
    assert isinstance(error, space.NoSpace) and "no space left" in str(error)
    io_error = sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(space, "free_bytes", lambda path: 1024)        # a full disk
    error = history.explain(io_error)
    assert isinstance(error, space.NoSpace) and "damaged" not in str(error)
    monkeypatch.setattr(space, "free_bytes", lambda path: 10 ** 12)    # room enough
    error = history.explain(io_error)
    assert "could not be read or written (disk I/O error)" in str(error)
    assert "damaged" not in str(error) and not isinstance(error, history.HistoryDamaged)
    assert isinstance(history.explain(sqlite3.DatabaseError("file is not a database")),
                      history.HistoryDamaged)


def test_the_journal_lists_every_folder_once_and_survives_a_cut_line(workspace, tmp_path):
    from optimizer.workspace import journal

    ids = _runs_everywhere(workspace, tmp_path)
    index.record(workspace / "sessions" / "tok-a" / "runs" / "20261201-100000-aaaa")   # again
    folders = journal.folders()
    assert {p.name for p in folders} == ids and len(folders) == 2
    with open(journal.journal_path(), "a") as f:
        f.write('{"t": 1, "kind": "run", "fold')                 # a writer cut mid-line
    assert journal.folders() == folders


def test_history_lists_newest_first_live_runs_included(workspace):
    folders = {name: _session_run(workspace, "tok-a", name, finished=name == "middle")
               for name in ("old", "middle", "new")}
    locks = [store.RunLock(folders[n]).acquire() for n in ("old", "new")]   # both still live
    for name, queued in (("old", 100.0), ("middle", 150.0), ("new", 200.0)):
        index.record(folders[name], queued_at=queued)
    try:
        rows = index.runs()
        assert [r["id"] for r in rows] == ["new", "middle", "old"]
        assert [r["status"] for r in rows] == ["running", "finished", "running"]
    finally:
        for lock in locks:
            lock.release()
    index.record(folders["old"], queued_at=999.0)               # queued_at is kept once set
    assert [r["id"] for r in index.runs()] == ["new", "middle", "old"]


def test_a_newer_database_is_kept_aside_for_its_version(workspace, tmp_path):
    ids = _runs_everywhere(workspace, tmp_path)
    conn = sqlite3.connect(history.db_path())
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    report = rebuild()
    assert report.count == 2 and report.set_aside_unusable and ".newer-" in report.aside.name
    assert _listed() == ids
    report = rebuild()                                          # a sound one: kept as previous
    assert report.aside.name == "history.sqlite3.previous" and not report.set_aside_unusable
