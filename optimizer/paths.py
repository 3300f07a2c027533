"""Where things live on disk: the repository's assets and the writable workspace.

The workspace (sessions, runs, caches) defaults to ``<repo>/workspace`` and can be moved with
``OPTIMIZER_WORKSPACE``. Nothing else in the library hard-codes a location.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS = REPO_ROOT / "assets"


def workspace() -> Path:
    """The writable root for sessions, runs and caches (created on first use)."""
    root = Path(os.environ.get("OPTIMIZER_WORKSPACE", REPO_ROOT / "workspace")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_dir(name: str) -> Path:
    """A named cache folder under the workspace (e.g. model cards of the built-in demos)."""
    path = workspace() / "cache" / name
    path.mkdir(parents=True, exist_ok=True)
    return path
