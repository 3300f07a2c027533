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
from optimizer.guide.goals import McuBudget, metric_word
from optimizer.guide.registry import TechniqueId
from optimizer.guide.schema import Result
from optimizer.guide.verdicts import goal_word
from optimizer.search.pareto import pareto_front, size_of
from optimizer.search.rules import Skip, best_trial
from optimizer.text import N_, Message, figure, joined, msg

BASELINE = TechniqueId.FLOAT32.value
#: (message ids) how a size basis is named after a size
_MEASURE_WORDS = {"raw": N_("on disk"), "gzip": N_("gzipped")}


def _kb(nbytes: int):
    return figure(nbytes, "size")


def accuracy_words(result: Result):
    """A trial's metric with its 95 % interval and its change against float32 with the paired
    test, as a message: "accuracy 98.444 % (95 % interval 97.1–99.2), -0.222 points against
    float32 (1 of 450 test samples differ; p = 1.0)"; "" without a metric."""
    if result.accuracy is None:
        return ""
    metric = result.metric or "accuracy"
    places = numbers.metric_places([result.accuracy], [result.delta_value], metric,
                                   result.samples)
    text = msg("{metric} {value}", metric=metric_word(metric),
               value=figure(result.accuracy, "metric_value", metric=metric, decimals=places))
    if result.accuracy_ci:
        text = msg("{text} (95 % interval {interval})", text=text,
                   interval=figure(list(result.accuracy_ci), "interval", metric=metric))
    if result.technique != BASELINE and result.delta_value is not None:
        evidence = []
        delta = result.accuracy_delta or {}
        if result.delta_ci:
            evidence.append(msg("95 % interval {range}", range=figure(
                list(result.delta_ci), "points_range", metric=metric)))
        if delta.get("worse") is not None and delta.get("samples"):
            evidence.append(msg("{changed} of {samples} test samples differ",
                                changed=figure(int(delta["worse"]) + int(delta.get("better") or 0)),
                                samples=figure(delta["samples"])))
        if result.delta_p is not None:
            evidence.append(figure(result.delta_p, "p_value"))
        text = msg("{text}, {delta} against float32{evidence}", text=text,
                   delta=figure(result.delta_value, "points", metric=metric),
                   evidence=msg(" ({evidence})", evidence=joined(evidence, "; "))
                   if evidence else "")
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
    explanation: str        # a Message (English text; the page renders it in its language)
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
            "trials": [{**r.to_dict(), "why": str(self.why.get(r.technique, "")),
                        "why_data": _data(self.why.get(r.technique))} for r in self.trials],
            "pareto": list(self.pareto),
            "best": best.to_dict() if best is not None else None,
            "goal_met": bool(self.goal_met),
            "explanation": str(self.explanation),
            "explanation_data": self.explanation.to_dict()
            if isinstance(self.explanation, Message) else None,
            "trials_to_first_feasible": self.trials_to_first_feasible,
            "status": self.status,
            "stopped": self.stopped,
            "error": self.error,
            "skipped": [s.to_dict() for s in self.skipped],
            "checks": {k: v.to_dict() for k, v in self.checks.items()},
            "notes": [str(n) for n in self.notes],
            "notes_data": [_data(n) for n in self.notes],
            "excluded": [{"technique": t, "reason": str(r), "reason_data": r.to_dict()
                          if isinstance(r, Message) else None} for t, r in self.excluded],
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
                   explanation=Message.from_dict(data.get("explanation_data"))
                   or data.get("explanation", ""),
                   skipped=[Skip.from_dict(s) for s in data.get("skipped", [])],
                   checks=dict(data.get("checks", {})),
                   notes=_with_data(data.get("notes", []), data.get("notes_data")),
                   excluded=[(e["technique"], Message.from_dict(e.get("reason_data"))
                              or e["reason"]) for e in data.get("excluded", [])],
                   stopped=data.get("stopped"), error=data.get("error"),
                   elapsed_s=float(data.get("elapsed_s", 0.0)),
                   size_measure=data.get("size_measure", "raw"), goals=data.get("goals") or {},
                   layer_reports=list(data.get("layer_reports") or []),
                   why={r["technique"]: Message.from_dict(r.get("why_data")) or r["why"]
                        for r in data.get("trials", []) if r.get("why")},
                   trials_to_first_feasible=data.get("trials_to_first_feasible"),
                   sensitivity_reports=list(data.get("sensitivity_reports") or []))


def _data(value) -> dict | None:
    """A Message's data for JSON beside its English text; None for plain text."""
    return value.to_dict() if isinstance(value, Message) else None


def _with_data(texts, data) -> list:
    """The English ``texts`` back as Messages where ``data`` (written beside them) has one; an
    older file's text as it is."""
    data = data if isinstance(data, list) and len(data) == len(texts) else [None] * len(texts)
    return [Message.from_dict(d) or t for t, d in zip(texts, data)]


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
        text = msg("The search could not run: {error}", error=error)
    elif best is not None:
        text = _why_best(best, base, trials, checks, measure, eligible, objective)
    elif base is not None and base.ok and goals is not None:
        text = _closest(trials, base, goals, checks, measure, eligible, skipped)
    else:
        text = msg("Nothing measured yet.")
    text = joined([text, _skip_summary(skipped, best),
                   msg(" The search stopped early: {why}; what it found is kept.", why=stopped)
                   if stopped else ""], "")
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


def _why_best(best, base, trials, checks, measure, eligible, objective="size"):
    size, base_size = size_of(best, measure), size_of(base, measure)
    where = msg(_MEASURE_WORDS[measure])
    ratio = msg(", {ratio} smaller than float32's {size}", ratio=figure(base_size / size, "ratio"),
                size=_kb(base_size)) if size and base_size and best.technique != BASELINE else ""
    details = joined([item.detail for item in checks[best.technique].items], "; ") \
        if best.technique in checks else msg("it is the float model itself")
    values = {"technique": best.technique, "size": _kb(size), "where": where, "ratio": ratio,
              "details": details}
    text = (msg("{technique} wins: the most accurate file that meets every goal ({size} "
                "{where}{ratio}). {details}.", **values) if objective == "accuracy" else
            msg("{technique} wins: the smallest file that meets every goal ({size} "
                "{where}{ratio}). {details}.", **values))
    measured = accuracy_words(best)
    if measured:
        text = joined([text, msg(" Measured: {measured}.", measured=measured)], "")
    if objective == "accuracy":
        return text
    smaller = sorted((r for r in trials if r.ok and r.technique in eligible
                      and r.technique in checks and (size_of(r, measure) or size) < size),
                     key=lambda r: size_of(r, measure))
    if smaller:
        missed = [msg("{technique} ({size}): {detail}", technique=r.technique,
                      size=_kb(size_of(r, measure)),
                      detail=next(i.detail for i in checks[r.technique].items if not i.met))
                  for r in smaller[:3]]
        text = joined([text, msg(" Smaller but rejected: {trials}.",
                                 trials=joined(missed, "; "))], "")
    return text


def _shortfall(goal, base, result, measure) -> tuple[float, str]:
    """(how far past the limit, relative; what limit would accept it) for one missed goal."""
    if goal.name == "accuracy":
        drop = goal.drop(base.accuracy, result.accuracy)
        over = (drop - goal.max_drop) / max(goal.max_drop, 1e-9)
        if goal.relative:
            need = msg("an accuracy budget of {amount} % of the baseline",
                       amount=figure(drop * 100, "sig"))
        elif result.metric in ("accuracy", "agreement"):
            need = msg("an accuracy budget of {amount} points", amount=figure(drop * 100, "sig"))
        else:
            need = msg("an accuracy budget of {amount}", amount=figure(drop, "sig"))
        return over, need
    if goal.name == "size":
        size, base_size = size_of(result, measure), size_of(base, measure)
        if goal.max_bytes is not None:
            return size / goal.max_bytes - 1, msg("a size limit of {bytes} bytes",
                                                  bytes=figure(size))
        ratio = size / base_size
        return ratio / goal.max_ratio - 1, \
            msg("a size target of {ratio} smaller", ratio=figure(base_size / size, "ratio"))
    if goal.name == "latency":
        ms = float(result.latency_ms_median)
        return ms / goal.max_ms - 1, msg("a latency target of {ms}", ms=figure(ms, "ms"))
    if goal.name == McuBudget.name:
        memory = (result.readiness or {}).get("memory") or {}
        gaps = [(memory[key] / (kb * 1024) - 1,
                 msg("a RAM budget of {kb} kB", kb=figure(-(-memory[key] // 1024)))
                 if key == "arena_bytes" else
                 msg("a flash budget of {kb} kB", kb=figure(-(-memory[key] // 1024))))
                for key, kb in (("arena_bytes", goal.ram_kb), ("flash_bytes", goal.flash_kb))
                if kb and memory.get(key) is not None]
        if not gaps:
            raise ValueError("memory not measured")
        worst = max(gaps, key=lambda g: g[0])
        return worst[0], joined([g[1] for g in gaps if g[0] > 0], " and ") or worst[1]
    # "must be ready for the target": not a matter of degree, so never "close"
    raise ValueError(f"{goal.name} cannot be relaxed by an amount")



def _closest(trials, base, goals, checks, measure, eligible, skipped):
    text = msg("No trial met every goal.")
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
        text = joined([text, msg(
            " Closest: {technique} ({size} {where}) misses the {which} goal: {detail}. It "
            "would be accepted with {needs}.", technique=r.technique,
            size=_kb(size_of(r, measure)), where=msg(_MEASURE_WORDS[measure]),
            which=joined([goal_word(name) for name in missed], " and "),
            detail=joined([i.detail for i in checks[r.technique].items if not i.met], "; "),
            needs=joined([g[1] for g in gaps], " and "))], "")
    unsure = [i.detail for r in trials if r.technique in checks
              for i in checks[r.technique].items
              if i.name == "target" and i.detail.startswith("could not check")]
    if unsure:  # a readiness check that could not tell is not "ready", and is said so
        text = joined([text, msg(" {count} trial could not be checked for the target, so it "
                                 "does not count as ready: {why}.", count=1, why=unsure[0])
                       if len(unsure) == 1 else
                       msg(" {count} trials could not be checked for the target, so they do "
                           "not count as ready: {why}.", count=len(unsure), why=unsure[0])], "")
    untried = [s for s in skipped if "not started" in s.reason]
    if untried:
        names = ", ".join(dict.fromkeys(s.group or s.id for s in untried))
        text = joined([text, msg(" Not tried for lack of time or after a stop: {names}; a "
                                 "longer time budget would run them (quantization-aware "
                                 "training usually recovers the accuracy post-training int8 "
                                 "loses).", names=names)], "")
    return text


def _skip_summary(skipped, best=None):
    if not skipped:
        return ""
    beat = sum(1 for s in skipped if s.reason.startswith("cannot beat"))
    time_ = sum(1 for s in skipped if s.reason.startswith("not started"))
    other = len(skipped) - beat - time_
    parts = [msg("{count} could not beat the best trial of the moment on size", count=beat)
             if beat else "",
             msg("{count} were not started (time budget or stop)", count=time_) if time_ else "",
             msg("{count} for other reasons (see skipped)", count=other) if other else ""]
    return msg(" Skipped {count} candidate(s): {parts}.", count=len(skipped),
               parts=joined(parts, ", "))
