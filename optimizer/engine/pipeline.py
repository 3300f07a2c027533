"""One job of a run, inside its worker process: technique specs -> steps -> ``Result`` records.

``run_job(job)`` is what ``python -m optimizer worker --job JOB.json`` calls. A baseline job
(``engine.posttraining``) freezes the model once and converts float32 plus every plain
post-training variant; a retraining job (``engine.retraining``) fine-tunes once and converts
each ``+ptq`` suffix. Both hand every converted file to ``measure_conversion``, which saves it
with its recipe, reads its facts, evaluates it against the float32 baseline and builds the
``Result``. Results are written to ``<run_dir>/<job>.results.json`` after each spec, so a job
that dies later keeps what it finished. Heavy libraries load lazily inside functions.
"""
from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np

from optimizer.artifacts import store
from optimizer.artifacts.events import EventLog
from optimizer.artifacts.job import BASELINE, SELECTIVE, SENSITIVITY, JobSpec
from optimizer.engine.context import JobContext, error_message
from optimizer.guide.configs import Settings
from optimizer.guide.schema import Result
from optimizer.models.resolve import resolve_model


def run_job(job: JobSpec) -> list[Result]:
    """Run one job to the end; every spec gets a result (ok or error) in its results file."""
    try:
        ctx = _context(job)
    except Exception as exc:  # unusable model or data: every spec fails with the reason
        traceback.print_exc()
        message = error_message(exc, job.log_path)
        results = [Result.failed(spec, message, model=Path(job.model).stem) for spec in job.specs]
        store.write_results(job.run_dir, Path(job.model).stem, results, path=job.results_path)
        return results
    try:
        if job.kind == BASELINE:
            from optimizer.engine.posttraining import run_baseline

            run_baseline(ctx)
        elif job.kind == SELECTIVE:  # a search's int8 repair: worst layers kept in float
            from optimizer.engine.selective import run_selective

            run_selective(ctx)
        elif job.kind == SENSITIVITY:  # the precision search: each layer at each precision
            from optimizer.engine.sensitivity import run_sensitivity

            run_sensitivity(ctx)
        else:
            from optimizer.engine.retraining import run_retraining

            run_retraining(ctx)
    except Exception as exc:  # one job's failure must become results, never a lost run
        traceback.print_exc()
        ctx.fail_remaining(error_message(exc, job.log_path))
    ctx.fail_remaining(f"no result was produced (see {job.log_path})")
    return [ctx.results[s] for s in job.specs]


def _context(job: JobSpec) -> JobContext:
    bundle = resolve_model(job.model, job.data)
    ctx = JobContext(job=job, bundle=bundle, settings=Settings.from_pairs(job.settings),
                     log=EventLog(job.events))
    if job.reference:
        ctx.reference_value = job.reference.get("value")
        outputs = job.reference.get("outputs")
        if outputs and Path(outputs).exists():
            ctx.reference_outputs = np.load(outputs, allow_pickle=False)
    return ctx


