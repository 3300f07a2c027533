"""The sensitivity-first precision search for real (slow): on digits-outliers, whose int8 loses
more than a 1-point budget through one layer's activation range,

* ``search --target mcu --max-accuracy-drop 0.01`` returns a ``mixed`` result that meets the
  budget, is ready on TFLite Micro (interpreted) and has an ``int16`` layer;
* on the CPU with ``--objective size`` its winner is at most the size of the
  keep-worst-in-float repair.

The searches are restricted to the target's int8 form (``--technique``) so they stay short;
the full search's candidates do not change what the precision strategy does.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.cost(240)]
ROOT = Path(__file__).resolve().parents[1]


def _search(tmp_path, name, *args) -> dict:
    out = tmp_path / name
    done = subprocess.run(
        [sys.executable, "-m", "optimizer", "search", "--model", "digits-outliers",
         "--max-accuracy-drop", "0.01", "--time-budget", "600", *args, "--out", str(out),
         "--json", "-"], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_on_a_microcontroller_an_int16_layer_meets_the_budget_and_runs_in_tflm(tmp_path):
    doc = _search(tmp_path, "mcu", "--target", "mcu", "--technique", "integer_only")
    trials = {t["technique"]: t for t in doc["trials"]}
    assert doc["goal_met"] and doc["best"]["technique"].startswith("mixed[plan-")
    best = doc["best"]
    base = trials["float32"]
    assert base["accuracy"] - trials["integer_only"]["accuracy"] > 0.01   # int8 misses
    assert base["accuracy"] - best["accuracy"] <= 0.01
    assert best["readiness"]["ready"] is True and best["readiness"]["method"] == "interpreted"
    assert best["readiness"]["memory"]["arena_bytes"] > 0
    assert best["precision_counts"]["int16"] >= 1 and best["precision_counts"]["float"] == 0
    assert "int16" in best["layer_precision"].values()
    assert best["input_dtype"] in ("int8", "int16")                     # integer I/O
    # the why of every trial, and how soon a trial met every goal
    why = {t["technique"]: t["why"] for t in doc["trials"]}
    assert why[best["technique"]].startswith("sensitivity-first plan")
    assert doc["trials_to_first_feasible"] == 3          # float32, integer_only, plan 1
    assert doc["sensitivity_reports"] and doc["checks"][best["technique"]]["met"]


def test_on_the_cpu_the_winner_is_no_bigger_than_keeping_the_worst_layer_in_float(tmp_path):
    common = ("--target", "cpu", "--technique", "integer", "--objective", "size")
    sensitivity = _search(tmp_path, "sensitivity", *common)
    keep_float = _search(tmp_path, "keep-float", *common, "--precision-strategy", "keep-float")
    assert sensitivity["goal_met"] and keep_float["goal_met"]
    assert keep_float["best"]["technique"] == "integer[keep-float]"
    assert sensitivity["best"]["technique"].startswith("mixed[plan-")
    assert sensitivity["best"]["size_bytes"] <= keep_float["best"]["size_bytes"]
    # on the CPU a layer may be float: the plan's I/O is float
    assert sensitivity["best"]["input_dtype"] == "float32"
