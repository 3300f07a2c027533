"""Search with target readiness: "must be ready" (on by default off the CPU) and the
microcontroller budgets, as request fields, CLI flags and goals judged on measured readiness."""
from __future__ import annotations

from dataclasses import replace

import pytest
from search_helpers import FakeClock, ScriptedEvaluator, result

from optimizer.guide.goals import McuBudget, TargetGoal
from optimizer.search.candidates import plan_candidates
from optimizer.search.loop import run_search
from optimizer.search.request import SearchRequest

EPOCHS = {"pruning": 6, "clustering": 4, "qat": 2}


def _ready(r, ready=True, arena=210_288):
    verdict = {"target": "mcu", "method": "interpreted", "ready": ready,
               "summary": "Ready: runs in TFLite Micro" if ready else "Not ready: lacks ATAN2",
               "ops": [], "memory": {"arena_bytes": arena, "flash_bytes": r.size_bytes},
               "accuracy": None}
    return replace(r, readiness=verdict)


def test_readiness_is_required_off_the_cpu_by_default():
    assert SearchRequest(model="m", target="cpu").goals().target is None
    goals = SearchRequest(model="m", target="edgetpu").goals()
    assert goals.target == TargetGoal("edgetpu")
    assert SearchRequest(model="m", target="edgetpu", must_be_ready=False).goals().target is None
    assert SearchRequest(model="m", target="cpu", must_be_ready=True).goals().target \
        == TargetGoal("cpu")


def test_mcu_budgets_are_goals_and_round_trip():
    req = SearchRequest(model="digits-cnn", target="mcu", mcu_ram_kb=256, mcu_flash_kb=1024)
    assert req.goals().mcu == McuBudget(ram_kb=256, flash_kb=1024)
    assert SearchRequest.from_dict(req.to_dict()) == req
    assert (req.to_dict()["mcu_ram_kb"], req.to_dict()["mcu_flash_kb"]) == (256, 1024)
    with pytest.raises(ValueError, match="mcu target only"):
        SearchRequest(model="m", target="edgetpu", mcu_ram_kb=256)


def test_cli_flags_build_the_request():
    from optimizer.cli import build_parser
    from optimizer.cli.search import _request

    args = build_parser().parse_args(
        ["search", "--model", "digits-cnn", "--target", "mcu", "--max-accuracy-drop", "0.02",
         "--mcu-ram-kb", "256", "--mcu-flash-kb", "1024", "--no-must-be-ready"])
    req = _request(args)
    assert (req.mcu_ram_kb, req.mcu_flash_kb, req.must_be_ready) == (256, 1024, False)
    assert req.to_dict()["must_be_ready"] is False


def _search(table, **request):
    clock = FakeClock()
    req = SearchRequest(model="m", target="mcu", max_accuracy_drop=0.02, time_budget_s=600,
                        **request)
    plan = plan_candidates(req.target, "labelled", EPOCHS)
    return run_search(req, plan, ScriptedEvaluator(table, clock), clock=clock)


BASE = result("float32", 1_643_688, 0.9689)
INT8 = result("integer_only", 633_168, 0.9556)


def test_the_variant_that_fits_the_microcontroller_wins():
    outcome = _search({"float32": BASE, "integer_only": _ready(INT8)},
                      mcu_ram_kb=256, mcu_flash_kb=1024)
    assert outcome.best == "integer_only" and outcome.goal_met
    assert "arena 205 kB <= 256 kB RAM" in outcome.explanation      # kB of 1,024 bytes


def test_a_variant_over_the_ram_budget_is_not_the_answer_and_the_gap_is_named():
    outcome = _search({"float32": BASE, "integer_only": _ready(INT8)},
                      mcu_ram_kb=128, mcu_flash_kb=1024)
    assert outcome.best is None and not outcome.goal_met
    assert "a RAM budget of 206 kB" in outcome.explanation


def test_a_variant_that_is_not_ready_never_wins():
    outcome = _search({"float32": BASE, "integer_only": _ready(INT8, ready=False)})
    assert outcome.best is None
    unchecked = _search({"float32": BASE, "integer_only": INT8})       # never checked
    assert unchecked.best is None
    assert _search({"float32": BASE, "integer_only": INT8}, must_be_ready=False).best \
        == "integer_only"


def test_the_search_can_ask_for_the_most_accurate_model_that_fits():
    qat = result("qat+integer_only", 640_000, 0.9680)
    table = {"float32": BASE, "integer_only": _ready(INT8), "qat+integer_only": _ready(qat),
             "clustering+integer_only[clusters=16]": _ready(
                 result("clustering+integer_only[clusters=16]", 600_000, 0.9700),
                 arena=400_000)}                                  # the best, but over the RAM
    budget = dict(mcu_ram_kb=256, mcu_flash_kb=1024)
    smallest = _search(table, **budget)
    assert smallest.best == "integer_only"
    accurate = _search(table, objective="accuracy", **budget)
    assert accurate.best == "qat+integer_only"
    assert "the most accurate file that meets every goal" in accurate.explanation
    with pytest.raises(ValueError, match="objective"):
        SearchRequest(model="m", objective="speed")


def test_a_trial_whose_check_could_not_tell_is_not_ready_and_the_search_says_why():
    verdict = {"target": "mcu", "method": "interpreted", "ready": None,
               "summary": "Could not check: TFLite Micro failed to load the model without "
                          "naming a missing op or a short arena: TFLM crashed (signal 11).",
               "ops": [], "memory": None, "accuracy": None}
    outcome = _search({"float32": BASE, "integer_only": replace(INT8, readiness=verdict)})
    assert outcome.best is None and not outcome.goal_met
    check = outcome.checks["integer_only"]
    item = next(i for i in check.items if i.name == "target")
    assert not item.met and item.detail.startswith("could not check for Microcontroller (interpreted)")
    assert "1 trial could not be checked for the target, so it does not count as ready: " \
           "could not check for Microcontroller" in outcome.explanation
