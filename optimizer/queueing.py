"""A first-come, first-served queue in front of a pool of slots, shared by every process of
the server (all browser sessions, the command line) through files in the workspace.

A pool of ``size`` slots is ``<workspace>/slots/<pool>-<i>.lock``; holding one is an exclusive
``flock`` on it. A process that wants a slot first takes a ticket: a file in
``<workspace>/slots/<pool>-queue/`` named by the time it arrived, locked while it waits. Only
the ``size`` oldest live tickets may try for a slot, so slots go out in arrival order, not to
whoever polls first. The kernel drops every lock of a process that dies, however it dies: a
ticket nobody holds is stale and is removed by the next reader, so a killed run never blocks
the queue and never keeps a slot. Tickets and held slots carry a small description (``info``:
what kind of work, from where, what it will do) so a waiter can be told what it waits for
(``holders``; a slot's ``<slot>.lock.json`` counts only while its lock is held).
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from optimizer import paths


def pool_dir() -> Path:
    """``<workspace>/slots`` (created on first use)."""
    path = paths.workspace() / "slots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def queue_dir(pool: str) -> Path:
    path = pool_dir() / f"{pool}-queue"
    path.mkdir(parents=True, exist_ok=True)
    return path


def slot_path(pool: str, index: int) -> Path:
    # The run pool keeps the historical names slot-<i>.lock.
    return pool_dir() / (f"slot-{index}.lock" if pool == "run" else f"{pool}-{index}.lock")


def try_take(pool: str, size: int) -> tuple[int, int] | None:
    """(index, fd) of a free slot, now locked by this process; None when all are taken."""
    for index in range(size):
        fd = os.open(slot_path(pool, index), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return index, fd
    return None


def holder_path(pool: str, index: int) -> Path:
    """The file describing who holds slot ``index`` (valid only while its lock is held)."""
    path = slot_path(pool, index)
    return path.with_name(path.name + ".json")


def _describe_holder(pool: str, index: int, info: dict | None) -> None:
    """Say who holds the slot now (atomically: a reader never sees half of it)."""
    path = holder_path(pool, index)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    try:
        tmp.write_text(json.dumps({**(info or {}), "since": time.time()}))
        os.replace(tmp, path)
    except OSError:      # a full disk: the queue still works, it only knows less
        tmp.unlink(missing_ok=True)


def holders(pool: str, size: int) -> list[dict]:
    """The infos of the slots held right now (``{}`` for a holder that said nothing), each
    with ``since`` (when it took the slot) where known."""
    out = []
    for index in range(size):
        path = slot_path(pool, index)
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                info = json.loads(holder_path(pool, index).read_text())
            except (OSError, ValueError):
                info = {}
            out.append(info if isinstance(info, dict) else {})
        finally:
            os.close(fd)
    return out


def busy(pool: str, size: int) -> int:
    """How many slots of the pool are held right now."""
    held = 0
    for index in range(size):
        path = slot_path(pool, index)
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            held += 1
        finally:
            os.close(fd)
    return held


class Ticket:
    """A place in a pool's queue, held (locked) until ``leave``."""

    def __init__(self, pool: str, info: dict | None = None):
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}.json"
        self.path = queue_dir(pool) / name
        self.pool = pool
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        os.write(self._fd, json.dumps({"t": time.time(), **(info or {})}).encode())

    def position(self) -> tuple[int, list[dict]]:
        """(0-based place among the live tickets, the infos of those ahead)."""
        ahead = []
        for path, info in live_tickets(self.pool):
            if path == self.path:
                return len(ahead), ahead
            ahead.append(info)
        return len(ahead), ahead

    def leave(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def live_tickets(pool: str) -> list[tuple[Path, dict]]:
    """The waiting tickets in arrival order; stale ones (their process died) are removed."""
    out = []
    for path in sorted(queue_dir(pool).glob("*.json")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:           # its owner waits: a live ticket
            try:
                info = json.loads(os.pread(fd, 65536, 0) or b"{}")
            except ValueError:
                info = {}
            out.append((path, info if isinstance(info, dict) else {}))
        else:                             # nobody holds it: its process is gone
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return out


@contextmanager
def slot(pool: str, size: int, info: dict | None = None,
         on_wait: Callable[[int, list, list], None] | None = None,
         poll_seconds: float = 0.5, refresh_seconds: float = 5.0) -> Iterator[int]:
    """Hold one of ``size`` slots of ``pool`` for the ``with`` block, served in arrival order;
    yields the slot index. While waiting, ``on_wait(position, ahead, holding)`` is called when
    this caller's place changes and every ``refresh_seconds`` besides (position 1 is next;
    ``ahead`` the infos of those in front, ``holding`` those of the slots' holders). The slot's
    holder is described by ``info`` to those who wait (``holders``)."""
    ticket = Ticket(pool, info)
    taken, last, told_at = None, None, 0.0
    try:
        while True:
            place, ahead = ticket.position()
            if place < size:
                taken = try_take(pool, size)
                if taken is not None:
                    break
            now = time.monotonic()
            if on_wait is not None and (place != last or now - told_at >= refresh_seconds):
                on_wait(place + 1, ahead, holders(pool, size))
                last, told_at = place, now
            time.sleep(poll_seconds)
    finally:
        ticket.leave()
    index, fd = taken
    _describe_holder(pool, index, info)
    try:
        yield index
    finally:
        os.close(fd)
