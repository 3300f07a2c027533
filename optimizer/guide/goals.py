"""The user's goals as objects: an accuracy budget, a size target, a latency target.

In the spirit of Intel Neural Compressor's accuracy criterion: an ``AccuracyGoal`` knows whether
its budget is an absolute drop (in the metric's units: 0.01 = 1 point of accuracy) or relative
(a fraction of the baseline), and whether the metric is higher- or lower-is-better. A
``SizeGoal`` is a byte limit or a ratio to the baseline, on disk or gzip-compressed. A
``LatencyGoal`` compares the measured median. Each goal's ``is_met(baseline, candidate)`` is
what the app, the search and the tests all use; ``Goals.check`` explains every verdict with the
numbers. A value that was not measured never meets a goal.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

from optimizer.guide.schema import Result

#: Metrics stored as fractions in [0, 1]; shown as percent, drops in points.
FRACTION_METRICS = frozenset({"accuracy", "agreement"})
# Float noise tolerance: a drop of exactly the budget (e.g. 9/450 - 0.02) must count as met.
_EPS = 1e-9


def _number(value, name: str, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}; {fix}")
    return float(value)


def _result(value, role: str) -> Result:
    if isinstance(value, Result):
        return value
    if isinstance(value, dict):
        return Result.from_dict(value)
    raise ValueError(f"the {role} must be a Result (or its to_dict()), not {type(value).__name__}")


def _failed(result: Result, role: str) -> str | None:
    if result.ok:
        return None
    why = f": {result.error}" if result.error else ""
    return f"{role} {result.technique} has no measurement ({result.status}{why})"


@dataclass(frozen=True)
class GoalItem:
    """The verdict on one goal: its name, whether it is met, and a sentence with the numbers."""

    name: str
    met: bool
    detail: str

    def to_dict(self) -> dict:
        return {"name": self.name, "met": self.met, "detail": self.detail}


@dataclass(frozen=True)
class GoalCheck:
    """The verdict on all goals; ``met`` is True when every item is met (or there are none)."""

    met: bool
    items: tuple[GoalItem, ...] = ()

    @property
    def summary(self) -> str:
        """One line: which goals are met or missed."""
        if not self.items:
            return "no goals set"
        missed = [i.name for i in self.items if not i.met]
        if not missed:
            return f"meets all {len(self.items)} goal{'s' if len(self.items) > 1 else ''}"
        return "misses the " + " and ".join(missed) + " goal" + ("s" if len(missed) > 1 else "")

    def to_dict(self) -> dict:
        return {"met": self.met, "summary": self.summary,
                "items": [i.to_dict() for i in self.items]}


@dataclass(frozen=True)
class AccuracyGoal:
    """At most ``max_drop`` worse than the baseline.

    ``relative=False``: the drop in the metric's units (0.01 = 1 point of accuracy).
    ``relative=True``: the drop as a fraction of the baseline value (0.01 = 1% of it).
    ``higher_is_better=False`` for error metrics (RMSE, WER): then a rise is the "drop".
    """

    max_drop: float
    relative: bool = False
    higher_is_better: bool = True
    name = "accuracy"

    def __post_init__(self) -> None:
        fix = "give the largest acceptable drop, e.g. 0.01 for 1 point of accuracy"
        value = _number(self.max_drop, "max_drop", fix)
        if value < 0:
            raise ValueError(f"max_drop {value} is negative; {fix} (0 allows no drop)")
        if self.relative and value >= 1:
            raise ValueError(f"max_drop {value} with relative=True is a fraction of the baseline; "
                             f"use e.g. 0.02 for 2%")
        for flag in ("relative", "higher_is_better"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"{flag} must be True or False, not {getattr(self, flag)!r}")
        object.__setattr__(self, "max_drop", value)

    def drop(self, baseline: float, candidate: float) -> float:
        """How much worse ``candidate`` is, in the budget's terms (negative: it is better)."""
        worse = baseline - candidate if self.higher_is_better else candidate - baseline
        if not self.relative:
            return worse
        return worse / abs(baseline) if baseline else (math.inf if worse > 0 else 0.0)

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with a sentence, e.g. "accuracy 96.2% vs 96.9% baseline: drop 0.7
        points <= 1.0 allowed"."""
        base, cand = _result(baseline, "baseline"), _result(candidate, "candidate")
        failed = _failed(base, "the baseline") or _failed(cand, "the candidate")
        metric = cand.metric or base.metric or "accuracy"
        if failed:
            return GoalItem(self.name, False, f"{metric} not measured: {failed}")
        if base.accuracy is None or cand.accuracy is None:
            which = "the baseline" if base.accuracy is None else cand.technique
            return GoalItem(self.name, False, f"{metric} was not measured for {which}")
        if cand.higher_is_better != self.higher_is_better:
            direction = "higher" if cand.higher_is_better else "lower"
            return GoalItem(self.name, False, f"the goal's direction does not match the metric: "
                                              f"{metric} is {direction}-is-better; set "
                                              f"higher_is_better={cand.higher_is_better}")
        if self.relative and base.accuracy == 0:
            met = self.drop(base.accuracy, cand.accuracy) <= 0
            return GoalItem(self.name, met, f"{metric} {_value(metric, cand.accuracy)} vs a "
                                            f"baseline of 0: a relative budget allows no change "
                                            f"for the worse; use an absolute max_drop")
        drop = self.drop(base.accuracy, cand.accuracy)
        met = drop <= self.max_drop + _EPS
        shown = f"{metric} {_value(metric, cand.accuracy)} vs {_value(metric, base.accuracy)} " \
                f"baseline"
        word = "drop" if self.higher_is_better else "rise"
        if self.relative:
            amount, allowed = f"{drop * 100:.2f}% of baseline", f"{self.max_drop * 100:.2f}%"
        elif metric in FRACTION_METRICS:
            amount, allowed = f"{drop * 100:.1f} points", f"{self.max_drop * 100:.1f}"
        else:
            amount, allowed = f"{drop:.4g}", f"{self.max_drop:.4g}"
        if drop < 0:
            better = amount.lstrip("-")
            return GoalItem(self.name, met, f"{shown}: better by {better} (no {word}; "
                                            f"{allowed} allowed)")
        sign = "<=" if met else ">"
        return GoalItem(self.name, met, f"{shown}: {word} {amount} {sign} {allowed} allowed")

    def is_met(self, baseline, candidate) -> bool:
        """True if ``candidate`` (a Result) is within the budget of ``baseline``."""
        return self.evaluate(baseline, candidate).met


def _value(metric: str, value: float) -> str:
    return f"{value * 100:.1f}%" if metric in FRACTION_METRICS else f"{value:.4g}"


@dataclass(frozen=True)
class SizeGoal:
    """A size target: ``max_bytes`` or ``max_ratio`` (candidate / baseline bytes; 0.5 means at
    least 2x smaller), exactly one of them. ``compressed`` compares gzip bytes (the download
    size, where pruning and clustering pay off) instead of bytes on disk."""

    max_bytes: int | None = None
    max_ratio: float | None = None
    compressed: bool = False
    name = "size"

    def __post_init__(self) -> None:
        if (self.max_bytes is None) == (self.max_ratio is None):
            raise ValueError("set exactly one of max_bytes (e.g. 500000) or max_ratio (e.g. 0.5 "
                             "for at least 2x smaller than the baseline)")
        if self.max_bytes is not None:
            if isinstance(self.max_bytes, bool) or not isinstance(self.max_bytes, int) \
                    or self.max_bytes <= 0:
                raise ValueError(f"max_bytes must be a positive whole number of bytes, not "
                                 f"{self.max_bytes!r}")
        else:
            ratio = _number(self.max_ratio, "max_ratio", "e.g. 0.25 for at least 4x smaller")
            if not 0 < ratio <= 1:
                raise ValueError(f"max_ratio {ratio} is candidate/baseline bytes and must be in "
                                 f"(0, 1]; for 4x smaller use 0.25")
            object.__setattr__(self, "max_ratio", ratio)
        if not isinstance(self.compressed, bool):
            raise ValueError(f"compressed must be True or False, not {self.compressed!r}")

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with a sentence, e.g. "size 45,720 B vs 156,476 B baseline: 3.42x
        smaller (ratio 0.292 <= 0.500 allowed)"."""
        base, cand = _result(baseline, "baseline"), _result(candidate, "candidate")
        label = "gzip size" if self.compressed else "size"
        key = "gzip_bytes" if self.compressed else "size_bytes"
        failed = _failed(cand, "the candidate") or (
            _failed(base, "the baseline") if self.max_ratio is not None else None)
        if failed:
            return GoalItem(self.name, False, f"{label} not measured: {failed}")
        size, base_size = getattr(cand, key), getattr(base, key)
        if size is None:
            return GoalItem(self.name, False, f"{label} was not measured for {cand.technique}")
        vs = (f" vs {base_size:,} B baseline ({base_size / size:.2f}x smaller)"
              if base_size and size else "")
        if self.max_bytes is not None:
            met = size <= self.max_bytes
            sign = "<=" if met else ">"
            return GoalItem(self.name, met,
                            f"{label} {size:,} B {sign} {self.max_bytes:,} B allowed{vs}")
        if not base_size:
            return GoalItem(self.name, False, f"baseline {label} was not measured, so the ratio "
                                              f"cannot be judged")
        ratio = size / base_size
        met = ratio <= self.max_ratio + _EPS
        sign = "<=" if met else ">"
        return GoalItem(self.name, met, f"{label} {size:,} B{vs}: ratio {ratio:.3f} {sign} "
                                        f"{self.max_ratio:.3f} allowed")

    def is_met(self, baseline, candidate) -> bool:
        """True if ``candidate``'s bytes (or gzip bytes) meet the target."""
        return self.evaluate(baseline, candidate).met


@dataclass(frozen=True)
class LatencyGoal:
    """A latency target: the measured median single-sample ``invoke()`` at most ``max_ms``."""

    max_ms: float
    name = "latency"

    def __post_init__(self) -> None:
        value = _number(self.max_ms, "max_ms", "give milliseconds, e.g. 5.0")
        if value <= 0:
            raise ValueError(f"max_ms {value} must be positive milliseconds, e.g. 5.0")
        object.__setattr__(self, "max_ms", value)

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with a sentence, e.g. "median latency 0.41 ms <= 0.50 ms allowed
        (baseline 0.32 ms)"."""
        base, cand = _result(baseline, "baseline"), _result(candidate, "candidate")
        failed = _failed(cand, "the candidate")
        if failed:
            return GoalItem(self.name, False, f"latency not measured: {failed}")
        ms = cand.latency_ms_median
        if ms is None:
            return GoalItem(self.name, False, f"latency was not measured for {cand.technique}")
        met = ms <= self.max_ms + _EPS
        sign = "<=" if met else ">"
        spread = (f", p10-p90 {cand.latency_ms_p10:.3g}-{cand.latency_ms_p90:.3g} ms"
                  if cand.latency_ms_p10 is not None and cand.latency_ms_p90 is not None else "")
        vs = (f" (baseline {base.latency_ms_median:.3g} ms)"
              if base.ok and base.latency_ms_median is not None else "")
        return GoalItem(self.name, met, f"median latency {ms:.3g} ms{spread} {sign} "
                                        f"{self.max_ms:.3g} ms allowed{vs}")

    def is_met(self, baseline, candidate) -> bool:
        """True if ``candidate``'s median latency is at most ``max_ms``."""
        return self.evaluate(baseline, candidate).met


#: Bytes in one "kB" of a microcontroller budget (datasheets give RAM and flash in KiB).
KB = 1024


@dataclass(frozen=True)
class McuBudget:
    """A microcontroller's memory: the tensor arena must fit ``ram_kb`` and the model bytes
    ``flash_kb`` (1 kB = 1024 bytes); either may be None (not set).

    Judged like the size goal, on what the TFLite Micro readiness check measured: the smallest
    arena that allocates (``readiness["memory"]["arena_bytes"]``) and the file's bytes. Only the
    model counts against flash; the application and TFLM's own code need room too.
    """

    ram_kb: int | None = None
    flash_kb: int | None = None
    name = "microcontroller memory"

    def __post_init__(self) -> None:
        if self.ram_kb is None and self.flash_kb is None:
            raise ValueError("set ram_kb or flash_kb (or both), e.g. ram_kb=256, flash_kb=1024")
        for key in ("ram_kb", "flash_kb"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value <= 0):
                raise ValueError(f"{key} must be a positive whole number of kB, not {value!r}")

    def check_memory(self, arena_bytes: int | None, flash_bytes: int | None) -> GoalItem:
        """The verdict on measured bytes, e.g. "arena 9,344 B <= 262,144 B RAM; model 45,416 B
        <= 1,048,576 B flash"."""
        parts, met = [], True
        for label, used, kb in (("arena", arena_bytes, self.ram_kb),
                                ("model", flash_bytes, self.flash_kb)):
            if kb is None:
                continue
            where = "RAM" if label == "arena" else "flash"
            if used is None:
                parts.append(f"{label} not measured ({where} budget {kb:,} kB)")
                met = False
                continue
            ok = used <= kb * KB
            met = met and ok
            parts.append(f"{label} {used:,} B {'<=' if ok else '>'} {kb * KB:,} B {where}")
        return GoalItem(self.name, met, "; ".join(parts))

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict on a Result whose ``readiness`` holds a microcontroller check."""
        cand = _result(candidate, "candidate")
        failed = _failed(cand, "the candidate")
        if failed:
            return GoalItem(self.name, False, f"memory not measured: {failed}")
        memory = (cand.readiness or {}).get("memory") or {}
        if not memory:
            return GoalItem(self.name, False, f"the microcontroller check did not measure "
                                              f"{cand.technique}'s arena (it does not run in "
                                              f"TFLite Micro, or was not checked)")
        return self.check_memory(memory.get("arena_bytes"), memory.get("flash_bytes"))

    def is_met(self, baseline, candidate) -> bool:
        """True if the candidate's measured arena and model bytes fit the budget."""
        return self.evaluate(baseline, candidate).met


@dataclass(frozen=True)
class TargetGoal:
    """"Must be ready for the target": the candidate's readiness check for ``target`` ran and
    said ready (``Result.readiness``, from ``optimizer.measuring.readiness``). A variant that was
    not checked, was checked for another target, or whose check could not tell (``ready``
    null: the tool failed) does not meet it, and the detail says which."""

    target: str
    name = "target"

    def __post_init__(self) -> None:
        if not isinstance(self.target, str) or not self.target:
            raise ValueError(f"target must be a target id such as 'mcu', not {self.target!r}")
        object.__setattr__(self, "target", str(getattr(self.target, "value", self.target)))

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with the check's own sentence and method."""
        cand = _result(candidate, "candidate")
        failed = _failed(cand, "the candidate")
        if failed:
            return GoalItem(self.name, False, f"not checked for {self.target}: {failed}")
        verdict = cand.readiness or {}
        if verdict.get("target") != self.target:
            why = verdict.get("error") or "press 'Check readiness' to run the check"
            return GoalItem(self.name, False, f"not checked for {self.target}: {why}")
        summary = str(verdict.get("summary", "")).rstrip(".")
        if verdict.get("ready") is None:  # the check ran but could not tell: never "ready"
            why = summary.removeprefix("Could not check: ")
            return GoalItem(self.name, False, f"could not check for {self.target} "
                                              f"({verdict.get('method')}): {why}")
        word = "ready" if verdict.get("ready") else "not ready"
        return GoalItem(self.name, bool(verdict.get("ready")),
                        f"{word} for {self.target} ({verdict.get('method')}): {summary}")

    def is_met(self, baseline, candidate) -> bool:
        """True if the candidate was checked for the target and is ready."""
        return self.evaluate(baseline, candidate).met


_GOAL_TYPES = {"accuracy": AccuracyGoal, "size": SizeGoal, "latency": LatencyGoal,
               "mcu": McuBudget, "target": TargetGoal}


@dataclass(frozen=True)
class Goals:
    """The user's goals; any of them may be None (not set)."""

    accuracy: AccuracyGoal | None = None
    size: SizeGoal | None = None
    latency: LatencyGoal | None = None
    mcu: McuBudget | None = None
    target: TargetGoal | None = None

    def __post_init__(self) -> None:
        for name, cls in _GOAL_TYPES.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, cls):
                raise ValueError(f"Goals.{name} must be {cls.__name__}(...) or None, not "
                                 f"{type(value).__name__}")

    @property
    def active(self) -> tuple:
        """The goals that are set, in the order accuracy, size, latency, microcontroller,
        target readiness."""
        return tuple(g for g in (self.accuracy, self.size, self.latency, self.mcu, self.target)
                     if g is not None)

    def check(self, baseline, candidate) -> GoalCheck:
        """Judge ``candidate`` against ``baseline`` (Results or their dicts) on every goal set."""
        items = tuple(goal.evaluate(baseline, candidate) for goal in self.active)
        return GoalCheck(met=all(i.met for i in items), items=items)

    def is_met(self, baseline, candidate) -> bool:
        """True if every goal set is met (True when none is set)."""
        return self.check(baseline, candidate).met

    def to_dict(self) -> dict:
        """JSON-ready: each goal's fields, or None when not set."""
        return {name: (None if (goal := getattr(self, name)) is None else
                       {f.name: getattr(goal, f.name) for f in fields(goal)})
                for name in _GOAL_TYPES}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Goals":
        """Inverse of ``to_dict``; unknown keys raise ``ValueError`` naming the valid ones."""
        data = data or {}
        unknown = sorted(set(data) - set(_GOAL_TYPES))
        if unknown:
            raise ValueError(f"unknown goal {unknown}; use accuracy, size, latency, mcu or target")
        built = {}
        for name, goal_cls in _GOAL_TYPES.items():
            spec = data.get(name)
            if spec is None:
                continue
            if isinstance(spec, goal_cls):
                built[name] = spec
                continue
            valid = {f.name for f in fields(goal_cls)}
            if not isinstance(spec, dict) or set(spec) - valid:
                raise ValueError(f"goal '{name}' takes a dict with keys {sorted(valid)}, got "
                                 f"{spec!r}")
            built[name] = goal_cls(**spec)
        return cls(**built)
