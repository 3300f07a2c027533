"""A measured result as an experiment tracker's params, metrics and tags (no MLflow import).

* params: the recipe (``recipe.json`` beside the ``.tflite``) flattened to dotted keys
  (``settings.calibration.samples``), lists as JSON, server paths made public;
* metrics: what was measured, under fixed names -- ``accuracy``, ``accuracy_delta``, the
  interval ``accuracy_ci_low`` / ``accuracy_ci_high`` when the result carries ``accuracy_ci``,
  ``latency_ms_p50`` / ``_p10`` / ``_p90``, ``size_bytes``, ``gzip_bytes``, and
  ``arena_bytes`` / ``flash_bytes`` when the readiness check measured them; a value that was
  not measured is left out, never logged as 0;
* tags: where and how it ran (technique, status, target, executor, node, cpu, engine, kernels).
"""
from __future__ import annotations

import json
import math

from optimizer.report.public import public_record, public_text

#: MLflow's limits: a param value's length, a key's length.
MAX_VALUE = 6000
MAX_KEY = 250

_READY = {True: "ready", False: "not ready", None: "could not check"}

METRICS = ("accuracy", "accuracy_delta", "accuracy_ci_low", "accuracy_ci_high",
           "latency_ms_p50", "latency_ms_p10", "latency_ms_p90", "size_bytes", "gzip_bytes",
           "arena_bytes", "flash_bytes")


def flatten(value, prefix: str = "", run_dir=None) -> dict:
    """A nested JSON-like record as ``{"a.b.c": "text"}``; lists become JSON text, server paths
    their public form, long values are cut to MLflow's limit (ending in "...")."""
    out = {}
    value = public_record(value, run_dir)
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(item, name, run_dir) if isinstance(item, dict) and item
                       else {name: item})
    elif prefix:
        out[prefix] = value
    return {k[:MAX_KEY]: _text(v) for k, v in out.items()}


def _text(value) -> str:
    if isinstance(value, (list, tuple, dict)):
        text = json.dumps(value, default=str)
    else:
        text = "" if value is None else str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 3] + "..."


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _interval(ci) -> tuple:
    """``(low, high)`` from ``accuracy_ci`` given as ``[low, high]`` or ``{"low", "high"}``."""
    if isinstance(ci, dict):
        return _number(ci.get("low")), _number(ci.get("high"))
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        return _number(ci[0]), _number(ci[1])
    return None, None


def result_metrics(result) -> dict:
    """The measured numbers of one ``Result`` under the names in ``METRICS`` (unmeasured
    ones absent)."""
    get = lambda name: getattr(result, name, None)   # noqa: E731
    low, high = _interval(get("accuracy_ci"))
    memory = (get("readiness") or {}).get("memory") or {}
    delta = get("accuracy_delta")           # the paired test's record (an older run: a number)
    values = {"accuracy": get("accuracy"),
              "accuracy_delta": delta.get("value") if isinstance(delta, dict) else delta,
              "accuracy_ci_low": low, "accuracy_ci_high": high,
              "latency_ms_p50": get("latency_ms_median"), "latency_ms_p10": get("latency_ms_p10"),
              "latency_ms_p90": get("latency_ms_p90"), "size_bytes": get("size_bytes"),
              "gzip_bytes": get("gzip_bytes"), "arena_bytes": memory.get("arena_bytes"),
              "flash_bytes": memory.get("flash_bytes")}
    return {k: n for k, v in values.items() if (n := _number(v)) is not None}


def result_tags(result, target: str | None) -> dict:
    """Tags of one result: what it is and where it was measured (server paths made public)."""
    readiness = getattr(result, "readiness", None) or {}
    tags = {"technique": result.technique, "status": result.status, "metric": result.metric,
            "engine": result.engine, "executor": result.executor, "node": result.node,
            "cpu": result.cpu, "kernels": result.latency_kernels,
            "measured_on": result.measured_on, "target": target,
            "readiness": (f"{_READY[readiness.get('ready')]} ({readiness.get('method')})"
                          if "ready" in readiness else None),
            "error": public_text(result.error) if result.error else None}
    return {k: _text(v) for k, v in tags.items() if v not in (None, "")}
