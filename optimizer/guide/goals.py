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

from optimizer import numbers
from optimizer.guide.hardware_goals import KB, McuBudget, TargetGoal
from optimizer.guide.schema import Result
from optimizer.guide.stats import significant
from optimizer.guide.verdicts import GoalCheck, GoalItem, GoalState, as_result, failure

#: Metrics stored as fractions in [0, 1]; shown as percent, drops in points.
FRACTION_METRICS = numbers.PERCENT_METRICS
__all__ = ["AccuracyGoal", "SizeGoal", "LatencyGoal", "McuBudget", "TargetGoal", "Goals",
           "GoalItem", "GoalCheck", "GoalState", "FRACTION_METRICS", "KB"]
# Float noise tolerance: a drop of exactly the budget (e.g. 9/450 - 0.02) must count as met.
_EPS = 1e-9


def _number(value, name: str, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}; {fix}")
    return float(value)


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

    def describe(self, metric: str = "accuracy") -> str:
        """The goal as a sentence: "accuracy at most 1 point below float32"."""
        word = "below" if self.higher_is_better else "above"
        if self.relative:
            amount = f"{numbers.plain(self.max_drop * 100)} % of float32's value"
        elif metric in FRACTION_METRICS:
            amount = f"{numbers.plain(self.max_drop * 100)} point" + \
                ("" if self.max_drop == 0.01 else "s")
        else:
            amount = numbers.plain(self.max_drop)
        return f"{metric} at most {amount} {word} float32"

    def drop_interval(self, baseline: Result, candidate: Result) -> tuple | None:
        """The 95 % interval of the drop, in the budget's terms, from the candidate's paired
        test against ``baseline`` (None when the run recorded no interval)."""
        ci = candidate.delta_ci
        if not isinstance(ci, (list, tuple)) or len(ci) != 2 or None in ci:
            return None
        low, high = (-ci[1], -ci[0]) if self.higher_is_better else (ci[0], ci[1])
        if self.relative:
            scale = abs(baseline.accuracy) or math.nan
            low, high = low / scale, high / scale
        return (low, high) if math.isfinite(low) and math.isfinite(high) else None

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with a sentence and its numbers (see ``optimizer.guide.verdicts`` for
        the states): e.g. "accuracy 97.778 % vs 98.222 % for float32: drop 0.444 points (95 %
        interval 0.0683 to 1.04) > 0.3 allowed, within noise (2 of 450 test samples, p =
        0.5)"."""
        base, cand = as_result(baseline, "baseline"), as_result(candidate, "candidate")
        failed = failure(base, "the baseline") or failure(cand, "the candidate")
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
            return GoalItem(self.name, met, f"{metric} {numbers.metric_value(cand.accuracy, metric)}"
                                            f" vs a baseline of 0: a relative budget allows no "
                                            f"change for the worse; use an absolute max_drop")
        drop = self.drop(base.accuracy, cand.accuracy)
        interval = self.drop_interval(base, cand)
        p_value = cand.delta_p
        if drop <= self.max_drop + _EPS:
            state = GoalState.MET
        elif interval is None or (interval[0] > self.max_drop + _EPS and significant(p_value)):
            state = GoalState.MISSED        # no interval recorded (an older run): the estimate
        else:
            state = GoalState.WITHIN_NOISE
        delta = cand.accuracy_delta or {}
        params = {"metric": metric, "value": cand.accuracy, "baseline": base.accuracy,
                  "drop": drop, "drop_ci": list(interval) if interval else None,
                  "allowed": self.max_drop, "relative": self.relative,
                  "higher_is_better": self.higher_is_better, "p_value": p_value,
                  "worse": delta.get("worse"), "better": delta.get("better"),
                  "samples": delta.get("samples") or cand.samples}
        return GoalItem(self.name, state, accuracy_detail(state, params), params)

    def is_met(self, baseline, candidate) -> bool:
        """True if ``candidate`` (a Result) is within the budget of ``baseline``."""
        return self.evaluate(baseline, candidate).met


def _amount(value: float, relative: bool, metric: str) -> str:
    if relative:
        return f"{numbers.sig(value * 100)} % of float32's value"
    if metric in FRACTION_METRICS:
        return f"{numbers.sig(value * 100)} points"
    return numbers.sig(value)


def _allowed(value: float, relative: bool, metric: str) -> str:
    if relative:
        return f"{numbers.plain(value * 100)} %"
    return numbers.plain(value * 100) if metric in FRACTION_METRICS else numbers.plain(value)


def samples_phrase(worse, better, samples) -> str:
    """ "2 of 450 test samples" (the samples on which the two disagree), or ""."""
    if worse is None or better is None or not samples:
        return ""
    changed = int(worse) + int(better)
    return f"{numbers.count(changed)} of {numbers.count(samples)} test samples differ"


def accuracy_detail(state: GoalState, params: dict) -> str:
    """The sentence of an accuracy verdict from its ``params`` (``AccuracyGoal.evaluate``)."""
    metric, relative = params["metric"], params["relative"]
    base, value, drop = params["baseline"], params["value"], params["drop"]
    places = numbers.metric_places([value, base], [value - base], metric, params.get("samples"))
    shown = (f"{metric} {numbers.metric_value(value, metric, places)} vs "
             f"{numbers.metric_value(base, metric, places)} for float32")
    word = "drop" if params["higher_is_better"] else "rise"
    allowed = _allowed(params["allowed"], relative, metric)
    if drop < 0:
        return f"{shown}: better by {_amount(-drop, relative, metric)} (no {word}; " \
               f"{allowed} allowed)"
    interval = params.get("drop_ci")
    spread = ""
    if interval:
        spread = (f" (95 % interval {_amount(interval[0], relative, metric)} to "
                  f"{_amount(interval[1], relative, metric)})").replace(" points to", " to")
    text = f"{shown}: {word} {_amount(drop, relative, metric)}{spread}"
    if state == GoalState.MET:
        return f"{text} <= {allowed} allowed"
    evidence = ", ".join(x for x in (samples_phrase(params.get("worse"), params.get("better"),
                                                    params.get("samples")),
                                     numbers.p_value(params["p_value"])
                                     if params.get("p_value") is not None else "") if x)
    if state == GoalState.WITHIN_NOISE:
        return (f"{text} > {allowed} allowed, but within noise: the interval reaches the budget"
                + (f" ({evidence})" if evidence else ""))
    if interval is None:
        return f"{text} > {allowed} allowed (no interval recorded for this run)"
    return f"{text} > {allowed} allowed" + (f" ({evidence})" if evidence else "")


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

    def describe(self) -> str:
        """The goal as a sentence: "at least 4x smaller than float32 on disk"."""
        where = "gzipped (download size)" if self.compressed else "on disk"
        if self.max_bytes is not None:
            return f"at most {numbers.size(self.max_bytes)} {where}"
        return f"at least {numbers.plain(numbers.round_sig(1 / self.max_ratio))}x smaller than float32 " \
               f"{where}"

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with a sentence, e.g. "size on disk 45.7 kB vs 156 kB for float32
        (3.42x smaller) >= 2x smaller required"."""
        base, cand = as_result(baseline, "baseline"), as_result(candidate, "candidate")
        label = "gzip size" if self.compressed else "size on disk"
        key = "gzip_bytes" if self.compressed else "size_bytes"
        failed = failure(cand, "the candidate") or (
            failure(base, "the baseline") if self.max_ratio is not None else None)
        if failed:
            return GoalItem(self.name, False, f"{label} not measured: {failed}")
        size, base_size = getattr(cand, key), getattr(base, key)
        if size is None:
            return GoalItem(self.name, False, f"{label} was not measured for {cand.technique}")
        params = {"bytes": size, "baseline_bytes": base_size, "compressed": self.compressed,
                  "max_bytes": self.max_bytes, "max_ratio": self.max_ratio}
        vs = (f" vs {numbers.size(base_size)} for float32 "
              f"({numbers.ratio(base_size / size)} smaller)" if base_size and size else "")
        if self.max_bytes is not None:
            met = size <= self.max_bytes
            shown, limit = numbers.size(size), numbers.size(self.max_bytes)
            if shown == limit:      # three figures hide the difference: give the bytes
                shown, limit = f"{numbers.count(size)} B", f"{numbers.count(self.max_bytes)} B"
            return GoalItem(self.name, met, f"{label} {shown}{vs} {'<=' if met else '>'} "
                                            f"{limit} allowed", params)
        if not base_size:
            return GoalItem(self.name, False, f"baseline {label} was not measured, so the ratio "
                                              f"cannot be judged")
        ratio = size / base_size
        met = ratio <= self.max_ratio + _EPS
        need = numbers.plain(numbers.round_sig(1 / self.max_ratio))
        return GoalItem(self.name, met, f"{label} {numbers.size(size)}{vs}, "
                                        f"{'meets' if met else 'short of'} the {need}x smaller "
                                        f"required", params)

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

    def describe(self) -> str:
        """The goal as a sentence: "median latency at most 5 ms"."""
        return f"median latency at most {numbers.ms(self.max_ms)}"

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with a sentence, e.g. "median latency 0.41 ms (p10–p90 0.39–0.45 ms)
        <= 0.5 ms allowed (float32: 0.32 ms)"."""
        base, cand = as_result(baseline, "baseline"), as_result(candidate, "candidate")
        failed = failure(cand, "the candidate")
        if failed:
            return GoalItem(self.name, False, f"latency not measured: {failed}")
        ms = cand.latency_ms_median
        if ms is None:
            return GoalItem(self.name, False, f"latency was not measured for {cand.technique}")
        met = ms <= self.max_ms + _EPS
        sign = "<=" if met else ">"
        spread = (f" (p10–p90 {numbers.ms_range(cand.latency_ms_p10, cand.latency_ms_p90)})"
                  if cand.latency_ms_p10 is not None and cand.latency_ms_p90 is not None else "")
        vs = (f" (float32: {numbers.ms(base.latency_ms_median)})"
              if base.ok and base.latency_ms_median is not None else "")
        return GoalItem(self.name, met, f"median latency {numbers.ms(ms)}{spread} {sign} "
                                        f"{numbers.ms(self.max_ms)} allowed{vs}",
                        {"median_ms": ms, "max_ms": self.max_ms})

    def is_met(self, baseline, candidate) -> bool:
        """True if ``candidate``'s median latency is at most ``max_ms``."""
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
        return GoalCheck(items=items)

    def is_met(self, baseline, candidate) -> bool:
        """True if every goal set is met (True when none is set)."""
        return self.check(baseline, candidate).met

    def describe(self, metric: str = "accuracy") -> list[str]:
        """Each goal set as a sentence, in the order of ``active``: ["accuracy at most 1
        point below float32", "at least 4x smaller than float32 on disk", ...]."""
        return [goal.describe(metric) if isinstance(goal, AccuracyGoal) else goal.describe()
                for goal in self.active]

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
