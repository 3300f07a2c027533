"""Where things live on disk: the repository's assets, the writable workspace, file fingerprints.

The workspace (sessions, runs, caches) defaults to ``<repo>/workspace`` and can be moved with
``OPTIMIZER_WORKSPACE``. Nothing else in the library hard-codes a location.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS = REPO_ROOT / "assets"


def workspace() -> Path:
    """The writable root for sessions, runs and caches (created on first use)."""
    root = Path(os.environ.get("OPTIMIZER_WORKSPACE", REPO_ROOT / "workspace")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


#: A browser workspace's folder name: a plain token (never a path, never "..").
_WORKSPACE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def sessions_root() -> Path:
    """``<workspace>/sessions``: one folder per browser workspace (created on first use)."""
    root = workspace() / "sessions"
    root.mkdir(parents=True, exist_ok=True)
    return root


def session_dir(token: str) -> Path:
    """The folder of one browser workspace; ``ValueError`` for a token that is not a plain
    name (so no crafted token can point anywhere else)."""
    if not isinstance(token, str) or not _WORKSPACE_ID.match(token):
        raise ValueError("invalid workspace token; reload the page to get a new workspace")
    return sessions_root() / token


def inside_sessions(path: Path | str) -> Path:
    """``path`` resolved (links followed), or ``ValueError`` when that is not strictly inside
    the sessions root: what every removal in a workspace checks first."""
    root = sessions_root().resolve()
    resolved = Path(path).resolve()
    if resolved == root or root not in resolved.parents:
        raise ValueError(f"refusing to remove {path}: it is not inside {root}")
    return resolved


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
    line's runs). Links are followed first, so a link placed in one workspace that points
    into another belongs to the other."""
    try:
        parts = Path(folder).resolve().relative_to(sessions_root().resolve()).parts
    except ValueError:
        return None
    return parts[0] if parts else None
