"""The mixed and int4 techniques for real on digits-outliers (slow): a plan from a JSON file,
each layer's precision read back from the file, the recipe and the reproduce script that makes
the same file, int4 weights smaller than dynamic range, and the sensitivity pass's report.

One run (``python -m optimizer run`` with ``--set mixed.plan=@FILE``) is made per module.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.cost(150)]
ROOT = Path(__file__).resolve().parents[1]
SPECS = "integer_only,int16x8,mixed,dynamic_range,int4_weights,int4_blockwise"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed")
    (folder / "plan.json").write_text(json.dumps({"layers": {"normalize": "int16"},
                                                  "io": "integer"}))
    done = subprocess.run(
        [sys.executable, "-m", "optimizer", "run", "--model", "digits-outliers", "--technique",
         SPECS, "--set", f"mixed.plan=@{folder / 'plan.json'}", "--out", str(folder / "run"),
         "--no-cache", "--json", "-"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(done.stdout)
    return folder, {r["technique"]: r for r in doc["results"]}


def test_a_plan_from_a_file_gives_the_file_those_precisions(run):
    _, results = run
    mixed, base, int8 = results["mixed"], results["float32"], results["integer_only"]
    assert mixed["status"] == "ok", mixed["error"]
    # read back from the file: the first layer int16, every other layer int8
    assert mixed["layer_precision"] == {"normalize": "int16", "dense": "int8", "dense_1": "int8",
                                        "dense_2": "int8", "dense_3": "int8",
                                        "softmax (output)": "int8"}
    assert mixed["precision_counts"] == {"int8": 5, "int16": 1, "float": 0}
    assert mixed["input_dtype"] == "int16"          # integer I/O: the input follows its layer
    # int8 loses the raw inputs' neighbours; int16 on that one layer keeps the accuracy
    assert base["accuracy"] - int8["accuracy"] > 0.03
    assert base["accuracy"] - mixed["accuracy"] <= 0.01
    assert mixed["size_bytes"] < results["int16x8"]["size_bytes"]
    assert json.loads(mixed["settings"]["mixed"]["plan"])["layers"] == {"normalize": "int16"}
    assert int8["precision_counts"] == {"int8": 6, "int16": 0, "float": 0}
    assert results["int16x8"]["precision_counts"]["int16"] == 6


def test_int4_weights_are_smaller_than_dynamic_range_with_their_accuracy(run):
    _, results = run
    int4, dynamic = results["int4_weights"], results["dynamic_range"]
    assert int4["status"] == "ok" and int4["accuracy"] is not None
    assert int4["size_bytes"] < 0.7 * dynamic["size_bytes"]
    assert abs(results["float32"]["accuracy"] - int4["accuracy"]) <= 0.02
    blockwise = results["int4_blockwise"]
    assert blockwise["status"] == "ok" and blockwise["size_bytes"] < dynamic["size_bytes"]
    assert blockwise["latency_ms_median"] is not None      # LiteRT's CPU kernels run it


def test_the_recipe_and_its_script_reproduce_the_mixed_file(run, tmp_path):
    from optimizer.measuring.precision import layer_precision
    from optimizer.models.demos import get_demo
    from optimizer.report.reproduce import read_recipe, reproduce_from_recipe

    _, results = run
    mixed = results["mixed"]
    recipe = read_recipe(mixed["recipe_path"])
    assert recipe["conversion"]["plan"]["layers"] == {"normalize": "int16"}
    assert any("layer_regex('normalize')" in c for c in recipe["conversion"]["quantizer_calls"])
    assert "mixed.plan=" in recipe["command"]
    demo = get_demo("digits-outliers")
    demo.build_model().save(tmp_path / "model.h5", include_optimizer=False)
    demo.dataset().save_npz(tmp_path / "data.npz")
    (tmp_path / "reproduce.py").write_text(reproduce_from_recipe(recipe))
    done = subprocess.run([sys.executable, "reproduce.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert layer_precision(tmp_path / "model.tflite") == mixed["layer_precision"]


def test_a_plan_naming_a_missing_layer_is_one_line_with_the_models_layers(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "optimizer", "run", "--model", "digits-outliers", "--technique",
         "mixed", "--set", 'mixed.plan={"layers": {"conv9": "int16"}}', "--out",
         str(tmp_path / "run"), "--json", "-"], cwd=ROOT, capture_output=True, text=True,
        timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    mixed = {r["technique"]: r for r in json.loads(done.stdout)["results"]}["mixed"]
    assert mixed["status"] == "error"
    assert "names layer 'conv9'" in mixed["error"] and "normalize, dense" in mixed["error"]


def test_the_sensitivity_pass_measures_each_layer_at_each_precision(tmp_path):
    from optimizer.artifacts.job import SENSITIVITY, JobSpec
    from optimizer.engine.pipeline import run_job
    from optimizer.engine.sensitivity import SENSITIVITY_REPORT, SensitivityTask, write_task

    job = JobSpec(id="job-s", kind=SENSITIVITY, specs=(), model="digits-outliers", data=None,
                  settings=(), run_dir=str(tmp_path), events=str(tmp_path / "events.jsonl"))
    write_task(job, SensitivityTask(precisions=("int16", "float"), samples=300,
                                    latency=False))
    run_job(job)
    report = json.loads((tmp_path / SENSITIVITY_REPORT).read_text())
    assert report["metric"] == "accuracy" and report["samples"] == 300
    assert report["split"] == "the first 300 training samples"
    assert report["float"]["value"] - report["int8"]["value"] > 0.03
    layers = {e["name"]: e for e in report["layers"]}
    assert list(layers)[:2] == ["normalize", "dense"]
    for precision in ("int16", "float"):
        first = layers["normalize"]["choices"][precision]
        assert first["precision_read"] == precision
        assert first["value"] >= report["float"]["value"] - 0.01     # it repairs int8
        assert first["error"] < report["int8"]["error"]
        assert layers["dense_2"]["choices"][precision]["value"] < report["float"]["value"] - 0.03
    assert not (tmp_path / "sensitivity-files").exists()          # the variants are removed
