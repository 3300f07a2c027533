"""Pareto dominance: the trade-offs no other point beats on every axis (pure functions).

One definition for every front the app draws or a search reports: points are tuples where
smaller is better on every axis (callers negate "higher is better" values).
"""
from __future__ import annotations


def dominates(a: tuple, b: tuple) -> bool:
    """True when point ``a`` is at least as good as ``b`` everywhere and better somewhere."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def nondominated(points) -> list:
    """The ``(label, point)`` pairs no other point dominates, in input order; exact ties (equal
    points) all stay."""
    points = list(points)
    return [(label, point) for label, point in points
            if not any(dominates(other, point) for _, other in points)]
