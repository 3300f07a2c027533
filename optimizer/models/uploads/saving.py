"""Where an upload's files go: one new folder per upload in its browser workspace, files saved
under safe names with the size capped while writing, and removal confined to the workspaces.

A browser workspace (``<workspace>/sessions/<token>/``, see ``optimizer.workspace.browser``)
keeps its uploads in ``uploads/<time>-<hex>/``, one folder per checked upload, so one user's
files never appear in another workspace. Nothing is cached in module state or in
``st.cache_resource``: the folder is the only place an upload lives.
"""
from __future__ import annotations

import re
import shutil
import time
import uuid
from pathlib import Path

from optimizer import paths
from optimizer.artifacts import space
from optimizer.models.uploads.errors import TooLarge, UploadError
from optimizer.models.uploads.limits import ENV, MB, Limits, keras_size_hint, limits

_CHUNK = 1 << 20
#: Longest stored file name (the extension is always kept).
MAX_NAME = 120


def new_upload_dir(token: str) -> Path:
    """A new, empty folder for one upload of a browser workspace: ``uploads/<time>-<hex>``."""
    folder = paths.session_dir(token) / "uploads" / (
        time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6])
    folder.mkdir(parents=True, exist_ok=False)
    return folder


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


def remove_upload(folder: Path | str) -> bool:
    """Remove one upload folder (only inside the workspaces' root). True if it existed."""
    folder = Path(folder)
    if not folder.exists():
        return False
    shutil.rmtree(paths.inside_sessions(folder), ignore_errors=True)
    return True
