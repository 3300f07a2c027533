"""The one evaluation of a run: every surface (the Results page's table, banners and counters,
the Recommendation page, My runs, the report, the CLI's ``run`` and ``show``) shows what
``evaluate_run`` decided, never a re-derivation of it.

``run_verdict(run_dir)`` judges a run folder by the answers and goals it was made for (its
``request.json``; older runs: ``context.json``), with each variant's cached readiness for the
run's target, and says so (``judged_by``); passing other ``goals`` only changes the view ("try
other goals"), never the record. ``evaluate_run(results, answers, goals)`` is the same on
results in memory: the goal checks (met / missed / within noise / not checked yet), the
insights (recomputed on every call, so a readiness check changes every banner at once), the
guide's recommendation and whether the measurements agree with it, and the best variant.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from optimizer.guide.verdicts import GoalState
from optimizer.report.insights import (
    DISAGREEMENT,
    Insight,
    insights_from_json,
    make,
    recommended_spec,
    run_insights,
    size_basis,
)
from optimizer.report.judge import Best, baseline_of, best_variant, default_goals, goal_checks

#: Where a verdict's goals came from.
RUN_GOALS, DEFAULT_GOALS, OTHER_GOALS = "run", "default", "other"
#: The agreement with the guide: see ``RunVerdict.agreement``.
AGREED, DISAGREED, PENDING, NOT_MEASURED, NOT_COMPARED = (
    "agreed", "disagreed", "pending", "not_measured", "not_compared")


@dataclass
class RunVerdict:
    """What a run's measurements say for a set of answers and goals.

    ``agreement`` is None without a recommendation, else "agreed" (the recommended variant was
    measured and compared -- against a rival or a goal -- and nothing contradicts it),
    "disagreed" (a ``guide_contradicted`` or ``goal_missed`` insight), "pending" (nothing
    contradicts it but a goal is not checked yet), "not_measured" (the recommended technique
    failed or was not run) or "not_compared" (it ran, but nothing was measured to compare it
    with).
    """

    goals: object
    answers: object
    goals_from: str
    checks: dict
    insights: list
    recommended: str | None
    agreement: str | None
    best: Best | None
    size: str
    counts: dict = field(default_factory=dict)
    metric: str = "accuracy"
    results: list = field(default_factory=list)
    target: str | None = None

    @property
    def against(self) -> list[Insight]:
        """The insights that disagree with the guide's recommendation."""
        return [n for n in self.insights if n.kind in DISAGREEMENT
                and (self.recommended is None or n.technique == self.recommended)]

    @property
    def met(self) -> list[str]:
        return [t for t, c in self.checks.items() if c.met]

    def judged_by(self) -> str:
        """ "judged by the goals it was run with: accuracy at most 1 point below float32; ..." """
        if self.goals is None or not self.goals.active:
            return "judged by no goals (none were recorded)"
        words = "; ".join(self.goals.describe(self.metric))
        where = {RUN_GOALS: "the goals it was run with",
                 DEFAULT_GOALS: "the default goals (the run recorded none)",
                 OTHER_GOALS: "the goals you are trying (the run's own are unchanged)"}
        return f"judged by {where[self.goals_from]}: {words}"

    def to_dict(self) -> dict:
        """The JSON summary (``results.json``'s ``"verdict"``, ``show``)."""
        return {"judged_by": self.judged_by(), "goals_from": self.goals_from,
                "goals": self.goals.to_dict() if self.goals is not None else None,
                "recommended": self.recommended, "agreement": self.agreement,
                "best": self.best.row() if self.best is not None else None,
                "size_basis": self.size, "counts": dict(self.counts)}

    def judgement(self) -> dict:
        """The keys a run's JSON gets from this verdict: ``insights``, ``checks``, ``verdict``."""
        return {"insights": [n.to_dict() for n in self.insights],
                "checks": {t: c.to_dict() for t, c in self.checks.items()},
                "verdict": self.to_dict()}


def _counts(checks: dict) -> dict:
    return {state.value: sum(1 for c in checks.values() if c.state == state)
            for state in GoalState}


def _agreement(recommended, rows, notes, checks) -> str | None:
    if recommended is None:
        return None
    mine = next((r for r in rows if r.technique == recommended), None)
    if mine is None or not mine.ok:
        return NOT_MEASURED
    if any(n.kind in DISAGREEMENT and n.technique == recommended for n in notes):
        return DISAGREED
    check = checks.get(recommended)
    if check is not None and check.state == GoalState.NOT_CHECKED:
        return PENDING
    compared = any(n.technique == recommended and n.kind == "within_noise" for n in notes) or \
        (check is not None and check.items) or \
        any(r.ok and r.technique not in ("float32", recommended) and r.delta_value is not None
            for r in rows)
    return AGREED if compared else NOT_COMPARED


def evaluate_run(results, answers=None, goals=None, size: str | None = None, compare=None,
                 goals_from: str = RUN_GOALS) -> RunVerdict:
    """The verdict on ``results`` for ``answers`` and ``goals`` (see the module docstring).
    Without goals the run is judged by ``judge.default_goals`` (and says so); ``size`` is the
    basis of the insights' sentences (the chart's view)."""
    from optimizer.guide.schema import Result

    rows = [r if isinstance(r, Result) else Result.from_dict(dict(r)) for r in results]
    if goals is None or not goals.active:
        goals, goals_from = default_goals(rows), DEFAULT_GOALS
    basis = size_basis(goals, size)
    checks = goal_checks(rows, goals)
    notes = run_insights(rows, answers, goals, basis, compare)
    best = best_variant(rows, goals, checks=checks)
    counts = _counts(checks)
    if best is not None:
        notes.append(make("best", None, best.params(), best.technique))
    elif baseline_of(rows) is not None and checks:
        notes.append(make("none_meets", None, {"within_noise": counts["within_noise"],
                                               "not_checked": counts["not_checked"]}))
    recommended = recommended_spec(answers)
    base = baseline_of(rows)
    return RunVerdict(goals=goals, answers=answers, goals_from=goals_from, checks=checks,
                      insights=notes, recommended=recommended,
                      agreement=_agreement(recommended, rows, notes, checks), best=best,
                      size=basis, counts=counts,
                      metric=(base.metric if base is not None else "accuracy") or "accuracy",
                      results=rows,
                      target=str(getattr(getattr(answers, "target", None), "value", "")) or None)


# --- a run folder ------------------------------------------------------------------------------

def context_of(run_dir, results=None) -> tuple:
    """``(Answers or None, Goals or None)`` a run was made for: the answers and goals of its
    ``request.json`` (older runs: their ``context.json``). The accuracy goal's direction is the
    metric's, read from the float32 result (of ``results``, else of the run's results)."""
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
        base = baseline_of(results)
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


def target_of(run_dir, answers=None) -> str:
    """The target a run was made for (its request's, else its answers', else "cpu")."""
    from optimizer.artifacts import store
    from optimizer.runs.request import RunRequest

    try:
        request = RunRequest.from_dict(store.read_json(Path(run_dir) / store.REQUEST))
    except (TypeError, ValueError):
        request = None
    target = getattr(request, "target", None) or getattr(answers, "target", None)
    return str(getattr(target, "value", target) or "cpu")


def judged_rows(run_dir, goals=None, results=None) -> tuple:
    """``(results with the cached readiness for the run's target, answers, goals, where the
    goals came from)`` for the run in ``run_dir``: its own answers and goals, or ``goals``
    when a viewer tries other ones."""
    from optimizer.runs.background import read_run
    from optimizer.runs.readiness import run_data, with_readiness

    run = read_run(run_dir)
    rows = results if results is not None else run.results
    answers, own = context_of(run_dir, rows)
    judging, source = (goals, OTHER_GOALS) if goals is not None else (own, RUN_GOALS)
    if judging is None or not judging.active:
        judging, source = default_goals(rows), DEFAULT_GOALS
    data = run_data(run.model, getattr(run.request, "data", None))
    rows = with_readiness(rows, target_of(run_dir, answers),
                          budget=getattr(judging, "mcu", None), data=data)
    return rows, answers, judging, source


def run_verdict(run_dir, goals=None, size: str | None = None, results=None) -> RunVerdict:
    """The verdict on the run in ``run_dir``: its results with the cached readiness for its
    target, judged by the answers and goals it was made for -- or by ``goals`` when a viewer
    tries other ones (the record is unchanged)."""
    rows, answers, judging, source = judged_rows(run_dir, goals, results)
    verdict = evaluate_run(rows, answers, judging, size, goals_from=source)
    verdict.target = target_of(run_dir, answers)
    return verdict


def run_best(run_dir, results=None) -> Best | None:
    """The run's best variant exactly as ``run_verdict(run_dir).best`` (without the
    insights): what My runs and the history show."""
    rows, _answers, judging, _source = judged_rows(run_dir, None, results)
    return best_variant(rows, judging)


def stored_insights(run_dir, results=None) -> list[Insight]:
    """A run folder's insights as written when the run ended (``results.json``), else computed
    now from its results and the answers and goals it was made for."""
    from optimizer.artifacts import store
    from optimizer.guide.schema import Result

    doc = store.read_json(Path(run_dir) / store.RESULTS, default={}) or {}
    if not isinstance(doc, dict):      # a damaged results.json: the results come from events
        doc = {}
    if isinstance(doc.get("insights"), list):
        return insights_from_json(doc["insights"])
    if results is None:
        results = [Result.from_dict(r) for r in doc.get("results", []) if isinstance(r, dict)]
    return evaluate_run(results, *context_of(run_dir, results)).insights


def recommended_of(run_dir) -> str | None:
    """The spec the guide recommended for the situation a run was made for (None when the run
    was asked without answers, e.g. from the command line without answer flags)."""
    answers, _ = context_of(run_dir)
    return recommended_spec(answers)


def best_label(best: dict | None) -> str:
    """A history row's best, in words: "dynamic_range, 3.44x smaller on disk"."""
    from optimizer import numbers
    from optimizer.report.insight_text import BASIS_WORDS

    if not best or not best.get("technique"):
        return ""
    ratio = best.get("x_smaller")
    if ratio is None:
        return str(best["technique"])
    basis = BASIS_WORDS.get(best.get("basis"), "")
    return f"{best['technique']}, {numbers.ratio(ratio)} smaller" + (f" {basis}" if basis else "")
