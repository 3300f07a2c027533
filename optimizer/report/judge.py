"""Results judged against the user's goals (``optimizer.guide.goals.Goals``): each result's
verdict, the accuracy budget's line, and the one "best" every surface shows.

``best_variant`` decides "best" for the Results page, My runs, the report and the CLI alike:
the smallest variant, on the goals' size basis (gzip for a size goal on the download, else on
disk), whose verdict is met on every goal (within noise or not checked yet never counts).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from optimizer.guide.goals import AccuracyGoal, Goals
from optimizer.guide.schema import Result

SIZE_KEYS = {"raw": "size_bytes", "gzip": "gzip_bytes"}


def _as_result(item) -> Result:
    return item if isinstance(item, Result) else Result.from_dict(dict(item))


def baseline_of(results) -> Result | None:
    """The float32 baseline result if it ran, else None."""
    return next((r for r in map(_as_result, results) if r.technique == "float32" and r.ok), None)


def default_goals(results=()) -> Goals:
    """The goals a run asked without any is judged by: the app's default, at most 1 point
    of accuracy lost (for a lower-is-better metric such as RMSE, 0.01 more)."""
    base = baseline_of(results)
    higher = base is None or bool(base.higher_is_better)
    return Goals(accuracy=AccuracyGoal(max_drop=0.01, higher_is_better=higher))


def goal_checks(results, goals) -> dict:
    """``{technique: GoalCheck}`` for every non-baseline result (failed ones are "missed").

    Empty when there is no baseline to compare with or no goals object.
    """
    rows = [_as_result(r) for r in results]
    base = baseline_of(rows)
    if base is None or goals is None:
        return {}
    return {r.technique: goals.check(base, r) for r in rows if r.technique != "float32"}


def goals_basis(goals) -> str:
    """The size basis "best" is chosen on: "gzip" for a size goal on the download, else "raw"
    (bytes on disk)."""
    size = getattr(goals, "size", None)
    return "gzip" if size is not None and size.compressed else "raw"


@dataclass(frozen=True)
class Best:
    """The variant the measurements favour for the goals, with the numbers that say why."""

    technique: str
    basis: str
    bytes: int
    base_bytes: int | None
    goals: int
    result: Result

    @property
    def ratio(self) -> float | None:
        return self.base_bytes / self.bytes if self.base_bytes and self.bytes else None

    def params(self) -> dict:
        """The ``best`` insight's params."""
        return {"technique": self.technique, "basis": self.basis, "bytes": self.bytes,
                "base_bytes": self.base_bytes, "ratio": self.ratio, "goals": self.goals}

    def row(self) -> dict:
        """What the run history keeps of it (``history --json``'s "best")."""
        r = self.result
        return {"technique": self.technique, "basis": self.basis, "bytes": self.bytes,
                "x_smaller": None if self.ratio is None else round(self.ratio, 2),
                "size_bytes": r.size_bytes, "gzip_bytes": r.gzip_bytes,
                "accuracy": r.accuracy, "accuracy_ci": r.accuracy_ci,
                "accuracy_delta": r.delta_value, "latency_ms_median": r.latency_ms_median}


def best_variant(results, goals, basis: str | None = None,
                 checks: dict | None = None) -> Best | None:
    """The smallest non-baseline variant on ``basis`` (default: the goals', ``goals_basis``)
    that meets every goal (ties: the better accuracy); None when none does or nothing was
    measured. ``checks`` are the verdicts already computed (``goal_checks``)."""
    rows = [_as_result(r) for r in results]
    base = baseline_of(rows)
    if base is None or goals is None or not goals.active:
        return None
    basis = basis or goals_basis(goals)
    key = SIZE_KEYS[basis]
    checks = checks if checks is not None else goal_checks(rows, goals)
    meeting = [r for r in rows if r.ok and r.technique != "float32" and getattr(r, key)
               and checks.get(r.technique) is not None and checks[r.technique].met]
    if not meeting:
        return None
    sign = -1.0 if base.higher_is_better else 1.0

    def rank(r: Result):
        accuracy = r.accuracy if r.accuracy is not None else (-math.inf if sign < 0 else math.inf)
        return getattr(r, key), sign * accuracy

    pick = min(meeting, key=rank)
    return Best(pick.technique, basis, int(getattr(pick, key)), getattr(base, key),
                len(goals.active), pick)


def accuracy_budget(results, goals) -> float | None:
    """The worst acceptable metric value under the accuracy goal (None without one).

    Absolute budgets subtract the drop from the baseline's value; relative ones a fraction of
    it; for lower-is-better metrics the limit lies above the baseline.
    """
    base = baseline_of(results)
    goal = getattr(goals, "accuracy", None)
    if base is None or goal is None or base.accuracy is None:
        return None
    value = float(base.accuracy)
    if not math.isfinite(value):
        return None
    drop = float(goal.max_drop) * (abs(value) if goal.relative else 1.0)
    return value - drop if goal.higher_is_better else value + drop
