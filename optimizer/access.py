"""An optional shared access token for a server a workshop shares (``OPTIMIZER_ACCESS_TOKEN``).

Unset (the default), the app asks nothing: ``make run`` listens on 127.0.0.1 only. Set, every
browser must type it once; a workspace that passed keeps a mark in its folder (an HMAC of its
token under the access token, never the access token itself), so a reload or a bookmark of
the workspace's link is not asked again, and changing the access token asks everyone again.
"""
from __future__ import annotations

import hashlib
import hmac
import os

from optimizer import paths

ENV_ACCESS_TOKEN = "OPTIMIZER_ACCESS_TOKEN"
MARK = ".access"


def required() -> bool:
    """True when the server was started with ``OPTIMIZER_ACCESS_TOKEN``."""
    return bool(os.environ.get(ENV_ACCESS_TOKEN, "").strip())


def check(given: str) -> bool:
    """True when ``given`` is the access token (compared in constant time)."""
    expected = os.environ.get(ENV_ACCESS_TOKEN, "").strip()
    return bool(expected) and hmac.compare_digest(str(given or "").strip().encode(),
                                                  expected.encode())


def _mark_of(workspace: str) -> str:
    key = os.environ.get(ENV_ACCESS_TOKEN, "").strip().encode()
    return hmac.new(key, workspace.encode(), hashlib.sha256).hexdigest()


def remember(workspace: str) -> None:
    """Mark ``workspace`` (a browser's token) as having passed."""
    folder = paths.workspace() / "sessions" / workspace
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARK).write_text(_mark_of(workspace))


def remembered(workspace: str) -> bool:
    """True when ``workspace`` passed with the current access token."""
    try:
        text = (paths.workspace() / "sessions" / workspace / MARK).read_text().strip()
    except (OSError, ValueError):
        return False
    return hmac.compare_digest(text, _mark_of(workspace))
