"""``python -m optimizer run`` end to end on a tiny saved model: every technique, honest numbers.

One run of the whole technique matrix (1 fine-tune epoch) is shared by the assertions below;
the bounds are structural (float16 about half, int8 about a quarter to a third, pruning and
clustering only smaller after gzip), not timings.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.artifacts import store
from optimizer.artifacts.events import read_events
from optimizer.paths import file_sha256

pytestmark = pytest.mark.cost(200)

TECHNIQUES = ["float16", "dynamic_range", "integer", "integer_only", "int16x8", "qat", "pruning",
              "clustering", "pqat", "cqat", "pcqat", "pruning+dynamic_range",
              "clustering+integer", "pruning+clustering"]
INT8_FILES = ["dynamic_range", "integer", "integer_only", "int16x8", "qat", "pqat", "cqat",
              "pcqat", "pruning+dynamic_range", "clustering+integer"]
REQUIRED = ["technique", "status", "error", "size_bytes", "gzip_bytes", "accuracy",
            "accuracy_delta", "latency_ms_median", "latency_ms_p10", "latency_ms_p90",
            "input_dtype", "output_dtype", "engine", "tflite_path", "sparsity",
            "max_unique_weights_per_channel"]


def _cli(*args, timeout=1100):
    return subprocess.run([sys.executable, "-m", "optimizer", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory, tiny_model, tiny_dataset):
    folder = tmp_path_factory.mktemp("tiny-files")
    tiny_model.save(folder / "tiny.h5")
    tiny_dataset.save_npz(folder / "tiny.npz")
    return str(folder / "tiny.h5"), str(folder / "tiny.npz")


@pytest.fixture(scope="module")
def matrix(tiny_files, tmp_path_factory):
    model, data = tiny_files
    out = tmp_path_factory.mktemp("matrix") / "run"
    args = ["run", "--model", model, "--data", data, "--set", "finetune.epochs=1",
            "--out", str(out), "--json", "-"]
    for spec in TECHNIQUES:
        args += ["--technique", spec]
    proc = _cli(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    return doc, {r["technique"]: r for r in doc["results"]}, out


@pytest.mark.slow
def test_every_technique_ok_with_the_required_keys(matrix):
    doc, by, _ = matrix
    assert doc["model"] == "tiny"
    assert [r["technique"] for r in doc["results"]] == ["float32"] + TECHNIQUES
    for spec, r in by.items():
        assert r["status"] == "ok", (spec, r["error"])
        assert set(REQUIRED) <= set(r)
        assert r["error"] is None and r["engine"] == "tflite-converter"


@pytest.mark.slow
def test_sizes_are_honest(matrix):
    _, by, _ = matrix
    base = by["float32"]
    assert 0.4 < by["float16"]["size_bytes"] / base["size_bytes"] < 0.6
    for spec in INT8_FILES:
        assert 0.2 < by[spec]["size_bytes"] / base["size_bytes"] < 0.4, spec
    for spec in ("pruning", "clustering", "pruning+clustering"):
        # Same float bytes on disk; the gain only shows compressed.
        assert by[spec]["size_bytes"] == pytest.approx(base["size_bytes"], rel=0.02), spec
        assert by[spec]["gzip_bytes"] < 0.7 * base["gzip_bytes"], spec
    for r in by.values():
        assert r["gzip_bytes"] < r["size_bytes"]


@pytest.mark.slow
def test_dtypes_sparsity_and_unique_weights(matrix):
    _, by, _ = matrix
    assert by["integer_only"]["input_dtype"] == "int8"
    assert by["integer_only"]["output_dtype"] == "int8"
    for spec in ("float32", "float16", "dynamic_range", "integer", "int16x8", "qat"):
        assert by[spec]["input_dtype"] == "float32", spec
    assert by["float32"]["sparsity"] < 0.05
    for spec in ("pruning", "pruning+dynamic_range", "pqat", "pruning+clustering", "pcqat"):
        assert 0.4 <= by[spec]["sparsity"] <= 0.6, (spec, by[spec]["sparsity"])
    assert by["float32"]["max_unique_weights_per_channel"] > 16
    for spec in ("clustering", "clustering+integer", "cqat", "pruning+clustering", "pcqat"):
        assert by[spec]["max_unique_weights_per_channel"] <= 16, spec


@pytest.mark.slow
def test_accuracy_and_delta_against_the_baseline(matrix):
    import numpy as np

    from optimizer.artifacts import predictions

    _, by, out = matrix
    base = by["float32"]["accuracy"]
    assert base > 0.8 and by["float32"]["accuracy_delta"]["value"] == 0.0
    truth = np.load(out / "float32" / predictions.TRUTH)
    for spec, r in by.items():
        assert r["metric"] == "accuracy" and r["samples"] == len(truth)
        delta = r["accuracy_delta"]
        assert delta["value"] == pytest.approx(r["accuracy"] - base, abs=1e-9), spec
        # the interval brackets the accuracy; the change's interval brackets the change
        low, high = r["accuracy_ci"]
        assert low <= r["accuracy"] <= high and 0 <= low and high <= 1, spec
        assert delta["ci"][0] <= delta["value"] <= delta["ci"][1] and 0 < delta["p_value"] <= 1
        # the kept predictions are the measurement: they give the same accuracy and test
        kept = np.load(out / spec / predictions.PREDICTIONS)
        assert kept.shape == (len(truth),) and np.mean(kept == truth) == pytest.approx(
            r["accuracy"], abs=1e-12)
        base_kept = np.load(out / "float32" / predictions.PREDICTIONS)
        assert (delta["worse"], delta["better"]) == (
            int(np.sum((base_kept == truth) & (kept != truth))),
            int(np.sum((base_kept != truth) & (kept == truth))))
    for spec in ("float16", "dynamic_range", "integer", "integer_only", "int16x8"):
        assert abs(by[spec]["accuracy_delta"]["value"]) <= 0.03, spec


@pytest.mark.slow
def test_latency_pipeline_and_timings_are_filled(matrix):
    _, by, _ = matrix
    for spec, r in by.items():
        assert 0 < r["latency_ms_p10"] <= r["latency_ms_median"] <= r["latency_ms_p90"], spec
        assert r["latency_threads"] >= 1 and r["latency_invokes"] >= 1 and r["measured_on"]
        assert r["convert_seconds"] > 0 and r["eval_seconds"] >= 0 and r["prep_seconds"] >= 0
        assert r["pipeline"] and r["pipeline"][-1].startswith("convert to")
    shared = "one fine-tuned model shared by pruning, pruning+dynamic_range"
    assert shared in by["pruning"]["pipeline"] and shared in by["pruning+dynamic_range"]["pipeline"]
    assert any("frozen once" in step for step in by["float16"]["pipeline"])
    assert "int16" in (by["int16x8"]["latency_note"] or "")
    assert by["pruning"]["settings"]["pruning"]["sparsity"] == 0.5
    assert by["pcqat"]["settings"]["finetune"]["qat"]["epochs"] == 1


@pytest.mark.slow
def test_files_recipes_and_events(matrix, tiny_files):
    _, by, out = matrix
    for spec, r in by.items():
        tflite = out / spec / "model.tflite"
        assert r["tflite_path"] == str(tflite) and tflite.stat().st_size == r["size_bytes"]
        recipe = json.loads((out / spec / "recipe.json").read_text())
        assert recipe["technique"] == spec and recipe["model"]["sha256"]
        # the run measures the checked copies in <out>/upload; the recipe names the originals
        assert recipe["data"] == str(out / "upload" / "data.npz")
        assert recipe["model"]["ref"] == str(out / "upload" / "upload.json")
        assert recipe["uploaded"] == {"model": Path(tiny_files[0]).name, "flavor": "tf_keras",
                                      "sha256": file_sha256(tiny_files[0]),
                                      "data": Path(tiny_files[1]).name}
        assert recipe["steps"] == r["pipeline"]
        assert recipe["libraries"]["tensorflow"] and recipe["created"]
        assert f"--technique {shlex.quote(spec)}" in recipe["command"]
    assert json.loads((out / "results.json").read_text())["results"][0]["technique"] == "float32"
    events = read_events(out / "events.jsonl")
    finished = {e["technique"] for e in events if e["type"] == "result"}
    assert finished == set(by)
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "finished"


@pytest.mark.slow
def test_reproduce_scripts_are_written_from_each_recipe(matrix):
    """Every form's script carries the run's fine-tuning (the finetune.epochs=1 override, not
    the default 2) and the loss it fine-tuned with; it compiles."""
    from optimizer.report.reproduce import read_recipe, reproduce_from_recipe

    _, by, out = matrix
    for spec, r in by.items():
        recipe = read_recipe(out / spec / "recipe.json")
        script = reproduce_from_recipe(recipe)
        compile(script, f"reproduce_{spec}.py", "exec")
        if r["pipeline"] and any(step.startswith("fine-tune") for step in r["pipeline"]):
            assert set(recipe["loss"].values()) == {"sparse_categorical_crossentropy"}, spec
            assert "LOSS = keras.losses.SparseCategoricalCrossentropy()" in script, spec
            assert "fine_tune(model, epochs=1, learning_rate=0.0001, batch_size=32" in script
            assert "epochs=2" not in script, spec
        else:
            assert "fine_tune(" not in script and recipe["loss"] == {}, spec


@pytest.mark.slow
def test_recipe_command_reruns_and_prints_a_table(matrix, tmp_path):
    _, by, out = matrix
    command = json.loads((out / "float16" / "recipe.json").read_text())["command"]
    args = shlex.split(command)
    assert args[:4] == ["python", "-m", "optimizer", "run"]
    args = [a for a in args[4:]]
    args = args[:args.index("--json")] + ["--out", str(tmp_path / "again")]
    proc = _cli("run", *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "float16" in proc.stdout and "files in" in proc.stdout
    again = {r.technique: r for r in store.read_results(tmp_path / "again")}
    assert again["float16"].ok
    assert again["float16"].size_bytes == by["float16"]["size_bytes"]


@pytest.mark.parametrize("args, fragment", [
    (["--model", "no-such-model", "--technique", "float16"], "unknown model"),
    (["--model", "digits-cnn", "--technique", "bogus"], "unknown technique"),
    (["--model", "digits-cnn", "--set", "pruning.sparsity=7"], "pruning.sparsity"),
    (["--model", "digits-cnn", "--set", "speed=fast"], "unknown setting"),
    (["--model", "/nope/model.h5", "--data", "/nope/d.npz"], "not found"),
])
def test_unusable_input_is_one_line_and_non_zero(args, fragment, tmp_path):
    proc = _cli("run", *args, "--out", str(tmp_path / "x"), "--json", "-", timeout=120)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


@pytest.mark.slow
def test_json_insights_only_claim_what_was_measured(matrix):
    """The issue's check on real measurements: guide_contradicted exactly when QAT lost more
    than the best post-training variant; faster/slower only without overlapping intervals;
    results.json carries the same list as --json."""
    from insight_numbers import check

    from optimizer import Result
    from optimizer.artifacts.predictions import paired
    from optimizer.report.insights import Insight
    from optimizer.report.verdict import evaluate_run

    doc, by, out = matrix
    kinds = [(i["kind"], i["technique"]) for i in doc["insights"]]
    assert all({"kind", "technique", "message", "params"} <= set(i) for i in doc["insights"])
    # guide_contradicted on accuracy exactly when QAT lost more than the best post-training
    # variant and the paired test on the same test samples says so (p < 0.05)
    results = {t: Result.from_dict(r) for t, r in by.items()}
    ptq = [t for t in ("float16", "dynamic_range", "integer", "integer_only", "int16x8")]
    best = max(ptq, key=lambda t: (by[t]["accuracy_delta"]["value"], -by[t]["size_bytes"]))
    lost_more = by["qat"]["accuracy_delta"]["value"] < by[best]["accuracy_delta"]["value"] - 1e-9
    test = paired(results["qat"], results[best], results["float32"])
    contradicted = [i for i in doc["insights"] if i["kind"] == "guide_contradicted"
                    and i["technique"] == "qat" and i["params"]["about"] == "accuracy"]
    assert bool(contradicted) == (lost_more and test.p_value < 0.05)
    assert bool([i for i in doc["insights"] if i["kind"] == "within_noise"
                 and i["technique"] == "qat"]) == (lost_more and test.p_value >= 0.05)
    for item in contradicted:
        assert item["params"]["p_value"] == pytest.approx(test.p_value)
    # every figure of every sentence is its named result's own, in the named order
    assert check([Insight.from_dict(i) for i in doc["insights"]], results.values()) > 10
    assert ("mixed_nodes", None) not in kinds
    base = by["float32"]
    for item in doc["insights"]:
        if item["kind"] in ("faster", "slower"):
            r = by[item["technique"]]
            assert r["latency_ms_p90"] < base["latency_ms_p10"] or \
                r["latency_ms_p10"] > base["latency_ms_p90"], item
    on_disk = json.loads((out / "results.json").read_text())["insights"]
    assert on_disk == doc["insights"]
    # the app's evaluation of the same results (no goals recorded: the default goals)
    verdict = evaluate_run(list(results.values()))
    assert [n.to_dict() for n in verdict.insights] == doc["insights"]
    assert doc["verdict"]["judged_by"].startswith("judged by the default goals")


@pytest.mark.slow
def test_goal_flags_land_in_the_request_and_judge_as_the_app_does(tmp_path):
    """``run --target edgetpu --max-accuracy-drop 0.01`` records the answers and goals in
    request.json, and its verdicts and insights are the app's for the same answers and goals;
    ``run --request FILE`` reads a request file whole (here served from the cache, since the
    goals only judge) and judges by the file's goals."""
    from optimizer import Answers, Result
    from optimizer.report.verdict import evaluate_run
    from pages.common.questions import goals_from_form

    out = tmp_path / "flags"
    proc = _cli("run", "--model", "digits-cnn", "--technique", "float16,integer_only",
                "--target", "edgetpu", "--max-accuracy-drop", "0.01", "--data-kind", "labelled",
                "--effort", "thorough", "--out", str(out), "--json", "-", "--no-cache",
                timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    request = json.loads((out / "request.json").read_text())
    assert (request["target"], request["max_accuracy_drop"], request["must_be_ready"]) == \
        ("edgetpu", 0.01, None)
    assert request["answers"]["data"] == "labelled" and request["answers"]["target"] == "edgetpu"
    # the app, for the same answers and goals (as the Situation page builds them)
    answers = Answers(data="labelled", effort="thorough", target="edgetpu")
    goals = goals_from_form(1.0, "absolute", "none", 0.0, False, 0.0, target="edgetpu",
                            must_be_ready=True)
    results = [Result.from_dict(r) for r in doc["results"]]
    verdict = evaluate_run(results, answers, goals)
    assert doc["checks"] == {t: c.to_dict() for t, c in verdict.checks.items()}
    assert doc["insights"] == [n.to_dict() for n in verdict.insights]
    assert doc["verdict"]["judged_by"] == verdict.judged_by() and \
        "judged by the goals it was run with" in verdict.judged_by()
    assert set(doc["checks"]) == {"float16", "integer_only"}
    for check in doc["checks"].values():   # nothing was checked for the Edge TPU yet
        assert [i["name"] for i in check["items"]] == ["accuracy", "target"]
        assert check["state"] != "missed" or check["items"][0]["state"] == "missed"
        assert check["items"][1]["state"] == "not_checked"
        assert "not checked yet for Edge TPU" in check["items"][1]["detail"]

    # the same request from a file with a looser accuracy goal and no readiness goal
    file = tmp_path / "loose.json"
    file.write_text(json.dumps({**request, "max_accuracy_drop": 0.5, "must_be_ready": False}))
    again = tmp_path / "again"
    proc = _cli("run", "--request", str(file), "--out", str(again), "--json", "-", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loose = json.loads(proc.stdout)
    assert loose["cached"] is True                          # goals are not part of the key
    assert json.loads((again / "request.json").read_text())["max_accuracy_drop"] == 0.5
    assert all(c["met"] and [i["name"] for i in c["items"]] == ["accuracy"]
               for c in loose["checks"].values())
    refused = _cli("run", "--request", str(file), "--technique", "float16", timeout=120)
    assert refused.returncode == 2 and "drop --technique" in refused.stderr
