"""``python -m optimizer worker --job JOB.json``: run one job of a run (internal).

The orchestrator (``python -m optimizer run``) runs each job in a process of its own so memory
is returned to the system after every job. The worker writes ``<run_dir>/<job>.results.json``
and appends progress events; its stdout/stderr go to ``<run_dir>/<job>.log``. It exits with
``os._exit`` once its files are written: TensorFlow's interpreter teardown can take tens of
seconds (measured ~60 s after a large job) and there is nothing left to clean up.

``python -m optimizer worker --serve SOCKET --lock FILE`` is a worker slot's warm job process
(``optimizer.engine.warm``): TensorFlow imported once, each job in a fresh fork of it. It is
started by ``optimizer.runs.warm`` and exits after ``--idle-timeout`` seconds without a job.
"""
from __future__ import annotations

import os
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("worker", help="(internal) run one job of a run in this process, or "
                                      "serve jobs as a warm job process")
    p.add_argument("--job", metavar="JOB.json", help="the job file the run wrote")
    p.add_argument("--serve", metavar="SOCKET", help="serve jobs on this Unix socket (a warm "
                                                     "job process)")
    p.add_argument("--lock", metavar="FILE", help="with --serve: the slot's lock file")
    p.add_argument("--idle-timeout", type=float, default=600.0, metavar="S",
                   help="with --serve: exit after this many seconds without a job")
    p.add_argument("--fingerprint", default="", help="with --serve: the code and environment "
                                                     "version jobs must match")
    p.add_argument("--no-preload", action="store_true",
                   help="with --serve: do not import TensorFlow first (tests of the process "
                        "handling)")
    p.add_argument("--no-preload-more", action="store_true",
                   help="with --serve: import only what every job needs; TFMOT, the LiteRT "
                        "Quantizer, the small demos' data and AutoGraph's retraining "
                        "conversions are left to the jobs that need them "
                        "(OPTIMIZER_WARM_PRELOAD=0)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.serve:
        from optimizer.engine.warm import serve

        if not args.lock:
            raise ValueError("--serve needs --lock FILE (the slot's lock)")
        code = serve(args.serve, args.lock, args.idle_timeout, args.fingerprint,
                     heavy=not args.no_preload, more=not args.no_preload_more)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if not args.job:
        raise ValueError("worker needs --job JOB.json (or --serve SOCKET)")
    from optimizer.artifacts.job import JobSpec
    from optimizer.engine.pipeline import run_job

    job = JobSpec.load(args.job)
    run_job(job)  # every spec now has a result (ok or error) in the job's results file
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
