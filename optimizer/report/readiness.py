"""Tables of the target readiness checks (``Result.readiness``), ready to display.

One row per variant (verdict, method, the memory TFLite Micro measured, accuracy through the
target's runtime next to LiteRT's) and, per variant, one row per op kind with where it runs.
"""
from __future__ import annotations

from optimizer import numbers
from optimizer.measuring.readiness.report import (
    COULD_NOT_CHECK,
    shown_reasons,
    shown_summary,
    verdict_state,
)
from optimizer.report.style import headed, result_name, shown_name
from optimizer.text import N_, tr

#: Column names (message ids: shown in the language in use).
READINESS_COLUMNS = (N_("Technique"), N_("Readiness"), N_("Method"), N_("Summary"),
                     N_("Arena (kB)"), N_("Flash (kB)"), N_("Target runtime metric (%)"),
                     N_("LiteRT metric (%)"))
OP_COLUMNS = (N_("Op"), N_("Count"), N_("Where"), N_("Reason"))
#: The states and methods of a verdict, as a cell names them (message ids).
STATE_WORDS = {"ready": N_("ready"), "not ready": N_("not ready"),
               COULD_NOT_CHECK: N_("could not check"), "not checked": N_("not checked")}
METHOD_WORDS = {"rules": N_("rules"), "interpreted": N_("interpreted"),
                "compiled": N_("compiled"), "partitioned": N_("partitioned")}
#: Where an op runs (message ids).
WHERE_WORDS = {"accelerator": N_("accelerator"), "cpu": N_("CPU"),
               "unsupported": N_("unsupported")}


def _word(words: dict, value) -> str:
    found = words.get(value)
    return tr(found) if found else ("" if value is None else str(value))


def readiness_cell(verdict) -> str:
    """"ready (rules)", "not ready (interpreted)", "could not check (compiled)" or "not
    checked". A verdict whose check could not tell (``ready`` null, or an older cache's
    ``error``) is its own state, never ready and never "not ready"."""
    if not isinstance(verdict, dict) or not verdict:
        return _word(STATE_WORDS, "not checked")
    if verdict.get("error"):
        return _word(STATE_WORDS, COULD_NOT_CHECK)
    return tr("{state} ({method})", state=_word(STATE_WORDS, verdict_state(verdict.get("ready"))),
              method=_word(METHOD_WORDS, verdict.get("method")))


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
            "Technique": shown_name(result_name(r)),
            "Readiness": readiness_cell(verdict),
            "Method": _word(METHOD_WORDS, verdict.get("method")),
            "Summary": shown_summary(verdict) or verdict.get("error") or "",
            "Arena (kB)": None if arena is None else numbers.round_sig(arena / 1024),
            "Flash (kB)": None if flash is None else numbers.round_sig(flash / 1024),
            "Target runtime metric (%)": None if tflm is None else round(tflm * scale, places),
            "LiteRT metric (%)": None if litert is None else round(litert * scale, places),
        })
    return headed(pd.DataFrame(rows, columns=list(READINESS_COLUMNS)))


def readiness_ops(verdict):
    """A DataFrame of a verdict's ops: op, count, where it runs, the reason."""
    import pandas as pd

    ops = (verdict or {}).get("ops") or []
    reasons = shown_reasons(verdict or {})
    return headed(pd.DataFrame([{"Op": o["op"], "Count": o["count"],
                                 "Where": _word(WHERE_WORDS, o["where"]),
                                 "Reason": reason or ""} for o, reason in zip(ops, reasons)],
                               columns=list(OP_COLUMNS)))
