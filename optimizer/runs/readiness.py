"""Readiness of every variant of a run (or a search) for one target, cached next to each file.

``check_variants`` runs ``python -m optimizer readiness`` once per ``.tflite`` (a process of
its own: the checks redirect file descriptor 2, fork, and load native compilers) and writes its
JSON to ``<variant folder>/readiness/<key>.json``. A check that cannot run or fails (an NPU
check whose tools are missing, a check process that crashed or timed out) is cached as a
"could not check: <why>" verdict (``ready`` null), never as ready or not ready. Every cached
verdict carries ``checked_with``: the check's code version and the tools it ran with
(``registry.check_fingerprint``). ``with_readiness`` only reads that cache and returns the
results with ``Result.readiness`` filled in, so pages render without waiting; it serves a
verdict only while ``checked_with`` still matches, so after ``make setup-npu`` (or a change of
the rules) the variants are checked again.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from optimizer import access
from optimizer.guide.schema import Result
from optimizer.measuring.readiness.contract import could_not_check
from optimizer.measuring.readiness.registry import target_check
from optimizer.paths import REPO_ROOT

TIMEOUT_S = 900


def cache_key(target: str, soc: str | None = None, budget=None, data: str | None = None) -> str:
    """The cache file's name for one way of checking (target, SoC, budget, with data)."""
    parts = [str(getattr(target, "value", target))]
    if soc:
        parts.append(soc.upper())
    if budget is not None:
        parts.append(f"ram{budget.ram_kb or 0}-flash{budget.flash_kb or 0}")
    if data:
        parts.append("data")
    return "_".join(parts) + ".json"


def _cache_file(result: Result, key: str) -> Path | None:
    if not result.ok or not result.tflite_path:
        return None
    return Path(result.tflite_path).parent / "readiness" / key


def _cached(file: Path | None, fingerprint: str) -> dict | None:
    """The verdict cached in ``file`` if it was checked with ``fingerprint``, else None."""
    if file is None or not file.is_file():
        return None
    try:
        verdict = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(verdict, dict) or verdict.get("checked_with") != fingerprint:
        return None  # checked with other code or tools (e.g. before `make setup-npu`)
    return verdict


def with_readiness(results, target, soc=None, budget=None, data=None) -> list[Result]:
    """Copies of ``results`` whose ``readiness`` is the cached verdict for ``target`` (or None
    when none was cached with the check's current code and tools)."""
    key = cache_key(target, soc, budget, data)
    fingerprint = target_check(target).fingerprint()
    out = []
    for result in results:
        result = result if isinstance(result, Result) else Result.from_dict(result)
        out.append(replace(result, readiness=_cached(_cache_file(result, key), fingerprint)))
    return out


def check_variants(results, target, soc=None, budget=None, data=None,
                   refresh: bool = False, *, workspace: str | None = None) -> list[Result]:
    """Run the readiness check for ``target`` on every measured variant (cached unless
    ``refresh``) and return the results with ``readiness`` filled in.

    ``data`` is a demo name or an ``.npz`` path (microcontroller: accuracy through TFLM).
    ``workspace`` is who asks (a browser's token; None for the command line): a variant of a
    run another workspace owns raises ``access.ReadOnly`` before anything is checked or written.
    """
    results = [r if isinstance(r, Result) else Result.from_dict(r) for r in results]
    for result in results:
        if result.tflite_path:
            access.require_owner(Path(result.tflite_path).parent, workspace,
                                 "Checking readiness")
    key = cache_key(target, soc, budget, data)
    check = target_check(target)
    fingerprint, missing = check.fingerprint(), check.missing()
    for result in results:
        result = result if isinstance(result, Result) else Result.from_dict(result)
        file = _cache_file(result, key)
        if file is None or (not refresh and _cached(file, fingerprint) is not None):
            continue
        if missing:  # e.g. "the NPU tools are not installed; run `make setup-npu`"
            verdict = could_not_check(target, check.method, missing).to_dict()
        else:
            verdict = _run_cli(result.tflite_path, target, soc, budget, data, check.method)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps({**verdict, "checked_with": fingerprint}))
    return with_readiness(results, target, soc, budget, data)


def _run_cli(tflite: str, target, soc, budget, data, method: str) -> dict:
    """The check's verdict from its own process; "could not check" when the process fails."""
    target = str(getattr(target, "value", target))
    command = [sys.executable, "-m", "optimizer", "readiness", "--model", str(tflite),
               "--target", target, "--json", "-"]
    if soc:
        command += ["--soc", soc]
    if data:
        command += ["--data", str(data)]
    if budget is not None:
        if budget.ram_kb:
            command += ["--mcu-ram-kb", str(budget.ram_kb)]
        if budget.flash_kb:
            command += ["--mcu-flash-kb", str(budget.flash_kb)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S,
                              env=env, cwd=str(REPO_ROOT))
    except subprocess.TimeoutExpired:
        return could_not_check(target, method, f"the {target} check did not finish in "
                                               f"{TIMEOUT_S} s").to_dict()
    if done.returncode == 0:
        try:
            return json.loads(done.stdout)
        except ValueError:
            pass
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    message = lines[-1] if lines else f"the check exited with status {done.returncode}"
    return could_not_check(target, method, message.removeprefix("error: ")[:300]).to_dict()


def run_data(model: str | None, data: str | None) -> str | None:
    """The ``--data`` for a run's variants: the demo's name, the run's ``.npz``, or the prepared
    ``data.npz`` of a checked upload; None when there is no test split to use."""
    from optimizer.models.demos import demo_names

    if model in demo_names():
        return model
    if data and str(data).lower().endswith(".npz") and Path(data).is_file():
        return str(data)
    if model and str(model).endswith("upload.json"):
        prepared = Path(model).parent / "data.npz"
        if prepared.is_file():
            return str(prepared)
    return None
