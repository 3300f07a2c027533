"""The search loop: run candidates cheap to expensive, skip what cannot win, honour the budget.

``run_search(request, plan, evaluator)`` runs the plan's batches in order through a pluggable
*evaluator* (the real one runs job processes, ``search.engine``; tests script one), and after
every batch:

* judges every trial with the request's goals (``optimizer.guide.goals``, the baseline's metric
  direction) and keeps the best: the smallest size (as the request measures it) that meets
  every goal, accuracy then latency breaking ties;
* when the target's post-training int8 misses the accuracy budget, queues the request's
  precision strategy first (``search.strategies``: by default the sensitivity pass, then one
  mixed-precision plan at a time until one meets every goal; or the op-type fallback, or the
  selective-quantization repair that keeps the worst layers in float);
* skips candidates that cannot beat the best (``rules.size_floor``: pruning, clustering and QAT
  do not shrink the file on disk below the same conversion's measured size), harsher knobs
  after a milder one missed the accuracy budget, and conversions that already failed on the
  float model -- each with its reason;
* estimates the next batch's time from what this search measured so far (job start-up, seconds
  per conversion, seconds per fine-tuning epoch) and does not start it when the time left cannot
  fit it; the evaluator itself stops a job at the deadline.

``on_update(outcome)`` is called with a fresh ``SearchOutcome`` after every batch (the engine
writes it to disk, so a stopped search keeps what it found). Pure Python, no TensorFlow.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from optimizer.guide.registry import TechniqueId, int8_conversion, parse_spec
from optimizer.guide.schema import Result, Status
from optimizer.search.candidates import (
    Batch,
    Candidate,
    CandidatePlan,
    Kind,
)
from optimizer.search.explain import SearchOutcome, finalize
from optimizer.search.request import SearchRequest
from optimizer.search.rules import Skip, Timing, prune_batch
from optimizer.search.strategies import PrecisionPhase
from optimizer.text import msg

BASELINE = TechniqueId.FLOAT32.value


@dataclass(frozen=True)
class BatchContext:
    """What an evaluator needs besides the batch: the deadline (on the loop's clock), the
    baseline result (None while it is being measured), the goals, a stop flag, the request,
    and for the repair batch the int8 trial it repairs."""

    deadline: float
    request: SearchRequest
    baseline: Result | None = None
    goals: object | None = None
    should_stop: Callable[[], bool] = lambda: False
    repairs: Result | None = None


@dataclass
class BatchReport:
    """What an evaluator returns: one ``Result`` per candidate (``technique`` = candidate id),
    the fine-tuning seconds per epoch it measured (None without fine-tuning), why it stopped
    early (None when it ran to the end) and any extra facts (e.g. the layer report's path)."""

    results: list
    seconds_per_epoch: float | None = None
    stopped: str | None = None
    extra: dict = field(default_factory=dict)


class Evaluator(Protocol):
    """Runs one batch and returns its report; must return by ``context.deadline``.

    An evaluator with a ``width`` above one (a cluster) also offers ``run_many(wave)``: up to
    ``width`` independent ``(batch, context)`` pairs run side by side, one report each, in
    order, each report's ``extra["seconds"]`` the time its batch took.
    """

    def run(self, batch: Batch, context: BatchContext) -> BatchReport: ...


def _with_baseline(plan: CandidatePlan) -> list[Batch]:
    batches = list(plan.batches)
    first = batches[0] if batches and batches[0].kind == Kind.POST_TRAINING else None
    base = Candidate(BASELINE, BASELINE, Kind.POST_TRAINING.value, Kind.POST_TRAINING,
                     why=msg("the float32 baseline, converted first: every trial is compared "
                             "with it"))
    if first is None:
        return [Batch(Kind.POST_TRAINING.value, Kind.POST_TRAINING, (base,))] + batches
    return [Batch(first.group, first.kind, (base,) + first.candidates)] + batches[1:]


def _complete(batch: Batch, report: BatchReport) -> list[Result]:
    """One result per candidate: a missing one becomes an error naming the batch."""
    by_id = {r.technique: r for r in report.results}
    out = []
    for cand in batch.candidates:
        result = by_id.get(cand.id)
        if result is None:
            why = report.stopped or msg("the job gave no result for it")
            result = Result.failed(cand.id, why, status=Status.CANCELLED if report.stopped
                                   else Status.ERROR)
        out.append(result)
    return out


def run_search(request: SearchRequest, plan: CandidatePlan, evaluator: Evaluator,
               clock: Callable[[], float] = time.monotonic,
               on_update: Callable[[SearchOutcome], None] | None = None,
               should_stop: Callable[[], bool] = lambda: False,
               repair_blocker: str | None = None) -> SearchOutcome:
    """Run the search to the end (or the budget, or a stop) and return its outcome.

    ``repair_blocker`` is why the model cannot have layers kept in float (None when it can).
    """
    phase = PrecisionPhase(request, repair_blocker)
    whys: dict[str, str] = {}
    start = clock()
    deadline = start + request.time_budget_s
    queue = _with_baseline(plan)
    eligible = {c.id for b in queue for c in b.candidates if c.id != BASELINE}
    if request.target in parse_spec(BASELINE).targets:
        eligible.add(BASELINE)   # the float file is a valid answer where float runs
    trials: dict[str, Result] = {}
    skipped: list[Skip] = []
    notes: list[str] = []
    timing = Timing()
    ran: list[Batch] = []
    state = {"stopped": None, "goals": None, "repair_queued": False, "failed": None}
    reports_: list[dict] = []   # the repairs' layer reports

    def outcome(status: str) -> SearchOutcome:
        return finalize(request, plan, list(trials.values()), skipped, notes, eligible,
                        state["goals"], status=status, stopped=state["stopped"],
                        elapsed_s=clock() - start, error=state["failed"], layer_reports=reports_,
                        whys=whys, sensitivity_reports=phase.reports)

    width = max(1, int(getattr(evaluator, "width", 1) or 1))
    while queue:
        wave: list[tuple[Batch, BatchContext]] = []
        # independent batches run side by side when the evaluator is wider than one (a
        # cluster); the baseline always runs alone, first, since every rule needs it
        while queue and len(wave) < (width if BASELINE in trials else 1):
            batch = queue.pop(0)
            baseline = trials.get(BASELINE)
            if should_stop():
                state["stopped"] = msg("stopped by the user")
                queue.insert(0, batch)
                break
            if baseline is not None:
                batch, skips = prune_batch(batch, list(trials.values()), state["goals"],
                                           request.size_measure, eligible,
                                           ran + [b for b, _ in wave],
                                           objective=request.objective)
                skipped.extend(skips)
                if not batch.candidates and batch.kind != Kind.SENSITIVITY:
                    continue
                estimate = timing.estimate(batch, request.max_float_layers)
                left = deadline - clock()
                if left <= 0:
                    state["stopped"] = msg("the time budget is used up")
                    queue.insert(0, batch)
                    break
                if estimate.seconds is not None and estimate.seconds > left:
                    skipped.extend(Skip(c.id, msg("not started: {left} s of the time budget "
                                                  "left, and it needs {needs}",
                                                  left=round(left), needs=estimate.text),
                                        batch.group) for c in batch.candidates)
                    continue
                if estimate.unknown:
                    notes.append(msg("{group}: started with {left} s left; {estimate}",
                                     group=batch.group, left=round(left),
                                     estimate=estimate.text))
            context = BatchContext(deadline=deadline, request=request, baseline=baseline,
                                   goals=state["goals"], should_stop=should_stop,
                                   repairs=trials.get(batch.candidates[0].spec)
                                   if batch.kind == Kind.REPAIR else None)
            wave.append((batch, context))
        if state["stopped"] or not wave:
            queue[0:0] = [b for b, _ in wave]
            break
        began = clock()
        if len(wave) == 1:
            reports = [evaluator.run(*wave[0])]
        else:
            reports = evaluator.run_many(wave)
        elapsed = clock() - began
        for (batch, _), report in zip(wave, reports):
            results = _complete(batch, report)
            took = elapsed if len(wave) == 1 else report.extra.get("seconds", elapsed)
            timing.record(batch, results, report, took)
            ran.append(batch)
            for result in results:
                trials[result.technique] = result
            whys.update({c.id: c.why for c in batch.candidates if c.why})
            if report.stopped:
                notes.append(msg("{group}: {why}", group=batch.group, why=report.stopped))
            if batch.kind == Kind.REPAIR and report.extra.get("folder"):
                reports_.append({"trial": batch.candidates[0].id,
                                 "folder": report.extra["folder"], "mode": "auto"})
            if batch.kind in (Kind.SENSITIVITY, Kind.PRECISION) and state["goals"] is not None:
                following = phase.after(batch, report, trials, trials.get(BASELINE),
                                        state["goals"], notes)
                for new in following:
                    eligible.update(new.ids)
                queue[0:0] = following
        if state["goals"] is None:
            baseline = trials.get(BASELINE)
            if baseline is None or not baseline.ok:
                state["failed"] = msg("the float32 baseline failed, so there is nothing to "
                                      "compare against: {error}", error=baseline.error
                                      if baseline else msg("no result"))
                break
            try:
                request.check_metric(baseline.metric)
            except ValueError as exc:
                state["failed"] = str(exc)
                break
            state["goals"] = request.goals(bool(baseline.higher_is_better))
        _maybe_repair(request, trials, state, queue, notes, eligible, phase)
        if on_update is not None:
            on_update(outcome("running"))
        if should_stop():
            state["stopped"] = msg("stopped by the user")
            break
    if queue:
        why = state["stopped"] or state["failed"] or msg("the search ended")
        for batch in queue:
            skipped.extend(Skip(c.id, msg("not started: {why}", why=why), batch.group)
                           for c in batch.candidates)
    status = "failed" if state["failed"] else ("stopped" if state["stopped"] else "finished")
    final = outcome(status)
    if on_update is not None:
        on_update(final)
    return final


def _maybe_repair(request, trials, state, queue, notes, eligible, phase) -> None:
    """Start the precision strategy once, first, when the target's post-training int8 missed
    the accuracy budget (and only the accuracy budget decides: size and latency are not its
    job)."""
    goals = state["goals"]
    if phase.started or goals is None or goals.accuracy is None:
        return
    form = int8_conversion(request.target)  # the int8 conversion the target needs
    int8 = [trials.get(form.value)] if form is not None else []
    missed = [r for r in int8 if r is not None and r.ok
              and not goals.accuracy.is_met(trials[BASELINE], r)]
    if not missed:
        return
    notes.append(msg("{trial} missed the accuracy budget: precision strategy '{strategy}'",
                     trial=missed[0].technique, strategy=phase.strategy))
    batches = phase.start(trials, trials[BASELINE], goals, notes)
    for batch in batches:
        eligible.update(batch.ids)
    queue[0:0] = batches
