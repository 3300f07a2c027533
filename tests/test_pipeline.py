"""The pipeline inside a job: steps per spec, settings, messages, and a baseline job in-process."""
from __future__ import annotations

import json

import numpy as np
import pytest

from optimizer.artifacts.events import read_events
from optimizer.engine.context import cli_command, error_message, relevant_settings
from optimizer.engine.pipeline import run_job
from optimizer.guide.configs import Settings
from optimizer.guide.registry import parse_spec
from optimizer.guide.technique import STAGE_ORDER, Stage, StageKind
from optimizer.runs.orchestrate import plan_jobs
from optimizer.runs.request import RunRequest


@pytest.mark.parametrize("spec, stages", [
    ("pruning", [Stage("pruning")]),
    ("pruning+integer", [Stage("pruning")]),
    ("clustering", [Stage("clustering")]),
    ("pruning+clustering", [Stage("pruning"), Stage("clustering", "sparsity")]),
    ("pruning+clustering+dynamic_range", [Stage("pruning"), Stage("clustering", "sparsity")]),
    ("qat", [Stage("qat")]),
    ("qat+integer_only", [Stage("qat")]),
    ("pqat", [Stage("pruning"), Stage("qat", "sparsity")]),
    ("cqat", [Stage("clustering"), Stage("qat", "clusters")]),
    ("pcqat", [Stage("pruning"), Stage("clustering", "sparsity"),
               Stage("qat", "sparsity+clusters")]),
])
def test_stages_for_every_retraining_form(spec, stages):
    got = parse_spec(spec).stages
    assert got == tuple(stages)
    assert all(isinstance(stage.kind, StageKind) for stage in got)
    assert [s.kind for s in got] == sorted((s.kind for s in got), key=STAGE_ORDER.index)


def test_post_training_specs_have_no_retraining_steps():
    for spec in ("float32", "float16", "dynamic_range", "integer", "integer_only", "int16x8"):
        assert parse_spec(spec).stages == ()


def test_relevant_settings_name_only_what_shaped_the_file():
    settings = Settings.from_pairs(["pruning.sparsity=0.8", "clustering.clusters=8",
                                    "calibration.samples=150"])
    assert relevant_settings("float16", settings, {}) == {}
    assert relevant_settings("integer", settings, {}) == {"calibration": {"samples": 150}}
    pr = relevant_settings("pruning+clustering+integer", settings, {})
    assert pr["pruning"]["sparsity"] == 0.8 and pr["clustering"]["clusters"] == 8
    assert pr["clustering"]["preserve_sparsity"] is True and "calibration" in pr
    qat = relevant_settings("pcqat", settings, {})
    assert "calibration" not in qat and qat["clustering"]["preserve_sparsity"] is True


def test_cli_command_reproduces_spec_and_settings():
    class Bundle:
        ref, data = "/m dir/model.h5", "/d/data.npz"

    command = cli_command(Bundle(), "pruning+dynamic_range", ["pruning.sparsity=0.8"])
    assert command == ("python -m optimizer run --model '/m dir/model.h5' --data /d/data.npz "
                       "--technique pruning+dynamic_range --set pruning.sparsity=0.8 --json -")


def test_error_message_is_one_line_without_traceback(tmp_path):
    assert error_message(ValueError("integer_only: op X cannot be quantized; use integer\nmore")) \
        == "integer_only: op X cannot be quantized; use integer"
    message = error_message(RuntimeError("deep failure\nline 2"), tmp_path / "job.log")
    assert message.startswith("RuntimeError: deep failure") and "job.log" in message
    assert "\n" not in message
    assert "memory" in error_message(MemoryError())


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory, tiny_model, tiny_dataset):
    folder = tmp_path_factory.mktemp("pipeline-files")
    tiny_model.save(folder / "tiny.h5")
    tiny_dataset.save_npz(folder / "tiny.npz")
    np.savez(folder / "unlabelled.npz", x=tiny_dataset.x_test)
    return folder


@pytest.mark.slow
def test_baseline_job_freezes_once_and_measures_against_float32(tiny_files, tmp_path):
    request = RunRequest(model=str(tiny_files / "tiny.h5"), data=str(tiny_files / "tiny.npz"),
                         techniques=["float16", "integer_only"])
    job = plan_jobs(request, tmp_path, tmp_path / "events.jsonl")[0]
    results = run_job(job)  # in this process: the worker's code path
    by = {r.technique: r for r in results}
    assert [r.technique for r in results] == ["float32", "float16", "integer_only"]
    assert all(r.ok for r in results), [r.error for r in results]
    reference = np.load(tmp_path / "float32" / "outputs.npy")
    assert reference.shape == (450, 10)
    for r in results:
        assert any(step.startswith("graph frozen once") and
                   step.endswith("shared by float32, float16, integer_only") for step in r.pipeline)
        assert r.delta_value == pytest.approx(r.accuracy - by["float32"].accuracy)
        assert r.samples == 450 and r.accuracy_ci[0] <= r.accuracy <= r.accuracy_ci[1]
        assert (tmp_path / r.technique / "predictions.npy").is_file()
        assert r.prep_seconds == by["float32"].prep_seconds  # one shared freeze
    written = json.loads(job.results_path.read_text())
    assert [r["technique"] for r in written["results"]] == ["float32", "float16", "integer_only"]
    events = read_events(tmp_path / "events.jsonl")
    steps = {e["step"] for e in events if e["technique"] == "integer_only"}
    assert {"load model", "freeze", "convert (integer_only)", "evaluate"} <= steps


@pytest.mark.slow
def test_unlabelled_data_reports_agreement_with_the_baseline(tiny_files, tmp_path):
    request = RunRequest(model=str(tiny_files / "tiny.h5"),
                         data=str(tiny_files / "unlabelled.npz"),
                         techniques=["dynamic_range", "integer", "pruning"])
    jobs = plan_jobs(request, tmp_path, tmp_path / "events.jsonl")
    by = {r.technique: r for r in run_job(jobs[0])}
    assert by["float32"].metric == "agreement" and by["float32"].accuracy == 1.0
    assert by["integer"].metric == "agreement" and 0.9 <= by["integer"].accuracy <= 1.0
    assert any("agreement" in note for note in by["integer"].notes)
    reference = {"value": 1.0, "metric": "agreement",
                 "outputs": str(tmp_path / "float32" / "outputs.npy")}
    pruning = run_job(jobs[1].with_reference(reference))[0]
    assert pruning.status == "error" and "labelled training data" in pruning.error
