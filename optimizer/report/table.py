"""The results table against the baseline, ready to display (numbers stay numbers).

Columns carry their unit in the name so a screenshot is self-explanatory; percentages and
"x smaller" factors are computed from the measured bytes and metric values only.
"""
from __future__ import annotations

import math

from optimizer.report import style
from optimizer.report.readiness import readiness_cell

#: Display columns, in order (the page configures their number formats).
COLUMNS = (
    "Technique", "Status", "Goals", "Readiness", "Accuracy", "Δ vs float32 (points)",
    "Size (kB)", "Size: x smaller", "gzip (kB)", "gzip: x smaller",
    "Latency median (ms)", "Latency p10–p90 (ms)", "Threads", "Kernels",
    "I/O dtypes", "Engine", "Sparsity (%)", "Distinct weights / channel", "Timed on", "Note",
)


def _num(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _spread(p10, p90) -> str:
    p10, p90 = _num(p10), _num(p90)
    return f"{p10:.3f}–{p90:.3f}" if p10 is not None and p90 is not None else ""


def timed_on(r) -> str:
    """Where a result ran and was timed: "ray · 10.0.0.5 (CPU model)"; "" when not recorded."""
    executor, node, cpu = (r.get(k) for k in ("executor", "node", "cpu"))
    where = " · ".join(str(v) for v in (executor, node) if isinstance(v, str) and v)
    return f"{where} ({cpu})" if where and isinstance(cpu, str) and cpu else where


def _goal_cell(check) -> str:
    if check is None:
        return ""
    return "✓ met" if check.met else "✗ missed"


def metric_header(frame) -> tuple[str, float]:
    """(column title, scale) for the metric column: "Accuracy (%)", "Agreement (%)" or "RMSE"."""
    metric = "accuracy"
    if "metric" in frame.columns and frame["metric"].notna().any():
        metric = str(frame["metric"].dropna().iloc[0])
    _, scale, unit = style.metric_axis(metric)
    name = {"agreement": "Agreement", "rmse": "RMSE"}.get(metric, "Accuracy")
    return (f"{name} (%)" if unit == "%" else name), scale


def results_table(frame, checks: dict | None = None):
    """A display DataFrame with one row per result and the columns in ``COLUMNS``.

    ``checks`` maps technique -> ``GoalCheck`` (from ``Goals.check``) for the Goals column;
    the baseline's cell is "baseline". Sizes are kB (1 kB = 1,000 bytes); the change in
    accuracy is in percentage points (metric units x 100 for fraction metrics).
    """
    import pandas as pd

    checks = checks or {}
    metric_title, scale = metric_header(frame)
    rows = []
    for _, r in frame.iterrows():
        is_base = bool(r.get("is_baseline", False))
        acc, delta = _num(r["accuracy"]), _num(r["accuracy_delta"])
        dtypes = ""
        if r["input_dtype"] or r["output_dtype"]:
            dtypes = f"{r['input_dtype'] or '?'} → {r['output_dtype'] or '?'}"
        sparsity = _num(r["sparsity"])
        rows.append({
            "Technique": r["technique"],
            "Status": r["status"],
            "Goals": "baseline" if is_base else _goal_cell(checks.get(r["technique"])),
            "Readiness": (readiness_cell(r.get("readiness"))
                          if isinstance(r.get("readiness"), dict) else ""),
            "Accuracy": None if acc is None else acc * scale,
            "Δ vs float32 (points)": None if delta is None else delta * scale,
            "Size (kB)": None if _num(r["size_bytes"]) is None else r["size_bytes"] / 1e3,
            "Size: x smaller": _num(r.get("size_ratio")),
            "gzip (kB)": None if _num(r["gzip_bytes"]) is None else r["gzip_bytes"] / 1e3,
            "gzip: x smaller": _num(r.get("gzip_ratio")),
            "Latency median (ms)": _num(r["latency_ms_median"]),
            "Latency p10–p90 (ms)": _spread(r["latency_ms_p10"], r["latency_ms_p90"]),
            "Threads": _num(r["latency_threads"]),
            "Kernels": r["latency_kernels"] or "",
            "I/O dtypes": dtypes,
            "Engine": r["engine"] or "",
            "Sparsity (%)": None if sparsity is None else 100 * sparsity,
            "Distinct weights / channel": _num(r["max_unique_weights_per_channel"]),
            "Timed on": timed_on(r),
            "Note": r["error"] or "",
        })
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.rename(columns={"Accuracy": metric_title})
