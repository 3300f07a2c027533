"""Precision strategies side by side: the same model, budget and target, four ways to reach it.

``search_strategies(scenarios, ...)`` runs, for each scenario (model, target, goals), four
searches, each ``python -m optimizer search --request FILE`` in a fresh process timed from
spawn to exit:

* (a) ``full+keep-float``: every technique the target allows, and when the target's int8
  misses the accuracy budget its worst layers kept in float (the search as it was before the
  precision strategies), within ``full_budget_s``;
* (b) ``keep-float``: only the target's int8 form, repaired by keeping its worst layers in
  float (where the target runs float ops);
* (c) ``op-type``: only the int8 form, then one op type at a time to a higher precision (like
  Intel Neural Compressor's basic strategy), then accumulated;
* (d) ``sensitivity``: only the int8 form, then the sensitivity pass and one verified plan at
  a time.

Each row reports the search's best trial (size, latency median with p10-p90, accuracy with its
95 % interval and its change against float32 with the paired test's p), whether the goals
were met (the goal check's rule: a drop beyond the budget that the paired test cannot tell
from noise is not met, and the row says so), the trials run, ``trials_to_first_feasible``
and the wall time; every number written by ``optimizer.numbers``. Printed figures, never a
test threshold.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from optimizer import numbers, paths
from optimizer.guide.registry import int8_conversion
from optimizer.measuring.latency import host_description
from optimizer.procs import child_env

#: The demos' scenarios: on the CPU a size goal (at most 40% of float32) keeps the float file
#: from counting as feasible; digits-cnn's int8 loses one test sample, so its budget is 0.
SCENARIOS = (
    {"model": "digits-outliers", "target": "cpu", "max_accuracy_drop": 0.01,
     "max_size_ratio": 0.4},
    {"model": "digits-outliers", "target": "mcu", "max_accuracy_drop": 0.01},
    {"model": "digits-cnn", "target": "cpu", "max_accuracy_drop": 0.0, "max_size_ratio": 0.4},
    {"model": "digits-cnn", "target": "mcu", "max_accuracy_drop": 0.0},
)
STRATEGIES = (("a", "full+keep-float"), ("b", "keep-float"), ("c", "op-type"),
              ("d", "sensitivity"))


def _request(scenario: dict, strategy: str, full_budget_s: float, budget_s: float) -> dict:
    from optimizer.search.request import SearchRequest

    goals = {k: v for k, v in scenario.items() if k != "model"}
    if strategy == "full+keep-float":
        return SearchRequest(model=scenario["model"], precision_strategy="keep-float",
                             time_budget_s=full_budget_s, **goals).to_dict()
    form = int8_conversion(scenario["target"])
    return SearchRequest(model=scenario["model"], precision_strategy=strategy,
                         techniques=(form.value,), time_budget_s=budget_s, **goals).to_dict()


def _row(doc: dict, wall: float) -> dict:
    best = doc.get("best") or {}
    trials = doc.get("trials", [])
    states = {c.get("state") for c in (doc.get("checks") or {}).values()
              if isinstance(c, dict)}
    return {"best": best.get("technique"), "goal_met": bool(doc.get("goal_met")),
            "within_noise": "within_noise" in states,
            "size_bytes": best.get("size_bytes"), "accuracy": best.get("accuracy"),
            "accuracy_ci": best.get("accuracy_ci"), "metric": best.get("metric"),
            "samples": best.get("samples"),
            "accuracy_delta": best.get("accuracy_delta"),
            "latency_ms": best.get("latency_ms_median"),
            "latency_p10_ms": best.get("latency_ms_p10"),
            "latency_p90_ms": best.get("latency_ms_p90"),
            "precision_counts": best.get("precision_counts"),
            "trials": len(trials), "trials_to_first_feasible": doc.get("trials_to_first_feasible"),
            "status": doc.get("status"), "wall_s": round(wall, 1)}


def _test_samples(model: str) -> int | None:
    """How many test samples a demo's accuracy is measured on (None for other models)."""
    from optimizer.models.demos import demo_names, get_demo

    return get_demo(model).dataset().sizes()["test"] if model in demo_names() else None


def run_one(scenario: dict, strategy: str, out: Path, full_budget_s: float,
            budget_s: float) -> dict:
    """One search of the table, in a fresh process; its row."""
    out.mkdir(parents=True, exist_ok=True)
    request = out / "asked.json"
    request.write_text(json.dumps(_request(scenario, strategy, full_budget_s, budget_s)))
    command = [sys.executable, "-m", "optimizer", "search", "--request", str(request),
               "--out", str(out / "search"), "--json", str(out / "outcome.json")]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=child_env())
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-400:], "wall_s": round(wall, 1)}
    return _row(json.loads((out / "outcome.json").read_text()), wall)


def search_strategies(scenarios=SCENARIOS, out: Path | str | None = None,
                      full_budget_s: float = 300.0, budget_s: float = 600.0,
                      strategies=STRATEGIES) -> dict:
    """Every scenario with every strategy (see the module docstring); the figures."""
    out = Path(out or paths.workspace() / "bench" /
               f"search-strategies-{time.strftime('%Y%m%d-%H%M%S')}")
    rows = []
    load_start = os.getloadavg()
    for scenario in scenarios:
        name = f"{scenario['model']}-{scenario['target']}"
        for letter, strategy in strategies:
            row = run_one(scenario, strategy, out / name / strategy, full_budget_s, budget_s)
            rows.append({"scenario": scenario, "letter": letter, "strategy": strategy,
                         "test_samples": _test_samples(scenario["model"]), **row})
            print(f"{name} ({letter}) {strategy}: {_line(rows[-1])}", file=sys.stderr)
    return {"measured_on": host_description(), "date": time.strftime("%Y-%m-%d"),
            "load_average": {"start": [round(v, 2) for v in load_start],
                             "end": [round(v, 2) for v in os.getloadavg()]},
            "full_budget_s": full_budget_s, "rows": rows, "folder": str(out)}


def _line(row: dict) -> str:
    if row.get("error"):
        return f"error: {row['error'][:200]}"
    return (f"best {row['best']} met={_met(row)} trials={numbers.count(row['trials'])} "
            f"first feasible={row['trials_to_first_feasible']} "
            f"wall={numbers.seconds(row['wall_s'])}")


def _accuracy(row: dict) -> str:
    """The best trial's metric with its 95 % interval ("96.667 % (95.0–97.9)") and its
    change against float32 with the paired test's p ("-0.444 points, p = 0.5"); the test
    sample count where the result carries no interval."""
    if row.get("accuracy") is None:
        return "–" + (f" (n={numbers.count(row['test_samples'])})"
                      if row.get("test_samples") else "")
    metric = row.get("metric") or "accuracy"
    delta = row.get("accuracy_delta") or {}
    delta = delta if isinstance(delta, dict) else {"value": delta}
    samples = row.get("samples") or row.get("test_samples")
    places = numbers.metric_places([row["accuracy"]], [delta.get("value")], metric, samples)
    text = numbers.metric_ci(row["accuracy"], row.get("accuracy_ci"), metric, places)
    if not row.get("accuracy_ci") and samples:
        text += f" (n={numbers.count(samples)})"
    if delta.get("value") is not None:
        text += f", {numbers.points(delta['value'], metric, places)}"
        if delta.get("p_value") is not None:
            text += f" ({numbers.p_value(delta['p_value'])})"
    return text


def _met(row: dict) -> str:
    if row["goal_met"]:
        return "yes"
    return "no (a trial within noise)" if row.get("within_noise") else "no"


def markdown(figures: dict) -> str:
    """The table for the README: one row per scenario and strategy (numbers by
    ``optimizer.numbers``, the one formatter)."""
    head = ("| model, target, goals | strategy | best trial | size | latency median (p10-p90) "
            "| accuracy (95 % interval), change vs float32 (paired test) | goal met | trials "
            "| first feasible at trial | wall |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for row in figures["rows"]:
        s = row["scenario"]
        drop = s["max_accuracy_drop"] * 100
        goals = f"drop <= {numbers.plain(drop)} point{'' if drop == 1 else 's'}" + (
            f", size <= {numbers.plain(s['max_size_ratio'])} of float32"
            if s.get("max_size_ratio") else "")
        where = f"{s['model']}, {s['target']}, {goals}"
        wall = numbers.seconds(row["wall_s"])
        if row.get("error"):
            lines.append(f"| {where} | ({row['letter']}) {row['strategy']} | error: "
                         f"{row['error'][:80]} | | | | | | | {wall} |")
            continue
        lat = (f"{numbers.ms(row['latency_ms'])} "
               f"({numbers.ms_range(row['latency_p10_ms'], row['latency_p90_ms'])})"
               if row["latency_ms"] is not None else "–")
        first = row["trials_to_first_feasible"]
        lines.append(f"| {where} | ({row['letter']}) {row['strategy']} | {row['best'] or '–'} "
                     f"| {numbers.size(row['size_bytes'])} | {lat} | {_accuracy(row)} | "
                     f"{_met(row)} | {numbers.count(row['trials'])} | "
                     f"{numbers.count(first) if first else '–'} | {wall} |")
    return "\n".join(lines)
