"""``python -m optimizer search``: usage errors (fast) and one real small search (slow).

The real search runs the digits-outliers demo, where plain int8 misses a 1-point budget: with
the keep-float strategy (and int8 the only candidate: int4 weights would win on size) the search
repairs it by keeping the worst layer in float, then a by-hand repair adds one trial.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.guide.schema import RESULT_FIELDS

pytestmark = pytest.mark.cost(80)

ROOT = Path(__file__).resolve().parents[1]


def _search(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "optimizer", "search", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args, message", [
    (["--target", "cpu", "--max-accuracy-drop", "0.01"], "--model"),
    (["--model", "digits-cnn", "--target", "tpu", "--max-accuracy-drop", "0.01"],
     "unknown target 'tpu'"),
    (["--model", "digits-cnn", "--target", "cpu", "--max-accuracy-drop", "0.01",
      "--max-size-bytes", "1", "--max-size-ratio", "0.5"], "not allowed with argument"),
    (["--model", "digits-cnn", "--target", "cpu", "--max-accuracy-drop", "0.01",
      "--time-budget", "2"], "at least 10"),
    (["--model", "nope", "--target", "cpu", "--max-accuracy-drop", "0.01"], "unknown model"),
    (["--keep-float", "dense"], "--out DIR"),
    (["--plan", "plan.json"], "--out DIR"),
    (["--measure-precisions"], "--out DIR"),
    (["--model", "digits-cnn", "--target", "cpu", "--max-accuracy-drop", "0.01",
      "--precision-strategy", "greedy"], "invalid choice: 'greedy'"),
])
def test_unusable_input_is_one_line_and_exit_2(args, message):
    done = _search(*args, timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_real_search_repairs_int8_and_a_repair_by_hand_joins_it(tmp_path):
    """Started from a request file (``search --request FILE``, as the app starts it; the flags
    build the same request: tests/test_requests.py). Its trials are fixed (the baseline, int8
    and its repair) and its budget is far beyond them, so a loaded machine changes how long
    it takes, never what it finds."""
    from optimizer.search.request import SearchRequest

    out = tmp_path / "search"
    request = SearchRequest(model="digits-outliers", target="cpu", max_accuracy_drop=0.01,
                            time_budget_s=1800, settings=("finetune.epochs=1",),
                            precision_strategy="keep-float", techniques=("integer",))
    file = tmp_path / "asked.json"
    file.write_text(json.dumps(request.to_dict()))
    done = _search("--request", str(file), "--out", str(out), "--json", "-")
    assert done.returncode == 0, done.stderr[-3000:]
    assert SearchRequest.from_dict(json.loads((out / "search.json").read_text())) == request
    doc = json.loads(done.stdout)
    assert list(doc)[:5] == ["trials", "pareto", "best", "goal_met", "explanation"]
    trials = {t["technique"]: t for t in doc["trials"]}
    assert doc["trials"][0]["technique"] == "float32"
    assert all(set(RESULT_FIELDS) <= set(t) for t in doc["trials"])   # normal Result records
    assert set(doc["pareto"]) <= set(trials) and doc["pareto"]
    base = trials["float32"]
    # plain int8 misses the budget; the search keeps the worst layer in float and it meets it
    assert base["accuracy"] - trials["integer"]["accuracy"] > 0.01
    repaired = trials["integer[keep-float]"]
    assert repaired["status"] == "ok" and base["accuracy"] - repaired["accuracy"] <= 0.01
    assert repaired["settings"]["selective"]["float_layers"] == ["normalize"]
    assert doc["goal_met"] and doc["best"]["technique"] in trials
    assert doc["best"]["size_bytes"] <= repaired["size_bytes"]
    assert doc["checks"][doc["best"]["technique"]]["met"]
    assert doc["explanation"].startswith(f"{doc['best']['technique']} wins")
    assert doc["status"] == "finished" and doc["stopped"] is None and doc["skipped"] == []
    assert [t["technique"] for t in doc["trials"]] == ["float32", "integer",
                                                       "integer[keep-float]"]
    # results on disk like a run, with the repair's file, recipe and layer report
    on_disk = json.loads((out / "results.json").read_text())
    assert [r["technique"] for r in on_disk["results"]] == list(trials)
    assert Path(repaired["tflite_path"]).is_file()
    recipe = json.loads(Path(repaired["recipe_path"]).read_text())
    assert recipe["selective"]["denylisted_nodes"] and "QuantizationDebugger" in recipe[
        "converter"]
    report = json.loads((Path(doc["layer_reports"][0]["folder"]) / "layers.json").read_text())
    assert [k["layer"] for k in report["kept_float"]] == ["normalize"]
    second = [e["name"] for e in report["before"] if e["layer"] == "dense"]

    by_hand = _search("--out", str(out), "--keep-float", second[0], "--json", "-")
    assert by_hand.returncode == 0, by_hand.stderr[-3000:]
    doc2 = json.loads(by_hand.stdout)
    added = {t["technique"]: t for t in doc2["trials"]}["integer[keep-float#2]"]
    assert added["settings"]["selective"]["float_layers"] == ["dense"]
    assert added["settings"]["selective"]["mode"] == "hand"
    assert len(doc2["trials"]) == len(doc["trials"]) + 1
    assert doc2["layer_reports"][-1]["mode"] == "hand"
