"""Copy into my workspace: a finished run opened from a share link becomes a run of the
viewer's own workspace, so the viewer can go on from there (check readiness, run again).

``copy_run(folder, workspace)`` copies the run's files (request, results, events, context,
each variant's ``.tflite``, recipe and readiness verdicts) into
``<workspace>/sessions/<viewer>/runs/<new id>`` and, for an uploaded model, the upload's folder
into the viewer's ``uploads/``. Every path and id inside the JSON files is rewritten to the
copy's own, so the copy holds no link back to the owner: not the owner's run id, folder or
workspace token (a file that would still name them stops the copy). Process files (``pid``,
the lock, logs) are not copied. The owner's folder is only read. The copy is indexed in the
history as the viewer's run; it is not a new measurement, so it never serves the result cache.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

from optimizer import access, paths
from optimizer.artifacts import space, store
from optimizer.artifacts.history import new_run_id
from optimizer.runs.background import read_run
from optimizer.workspace import index

#: Files a copy leaves behind: the owner's processes and their logs, never results.
_SKIPPED = frozenset({store.PID, store.LOCK, store.RUN_LOG, store.CANCELLED})
_TEXT_SUFFIXES = (".json", ".jsonl")
#: The shortest folder name treated as an id that may also appear outside paths (the app's ids
#: are the time and 32 hex digits; a hand-named command-line folder such as "done" is not).
_MIN_ID = 32
_STAGING = ".copying"


def copy_run(folder: Path | str, workspace: str) -> Path:
    """Copy the finished run in ``folder`` into ``workspace`` (a browser's token) as a new run
    of that workspace; return the copy's folder. ``ValueError`` (one line, with the fix) for a
    search, a run still going, the viewer's own run or a run that cannot be copied cleanly."""
    source = Path(folder).resolve()
    if index.kind_of(source) != "run":
        raise ValueError("only a run can be copied into your workspace; open a run's share link")
    owner = paths.owner_of(source)
    if owner == workspace:
        raise ValueError("this run is already in your workspace; open it from My runs")
    if store.RunLock.is_held(source) or not read_run(source).done:
        raise ValueError("this run is still going; copy it once it has finished")
    home = paths.session_dir(workspace)
    run_id = new_run_id()
    target = home / "runs" / run_id
    uploads = _uploads_used(source, owner)
    moves = {source: target, **{up: home / "uploads" / f"copy-{run_id}-{i}"
                                for i, up in enumerate(uploads)}}
    mapping = {str(src): str(dst) for src, dst in moves.items()}
    linked_id = source.name if len(source.name) >= _MIN_ID else None
    if linked_id:       # a share link's id (128 random bits): also outside paths (run_id)
        mapping[linked_id] = run_id
    needed = sum(_size(src) for src in moves) + space.MB
    space.ensure_space(paths.sessions_root(), needed, "a copy of the run")
    # Staged outside runs/ and uploads/, so no listing ever sees half a copy.
    staged = {src: home / _STAGING / f"{dst.parent.name}-{dst.name}" for src, dst in moves.items()}
    try:
        for src, temp in staged.items():
            _copy_tree(src, temp, mapping, forbidden=(linked_id, owner))
        _finish_results(staged[source])
        for src, temp in staged.items():
            moves[src].parent.mkdir(parents=True, exist_ok=True)
            os.rename(temp, moves[src])
    except BaseException:
        for src, dst in moves.items():
            for path in (staged[src], dst):
                if path.exists():
                    shutil.rmtree(paths.inside_sessions(path), ignore_errors=True)
        raise
    try:
        index.record(target)
    except (ValueError, OSError, sqlite3.Error):
        pass        # the history is an index: My runs records the folder when it lists it
    return target


def _uploads_used(source: Path, owner: str | None) -> list[Path]:
    """The owner's upload folders the run's request names (an uploaded model, its data)."""
    request = store.read_json(source / store.REQUEST, default={})
    if not owner or not isinstance(request, dict):
        return []
    root = (paths.session_dir(owner) / "uploads").resolve()
    found = []
    for value in _strings(request):
        try:
            parts = Path(value).resolve().relative_to(root).parts
        except (ValueError, OSError):
            continue
        folder = root / parts[0] if parts else None
        if folder is not None and folder.is_dir() and folder not in found:
            found.append(folder)
    return found


def _copy_tree(src: Path, dst: Path, mapping: dict, forbidden: tuple) -> None:
    """Copy ``src`` into a new folder ``dst``: regular files only (links are never followed),
    JSON rewritten through ``mapping``, process files left behind."""
    dst.mkdir(parents=True)
    for path in sorted(src.rglob("*")):
        relative = path.relative_to(src)
        if path.is_symlink() or path.name in _SKIPPED or path.suffix == ".log":
            continue
        out = dst / relative
        if path.is_dir():
            out.mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix in _TEXT_SUFFIXES:
                out.write_text(_rewrite_text(path, mapping, forbidden))
            else:
                shutil.copyfile(path, out)


def _rewrite_text(path: Path, mapping: dict, forbidden: tuple) -> str:
    """A JSON (or JSON-lines) file with every path of ``mapping`` replaced; a line that does
    not parse (a line cut by a crash) is dropped; ``ValueError`` if a ``forbidden`` id is left."""
    text = path.read_text(errors="replace")
    if path.suffix == ".jsonl":
        lines = []
        for line in text.splitlines():
            try:
                lines.append(json.dumps(_rewrite(json.loads(line), mapping)))
            except ValueError:
                continue
        out = "".join(line + "\n" for line in lines)
    else:
        try:
            out = json.dumps(_rewrite(json.loads(text), mapping), indent=1)
        except ValueError:
            raise ValueError(f"{path.name} of this run is damaged and cannot be copied; ask "
                             "its owner to run it again") from None
    for name in filter(None, forbidden):
        if name in out:
            raise ValueError(f"{path.name} refers to its owner's workspace beyond this run; "
                             "it cannot be copied, so run the same techniques yourself")
    return out


def _rewrite(value, mapping: dict):
    if isinstance(value, str):
        for old in sorted(mapping, key=len, reverse=True):
            if old in value:
                value = value.replace(old, mapping[old])
        return value
    if isinstance(value, list):
        return [_rewrite(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, mapping) for k, v in value.items()}
    return value


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)


def _finish_results(folder: Path) -> None:
    """The copy's results carry no cache key: it measured nothing, so it never serves the
    result cache (the owner's run stays the cache's source)."""
    doc = store.read_json(folder / store.RESULTS)
    if isinstance(doc, dict) and "cache_key" in doc:
        doc.pop("cache_key")
        store.write_json_atomic(folder / store.RESULTS, doc)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
