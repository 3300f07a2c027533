"""Server-wide worker slots: at most ``OPTIMIZER_MAX_JOBS`` runs work at the same time.

On a 2-core server, two runs at once would each get half the CPU and distort each other's
latency numbers, so a run takes a slot before its first job and keeps it to the end; other
users' runs queue (and say so) meanwhile. A slot is an exclusive ``flock`` on
``<workspace>/slots/slot-<i>.lock``: the kernel frees it when the holder dies, so a crashed
or cancelled run never leaves a slot taken.
"""
from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from optimizer import paths

ENV_MAX_JOBS = "OPTIMIZER_MAX_JOBS"
DEFAULT_MAX_JOBS = 1


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
    path = paths.workspace() / "slots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _try_take(count: int) -> tuple[int, int] | None:
    for index in range(count):
        fd = os.open(slot_dir() / f"slot-{index}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return index, fd
    return None


@contextmanager
def worker_slot(on_wait: Callable[[str], None] | None = None,
                poll_seconds: float = 0.5) -> Iterator[int]:
    """Hold one worker slot for the ``with`` block; yields the slot index.

    When every slot is busy, ``on_wait(message)`` is called once (the run emits a "queued"
    event with it) and the call waits until a slot frees up.
    """
    count = max_jobs()
    taken = _try_take(count)
    if taken is None and on_wait is not None:
        on_wait(f"waiting for a free worker slot: {count} run(s) at a time on this server "
                f"({ENV_MAX_JOBS}={count}), so runs do not distort each other's latency")
    while taken is None:
        time.sleep(poll_seconds)
        taken = _try_take(count)
    index, fd = taken
    try:
        yield index
    finally:
        os.close(fd)
