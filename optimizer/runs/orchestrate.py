"""The orchestrator behind ``python -m optimizer run``: plan jobs, run each in a child, time them.

A run is split into jobs, each run by a fresh ``python -m optimizer worker --job JOB.json``
process (one long-lived process doing every MobileNetV2 technique grew to 8.7 GB):

* the **baseline job** freezes the model once and produces float32 plus every requested plain
  post-training variant from that one frozen graph;
* one **retraining job** per base technique (``pruning``, ``pruning+clustering``, ``qat``...)
  fine-tunes once and converts every requested ``+ptq`` suffix from that model.

After each job, latency is timed for its files in a LiteRT-only process
(``optimizer.measuring.latency``) and ``results.json`` is rewritten. A job that fails in any way
(exception, non-zero exit, killed, out of memory) becomes ``status: "error"`` results with a
one-line message; its traceback stays in ``<run_dir>/<job>.log``; the run goes on. The whole
run holds a server-wide worker slot (``optimizer.runs.slots``). Nothing here imports TensorFlow.

Where the jobs run is the executor's business (``optimizer.runs.executor``): the local one
above by default, or a Ray cluster (``runs.ray_executor``) with the same planning and results.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from optimizer import paths
from optimizer.artifacts import space, store
from optimizer.artifacts.events import EventLog, EventType
from optimizer.artifacts.job import BASELINE, REFERENCE_OUTPUTS, RETRAINING, JobSpec
from optimizer.guide.configs import Settings
from optimizer.guide.registry import TechniqueId, parse_spec
from optimizer.guide.schema import Result
from optimizer.runs import wait
from optimizer.runs.background import RunStatus
from optimizer.runs.executor import Executor, LocalExecutor
from optimizer.runs.local import describe_exit, measure_job_latency, run_job  # noqa: F401 (API)
from optimizer.runs.request import RunRequest


def job_key(spec_text: str) -> str:
    """The job a spec belongs to: "baseline", or its retraining steps (spec minus the +ptq)."""
    spec = parse_spec(spec_text)
    if not spec.retrains:
        return BASELINE
    return spec.family_key


def plan_jobs(request: RunRequest, run_dir: Path | str, events: Path | str | None) -> list[JobSpec]:
    """Group the request's specs into jobs: the baseline job first, then one per retraining base."""
    groups: dict[str, list[str]] = {BASELINE: []}
    for spec in request.specs:
        groups.setdefault(job_key(spec), []).append(spec)
    jobs = []
    for number, (key, specs) in enumerate(groups.items(), start=1):
        jobs.append(JobSpec(id=f"job-{number}-{key}", kind=BASELINE if key == BASELINE else
                            RETRAINING, specs=tuple(specs), model=request.model,
                            data=request.data, settings=request.settings, run_dir=str(run_dir),
                            events=str(events) if events else None))
    return jobs


def _reference(results: list[Result], run_dir: Path) -> dict | None:
    base = next((r for r in results if r.technique == TechniqueId.FLOAT32.value), None)
    if base is None or not base.ok:
        return None
    return {"value": base.accuracy, "metric": base.metric, "higher_is_better": base.higher_is_better,
            "outputs": str(store.spec_dir(run_dir, TechniqueId.FLOAT32.value) / REFERENCE_OUTPUTS)}


def _model_bytes(ref: str) -> int:
    """Bytes of an uploaded model's folder (a demo's weights are small: 0)."""
    path = Path(str(ref))
    if not path.is_file():
        return 0
    return sum(f.stat().st_size for f in path.parent.rglob("*") if f.is_file())


def _queue_kind(job: JobSpec) -> str:
    """A job's kind for the queue's estimates: the post-training group or its retraining base."""
    return wait.POST_TRAINING if job.kind == BASELINE else job_key(job.specs[0])


def queue_info(run_dir: Path | str, bundle, jobs: list[JobSpec]) -> dict:
    """How this run describes itself to the runs queued behind it (``runs.wait``)."""
    return wait.run_info(paths.owner_of(run_dir), bundle.sha256,
                         [(_queue_kind(job), len(job.specs)) for job in jobs])


@dataclass
class RunOutcome:
    """What the orchestrator produced: every result in request order, and a run-level error."""

    model: str
    results: list
    error: str | None = None


def execute_run(request: RunRequest, run_dir: Path | str, events: Path | str | None = None,
                json_path: Path | str | None = None, fields: dict | None = None,
                executor: Executor | None = None, judge=None) -> RunOutcome:
    """Run every job of ``request`` into ``run_dir`` (blocking) and return the outcome.

    Needs the run folder to be owned by this process (the caller holds ``store.RunLock``).
    ``results.json`` (and ``json_path`` if different) is rewritten after every job, with
    ``fields`` (e.g. ``run_id``) beside the results. Jobs run on ``executor`` (default:
    ``LocalExecutor``, child processes on this machine). ``judge(results)`` returns keys
    (the verdicts) added to ``results.json`` before the run is announced finished, so whoever
    sees it finished reads them too.
    """
    from optimizer.models.resolve import resolve_model

    run_dir = Path(run_dir)
    bundle = resolve_model(request.model, request.data)
    settings = Settings.from_pairs(request.settings)
    space.ensure_space(run_dir, space.run_needs(_model_bytes(bundle.ref), len(request.specs)),
                       "this run")  # NoSpace: one line naming the disk, before any work
    log = EventLog(events)
    by_spec: dict[str, Result] = {}
    extra = {**(fields or {}), "model_ref": bundle.ref, "sha256": bundle.sha256,
             "data": request.data, "run_dir": str(run_dir)}

    def save():
        ordered = [by_spec[s] for s in request.specs if s in by_spec]
        store.write_results(run_dir, bundle.name, ordered, **extra)
        if json_path and Path(json_path).resolve() != (run_dir / store.RESULTS).resolve():
            store.write_results(run_dir, bundle.name, ordered, path=json_path, **extra)

    executor = executor or LocalExecutor()
    jobs = plan_jobs(request, run_dir, events)
    with executor.slot(log, info=queue_info(run_dir, bundle, jobs)):
        log.emit(EventType.RUN_STARTED, model=bundle.name, techniques=list(request.specs),
                 message=f"optimizing {bundle.name}: {', '.join(request.specs)}")
        reference, error = None, None
        for job in jobs:
            if job.kind == RETRAINING and reference is None:
                results = [Result.failed(s, f"not run: the float32 baseline failed, so there is "
                                            f"nothing to compare against ({error})",
                                         model=bundle.name) for s in job.specs]
            else:
                began = time.monotonic()
                results = executor.run_job(job.with_reference(reference), log, bundle.name)
                executor.time_latency(results, settings, log)
                if getattr(executor, "name", None) == LocalExecutor.name:   # the queue's basis
                    wait.record_job_time(bundle.sha256, _queue_kind(job), len(job.specs),
                                         time.monotonic() - began)
            for r in results:
                by_spec[r.technique] = r
                log.emit(EventType.RESULT, r.technique, result=r.to_dict(),
                         message=r.error or "done")
            save()
            if job.kind == BASELINE:
                reference = _reference(results, run_dir)
                if reference is None:
                    base = by_spec.get(TechniqueId.FLOAT32.value)
                    error = f"the float32 baseline failed: {base.error if base else 'no result'}"
        status = RunStatus.FAILED if error else RunStatus.FINISHED
        failed = sum(1 for r in by_spec.values() if not r.ok)
        if judge is not None:
            extra.update(judge([by_spec[s] for s in request.specs if s in by_spec]))
            save()
        log.emit(EventType.RUN_FINISHED, status=status, error=error,
                 message=error or f"{len(by_spec) - failed} ok, {failed} failed")
    return RunOutcome(model=bundle.name, results=[by_spec[s] for s in request.specs], error=error)
