"""How the library starts its own child processes (jobs, checks, latency timing, model cards).

One place for the environment they get, so every child imports this same ``optimizer``
package whatever its working folder (also when the package is not installed in the venv),
and for making a child die with the process that started it: ``die_with_parent`` as a
``preexec_fn`` where the parent is single-threaded (the orchestrator), or
``child_env(die_with_parent=True)`` where it may have threads (the app's server, where a
``preexec_fn`` can deadlock): the child then arranges it itself when it starts
(``watch_parent``, called by ``python -m optimizer``).
"""
from __future__ import annotations

import os

from optimizer import paths

#: Set in a child's environment to the pid of the parent it must not outlive.
ENV_PARENT = "OPTIMIZER_DIE_WITH_PARENT"


def child_env(die_with_parent: bool = False) -> dict:
    """Environment for our child processes: the repository importable from any working folder;
    with ``die_with_parent`` the child (a ``python -m optimizer`` command) gets SIGKILL when
    this process dies (``watch_parent``)."""
    env = dict(os.environ)
    env.pop(ENV_PARENT, None)
    root = str(paths.REPO_ROOT)
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in
                                                  env.get("PYTHONPATH", "").split(os.pathsep) if p])
    if die_with_parent:
        env[ENV_PARENT] = str(os.getpid())
    return env


def watch_parent() -> None:
    """In a child started with ``child_env(die_with_parent=True)``: die with that parent.

    Asks Linux for SIGKILL when the parent dies, then checks the parent is still the one that
    started us (it may have died before the request: then exit at once). The variable is
    removed so this process's own children do not inherit it.
    """
    import sys

    wanted = os.environ.pop(ENV_PARENT, None)
    if not wanted or not sys.platform.startswith("linux"):
        return
    die_with_parent()
    if str(os.getppid()) != wanted:
        os._exit(137)


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` for a child that must not outlive the process that started it.

    Linux sends the child SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), so a killed
    orchestrator never leaves a job running outside its worker slot. Elsewhere a no-op.
    """
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except OSError:
        pass
