"""The run history: SQLite in the workspace (WAL, versioned, migrated), rebuilt from the run
folders; ``history`` and ``show`` on the command line. Synthetic folders, no TensorFlow."""
from __future__ import annotations

import json
import sqlite3

import pytest
from run_folders import make_run

from optimizer import paths
from optimizer.artifacts import history, store
from optimizer.cli import main
from optimizer.workspace import index


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
    assert index.rebuild() == 2
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
    assert set(shown) - set(stored) == {"run_id", "insights", "checks", "verdict"}

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
