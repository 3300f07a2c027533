"""Where things live on disk: the repository's assets, the writable workspace, file fingerprints.

The workspace (sessions, runs, caches) defaults to ``<repo>/workspace`` and can be moved with
``OPTIMIZER_WORKSPACE``. Nothing else in the library hard-codes a location.
"""
from __future__ import annotations

import hashlib
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


def file_sha256(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def owner_of(folder: Path | str) -> str | None:
    """The browser workspace a folder belongs to (the token in
    ``<workspace>/sessions/<token>/...``), or None for a folder outside it (the command
    line's runs)."""
    try:
        parts = Path(folder).resolve().relative_to(workspace() / "sessions").parts
    except ValueError:
        return None
    return parts[0] if parts else None
