"""Server-wide worker slots: at most ``OPTIMIZER_MAX_JOBS`` runs work at the same time, and the
others wait their turn, first come, first served (``optimizer.queueing``).

On a 2-core server, two runs at once would each get half the CPU and distort each other's
latency numbers, so a run takes a slot before its first job and keeps it to the end; other
users' runs queue meanwhile and are told their place and an estimated wait, computed from the
work time of the last finished runs in the history. A crashed or cancelled run never keeps a
slot or its place in the queue (the kernel drops its locks).
"""
from __future__ import annotations

import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from optimizer import numbers, queueing

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


def wait_message(position: int, slots: int, mean_s: float | None, runs: int) -> tuple[str, float | None]:
    """The sentence a waiting run shows, and its estimated wait in seconds (None: unknown)."""
    estimate = None if mean_s is None else mean_s * math.ceil(position / slots)
    when = (f"about {numbers.seconds(estimate)} (the last {runs} run(s) worked "
            f"{numbers.seconds(mean_s)} on average)"
            if estimate is not None else "no finished runs yet to estimate the wait from")
    return (f"waiting for a free worker slot: number {position} in the queue, {when}; "
            f"{slots} run(s) at a time on this server ({ENV_MAX_JOBS}={slots}), so runs do not "
            f"distort each other's latency"), estimate


@contextmanager
def worker_slot(on_wait: Callable[..., None] | None = None, poll_seconds: float = 0.5,
                info: dict | None = None) -> Iterator[int]:
    """Hold one worker slot for the ``with`` block, in arrival order; yields the slot index.

    While waiting, ``on_wait(message, position=.., wait_s=..)`` is called each time the place
    in the queue changes (a run emits it as a "queued" event).
    """
    count = max_jobs()
    mean_s, runs = typical_work_s()

    def told(position: int, ahead: list) -> None:
        if on_wait is None:
            return
        message, estimate = wait_message(position, count, mean_s, runs)
        try:
            on_wait(message, position=position, wait_s=estimate)
        except TypeError:   # a plain one-argument callback
            on_wait(message)

    with queueing.slot(POOL, count, info=info, on_wait=told, poll_seconds=poll_seconds) as index:
        yield index
