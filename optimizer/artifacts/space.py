"""Disk space: one message naming the disk and how much is needed, for uploads and runs.

A full disk otherwise surfaces as an empty log, a half-written line or a generic error. Every
writer that can fill the disk calls ``ensure_space`` first, and ``no_space_message`` turns an
``ENOSPC`` raised mid-write into the same sentence. The disk is named by its mount point (the
device's name on the server), never by the path of a session's folder.
"""
from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from optimizer.text import msg

MB = 1024 * 1024

#: What a run needs besides its model files: events, logs, recipes, results (measured: ~2 MB on
#: digits-cnn; with margin).
RUN_OVERHEAD_BYTES = 20 * MB


class NoSpace(ValueError):
    """Not enough free disk space; the message names the disk, what is free and what is needed."""


def human(n: float) -> str:
    """Bytes as a short human figure (``250 kB``, ``1.2 MB``)."""
    for unit, size in (("GB", 1024 ** 3), ("MB", MB), ("kB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}" if n < 10 * size else f"{n / size:.0f} {unit}"
    return f"{int(n)} bytes"


def mount_point(path: Path | str) -> str:
    """The mount point of the disk holding ``path`` (e.g. ``/`` or ``/data``)."""
    path = Path(path).resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return str(path)


def free_bytes(path: Path | str) -> int:
    """Free bytes for this user on the disk holding ``path`` (the nearest existing parent)."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def no_space_message(path: Path | str, needed: int | None = None, what: str | None = None) -> str:
    """One line: the disk, what is free on it, what ``what`` needs, and the fix."""
    free = free_bytes(path)
    what = what or msg("this")
    need = msg("; {what} needs about {size}", what=what, size=human(needed)) if needed else ""
    return msg("no space left on the server's disk {disk} ({free} free{need}): free some space "
               "(delete old runs on My runs) or move the workspace (OPTIMIZER_WORKSPACE) to a "
               "larger disk", disk=mount_point(path), free=human(free), need=need)


def ensure_space(path: Path | str, needed: int, what: str | None = None) -> None:
    """Raise ``NoSpace`` when the disk holding ``path`` has less than ``needed`` bytes free."""
    if free_bytes(path) < needed:
        raise NoSpace(no_space_message(path, needed, what))


def is_no_space(exc: BaseException) -> bool:
    """True for the errors a full disk (or quota) raises."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def run_needs(model_bytes: int, specs: int) -> int:
    """Rough bytes a run writes: one .tflite per spec at most the model's size, plus overhead."""
    return RUN_OVERHEAD_BYTES + max(0, int(model_bytes)) * (max(1, int(specs)) + 1)
