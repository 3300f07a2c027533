"""The Pareto front of a results table (rows of a frame), for the charts.

Dominance itself is ``optimizer.guide.pareto``; this module picks the rows and axes.
"""
from __future__ import annotations

import math

from optimizer.guide.pareto import nondominated


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def frame_front(frame, objectives: dict) -> list:
    """Index labels of the rows of ``frame`` that no other row dominates.

    ``objectives`` maps a column to "min" or "max", e.g. ``{"size_bytes": "min",
    "accuracy": "max"}``. A row dominates another when it is at least as good on every
    objective and strictly better on one. Rows that failed (``status`` not "ok") or miss a
    value are left out. Exact ties are all kept. Returns labels in ascending order of the
    first objective.
    """
    for column, sense in objectives.items():
        if sense not in ("min", "max"):
            raise ValueError(f"objective for {column} must be 'min' or 'max', not {sense!r}")
    rows = []
    for label, row in frame.iterrows():
        if "status" in frame.columns and row["status"] != "ok":
            continue
        values = [row[c] for c in objectives]
        if not all(_finite(v) for v in values):
            continue
        # store as "smaller is better" on every axis
        rows.append((label, [float(v) if s == "min" else -float(v)
                             for v, s in zip(values, objectives.values())]))
    front = [(vals[0], label) for label, vals in nondominated(rows)]
    front.sort(key=lambda item: item[0])
    return [label for _, label in front]
