"""Run folders on disk: the layout, ``results.json``, and the recipe JSON beside each .tflite.

```
<run_dir>/request.json        what was asked: RunRequest.to_dict() (model ref, data path, specs,
                              settings; the answers and goals the results are judged by)
<run_dir>/events.jsonl        progress events (optimizer.artifacts.events)
<run_dir>/results.json        {"model": .., "results": [Result.to_dict(), ..], "insights": [..],
                              "checks": {technique: goal verdicts}}
<run_dir>/context.json        older runs only: the answers and goals (now in request.json)
<run_dir>/pid, run.lock       the orchestrator's pid; a lock it holds while it lives
<run_dir>/<job>.json/.log     one job's description and its log (tracebacks go here)
<run_dir>/<spec>/model.tflite + recipe.json
```
Files the app reads while a run writes them are replaced atomically (write, then rename), so
a reader never sees half a file. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from importlib import metadata
from pathlib import Path

from optimizer.guide.schema import Result

REQUEST = "request.json"
EVENTS = "events.jsonl"
RESULTS = "results.json"
PID = "pid"
LOCK = "run.lock"
CANCELLED = "cancelled"
RUN_LOG = "run.log"
TFLITE = "model.tflite"
RECIPE = "recipe.json"
CONTEXT = "context.json"

#: Library versions recorded in every recipe (the stack a result was produced with).
RECORDED_PACKAGES = ("tensorflow", "tf-keras", "tensorflow-model-optimization", "ai-edge-litert",
                     "litert-quantizer", "numpy")


def write_json_atomic(path: Path | str, data) -> Path:
    """Write ``data`` as indented JSON to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)  # a full disk leaves the old file whole, not half a new one
        if exc.filename is None:     # a failed write (not open) names no file: name it
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    return path


def read_json(path: Path | str, default=None):
    """Parse a JSON file; ``default`` when it is missing or unreadable (e.g. being replaced)."""
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, ValueError, OSError):
        return default


def spec_dir(run_dir: Path | str, spec: str) -> Path:
    """The folder holding one technique's ``model.tflite`` and ``recipe.json``."""
    return Path(run_dir) / spec


def save_tflite(run_dir: Path | str, spec: str, tflite: bytes) -> Path:
    """Write a technique's .tflite to ``<run_dir>/<spec>/model.tflite`` and return the path."""
    folder = spec_dir(run_dir, spec)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TFLITE
    path.write_bytes(tflite)
    return path


def library_versions() -> dict:
    """Installed versions of the packages that produce and run the files (None if absent)."""
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def write_recipe(run_dir: Path | str, spec: str, recipe: dict) -> Path:
    """Write ``recipe.json`` beside the technique's .tflite, adding versions and the time."""
    data = dict(recipe)
    data.setdefault("technique", spec)
    data.setdefault("libraries", library_versions())
    data.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    return write_json_atomic(spec_dir(run_dir, spec) / RECIPE, data)


def write_results(run_dir: Path | str, model: str, results, /, path: Path | str | None = None,
                  **extra) -> dict:
    """Rewrite ``results.json`` (or ``path``) with every result so far; return the document."""
    doc = {"model": model, **extra,
           "results": [r.to_dict() if isinstance(r, Result) else dict(r) for r in results]}
    write_json_atomic(Path(path) if path else Path(run_dir) / RESULTS, doc)
    return doc


def read_results(run_dir: Path | str) -> list[Result]:
    """The results in ``<run_dir>/results.json`` as ``Result`` objects (``[]`` if none yet)."""
    doc = read_json(Path(run_dir) / RESULTS, default={}) or {}
    return [Result.from_dict(r) for r in doc.get("results", []) if isinstance(r, dict)]


def read_context(run_dir: Path | str) -> dict:
    """``{"answers": dict or None, "goals": dict or None}`` from the ``context.json`` of a run
    made before ``request.json`` held them (Nones when there is none)."""
    data = read_json(Path(run_dir) / CONTEXT, default=None)
    data = data if isinstance(data, dict) else {}
    return {"answers": data.get("answers"), "goals": data.get("goals")}


def add_to_results(path: Path | str, **keys) -> dict | None:
    """Add top-level keys (e.g. ``insights``) to a results document; None if it is missing."""
    doc = read_json(path)
    if not isinstance(doc, dict):
        return None
    doc.update(keys)
    write_json_atomic(path, doc)
    return doc


def write_pid(run_dir: Path | str, pid: int, pgid: int | None = None) -> None:
    """Record the orchestrator's pid and, when it leads its own process group, that group
    (``cancel_run`` then signals the whole group: workers and the latency process too)."""
    write_json_atomic(Path(run_dir) / PID, {"pid": int(pid), "pgid": pgid,
                                            "t": round(time.time(), 3)})


def read_pid(run_dir: Path | str) -> dict | None:
    """``{"pid": .., "pgid": .., "t": ..}`` written by ``write_pid``, or None."""
    data = read_json(Path(run_dir) / PID)
    return data if isinstance(data, dict) and "pid" in data else None



def lock_held(path: Path | str) -> bool:
    """True while some process holds an exclusive ``flock`` on ``path`` (False when it does not
    exist): how a run's or a warm process's lock file says it is alive."""
    if not Path(path).exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False

class RunLock:
    """An exclusive ``flock`` on ``<run_dir>/run.lock`` held by the orchestrator while it lives.

    The kernel drops the lock when the process dies however it dies, so ``is_held`` tells
    a live run from a dead one without trusting pids (which are reused, and which stay
    visible as zombies when the app that started the run never waits for it).
    """

    def __init__(self, run_dir: Path | str):
        self.path = Path(run_dir) / LOCK
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        """Take the lock, waiting if a reader is probing it at this instant."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()

    @staticmethod
    def is_held(run_dir: Path | str) -> bool:
        """True while some process holds the run's lock (the run is alive)."""
        return lock_held(Path(run_dir) / LOCK)


def has_live_work(folder: Path | str) -> bool:
    """True when a run or search in a work folder of ``folder`` (``<folder>/<kind>/<id>``, as
    a browser workspace holds them) is still alive, i.e. holds its lock."""
    return any(RunLock.is_held(lock.parent) for lock in Path(folder).glob(f"*/*/{LOCK}"))
