"""Stopping a run's processes: its process group, or its process tree when it leads none."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from optimizer.artifacts import store


def stop_processes(pid: int, pgid: int | None, run_dir: Path, wait_s: float) -> None:
    """SIGTERM the run's processes, then SIGKILL what is left, and wait until they are gone.

    A run from ``start_run`` leads its own process group: the group is signalled, which also
    reaches a worker spawned a moment ago. A run started from a user's shell is not a leader
    (signalling its group would hit the shell's job), so its process tree is signalled.
    """
    tree = [] if pgid else _tree(pid)
    _signal(pgid, tree, signal.SIGTERM)
    deadline = time.time() + wait_s
    while store.RunLock.is_held(run_dir) and time.time() < deadline:
        time.sleep(0.1)
    _signal(pgid, tree, signal.SIGKILL)  # anything left (a child ignoring SIGTERM)
    deadline = time.time() + wait_s
    while time.time() < deadline:
        alive = _group_members(pgid) if pgid else [p for p in tree if _alive(p)]
        if not alive:
            return
        time.sleep(0.1)


def _tree(pid: int) -> list:
    import psutil

    try:
        parent = psutil.Process(pid)
        return parent.children(recursive=True) + [parent]
    except psutil.Error:
        return []


def _signal(pgid: int | None, tree: list, sig: int) -> None:
    import psutil

    if pgid:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        return
    for proc in tree:
        try:
            proc.send_signal(sig)
        except psutil.Error:
            pass


def _alive(proc) -> bool:
    import psutil

    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _group_members(pgid: int) -> list[int]:
    """Pids of the live (not zombie) processes in a process group."""
    import psutil

    members = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(proc.pid)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return members
