"""The search loop driven by a scripted evaluator: order, skips, repair, budget, stop, verdict.

No TensorFlow: every trial is a canned ``Result`` and time is a fake clock the evaluator
advances, so each rule is checked exactly (and fast).
"""
from __future__ import annotations

import pytest
from search_helpers import FakeClock, ScriptedEvaluator, result

from optimizer.guide.schema import Result
from optimizer.search.candidates import REPAIR_ID, plan_candidates
from optimizer.search.loop import run_search
from optimizer.search.request import SearchRequest

EPOCHS = {"pruning": 6, "clustering": 4, "qat": 2}
# figures shaped like digits-mobilenetv2 (bytes, accuracy); not measurements
MNV2 = {
    "float32": result("float32", 1_643_688, 0.9689, gzip=1_494_559, latency=0.47),
    "float16": result("float16", 860_740, 0.9689, gzip=743_982),
    "dynamic_range": result("dynamic_range", 558_808, 0.9689, gzip=471_370, latency=0.76),
    "integer": result("integer", 633_608, 0.9556, gzip=472_972),
    "integer_only": result("integer_only", 633_168, 0.9556, gzip=472_854),
    "int16x8": result("int16x8", 720_656, 0.96, gzip=531_449, latency=21.5),
    REPAIR_ID: result(REPAIR_ID, 700_000, 0.9667, gzip=520_000),
    "qat": result("qat", 639_000, 0.9644, gzip=468_000),
    "pruning+integer[sparsity=0.5]": result("pruning+integer[sparsity=0.5]", 633_608, 0.96,
                                            gzip=353_000),
}


def _search(table, clock=None, plan_target="cpu", **request):
    clock = clock or FakeClock()
    req = SearchRequest(model="m", **{"target": plan_target, "max_accuracy_drop": 0.01,
                                      "time_budget_s": 600,
                                      "precision_strategy": "keep-float", **request})
    plan = plan_candidates(req.target, "labelled", EPOCHS)
    evaluator = ScriptedEvaluator(table, clock, seconds={"post-training": 60})
    updates = []
    outcome = run_search(req, plan, evaluator, clock=clock, on_update=updates.append)
    return outcome, evaluator, updates


def test_baseline_first_and_the_smallest_that_meets_the_budget_wins():
    outcome, evaluator, _ = _search(MNV2)
    assert evaluator.calls[0][1][0] == "float32"
    assert outcome.best == "dynamic_range" and outcome.goal_met
    assert outcome.trials[0].technique == "float32"
    text = outcome.explanation
    assert text.startswith("dynamic_range wins") and "2.94x smaller" in text
    # every retraining candidate is skipped: on disk none can be smaller than dynamic range
    assert [c[0] for c in evaluator.calls] == ["post-training"]
    reasons = {s.id: s.reason for s in outcome.skipped}
    assert reasons["qat"].startswith("cannot beat dynamic_range")
    assert "same int8 layout" in reasons["qat"]
    assert "cannot beat dynamic_range" in reasons[REPAIR_ID]
    assert set(outcome.pareto) <= {r.technique for r in outcome.trials}
    assert outcome.status == "finished"


def test_int8_missing_the_budget_queues_the_repair_first():
    table = dict(MNV2)
    table["dynamic_range"] = result("dynamic_range", 558_808, 0.90)   # now it misses too
    outcome, evaluator, _ = _search(table)
    groups = [c[0] for c in evaluator.calls]
    assert groups[:3] == ["post-training", "keep-float", "qat"]
    repair_context = evaluator.calls[1][2]
    assert repair_context.repairs.technique == "integer"
    assert repair_context.baseline.technique == "float32"
    assert outcome.checks[REPAIR_ID].met and outcome.checks["qat"].met
    # pruning+integer has int8's layout (633,608 B): smaller than QAT's and the repair's
    assert outcome.best == "pruning+integer[sparsity=0.5]"


def test_no_repair_where_float_ops_cannot_run():
    table = {"float32": MNV2["float32"],
             "integer_only": result("integer_only", 633_168, 0.9556)}
    outcome, evaluator, _ = _search(table, plan_target="edgetpu")
    assert "keep-float" not in [c[0] for c in evaluator.calls]
    assert any("selective quantization is not tried" in n for n in outcome.notes)
    assert outcome.best is None      # float32 does not run on an Edge TPU: never the answer


def test_a_batch_that_cannot_fit_the_time_left_is_not_started():
    clock = FakeClock()
    table = {**MNV2, "dynamic_range": result("dynamic_range", 558_808, 0.90)}
    req = SearchRequest(model="m", max_accuracy_drop=0.001, size_measure="gzip",
                        time_budget_s=200, precision_strategy="keep-float")
    plan = plan_candidates("cpu", "labelled", EPOCHS)
    evaluator = ScriptedEvaluator(table, clock, seconds={"post-training": 60}, default_s=50,
                                  epoch_s=10.0)
    outcome = run_search(req, plan, evaluator, clock=clock)
    started = [c[0] for c in evaluator.calls]
    assert started == ["post-training", "keep-float", "qat"]
    assert clock.now - 1000.0 <= req.time_budget_s
    not_started = [s for s in outcome.skipped if s.reason.startswith("not started")]
    assert not_started and "measured on" in not_started[0].reason
    assert "epochs x 10 s" in not_started[0].reason
    assert outcome.status == "finished"


def test_the_deadline_stops_a_running_batch_and_keeps_the_trials():
    clock = FakeClock()
    req = SearchRequest(model="m", max_accuracy_drop=0.01, size_measure="gzip",
                        time_budget_s=100)
    plan = plan_candidates("cpu", "labelled", EPOCHS)
    evaluator = ScriptedEvaluator(MNV2, clock, seconds={"post-training": 20, "qat": 500})
    outcome = run_search(req, plan, evaluator, clock=clock)
    assert clock.now - 1000.0 == pytest.approx(100)
    qat = outcome.trial("qat")
    assert qat.status == "cancelled" and "deadline" in qat.error
    assert outcome.best == "dynamic_range"          # what was found is kept
    assert any("qat: stopped at the deadline" in n for n in outcome.notes)


def test_a_stop_request_ends_the_search_with_what_it_found():
    clock = FakeClock()
    req = SearchRequest(model="m", max_accuracy_drop=0.01, size_measure="gzip")
    plan = plan_candidates("cpu", "labelled", EPOCHS)
    evaluator = ScriptedEvaluator(MNV2, clock)
    outcome = run_search(req, plan, evaluator, clock=clock,
                         should_stop=lambda: len(evaluator.calls) >= 2)
    assert outcome.status == "stopped" and outcome.stopped == "stopped by the user"
    assert len(evaluator.calls) == 2 and outcome.best is not None
    assert all("stopped by the user" in s.reason for s in outcome.skipped)
    assert "stopped early" in outcome.explanation


def test_a_harsher_knob_is_skipped_after_the_milder_one_missed():
    table = {**MNV2, "dynamic_range": result("dynamic_range", 558_808, 0.90)}
    for conv in ("", "+float16", "+dynamic_range", "+integer"):
        tid = f"pruning{conv}[sparsity=0.5]"
        table[tid] = result(tid, 633_608, 0.80, gzip=300_000)
    outcome, evaluator, _ = _search(table, size_measure="gzip")
    groups = [c[0] for c in evaluator.calls]
    assert "pruning[sparsity=0.5]" in groups and "pruning[sparsity=0.75]" not in groups
    reason = next(s.reason for s in outcome.skipped
                  if s.id == "pruning+integer[sparsity=0.75]")
    assert "pruning[sparsity=0.5] already missed the accuracy budget" in reason


def test_a_conversion_that_failed_on_the_float_model_is_not_retried_after_pruning():
    table = {**MNV2, "integer": Result.failed("integer", "op X has no int8 kernel")}
    outcome, _, _ = _search(table, size_measure="gzip")
    reason = next(s.reason for s in outcome.skipped if s.id.startswith("pruning+integer["))
    assert "already failed on the float model" in reason and "op X" in reason


def test_when_nothing_meets_the_goals_it_says_what_came_closest():
    outcome, _, _ = _search({k: v for k, v in MNV2.items() if k in ("float32", "float16",
                                                                     "dynamic_range")},
                            max_size_ratio=0.25)
    assert outcome.best is None and not outcome.goal_met
    text = outcome.explanation
    assert text.startswith("No trial met every goal.")
    assert "Closest: dynamic_range" in text and "a size target of 2.94x smaller" in text
    assert outcome.to_dict()["best"] is None


def test_latency_goal_is_a_constraint():
    outcome, _, _ = _search(MNV2, max_latency_ms=0.6)
    assert outcome.best == "pruning+integer[sparsity=0.5]"
    # dynamic_range is smaller but slower than 0.6 ms
    assert "dynamic_range (559 kB): median latency 0.760 ms" in outcome.explanation
    assert not outcome.checks["dynamic_range"].met


def test_the_baseline_failing_fails_the_search():
    outcome, evaluator, _ = _search({"float32": Result.failed("float32", "cannot convert")})
    assert outcome.status == "failed" and "cannot convert" in outcome.error
    assert len(evaluator.calls) == 1
    assert outcome.explanation.startswith("The search could not run")


def test_an_impossible_budget_for_accuracy_fails_fast():
    outcome, evaluator, _ = _search(MNV2, max_accuracy_drop=1.0)
    assert outcome.status == "failed" and "0.01 for 1 point" in outcome.error


def test_lower_is_better_metric():
    rmse = {"float32": result("float32", 1000, 0.10, metric="rmse", higher_is_better=False),
            "float16": result("float16", 500, 0.105, metric="rmse", higher_is_better=False),
            "dynamic_range": result("dynamic_range", 250, 0.2, metric="rmse",
                                    higher_is_better=False)}
    outcome, _, _ = _search(rmse, relative=True, max_accuracy_drop=0.1)
    assert outcome.best == "float16"       # dynamic_range doubles the error


def test_every_update_is_a_complete_outcome():
    outcome, evaluator, updates = _search(MNV2, size_measure="gzip", time_budget_s=700)
    assert len(updates) == len(evaluator.calls) + 1
    counts = [len(u.trials) for u in updates]
    assert counts == sorted(counts) and updates[0].status == "running"
    assert updates[-1].status == "finished"
    doc = outcome.to_dict()
    assert list(doc)[:5] == ["trials", "pareto", "best", "goal_met", "explanation"]
    assert all(isinstance(t, dict) and "technique" in t for t in doc["trials"])


def test_no_repair_for_a_model_without_a_graph_to_requantize():
    table = {**MNV2, "dynamic_range": result("dynamic_range", 558_808, 0.90)}
    clock = FakeClock()
    req = SearchRequest(model="m", max_accuracy_drop=0.01, precision_strategy="keep-float")
    evaluator = ScriptedEvaluator(table, clock)
    outcome = run_search(req, plan_candidates("cpu", "labelled", EPOCHS), evaluator, clock=clock,
                         repair_blocker="this .tflite model has none")
    assert "keep-float" not in [c[0] for c in evaluator.calls]
    assert any("this .tflite model has none" in n for n in outcome.notes)


class WideEvaluator(ScriptedEvaluator):
    """A scripted evaluator two batches wide (a cluster): records each wave it runs."""

    width = 2

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.waves = []

    def run_many(self, wave):
        self.waves.append([batch.group for batch, _ in wave])
        start = self.clock.now
        reports = []
        for batch, context in wave:   # side by side: each starts at the wave's start
            self.clock.now = start
            report = self.run(batch, context)
            report.extra["seconds"] = self.clock.now - start
            reports.append(report)
        self.clock.now = start + max(r.extra["seconds"] for r in reports)
        return reports


def test_a_wide_evaluator_runs_independent_batches_side_by_side_after_the_baseline():
    clock = FakeClock()
    table = {**MNV2, "dynamic_range": result("dynamic_range", 558_808, 0.90)}  # int8 misses
    req = SearchRequest(model="m", target="cpu", max_accuracy_drop=0.01, time_budget_s=3600)
    plan = plan_candidates(req.target, "labelled", EPOCHS)
    narrow = ScriptedEvaluator(table, FakeClock(), seconds={"post-training": 60})
    alone = run_search(req, plan, narrow, clock=narrow.clock)
    wide = WideEvaluator(table, clock, seconds={"post-training": 60})
    outcome = run_search(req, plan, wide, clock=clock)
    assert wide.calls[0][0] == "post-training" and len(wide.calls[0][1]) > 1  # alone, first
    assert wide.waves and all(len(w) == 2 for w in wide.waves[:-1])
    assert {c[0] for c in wide.calls} == {c[0] for c in narrow.calls}  # the same batches ran
    assert outcome.best == alone.best
    assert outcome.elapsed_s < alone.elapsed_s   # on the fake clock: waves overlap
