"""What leaves the server: records with server paths and session ids taken out.

Downloads (the CSV, ``result.json``, ``recipe.json``), history and the CLI's ``show`` name files
relative to the run folder (``float16/model.tflite``) or by their own name (the user's upload
file name), never by where they sit on the server; a path names the session's folder, and
a link to a run is all it takes to read it.
"""
from __future__ import annotations

import re
from pathlib import Path

from optimizer import paths

#: Result and recipe fields that hold a file path (kept relative to the run folder).
PATH_FIELDS = ("tflite_path", "recipe_path")


def _roots() -> list[str]:
    roots = {str(paths.workspace()), str(paths.REPO_ROOT)}
    roots |= {str(Path(r).resolve()) for r in list(roots)}
    return sorted(roots, key=len, reverse=True)


def public_path(value: str, run_dir: Path | str | None = None) -> str:
    """A path as the user may see it: relative to ``run_dir`` when inside it, else its name."""
    path = Path(value)
    if run_dir is not None:
        for base in (Path(run_dir), Path(run_dir).resolve()):
            try:
                return path.relative_to(base).as_posix()
            except ValueError:
                continue
    parts = path.parts
    if len(parts) >= 2 and parts[-1] in ("model.tflite", "recipe.json"):
        return f"{parts[-2]}/{parts[-1]}"   # <spec>/model.tflite: the layout of every run
    return path.name


def public_text(text: str, run_dir: Path | str | None = None) -> str:
    """``text`` with every absolute path under the workspace or the repository replaced by
    its public form (messages such as "see /srv/.../sessions/<id>/runs/x/job-1.log")."""
    if not isinstance(text, str) or "/" not in text:
        return text
    if text.startswith("/") and " " not in text:
        return public_path(text, run_dir) if _under_roots(text) or run_dir else text
    for root in _roots():
        pattern = re.escape(root) + r"(?:/[^\s'\"()<>,;]*)?"
        text = re.sub(pattern, lambda m: public_path(m.group(0), run_dir), text)
    return text


def _under_roots(text: str) -> bool:
    return any(text == root or text.startswith(root + "/") for root in _roots())


def public_record(value, run_dir: Path | str | None = None):
    """A deep copy of a JSON-like record with every server path made public (see above)."""
    if isinstance(value, dict):
        return {k: public_record(v, run_dir) for k, v in value.items()
                if k not in ("run_dir", "session", "session_id")}
    if isinstance(value, (list, tuple)):
        return [public_record(v, run_dir) for v in value]
    if isinstance(value, str):
        return public_text(value, run_dir)
    return value
