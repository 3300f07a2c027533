"""Mixed-precision plans as data, the solver of the sensitivity-first search and the op-type
fallback: pure Python, fast (table-driven on small hand-made sensitivity reports)."""
from __future__ import annotations

import json

import pytest

from optimizer.guide.conversion import QuantizerRecipe
from optimizer.guide.precision import LayerPlan, MixedConfig
from optimizer.search.precision import SensitivityPlanner, options, solve
from optimizer.search.strategies import OpTypePlanner, accuracy_loss, max_loss


def _report(**layers):
    """A sensitivity report: float 1.0, int8 0.90 (size 1000, 1 ms); each layer's choices as
    ``name=(op, {precision: (value, size, latency)})``."""
    return {"metric": "accuracy", "higher_is_better": True, "split": "the first 10 samples",
            "float": {"value": 1.0, "size_bytes": 4000, "latency_ms": 2.0},
            "int8": {"value": 0.90, "size_bytes": 1000, "latency_ms": 1.0},
            "layers": [{"name": name, "op": op,
                        "choices": {p: {"value": v, "size_bytes": s, "latency_ms": lat,
                                        "precision_read": p}
                                    for p, (v, s, lat) in choices.items()}}
                       for name, (op, choices) in layers.items()]}


REPORT = _report(
    normalize=("MUL", {"int16": (0.995, 1010, 1.5), "float": (1.0, 1005, 1.0)}),
    dense=("FULLY_CONNECTED", {"int16": (0.91, 1200, 3.0), "float": (0.92, 2000, 1.0)}),
    dense_1=("FULLY_CONNECTED", {"int16": (0.90, 1300, 4.0), "float": (0.90, 3000, 1.0)}),
)


def test_a_plan_round_trips_through_its_canonical_json():
    plan = LayerPlan.parse('{"layers": {"b": "float", "a": "int16"}, "io": "integer"}')
    assert plan.text == ('{"default":"int8","io":"integer","layers":{"a":"int16","b":'
                         '"float"}}')
    assert LayerPlan.parse(plan.text) == plan and LayerPlan.parse(json.loads(plan.text)) == plan
    assert plan.resolved(["a", "b", "c"]) == {"a": "int16", "b": "float", "c": "int8"}
    assert plan.describe() == "a int16; b float; others int8"
    assert MixedConfig(plan=' {"layers": {"a": "int16"}} ').plan == LayerPlan(
        (("a", "int16"),)).text
    assert MixedConfig().layer_plan == LayerPlan()


@pytest.mark.parametrize("text, fragment", [
    ("{", "not JSON"), ('["a"]', "JSON object"), ('{"layers": {"a": "int4"}}', "int4"),
    ('{"io": "int8"}', "plan io"), ('{"layer": {}}', "unknown plan keys"),
    ('{"layers": ["a"]}', "map layer names"),
])
def test_a_bad_plan_names_the_problem(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        LayerPlan.parse(text)


def test_a_plan_naming_a_missing_layer_lists_the_models_layers():
    with pytest.raises(ValueError, match="does not have; its layers are: a, b"):
        LayerPlan((("x", "int16"),)).resolved(["a", "b"])


def test_the_mixed_recipe_writes_one_rule_per_precision_and_follows_the_io():
    recipe = QuantizerRecipe("mixed", recipe="static_wi8_ai8", calibrate=True, per_layer=True)
    calls = [c.source for c in recipe.calls(LayerPlan((("a", "int16"), ("b", "float"),
                                                        ("c", "int16")), io="integer"))]
    assert calls[0] == "quantizer.load_quantization_recipe(recipe=recipe.static_wi8_ai8())"
    assert ("quantizer.add_static_config(regex=layer_regex('a', 'c'), operation_name=recipe."
            "TFLOperationName.ALL_SUPPORTED, activation_num_bits=16, weight_num_bits=8)") in calls
    assert any("input_regex('a', 'c')" in c and "TFLOperationName.INPUT" in c for c in calls)
    assert any("output_regex('a', 'c')" in c and "TFLOperationName.OUTPUT," in c for c in calls)
    assert any("layer_regex('b')" in c and "NO_QUANTIZE" in c for c in calls)
    assert not any("NO_QUANTIZE" in c and "INPUT" in c for c in calls)   # integer I/O
    floats = [c.source for c in recipe.calls(LayerPlan())]
    assert len(floats) == 3 and "INPUT" in floats[1] and "OUTPUT" in floats[2]
    default16 = recipe.calls(LayerPlan((("a", "int8"),), default="int16"))
    assert "static_wi8_ai16" in default16[0].source and "activation_num_bits=8" in \
        default16[1].source
    with pytest.raises(ValueError, match="per-layer recipe"):
        QuantizerRecipe("bad", recipe="static_wi8_ai8", per_layer=True)


def test_the_solver_takes_the_cheapest_plan_predicted_to_meet_the_budget():
    opts = options(REPORT, ("int8", "int16", "float"), latency_counts=False)
    found = solve(REPORT, opts, target=0.01, io="float")
    # normalize alone removes the loss; float costs 5 bytes, int16 10: float wins on size
    assert dict(found.plan.layers) == {"normalize": "float"}
    assert found.predicted_loss == pytest.approx(0.0) and found.cost == pytest.approx(0.005)
    only16 = options(REPORT, ("int8", "int16"), latency_counts=False)
    assert dict(solve(REPORT, only16, 0.01, "integer").plan.layers) == {"normalize": "int16"}
    # a budget no option reaches: nothing is predicted to meet it
    assert solve(REPORT, only16, -0.5, "integer") is None


def test_latency_counts_against_int16_on_the_cpu():
    report = _report(a=("MUL", {"int16": (1.0, 1000, 9.0), "float": (1.0, 1100, 1.0)}))
    by_size = solve(report, options(report, ("int8", "int16", "float"), False), 0.0, "float")
    by_both = solve(report, options(report, ("int8", "int16", "float"), True), 0.0, "float")
    assert dict(by_size.plan.layers) == {"a": "int16"}   # 0 bytes more
    assert dict(by_both.plan.layers) == {"a": "float"}   # int16 is 9x slower here


def test_a_precision_the_quantizer_could_not_give_is_not_an_option():
    report = _report(a=("MUL", {"int16": (1.0, 1000, 1.0)}))
    report["layers"][0]["choices"]["int16"]["precision_read"] = "int8"
    assert options(report, ("int8", "int16"), False) == []


def test_the_next_plan_follows_only_a_miss_and_tightens_by_the_error():
    planner = SensitivityPlanner(REPORT, ("int8", "int16", "float"), "float", 0.01, False)
    first = planner.next()
    assert dict(first.plan.layers) == {"normalize": "float"} and "plan 1" in first.why
    planner.record(first, 0.03)          # measured: 3 points lost, predicted 0
    second = planner.next()
    assert second.plan.text != first.plan.text and "tightened by 3.00 points" in second.why
    assert "dense" in dict(second.plan.layers)
    planner.record(second, 0.05)
    # nothing is predicted to meet the tightened target any more: the plans escalate, one
    # more change each, never a plan twice, until no change is left
    seen = {first.plan.text, second.plan.text}
    while (step := planner.next()) is not None:
        assert "escalate" in step.why or "the last plan gives every layer int16" in step.why
        assert step.plan.text not in seen
        seen.add(step.plan.text)
        planner.record(step, 0.05)
    assert len(seen) <= 2 + 3 + 1


def test_the_int8_miss_tightens_the_first_target_and_the_error_ranks_what_accuracy_cannot():
    """A loss of one test sample: the sensitivity samples show none, so no plan is predicted
    to help; the first plan takes the change that lowers the output error most per cost."""
    report = _report(conv=("CONV_2D", {"int16": (0.90, 1100, 1.0)}),
                     dense=("FULLY_CONNECTED", {"int16": (0.90, 1050, 1.0)}))
    report["int8"]["value"] = 1.0                     # int8 loses nothing on these samples
    for entry, error in zip(report["layers"], (0.02, 0.05)):
        entry["choices"]["int16"]["value"] = 1.0
        entry["choices"]["int16"]["error"] = error
    report["int8"]["error"] = 0.06
    planner = SensitivityPlanner(report, ("int8", "int16"), "integer", 0.0, False,
                                 int8_loss=0.0022)
    first = planner.next()
    # conv: error -0.04 for 10% more bytes; dense: -0.01 for 5%: conv per cost
    assert dict(first.plan.layers) == {"conv": "int16"} and "escalate" in first.why
    assert "tightened" not in first.why
    planner.record(first, 0.0022)
    assert dict(planner.next().plan.layers) == {"conv": "int16", "dense": "int16"}
    assert planner.next() is None      # every layer int16 is the plan just proposed


def test_op_types_go_by_their_share_of_the_weights_then_accumulate():
    layers = [("normalize", "MUL", 64), ("dense", "FULLY_CONNECTED", 2000),
              ("dense_1", "FULLY_CONNECTED", 8000), ("softmax (output)", "SOFTMAX", 0)]
    planner = OpTypePlanner(layers, ("int8", "int16"), "integer")
    first, key = planner.next()
    assert key == ("FULLY_CONNECTED", "int16") and "share of the weights" in first.why
    assert dict(first.plan.layers) == {"dense": "int16", "dense_1": "int16"}
    planner.record(key, 0.08)
    second, key = planner.next()
    assert dict(second.plan.layers) == {"normalize": "int16"}
    planner.record(key, 0.0)
    third, key = planner.next()
    assert dict(third.plan.layers) == {"softmax (output)": "int16"}
    planner.record(key, 0.08)
    accumulated, key = planner.next()
    assert key is None and "accumulated" in accumulated.why
    assert dict(accumulated.plan.layers)["normalize"] == "int16"
    seen = {first.plan.text, second.plan.text, third.plan.text, accumulated.plan.text}
    while (step := planner.next()) is not None:
        assert step[0].plan.text not in seen
        seen.add(step[0].plan.text)


def test_losses_and_budgets_in_the_metrics_units():
    from optimizer.guide.goals import AccuracyGoal
    from optimizer.guide.schema import Result

    base, trial = Result("float32", accuracy=0.97), Result("mixed", accuracy=0.95)
    assert accuracy_loss(AccuracyGoal(0.01), base, trial) == pytest.approx(0.02)
    assert max_loss(AccuracyGoal(0.01), 0.9) == 0.01
    assert max_loss(AccuracyGoal(0.01, relative=True), 0.9) == pytest.approx(0.009)
    rmse = AccuracyGoal(0.1, higher_is_better=False)
    assert accuracy_loss(rmse, Result("float32", accuracy=0.0),
                         Result("x", accuracy=0.3)) == pytest.approx(0.3)
