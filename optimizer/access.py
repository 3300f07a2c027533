"""Who may do what: the optional access token a workshop shares, and which browser workspace
may change a run folder.

**The access token** (``OPTIMIZER_ACCESS_TOKEN``). Unset (the default), the app asks nothing:
``make run`` listens on 127.0.0.1 only. Set, every browser must type it once; a workspace that
passed keeps a mark in its folder (an HMAC of its token under the access token, never the
access token itself), so a reload or a bookmark of the workspace's link is not asked again,
and changing the access token asks everyone again.

**Owners.** A run folder under ``<workspace>/sessions/<token>/`` belongs to that browser
workspace. Anyone with a share link may read it; every library function that writes into a
run folder, starts work on it or removes it takes ``workspace=`` (who is asking) and calls
``require_owner`` first, so a link viewer is refused even when the action is asked for
directly, not only by the page hiding its button. ``workspace=None`` is the command line and
the library's own processes (the server's operator), which may act on any folder.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

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
    folder = paths.session_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARK).write_text(_mark_of(workspace))


def remembered(workspace: str) -> bool:
    """True when ``workspace`` passed with the current access token."""
    try:
        text = (paths.session_dir(workspace) / MARK).read_text().strip()
    except (OSError, ValueError):
        return False
    return hmac.compare_digest(text, _mark_of(workspace))


class ReadOnly(ValueError):
    """An action on a run folder that the asking workspace does not own (a share link's
    viewer): refused, and nothing was written."""


def may_change(folder: Path | str, workspace: str | None) -> bool:
    """True when ``workspace`` (a browser's token; None for the command line) may write into,
    start work on or remove ``folder``: only its own workspace's folders."""
    return workspace is None or (isinstance(workspace, str) and bool(workspace)
                                 and paths.owner_of(folder) == workspace)


def require_owner(folder: Path | str, workspace: str | None, action: str) -> None:
    """Raise ``ReadOnly`` (naming ``action`` and the way on) unless ``may_change``."""
    if not may_change(folder, workspace):
        raise ReadOnly(f"{action} is not allowed here: this run belongs to another workspace "
                       "and opens read-only from its share link; use \"Copy into my "
                       "workspace\" on its Results page to work on your own copy")
