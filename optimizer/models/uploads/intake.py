"""The app's upload path in one call: save the browser's files in the session, check them.

``accept_upload(session_id, model, data, options)`` writes the uploaded files into a new
``<session>/uploads/<id>/`` folder of the browser workspace (size-capped while writing),
checks them in a subprocess (``run_check``) and returns the ``PreparedUpload``; on any
failure the new folder is removed
and the one-line ``UploadError`` propagates. On success the session's earlier uploads are
removed, unless a run of the session is still alive (it may be using one). No TensorFlow here.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from optimizer import paths
from optimizer.artifacts import store
from optimizer.models.uploads import saving
from optimizer.models.uploads.check import run_check
from optimizer.models.uploads.errors import UploadError
from optimizer.models.uploads.limits import Limits, limits
from optimizer.models.uploads.prepare import PreparedUpload
from optimizer.models.uploads.raw_data import DataOptions


def accept_upload(session_id: str, model: tuple, data: tuple | None,
                  options: DataOptions | None = None, lim: Limits | None = None) -> PreparedUpload:
    """Save and check one upload for a session; see the module docstring.

    ``model`` and ``data`` are ``(file name, bytes or binary stream)`` pairs (Streamlit's
    ``UploadedFile`` has ``.name`` and ``.read``); ``data`` may be None for a model-only check.
    """
    lim = lim or limits()
    folder = saving.new_upload_dir(session_id)
    try:
        model_path = saving.save_upload(folder / "model", model[0], model[1], lim)
        data_path = (saving.save_upload(folder / "data", data[0], data[1], lim)
                     if data is not None else None)
        upload = run_check(model_path, data_path, folder, options, lim)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if not store.has_live_work(paths.session_dir(session_id)):
        for older in (folder.parent.iterdir() if folder.parent.is_dir() else []):
            if older.is_dir() and older != folder:
                saving.remove_upload(older)
    _index(session_id, folder, upload)
    return upload


def _index(session_id: str, folder: Path, upload: PreparedUpload) -> None:
    """Add the upload to the workspace's history (by the user's file name); the history is an
    index the folders can rebuild, so a database problem never refuses an upload."""
    import sqlite3

    from optimizer.artifacts import history

    try:
        history.record_upload(folder.name, session_id, upload.title, upload.sha256, folder)
    except (ValueError, OSError, sqlite3.Error):
        pass


def current_upload(ref) -> PreparedUpload | None:
    """The checked upload a model reference names (None for a demo or a missing folder)."""
    from optimizer.models.uploads.prepare import is_manifest

    if not ref or not is_manifest(ref):
        return None
    try:
        return PreparedUpload.load(ref)
    except UploadError:
        return None


def upload_folder(ref) -> Path | None:
    """The upload folder of a manifest reference, or None."""
    upload = current_upload(ref)
    return upload.folder if upload else None
