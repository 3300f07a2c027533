"""Check an insight's numbers against the results it names: each figure of a compared technique
must stand right after its name ("integer 1.20 µs vs float32 2.00 µs"), be the formatted value
of that technique's own result, and come in the order the names are given.

Used on a real run (tests/test_cli_run.py) and on hand-written ones (tests/test_insights.py).
"""
from __future__ import annotations

import re

from optimizer import numbers

SIZE_KEYS = {"raw": "size_bytes", "gzip": "gzip_bytes"}
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")


def expected_figures(insight, by: dict) -> list[tuple[str, str]]:
    """(name, formatted value) pairs the sentence must state, in order, computed from the
    results themselves (never from the insight's params)."""
    p, kind = insight.params, insight.kind
    base = by["float32"]
    if kind in ("faster", "slower", "not_meaningful"):
        return [(p["technique"], numbers.ms(by[p["technique"]].latency_ms_median)),
                (p["versus"], numbers.ms(by[p["versus"]].latency_ms_median))]
    if kind == "guide_contradicted" and p["about"] == "size":
        key = SIZE_KEYS[p["basis"]]
        return [(p["versus"], numbers.size(getattr(by[p["versus"]], key))),
                (p["technique"], numbers.size(getattr(by[p["technique"]], key)))]
    if kind in ("guide_contradicted", "within_noise") and p.get("about") in ("accuracy", "rival"):
        metric = p["metric"]
        return [(p["technique"], numbers.points(by[p["technique"]].delta_value, metric)),
                (p["versus"], numbers.points(by[p["versus"]].delta_value, metric))]
    if kind == "compressed_only":
        r = by[p["technique"]]
        return [(p["technique"], numbers.size(r.size_bytes)),
                ("float32", numbers.size(base.size_bytes)),
                (p["technique"], numbers.size(r.gzip_bytes)),
                ("float32", numbers.size(base.gzip_bytes))]
    if kind == "best":
        key = SIZE_KEYS[p["basis"]]
        return [(insight.versus, numbers.size(getattr(by[insight.versus], key))),
                ("float32", numbers.size(getattr(base, key)))]
    return []


def check(insights, results) -> int:
    """Assert every insight's figures (see the module docstring); return how many figures
    were checked."""
    by = {r.technique: r for r in results}
    checked = 0
    for insight in insights:
        text, position = insight.message, 0
        for name, value in expected_figures(insight, by):
            assert _NUMBER.match(value) or value.startswith("-"), (name, value)
            found = text.find(f"{name} {value}", position)
            assert found >= 0, (f"{insight.kind}: '{name} {value}' not in order in: {text}")
            # the figure is the first number after the name (no other number between)
            between = text[found + len(name):found + len(name) + 1 + len(value)]
            assert between.strip() == value, (insight.kind, between, value)
            position = found + len(name) + 1 + len(value)
            checked += 1
    return checked
