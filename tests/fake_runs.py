"""A finished run folder written by hand (request with its answers and goals, events, results
and each variant's per-sample predictions), for page, report and CLI tests that must not spend
minutes converting models. The numbers are test data shaped like the digits-cnn run the issue
reported; they are never shown as measurements."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from optimizer import Result, RunRequest
from optimizer.artifacts import predictions, store
from optimizer.artifacts.events import EventLog, EventType

SPECS = ("qat", "float16", "dynamic_range", "integer")
#: Test samples of the hand-written runs (the digits-cnn test split has 450).
SAMPLES = 450
CLASSES = 10


def _r(technique, size, acc, median, p10, p90, **kw):
    return Result(technique=technique, model="digits-cnn", size_bytes=size, gzip_bytes=size - 9,
                  accuracy=acc, latency_ms_median=median, latency_ms_p10=p10,
                  latency_ms_p90=p90, latency_threads=1, latency_kernels="XNNPACK",
                  input_dtype="float32", output_dtype="float32", engine="tflite-converter",
                  measured_on="test host (2 cores)", **kw)


def digits_rows() -> list[Result]:
    """float32 (442 of 450 right), qat (440: lost 0.444 points, 2 samples, slower), float16
    and dynamic_range (442, equal latency), integer (441: lost 0.222, faster)."""
    rows = [
        _r("float32", 100_000, 442 / SAMPLES, 0.0020, 0.0019, 0.0021),
        _r("qat", 31_000, 440 / SAMPLES, 0.0030, 0.0029, 0.0032),
        _r("float16", 52_000, 442 / SAMPLES, 0.0020, 0.0019, 0.0022),
        _r("dynamic_range", 27_000, 442 / SAMPLES, 0.0020, 0.0018, 0.0021),
        _r("integer", 29_000, 441 / SAMPLES, 0.0012, 0.0011, 0.0013),
    ]
    for r in rows:
        r.accuracy_delta = r.accuracy - rows[0].accuracy
    return rows


def attach_predictions(rows, run_dir: Path | str, wrong: dict | None = None,
                       samples: int = SAMPLES) -> list[Result]:
    """Give each row per-sample predictions on ``samples`` test samples, kept in its folder as
    a run keeps them: ``wrong[technique]`` is the number of samples it gets wrong (the first
    ones, so a variant wrong on more samples than float32 is wrong on float32's too) or a set
    of sample indices; by default what its ``accuracy`` says. The rows' accuracy, interval and
    paired change against float32 are then computed by the library (``predictions.measured``)."""
    run_dir = Path(run_dir)
    truth = np.arange(samples, dtype=np.int32) % CLASSES
    wrong = dict(wrong or {})
    preds = {}
    for r in rows:
        if not r.ok or r.accuracy is None and r.technique not in wrong:
            continue
        miss = wrong.get(r.technique, round((1 - r.accuracy) * samples))
        index = sorted(miss) if isinstance(miss, (set, list, tuple)) else list(range(int(miss)))
        pred = truth.copy()
        pred[index] = (truth[index] + 1) % CLASSES
        preds[r.technique] = pred
    base = preds.get("float32")
    for r in rows:
        if r.technique not in preds:
            continue
        # beside the row's file (a test may have put a real one there), else in its folder
        tflite = Path(r.tflite_path) if r.tflite_path else \
            store.spec_dir(run_dir, r.technique) / store.TFLITE
        predictions.save(tflite.parent, preds[r.technique],
                         truth=truth if r.technique == "float32" else None)
        if not tflite.exists():
            tflite.write_bytes(b"")
        r.tflite_path = str(tflite)
        stats = predictions.measured(preds[r.technique], truth, "accuracy",
                                     None if r.technique == "float32" else base)
        r.accuracy = float(np.mean(preds[r.technique] == truth))
        r.samples, r.accuracy_ci = stats["samples"], stats["accuracy_ci"]
        r.accuracy_delta = stats["accuracy_delta"]
    return rows


def write_run(run_dir: Path | str, rows=None, answers=None, goals=None, wrong=None) -> Path:
    """A finished run in ``run_dir`` with ``rows`` (default ``digits_rows()``, with per-sample
    predictions as ``attach_predictions`` makes them from ``wrong``) and, when given, the
    answers and goals (``Answers`` / ``Goals``) it was made for."""
    run_dir = Path(run_dir)
    rows = digits_rows() if rows is None else rows
    run_dir.mkdir(parents=True, exist_ok=True)
    attach_predictions(rows, run_dir, wrong)
    target = answers.target if answers else (goals.target.target if goals and goals.target
                                              else None)
    request = RunRequest.from_goals(goals, target, model="digits-cnn", answers=answers,
                                    techniques=[r.technique for r in rows[1:]])
    store.write_json_atomic(run_dir / store.REQUEST, request.to_dict())
    log = EventLog(run_dir / store.EVENTS)
    log.emit(EventType.RUN_STARTED, model="digits-cnn", techniques=[r.technique for r in rows])
    store.write_results(run_dir, "digits-cnn", rows)
    log.emit(EventType.RUN_FINISHED, status="finished", error=None, message="ok")
    return run_dir


def graph_ready_run(file_for=None, **write) -> tuple[str, Path]:
    """(owner, folder): a new session's recorded run of ``digits_rows`` whose variants have real
    ``.tflite`` files (a small mixed model) and kernels, as the Graph page reads them;
    ``file_for`` points a technique at another file; ``write`` goes to ``write_run``."""
    import secrets

    from tflite_builder import mixed_model

    from optimizer import paths
    from optimizer.workspace.index import record

    owner = secrets.token_urlsafe(16)
    folder = paths.workspace() / "sessions" / owner / "runs" / (
        "20261201-120000-" + secrets.token_hex(16))
    rows = write.pop("rows", None) or digits_rows()
    for row in rows:
        path = folder / row.technique / "model.tflite"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(mixed_model())
        row.tflite_path = str((file_for or {}).get(row.technique, path))
        row.latency_op_kernels = ["XNNPACK"] * 5 + ["builtin"]
    write_run(folder, rows, **write)
    record(folder)
    return owner, folder

