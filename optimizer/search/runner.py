"""The process behind ``python -m optimizer search``: run a search (or a repair) into a folder.

A search folder looks like a run folder, plus the search's own files::

    <dir>/search.json       the SearchRequest
    <dir>/outcome.json      SearchOutcome.to_dict() plus model and folder, rewritten per batch
    <dir>/results.json      {"model": .., "results": [every trial]}  -- like a run
    <dir>/events.jsonl      progress events of the search and of its jobs
    <dir>/pid, run.lock     the search process, for stop and liveness (as for a run)
    <dir>/stop              written by ``jobs.stop_search``: stop after the current step
    <dir>/<batch group>/    each job's folder: job files, logs, <spec>/model.tflite + recipe

``execute_search`` runs a whole search; ``execute_repair`` adds one selective-quantization
trial (layers picked by hand) or a per-layer analysis to a finished search. Both hold a worker
slot (``optimizer.runs.slots``) like a run, so latency is never timed beside another job.
"""
from __future__ import annotations

from pathlib import Path

from optimizer import paths
from optimizer.artifacts import store
from optimizer.artifacts.events import EventLog, EventType
from optimizer.engine.selective import SelectiveTask
from optimizer.guide.configs import Settings
from optimizer.guide.precision import LayerPlan
from optimizer.guide.registry import TechniqueId, parse_spec
from optimizer.guide.technique import StageKind
from optimizer.runs import wait
from optimizer.search.candidates import (
    REPAIR_GROUP,
    REPAIR_ID,
    Batch,
    Candidate,
    Kind,
    plan_candidates,
    restricted,
)
from optimizer.search.evaluator import JobEvaluator
from optimizer.search.explain import SearchOutcome, finalize
from optimizer.search.loop import BatchContext, run_search
from optimizer.search.precision import plan_words
from optimizer.search.request import SearchRequest
from optimizer.search.strategies import SENSITIVITY_GROUP
from optimizer.text import msg

SEARCH = "search.json"
OUTCOME = "outcome.json"
STOP = "stop"
ANALYSIS_GROUP = "layers-analysis"


def plan_for(request: SearchRequest, bundle):
    """The candidate plan of ``request`` on ``bundle`` (its data kind and fine-tuning epochs)."""
    settings = Settings.from_pairs(request.settings)
    epochs = {kind: settings.finetune_for(bundle.finetune_for(kind)).epochs
              for kind in StageKind}
    plan = plan_candidates(request.target, bundle.dataset.kind, epochs, request.knob_levels,
                           retrain_blocker=getattr(bundle, "retrain_blocker", None))
    return restricted(plan, request.techniques)


def repair_blocker(bundle) -> str | None:
    """Why selective quantization cannot run on ``bundle`` (None when it can): it re-quantizes
    the converter's graph of the Keras model, which a .tflite or SavedModel upload lacks."""
    kind = getattr(bundle, "kind", "")
    if kind in ("tflite", "saved-model"):
        return (f"keeping layers in float re-quantizes the Keras model's graph, and this "
                f"{'.tflite' if kind == 'tflite' else 'SavedModel'} model has none")
    return None


def write_outcome(run_dir: Path, outcome: SearchOutcome, bundle, request) -> dict:
    """Write ``outcome.json`` and a run-style ``results.json``; return the outcome document."""
    doc = {**outcome.to_dict(), "model": bundle.name, "target": request.target.value,
           "run_dir": str(run_dir)}
    store.write_json_atomic(run_dir / OUTCOME, doc)
    store.write_results(run_dir, bundle.name, outcome.trials, kind="search",
                        model_ref=bundle.ref, data=request.data, run_dir=str(run_dir))
    return doc


def read_outcome(run_dir: Path | str) -> SearchOutcome | None:
    """The outcome on disk (None before the first batch finished)."""
    data = store.read_json(Path(run_dir) / OUTCOME)
    return SearchOutcome.from_dict(data) if isinstance(data, dict) else None


def execute_search(request: SearchRequest, run_dir: Path | str,
                   events: Path | str | None = None, executor=None) -> SearchOutcome:
    """Run ``request`` into ``run_dir`` (blocking); the caller holds the folder's ``RunLock``.

    ``executor`` (default: local child processes holding a worker slot) runs the jobs; on a
    cluster (``runs.ray_executor``) independent batches run side by side.
    """
    from optimizer.models.resolve import resolve_model
    from optimizer.runs.executor import LocalExecutor

    run_dir = Path(run_dir)
    bundle = resolve_model(request.model, request.data)
    log = EventLog(events or run_dir / store.EVENTS)
    executor = executor or LocalExecutor()
    owner = paths.owner_of(run_dir)
    with executor.slot(log, info=wait.work_info("search", owner, request.time_budget_s)):
        plan = plan_for(request, bundle)
        if bundle.dataset.labelled and bundle.dataset.task == "classification":
            request.check_metric("accuracy")   # a budget of >= 1 point-fraction fails fast
        log.emit(EventType.RUN_STARTED, model=bundle.name, kind="search",
                 techniques=[c.id for c in plan.candidates],
                 message=msg("searching {name} for {value}: {n_candidates} candidates, "
                             "{time_budget_s:.0f} s",
                             name=bundle.name, value=request.target.value,
                             n_candidates=len(plan.candidates), time_budget_s=request.time_budget_s))
        evaluator = JobEvaluator(request, run_dir, bundle, events=log.path, executor=executor)
        evaluator.slot = getattr(executor, "slot_index", None)   # local: its warm process
        outcome = run_search(request, plan, evaluator,
                             on_update=lambda o: write_outcome(run_dir, o, bundle, request),
                             should_stop=lambda: (run_dir / STOP).exists(),
                             repair_blocker=repair_blocker(bundle))
        log.emit(EventType.RUN_FINISHED, status=outcome.status, error=outcome.error,
                 message=outcome.error or outcome.explanation[:300])
    return outcome


def next_repair_id(trials) -> str:
    """``integer[keep-float#2]``, ``#3``... for repairs by hand (the automatic one has no #)."""
    taken = {r.technique for r in trials}
    number = 2
    while f"{REPAIR_ID[:-1]}#{number}]" in taken:
        number += 1
    return f"{REPAIR_ID[:-1]}#{number}]"


def next_hand_plan_id(trials) -> str:
    """``mixed[hand-1]``, ``mixed[hand-2]``... for mixed-precision plans chosen by hand."""
    taken = {r.technique for r in trials}
    number = 1
    while f"{TechniqueId.MIXED.value}[hand-{number}]" in taken:
        number += 1
    return f"{TechniqueId.MIXED.value}[hand-{number}]"


def execute_repair(run_dir: Path | str, layers=(), analyse: bool = False,
                   sensitivity: bool = False, plan: LayerPlan | None = None) -> SearchOutcome:
    """Add one trial to the finished search in ``run_dir`` and re-judge: ``layers`` (op names)
    kept in float, or a mixed-precision ``plan`` chosen by hand (``mixed[hand-N]``); or only
    measure: ``analyse`` the per-layer int8 error, ``sensitivity`` each layer at each precision
    the target allows (the precision search's pass).

    Raises ``ValueError`` when ``run_dir`` holds no finished search with a float32 baseline, or
    the plan gives a layer a precision the target does not run.
    """
    import time

    from optimizer.models.resolve import resolve_model
    from optimizer.runs.slots import worker_slot

    run_dir = Path(run_dir)
    data = store.read_json(run_dir / SEARCH)
    outcome = read_outcome(run_dir)
    if not isinstance(data, dict) or outcome is None:
        raise ValueError(f"{run_dir} holds no search; run `python -m optimizer search` first")
    request = SearchRequest.from_dict(data)
    baseline = outcome.trial(TechniqueId.FLOAT32.value)
    if baseline is None or not baseline.ok:
        raise ValueError("the search has no float32 baseline to compare against; run it again")
    if not (analyse or layers or sensitivity or plan is not None):
        raise ValueError("name at least one layer to keep in float (--keep-float NAME)")
    bundle = resolve_model(request.model, request.data)
    blocked = repair_blocker(bundle)
    if blocked and (analyse or layers):
        raise ValueError(f"{blocked}; upload the Keras model to measure its layers")
    goals = request.goals(bool(baseline.higher_is_better))
    (run_dir / STOP).unlink(missing_ok=True)   # a stop of the search itself is long over
    log = EventLog(run_dir / store.EVENTS)
    evaluator = JobEvaluator(request, run_dir, bundle, events=log.path)
    evaluator.count = (len(outcome.layer_reports) + len(outcome.sensitivity_reports)
                       + len(outcome.trials) + 100)   # job ids never collide with the search's
    batch, trial, what = _hand_batch(request, outcome, evaluator, layers, analyse,
                                     sensitivity, plan)
    with worker_slot(on_wait=lambda m, **f: log.emit(EventType.QUEUED, message=m, **f),
                     info=wait.work_info("repair", paths.owner_of(run_dir))) as slot:
        evaluator.slot = slot
        log.emit(EventType.RUN_STARTED, model=bundle.name, kind="repair",
                 techniques=batch.ids, message=what)
        context = BatchContext(deadline=time.monotonic() + request.time_budget_s,
                               request=request, baseline=baseline, goals=goals,
                               should_stop=lambda: (run_dir / STOP).exists())
        report = evaluator.run(batch, context)
        trials = [t for t in outcome.trials if t.technique not in batch.ids] + report.results
        reports, precision = list(outcome.layer_reports), list(outcome.sensitivity_reports)
        if sensitivity:
            precision.append({"trial": None, "folder": report.extra.get("folder"),
                              "mode": "hand"})
        elif plan is None:
            reports.append({"trial": trial, "folder": report.extra.get("folder"),
                            "mode": "analyse" if analyse else "hand"})
        eligible = {t.technique for t in trials if t.technique != TechniqueId.FLOAT32.value}
        if request.target in parse_spec(TechniqueId.FLOAT32.value).targets:
            eligible.add(TechniqueId.FLOAT32.value)
        new = finalize(request, plan_for(request, bundle), trials, outcome.skipped,
                       outcome.notes + ([f"{batch.group}: {report.stopped}"]
                                        if report.stopped else []),
                       eligible, goals, status=outcome.status, stopped=outcome.stopped,
                       elapsed_s=outcome.elapsed_s, error=outcome.error, layer_reports=reports,
                       whys={**outcome.why, **{c.id: c.why for c in batch.candidates}},
                       sensitivity_reports=precision)
        write_outcome(run_dir, new, bundle, request)
        log.emit(EventType.RUN_FINISHED, status=new.status, message=report.stopped or "done")
    return new


def _hand_batch(request, outcome, evaluator, layers, analyse, sensitivity, plan):
    """(the batch, its trial id or None, what it does in words) of ``execute_repair``."""
    from optimizer.engine.sensitivity import SensitivityTask
    from optimizer.guide.targets import TARGETS
    from optimizer.search.strategies import plan_batch

    info = TARGETS[request.target]
    if sensitivity or plan is not None:
        if len(info.layer_precisions) < 2:
            raise ValueError(f"{request.target.value} runs int8 layers only: there is no "
                             "precision to choose per layer")
    if sensitivity:
        evaluator.sensitivity_task = SensitivityTask(precisions=info.layer_precisions[1:],
                                                     io=info.plan_io)
        group = f"{SENSITIVITY_GROUP}-{len(outcome.sensitivity_reports) + 1}"
        return (Batch(group, Kind.SENSITIVITY, (), why=msg("measured by hand")), None,
                "measuring each layer at " + ", ".join(info.layer_precisions[1:]))
    if plan is not None:
        wrong = sorted(({p for _, p in plan.layers} | {plan.default})
                       - set(info.layer_precisions))
        if wrong or plan.io != info.plan_io:
            raise ValueError(f"{request.target.value} runs {', '.join(info.layer_precisions)} "
                             f"layers with {info.plan_io} input and output; this plan asks "
                             f"for {', '.join(wrong) or plan.io + ' input and output'}")
        trial = next_hand_plan_id(outcome.trials)
        batch = plan_batch("hand", int(trial.split("-")[-1].rstrip("]")), plan,
                           msg("a mixed-precision plan chosen by hand on the per-layer page: "
                               "{plan}", plan=plan_words(plan)))
        return batch, trial, f"measuring the plan {plan.describe()}"
    if analyse:
        evaluator.selective_task = SelectiveTask(mode="analyse", trial="")
        return Batch(ANALYSIS_GROUP, Kind.REPAIR, ()), None, "measuring the per-layer int8 error"
    trial = next_repair_id(outcome.trials)
    group = f"{REPAIR_GROUP}-{trial.split('#')[1].rstrip(']')}"
    evaluator.selective_task = SelectiveTask(mode="hand", trial=trial, layers=tuple(layers))
    batch = Batch(group, Kind.REPAIR, (Candidate(trial, TechniqueId.INTEGER.value, group,
                                                 Kind.REPAIR,
                                                 why=msg("layers kept in float by hand")),))
    return batch, trial, f"keeping {len(layers)} layer(s) in float"
