"""Browser workspaces: the tokens this server issues, which one a new browser session opens,
the small page state each keeps, and the cleanup of idle ones.

Each browser workspace owns ``<workspace>/sessions/<token>/`` (``paths.session_dir``): its runs
in ``runs/``, searches in ``searches/``, uploads in ``uploads/`` (``models.uploads.saving``) and
the page state in ``state.json``. One workspace's files never appear in another.

**Tokens.** ``issue_token`` makes 128 random bits followed by their HMAC-SHA256 under a server
secret (``<workspace>/.workspace-secret``, 32 random bytes, created once with 0600
permissions). ``is_issued`` accepts only such tokens, so a string chosen by hand (however
well-formed) is never adopted as a workspace: ``choose_token`` starts a new one instead. A
browser keeps its token in the address (``?w=``) and in a cookie (``cookie_name``), so a
bookmark, a reload, a new tab or a server restart opens the same workspace.

**Cleanup.** ``sweep_stale`` removes workspaces idle for longer than
``limits().session_max_age_h`` (activity is the ``.last_seen`` marker ``touch`` updates on
every page view, or the folder's time), never one whose run is still alive; ``reset_session``
removes a workspace's uploads and finished runs when the user starts over. Every removal is
confined to the sessions root (``paths.inside_sessions``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import shutil
import time
from pathlib import Path

from optimizer import paths
from optimizer.artifacts import store
from optimizer.models.uploads.limits import limits

LAST_SEEN = ".last_seen"
STATE_FILE = "state.json"
SECRET_FILE = ".workspace-secret"
SECRET_BYTES = 32
#: Session sub-folders holding background work (runs, searches), one folder per job.
WORK_FOLDERS = ("runs", "searches")

_RANDOM_CHARS = 22          # secrets.token_urlsafe(16): 128 random bits
_SIGNATURE_BYTES = 16       # 128 bits of the HMAC, 22 characters
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{44}$")
#: Tokens issued before they were signed (128 random bits): accepted only when looked up, i.e.
#: this server already keeps that workspace's page state, so old bookmarks keep working while a
#: string chosen by hand never creates a workspace.
_LEGACY_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def secret() -> bytes:
    """The server's token secret, created on first use (0600, never rewritten); a file another
    user could read is made private again before it is used."""
    path = paths.workspace() / SECRET_FILE
    if not path.exists():
        _create_secret(path)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    data = path.read_bytes()
    if len(data) < SECRET_BYTES:
        raise ValueError(f"{path} is damaged (under {SECRET_BYTES} bytes); delete it and "
                         "restart: every browser then gets a new workspace")
    return data


def _create_secret(path: Path) -> None:
    """Write the secret to a private temporary file, then link it into place: two servers
    starting together both end up reading the one that won."""
    temp = path.with_name(f"{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(SECRET_BYTES))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
    finally:
        temp.unlink(missing_ok=True)


def _signature(random_part: str) -> str:
    mac = hmac.new(secret(), b"workspace:" + random_part.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:_SIGNATURE_BYTES]).decode().rstrip("=")


def issue_token() -> str:
    """A new workspace token: 128 random bits and this server's signature of them (44
    URL-safe characters)."""
    random_part = secrets.token_urlsafe(16)
    return random_part + _signature(random_part)


def is_issued(text) -> bool:
    """True only for a token ``issue_token`` made with this server's secret, or an unsigned
    token from before signing whose workspace this server already holds (looked up)."""
    if isinstance(text, str) and _LEGACY_TOKEN.match(text):
        return (paths.session_dir(text) / STATE_FILE).is_file()
    if not isinstance(text, str) or not _TOKEN.match(text):
        return False
    random_part, signature = text[:_RANDOM_CHARS], text[_RANDOM_CHARS:]
    return hmac.compare_digest(signature, _signature(random_part))


def choose_token(address: str | None, cookie: str | None) -> tuple[str, str]:
    """The workspace a new browser session opens, and where it came from: the address's
    ``?w=`` token (``"address"``), else the browser's cookie (``"cookie"``), each only if this
    server issued it, else a new token (``"new"``)."""
    if is_issued(address):
        return address, "address"
    if is_issued(cookie):
        return cookie, "cookie"
    return issue_token(), "new"


def cookie_name() -> str:
    """The name of the cookie that keeps a browser's token: one per server secret, so two
    servers on one host (cookies ignore the port) never overwrite each other's."""
    tag = hmac.new(secret(), b"cookie-name", hashlib.sha256).hexdigest()[:8]
    return f"litert_workspace_{tag}"


def save_state(token: str, values: dict) -> None:
    """Keep a workspace's small page state (model, answers, current run) in its folder, so a
    reload, a new tab or a server restart brings it back."""
    folder = paths.session_dir(token)
    folder.mkdir(parents=True, exist_ok=True)
    if store.read_json(folder / STATE_FILE) != values:
        store.write_json_atomic(folder / STATE_FILE, values)


def load_state(token: str) -> dict:
    """What ``save_state`` kept ({} for a new workspace or an unreadable file)."""
    data = store.read_json(paths.session_dir(token) / STATE_FILE, default={})
    return data if isinstance(data, dict) else {}


def touch(token: str) -> Path:
    """Mark the workspace as active now (its folder is created if needed)."""
    folder = paths.session_dir(token)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LAST_SEEN).write_text(str(round(time.time(), 3)))
    return folder


def last_activity(folder: Path | str) -> float:
    """When a workspace was last active: its ``.last_seen`` marker, else its folder's mtime."""
    folder = Path(folder)
    try:
        return float((folder / LAST_SEEN).read_text())
    except (OSError, ValueError):
        try:
            return folder.stat().st_mtime
        except OSError:
            return 0.0


def sweep_stale(max_age_s: float | None = None, now: float | None = None,
                keep: str | None = None) -> list[str]:
    """Remove workspace folders idle for longer than ``max_age_s`` (default: the configured
    ``session_max_age_h``), except ``keep`` and workspaces with a live run. Returns the ids."""
    max_age = float(max_age_s if max_age_s is not None else limits().session_max_age_h * 3600)
    now = time.time() if now is None else now
    removed = []
    for folder in sorted(paths.sessions_root().iterdir()):
        if not folder.is_dir() or folder.is_symlink() or folder.name == keep:
            continue
        try:
            paths.session_dir(folder.name)
        except ValueError:
            continue
        if now - last_activity(folder) <= max_age or store.has_live_work(folder):
            continue
        shutil.rmtree(paths.inside_sessions(folder), ignore_errors=True)
        removed.append(folder.name)
    return removed


def reset_session(token: str) -> list[str]:
    """Remove a workspace's uploads and its finished runs and searches (live ones and their
    files stay). Returns the removed paths (relative to the workspace folder)."""
    folder = paths.session_dir(token)
    removed = []
    uploads = folder / "uploads"
    if uploads.is_dir() and not store.has_live_work(folder):
        shutil.rmtree(paths.inside_sessions(uploads), ignore_errors=True)
        removed.append("uploads")
    for kind in WORK_FOLDERS:
        parent = folder / kind
        if not parent.is_dir():
            continue
        for work in parent.iterdir():
            if work.is_dir() and not store.RunLock.is_held(work):
                shutil.rmtree(paths.inside_sessions(work), ignore_errors=True)
                removed.append(f"{kind}/{work.name}")
    return removed
