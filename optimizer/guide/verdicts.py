"""The verdict on a goal: met, missed, within noise of the budget, or not checked yet.

``GoalItem`` is one goal's verdict (its ``state``, a sentence with the numbers, and those numbers
as ``params``); ``GoalCheck`` all of a result's. The four states:

* ``met``: the measured value is within the goal (for accuracy: the point estimate of the drop
  is within the budget).
* ``missed``: it is not, and measurably so (for accuracy: the whole 95 % interval of the drop
  lies beyond the budget and the paired test against float32 gives p < 0.05).
* ``within_noise``: accuracy only: the measured drop exceeds the budget, but by less than the
  measurement can tell (the interval reaches back into the budget, or p >= 0.05).
* ``not_checked``: the goal needs a check that has not run yet, or could not tell ("must be
  ready for the target" before *Check readiness*, a microcontroller budget without a TFLite
  Micro measurement). Never met, never missed.

A check is ``met`` when every item is; it is ``missed`` when any item is; otherwise it is
``not_checked`` or ``within_noise`` (in that order).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class GoalState(str, Enum):
    MET = "met"
    MISSED = "missed"
    WITHIN_NOISE = "within_noise"
    NOT_CHECKED = "not_checked"

    def __str__(self) -> str:
        return self.value


#: How each state is written in a table cell and a sentence.
STATE_WORDS = {GoalState.MET: "met", GoalState.MISSED: "missed",
               GoalState.WITHIN_NOISE: "within noise of the budget",
               GoalState.NOT_CHECKED: "not checked yet"}
STATE_CELLS = {GoalState.MET: "✓ met", GoalState.MISSED: "✗ missed",
               GoalState.WITHIN_NOISE: "≈ within noise", GoalState.NOT_CHECKED: "… not checked"}


def state_of(value) -> GoalState:
    """A ``GoalState`` from a state, its value, or a bool (True: met, False: missed)."""
    if isinstance(value, bool):
        return GoalState.MET if value else GoalState.MISSED
    return GoalState(getattr(value, "value", value))


@dataclass(frozen=True)
class GoalItem:
    """The verdict on one goal: its name, its state, a sentence with the numbers and the
    numbers themselves (``params``). ``state`` may be given as a bool (True: met, False:
    missed), a ``GoalState`` or its value."""

    name: str
    state: GoalState
    detail: str
    params: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", state_of(self.state))

    @property
    def met(self) -> bool:
        return self.state == GoalState.MET

    def to_dict(self) -> dict:
        return {"name": self.name, "met": self.met, "state": self.state.value,
                "detail": self.detail, "params": dict(self.params)}


def as_result(value, role: str):
    """A ``Result`` from a Result or its dict; ``ValueError`` names the role otherwise."""
    from optimizer.guide.schema import Result

    if isinstance(value, Result):
        return value
    if isinstance(value, dict):
        return Result.from_dict(value)
    raise ValueError(f"the {role} must be a Result (or its to_dict()), not {type(value).__name__}")


def failure(result, role: str) -> str | None:
    """Why ``result`` has no measurement ("the candidate qat has no measurement (error: ..)"),
    or None when it ran."""
    if result.ok:
        return None
    why = f": {result.error}" if result.error else ""
    return f"{role} {result.technique} has no measurement ({result.status}{why})"


def combined_state(items) -> GoalState:
    """The state of several verdicts together (see the module docstring)."""
    states = {i.state for i in items}
    for state in (GoalState.MISSED, GoalState.NOT_CHECKED, GoalState.WITHIN_NOISE):
        if state in states:
            return state
    return GoalState.MET


def _and(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class GoalCheck:
    """The verdict on all goals; ``met`` is True when every item is met (or there are none)."""

    items: tuple[GoalItem, ...] = ()

    @property
    def state(self) -> GoalState:
        return combined_state(self.items)

    @property
    def met(self) -> bool:
        return self.state == GoalState.MET

    @property
    def summary(self) -> str:
        """One line: which goals are met, missed, within noise or not checked yet."""
        if not self.items:
            return "no goals set"
        by_state = {s: [i.name for i in self.items if i.state == s] for s in GoalState}
        if self.state == GoalState.MET:
            return f"meets all {len(self.items)} goal{'s' if len(self.items) > 1 else ''}"
        parts = []
        if by_state[GoalState.MISSED]:
            missed = by_state[GoalState.MISSED]
            parts.append(f"misses the {_and(missed)} goal{'s' if len(missed) > 1 else ''}")
        if by_state[GoalState.WITHIN_NOISE]:
            parts.append(f"within noise of the {_and(by_state[GoalState.WITHIN_NOISE])} budget")
        if by_state[GoalState.NOT_CHECKED]:
            parts.append(f"{_and(by_state[GoalState.NOT_CHECKED])} not checked yet")
        return "; ".join(parts)

    @property
    def cell(self) -> str:
        """The table cell: "✓ met", "✗ missed", "≈ within noise" or "… not checked"."""
        return STATE_CELLS[self.state]

    def to_dict(self) -> dict:
        return {"met": self.met, "state": self.state.value, "summary": self.summary,
                "items": [i.to_dict() for i in self.items]}
