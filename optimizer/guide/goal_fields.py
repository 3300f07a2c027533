"""The goals part of a run or search request: flat fields named like the command-line flags.

``GoalFields`` is the base of ``RunRequest`` and ``SearchRequest``: ``target``,
``max_accuracy_drop`` (+ ``relative``), ``max_size_bytes`` / ``max_size_ratio`` (+
``size_measure``), ``max_latency_ms``, ``mcu_ram_kb`` / ``mcu_flash_kb`` and
``must_be_ready`` -- the keys of ``request.json`` / ``search.json`` and the flags
``--target``, ``--max-accuracy-drop``, ... of both ``run`` and ``search``. ``goals()`` turns
them into the ``optimizer.guide.goals`` objects every result is judged with (the accuracy
goal's direction comes from the metric, known once the baseline is measured);
``from_goals`` is the one way a page's ``Goals`` become request fields (its exact inverse).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from optimizer.guide.goals import (
    FRACTION_METRICS,
    AccuracyGoal,
    Goals,
    LatencyGoal,
    McuBudget,
    SizeGoal,
    TargetGoal,
)
from optimizer.guide.targets import TARGETS, Target

SIZE_MEASURES = ("raw", "gzip")
#: Field metadata of what only judges results (goals, answers), never changes a measurement:
#: the result cache leaves those fields out of its key.
JUDGES = {"judges": True}


def _judging(default):
    return field(default=default, kw_only=True, metadata=JUDGES)


@dataclass(frozen=True, kw_only=True)
class GoalFields:
    """The user's goals as plain fields (``None``: not set).

    ``max_accuracy_drop`` is in the metric's units (0.01 = 1 point of accuracy) or, with
    ``relative``, a fraction of the baseline; ``max_size_bytes`` / ``max_size_ratio`` (at most
    one) judge bytes on disk, or the gzip -9 download with ``size_measure="gzip"``;
    ``max_latency_ms`` the median latency; ``mcu_ram_kb`` / ``mcu_flash_kb`` the
    microcontroller's budgets (target ``mcu``, 1 kB = 1024 bytes); ``must_be_ready`` requires
    the target's readiness check to say ready (None: the target row's default,
    ``TargetInfo.ready_by_default``).
    """

    target: Target | None = _judging(None)
    max_accuracy_drop: float | None = _judging(None)
    relative: bool = _judging(False)
    max_size_bytes: int | None = _judging(None)
    max_size_ratio: float | None = _judging(None)
    max_latency_ms: float | None = _judging(None)
    size_measure: str = _judging("raw")
    mcu_ram_kb: int | None = _judging(None)
    mcu_flash_kb: int | None = _judging(None)
    must_be_ready: bool | None = _judging(None)

    def __post_init__(self) -> None:
        if self.target is not None:
            try:
                object.__setattr__(self, "target", Target(self.target))
            except ValueError:
                raise ValueError(f"unknown target '{self.target}'; use one of: "
                                 f"{', '.join(t.value for t in Target)}") from None
        if self.size_measure not in SIZE_MEASURES:
            raise ValueError(f"size measure '{self.size_measure}' is not known; use 'raw' (bytes "
                             "on disk) or 'gzip' (download size)")
        for name in ("relative", "must_be_ready"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, not {value!r}")
        if self.relative and self.max_accuracy_drop is None:
            raise ValueError("relative applies to the accuracy budget: give max_accuracy_drop "
                             "too (--max-accuracy-drop 0.01 --relative for 1% of the baseline)")
        if (self.mcu_ram_kb is not None or self.mcu_flash_kb is not None) \
                and self.target != Target.MCU:
            raise ValueError("microcontroller RAM/flash budgets apply to the mcu target only; "
                             "use --target mcu or drop them")
        if self.must_be_ready and self.target is None:
            raise ValueError("must_be_ready needs a target: give --target (e.g. edgetpu)")
        self.goals()  # validates the budgets (ValueError names the fix)

    @property
    def readiness_required(self) -> bool:
        """True when results must pass the target's readiness check (``must_be_ready``, else
        the target row's ``ready_by_default``; never without a target)."""
        if self.target is None:
            return False
        if self.must_be_ready is not None:
            return self.must_be_ready
        return TARGETS[self.target].ready_by_default

    @property
    def mcu_budget(self) -> McuBudget | None:
        """The microcontroller budget, or None when neither RAM nor flash is given."""
        if self.mcu_ram_kb is None and self.mcu_flash_kb is None:
            return None
        return McuBudget(ram_kb=self.mcu_ram_kb, flash_kb=self.mcu_flash_kb)

    def goals(self, higher_is_better: bool = True) -> Goals | None:
        """The goals results are judged with (the metric's direction from the baseline), or
        None when no goal is set at all."""
        size = None
        if self.max_size_bytes is not None or self.max_size_ratio is not None:
            if self.max_size_bytes is not None and self.max_size_ratio is not None:
                raise ValueError("give either a size limit in bytes or a ratio to the baseline, "
                                 "not both")
            size = SizeGoal(max_bytes=self.max_size_bytes, max_ratio=self.max_size_ratio,
                            compressed=self.size_measure == "gzip")
        latency = LatencyGoal(self.max_latency_ms) if self.max_latency_ms is not None else None
        accuracy = None
        if self.max_accuracy_drop is not None:
            accuracy = AccuracyGoal(self.max_accuracy_drop, relative=self.relative,
                                    higher_is_better=higher_is_better)
        ready = TargetGoal(self.target.value) if self.readiness_required else None
        goals = Goals(accuracy=accuracy, size=size, latency=latency, mcu=self.mcu_budget,
                      target=ready)
        return goals if goals.active else None

    def check_metric(self, metric: str) -> None:
        """Raise ``ValueError`` when an absolute budget cannot be meant for ``metric``: a drop
        of 1 or more on a fraction metric (accuracy) allows any result at all."""
        drop = self.max_accuracy_drop
        if drop is not None and metric in FRACTION_METRICS and not self.relative and drop >= 1:
            raise ValueError(f"--max-accuracy-drop {drop:g} allows a drop of "
                             f"{drop * 100:g} points of {metric}; give it in "
                             "the metric's units, e.g. 0.01 for 1 point")

    @classmethod
    def from_goals(cls, goals: Goals | None, target=None, **fields):
        """The request whose goal fields say exactly what ``goals`` says on ``target`` (the one
        builder the Run and Search pages use); ``fields`` are the request's other fields
        (model, data, ...) and may repeat a goal field only with the same value (e.g.
        ``size_measure``, which goals without a size goal do not carry).
        ``goals.accuracy.higher_is_better`` is not kept: it is the metric's, read from the
        baseline when the results are judged."""
        asked = goal_fields(goals, target)
        clash = sorted(k for k in set(asked) & set(fields) if asked[k] != fields[k])
        if clash:
            raise ValueError(f"{', '.join(clash)} differ from what the goals say; give them "
                             f"once, in the goals")
        return cls(**{**asked, **fields})


def goal_fields(goals: Goals | None, target=None) -> dict:
    """``GoalFields`` keyword arguments for ``goals`` on ``target``: the inverse of
    ``GoalFields.goals`` (``size_measure`` only when there is a size goal)."""
    target = None if target is None else Target(getattr(target, "value", target))
    out = {"target": target, "must_be_ready": False}
    if goals is None:
        return out
    if goals.target is not None:
        if target is None or goals.target.target != target.value:
            raise ValueError(f"the readiness goal is for '{goals.target.target}' but the target "
                             f"is '{target.value if target else None}'; give one target")
        out["must_be_ready"] = True
    if goals.accuracy is not None:
        out.update(max_accuracy_drop=goals.accuracy.max_drop, relative=goals.accuracy.relative)
    if goals.size is not None:
        out.update(max_size_bytes=goals.size.max_bytes, max_size_ratio=goals.size.max_ratio,
                   size_measure="gzip" if goals.size.compressed else "raw")
    if goals.latency is not None:
        out["max_latency_ms"] = goals.latency.max_ms
    if goals.mcu is not None:
        out.update(mcu_ram_kb=goals.mcu.ram_kb, mcu_flash_kb=goals.mcu.flash_kb)
    return out
