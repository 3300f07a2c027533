"""Server-wide worker slots: at most ``OPTIMIZER_MAX_JOBS`` runs work at the same time, and the
others wait their turn, first come, first served (``optimizer.queueing``).

On a 2-core server, two runs at once would each get half the CPU and distort each other's
latency numbers, so a run takes a slot before its first job and keeps it to the end; other
users' runs queue meanwhile and are told their place, what holds the slot and an estimated
wait computed from the techniques of each run ahead, measured on this server
(``optimizer.runs.wait``). A crashed or cancelled run never keeps a slot or its place in the
queue (the kernel drops its locks).
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from optimizer import queueing
from optimizer.runs import wait

ENV_MAX_JOBS = "OPTIMIZER_MAX_JOBS"
DEFAULT_MAX_JOBS = 1
POOL = "run"


def max_jobs() -> int:
    """The number of slots: ``OPTIMIZER_MAX_JOBS`` (default 1); ValueError if it is not >= 1."""
    raw = os.environ.get(ENV_MAX_JOBS, "").strip()
    if not raw:
        return DEFAULT_MAX_JOBS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{ENV_MAX_JOBS}={raw!r} must be a whole number >= 1 (1 keeps latency "
                         f"measurements undistorted on a small server)")
    return value


def slot_dir() -> Path:
    """The folder of the slot lock files (under the workspace, shared by every session)."""
    return queueing.pool_dir()


def typical_work_s() -> tuple[float | None, int]:
    """(mean work seconds, how many runs) of the last finished, measured runs (history)."""
    try:
        from optimizer.artifacts.history import recent_work_seconds

        times = recent_work_seconds(limit=10)
    except Exception:  # noqa: BLE001 - an estimate must never stop a run
        return None, 0
    return (sum(times) / len(times), len(times)) if times else (None, 0)


@contextmanager
def worker_slot(on_wait: Callable[..., None] | None = None, poll_seconds: float = 0.5,
                info: dict | None = None, refresh_seconds: float = 5.0) -> Iterator[int]:
    """Hold one worker slot for the ``with`` block, in arrival order; yields the slot index.

    ``info`` describes this work to the others (``wait.run_info`` / ``wait.work_info``).
    While waiting, ``on_wait(message, position=.., wait_s=..)`` is called when the place in
    the queue changes and every ``refresh_seconds`` (a run emits it as a "queued" event), with
    the wait re-estimated from what holds the slot and what is ahead (``runs.wait``). When the
    wait ends, its first estimate and the actual wait are logged (``wait.log_wait``).
    """
    count = max_jobs()
    first: dict = {}
    arrived = time.time()

    def told(position: int, ahead: list, holding: list) -> None:
        # Re-read each time: the runs ahead record their jobs' times as they finish them.
        estimate = wait.estimate_wait(count, ahead, holding, info, wait.job_times(),
                                      typical_work_s()[0])
        first.setdefault("estimate", estimate.seconds)
        first.setdefault("position", position)
        if on_wait is None:
            return
        message = wait.wait_message(position, count, estimate, ENV_MAX_JOBS)
        try:
            on_wait(message, position=position, wait_s=estimate.seconds)
        except TypeError:   # a plain one-argument callback
            on_wait(message)

    with queueing.slot(POOL, count, info=info, on_wait=told, poll_seconds=poll_seconds,
                       refresh_seconds=refresh_seconds) as index:
        if first:
            wait.log_wait(first["estimate"], time.time() - arrived, first["position"])
        yield index
