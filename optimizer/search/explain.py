"""A search's outcome: the trials, the Pareto front, the best trial and why it won, in words.

``finalize`` turns what the loop has (trials, skips, notes) into a ``SearchOutcome``: every
trial judged by the goals, the Pareto front over (accuracy, size, latency), the best trial
(the smallest that meets every goal) and an explanation built only from measured numbers:
why the best won and which smaller trials missed which goal; or, when nothing met the goals,
what came closest and what would be needed (a larger budget that would accept it, or the
candidates that were not run). ``SearchOutcome.to_dict`` is the CLI's JSON: each trial with
``why`` the search chose it, and ``trials_to_first_feasible`` (how many trials ran, in order and
the float32 baseline included, up to the first that met every goal; None when none did).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from optimizer import numbers
from optimizer.guide.goals import McuBudget
from optimizer.guide.registry import TechniqueId
from optimizer.guide.schema import Result
from optimizer.search.pareto import pareto_front, size_of
from optimizer.search.rules import Skip, best_trial

BASELINE = TechniqueId.FLOAT32.value
_MEASURE_WORDS = {"raw": "on disk", "gzip": "gzipped"}


def _kb(nbytes: int) -> str:
    return numbers.size(nbytes)


def accuracy_words(result: Result) -> str:
    """A trial's metric with its 95 % interval and its change against float32 with the paired
    test: "accuracy 98.444 % (95 % interval 97.1–99.2), -0.222 points against float32 (1 of
    450 test samples differ, p = 1.0)"."""
    if result.accuracy is None:
        return ""
    metric = result.metric or "accuracy"
    places = numbers.metric_places([result.accuracy], [result.delta_value], metric,
                                   result.samples)
    text = f"{metric} {numbers.metric_value(result.accuracy, metric, places)}"
    if result.accuracy_ci:
        text += f" (95 % interval {numbers.interval(result.accuracy_ci, metric)})"
    if result.technique != BASELINE and result.delta_value is not None:
        text += f", {numbers.points(result.delta_value, metric)} against float32"
        evidence = []
        delta = result.accuracy_delta or {}
        if delta.get("worse") is not None and delta.get("samples"):
            changed = int(delta["worse"]) + int(delta.get("better") or 0)
            evidence.append(f"{numbers.count(changed)} of {numbers.count(delta['samples'])} "
                            "test samples differ")
        if result.delta_p is not None:
            evidence.append(numbers.p_value(result.delta_p))
        if result.delta_ci:
            evidence.insert(0, f"95 % interval {numbers.points_range(result.delta_ci, metric)}")
        if evidence:
            text += f" ({'; '.join(evidence)})"
    return text


@dataclass
class SearchOutcome:
    """Everything a search found. ``status`` is "running", "finished", "stopped" (time budget
    or the user; what was found is kept), "cancelled" or "failed"."""

    status: str
    trials: list
    pareto: list
    best: str | None
    goal_met: bool
    explanation: str
    skipped: list = field(default_factory=list)
    checks: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    excluded: list = field(default_factory=list)
    stopped: str | None = None
    error: str | None = None
    elapsed_s: float = 0.0
    size_measure: str = "raw"
    goals: dict = field(default_factory=dict)
    layer_reports: list = field(default_factory=list)   # [{"trial", "folder", "mode"}]
    why: dict = field(default_factory=dict)              # trial id -> why it was chosen
    trials_to_first_feasible: int | None = None
    sensitivity_reports: list = field(default_factory=list)   # [{"folder", ..}]

    def trial(self, trial_id: str) -> Result | None:
        return next((r for r in self.trials if r.technique == trial_id), None)

    def to_dict(self) -> dict:
        """The CLI's JSON: trials, pareto, best, goal_met, explanation, then the details."""
        best = self.trial(self.best) if self.best else None
        return {
            "trials": [{**r.to_dict(), "why": self.why.get(r.technique, "")}
                       for r in self.trials],
            "pareto": list(self.pareto),
            "best": best.to_dict() if best is not None else None,
            "goal_met": bool(self.goal_met),
            "explanation": self.explanation,
            "trials_to_first_feasible": self.trials_to_first_feasible,
            "status": self.status,
            "stopped": self.stopped,
            "error": self.error,
            "skipped": [s.to_dict() for s in self.skipped],
            "checks": {k: v.to_dict() for k, v in self.checks.items()},
            "notes": list(self.notes),
            "excluded": [{"technique": t, "reason": r} for t, r in self.excluded],
            "elapsed_s": round(float(self.elapsed_s), 1),
            "size_measure": self.size_measure,
            "goals": self.goals,
            "layer_reports": list(self.layer_reports),
            "sensitivity_reports": list(self.sensitivity_reports),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "SearchOutcome":
        """Rebuild from ``to_dict`` (checks are kept as plain dicts)."""
        best = data.get("best")
        return cls(status=data.get("status", "finished"),
                   trials=[Result.from_dict(r) for r in data.get("trials", [])],
                   pareto=list(data.get("pareto", [])),
                   best=best.get("technique") if isinstance(best, dict) else None,
                   goal_met=bool(data.get("goal_met")),
                   explanation=data.get("explanation", ""),
                   skipped=[Skip(s["technique"], s["reason"], s.get("group", ""))
                            for s in data.get("skipped", [])],
                   checks=dict(data.get("checks", {})), notes=list(data.get("notes", [])),
                   excluded=[(e["technique"], e["reason"]) for e in data.get("excluded", [])],
                   stopped=data.get("stopped"), error=data.get("error"),
                   elapsed_s=float(data.get("elapsed_s", 0.0)),
                   size_measure=data.get("size_measure", "raw"), goals=data.get("goals") or {},
                   layer_reports=list(data.get("layer_reports") or []),
                   why={r["technique"]: r["why"] for r in data.get("trials", [])
                        if r.get("why")},
                   trials_to_first_feasible=data.get("trials_to_first_feasible"),
                   sensitivity_reports=list(data.get("sensitivity_reports") or []))


def finalize(request, plan, trials, skipped, notes, eligible, goals, status: str,
             stopped: str | None = None, elapsed_s: float = 0.0, error: str | None = None,
             layer_reports=(), whys=None, sensitivity_reports=()) -> SearchOutcome:
    """Judge the trials and explain the result (see the module docstring)."""
    by_id = {r.technique: r for r in trials}
    base = by_id.get(BASELINE)
    measure = request.size_measure
    higher = bool(base.higher_is_better) if base is not None else True
    checks = {}
    if goals is not None and base is not None and base.ok:
        checks = {r.technique: goals.check(base, r) for r in trials if r.technique != BASELINE}
    objective = getattr(request, "objective", "size")
    best = best_trial(trials, goals, measure, eligible, objective)
    if error:
        text = f"The search could not run: {error}"
    elif best is not None:
        text = _why_best(best, base, trials, checks, measure, eligible, objective)
    elif base is not None and base.ok and goals is not None:
        text = _closest(trials, base, goals, checks, measure, eligible, skipped)
    else:
        text = "Nothing measured yet."
    text += _skip_summary(skipped, best)
    if stopped:
        text += f" The search stopped early: {stopped}; what it found is kept."
    return SearchOutcome(status=status, trials=list(trials),
                         pareto=pareto_front(trials, measure, higher), best=best.technique
                         if best is not None else None, goal_met=best is not None,
                         explanation=text, skipped=list(skipped), checks=checks,
                         notes=list(notes), excluded=list(plan.excluded), stopped=stopped,
                         error=error, elapsed_s=elapsed_s, size_measure=measure,
                         goals=goals.to_dict() if goals is not None else {},
                         layer_reports=list(layer_reports), why=dict(whys or {}),
                         trials_to_first_feasible=first_feasible(trials, base, goals, eligible),
                         sensitivity_reports=list(sensitivity_reports))


def first_feasible(trials, base, goals, eligible) -> int | None:
    """How many trials ran (in order, the baseline included) up to the first that met every
    goal; None when none did."""
    if goals is None or base is None or not base.ok:
        return None
    for number, r in enumerate(trials, 1):
        if r.ok and r.technique in eligible and goals.is_met(base, r):
            return number
    return None


def _why_best(best, base, trials, checks, measure, eligible, objective="size") -> str:
    size, base_size = size_of(best, measure), size_of(base, measure)
    words = _MEASURE_WORDS[measure]
    ratio = f", {numbers.ratio(base_size / size)} smaller than float32's {_kb(base_size)}" \
        if size and base_size and best.technique != BASELINE else ""
    details = "; ".join(item.detail for item in checks[best.technique].items) \
        if best.technique in checks else "it is the float model itself"
    what = "most accurate" if objective == "accuracy" else "smallest"
    measured = accuracy_words(best)
    text = (f"{best.technique} wins: the {what} file that meets every goal ({_kb(size)} "
            f"{words}{ratio}). {details}." + (f" Measured: {measured}." if measured else ""))
    if objective == "accuracy":
        return text
    smaller = sorted((r for r in trials if r.ok and r.technique in eligible
                      and r.technique in checks and (size_of(r, measure) or size) < size),
                     key=lambda r: size_of(r, measure))
    if smaller:
        missed = [f"{r.technique} ({_kb(size_of(r, measure))}): "
                  + next(i.detail for i in checks[r.technique].items if not i.met)
                  for r in smaller[:3]]
        text += " Smaller but rejected: " + "; ".join(missed) + "."
    return text


def _shortfall(goal, base, result, measure) -> tuple[float, str]:
    """(how far past the limit, relative; what limit would accept it) for one missed goal."""
    if goal.name == "accuracy":
        drop = goal.drop(base.accuracy, result.accuracy)
        over = (drop - goal.max_drop) / max(goal.max_drop, 1e-9)
        if goal.relative:
            need = f"an accuracy budget of {numbers.sig(drop * 100)} % of the baseline"
        elif result.metric in ("accuracy", "agreement"):
            need = f"an accuracy budget of {numbers.sig(drop * 100)} points"
        else:
            need = f"an accuracy budget of {numbers.sig(drop)}"
        return over, need
    if goal.name == "size":
        size, base_size = size_of(result, measure), size_of(base, measure)
        if goal.max_bytes is not None:
            return size / goal.max_bytes - 1, f"a size limit of {numbers.count(size)} bytes"
        ratio = size / base_size
        return ratio / goal.max_ratio - 1, \
            f"a size target of {numbers.ratio(base_size / size)} smaller"
    if goal.name == "latency":
        ms = float(result.latency_ms_median)
        return ms / goal.max_ms - 1, f"a latency target of {numbers.ms(ms)}"
    if goal.name == McuBudget.name:
        memory = (result.readiness or {}).get("memory") or {}
        gaps = [(memory[key] / (kb * 1024) - 1,
                 f"{label} {numbers.count(-(-memory[key] // 1024))} kB")
                for key, kb, label in (("arena_bytes", goal.ram_kb, "a RAM budget of"),
                                       ("flash_bytes", goal.flash_kb, "a flash budget of"))
                if kb and memory.get(key) is not None]
        if not gaps:
            raise ValueError("memory not measured")
        worst = max(gaps)
        return worst[0], " and ".join(g[1] for g in gaps if g[0] > 0) or worst[1]
    # "must be ready for the target": not a matter of degree, so never "close"
    raise ValueError(f"{goal.name} cannot be relaxed by an amount")



def _closest(trials, base, goals, checks, measure, eligible, skipped) -> str:
    text = "No trial met every goal."
    ranked = []
    for r in trials:
        if not r.ok or r.technique not in eligible or r.technique not in checks:
            continue
        missed = [i.name for i in checks[r.technique].items if not i.met]
        try:
            by_name = {g.name: g for g in goals.active}
            gaps = [_shortfall(by_name[name], base, r, measure) for name in missed]
        except (TypeError, ValueError, ZeroDivisionError):
            continue  # a goal could not be judged (value not measured): not "close"
        ranked.append((len(missed), sum(g[0] for g in gaps), r, missed, gaps))
    if ranked:
        _, _, r, missed, gaps = min(ranked, key=lambda item: item[:2])
        which = " and ".join(missed)
        detail = "; ".join(i.detail for i in checks[r.technique].items if not i.met)
        text += (f" Closest: {r.technique} ({_kb(size_of(r, measure))} "
                 f"{_MEASURE_WORDS[measure]}) misses the {which} goal: {detail}. "
                 f"It would be accepted with " + " and ".join(g[1] for g in gaps) + ".")
    unsure = [i.detail for r in trials if r.technique in checks
              for i in checks[r.technique].items
              if i.name == "target" and i.detail.startswith("could not check")]
    if unsure:  # a readiness check that could not tell is not "ready", and is said so
        text += (f" {len(unsure)} trial{'s' if len(unsure) != 1 else ''} could not be checked "
                 f"for the target, so {'they do' if len(unsure) != 1 else 'it does'} not count "
                 f"as ready: {unsure[0]}.")
    untried = [s for s in skipped if "not started" in s.reason]
    if untried:
        names = ", ".join(dict.fromkeys(s.group or s.id for s in untried))
        text += (f" Not tried for lack of time or after a stop: {names}; a longer time budget "
                 "would run them (quantization-aware training usually recovers the accuracy "
                 "post-training int8 loses).")
    return text


def _skip_summary(skipped, best=None) -> str:
    if not skipped:
        return ""
    beat = sum(1 for s in skipped if s.reason.startswith("cannot beat"))
    time_ = sum(1 for s in skipped if s.reason.startswith("not started"))
    other = len(skipped) - beat - time_
    parts = []
    if beat:
        parts.append(f"{beat} could not beat the best trial of the moment on size")
    if time_:
        parts.append(f"{time_} were not started (time budget or stop)")
    if other:
        parts.append(f"{other} for other reasons (see skipped)")
    return f" Skipped {len(skipped)} candidate(s): " + ", ".join(parts) + "."
