"""Per-browser-session folders for uploads (and runs), and their cleanup.

Each browser session owns ``<workspace>/sessions/<id>/`` (the pages already keep their runs in
``runs/`` there): uploads go to ``uploads/<time>-<hex>/``, one folder per checked upload, so
one user's files never appear in another session. Nothing is cached in module state or in
``st.cache_resource``: the folder is the only place an upload lives.

Cleanup: ``sweep_stale`` removes session folders idle for longer than
``limits().session_max_age_h`` (activity is the ``.last_seen`` marker ``touch`` updates on
every page view, or the newest file), never one whose run is still alive; ``reset_session``
removes a session's uploads and finished runs when the user starts over; ``remove_upload``
drops one upload. Every removal is confined to the sessions root (ids are checked, paths
resolved), so a crafted id or path can never delete anything else.
"""
from __future__ import annotations

import re
import secrets
import shutil
import time
import uuid
from pathlib import Path

from optimizer import paths
from optimizer.artifacts import space, store
from optimizer.models.uploads.errors import TooLarge, UploadError
from optimizer.models.uploads.limits import ENV, MB, Limits, keras_size_hint, limits

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LAST_SEEN = ".last_seen"
_CHUNK = 1 << 20


def sessions_root() -> Path:
    """``<workspace>/sessions`` (created on first use)."""
    root = paths.workspace() / "sessions"
    root.mkdir(parents=True, exist_ok=True)
    return root


def session_dir(session_id: str) -> Path:
    """The folder of one session; ``ValueError`` for an id that is not a plain token."""
    if not isinstance(session_id, str) or not _ID.match(session_id):
        raise ValueError("invalid session id; reload the page to get a new session")
    return sessions_root() / session_id


def new_session_id() -> str:
    """A fresh random session id (12 hex digits, as the pages use)."""
    return uuid.uuid4().hex[:12]


#: A workspace token in a link: 128 random bits, URL-safe (secrets.token_urlsafe(16)).
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
STATE_FILE = "state.json"


def new_workspace_token() -> str:
    """A fresh, unguessable workspace token (128 random bits) for a browser's ``?w=`` link."""
    return secrets.token_urlsafe(16)


def is_workspace_token(text) -> bool:
    """True for a string shaped like ``new_workspace_token``'s (at least 128 bits' worth)."""
    return isinstance(text, str) and bool(_TOKEN.match(text))


def save_state(session_id: str, values: dict) -> None:
    """Keep a workspace's small page state (model, answers, current run) in its folder, so a
    reload, a new tab or a server restart brings it back."""
    folder = session_dir(session_id)
    folder.mkdir(parents=True, exist_ok=True)
    if store.read_json(folder / STATE_FILE) != values:
        store.write_json_atomic(folder / STATE_FILE, values)


def load_state(session_id: str) -> dict:
    """What ``save_state`` kept ({} for a new workspace or an unreadable file)."""
    data = store.read_json(session_dir(session_id) / STATE_FILE, default={})
    return data if isinstance(data, dict) else {}


def touch(session_id: str) -> Path:
    """Mark the session as active now (its folder is created if needed)."""
    folder = session_dir(session_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LAST_SEEN).write_text(str(round(time.time(), 3)))
    return folder


def new_upload_dir(session_id: str) -> Path:
    """A new, empty folder for one upload of this session: ``uploads/<time>-<hex>``."""
    folder = session_dir(session_id) / "uploads" / (
        time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6])
    folder.mkdir(parents=True, exist_ok=False)
    return folder


#: Longest stored file name (the extension is always kept).
MAX_NAME = 120


def safe_filename(name: str, default: str = "upload") -> str:
    """A browser-supplied file name reduced to one safe path component (suffix kept)."""
    base = Path(str(name or "").replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or default
    if len(base) <= MAX_NAME:
        return base
    # Cut the stem, never the suffix: "<long>.h5" must still read as an .h5 file.
    suffix = "".join(Path(base).suffixes[-2:])
    suffix = suffix if len(suffix) <= 16 else Path(base).suffix[:16]
    return base[:MAX_NAME - len(suffix)].rstrip("._") + suffix


def save_upload(folder: Path | str, name: str, source, lim: Limits | None = None) -> Path:
    """Write an uploaded file (bytes, or a readable binary stream such as Streamlit's
    ``UploadedFile``) into ``folder`` under a safe name, refusing more than the upload limit
    while writing (``TooLarge``) and empty files (``UploadError``). Returns the path."""
    lim = lim or limits()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_filename(name)
    reader = _reader(source)
    space.ensure_space(folder, lim.max_upload_bytes // 8 + space.MB, "an upload")
    try:
        written = _copy(reader, target, name, lim)
    except FileExistsError:
        raise
    except OSError as exc:
        target.unlink(missing_ok=True)
        if space.is_no_space(exc):
            raise space.NoSpace(space.no_space_message(folder, None, "an upload")) from None
        raise
    if written == 0:
        target.unlink(missing_ok=True)
        raise UploadError(f"{safe_filename(name)} is empty (0 bytes); upload the file again")
    return target


def _copy(reader, target: Path, name: str, lim: Limits) -> int:
    """Stream ``reader`` into a new file ``target``, refusing more than the upload limit."""
    written = 0
    with open(target, "xb") as out:
        while True:
            chunk = reader(_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            if written > lim.max_upload_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise TooLarge(f"{safe_filename(name)} is over the {lim.max_upload_mb} MiB upload "
                               f"limit ({written / MB:,.1f} MiB so far; 1 MiB = 1,048,576 "
                               f"bytes); {keras_size_hint(name)}upload a smaller file or "
                               f"raise {ENV['max_upload_mb']}")
            out.write(chunk)
    return written


def _reader(source):
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = memoryview(bytes(source))
        position = [0]

        def read(size):
            start = position[0]
            position[0] = min(len(data), start + size)
            return bytes(data[start:position[0]])

        return read
    if hasattr(source, "seek"):
        source.seek(0)
    return source.read


def _inside_root(path: Path) -> Path:
    root = sessions_root().resolve()
    resolved = Path(path).resolve()
    if resolved == root or root not in resolved.parents:
        raise ValueError(f"refusing to remove {path}: it is not inside {root}")
    return resolved


#: Session sub-folders holding background work (runs, searches), one folder per job.
WORK_FOLDERS = ("runs", "searches")


def has_live_run(folder: Path | str) -> bool:
    """True when a run or search of the session in ``folder`` is still alive (its lock held)."""
    return any(store.RunLock.is_held(lock.parent)
               for lock in Path(folder).glob(f"*/*/{store.LOCK}"))


def last_activity(folder: Path | str) -> float:
    """When the session was last active: its ``.last_seen`` marker, else its folder's mtime."""
    folder = Path(folder)
    marker = folder / LAST_SEEN
    try:
        return float(marker.read_text())
    except (OSError, ValueError):
        try:
            return folder.stat().st_mtime
        except OSError:
            return 0.0


def sweep_stale(max_age_s: float | None = None, now: float | None = None,
                keep: str | None = None) -> list[str]:
    """Remove session folders idle for longer than ``max_age_s`` (default: the configured
    ``session_max_age_h``), except ``keep`` and sessions with a live run. Returns the ids."""
    max_age = float(max_age_s if max_age_s is not None else limits().session_max_age_h * 3600)
    now = time.time() if now is None else now
    removed = []
    for folder in sorted(sessions_root().iterdir()):
        if not folder.is_dir() or folder.is_symlink() or folder.name == keep:
            continue
        if not _ID.match(folder.name) or now - last_activity(folder) <= max_age:
            continue
        if has_live_run(folder):
            continue
        shutil.rmtree(_inside_root(folder), ignore_errors=True)
        removed.append(folder.name)
    return removed


def remove_upload(folder: Path | str) -> bool:
    """Remove one upload folder (only inside the sessions root). True if it existed."""
    folder = Path(folder)
    if not folder.exists():
        return False
    shutil.rmtree(_inside_root(folder), ignore_errors=True)
    return True


def reset_session(session_id: str) -> list[str]:
    """Remove a session's uploads and its finished runs and searches (live ones and their
    files stay).

    Returns the removed paths (relative to the session folder).
    """
    folder = session_dir(session_id)
    removed = []
    uploads = folder / "uploads"
    live = has_live_run(folder)
    if uploads.is_dir() and not live:
        shutil.rmtree(_inside_root(uploads), ignore_errors=True)
        removed.append("uploads")
    for kind in WORK_FOLDERS:
        parent = folder / kind
        if not parent.is_dir():
            continue
        for work in parent.iterdir():
            if work.is_dir() and not store.RunLock.is_held(work):
                shutil.rmtree(_inside_root(work), ignore_errors=True)
                removed.append(f"{kind}/{work.name}")
    return removed
