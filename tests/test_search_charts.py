"""The search's figures and tables: trials chart, per-layer error chart, before/after cost."""
from __future__ import annotations

import json

import pytest
from search_helpers import FakeClock, ScriptedEvaluator, result

from optimizer.report import (
    attempt_rows,
    layer_error_figure,
    layer_options,
    repair_rows,
    skipped_table,
    trials_figure,
    trials_table,
)
from optimizer.search.candidates import REPAIR_ID, plan_candidates
from optimizer.search.explain import SearchOutcome
from optimizer.search.layers import layer_reports
from optimizer.search.loop import run_search
from optimizer.search.request import SearchRequest

TABLE = {"float32": result("float32", 181_452, 0.9711, latency=0.005),
         "float16": result("float16", 93_240, 0.9711),
         "dynamic_range": result("dynamic_range", 53_840, 0.7933),
         "integer": result("integer", 59_536, 0.7778, latency=0.004),
         "integer_only": result("integer_only", 59_200, 0.7778),
         "int16x8": result("int16x8", 64_808, 0.8622),
         REPAIR_ID: result(REPAIR_ID, 64_848, 0.9711, latency=0.0035)}
REPORT = {"trial": REPAIR_ID, "mode": "auto", "before": [
    {"name": "m/dense/MatMul", "layer": "dense", "op": "FULLY_CONNECTED", "rmse": 0.31,
     "scale": 0.0099, "rmse_scale": 31.3, "index": 1},
    {"name": "m/dense_1/MatMul", "layer": "dense_1", "op": "FULLY_CONNECTED", "rmse": 0.001,
     "scale": 0.002, "rmse_scale": 0.5, "index": 2},
    {"name": "m/flatten", "layer": "flatten", "op": "RESHAPE", "rmse": 0.0, "scale": 0.1,
     "rmse_scale": 0.0, "index": 3}],
    "after": [{"name": "m/dense_1/MatMul", "layer": "dense_1", "op": "FULLY_CONNECTED",
               "rmse": 0.0008, "scale": 0.002, "rmse_scale": 0.42, "index": 2}],
    "kept_float": [{"name": "m/dense/MatMul", "layer": "dense", "op": "FULLY_CONNECTED"}],
    "attempts": [{"layers": ["m/dense/MatMul"], "count": 1, "accuracy": 0.9711,
                  "metric": "accuracy", "size_bytes": 64_848, "meets_budget": True}]}


@pytest.fixture(scope="module")
def outcome() -> SearchOutcome:
    clock = FakeClock()
    req = SearchRequest(model="digits-outliers", time_budget_s=60,
                        precision_strategy="keep-float")
    plan = plan_candidates("cpu", "labelled")
    return run_search(req, plan, ScriptedEvaluator(TABLE, clock, default_s=10), clock=clock)


def test_trials_figure_draws_every_measured_trial_and_points_at_the_best(outcome):
    assert outcome.best == REPAIR_ID
    fig = trials_figure(outcome)
    names = [t.name for t in fig.data]
    assert sorted(names) == sorted(TABLE)
    assert "on disk" in fig.layout.title.text
    assert [a.text for a in fig.layout.annotations if a.text == "<b>best</b>"]
    best = next(t for t in fig.data if t.name == REPAIR_ID)
    assert best.marker.size > next(t for t in fig.data if t.name == "float16").marker.size
    assert best.x[0] == pytest.approx(64.848)                 # kB
    front = {t.name for t in fig.data if t.marker.line.width == 3}
    assert front == set(outcome.pareto)


def test_an_empty_search_draws_a_message():
    empty = SearchOutcome(status="running", trials=[], pareto=[], best=None, goal_met=False,
                          explanation="")
    fig = trials_figure(empty)
    assert fig.layout.annotations[0].text == "No trial measured yet"


def test_trials_and_skipped_tables(outcome):
    rows = {r["Trial"]: r for r in trials_table(outcome)}
    assert rows["float32"]["Goals"] == "baseline"
    assert rows[REPAIR_ID]["Best"] == "★" and rows[REPAIR_ID]["Goals"] == "✓ met"
    assert rows["integer"]["Goals"] == "✗ missed"
    assert rows["float16"]["x smaller"] == 1.95          # 181,452 / 93,240, three figures
    skipped = skipped_table(outcome)
    assert skipped and set(skipped[0]) == {"Candidate", "Why it was not run"}


def test_layer_chart_before_and_after_with_the_float_layer_marked():
    fig = layer_error_figure(REPORT)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in bars] == ["all layers int8", "with 1 layer kept in float"]
    assert list(bars[0].y) == ["dense (FULLY_CONNECTED)", "dense_1 (FULLY_CONNECTED)",
                               "flatten (RESHAPE)"]
    assert bars[0].x[0] == pytest.approx(31.3) and bars[1].x[0] is None   # float: no bar
    marks = [a for a in fig.layout.annotations if "kept in float" in a.text]
    assert [a.y for a in marks] == ["dense (FULLY_CONNECTED)"]
    assert fig.layout.xaxis.type == "log"
    analysis = layer_error_figure({"before": REPORT["before"]})
    assert [t.name for t in analysis.data] == ["all layers int8"]


def test_layer_options_repair_rows_and_attempts():
    assert [o["layer"] for o in layer_options(REPORT)] == ["dense", "dense_1"]   # exact op out
    rows = repair_rows(TABLE["integer"], TABLE[REPAIR_ID])
    assert [r["Model"].split(" (")[0] for r in rows] == ["integer", REPAIR_ID, "difference"]
    assert rows[2]["Accuracy"] == 19.3                   # (97.11 - 77.78), as its rows show
    assert rows[2]["Size (kB)"] == 5.31                  # 5,312 bytes, three figures
    assert rows[2]["Latency"] == "-0.500 µs" and rows[0]["Latency"] == "4.00 µs"
    attempts = attempt_rows(REPORT)
    assert attempts == [{"Layers in float": 1, "Metric": pytest.approx(97.11),
                         "Size (kB)": 64.8, "Meets the budget": "yes",
                         "Ops kept in float": "dense"}]


def test_layer_reports_are_read_newest_first(tmp_path):
    first, second = tmp_path / "keep-float", tmp_path / "keep-float-2"
    for folder, report in ((first, REPORT), (second, {**REPORT, "kept_float": []})):
        folder.mkdir()
        (folder / "layers.json").write_text(json.dumps(report))
    outcome = SearchOutcome(status="finished", trials=[], pareto=[], best=None, goal_met=False,
                            explanation="", layer_reports=[
                                {"trial": REPAIR_ID, "folder": str(first), "mode": "auto"},
                                {"trial": None, "folder": str(second), "mode": "analyse"},
                                {"trial": "x", "folder": str(tmp_path / "gone"), "mode": "hand"}])
    found = layer_reports(outcome)
    assert [f["mode"] for f in found] == ["analyse", "auto"]
    assert found[1]["label"] == f"{REPAIR_ID} · automatic repair: dense"
    assert found[0]["label"] == "int8 · per-layer error only"


def test_a_trial_without_latency_says_why_in_its_note():
    from optimizer.guide.schema import Result

    timed = Result(technique="float32", status="ok", size_bytes=100, accuracy=0.9,
                   latency_ms_median=0.01)
    untimed = Result(technique="float16", status="ok", size_bytes=50, accuracy=0.9,
                     notes=["fp16 weights", "latency not measured: the search's time budget ran "
                                            "out"])
    outcome = SearchOutcome(status="finished", trials=[timed, untimed], pareto=[], best=None,
                            goal_met=False, explanation="")
    rows = {r["Trial"]: r for r in trials_table(outcome)}
    assert rows["float16"]["Latency median"] == ""
    assert rows["float32"]["Latency median"] == "10.0 µs"      # never "0.010 ms"
    assert rows["float16"]["Note"].startswith("latency not measured: the search's time budget")
    assert rows["float32"]["Note"] == ""
