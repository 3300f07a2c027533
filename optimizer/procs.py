"""How the library starts its own child processes (jobs, checks, latency timing, model cards).

One place for the environment they get, so every child imports this same ``optimizer``
package whatever its working folder (also when the package is not installed in the venv).
"""
from __future__ import annotations

import os

from optimizer import paths


def child_env() -> dict:
    """Environment for our child processes: the repository importable from any working folder."""
    env = dict(os.environ)
    root = str(paths.REPO_ROOT)
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in
                                                  env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


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
