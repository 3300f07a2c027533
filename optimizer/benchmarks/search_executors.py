"""The same search with the local executor and on a Ray cluster, wall times side by side.

``search_executors(model, ...)`` runs ``python -m optimizer search`` twice, each a fresh
process timed from spawn to exit: first ``--executor local`` (batches one after another in
child processes), then ``--executor ray`` against ``ray_address`` or, when none is given, a
local head started for the occasion with ``cpus`` CPUs (``runs.ray_head``), where independent
batches run side by side. The time budget is meant to be large enough that neither search is
cut short: both outcomes' statuses and trial counts are reported, so a cut is visible. Printed
figures, never a test threshold.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from optimizer import paths
from optimizer.measuring.latency import host_description
from optimizer.procs import child_env

SEARCH_ARGS = ("--target", "cpu", "--max-accuracy-drop", "0.02", "--size-measure", "gzip")


def _search(model: str, out: Path, budget: float, settings, executor_args) -> dict:
    command = [sys.executable, "-m", "optimizer", "search", "--model", model, *SEARCH_ARGS,
               "--time-budget", str(budget), "--out", str(out), "--json", str(out) + ".json"]
    for pair in settings:
        command += ["--set", pair]
    command += list(executor_args)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=child_env())
    wall = time.perf_counter() - start
    doc = json.loads(Path(str(out) + ".json").read_text()) if done.returncode == 0 else {}
    trials = doc.get("trials", [])
    return {"wall_s": round(wall, 1), "exit": done.returncode, "status": doc.get("status"),
            "trials": len(trials), "ok": sum(1 for t in trials if t.get("status") == "ok"),
            "best": (doc.get("best") or {}).get("technique"),
            "nodes": sorted({t["node"] for t in trials if t.get("node")}),
            "error": None if done.returncode == 0 else done.stderr.strip()[-500:]}


def search_executors(model: str = "digits-cnn", ray_address: str | None = None, cpus: int = 2,
                     out: Path | str | None = None, budget: float = 1200.0,
                     settings=("finetune.epochs=1",)) -> dict:
    """Run the search locally, then on the cluster; return both figures and the speed-up."""
    out = Path(out or paths.workspace() / "bench" / f"search-executors-{time.strftime('%Y%m%d-%H%M%S')}")
    out.mkdir(parents=True, exist_ok=True)
    local = _search(model, out / "local", budget, settings, ["--executor", "local"])
    if ray_address:
        cluster = _search(model, out / "ray", budget, settings,
                          ["--executor", "ray", "--ray-address", ray_address])
        where = ray_address
    else:
        from optimizer.runs.ray_head import local_head

        with local_head(cpus) as head:
            cluster = _search(model, out / "ray", budget, settings,
                              ["--executor", "ray", "--ray-address", head["address"]])
        where = f"a local head with {cpus} CPUs"
    speedup = (local["wall_s"] / cluster["wall_s"]) if cluster["wall_s"] else None
    return {"model": model, "search": " ".join(SEARCH_ARGS), "settings": list(settings),
            "budget_s": budget, "measured_on": host_description(), "cluster": where,
            "local": local, "ray": cluster,
            "speedup": None if speedup is None else round(speedup, 2), "out": str(out)}
