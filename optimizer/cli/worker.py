"""``python -m optimizer worker --job JOB.json``: run one job of a run (internal).

The orchestrator (``python -m optimizer run``) starts one worker process per job so memory is
returned to the system after every job. The worker writes ``<run_dir>/<job>.results.json``
and appends progress events; its stdout/stderr go to ``<run_dir>/<job>.log``. It exits with
``os._exit`` once its files are written: TensorFlow's interpreter teardown can take tens of
seconds (measured ~60 s after a large job) and there is nothing left to clean up.
"""
from __future__ import annotations

import os
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("worker", help="(internal) run one job of a run in this process")
    p.add_argument("--job", required=True, metavar="JOB.json", help="the job file the run wrote")
    p.set_defaults(func=run)


def run(args) -> int:
    from optimizer.artifacts.job import JobSpec
    from optimizer.engine.pipeline import run_job

    job = JobSpec.load(args.job)
    run_job(job)  # every spec now has a result (ok or error) in the job's results file
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
