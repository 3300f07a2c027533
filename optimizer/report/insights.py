"""Insights: what a run's measurements say, as data, claiming only what they support.

``run_insights(results, answers=None, goals=None)`` returns ``Insight`` records; a run's JSON
carries them as ``"insights": [{"kind", "technique", "message", ..}]`` and the pages, the
report and the CLI show that same list. Kinds:

* ``guide_contradicted``: the guide's pick lost more accuracy than a measured post-training
  quantization variant, or (when the user asked for the biggest size reduction) is larger;
  names both, the numbers,
  and which one the measurements favour for the user's goals. Without answers, the guide's
  own table is the claim checked: it says quantization-aware training loses the least accuracy.
* ``faster`` / ``slower``: against ``versus`` (the float32 baseline), only when the two p10-p90
  intervals do not overlap; otherwise ``not_meaningful`` with both intervals.
* ``goal_missed``: a goal the recommended technique missed, and what measured would meet it.
* context: ``measured_on``, ``mixed_nodes``, ``failed``, ``latency_note``, ``compressed_only``.
A rule that lacks a measurement stays silent; nothing is estimated.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from optimizer.guide.registry import QAT_FAMILY, TECHNIQUES, TechniqueId, parse_spec
from optimizer.guide.schema import Result
from optimizer.guide.stage_handlers import STAGES
from optimizer.guide.technique import SizeClass
from optimizer.report import numbers

#: Raw sizes within this fraction of the baseline count as "the same size on disk".
SAME_SIZE = 0.02
#: Kinds that say the measurements disagree with the guide's recommendation.
DISAGREEMENT = ("guide_contradicted", "goal_missed")
_BASE = TechniqueId.FLOAT32.value
_EPS = 1e-9


@dataclass(frozen=True)
class Insight:
    """One insight: its kind, the technique it is about (None for the whole run), the message,
    the technique it is compared with (``versus``) and a severity ("info" or "warning")."""

    kind: str
    technique: str | None
    message: str
    versus: str | None = None
    severity: str = "info"

    @property
    def text(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Insight":
        return cls(kind=str(data.get("kind", "")), technique=data.get("technique"),
                   message=str(data.get("message", "")), versus=data.get("versus"),
                   severity=str(data.get("severity") or "info"))


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
    delta = _num(r.accuracy_delta)
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


# --- latency -----------------------------------------------------------------------------------

def _interval(r: Result):
    lo, hi = _num(r.latency_ms_p10), _num(r.latency_ms_p90)
    return None if lo is None or hi is None or _num(r.latency_ms_median) is None else (lo, hi)


def _latency(r: Result, base: Result, spec) -> list[Insight]:
    mine, theirs = _interval(r), _interval(base)
    if mine is None or theirs is None:
        return []
    median, base_median = r.latency_ms_median, base.latency_ms_median
    figures = (f"median {numbers.ms(median)} (p10–p90 {numbers.ms_range(*mine)}) vs "
               f"{base.technique}'s {numbers.ms(base_median)} "
               f"(p10–p90 {numbers.ms_range(*theirs)})")
    context = ""
    if spec is not None and spec.conversion == TechniqueId.FLOAT16:
        context = (" The guide: float16 stores the weights as float16 and executes in float32, "
                   "so its speed-up is on GPU delegates.")
    if r.latency_kernels and r.latency_kernels != base.latency_kernels:
        context += (f" Kernels: {r.latency_kernels} ({base.technique}: "
                    f"{base.latency_kernels}).")
    if mine[1] < theirs[0]:
        return [Insight("faster", r.technique, (
            f"{r.technique} is faster than {base.technique} here: {figures}, "
            f"{numbers.ratio(base_median / median)} faster.{context}"), base.technique)]
    if mine[0] > theirs[1]:
        outside = _outside_xnnpack(r.latency_note)
        if outside:
            context += (f" The timing process found {outside}: those run on builtin kernels "
                        "and split the XNNPACK graph.")
        return [Insight("slower", r.technique, (
            f"{r.technique} is slower than {base.technique} here: {figures}, "
            f"{numbers.ratio(median / base_median)} slower.{context}"), base.technique,
            "warning")]
    return [Insight("not_meaningful", r.technique, (
        f"No meaningful latency difference between {r.technique} and {base.technique}: the "
        f"p10–p90 intervals overlap ({numbers.ms_range(*mine)} vs "
        f"{numbers.ms_range(*theirs)}; medians {numbers.ms(median)} vs "
        f"{numbers.ms(base_median)}).{context}"), base.technique)]


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
    what = spec.technique.title
    # what its first stage measurably made: zeros (pruning) or shared values (clustering)
    evidence = STAGES[spec.stages[0].kind].evidence
    extra = ""
    if evidence == "sparsity" and _num(r.sparsity) is not None:
        extra = f" (measured sparsity {numbers.sig(100 * r.sparsity)}%)"
    elif evidence == "distinct weights" and r.max_unique_weights_per_channel:
        extra = f" (at most {r.max_unique_weights_per_channel} distinct weights per channel)"
    elif evidence not in ("sparsity", "distinct weights", None):
        raise ValueError(f"{spec.base}: unknown stage evidence {evidence!r}")
    return [Insight("compressed_only", r.technique, (
        f"{what} helps only the compressed size{extra}: {numbers.size(raw)} on disk, the same "
        f"as float32, but {numbers.size(gz)} gzipped, {numbers.ratio(b_gz / gz)} smaller than "
        f"float32's {numbers.size(b_gz)}. Add a post-training quantization to shrink the file "
        "itself."), base.technique)]


# --- the guide against the measurements -------------------------------------------------------

def _post_training_quantized(technique: str) -> bool:
    """True for a plain post-training quantization (float16, dynamic range, integer, ...): the
    rows the guide's table weighs QAT against. Retraining and float variants are not rivals."""
    spec = _spec(technique)
    return spec is not None and spec.is_post_training


def _favoured(pool: list[Result], base: Result, goals, key) -> tuple[Result, bool]:
    """The best of ``pool`` by ``key`` among those meeting every goal (else among all);
    returns it and whether it meets the goals."""
    meeting = [r for r in pool if goals is not None and goals.is_met(base, r)]
    best = max(meeting or pool, key=key)
    return best, bool(meeting)


def _favour_text(best: Result, meets: bool, goals, what: str) -> str:
    if goals is None or not goals.active:
        return f" On {what}, the measurements favour {best.technique}."
    if meets:
        return (f" For your goals the measurements favour {best.technique}: it meets them with "
                f"the best {what} measured.")
    return (f" None of the measured variants meets all your goals; on {what} the measurements "
            f"favour {best.technique}.")


def _contradictions(claimed: Result, rows: list[Result], base: Result, answers, goals,
                    recommended: bool) -> list[Insight]:
    others = [r for r in rows if r.ok and r.technique not in (_BASE, claimed.technique)
              and _post_training_quantized(r.technique)]
    spec = _spec(claimed.technique)
    info = TECHNIQUES.get(spec.base if spec else None)
    if recommended:
        who = f"The guide recommended {claimed.technique}"
        subject = "it"
    else:
        title = info.title if info else claimed.technique
        claim = info.guide_accuracy if info else "Smallest accuracy loss"
        who = f"The guide's table gives {title} the '{claim}'"
        subject = claimed.technique
    notes = []
    mine, metric = _gain(claimed), claimed.metric
    rivals = [r for r in others if _gain(r) is not None]
    if mine is not None and rivals:
        best = max(rivals, key=lambda r: (_gain(r), -(r.size_bytes or math.inf)))
        if _gain(best) > mine + _EPS:
            pool = rivals + [claimed]
            fav, meets = _favoured(pool, base, goals,
                                   lambda r: (_gain(r), -(r.size_bytes or math.inf)))
            because = (f" ({info.guide_accuracy.lower()}, says the guide's table)"
                       if recommended and info else "")
            notes.append(Insight("guide_contradicted", claimed.technique, (
                f"{who}{because}, but {subject} lost more accuracy than {best.technique}: "
                f"{numbers.points(claimed.accuracy_delta, metric)} vs "
                f"{numbers.points(best.accuracy_delta, metric)} against float32."
                + _favour_text(fav, meets, goals, "accuracy")), best.technique, "warning"))
    wants_smallest = recommended and answers is not None and \
        str(getattr(answers.size_goal, "value", answers.size_goal)) == "4x"
    sized = [r for r in others if _num(r.size_bytes) is not None]
    if wants_smallest and _num(claimed.size_bytes) is not None and sized:
        smallest = min(sized, key=lambda r: r.size_bytes)
        if smallest.size_bytes < claimed.size_bytes:
            fav, meets = _favoured(sized + [claimed], base, goals, lambda r: -r.size_bytes)
            notes.append(Insight("guide_contradicted", claimed.technique, (
                f"{who} for 'as small as possible (about 4x)', but {smallest.technique} is "
                f"smaller: {numbers.size(claimed.size_bytes)} vs "
                f"{numbers.size(smallest.size_bytes)} on disk."
                + _favour_text(fav, meets, goals, "size")), smallest.technique, "warning"))
    return notes


def _goal_missed(claimed: Result, rows: list[Result], base: Result, goals) -> list[Insight]:
    if goals is None or not goals.active:
        return []
    notes = []
    pool = [r for r in rows if r.ok and r.technique != _BASE]
    for goal in goals.active:
        item = goal.evaluate(base, claimed)
        if item.met:
            continue
        meeting = [r.technique for r in pool if goal.is_met(base, r)]
        fix = (f"Among the measured results, {', '.join(meeting)} meet{'s' if len(meeting) == 1 else ''} it."
               if meeting else "None of the measured results meets it.")
        notes.append(Insight("goal_missed", claimed.technique, (
            f"The recommended {claimed.technique} missed your {goal.name} goal: {item.detail}. "
            f"{fix}"), None, "warning"))
    return notes


def _recommended_spec(answers) -> str | None:
    if answers is None:
        return None
    from optimizer.recommendation.decide import recommend

    try:
        return recommend(answers).run_spec
    except ValueError:
        return None


def run_insights(results, answers=None, goals=None) -> list[Insight]:
    """Every insight for a run's results (``Result`` objects or dicts).

    ``answers`` (``Answers``) names the guide's recommendation and whether the user asked for
    the biggest size reduction; ``goals`` (``Goals``) are judged for it and decide which variant
    the measurements favour. Both optional: without answers the guide's claim that QAT loses
    the least accuracy is what gets checked, for every QAT-family result.
    """
    rows = [_as_result(r) for r in results]
    notes: list[Insight] = []
    hosts = sorted({r.measured_on for r in rows if r.measured_on})
    if hosts:
        notes.append(Insight("measured_on", None, "Measured on " + "; ".join(hosts) + "."))
    nodes = sorted({r.node for r in rows if r.ok and r.node})
    if len(nodes) > 1:
        notes.append(Insight("mixed_nodes", None,
                             f"These results were timed on different nodes ({', '.join(nodes)}):"
                             " their latencies are not comparable with each other (size and "
                             "accuracy do not depend on the node). Time them again in one run "
                             "to compare speed.", None, "warning"))
    base = next((r for r in rows if r.technique == _BASE and r.ok), None)
    recommended = _recommended_spec(answers)
    if base is not None:
        if recommended is not None:
            claimed = [r for r in rows if r.technique == recommended and r.ok]
        else:
            claimed = [r for r in rows if r.ok and (s := _spec(r.technique)) is not None
                       and s.base in QAT_FAMILY]
        for r in claimed:
            notes.extend(_contradictions(r, rows, base, answers, goals, recommended is not None))
            if recommended is not None:
                notes.extend(_goal_missed(r, rows, base, goals))
    for r in rows:
        if not r.ok:
            notes.append(Insight("failed", r.technique, f"{r.status}: "
                                 f"{r.error or 'no message recorded'}", None, "warning"))
            continue
        spec = _spec(r.technique)
        if base is not None and r is not base:
            notes.extend(_latency(r, base, spec))
            notes.extend(_compressed_only(r, base, spec))
        if r.latency_note:
            notes.append(Insight("latency_note", r.technique, r.latency_note, None, "warning"))
    return notes


def result_insights(results, answers=None, goals=None) -> list[Insight]:
    """Alias of ``run_insights`` (the name the pages used first)."""
    return run_insights(results, answers, goals)


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


def context_of(run_dir, results=None) -> tuple:
    """``(Answers or None, Goals or None)`` a run was made for: the answers and goals of its
    ``request.json`` (older runs: their ``context.json``). The accuracy goal's direction is the
    metric's, read from the float32 result (of ``results``, else of the run's results)."""
    from pathlib import Path

    from optimizer.artifacts import store
    from optimizer.guide.goals import Goals
    from optimizer.recommendation.decide import Answers
    from optimizer.runs.request import RunRequest

    try:
        request = RunRequest.from_dict(store.read_json(Path(run_dir) / store.REQUEST))
    except (TypeError, ValueError):
        request = None
    if request is not None and (request.answers is not None or request.goals() is not None):
        if results is None:
            try:
                results = store.read_results(run_dir)
            except (TypeError, ValueError, AttributeError):
                results = []
        base = next((r for r in map(_as_result, results) if r.technique == _BASE and r.ok), None)
        higher = base is None or base.higher_is_better is None or bool(base.higher_is_better)
        return request.answers, request.goals(higher)
    raw = store.read_context(run_dir)
    try:
        answers = Answers.from_dict(raw["answers"]) if raw["answers"] else None
    except (TypeError, ValueError):
        answers = None
    try:
        goals = Goals.from_dict(raw["goals"]) if raw["goals"] else None
    except (TypeError, ValueError):
        goals = None
    return answers, goals


def stored_insights(run_dir, results=None) -> list[Insight]:
    """A run folder's insights: the list its ``results.json`` carries (written when the run
    ended), else computed now from its results and the answers and goals it was made for."""
    from pathlib import Path

    from optimizer.artifacts import store

    doc = store.read_json(Path(run_dir) / store.RESULTS, default={}) or {}
    if not isinstance(doc, dict):      # a damaged results.json: the results come from events
        doc = {}
    if isinstance(doc.get("insights"), list):
        return insights_from_json(doc["insights"])
    if results is None:
        results = [Result.from_dict(r) for r in doc.get("results", []) if isinstance(r, dict)]
    return run_insights(results, *context_of(run_dir, results))


def recommended_of(run_dir) -> str | None:
    """The spec the guide recommended for the situation a run was made for (None when the run
    was asked without answers, e.g. from the command line without answer flags)."""
    answers, _ = context_of(run_dir)
    return _recommended_spec(answers)
