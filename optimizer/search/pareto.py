"""The Pareto front of a search's trials over (accuracy, size, latency), pure Python.

A trial dominates another when it is at least as good on all three axes and strictly better
on one: accuracy in the metric's direction (higher, or lower for error metrics), size as the
search measures it (bytes on disk or gzip bytes) and median latency. Only trials that ran
(``status == "ok"``) with a measured accuracy and size take part. A trial whose latency was
not measured cannot be shown to be faster than anything: it is compared as if it were slower
than every measured one (so it stays on the front only by accuracy or size), and the
explanation says its latency is missing. Nothing here estimates a value.
"""
from __future__ import annotations

import math

from optimizer.guide.pareto import nondominated
from optimizer.guide.schema import Result

SIZE_FIELDS = {"raw": "size_bytes", "gzip": "gzip_bytes"}


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def size_of(result: Result, measure: str = "raw") -> int | None:
    """The trial's size as the search measures it: bytes on disk ("raw") or gzip -9 bytes."""
    if measure not in SIZE_FIELDS:
        raise ValueError(f"size measure must be 'raw' or 'gzip', not {measure!r}")
    value = getattr(result, SIZE_FIELDS[measure])
    return int(value) if _finite(value) else None


def _point(result: Result, measure: str, higher_is_better: bool):
    """(accuracy cost, size, latency) with smaller better on every axis, or None."""
    size = size_of(result, measure)
    if not result.ok or size is None or not _finite(result.accuracy):
        return None
    accuracy = float(result.accuracy)
    latency = float(result.latency_ms_median) if _finite(result.latency_ms_median) else math.inf
    return (-accuracy if higher_is_better else accuracy, float(size), latency)


def pareto_front(results, measure: str = "raw", higher_is_better: bool = True) -> list[str]:
    """Technique ids of the trials no other trial dominates, smallest size first.

    ``results`` are ``Result`` records (or their dicts); ties (identical points) all stay on
    the front.
    """
    points = []
    for item in results:
        result = item if isinstance(item, Result) else Result.from_dict(dict(item))
        point = _point(result, measure, higher_is_better)
        if point is not None:
            points.append((result.technique, point))
    front = [(point, name) for name, point in nondominated(points)]
    front.sort(key=lambda item: (item[0][1], item[0][0], item[0][2]))
    return [name for _, name in front]
