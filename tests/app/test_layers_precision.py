"""AppTest: the Per-layer repair page's precision section on a finished search folder written
by hand (no TensorFlow): each layer's measured cost at int16 and float, the plan table that
starts from the search's plan, and a target with nothing to choose."""
from __future__ import annotations

import json
import re

from app_helpers import button, goto, new_app

from optimizer.guide.schema import Result
from optimizer.search.explain import SearchOutcome
from optimizer.search.request import SearchRequest

PLAN = '{"default":"int8","io":"float","layers":{"normalize":"float"}}'


def _report() -> dict:
    def choice(value, size, latency, p):
        return {"value": value, "error": 0.0, "size_bytes": size, "latency_ms": latency,
                "precision_read": p}
    return {"metric": "accuracy", "higher_is_better": True, "samples": 1000,
            "split": "the first 1000 training samples", "io": "float",
            "precisions": ["int8", "int16", "float"],
            "float": {"value": 1.0, "error": 0.0, "size_bytes": 182_064, "latency_ms": 0.0025},
            "int8": {"value": 0.913, "error": 0.2, "size_bytes": 59_872, "latency_ms": 0.0014},
            "layers": [{"name": "normalize", "op": "MUL", "index": 0, "choices": {
                           "int16": choice(1.0, 60_128, 0.0020, "int16"),
                           "float": choice(1.0, 60_080, 0.0014, "float")}},
                       {"name": "dense", "op": "FULLY_CONNECTED", "index": 1, "choices": {
                           "int16": choice(0.913, 60_400, 0.0029, "int16"),
                           "float": choice(0.915, 65_560, 0.0016, "float")}}]}


def _search(tmp_path, target: str):
    folder = tmp_path / f"search-{target}"
    (folder / "sensitivity").mkdir(parents=True)
    (folder / "sensitivity" / "sensitivity.json").write_text(json.dumps(_report()))
    request = SearchRequest(model="digits-outliers", target=target, max_accuracy_drop=0.01)
    (folder / "search.json").write_text(json.dumps(request.to_dict()))
    trials = [Result("float32", size_bytes=182_064, accuracy=0.9711),
              Result("integer", size_bytes=60_016, accuracy=0.90),
              Result("mixed[plan-1]", size_bytes=60_080, accuracy=0.9667,
                     settings={"mixed": {"plan": PLAN}})]
    outcome = SearchOutcome(status="finished", trials=trials, pareto=[], best="mixed[plan-1]",
                            goal_met=True, explanation="mixed[plan-1] wins",
                            sensitivity_reports=[{"trial": None, "mode": "sensitivity",
                                                  "folder": str(folder / "sensitivity")}])
    (folder / "outcome.json").write_text(json.dumps(outcome.to_dict()))
    return folder


def test_each_layer_shows_its_measured_cost_at_int16_and_float(tmp_path):
    at = goto(new_app(search_dir=str(_search(tmp_path, "cpu"))), "pages/layers.py")
    assert not at.exception, at.exception
    costs = next(d.value for d in at.dataframe if "int16: gain" in d.value.columns)
    rows = {r["Layer"]: r for r in costs.to_dict("records")}
    assert rows["normalize"]["int16: gain"] == "+8.70 points"       # 91.3% -> 100%
    assert rows["normalize"]["float: size"] == "+208 B"
    assert rows["dense"]["float: latency"] == "1.60 µs"
    texts = re.sub(r"\\(.)", r"\1", "\n".join(str(c.value) for c in at.caption))  # as shown
    assert "Measured on the first 1000 training samples" in texts
    assert "starts from mixed[plan-1]'s plan" in texts
    assert not button(at, "Measure this plan").disabled          # the plan has a float layer


def test_a_target_with_int8_layers_only_has_nothing_to_choose(tmp_path):
    at = goto(new_app(search_dir=str(_search(tmp_path, "edgetpu"))), "pages/layers.py")
    assert not at.exception, at.exception
    assert any("runs int8 layers only" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Measure this plan"]
