"""Pareto fronts over measured results: the trade-offs no other result beats on every axis."""
from __future__ import annotations

import math


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def pareto_front(frame, objectives: dict) -> list:
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
    front = []
    for label, vals in rows:
        dominated = any(
            all(o <= v for o, v in zip(other, vals)) and any(o < v for o, v in zip(other, vals))
            for _, other in rows
        )
        if not dominated:
            front.append((vals[0], label))
    front.sort(key=lambda item: item[0])
    return [label for _, label in front]
