"""Results judged against the user's goals (``optimizer.guide.goals.Goals``)."""
from __future__ import annotations

import math

from optimizer.guide.schema import Result


def _as_result(item) -> Result:
    return item if isinstance(item, Result) else Result.from_dict(dict(item))


def baseline_of(results) -> Result | None:
    """The float32 baseline result if it ran, else None."""
    return next((r for r in map(_as_result, results) if r.technique == "float32" and r.ok), None)


def goal_checks(results, goals) -> dict:
    """``{technique: GoalCheck}`` for every non-baseline result (failed ones are "missed").

    Empty when there is no baseline to compare with or no goals object.
    """
    rows = [_as_result(r) for r in results]
    base = baseline_of(rows)
    if base is None or goals is None:
        return {}
    return {r.technique: goals.check(base, r) for r in rows if r.technique != "float32"}


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
