"""``bench search-strategies``'s table: every number through optimizer.numbers, the accuracy
with its interval and the paired test, the goal check's rule (no search runs here)."""
from __future__ import annotations

from optimizer.benchmarks.search_strategies import _row, markdown

SCENARIO = {"model": "digits-outliers", "target": "mcu", "max_accuracy_drop": 0.01}


def _doc(best, checks, first=3, trials=3):
    return {"best": best, "goal_met": best is not None, "checks": checks,
            "trials": [{}] * trials, "trials_to_first_feasible": first, "status": "finished"}


def test_the_table_gives_the_interval_the_paired_test_and_the_goal_state():
    best = {"technique": "mixed[plan-1]", "size_bytes": 59_896, "accuracy": 0.966667,
            "accuracy_ci": [0.9457, 0.9796], "metric": "accuracy", "samples": 450,
            "accuracy_delta": {"value": -0.004444, "ci": [-0.0156, 0.0067], "p_value": 0.51},
            "latency_ms_median": 0.00197, "latency_ms_p10": 0.00194, "latency_ms_p90": 0.00202}
    met = {**_row(_doc(best, {"mixed[plan-1]": {"state": "met"}}), 91.74),
           "scenario": SCENARIO, "letter": "d", "strategy": "sensitivity", "test_samples": 450}
    noise = {**_row(_doc(None, {"integer_only": {"state": "within_noise"}}, None, 2), 27.4),
             "scenario": SCENARIO, "letter": "b", "strategy": "keep-float", "test_samples": 450}
    lines = markdown({"rows": [met, noise]}).splitlines()
    assert "accuracy (95 % interval), change vs float32 (paired test)" in lines[0]
    assert lines[2] == ("| digits-outliers, mcu, drop <= 1 point | (d) sensitivity | "
                        "mixed[plan-1] | 59.9 kB | 1.97 µs (1.94–2.02 µs) | 96.667 % "
                        "(94.6–98.0), -0.444 points (p = 0.51) | yes | 3 | 3 | 92 s |")
    assert lines[3] == ("| digits-outliers, mcu, drop <= 1 point | (b) keep-float | – | – | "
                        "– | – (n=450) | no (a trial within noise) | 2 | – | 27 s |")
