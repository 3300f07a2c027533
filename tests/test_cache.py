"""The result cache: an identical run returns the stored results at once, marked cached.

The slow test runs digits-cnn (float16) twice through ``python -m optimizer run`` in this
process (the jobs run in their own processes) and prints how long the cached one took; the
others use synthetic history rows and folders.
"""
from __future__ import annotations

import json
import time

import pytest
from run_folders import make_run

from optimizer import paths
from optimizer.artifacts import history, store
from optimizer.cli import main
from optimizer.workspace import cache, index

ARGS = ["run", "--model", "digits-cnn", "--technique", "float16", "--json", "-"]


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(tmp_path)
    return paths.workspace()


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """(first doc, second doc, seconds the second took) in a private workspace."""
    import contextlib
    import io
    import os

    root = tmp_path_factory.mktemp("cache")
    old_ws, old_cwd = os.environ.get("OPTIMIZER_WORKSPACE"), os.getcwd()
    os.environ["OPTIMIZER_WORKSPACE"] = str(root / "ws")
    os.chdir(root)
    try:
        docs, seconds = [], []
        for _ in range(2):
            out = io.StringIO()
            started = time.perf_counter()
            with contextlib.redirect_stdout(out):
                assert main(ARGS) == 0
            seconds.append(time.perf_counter() - started)
            docs.append(json.loads(out.getvalue()))
        rows = index.runs()
        print(f"\nfirst run {seconds[0]:.1f} s, identical run served from the cache in "
              f"{seconds[1]:.2f} s")
        yield docs[0], docs[1], seconds[1], rows
    finally:
        os.chdir(old_cwd)
        if old_ws is None:
            os.environ.pop("OPTIMIZER_WORKSPACE", None)
        else:
            os.environ["OPTIMIZER_WORKSPACE"] = old_ws


@pytest.mark.slow
def test_an_identical_run_is_served_from_the_cache(two_runs):
    first, second, seconds, rows = two_runs
    assert not first.get("cached") and second["cached"] is True
    assert first["run_id"] != second["run_id"]
    assert second["cached_from"]["measured_on"] and second["cached_from"]["measured_at"]
    assert first["run_id"] not in json.dumps(second)          # the source's link stays secret
    sizes = [{r["technique"]: r["size_bytes"] for r in d["results"]} for d in (first, second)]
    assert sizes[0] == sizes[1]
    for r in second["results"]:                               # its own files, downloadable
        assert second["run_dir"] in r["tflite_path"]
        assert store.read_json(r["recipe_path"])["technique"] == r["technique"]


@pytest.mark.slow
def test_history_lists_both_runs_and_which_was_cached(two_runs):
    first, second, _, rows = two_runs
    by_id = {r["id"]: r for r in rows}
    assert by_id[first["run_id"]]["cached"] is False and by_id[second["run_id"]]["cached"]
    assert {r["status"] for r in rows} == {"finished"}


def test_no_cache_never_looks_up(workspace, monkeypatch):
    monkeypatch.setattr(cache, "lookup", lambda *a, **k: pytest.fail("looked up the cache"))
    monkeypatch.setattr("optimizer.runs.orchestrate.execute_run",
                        lambda *a, **k: pytest.fail("measured"), raising=True)
    with pytest.raises(pytest.fail.Exception, match="measured"):
        main(ARGS + ["--no-cache", "--out", "r"])


def _row(folder, key, status, queued_at, owner=None):
    history.upsert_run({**index.row_for(folder), "cache_key": key, "status": status,
                        "queued_at": queued_at})
    return history.find_folder(folder.resolve())


def test_a_later_identical_run_waits_for_the_earlier_one_never_both(workspace, monkeypatch):
    monkeypatch.setattr(cache, "POLL_S", 0.01)
    monkeypatch.setattr(cache, "_usable", lambda row: ["results"])
    early = make_run(workspace / "early", finished=False)
    late = make_run(workspace / "late", finished=False)
    early_row = _row(early, "k", "running", 100.0)
    late_row = _row(late, "k", "running", 200.0)
    with store.RunLock(early), store.RunLock(late):
        assert cache.lookup("k", own=early_row) is None       # the earlier never waits
        calls = []

        def finish_early(*a, **k):                           # the earlier run finishes
            calls.append(1)
            history.upsert_run({**early_row, "status": "finished", "finished_at": 150.0})

        monkeypatch.setattr(cache.time, "sleep", finish_early)
        found = cache.lookup("k", own=late_row)
    assert calls and found is not None and found[0]["id"] == early_row["id"]


def test_a_cached_source_with_missing_files_is_measured_again(workspace):
    folder = make_run(workspace / "gone")            # tflite paths point nowhere
    _row(folder, "k2", "finished", 1.0)
    assert cache.lookup("k2", wait=False) is None


def test_the_key_covers_model_data_specs_settings_and_workspace(workspace):
    from types import SimpleNamespace

    from optimizer.runs.request import RunRequest

    def key(ref, sha="m1", techniques=("float16",), settings=(), data=None):
        bundle = SimpleNamespace(sha256=sha, kind="demo", ref=ref)
        return cache.cache_key(RunRequest(model="digits-cnn", techniques=techniques,
                                          settings=settings, data=data), bundle)

    assert key("digits-cnn") == key("digits-cnn")                      # everyone shares a demo
    assert key("digits-cnn") != key("digits-cnn", sha="m2")
    assert key("digits-cnn") != key("digits-cnn", techniques=("integer",))
    assert key("digits-cnn") != key("digits-cnn", settings=("latency.threads=2",))
    uploads = []
    for owner in ("tok-a", "tok-b"):
        manifest = workspace / "sessions" / owner / "uploads" / "u1" / "upload.json"
        manifest.parent.mkdir(parents=True)
        manifest.write_text("{}")
        uploads.append(key(str(manifest)))
    assert uploads[0] != uploads[1]             # an upload's results stay in its workspace
