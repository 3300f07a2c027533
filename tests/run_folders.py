"""Synthetic run folders, written by hand in the shapes a real run leaves (no TensorFlow)."""
from __future__ import annotations

import json

from optimizer.artifacts import store
from optimizer.artifacts.events import EventType, make_event
from optimizer.guide.schema import Result

SPECS = ("float32", "float16")


def result(spec: str, size: int, folder=None) -> dict:
    where = folder or "/srv/ws/sessions/abc123/runs/r1"
    return Result(technique=spec, model="digits-cnn", size_bytes=size, gzip_bytes=size // 2,
                  accuracy=0.95, accuracy_delta=0.0, latency_ms_median=0.1,
                  tflite_path=f"{where}/{spec}/model.tflite").to_dict()


def make_run(folder, results_json=True, finished=True, model="digits-cnn", files=False):
    """A two-technique run (float32, float16), finished unless told otherwise; ``files``
    also writes each variant's (dummy) ``model.tflite`` and ``recipe.json`` in the folder, and
    the results point at them."""
    folder.mkdir(parents=True)
    if files:
        for spec in SPECS:
            store.spec_dir(folder, spec).mkdir(parents=True, exist_ok=True)
            (store.spec_dir(folder, spec) / store.TFLITE).write_bytes(bytes(range(256)) * 4)
            store.write_recipe(folder, spec, {"technique": spec})
    where = folder.resolve() if files else None
    store.write_json_atomic(folder / store.REQUEST, {"model": model, "techniques": ["float16"],
                                                     "data": None, "settings": []})
    events = [make_event(EventType.RUN_STARTED, model=model, techniques=list(SPECS))]
    for spec, size in zip(SPECS, (4000, 2000)):
        events.append(make_event(EventType.JOB_STARTED, spec))
        events.append(make_event(EventType.RESULT, spec, result=result(spec, size, where)))
    if finished:
        events.append(make_event(EventType.RUN_FINISHED, status="finished"))
    (folder / store.EVENTS).write_text("".join(json.dumps(e) + "\n" for e in events))
    if results_json:
        store.write_results(folder, model, [result(s, n, where)
                                            for s, n in zip(SPECS, (4000, 2000))])
    return folder


def folder_hashes(folder) -> dict:
    """``{relative path: sha256}`` of every file under ``folder`` (links listed, not followed):
    two equal answers mean the folder is byte-identical."""
    import hashlib
    from pathlib import Path

    folder = Path(folder)
    return {str(p.relative_to(folder)): ("link:" + str(p.readlink())) if p.is_symlink()
            else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() or p.is_symlink()}
