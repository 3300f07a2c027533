"""Insights: what a run's measurements say, as data, claiming only what they support.

``run_insights(results, answers=None, goals=None, size=None)`` returns ``Insight`` records:
a ``kind``, the technique it is about, ``params`` (the names and raw numbers it states) and its
sentence (``message``, written by ``optimizer.report.insight_text.render`` from the params, so a
message catalogue can translate it). A run's JSON carries them as ``"insights": [{"kind",
"technique", "message", "params", ..}]``. Kinds:

* ``guide_contradicted``: the guide's pick lost more accuracy than a measured post-training
  quantization variant -- only when the paired test on the same test samples says so (exact
  McNemar, or the paired bootstrap for RMSE, p < 0.05; the ``p_value`` is in its params) -- or
  (when the user asked for the biggest size reduction) is larger, on the size basis the chart
  shows (``size``: "raw" on disk or "gzip"). Without answers, the guide's own table is the
  claim checked: quantization-aware training loses the least accuracy.
* ``within_noise``: an accuracy difference the test cannot tell from noise ("2 of 450 test
  samples differ, p = 0.5: no measurable difference"), or a drop past the accuracy budget
  that is within the noise of the budget.
* ``faster`` / ``slower``: against ``versus`` (the float32 baseline), only when the two p10-p90
  intervals do not overlap and both were timed on the same node; otherwise ``not_meaningful``
  with both intervals (different nodes: nothing, ``mixed_nodes`` says why).
* ``goal_missed`` / ``goal_not_checked``: a goal the recommended technique missed (with the
  p-value for the accuracy budget), or whose check has not run yet.
* context: ``measured_on``, ``mixed_nodes``, ``failed``, ``latency_note``, ``compressed_only``.
The run's verdict (``best`` / ``none_meets``) is added by ``optimizer.report.verdict``.
A rule that lacks a measurement stays silent; nothing is estimated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from optimizer.guide.registry import QAT_FAMILY, TECHNIQUES, TechniqueId, parse_spec
from optimizer.guide.schema import Result
from optimizer.guide.stage_handlers import STAGES
from optimizer.guide.technique import SizeClass
from optimizer.guide.verdicts import GoalState
from optimizer.report.insight_text import RENDERERS, render

#: Raw sizes within this fraction of the baseline count as "the same size on disk".
SAME_SIZE = 0.02
#: Kinds that say the measurements disagree with the guide's recommendation.
DISAGREEMENT = ("guide_contradicted", "goal_missed")
#: Every kind the rules emit; each has a sentence in ``insight_text.RENDERERS``.
KINDS = ("measured_on", "mixed_nodes", "faster", "slower", "not_meaningful", "compressed_only",
         "guide_contradicted", "within_noise", "goal_missed", "goal_not_checked", "best",
         "none_meets", "failed", "latency_note")
_MISSING = sorted(set(KINDS) - set(RENDERERS))
if _MISSING:
    raise ImportError(f"insight kinds without a sentence: {_MISSING}; add them to "
                      "optimizer.report.insight_text.RENDERERS")
_BASE = TechniqueId.FLOAT32.value
_EPS = 1e-9
SIZE_KEYS = {"raw": "size_bytes", "gzip": "gzip_bytes"}


@dataclass(frozen=True)
class Insight:
    """One insight: its kind, the technique it is about (None for the whole run), its sentence,
    the technique it is compared with (``versus``), a severity ("info" or "warning") and the
    names and numbers it states (``params``)."""

    kind: str
    technique: str | None
    message: str
    versus: str | None = None
    severity: str = "info"
    params: dict = field(default_factory=dict, compare=False)

    @property
    def text(self) -> str:
        return self.message

    @property
    def p_value(self) -> float | None:
        """The paired test's p-value of an accuracy claim (None for other kinds)."""
        return self.params.get("p_value")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "technique": self.technique, "message": self.message,
                "versus": self.versus, "severity": self.severity, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict) -> "Insight":
        params = data.get("params") if isinstance(data.get("params"), dict) else {}
        return cls(kind=str(data.get("kind", "")), technique=data.get("technique"),
                   message=str(data.get("message", "")), versus=data.get("versus"),
                   severity=str(data.get("severity") or "info"), params=params)


def make(kind: str, technique: str | None, params: dict, versus: str | None = None,
         severity: str = "info") -> Insight:
    """An insight of ``kind`` whose message is rendered from ``params`` (the one way the rules
    build one)."""
    if kind not in KINDS:
        raise ValueError(f"unknown insight kind {kind!r}; the kinds are {', '.join(KINDS)}")
    message = render({"kind": kind, "params": params})
    return Insight(kind, technique, message, versus, severity, dict(params))


def _num(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _spec(technique: str):
    try:
        return parse_spec(technique)
    except ValueError:
        return None


def _as_result(item) -> Result:
    return item if isinstance(item, Result) else Result.from_dict(dict(item))


def _gain(r: Result) -> float | None:
    """The accuracy change oriented so that bigger is better (RMSE: less is better)."""
    delta = _num(r.delta_value)
    if delta is None:
        return None
    return delta if r.higher_is_better else -delta


def _outside_xnnpack(note) -> str:
    """"int8 ops left to builtin kernels, outside XNNPACK: HARD_SWISH x19" from a latency
    note, or ""."""
    for part in str(note or "").split("; "):
        if part.startswith("int8 ops left to builtin kernels"):
            return part
    return ""


def default_compare(first: Result, second: Result, base: Result):
    """The paired test of two results of one run from their kept predictions (None without)."""
    from optimizer.artifacts.predictions import paired

    return paired(first, second, base)


# --- latency -----------------------------------------------------------------------------------

def _interval(r: Result):
    lo, hi = _num(r.latency_ms_p10), _num(r.latency_ms_p90)
    return None if lo is None or hi is None or _num(r.latency_ms_median) is None else (lo, hi)


def _latency(r: Result, base: Result, spec) -> list[Insight]:
    mine, theirs = _interval(r), _interval(base)
    if mine is None or theirs is None:
        return []
    if r.node and base.node and r.node != base.node:
        return []          # timed on different nodes: not comparable ("mixed_nodes" says so)
    params = {"technique": r.technique, "versus": base.technique,
              "median": r.latency_ms_median, "p10": mine[0], "p90": mine[1],
              "versus_median": base.latency_ms_median, "versus_p10": theirs[0],
              "versus_p90": theirs[1],
              "float16": spec is not None and spec.conversion == TechniqueId.FLOAT16}
    if r.latency_kernels and r.latency_kernels != base.latency_kernels:
        params.update(kernels=r.latency_kernels, versus_kernels=base.latency_kernels)
    if mine[1] < theirs[0]:
        return [make("faster", r.technique, params, base.technique)]
    if mine[0] > theirs[1]:
        outside = _outside_xnnpack(r.latency_note)
        if outside:
            params["outside_xnnpack"] = outside
        return [make("slower", r.technique, params, base.technique, "warning")]
    return [make("not_meaningful", r.technique, params, base.technique)]


# --- size --------------------------------------------------------------------------------------

def _compressed_only(r: Result, base: Result, spec) -> list[Insight]:
    raw, gz = _num(r.size_bytes), _num(r.gzip_bytes)
    b_raw, b_gz = _num(base.size_bytes), _num(base.gzip_bytes)
    if None in (raw, gz, b_raw, b_gz) or spec is None:
        return []
    # a technique whose file is its conversion's size (pruning, clustering), left float
    if spec.technique.size_class != SizeClass.SAME_AS_CONVERSION \
            or not spec.conversion_row.is_baseline:
        return []
    if abs(raw - b_raw) > SAME_SIZE * b_raw or gz >= b_gz:
        return []
    # what its first stage measurably made: zeros (pruning) or shared values (clustering)
    evidence = STAGES[spec.stages[0].kind].evidence
    if evidence not in ("sparsity", "distinct weights", None):
        raise ValueError(f"{spec.base}: unknown stage evidence {evidence!r}")
    params = {"technique": r.technique, "what": spec.technique.title, "bytes": raw,
              "base_bytes": b_raw, "gzip_bytes": gz, "base_gzip_bytes": b_gz}
    if evidence == "sparsity" and _num(r.sparsity) is not None:
        params["sparsity"] = r.sparsity
    elif evidence == "distinct weights" and r.max_unique_weights_per_channel:
        params["distinct"] = r.max_unique_weights_per_channel
    return [make("compressed_only", r.technique, params, base.technique)]


# --- the guide against the measurements -------------------------------------------------------

def _post_training_quantized(technique: str) -> bool:
    """True for a plain post-training quantization (float16, dynamic range, integer, ...): the
    rows the guide's table weighs QAT against. Retraining and float variants are not rivals."""
    spec = _spec(technique)
    return spec is not None and spec.is_post_training


def _claim_params(claimed: Result, recommended: bool) -> dict:
    spec = _spec(claimed.technique)
    info = TECHNIQUES.get(spec.base if spec else None)
    return {"technique": claimed.technique, "recommended": recommended,
            "title": info.title if info else claimed.technique,
            "claim": info.guide_accuracy if info else "Smallest accuracy loss"}


def _accuracy_claim(claimed: Result, rivals: list[Result], base: Result, recommended: bool,
                    compare) -> list[Insight]:
    mine, metric = _gain(claimed), claimed.metric
    rivals = [r for r in rivals if _gain(r) is not None]
    if mine is None or not rivals:
        return []
    best = max(rivals, key=lambda r: (_gain(r), -(r.size_bytes or math.inf)))
    if _gain(best) <= mine + _EPS:
        return []
    test = compare(claimed, best, base)
    params = {**_claim_params(claimed, recommended), "versus": best.technique,
              "metric": metric, "delta": claimed.delta_value, "versus_delta": best.delta_value,
              "difference": claimed.delta_value - best.delta_value,
              "ci": None, "p_value": None, "samples": claimed.samples}
    if test is not None:
        params.update(difference=test.value, ci=list(test.ci), p_value=test.p_value,
                      samples=test.samples, worse=test.worse, better=test.better)
    if test is not None and test.significant:
        return [make("guide_contradicted", claimed.technique, {**params, "about": "accuracy"},
                     best.technique, "warning")]
    return [make("within_noise", claimed.technique, {**params, "about": "rival"},
                 best.technique)]


def _size_claim(claimed: Result, rivals: list[Result], recommended: bool,
                basis: str) -> list[Insight]:
    key = SIZE_KEYS[basis]
    sized = [r for r in rivals if _num(getattr(r, key)) is not None]
    mine = _num(getattr(claimed, key))
    if mine is None or not sized:
        return []
    smallest = min(sized, key=lambda r: getattr(r, key))
    if getattr(smallest, key) >= mine:
        return []
    params = {**_claim_params(claimed, recommended), "about": "size", "basis": basis,
              "versus": smallest.technique, "bytes": mine,
              "versus_bytes": getattr(smallest, key)}
    return [make("guide_contradicted", claimed.technique, params, smallest.technique,
                 "warning")]


def _contradictions(claimed: Result, rows: list[Result], base: Result, answers,
                    recommended: bool, basis: str, compare) -> list[Insight]:
    others = [r for r in rows if r.ok and r.technique not in (_BASE, claimed.technique)
              and _post_training_quantized(r.technique)]
    notes = _accuracy_claim(claimed, others, base, recommended, compare)
    wants_smallest = recommended and answers is not None and \
        str(getattr(answers.size_goal, "value", answers.size_goal)) == "4x"
    if wants_smallest:
        notes.extend(_size_claim(claimed, others, recommended, basis))
    return notes


def _goal_notes(claimed: Result, rows: list[Result], base: Result, goals) -> list[Insight]:
    if goals is None or not goals.active:
        return []
    notes = []
    pool = [r for r in rows if r.ok and r.technique != _BASE]
    for goal in goals.active:
        item = goal.evaluate(base, claimed)
        params = {"technique": claimed.technique, "goal": goal.name, "detail": item.detail,
                  **{k: v for k, v in item.params.items()
                     if k in ("p_value", "drop", "drop_ci", "allowed", "samples")}}
        if item.state == GoalState.MISSED:
            states = [(r.technique, goal.evaluate(base, r).state) for r in pool]
            params["meeting"] = [t for t, s in states if s == GoalState.MET]
            params["pending"] = sum(s in (GoalState.NOT_CHECKED, GoalState.WITHIN_NOISE)
                                    for _, s in states)
            notes.append(make("goal_missed", claimed.technique, params, None, "warning"))
        elif item.state == GoalState.WITHIN_NOISE:
            notes.append(make("within_noise", claimed.technique,
                              {**params, "about": "budget", "metric": claimed.metric}))
        elif item.state == GoalState.NOT_CHECKED:
            notes.append(make("goal_not_checked", claimed.technique, params))
    return notes


def recommended_spec(answers) -> str | None:
    """The spec the guide recommends for ``answers`` (None without answers, or when nothing
    runnable is recommended)."""
    if answers is None:
        return None
    from optimizer.recommendation.decide import recommend

    try:
        return recommend(answers).run_spec
    except ValueError:
        return None


def size_basis(goals=None, view: str | None = None) -> str:
    """The size a sentence compares: the chart's ``view`` when given ("raw" on disk or
    "gzip"), else the size goal's, else on disk."""
    if view in SIZE_KEYS:
        return view
    size = getattr(goals, "size", None)
    return "gzip" if size is not None and size.compressed else "raw"


def run_insights(results, answers=None, goals=None, size: str | None = None,
                 compare=None) -> list[Insight]:
    """Every insight for a run's results (``Result`` objects or dicts).

    ``answers`` (``Answers``) names the guide's recommendation and whether the user asked for
    the biggest size reduction; ``goals`` (``Goals``) are judged for it. Both optional: without
    answers the guide's claim that QAT loses the least accuracy is what gets checked, for every
    QAT-family result. ``size`` is the size basis of the sentences ("raw" or "gzip", see
    ``size_basis``); ``compare(a, b, base)`` the paired test of two results (default: from
    their kept predictions).
    """
    rows = [_as_result(r) for r in results]
    basis = size_basis(goals, size)
    compare = compare or default_compare
    notes: list[Insight] = []
    hosts = sorted({r.measured_on for r in rows if r.measured_on})
    if hosts:
        notes.append(make("measured_on", None, {"hosts": hosts}))
    nodes = sorted({r.node for r in rows if r.ok and r.node})
    if len(nodes) > 1:
        notes.append(make("mixed_nodes", None, {"nodes": nodes}, None, "warning"))
    base = next((r for r in rows if r.technique == _BASE and r.ok), None)
    recommended = recommended_spec(answers)
    if base is not None:
        if recommended is not None:
            claimed = [r for r in rows if r.technique == recommended and r.ok]
        else:
            claimed = [r for r in rows if r.ok and (s := _spec(r.technique)) is not None
                       and s.base in QAT_FAMILY]
        for r in claimed:
            notes.extend(_contradictions(r, rows, base, answers, recommended is not None,
                                         basis, compare))
            if recommended is not None:
                notes.extend(_goal_notes(r, rows, base, goals))
    for r in rows:
        if not r.ok:
            notes.append(make("failed", r.technique, {"status": r.status, "error": r.error},
                              None, "warning"))
            continue
        spec = _spec(r.technique)
        if base is not None and r is not base:
            notes.extend(_latency(r, base, spec))
            notes.extend(_compressed_only(r, base, spec))
        if r.latency_note:
            notes.append(make("latency_note", r.technique, {"note": r.latency_note}, None,
                              "warning"))
    return notes


def result_insights(results, answers=None, goals=None, size: str | None = None) -> list[Insight]:
    """Alias of ``run_insights`` (the name the pages used first)."""
    return run_insights(results, answers, goals, size)


def insights_from_json(items) -> list[Insight]:
    """``Insight`` records from a run document's ``"insights"`` list (unknown keys ignored)."""
    return [Insight.from_dict(i) for i in items or () if isinstance(i, dict)]


def insights_for(notes, technique: str | None) -> list[Insight]:
    """The insights about one technique (or the run-wide ones with ``technique=None``)."""
    return [n for n in notes if n.technique == technique]


def agreement(notes, recommended: str | None) -> tuple[bool, list[Insight]]:
    """Whether the measurements agreed with the guide's recommendation: ``(agreed, the
    disagreeing insights)``; agreed is True when nothing contradicted it."""
    against = [n for n in notes if n.kind in DISAGREEMENT
               and (recommended is None or n.technique == recommended)]
    return not against, against
