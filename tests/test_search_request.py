"""SearchRequest validation and round trips; the evaluator's pure helpers (no processes)."""
from __future__ import annotations

import json

import pytest

from optimizer.artifacts.events import EventLog
from optimizer.cli import build_parser
from optimizer.cli.search import _request
from optimizer.search.evaluator import _projection, folder_name
from optimizer.search.request import SearchRequest


def test_goals_follow_the_request_and_the_metric_direction():
    req = SearchRequest(model="digits-cnn", target="edgetpu", max_accuracy_drop=0.02,
                        max_size_ratio=0.3, max_latency_ms=2.0, size_measure="gzip")
    goals = req.goals(higher_is_better=False)
    assert goals.accuracy.max_drop == 0.02 and goals.accuracy.higher_is_better is False
    assert goals.size.max_ratio == 0.3 and goals.size.compressed is True
    assert goals.latency.max_ms == 2.0
    assert SearchRequest(model="m").goals().size is None


@pytest.mark.parametrize("kwargs, message", [
    ({"model": ""}, "no model"),
    ({"target": "tpu"}, "unknown target 'tpu'"),
    ({"size_measure": "zip"}, "'raw'"),
    ({"time_budget_s": 3}, "at least 10"),
    ({"max_size_bytes": 10, "max_size_ratio": 0.5}, "not both"),
    ({"max_accuracy_drop": -0.1}, "negative"),
    ({"max_float_layers": 0}, "max_float_layers"),
    ({"settings": ("pruning.sparsity=2",)}, "pruning.sparsity"),
    ({"precision_strategy": "greedy"}, "sensitivity, op-type, keep-float, none"),
    ({"max_precision_trials": 0}, "max_precision_trials"),
    ({"techniques": ("int9",)}, "unknown technique 'int9'"),
])
def test_invalid_requests_name_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SearchRequest(**{"model": "m", **kwargs})


def test_a_drop_of_a_whole_point_fraction_is_refused_for_accuracy():
    req = SearchRequest(model="m", max_accuracy_drop=1.0)
    with pytest.raises(ValueError, match="0.01 for 1 point"):
        req.check_metric("accuracy")
    req.check_metric("rmse")        # an error metric may have budgets above 1


def test_dict_round_trip_and_unknown_keys():
    req = SearchRequest(
        model="digits-cnn", target="gpu-android", max_accuracy_drop=0.005, relative=True,
        max_size_bytes=40_000, max_latency_ms=1.5, size_measure="gzip", time_budget_s=120,
        settings=("finetune.epochs=1", 'mixed.plan={"layers":{"a":"int16"}}'),
        knob_levels={"pruning.sparsity": (0.1234567,), "clustering.clusters": (32, 8)},
        max_float_layers=3, precision_strategy="op-type", max_precision_trials=5,
        techniques=("integer_only", "int16x8"))
    assert SearchRequest.from_dict(json.loads(json.dumps(req.to_dict()))) == req
    with pytest.raises(ValueError, match="unknown search request keys"):
        SearchRequest.from_dict({**req.to_dict(), "speed": 1})


def test_the_flags_build_the_same_request():
    req = SearchRequest(model="digits-cnn", target="gpu-android", max_accuracy_drop=0.005,
                        relative=True, max_size_bytes=40_000, max_latency_ms=1.5,
                        size_measure="gzip", time_budget_s=120, settings=("finetune.epochs=1",),
                        knob_levels={"pruning.sparsity": (0.6,), "clustering.clusters": (32, 8)},
                        max_float_layers=3, objective="accuracy", must_be_ready=False,
                        precision_strategy="keep-float", max_precision_trials=3,
                        techniques=("integer", "int16x8"))
    args = build_parser().parse_args([
        "search", "--model", "digits-cnn", "--target", "gpu-android", "--max-accuracy-drop",
        "0.005", "--relative", "--max-size-bytes", "40000", "--max-latency-ms", "1.5",
        "--size-measure", "gzip", "--time-budget", "120", "--set", "finetune.epochs=1",
        "--sparsities", "0.6", "--clusters", "32,8", "--max-float-layers", "3",
        "--objective", "accuracy", "--no-must-be-ready", "--precision-strategy", "keep-float",
        "--max-precision-trials", "3", "--technique", "integer,int16x8"])
    assert _request(args) == req


def test_folder_names_are_safe():
    assert folder_name("pruning[sparsity=0.75]") == "pruning_sparsity-0.75"
    assert folder_name("pcqat[sparsity=0.5,clusters=16]") == "pcqat_sparsity-0.5_clusters-16"
    assert folder_name("post-training") == "post-training"


def test_fine_tuning_projection_from_epoch_events(tmp_path):
    events = tmp_path / "events.jsonl"
    log = EventLog(events)
    log.emit("progress", "pruning+integer", step="apply pruning", fraction=0.05)
    assert _projection(events, ("pruning+integer",), 0.0, 4) == (None, None)
    first = json.loads(events.read_text().splitlines()[0])["t"]
    # one of four epochs done 10 s after the transform started
    lines = [json.dumps({"t": first + 10.0, "type": "progress", "technique": "pruning+integer",
                         "step": "fine-tune (pruning)", "epoch": 1, "epochs": 4,
                         "fraction": 0.05 + 0.75 / 4})]
    events.write_text(events.read_text() + "\n".join(lines) + "\n")
    per_epoch, left = _projection(events, ("pruning+integer",), 0.0, 4)
    assert per_epoch == pytest.approx(10.0) and left == pytest.approx(30.0)
    # events of another job (another technique, or before it started) are ignored
    assert _projection(events, ("qat",), 0.0, 4) == (None, None)
    assert _projection(events, ("pruning+integer",), first + 100, 4) == (None, None)


def test_the_search_side_never_loads_tensorflow():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys\nimport optimizer.search.background, optimizer.search.runner, "
            "optimizer.search.layers, optimizer.cli.search, optimizer.report.search_charts, "
            "optimizer.report.layer_charts, optimizer.engine.selective, "
            "optimizer.engine.layer_error\nprint(' '.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                         capture_output=True, text=True, check=True).stdout.split()
    assert not set(out) & {"tensorflow", "tf_keras", "keras", "ai_edge_litert", "streamlit",
                           "tensorflow_model_optimization", "litert_quantizer"}


def test_knob_levels_are_per_stage_knobs_and_the_cli_flags_keep_working():
    args = build_parser().parse_args(["search", "--model", "m", "--target", "cpu",
                                      "--max-accuracy-drop", "0.01",
                                      "--sparsities", "0.1234567,0.8", "--clusters", "32"])
    req = _request(args)
    assert req.knob_levels == {"pruning.sparsity": (0.1234567, 0.8),
                               "clustering.clusters": (32,)}
    assert SearchRequest(model="m").knob_levels == {"pruning.sparsity": (0.5, 0.75),
                                                    "clustering.clusters": (16, 8)}
    # only the knob given changes; the others keep their defaults
    assert SearchRequest(model="m", knob_levels={"clustering.clusters": [4]}).knob_levels[
        "pruning.sparsity"] == (0.5, 0.75)
    with pytest.raises(ValueError, match="unknown knob 'qat.bits'"):
        SearchRequest(model="m", knob_levels={"qat.bits": [4]})
    with pytest.raises(ValueError, match="clusters level 300"):
        SearchRequest(model="m", knob_levels={"clustering.clusters": [300]})


def test_search_files_written_before_generic_knobs_still_read():
    old = SearchRequest.from_dict({"model": "m", "sparsities": [0.6], "clusters": [8, 4]})
    assert old.knob_levels == {"pruning.sparsity": (0.6,), "clustering.clusters": (8, 4)}
