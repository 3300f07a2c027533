"""The result cache: a run identical to a finished one gets the stored results at once.

Identical means the same model file and data (their SHA-256), the same measured part of the
request (``RunRequest.measured_dict()``: technique specs, settings; not the answers and goals,
which only judge the results), the same package versions and the same machine (latency is a
property of the host); an upload's results are shared only within its own workspace, a demo's with everyone. The key is stored with each run (``results.json`` and the history row); a hit copies
the finished run's files into the new run folder (hard links where the disk allows) and
writes its results marked ``"cached": true`` with when and where they were measured -- never
which run they came from, since a run id is also the secret of its share link.

While an identical run is still being measured, a new one waits for it instead of measuring
the same thing again (thirty people pressing Run on the same demo cost one computation).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from optimizer.artifacts import history, store
from optimizer.artifacts.events import EventLog, EventType
from optimizer.artifacts.recover import load_results
from optimizer.paths import file_sha256
from optimizer.runs.background import RunStatus

#: How often a run waiting for an identical one looks again.
POLL_S = 1.0


def cache_key(request, bundle, executor: str = "local") -> str:
    """SHA-256 over everything a measurement depends on (see the module doc), including where
    it ran: a run on a Ray cluster is timed on its nodes, never served as a local one."""
    from optimizer.measuring.latency import host_description

    from optimizer.workspace.index import owner_of

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
           "packages": store.library_versions(), "host": host_description(),
           "cores": os.cpu_count(), "executor": str(executor)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _usable(row: dict) -> list | None:
    """The finished run's results if its files are all still there and sound."""
    folder = Path(row["folder"])
    results, damaged = load_results(folder)
    if damaged or not results:
        return None
    for result in results:
        if result.ok and not (result.tflite_path and Path(result.tflite_path).is_file()):
            return None
    return results


def lookup(key: str, wait: bool = True, log: EventLog | None = None,
           own: dict | None = None) -> tuple[dict, list] | None:
    """(row, results) of a finished identical run, waiting for one that is being measured
    now and was queued before ``own`` (this run's history row: of two identical runs the
    later waits, never both); None when there is none (or it failed)."""
    mine = ((own or {}).get("queued_at") or time.time(), (own or {}).get("id") or "")
    announced = False
    while True:
        row = history.find_cached(key)
        if row is not None:
            results = _usable(row)
            if results is not None:
                return row, results
        if not wait:
            return None
        live = [r for r in history.rows_with_key(key)
                if r["status"] not in history.FINAL and r["queued_at"] is not None
                and (r["queued_at"], r["id"]) < mine and store.RunLock.is_held(r["folder"])]
        if not live:
            return None
        if log is not None and not announced:
            log.emit(EventType.QUEUED, message="an identical run is being measured right now; "
                                               "its results will be shared with this one")
            announced = True
        time.sleep(POLL_S)


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
          extra: dict) -> dict:
    """Write the cached results into ``run_dir`` as a finished run; return results.json."""
    measured_at = row.get("finished_at")
    where = next((r.measured_on for r in results if r.measured_on), None) or "this server"
    cached_from = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                                time.localtime(measured_at or time.time())),
                   "measured_on": where}
    _copy_files(Path(row["folder"]), run_dir, results)
    for result in results:
        result.model = model
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
    log.emit(EventType.RUN_FINISHED, status=RunStatus.FINISHED,
             message=f"{len(results)} results from the cache (measured "
                     f"{cached_from['measured_at']} on {where})")
    return doc
