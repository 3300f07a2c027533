"""Run folders on disk: atomic JSON, results round trip, recipes, the run lock."""
from __future__ import annotations

import subprocess
import sys
import time

from optimizer.artifacts import store
from optimizer.guide.schema import Result


def test_json_atomic_round_trip_and_missing(tmp_path):
    path = store.write_json_atomic(tmp_path / "a" / "x.json", {"k": [1, 2]})
    assert store.read_json(path) == {"k": [1, 2]}
    assert store.read_json(tmp_path / "nope.json", default="d") == "d"
    (tmp_path / "bad.json").write_text("{half")
    assert store.read_json(tmp_path / "bad.json") is None
    assert not list(path.parent.glob(".*.tmp"))  # no temporary file left behind


def test_results_round_trip_keeps_order_and_fields(tmp_path):
    results = [Result(technique="float32", size_bytes=100, accuracy=0.9, accuracy_delta=0.0),
               Result.failed("qat", "quantization-aware training cannot quantize layer 'x'")]
    doc = store.write_results(tmp_path, "tiny", results, sha256="abc")
    assert doc["model"] == "tiny" and doc["sha256"] == "abc"
    back = store.read_results(tmp_path)
    assert [r.technique for r in back] == ["float32", "qat"]
    assert back[0].size_bytes == 100 and back[1].status == "error"
    assert store.read_results(tmp_path / "empty") == []


def test_recipe_beside_tflite_records_versions_and_time(tmp_path):
    path = store.save_tflite(tmp_path, "pruning+dynamic_range", b"TFL3-bytes")
    assert path == tmp_path / "pruning+dynamic_range" / "model.tflite"
    recipe = store.write_recipe(tmp_path, "pruning+dynamic_range", {"steps": ["a"]})
    assert recipe.parent == path.parent
    data = store.read_json(recipe)
    assert data["technique"] == "pruning+dynamic_range" and data["steps"] == ["a"]
    assert data["libraries"]["numpy"] and "tensorflow" in data["libraries"]
    assert data["created"]


def test_pid_round_trip(tmp_path):
    store.write_pid(tmp_path, 1234)
    assert store.read_pid(tmp_path)["pid"] == 1234
    assert store.read_pid(tmp_path / "none") is None


def test_run_lock_is_held_only_while_the_holder_lives(tmp_path):
    assert not store.RunLock.is_held(tmp_path)
    code = ("import sys, time; from optimizer.artifacts.store import RunLock; "
            f"RunLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(30)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        assert store.RunLock.is_held(tmp_path)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.time() + 5
    while store.RunLock.is_held(tmp_path) and time.time() < deadline:
        time.sleep(0.05)
    assert not store.RunLock.is_held(tmp_path)
    with store.RunLock(tmp_path):
        pass  # re-acquirable once the holder is gone
