"""How a model is named to people: a demo by its name, an upload by the user's own file name.

A model reference in session state, ``request.json`` or the history is a demo name or the
server path of an upload's manifest; that path names the session's folder, so it is never
shown or downloaded. ``model_label`` is the one place that turns a reference into a name.
"""
from __future__ import annotations

from pathlib import Path


def model_label(ref) -> str:
    """``digits-cnn`` for a demo, ``my_model.h5`` for an upload (its title), a bare file name
    for any other path; never a server path."""
    text = str(ref or "").strip()
    if not text:
        return "no model"
    if "/" not in text and "\\" not in text:
        return text
    from optimizer.models.uploads.prepare import MANIFEST, PreparedUpload, is_manifest

    if is_manifest(text):
        try:
            return PreparedUpload.load(text).title
        except (ValueError, OSError):
            return "an uploaded model"
    path = Path(text)
    return path.parent.name if path.name == MANIFEST else path.name
