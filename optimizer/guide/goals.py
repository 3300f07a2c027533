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
from optimizer.text import N_, Message, figure, msg

#: Metrics stored as fractions in [0, 1]; shown as percent, drops in points.
FRACTION_METRICS = numbers.PERCENT_METRICS
__all__ = ["AccuracyGoal", "SizeGoal", "LatencyGoal", "McuBudget", "TargetGoal", "Goals",
           "GoalItem", "GoalCheck", "GoalState", "FRACTION_METRICS", "KB"]
#: How a metric is named in a sentence.
METRIC_WORDS = {"accuracy": N_("accuracy"), "agreement": N_("agreement")}
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

    def describe(self, metric: str = "accuracy") -> Message:
        """The goal as a sentence: "accuracy at most 1 point below float32" (a ``Message``:
        English as text, ``render()`` in the reader's language)."""
        amount = figure(self.max_drop * 100 if self.relative or metric in FRACTION_METRICS
                        else self.max_drop, "plain")
        what = metric_word(metric)
        if self.relative:
            return (msg("{metric} at most {amount} % of float32's value below float32",
                        metric=what, amount=amount) if self.higher_is_better else
                    msg("{metric} at most {amount} % of float32's value above float32",
                        metric=what, amount=amount))
        if metric in FRACTION_METRICS:
            if self.max_drop == 0.01:
                return (msg("{metric} at most 1 point below float32", metric=what)
                        if self.higher_is_better else
                        msg("{metric} at most 1 point above float32", metric=what))
            return (msg("{metric} at most {amount} points below float32", metric=what,
                        amount=amount) if self.higher_is_better else
                    msg("{metric} at most {amount} points above float32", metric=what,
                        amount=amount))
        return (msg("{metric} at most {amount} below float32", metric=what, amount=amount)
                if self.higher_is_better else
                msg("{metric} at most {amount} above float32", metric=what, amount=amount))

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
        what = metric_word(metric)
        if failed:
            return GoalItem(self.name, False, msg("{metric} not measured: {why}", metric=what,
                                                  why=failed))
        if base.accuracy is None or cand.accuracy is None:
            return GoalItem(self.name, False,
                            msg("{metric} was not measured for the baseline", metric=what)
                            if base.accuracy is None else
                            msg("{metric} was not measured for {technique}", metric=what,
                                technique=cand.technique))
        if cand.higher_is_better != self.higher_is_better:
            return GoalItem(self.name, False, msg(
                "the goal's direction does not match the metric: {metric} is "
                "{direction}-is-better; set higher_is_better={flag}", metric=what,
                direction="higher" if cand.higher_is_better else "lower",
                flag=str(cand.higher_is_better)))
        if self.relative and base.accuracy == 0:
            met = self.drop(base.accuracy, cand.accuracy) <= 0
            return GoalItem(self.name, met, msg(
                "{metric} {value} vs a baseline of 0: a relative budget allows no change for "
                "the worse; use an absolute max_drop", metric=what,
                value=figure(cand.accuracy, "metric_value", metric=metric)))
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


def metric_word(metric: str):
    """The metric's name in a sentence ("accuracy", "RMSE"), as a message."""
    word = METRIC_WORDS.get(str(metric))
    return msg(word) if word else str(metric)


def _amount(value: float, relative: bool, metric: str, unit: bool = True):
    if relative:
        return msg("{value} % of float32's value", value=figure(value * 100, "sig"))
    if metric in FRACTION_METRICS:
        return msg("{value} points", value=figure(value * 100, "sig")) if unit else \
            figure(value * 100, "sig")
    return figure(value, "sig")


def _allowed(value: float, relative: bool, metric: str):
    if relative:
        return msg("{value} %", value=figure(value * 100, "plain"))
    return figure(value * 100 if metric in FRACTION_METRICS else value, "plain")


def samples_phrase(worse, better, samples):
    """ "2 of 450 test samples differ" (the samples on which the two disagree), or ""."""
    if worse is None or better is None or not samples:
        return ""
    return msg("{changed} of {samples} test samples differ",
               changed=figure(int(worse) + int(better)), samples=figure(samples))


def evidence_phrase(params: dict):
    """ "2 of 450 test samples differ, p = 0.5", either part alone, or "" (a message)."""
    samples = samples_phrase(params.get("worse"), params.get("better"), params.get("samples"))
    p = figure(params["p_value"], "p_value") if params.get("p_value") is not None else ""
    if samples and p:
        return msg("{samples}, {p}", samples=samples, p=p)
    return samples or p


def accuracy_detail(state: GoalState, params: dict) -> Message:
    """The sentence of an accuracy verdict from its ``params`` (``AccuracyGoal.evaluate``), as
    a message (English text, written in its reader's language by ``render``)."""
    metric, relative = params["metric"], params["relative"]
    base, value, drop = params["baseline"], params["value"], params["drop"]
    places = numbers.metric_places([value, base], [value - base], metric, params.get("samples"))
    shown = msg("{metric} {value} vs {base} for float32", metric=metric_word(metric),
                value=figure(value, "metric_value", metric=metric, decimals=places),
                base=figure(base, "metric_value", metric=metric, decimals=places))
    rise = not params["higher_is_better"]
    allowed = _allowed(params["allowed"], relative, metric)
    if drop < 0:
        amount = _amount(-drop, relative, metric)
        return (msg("{shown}: better by {amount} (no rise; {allowed} allowed)", shown=shown,
                    amount=amount, allowed=allowed) if rise else
                msg("{shown}: better by {amount} (no drop; {allowed} allowed)", shown=shown,
                    amount=amount, allowed=allowed))
    interval = params.get("drop_ci")
    spread = ""
    if interval:
        spread = msg(" (95 % interval {low} to {high})",
                     low=_amount(interval[0], relative, metric, unit=False),
                     high=_amount(interval[1], relative, metric))
    amount = _amount(drop, relative, metric)
    text = (msg("{shown}: rise {amount}{spread}", shown=shown, amount=amount, spread=spread)
            if rise else
            msg("{shown}: drop {amount}{spread}", shown=shown, amount=amount, spread=spread))
    if state == GoalState.MET:
        return msg("{text} <= {allowed} allowed", text=text, allowed=allowed)
    evidence = evidence_phrase(params)
    evidence = msg(" ({evidence})", evidence=evidence) if evidence else ""
    if state == GoalState.WITHIN_NOISE:
        return msg("{text} > {allowed} allowed, but within noise: the interval reaches the "
                   "budget{evidence}", text=text, allowed=allowed, evidence=evidence)
    if interval is None:
        return msg("{text} > {allowed} allowed (no interval recorded for this run)", text=text,
                   allowed=allowed)
    return msg("{text} > {allowed} allowed{evidence}", text=text, allowed=allowed,
               evidence=evidence)


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

    def describe(self) -> Message:
        """The goal as a sentence: "at least 4x smaller than float32 on disk"."""
        where = msg("gzipped (download size)") if self.compressed else msg("on disk")
        if self.max_bytes is not None:
            return msg("at most {size} {where}", size=figure(self.max_bytes, "size"),
                       where=where)
        return msg("at least {ratio}x smaller than float32 {where}",
                   ratio=figure(numbers.round_sig(1 / self.max_ratio), "plain"), where=where)

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with a sentence, e.g. "size on disk 45.7 kB vs 156 kB for float32
        (3.42x smaller) >= 2x smaller required"."""
        base, cand = as_result(baseline, "baseline"), as_result(candidate, "candidate")
        label = msg("gzip size") if self.compressed else msg("size on disk")
        key = "gzip_bytes" if self.compressed else "size_bytes"
        failed = failure(cand, "the candidate") or (
            failure(base, "the baseline") if self.max_ratio is not None else None)
        if failed:
            return GoalItem(self.name, False, msg("{what} not measured: {why}", what=label,
                                                  why=failed))
        size, base_size = getattr(cand, key), getattr(base, key)
        if size is None:
            return GoalItem(self.name, False, msg("{what} was not measured for {technique}",
                                                  what=label, technique=cand.technique))
        params = {"bytes": size, "baseline_bytes": base_size, "compressed": self.compressed,
                  "max_bytes": self.max_bytes, "max_ratio": self.max_ratio}
        vs = (msg(" vs {size} for float32 ({ratio} smaller)", size=figure(base_size, "size"),
                  ratio=figure(base_size / size, "ratio")) if base_size and size else "")
        if self.max_bytes is not None:
            met = size <= self.max_bytes
            shown, limit = figure(size, "size"), figure(self.max_bytes, "size")
            if shown == limit:      # three figures hide the difference: give the bytes
                shown, limit = msg("{count} B", count=figure(size)), \
                    msg("{count} B", count=figure(self.max_bytes))
            values = {"what": label, "shown": shown, "vs": vs, "limit": limit}
            return GoalItem(self.name, met, msg("{what} {shown}{vs} <= {limit} allowed", **values)
                            if met else msg("{what} {shown}{vs} > {limit} allowed", **values),
                            params)
        if not base_size:
            return GoalItem(self.name, False, msg("baseline {what} was not measured, so the "
                                                  "ratio cannot be judged", what=label))
        ratio = size / base_size
        met = ratio <= self.max_ratio + _EPS
        need = figure(numbers.round_sig(1 / self.max_ratio), "plain")
        values = {"what": label, "size": figure(size, "size"), "vs": vs, "need": need}
        return GoalItem(self.name, met,
                        msg("{what} {size}{vs}, meets the {need}x smaller required", **values)
                        if met else
                        msg("{what} {size}{vs}, short of the {need}x smaller required",
                            **values), params)

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

    def describe(self) -> Message:
        """The goal as a sentence: "median latency at most 5 ms"."""
        return msg("median latency at most {ms}", ms=figure(self.max_ms, "ms"))

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with a sentence, e.g. "median latency 0.41 ms (p10–p90 0.39–0.45 ms)
        <= 0.5 ms allowed (float32: 0.32 ms)"."""
        base, cand = as_result(baseline, "baseline"), as_result(candidate, "candidate")
        failed = failure(cand, "the candidate")
        if failed:
            return GoalItem(self.name, False, msg("latency not measured: {why}", why=failed))
        ms = cand.latency_ms_median
        if ms is None and cand.latency_pending:    # a run still going: timed after its job
            return GoalItem(self.name, GoalState.NOT_CHECKED,
                            msg("latency of {technique} is not timed yet",
                                technique=cand.technique))
        if ms is None:
            return GoalItem(self.name, False, msg("latency was not measured for {technique}",
                                                  technique=cand.technique))
        met = ms <= self.max_ms + _EPS
        spread = (msg(" (p10–p90 {range})", range=figure(
            cand.latency_ms_p10, "ms_range", high=cand.latency_ms_p90))
                  if cand.latency_ms_p10 is not None and cand.latency_ms_p90 is not None else "")
        vs = (msg(" (float32: {ms})", ms=figure(base.latency_ms_median, "ms"))
              if base.ok and base.latency_ms_median is not None else "")
        values = {"ms": figure(ms, "ms"), "spread": spread, "limit": figure(self.max_ms, "ms"),
                  "vs": vs}
        return GoalItem(self.name, met,
                        msg("median latency {ms}{spread} <= {limit} allowed{vs}", **values)
                        if met else
                        msg("median latency {ms}{spread} > {limit} allowed{vs}", **values),
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

    def describe(self, metric: str = "accuracy") -> list[Message]:
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
