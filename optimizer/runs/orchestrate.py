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
"""
from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from optimizer.artifacts import space, store
from optimizer.artifacts.events import EventLog, EventType
from optimizer.artifacts.job import BASELINE, REFERENCE_OUTPUTS, RETRAINING, JobSpec
from optimizer.guide.configs import Settings
from optimizer.guide.registry import TechniqueId, parse_spec
from optimizer.guide.schema import Result
from optimizer.procs import child_env, die_with_parent
from optimizer.runs.launch import RunRequest, RunStatus


def job_key(spec_text: str) -> str:
    """The job a spec belongs to: "baseline", or its retraining steps (spec minus the +ptq)."""
    spec = parse_spec(spec_text)
    if not spec.retrains:
        return BASELINE
    return spec.base.value + ("+clustering" if spec.preserve_sparsity_clustering else "")


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


def describe_exit(returncode: int, log_path: Path) -> str:
    """A one-line message for a worker that ended without writing its results.

    The log is named relative to the run folder (messages never carry server paths); a worker
    that died on a nearly full disk is said to have done so, with the disk and the space needed.
    """
    folder, log_path = Path(log_path).parent, Path(log_path).name
    if returncode != 0 and space.free_bytes(folder) < space.RUN_OVERHEAD_BYTES // 4:
        return "the job could not write its files: " + space.no_space_message(
            folder, space.RUN_OVERHEAD_BYTES, "a job")
    if returncode < 0:
        sig = -returncode
        name = signal.Signals(sig).name if sig in {s.value for s in signal.Signals} else str(sig)
        if sig == signal.SIGKILL:
            return (f"the job process was killed ({name}), most likely out of memory; run fewer "
                    f"or smaller jobs at once (log: {log_path})")
        return f"the job process stopped on signal {name} (log: {log_path})"
    if returncode == 0:
        return f"the job process ended without a result (log: {log_path})"
    return f"the job process failed with exit status {returncode} (log: {log_path})"


def run_job(job: JobSpec, log: EventLog, model_name: str) -> list[Result]:
    """Run one job in a ``python -m optimizer worker`` child; always returns one result per spec."""
    store.write_json_atomic(job.path, job.to_dict())
    for spec in job.specs:
        log.emit(EventType.JOB_STARTED, spec, message=f"{job.id} started", job=job.id)
    command = [sys.executable, "-m", "optimizer", "worker", "--job", str(job.path)]
    with open(job.log_path, "ab") as out:
        returncode = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=child_env(),
                                     preexec_fn=die_with_parent)
    doc = store.read_json(job.results_path, default={}) or {}
    produced = {r["technique"]: Result.from_dict(r) for r in doc.get("results", [])}
    failure = describe_exit(returncode, job.log_path)
    results = [produced.get(spec) or Result.failed(spec, failure, model=model_name)
               for spec in job.specs]
    log.emit(EventType.JOB_FINISHED, None, job=job.id, returncode=returncode,
             message=f"{job.id} finished with exit status {returncode}")
    return results


def measure_job_latency(results: list[Result], settings: Settings, log: EventLog) -> None:
    """Time the job's files in the LiteRT-only process and fill the latency fields in place."""
    timed = [r for r in results if r.ok and r.tflite_path]
    if not timed:
        return
    log.progress([r.technique for r in timed], "latency", fraction=0.97,
                 message="timing latency in a LiteRT-only process")
    try:
        from optimizer.measuring.latency import host_description, measure_latency

        stats = measure_latency([r.tflite_path for r in timed], settings.latency)
        host = host_description()
    except Exception as exc:  # latency is one measurement among several: keep the result
        for r in timed:
            r.notes = list(r.notes) + [f"latency not measured: {_first_line(exc)}"]
        return
    for r in timed:
        s = stats.get(r.tflite_path) or stats.get(str(Path(r.tflite_path)))
        if s is None:
            r.notes = list(r.notes) + ["latency not measured: the timing process gave no result"]
            continue
        r.latency_ms_median, r.latency_ms_p10, r.latency_ms_p90 = s.median_ms, s.p10_ms, s.p90_ms
        r.latency_threads, r.latency_invokes = s.threads, s.invokes
        r.latency_kernels, r.latency_note = s.kernels, s.note
        r.measured_on = host


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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


@dataclass
class RunOutcome:
    """What the orchestrator produced: every result in request order, and a run-level error."""

    model: str
    results: list
    error: str | None = None


def execute_run(request: RunRequest, run_dir: Path | str, events: Path | str | None = None,
                json_path: Path | str | None = None, fields: dict | None = None) -> RunOutcome:
    """Run every job of ``request`` into ``run_dir`` (blocking) and return the outcome.

    Needs the run folder to be owned by this process (the caller holds ``store.RunLock``).
    ``results.json`` (and ``json_path`` if different) is rewritten after every job, with
    ``fields`` (e.g. ``run_id``) beside the results.
    """
    from optimizer.models.resolve import resolve_model
    from optimizer.runs.slots import worker_slot

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

    with worker_slot(on_wait=lambda m, **f: log.emit(EventType.QUEUED, message=m, **f)):
        log.emit(EventType.RUN_STARTED, model=bundle.name, techniques=list(request.specs),
                 message=f"optimizing {bundle.name}: {', '.join(request.specs)}")
        reference, error = None, None
        for job in plan_jobs(request, run_dir, events):
            if job.kind == RETRAINING and reference is None:
                results = [Result.failed(s, f"not run: the float32 baseline failed, so there is "
                                            f"nothing to compare against ({error})",
                                         model=bundle.name) for s in job.specs]
            else:
                results = run_job(job.with_reference(reference), log, bundle.name)
                measure_job_latency(results, settings, log)
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
        log.emit(EventType.RUN_FINISHED, status=status, error=error,
                 message=error or f"{len(by_spec) - failed} ok, {failed} failed")
    return RunOutcome(model=bundle.name, results=[by_spec[s] for s in request.specs], error=error)
