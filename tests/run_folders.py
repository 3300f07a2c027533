"""Synthetic run folders, written by hand in the shapes a real run leaves (no TensorFlow)."""
from __future__ import annotations

import json

from optimizer.artifacts import store
from optimizer.artifacts.events import EventType, make_event
from optimizer.guide.schema import Result

SPECS = ("float32", "float16")


def result(spec: str, size: int) -> dict:
    return Result(technique=spec, model="digits-cnn", size_bytes=size, gzip_bytes=size // 2,
                  accuracy=0.95, accuracy_delta=0.0, latency_ms_median=0.1,
                  tflite_path=f"/srv/ws/sessions/abc123/runs/r1/{spec}/model.tflite").to_dict()


def make_run(folder, results_json=True, finished=True, model="digits-cnn"):
    """A two-technique run (float32, float16), finished unless told otherwise."""
    folder.mkdir(parents=True)
    store.write_json_atomic(folder / store.REQUEST, {"model": model, "techniques": ["float16"],
                                                     "data": None, "settings": []})
    events = [make_event(EventType.RUN_STARTED, model=model, techniques=list(SPECS))]
    for spec, size in zip(SPECS, (4000, 2000)):
        events.append(make_event(EventType.JOB_STARTED, spec))
        events.append(make_event(EventType.RESULT, spec, result=result(spec, size)))
    if finished:
        events.append(make_event(EventType.RUN_FINISHED, status="finished"))
    (folder / store.EVENTS).write_text("".join(json.dumps(e) + "\n" for e in events))
    if results_json:
        store.write_results(folder, model, [result(s, n) for s, n in zip(SPECS, (4000, 2000))])
    return folder
