"""Goals: absolute and relative accuracy budgets, lower-is-better metrics, size by bytes or
ratio (raw or gzip), latency medians, unmeasured values, validation and round trips.

The Result rows here are hand-built test inputs, not measurements."""
from __future__ import annotations

import json

import pytest

from optimizer import AccuracyGoal, GoalCheck, Goals, LatencyGoal, SizeGoal
from optimizer.guide.schema import Result


def _r(technique="integer", **kw) -> Result:
    return Result(technique=technique, **kw)


BASE = _r("float32", accuracy=0.969, size_bytes=156_476, gzip_bytes=142_898,
          latency_ms_median=0.32)


@pytest.mark.parametrize("goal, candidate_acc, met, detail", [
    # absolute budget in metric units: 0.01 = 1 point
    (AccuracyGoal(0.01), 0.962, True, "accuracy 96.2 % vs 96.9 % for float32: drop 0.700 "
                                      "points <= 1 allowed"),
    (AccuracyGoal(0.01), 0.958, False, "drop 1.10 points > 1 allowed"),
    (AccuracyGoal(0.01), 0.959, True, "drop 1.00 points <= 1 allowed"),  # exactly the budget
    (AccuracyGoal(0.0), 0.969, True, "drop 0 points <= 0 allowed"),
    (AccuracyGoal(0.0), 0.975, True, "better by 0.600 points"),
    (AccuracyGoal(0.0), 0.9689, False, "> 0 allowed"),
    # relative budget: a fraction of the baseline value
    (AccuracyGoal(0.01, relative=True), 0.962, True, "drop 0.722 % of float32's value <= 1 % allowed"),
    (AccuracyGoal(0.005, relative=True), 0.962, False, "drop 0.722 % of float32's value > 0.5 % allowed"),
])
def test_accuracy_goal_higher_is_better(goal, candidate_acc, met, detail):
    cand = _r(accuracy=candidate_acc)
    item = goal.evaluate(BASE, cand)
    assert item.met is met and goal.is_met(BASE, cand) is met
    assert detail in item.detail
    assert item.name == "accuracy"


@pytest.mark.parametrize("goal, base, cand, met, detail", [
    (AccuracyGoal(0.05, higher_is_better=False), 0.20, 0.24, True, "rmse 0.24 vs 0.20 for float32: "
                                                                   "rise 0.0400 <= 0.05 allowed"),
    (AccuracyGoal(0.05, higher_is_better=False), 0.20, 0.26, False, "rise 0.0600 > 0.05 allowed"),
    (AccuracyGoal(0.05, higher_is_better=False), 0.20, 0.10, True, "better by 0.100"),
    (AccuracyGoal(0.1, relative=True, higher_is_better=False), 0.20, 0.21, True,
     "rise 5.00 % of float32's value <= 10 % allowed"),
    (AccuracyGoal(0.1, relative=True, higher_is_better=False), 0.20, 0.23, False,
     "rise 15.0 % of float32's value > 10 % allowed"),
    # rmse against the baseline's own outputs: the baseline is 0, relative cannot scale
    (AccuracyGoal(0.1, relative=True, higher_is_better=False), 0.0, 0.01, False,
     "use an absolute max_drop"),
])
def test_accuracy_goal_lower_is_better(goal, base, cand, met, detail):
    b = _r("float32", accuracy=base, metric="rmse", higher_is_better=False)
    c = _r(accuracy=cand, metric="rmse", higher_is_better=False)
    item = goal.evaluate(b, c)
    assert item.met is met
    assert detail in item.detail


def test_accuracy_goal_direction_must_match_the_metric():
    b = _r("float32", accuracy=0.2, metric="rmse", higher_is_better=False)
    c = _r(accuracy=0.1, metric="rmse", higher_is_better=False)
    item = AccuracyGoal(0.05).evaluate(b, c)
    assert not item.met and "set higher_is_better=False" in item.detail


@pytest.mark.parametrize("goal, cand, met, detail", [
    (SizeGoal(max_ratio=0.5), _r(size_bytes=45_720), True,
     "size on disk 45.7 kB vs 156 kB for float32 (3.42x smaller), meets the 2x smaller "
     "required"),
    (SizeGoal(max_ratio=0.25), _r(size_bytes=81_188), False,
     "(1.93x smaller), short of the 4x smaller required"),
    (SizeGoal(max_ratio=0.5), _r(size_bytes=78_238), True, "(2.00x smaller), meets the 2x"),  # exact
    (SizeGoal(max_bytes=50_000), _r(size_bytes=45_720), True,
     "size on disk 45.7 kB vs 156 kB for float32 (3.42x smaller) <= 50.0 kB allowed"),
    (SizeGoal(max_bytes=40_000), _r(size_bytes=45_720), False,
     "size on disk 45.7 kB vs 156 kB for float32 (3.42x smaller) > 40.0 kB"),
    # compressed: pruning leaves bytes on disk unchanged but gzips smaller
    (SizeGoal(max_ratio=0.7, compressed=True),
     _r("pruning", size_bytes=156_476, gzip_bytes=85_861), True,
     "gzip size 85.9 kB vs 143 kB for float32 (1.66x smaller), meets"),
    (SizeGoal(max_ratio=0.7), _r("pruning", size_bytes=156_476, gzip_bytes=85_861), False,
     "(1.00x smaller), short of the 1.43x smaller required"),
    (SizeGoal(max_bytes=80_000, compressed=True), _r(size_bytes=10, gzip_bytes=85_861), False,
     "gzip size 85.9 kB vs 143 kB for float32 (1.66x smaller) > 80.0 kB allowed"),
])
def test_size_goal(goal, cand, met, detail):
    item = goal.evaluate(BASE, cand)
    assert item.met is met and goal.is_met(BASE, cand) is met
    assert detail in item.detail


@pytest.mark.parametrize("goal, cand, met, detail", [
    (LatencyGoal(0.5), _r(latency_ms_median=0.41, latency_ms_p10=0.39, latency_ms_p90=0.47), True,
     "median latency 0.410 ms (p10–p90 0.390–0.470 ms) <= 0.500 ms allowed (float32: "
     "0.320 ms)"),
    (LatencyGoal(0.3), _r(latency_ms_median=0.41), False, "median latency 0.410 ms > 0.300 ms"),
    (LatencyGoal(0.41), _r(latency_ms_median=0.41), True, "<= 0.410 ms allowed"),
])
def test_latency_goal_compares_the_median(goal, cand, met, detail):
    item = goal.evaluate(BASE, cand)
    assert item.met is met and detail in item.detail


@pytest.mark.parametrize("goal, base, cand, detail", [
    (AccuracyGoal(0.01), BASE, _r(accuracy=None), "accuracy was not measured for integer"),
    (AccuracyGoal(0.01), _r("float32"), _r(accuracy=0.9), "was not measured for the baseline"),
    (SizeGoal(max_bytes=10**6), BASE, _r(size_bytes=None), "size on disk was not measured for integer"),
    (SizeGoal(max_ratio=0.5, compressed=True), BASE, _r(size_bytes=10),
     "gzip size was not measured"),
    (SizeGoal(max_ratio=0.5), _r("float32"), _r(size_bytes=10), "baseline size on disk was not measured"),
    (LatencyGoal(1.0), BASE, _r(latency_ms_median=None), "latency was not measured for integer"),
    (LatencyGoal(1.0), BASE, Result.failed("int16x8", "conversion failed: op X; try integer"),
     "the candidate int16x8 has no measurement (error: conversion failed"),
    (AccuracyGoal(0.01), Result.failed("float32", "model would not load"), _r(accuracy=0.9),
     "the baseline float32 has no measurement"),
])
def test_unmeasured_values_never_meet_a_goal(goal, base, cand, detail):
    item = goal.evaluate(base, cand)
    assert item.met is False
    assert detail in item.detail


def test_goals_check_combines_items_and_accepts_dicts():
    goals = Goals(accuracy=AccuracyGoal(0.01), size=SizeGoal(max_ratio=0.5),
                  latency=LatencyGoal(0.3))
    cand = _r(accuracy=0.962, size_bytes=45_720, latency_ms_median=0.41)
    check = goals.check(BASE, cand)
    assert isinstance(check, GoalCheck)
    assert [(i.name, i.met) for i in check.items] == [("accuracy", True), ("size", True),
                                                       ("latency", False)]
    assert check.met is False and check.summary == "misses the latency goal"
    assert goals.check(BASE.to_dict(), cand.to_dict()) == check
    assert Goals(accuracy=AccuracyGoal(0.01)).check(BASE, cand).summary == "meets all 1 goal"
    assert not goals.is_met(BASE, cand)


def test_no_goals_means_met():
    check = Goals().check(BASE, _r())
    assert check.met is True and check.items == () and check.summary == "no goals set"


def test_goals_round_trip():
    goals = Goals(accuracy=AccuracyGoal(0.02, relative=True, higher_is_better=False),
                  size=SizeGoal(max_bytes=500_000, compressed=True))
    data = json.loads(json.dumps(goals.to_dict()))
    assert data["latency"] is None
    assert data["accuracy"] == {"max_drop": 0.02, "relative": True, "higher_is_better": False}
    assert Goals.from_dict(data) == goals
    assert Goals.from_dict(None) == Goals()


@pytest.mark.parametrize("build, message", [
    (lambda: AccuracyGoal(-0.01), "negative"),
    (lambda: AccuracyGoal("1%"), "must be a finite number"),
    (lambda: AccuracyGoal(float("nan")), "must be a finite number"),
    (lambda: AccuracyGoal(5, relative=True), "use e.g. 0.02 for 2%"),
    (lambda: AccuracyGoal(0.01, relative="yes"), "relative must be True or False"),
    (lambda: SizeGoal(), "set exactly one of max_bytes"),
    (lambda: SizeGoal(max_bytes=1000, max_ratio=0.5), "set exactly one of max_bytes"),
    (lambda: SizeGoal(max_ratio=4), "for 4x smaller use 0.25"),
    (lambda: SizeGoal(max_ratio=0), "must be in"),
    (lambda: SizeGoal(max_bytes=0), "positive whole number of bytes"),
    (lambda: SizeGoal(max_bytes=1.5), "positive whole number of bytes"),
    (lambda: LatencyGoal(0), "must be positive milliseconds"),
    (lambda: Goals(accuracy=SizeGoal(max_ratio=0.5)), r"must be AccuracyGoal\(...\) or None"),
    (lambda: Goals.from_dict({"speed": {}}), "use accuracy, size, latency, mcu or target"),
    (lambda: Goals.from_dict({"size": {"ratio": 0.5}}), "takes a dict with keys"),
])
def test_validation_names_the_fix(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_evaluate_rejects_what_is_not_a_result():
    with pytest.raises(ValueError, match="must be a Result"):
        AccuracyGoal(0.01).evaluate(BASE, 0.9)
