"""The background processes of runs and searches: start one, tell whether it has just started,
stop it.

``start_in_background("run", args, folder)`` spawns ``python -m optimizer run ARGS`` in its own
process group (so neither a Streamlit rerun nor the app's exit stops it), with the folder as its
working directory, its output in ``run.log`` and its pid file written; ``just_started`` is the
grace a freshly spawned process gets before its silence counts as a failure;
``stop_processes`` ends its process group (or its tree when it leads none). Both
``optimizer.runs.background`` and ``optimizer.search.background`` use these.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from optimizer.artifacts import store
from optimizer.procs import child_env

#: How long a freshly started run or search may show no sign of life before it counts as failed.
START_GRACE_S = 60.0


def start_in_background(command: str, args: list[str], folder: Path) -> int:
    """Spawn ``python -m optimizer COMMAND ARGS`` in a new process group with ``folder`` as its
    working directory and its output appended to ``<folder>/run.log``; write the pid file
    (it leads its own group) and return the pid at once."""
    with open(folder / store.RUN_LOG, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "optimizer", command, *args],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=folder, env=child_env(), start_new_session=True)
    store.write_pid(folder, proc.pid, proc.pid)
    return proc.pid


def just_started(pid_info: dict | None, now: float, after: float = 0.0) -> bool:
    """True while the process of a pid file (``store.read_pid``) written after ``after`` is
    within its ``START_GRACE_S`` of starting up (it may not have written anything yet)."""
    started = (pid_info or {}).get("t")
    return bool(started) and started > after and now - started < START_GRACE_S


def stop_processes(pid: int, pgid: int | None, run_dir: Path, wait_s: float) -> None:
    """SIGTERM a run's (or search's) processes, then SIGKILL what is left, and wait until they
    are gone.

    A process from ``start_in_background`` leads its own process group: the group is
    signalled, which also reaches a worker spawned a moment ago. One started from a user's
    shell is not a leader (signalling its group would hit the shell's job), so its process
    tree is signalled.
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
