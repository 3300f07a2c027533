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
