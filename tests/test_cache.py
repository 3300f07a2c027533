"""The result cache: an identical run returns the stored results at once, marked cached.

The slow test runs digits-cnn (float16) twice through ``python -m optimizer run`` in this
process (the jobs run in their own processes) and prints how long the cached one took; the
others use synthetic history rows and folders.
"""
from __future__ import annotations

import json
import threading
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
    provenance = first["provenance"]                          # what measured them, both times
    assert second["provenance"] == provenance
    assert provenance["node"]["host"] == first["results"][0]["measured_on"]
    assert provenance["packages"]["ai-edge-litert"] and provenance["code"]["sources"]


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


def test_of_two_identical_claims_one_measures_and_the_other_is_served(workspace, monkeypatch):
    monkeypatch.setattr(cache, "POLL_S", 0.01)
    monkeypatch.setattr(cache, "_usable", lambda row: ["results"])
    first = make_run(workspace / "first", finished=False)
    order = []
    with cache.claim("k") as hit:                            # nothing measured: measure
        assert hit is None
        order.append("measuring")

        def second():
            with cache.claim("k") as found:                  # waits for the first
                order.append(("second", found is not None))

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        assert order == ["measuring"]                        # still waiting, not measuring
        _row(first, "k", "finished", 100.0)
    thread.join(10)
    assert order == ["measuring", ("second", True)]          # served, never measured twice


def test_a_failed_identical_run_does_not_block_the_next(workspace, monkeypatch):
    monkeypatch.setattr(cache, "POLL_S", 0.01)
    with cache.claim("k3") as hit:
        assert hit is None                                   # it measures, then fails
    with cache.claim("k3") as hit:
        assert hit is None                                   # the next one measures itself


def test_a_cached_source_with_missing_files_is_measured_again(workspace):
    folder = make_run(workspace / "gone")            # tflite paths point nowhere
    _row(folder, "k2", "finished", 1.0)
    assert cache.lookup("k2") is None


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


# -- the code version, failed results, provenance, identical runs started together ------------

def test_changing_a_library_source_or_a_demo_asset_changes_the_key(workspace, tmp_path,
                                                                   monkeypatch):
    import shutil
    from types import SimpleNamespace

    from optimizer.artifacts import provenance
    from optimizer.runs.request import RunRequest

    copy = tmp_path / "checkout"
    shutil.copytree(paths.REPO_ROOT / "optimizer", copy / "optimizer",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(paths.REPO_ROOT / "assets" / "demos", copy / "assets" / "demos")
    monkeypatch.setattr(provenance, "SOURCE_ROOT", copy)
    bundle = SimpleNamespace(sha256="m1", kind="demo", ref="digits-cnn")
    request = RunRequest(model="digits-cnn", techniques=("float16",))

    def key():
        return cache.cache_key(request, bundle)

    before = key()
    assert key() == before                                    # stable within a process
    converter = copy / "optimizer" / "engine" / "converter.py"
    original = converter.read_bytes()
    converter.write_bytes(original + b"\n# a changed converter\n")
    provenance._code_version.cache_clear()                    # a new process after the edit
    changed = key()
    assert changed != before
    converter.write_bytes(original)
    provenance._code_version.cache_clear()
    assert key() == before                                    # the same code, the same key
    weights = copy / "assets" / "demos" / "digits-cnn.weights.h5"
    weights.write_bytes(weights.read_bytes() + b"\0")
    provenance._code_version.cache_clear()
    assert key() not in (before, changed)                     # a retrained demo too
    monkeypatch.undo()
    provenance._code_version.cache_clear()


def test_the_timing_node_is_in_the_key(workspace):
    from types import SimpleNamespace

    from optimizer.runs.request import RunRequest

    bundle = SimpleNamespace(sha256="m1", kind="demo", ref="digits-cnn")
    request = RunRequest(model="digits-cnn")
    here = cache.cache_key(request, bundle)
    node = {"executor": "ray", "name": "10.0.0.7", "cpu": "Other CPU",
            "host": "Other CPU, 64 logical cores, ai-edge-litert 2.3.0"}
    assert cache.cache_key(request, bundle, executor="ray", node=node) != \
        cache.cache_key(request, bundle, executor="ray")      # the node's CPU, not ours
    assert cache.cache_key(request, bundle, node={**node, "name": "10.0.0.8"}) == \
        cache.cache_key(request, bundle, node=node)            # its CPU counts, not its name
    assert here == cache.cache_key(request, bundle)


def _fake_execute(plan: list, calls: list, hold_s: float = 0.0):
    """An ``execute_run`` writing a finished run whose float16 result is ``plan[n]`` on the
    n-th call: "ok", "error" (e.g. out of memory) or "no-latency"."""
    from optimizer.artifacts.events import EventLog, EventType
    from optimizer.guide.schema import Result
    from optimizer.runs.orchestrate import RunOutcome

    def execute_run(request, run_dir, events=None, json_path=None, fields=None, executor=None,
                    judge=None):
        kind = plan[len(calls)]
        calls.append(run_dir)
        log = EventLog(events)
        log.emit(EventType.RUN_STARTED, model="digits-cnn", techniques=list(request.specs))
        time.sleep(hold_s)
        results = []
        for spec in request.specs:
            path = run_dir / spec / store.TFLITE
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"tflite" * 10)
            if spec == "float16" and kind == "error":
                results.append(Result.failed(spec, "the worker ran out of memory and was "
                                                   "killed", model="digits-cnn"))
                continue
            latency = None if spec == "float16" and kind == "no-latency" else 0.1
            results.append(Result(technique=spec, model="digits-cnn", size_bytes=60,
                                  gzip_bytes=30, accuracy=0.9, accuracy_delta=0.0,
                                  latency_ms_median=latency, tflite_path=str(path),
                                  measured_on="test CPU"))
        for path in {run_dir / store.RESULTS, json_path or run_dir / store.RESULTS}:
            store.write_results(run_dir, "digits-cnn", results, path=path, **(fields or {}))
        for r in results:
            log.emit(EventType.RESULT, r.technique, result=r.to_dict())
        log.emit(EventType.RUN_FINISHED, status="finished")
        return RunOutcome(model="digits-cnn", results=results)

    return execute_run


@pytest.mark.parametrize("failure", ["error", "no-latency"])
def test_a_failed_technique_is_measured_again_on_the_next_identical_run(workspace, monkeypatch,
                                                                       capsys, failure):
    calls = []
    monkeypatch.setattr("optimizer.runs.orchestrate.execute_run",
                        _fake_execute([failure, "ok", "ok"], calls))
    docs = []
    for number in range(3):
        assert main(ARGS + ["--out", f"r{number}"]) == 0
        docs.append(json.loads(capsys.readouterr().out))
    assert len(calls) == 2                      # the failed run was not served; the sound one was
    assert [bool(d.get("cached")) for d in docs] == [False, False, True]
    f16 = [{r["technique"]: r for r in d["results"]}["float16"] for d in docs]
    assert f16[1]["status"] == f16[2]["status"] == "ok" and f16[2]["latency_ms_median"] == 0.1


def test_a_run_carries_its_provenance_and_a_cached_one_its_sources(workspace, monkeypatch,
                                                                   capsys):
    from optimizer.artifacts.provenance import code_version

    calls = []
    monkeypatch.setattr("optimizer.runs.orchestrate.execute_run",
                        _fake_execute(["ok", "ok"], calls))
    assert main(ARGS + ["--out", "measured"]) == 0
    measured = json.loads(capsys.readouterr().out)
    prov = measured["provenance"]
    assert set(prov) == {"code", "packages", "machine", "node"}
    assert prov["code"] == code_version() and len(prov["code"]["sources"]) == 64
    assert prov["packages"] == store.library_versions()
    assert prov["node"]["executor"] == "local" and prov["node"]["host"] == prov["machine"]["host"]
    assert main(ARGS + ["--out", "served"]) == 0
    served = json.loads(capsys.readouterr().out)
    assert served["cached"] is True and served["provenance"] == prov
    assert main(["show", served["run_id"], "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["provenance"] == prov


def test_two_identical_command_line_runs_started_together_compute_once(workspace, monkeypatch):
    calls, outcomes = [], {}
    monkeypatch.setattr(cache, "POLL_S", 0.05)
    monkeypatch.setattr("optimizer.runs.orchestrate.execute_run",
                        _fake_execute(["ok", "ok"], calls, hold_s=1.0))
    start = threading.Barrier(2)

    def cli(name):
        start.wait()
        outcomes[name] = main(["run", "--model", "digits-cnn", "--technique", "float16",
                               "--out", name, "--json", f"{name}.json"])

    threads = [threading.Thread(target=cli, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    try:
        deadline, rows = time.time() + 30, {}
        while (len(calls) < 1 or len(rows) < 2) and time.time() < deadline:
            time.sleep(0.01)                              # one is measuring, both are recorded
            rows = {r["folder"]: r for r in history.list_rows()}
    finally:                                              # never leave a run writing after us
        for thread in threads:
            thread.join(60)
    assert len(calls) >= 1 and all(r["queued_at"] for r in rows.values())  # queued at the start
    assert len(rows) == 2 and not {r["status"] for r in rows.values()} & set(history.FINAL)
    assert outcomes == {"a": 0, "b": 0}
    assert len(calls) == 1                                 # ...and the other shared its results
    docs = [store.read_json(workspace.parent / f"{n}.json") for n in ("a", "b")]
    assert sorted(bool(d.get("cached")) for d in docs) == [False, True]
    assert {r["status"] for r in index.runs()} == {"finished"}


def test_the_run_page_is_offered_only_a_sound_cached_result(workspace, monkeypatch):
    from optimizer.runs.request import RunRequest

    request = RunRequest(model="digits-cnn", techniques=("float16",))
    calls = []
    monkeypatch.setattr("optimizer.runs.orchestrate.execute_run",
                        _fake_execute(["error", "ok"], calls))
    assert cache.cached_result(request) is None                    # nothing measured yet
    assert main(ARGS + ["--out", "failed"]) == 0
    assert cache.cached_result(request) is None                    # a failed run is no offer
    assert main(ARGS + ["--out", "sound"]) == 0
    offer = cache.cached_result(request)
    sound = store.read_json(workspace.parent / "sound" / store.RESULTS)
    assert offer["cache_key"] == sound["cache_key"] and offer["measured_on"] == "test CPU"
    assert cache.cached_result(request, executor="ray") is None   # a cluster's node is unknown
