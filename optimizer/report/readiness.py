"""Tables of the target readiness checks (``Result.readiness``), ready to display.

One row per variant (verdict, method, the memory TFLite Micro measured, accuracy through the
target's runtime next to LiteRT's) and, per variant, one row per op kind with where it runs.
"""
from __future__ import annotations

from optimizer import numbers
from optimizer.measuring.readiness.report import COULD_NOT_CHECK, verdict_state
from optimizer.report.style import result_name

READINESS_COLUMNS = ("Technique", "Readiness", "Method", "Summary", "Arena (kB)", "Flash (kB)",
                     "Target runtime metric (%)", "LiteRT metric (%)")
OP_COLUMNS = ("Op", "Count", "Where", "Reason")


def readiness_cell(verdict) -> str:
    """"ready (rules)", "not ready (interpreted)", "could not check (compiled)" or "not
    checked". A verdict whose check could not tell (``ready`` null, or an older cache's
    ``error``) is its own state, never ready and never "not ready"."""
    if not isinstance(verdict, dict) or not verdict:
        return "not checked"
    if verdict.get("error"):
        return COULD_NOT_CHECK
    return f"{verdict_state(verdict.get('ready'))} ({verdict.get('method')})"


def readiness_rows(results):
    """A DataFrame with one row per result: its readiness verdict and what was measured."""
    import pandas as pd

    rows = []
    for r in results:
        verdict = getattr(r, "readiness", None) or {}
        memory = verdict.get("memory") or {}
        accuracy = verdict.get("accuracy") or {}
        arena, flash = memory.get("arena_bytes"), memory.get("flash_bytes")
        fraction = accuracy.get("metric") in ("accuracy", "agreement")
        scale = 100.0 if fraction else 1.0
        tflm, litert = accuracy.get("tflm"), accuracy.get("litert")
        # the two runtimes' values in the decimals their difference needs
        places = numbers.metric_places([tflm, litert], [tflm - litert] if None not in (
            tflm, litert) else [], accuracy.get("metric") or "accuracy")
        rows.append({
            "Technique": result_name(r),
            "Readiness": readiness_cell(verdict),
            "Method": verdict.get("method") or "",
            "Summary": verdict.get("summary") or verdict.get("error") or "",
            "Arena (kB)": None if arena is None else numbers.round_sig(arena / 1024),
            "Flash (kB)": None if flash is None else numbers.round_sig(flash / 1024),
            "Target runtime metric (%)": None if tflm is None else round(tflm * scale, places),
            "LiteRT metric (%)": None if litert is None else round(litert * scale, places),
        })
    return pd.DataFrame(rows, columns=list(READINESS_COLUMNS))


def readiness_ops(verdict):
    """A DataFrame of a verdict's ops: op, count, where it runs, the reason."""
    import pandas as pd

    ops = (verdict or {}).get("ops") or []
    return pd.DataFrame([{"Op": o["op"], "Count": o["count"], "Where": o["where"],
                          "Reason": o.get("reason") or ""} for o in ops],
                        columns=list(OP_COLUMNS))
