"""The real evaluator: each batch of a search runs as a job process, like ``optimizer run``.

``JobEvaluator.run(batch, context)`` writes a ``JobSpec`` and starts ``python -m optimizer
worker --job JOB.json`` (the same worker and engine as ``run``):

* the post-training batch is a *baseline* job: float32 first, then every post-training
  variant from one frozen graph;
* each fine-tune is a *retraining* job in its own process, with its knob as a ``--set`` pair
  (its ``+ptq`` conversions share the fine-tuned model);
* the repair is a *selective* job (``engine.selective``): int8 with its worst layers in float;
* the precision search's sensitivity pass is a *sensitivity* job (``engine.sensitivity``: each
  layer at each precision the target allows, no trial of its own), and each of its
  mixed-precision plans a baseline job of the ``mixed`` technique with the plan as its setting.

Each batch gets its own folder (``<search>/<group>/``) because the same spec runs at several
knob levels; the worker's results are renamed to the trial ids. While a job runs the evaluator
watches the clock, the stop flag and, for fine-tuning, the job's epoch events: after the first
epoch it projects the end of the fine-tune from the measured seconds per epoch and stops the
job when that lands past the time budget. Latency is then timed in the LiteRT-only process
(``orchestrate.measure_job_latency``). Nothing here imports TensorFlow.
"""
from __future__ import annotations

import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from optimizer.artifacts import store
from optimizer.artifacts.events import EventLog, EventType, read_events
from optimizer.artifacts.job import (
    BASELINE,
    REFERENCE_OUTPUTS,
    RETRAINING,
    SELECTIVE,
    SENSITIVITY,
    JobSpec,
)
from optimizer.engine import sensitivity
from optimizer.engine.selective import SelectiveTask, write_task
from optimizer.guide.configs import Settings
from optimizer.guide.schema import Result, Status
from optimizer.runs.local import start_worker
from optimizer.runs.orchestrate import describe_exit, measure_job_latency
from optimizer.search.candidates import Kind
from optimizer.search.loop import BatchReport
from optimizer.text import figure, msg

POLL_S = 0.5
#: Fine-tuning occupies this span of a retraining job's progress (``engine.retraining``).
FINETUNE_SPAN = (0.05, 0.8)
#: Seconds a stopped worker gets to exit before it is killed.
STOP_GRACE_S = 5.0
#: Allowance for starting the LiteRT-only timing process (its LiteRT import measured 0.4 s).
LATENCY_START_S = 3.0


def folder_name(group: str) -> str:
    """A file-system-safe folder name for a batch group (``pruning[sparsity=0.75]`` ->
    ``pruning_sparsity-0.75``)."""
    name = re.sub(r"[\[\],]+", "_", group).replace("=", "-").strip("_")
    return re.sub(r"[^A-Za-z0-9_.+\-]", "_", name) or "batch"


class JobEvaluator:
    """Runs search batches as worker processes in ``run_dir`` (see the module docstring)."""

    def __init__(self, request, run_dir: Path | str, bundle, events: Path | str | None = None,
                 executor=None):
        self.request = request
        # None or the local executor: worker children watched here; else (a cluster) each
        # batch is a task of ``executor`` and independent batches run side by side
        self.executor = None if executor is None or executor.name == "local" else executor
        self._lock = threading.Lock()
        self.run_dir = Path(run_dir)
        self.bundle = bundle
        self.events = Path(events) if events else self.run_dir / store.EVENTS
        self.log = EventLog(self.events)
        self.settings = Settings.from_pairs(request.settings)
        self.count = 0
        self.selective_task: SelectiveTask | None = None   # set for a by-hand repair
        self.slot: int | None = None   # the worker slot held: jobs fork its warm job process
        self.sensitivity_task = None                        # set for a by-hand analysis

    # -- the protocol -------------------------------------------------------------------------
    @property
    def width(self) -> int:
        """How many batches may run side by side: 1 here, the free CPUs on a cluster."""
        return 1 if self.executor is None else self.executor.width()

    def run_many(self, wave) -> list[BatchReport]:
        """Run independent ``(batch, context)`` pairs side by side (threads driving tasks)."""
        with ThreadPoolExecutor(max_workers=len(wave)) as pool:
            return list(pool.map(lambda pair: self._timed(*pair), wave))

    def run(self, batch, context) -> BatchReport:
        """Run ``batch`` as one job; one ``Result`` per candidate, renamed to its trial id."""
        with self._lock:
            self.count += 1
            job = self._job(batch, context, self.count)
        for cand in batch.candidates:
            self.log.emit(EventType.JOB_STARTED, cand.id, job=job.id, batch=batch.group,
                          message=msg("{group}: started", group=batch.group))
        if self.executor is None:
            code, stopped, per_epoch = self._launch(job, batch, context)
            doc = store.read_json(job.results_path, default={}) or {}
            produced = {r["technique"]: Result.from_dict(r) for r in doc.get("results", [])}
        else:
            code, stopped, per_epoch, produced = self._on_executor(job, batch, context)
        results = []
        for cand in batch.candidates:
            key = cand.id if batch.kind == Kind.REPAIR else cand.spec
            result = produced.get(key)
            if result is None:
                status = Status.CANCELLED if stopped else Status.ERROR
                why = stopped or (describe_exit(code, job.log_path) if code is not None
                                  else "the job gave no result")
                result = Result.failed(cand.id, why, model=self.bundle.name, status=status)
            results.append(replace(result, technique=cand.id))
        # timing takes at most max_seconds per file (plus a process start): only within budget
        timed = sum(1 for r in results if r.ok)
        needed = timed * self.settings.latency.max_seconds + LATENCY_START_S
        if context.deadline - time.monotonic() >= needed and not context.should_stop():
            if self.executor is None:
                measure_job_latency(results, self.settings, self.log)
            else:
                self.executor.time_latency(results, self.settings, self.log)
        else:
            for r in results:
                if r.ok:
                    r.notes = list(r.notes) + ["latency not measured: the search's time budget "
                                               "had too little left to time it (or it was "
                                               "stopped)"]
        if self.request.readiness_required:
            results = self._readiness(results)
        for r in results:
            self.log.emit(EventType.RESULT, r.technique, result=r.to_dict(), batch=batch.group,
                          message=r.error or "done")
        self.log.emit(EventType.JOB_FINISHED, None, job=job.id, batch=batch.group,
                      returncode=code, message=stopped or f"{batch.group} finished")
        return BatchReport(results=results, seconds_per_epoch=per_epoch, stopped=stopped,
                           extra={"folder": job.run_dir})

    # -- internals ----------------------------------------------------------------------------
    def _timed(self, batch, context) -> BatchReport:
        began = time.monotonic()
        report = self.run(batch, context)
        report.extra["seconds"] = time.monotonic() - began
        return report

    def _on_executor(self, job: JobSpec, batch, context) -> tuple:
        """Run the job as a task of the executor, watched like ``_launch`` watches a child;
        (exit status or None, why it was stopped, s per epoch, results by spec)."""
        started = time.time()
        watcher = _Watch(self.events, job, batch, context, started)
        results = self.executor.run_job(job, self.log, self.bundle.name, watch=watcher,
                                        announce=False)
        per_epoch = watcher.per_epoch
        if per_epoch is None and batch.epochs:
            per_epoch, _ = _projection(self.events, job.specs, started, batch.epochs)
        return None, watcher.stopped, per_epoch, {r.technique: r for r in results}

    def _readiness(self, results: list) -> list:
        """The trials with the target's readiness verdict (``Result.readiness``), which the
        "must be ready" goal and the microcontroller budget judge."""
        from optimizer.runs.readiness import check_variants

        return check_variants(results, self.request.target, budget=self.request.mcu_budget)

    def _job(self, batch, context, number: int) -> JobSpec:
        folder = self.run_dir / folder_name(batch.group)
        folder.mkdir(parents=True, exist_ok=True)
        kind = {Kind.POST_TRAINING: BASELINE, Kind.RETRAINING: RETRAINING,
                Kind.REPAIR: SELECTIVE, Kind.SENSITIVITY: SENSITIVITY,
                Kind.PRECISION: BASELINE}[Kind(batch.kind)]
        specs = [c.id if batch.kind == Kind.REPAIR else c.spec for c in batch.candidates]
        job = JobSpec(id=f"job-{number}-{folder.name}", kind=kind, specs=tuple(specs),
                      model=self.bundle.ref, data=self.bundle.data,
                      settings=tuple(self.request.settings) + tuple(batch.knobs),
                      run_dir=str(folder), events=str(self.events),
                      reference=self._reference(context.baseline))
        if kind == SELECTIVE:
            write_task(job, self.selective_task or self._auto_task(batch, context))
        if kind == SENSITIVITY:
            sensitivity.write_task(job, self.sensitivity_task or self._sensitivity_task())
        return job

    def _sensitivity_task(self) -> sensitivity.SensitivityTask:
        """Each layer at every precision the target runs besides int8, with its plans' I/O."""
        from optimizer.guide.targets import TARGETS

        info = TARGETS[self.request.target]
        return sensitivity.SensitivityTask(precisions=info.layer_precisions[1:],
                                           io=info.plan_io)

    def _auto_task(self, batch, context) -> SelectiveTask:
        goal = context.goals.accuracy if context.goals is not None else None
        fields = None if goal is None else {"max_drop": goal.max_drop, "relative": goal.relative,
                                            "higher_is_better": goal.higher_is_better}
        return SelectiveTask(mode="auto", trial=batch.candidates[0].id,
                             max_layers=self.request.max_float_layers, accuracy_goal=fields)

    def _reference(self, baseline: Result | None) -> dict | None:
        if baseline is None or not baseline.ok or not baseline.tflite_path:
            return None
        outputs = Path(baseline.tflite_path).parent / REFERENCE_OUTPUTS
        return {"value": baseline.accuracy, "metric": baseline.metric,
                "higher_is_better": baseline.higher_is_better, "outputs": str(outputs)}

    def _launch(self, job: JobSpec, batch, context) -> tuple[int, str | None, float | None]:
        """Start the worker and watch it; (exit status, why it was stopped, s per epoch)."""
        store.write_json_atomic(job.path, job.to_dict())
        started = time.time()
        watcher = _Watch(self.events, job, batch, context, started)
        proc = start_worker(job, self.slot, threaded_parent=True)
        while proc.poll() is None:
            time.sleep(POLL_S)
            if watcher():
                _stop(proc)
                break
        stopped, per_epoch = watcher.stopped, watcher.per_epoch
        if per_epoch is None and batch.epochs:
            per_epoch, _ = _projection(self.events, job.specs, started, batch.epochs)
        return proc.wait(), stopped, per_epoch


class _Watch:
    """The stop rules of ``JobEvaluator._launch`` as a callable a task's driver asks: the
    stop flag, the time budget and the projected end of a fine-tune; returns why to stop."""

    def __init__(self, events, job, batch, context, started: float):
        self.events, self.job, self.batch, self.context = events, job, batch, context
        self.started = started
        self.deadline_wall = started + (context.deadline - time.monotonic())
        self.stopped, self.per_epoch = None, None

    def __call__(self) -> str | None:
        now = time.time()
        if self.context.should_stop():
            self.stopped = msg("stopped by the user")
        elif now >= self.deadline_wall:
            self.stopped = msg("stopped at the end of the time budget")
        elif self.batch.epochs:
            self.per_epoch, projected = _projection(self.events, self.job.specs, self.started,
                                                    self.batch.epochs)
            if projected is not None and now + projected > self.deadline_wall:
                self.stopped = msg(
                    "stopped during fine-tuning: at {per_epoch} s per epoch (measured) its "
                    "{epochs} epochs would end about {over} s after the time budget",
                    per_epoch=figure(self.per_epoch, "fixed", decimals=1),
                    epochs=self.batch.epochs,
                    over=figure(now + projected - self.deadline_wall, "count"))
        return self.stopped


def _projection(events_path, specs, since: float, epochs: int) -> tuple:
    """(measured seconds per epoch, seconds of fine-tuning left) from a retraining job's epoch
    events; (None, None) before its first epoch has ended."""
    lo, hi = FINETUNE_SPAN
    first_t, last = None, None
    for event in read_events(events_path):
        if event.get("t", 0) < since or event.get("type") != EventType.PROGRESS.value:
            continue
        step = str(event.get("step") or "")
        if event.get("technique") not in specs or not step.startswith(("apply", "fine-tune")):
            continue
        first_t = event["t"] if first_t is None else first_t   # the first transform starts
        if step.startswith("fine-tune"):
            last = event
    if last is None or first_t is None or last.get("fraction") is None:
        return None, None
    done = (float(last["fraction"]) - lo) / (hi - lo)       # share of all epochs done
    if done < 1.0 / max(epochs, 1) - 1e-6:
        return None, None
    per_epoch = (last["t"] - first_t) / (done * epochs)
    return per_epoch, max(0.0, (1.0 - done) * epochs * per_epoch)


def _stop(proc) -> None:
    """Terminate a worker, then kill it if it does not exit within ``STOP_GRACE_S``."""
    proc.terminate()
    try:
        proc.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

