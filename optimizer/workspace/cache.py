"""The result cache: a run identical to a finished one gets the stored results at once.

Identical means the same model file and data (their SHA-256), the same measured part of the
request (``RunRequest.measured_dict()``: technique specs, settings; not the answers and goals,
which only judge the results), the same package versions, the same code
(``artifacts.provenance.code_version``: the package version and a hash of the library's
sources and demo assets) and the same timing machine (latency is a property of the host: this server, or the latency node of a Ray
cluster); an upload's results are shared only within its own workspace, a demo's with
everyone. The key is stored with each run (``results.json`` and the history row); a hit
copies the finished run's files into the new run folder (hard links where the disk allows) and
writes its results marked ``"cached": true`` with when and where they were measured, and the
source's ``provenance`` -- never which run they came from, since a run id is also the secret
of its share link.

Only a run whose every result is sound is served: a run with an error result (a failed
conversion, out of memory, a killed worker) or an ok result without a latency ("latency not
measured") is never served, so the next identical run measures the whole run again. Whole,
not just the failed techniques: a run's latencies are timed together on one machine, one
file after another, and its accuracy deltas are against its own baseline, so mixing results
of two sessions would compare numbers measured under different load. A "skipped" result
(the technique does not apply to this model) is a verdict, not a failure, and is served.

While an identical run is still being measured, a new one waits for it instead of measuring
the same thing again (``claim``: one lock per key, so of two identical runs started together
exactly one measures; thirty people pressing Run on the same demo cost one computation).
"""
from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from optimizer import paths
from optimizer.artifacts import history, store
from optimizer.artifacts.events import EventLog, EventType
from optimizer.artifacts.recover import load_results
from optimizer.guide.schema import Status
from optimizer.paths import file_sha256, owner_of
from optimizer.runs.background import RunStatus

#: How often a run waiting for an identical one looks again.
POLL_S = 1.0


def cache_key(request, bundle, executor: str = "local", node: dict | None = None) -> str:
    """SHA-256 over everything a measurement depends on (see the module doc), including where
    it ran: a run on a Ray cluster is timed on its nodes, never served as a local one.
    ``node`` is the timing node (``provenance.local_node()`` or the Ray latency node's);
    its ``host`` (CPU model, cores, LiteRT version) enters the key, not its name."""
    from optimizer.artifacts.provenance import code_version, local_node

    data = request.data
    data_hash = file_sha256(data) if data and Path(data).is_file() else data
    upload = Path(str(bundle.ref)).exists()
    # The request's measured part (techniques, settings, every future field), with the model
    # and data by content; its answers and goals only judge the results, so they stay out.
    doc = {**request.measured_dict(),
           "model": bundle.sha256, "kind": bundle.kind, "demo": None if upload else bundle.ref,
           # An upload's results are served only within its own workspace: another user's
           # identical file must not learn its file name, data name or recipe from the cache.
           "workspace": owner_of(bundle.ref) if upload else None, "data": data_hash,
           "packages": store.library_versions(), "code": code_version(),
           "host": (node or local_node())["host"], "executor": str(executor)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def servable_results(results) -> bool:
    """True when every result may be served to an identical run: each one ok with its latency
    measured, or skipped (does not apply to this model). One error, cancelled result or
    missing latency and the whole run is measured again (see the module doc)."""
    if not results:
        return False
    for result in results:
        if result.status == Status.SKIPPED.value:
            continue
        if not result.ok or result.latency_ms_median is None:
            return False
    return True


def _usable(row: dict) -> list | None:
    """The finished run's results if they are servable and its files all still there."""
    folder = Path(row["folder"])
    results, damaged = load_results(folder)
    if damaged or not servable_results(results):
        return None
    for result in results:
        if result.ok and not (result.tflite_path and Path(result.tflite_path).is_file()):
            return None
    return results


def _finished(key: str) -> tuple[dict, list] | None:
    """The newest finished measured run with this key that can be served, and its results."""
    for row in history.finished_with_key(key):
        results = _usable(row)
        if results is not None:
            return row, results
    return None


def lookup(key: str) -> tuple[dict, list] | None:
    """(row, results) of a finished identical run that can be served now, else None (no
    waiting; a history that cannot be read counts as none)."""
    try:
        return _finished(key)
    except (ValueError, sqlite3.Error):
        return None


@contextmanager
def claim(key: str, log: EventLog | None = None) -> Iterator[tuple[dict, list] | None]:
    """Serve or measure, and of identical runs only one measures at a time.

    Yields ``(row, results)`` of a finished identical run to serve, or None when this run must
    measure: it then holds the key's lock (an ``flock`` in ``<workspace>/cache/keys``) until the
    block ends, and an identical run that comes meanwhile waits here (a "queued" event says
    why) and is then served its results -- thirty people pressing Run on the same demo cost one
    computation. The kernel drops the lock of a run that dies, so a killed or failed run never
    blocks the next one, which then measures itself.
    """
    announced = False
    while True:
        found = lookup(key)
        if found is not None:
            yield found
            return
        fd = _try_lock(key)
        if fd is not None:
            try:
                yield lookup(key)      # one may have finished between the look and the lock
            finally:
                os.close(fd)
            return
        if log is not None and not announced:
            log.emit(EventType.QUEUED, message="an identical run is being measured right now; "
                                               "its results will be shared with this one")
            announced = True
        time.sleep(POLL_S)


def _try_lock(key: str) -> int | None:
    """An exclusive lock on the key's lock file (its descriptor), or None if it is held."""
    folder = paths.cache_dir("keys")
    fd = os.open(folder / f"{key[:40]}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _copy_files(source: Path, target: Path, results: list) -> None:
    """Each result's spec folder (model.tflite, recipe.json, ...) into the new run."""
    for result in results:
        if not result.tflite_path:
            continue
        spec_src = Path(result.tflite_path).parent
        spec_dst = target / spec_src.name
        spec_dst.mkdir(parents=True, exist_ok=True)
        for item in spec_src.iterdir():
            if item.is_file():
                try:
                    os.link(item, spec_dst / item.name)
                except OSError:
                    shutil.copy2(item, spec_dst / item.name)
        result.tflite_path = str(spec_dst / Path(result.tflite_path).name)
        if result.recipe_path:
            result.recipe_path = str(spec_dst / Path(result.recipe_path).name)


def serve(row: dict, results: list, run_dir: Path, events: Path, model: str,
          extra: dict, judge=None) -> dict:
    """Write the cached results into ``run_dir`` as a finished run; return results.json.
    ``judge(results)`` returns keys (the verdicts) written before the run is announced
    finished."""
    cached_from = _measured(row, results)
    where = cached_from["measured_on"]
    _copy_files(Path(row["folder"]), run_dir, results)
    for result in results:
        result.model = model
    source = store.read_json(Path(row["folder"]) / store.RESULTS)
    if isinstance(source, dict) and isinstance(source.get("provenance"), dict):
        extra = {**extra, "provenance": source["provenance"]}   # what measured them, not us
    log = EventLog(events)
    specs = [r.technique for r in results]
    log.emit(EventType.RUN_STARTED, model=model, techniques=specs,
             message=f"identical run measured at {cached_from['measured_at']}: served from "
                     f"the cache")
    for result in results:
        log.emit(EventType.RESULT, result.technique, result=result.to_dict(),
                 message=result.error or "done (cached)")
    doc = store.write_results(run_dir, model, results, **extra, cached=True,
                              cached_from=cached_from)
    if judge is not None:
        doc = store.write_results(run_dir, model, results, **extra, cached=True,
                                  cached_from=cached_from, **judge(results))
    log.emit(EventType.RUN_FINISHED, status=RunStatus.FINISHED,
             message=f"{len(results)} results from the cache (measured "
                     f"{cached_from['measured_at']} on {where})")
    return doc


def cached_result(request, executor: str | None = None) -> dict | None:
    """``{"measured_at", "measured_on", "cache_key"}`` of a finished identical run this
    ``request`` would be served now (nothing waited for, nothing copied), or None: what the
    Run page's "Open the cached result" opens. Only for the local executor (default: the one
    the environment chooses; a cluster's timing node is known only once connected);
    ``ValueError`` for an unusable model."""
    from optimizer.models.resolve import resolve_model
    from optimizer.runs.executor import choose_executor

    if str(executor or choose_executor().kind.value) != "local":
        return None
    bundle = resolve_model(request.model, request.data)
    # The request as ``run`` keys it: the resolved model reference and data path.
    request = dataclasses.replace(request, model=bundle.ref, data=bundle.data)
    key = cache_key(request, bundle, executor="local")
    found = _finished(key)
    return None if found is None else {**_measured(*found), "cache_key": key}


def _measured(row: dict, results: list) -> dict:
    """``{"measured_at", "measured_on"}`` of a finished run: when and on what CPU."""
    where = next((r.measured_on for r in results if r.measured_on), None) or "this server"
    return {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                         time.localtime(row.get("finished_at") or time.time())),
            "measured_on": where}
