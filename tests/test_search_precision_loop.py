"""The precision strategies in the search loop, driven by a scripted evaluator: the sensitivity
pass first, one verified plan at a time, the op-type fallback, the target's filter, the why of
every trial and trials_to_first_feasible. No TensorFlow (canned results, a written report)."""
from __future__ import annotations

import json

from search_helpers import FakeClock, ScriptedEvaluator, result

from optimizer.guide.precision import LayerPlan
from optimizer.search.candidates import plan_candidates, restricted
from optimizer.search.loop import run_search
from optimizer.search.request import SearchRequest

EPOCHS = {"pruning": 6, "clustering": 4, "qat": 2}


def _report(io: str, precisions=("int16",)) -> dict:
    """normalize repairs int8 at every precision; dense does nothing (a sensitivity report
    shaped like digits-outliers'; not a measurement)."""
    def choice(value, size, p):
        return {"value": value, "error": 0.1 if value < 1 else 0.0, "size_bytes": size,
                "latency_ms": 0.003, "precision_read": p}
    return {"metric": "accuracy", "higher_is_better": True, "samples": 1000,
            "split": "the first 1000 training samples", "io": io,
            "float": {"value": 1.0, "error": 0.0, "size_bytes": 182_064, "latency_ms": 0.003},
            "int8": {"value": 0.913, "error": 0.2, "size_bytes": 59_608, "latency_ms": 0.002},
            "layers": [{"name": "normalize", "op": "MUL", "index": 0,
                        "choices": {p: choice(1.0, 59_896, p) for p in precisions}},
                       {"name": "dense", "op": "FULLY_CONNECTED", "index": 1,
                        "choices": {p: choice(0.913, 60_168, p) for p in precisions}}]}


def _plan_trial(n, size, accuracy):
    return result(f"mixed[plan-{n}]", size, accuracy)


BASE = {"float32": result("float32", 182_064, 0.9711),
        "integer_only": result("integer_only", 59_696, 0.90),
        "int16x8": result("int16x8", 65_416, 0.9711, latency=0.03)}


def _run(table, tmp_path, target="mcu", strategy="sensitivity", **request):
    folder = tmp_path / "sensitivity"
    folder.mkdir(exist_ok=True)
    io = "integer" if target == "mcu" else "float"
    precisions = ("int16",) if target == "mcu" else ("int16", "float")
    (folder / "sensitivity.json").write_text(json.dumps(_report(io, precisions)))
    clock = FakeClock()
    req = SearchRequest(model="m", target=target, max_accuracy_drop=0.01, time_budget_s=900,
                        must_be_ready=False, precision_strategy=strategy, **request)
    plan = restricted(plan_candidates(req.target, "unlabelled", EPOCHS), req.techniques)
    evaluator = ScriptedEvaluator(table, clock, folders={"sensitivity": folder})
    return run_search(req, plan, evaluator, clock=clock), evaluator


def test_int8_missing_the_budget_runs_the_sensitivity_pass_then_one_plan(tmp_path):
    table = {**BASE, "mixed[plan-1]": _plan_trial(1, 59_896, 0.9667)}
    outcome, evaluator = _run(table, tmp_path)
    groups = [c[0] for c in evaluator.calls]
    assert groups == ["post-training", "sensitivity", "mixed[plan-1]"]
    assert evaluator.calls[1][1] == []                  # the pass is no trial of its own
    assert outcome.best == "mixed[plan-1]"              # smaller than int16x8, meets the budget
    doc = outcome.to_dict()
    why = {t["technique"]: t["why"] for t in doc["trials"]}
    assert why["mixed[plan-1]"].startswith("sensitivity-first plan 1: normalize int16")
    assert "post-training conversion mcu runs" in why["integer_only"]
    # float32, integer_only, int16x8 (meets, but is it eligible? it runs on TFLite Micro)
    assert doc["trials_to_first_feasible"] == 3
    assert doc["sensitivity_reports"][0]["folder"].endswith("sensitivity")


def test_the_next_plan_follows_only_a_miss(tmp_path):
    table = {**BASE, "mixed[plan-1]": _plan_trial(1, 59_896, 0.95),
             "mixed[plan-2]": _plan_trial(2, 60_400, 0.9667)}
    outcome, evaluator = _run(table, tmp_path, techniques=("integer_only",))
    groups = [c[0] for c in evaluator.calls]
    assert groups == ["post-training", "sensitivity", "mixed[plan-1]", "mixed[plan-2]"]
    assert outcome.best == "mixed[plan-2]"
    assert outcome.trials_to_first_feasible == 4        # float32, int8, plan 1, plan 2
    assert any("met every goal after 2 precision trial(s)" in n for n in outcome.notes)


def test_the_target_filters_the_choices_before_anything_runs(tmp_path, monkeypatch):
    """A microcontroller's plan has integer I/O and no float layer, though the report (CPU's
    shape here) offers float; the CPU's plan may take float, the cheaper one here."""
    from optimizer.guide.configs import Settings

    seen = []

    class Recording(ScriptedEvaluator):
        def run(self, batch, context):
            seen.extend(batch.knobs)
            return super().run(batch, context)

    for target, expected in (("mcu", ("integer", {"normalize": "int16"})),
                             ("cpu", ("float", {"normalize": "int16"}))):
        seen.clear()
        folder = tmp_path / target
        folder.mkdir()
        report = _report("float", ("int16", "float"))
        report["io"] = expected[0]
        (folder / "sensitivity.json").write_text(json.dumps(report))
        clock = FakeClock()
        req = SearchRequest(model="m", target=target, max_accuracy_drop=0.01,
                            must_be_ready=False, techniques=("integer_only",)
                            if target == "mcu" else ("integer",))
        table = {**BASE, "integer": result("integer", 60_016, 0.90),
                 "mixed[plan-1]": _plan_trial(1, 59_896, 0.9667)}
        plan = restricted(plan_candidates(req.target, "unlabelled", EPOCHS), req.techniques)
        run_search(req, plan, Recording(table, clock, folders={"sensitivity": folder}),
                   clock=clock)
        plan_pair = Settings.from_pairs(seen).mixed.layer_plan
        assert plan_pair.io == expected[0] and dict(plan_pair.layers) == expected[1]


def test_op_type_fallback_tries_op_types_by_weight_share(tmp_path, monkeypatch):
    import optimizer.search.strategies as strategies

    layers = [("normalize", "MUL", 64), ("dense", "FULLY_CONNECTED", 44_000),
              ("softmax (output)", "SOFTMAX", 0)]
    monkeypatch.setattr(strategies, "model_layers", lambda path: layers)
    table = {**BASE, "mixed[op-type-1]": result("mixed[op-type-1]", 61_000, 0.90),
             "mixed[op-type-2]": result("mixed[op-type-2]", 59_896, 0.9667)}
    outcome, evaluator = _run(table, tmp_path, strategy="op-type", techniques=("integer_only",))
    groups = [c[0] for c in evaluator.calls]
    assert groups == ["post-training", "mixed[op-type-1]", "mixed[op-type-2]"]
    why = outcome.why
    assert "every FULLY_CONNECTED layer to int16" in why["mixed[op-type-1]"]
    assert "every MUL layer to int16" in why["mixed[op-type-2]"]
    assert outcome.best == "mixed[op-type-2]" and outcome.trials_to_first_feasible == 4


def test_targets_without_a_per_layer_choice_fall_back_or_say_so(tmp_path):
    table = {"float32": BASE["float32"], "integer_only": BASE["integer_only"]}
    outcome, evaluator = _run(table, tmp_path, target="edgetpu")
    assert [c[0] for c in evaluator.calls] == ["post-training"]
    assert any("takes no per-layer precision but int8" in n for n in outcome.notes)
    assert outcome.trials_to_first_feasible is None


def test_plans_travel_as_the_mixed_setting(tmp_path):
    from optimizer.search.strategies import plan_batch

    batch = plan_batch("sensitivity", 3, LayerPlan((("normalize", "int16"),), io="integer"),
                       "because")
    cand = batch.candidates[0]
    assert cand.id == "mixed[plan-3]" and cand.spec == "mixed" and cand.why == "because"
    assert batch.knobs == cand.knobs == (
        'mixed.plan={"default":"int8","io":"integer","layers":{"normalize":"int16"}}',)
    from optimizer.guide.configs import Settings

    assert Settings.from_pairs(batch.knobs).mixed.layer_plan.layers == (("normalize", "int16"),)
