"""A finished run folder written by hand (request with its answers and goals, events, results),
for page, report and CLI tests that must not spend minutes converting models. The numbers are test data shaped
like the digits-cnn run the issue reported; they are never shown as measurements."""
from __future__ import annotations

from pathlib import Path

from optimizer import Result, RunRequest
from optimizer.artifacts import store
from optimizer.artifacts.events import EventLog, EventType

SPECS = ("qat", "float16", "dynamic_range", "integer")


def _r(technique, size, acc, median, p10, p90, **kw):
    return Result(technique=technique, model="digits-cnn", size_bytes=size, gzip_bytes=size - 9,
                  accuracy=acc, latency_ms_median=median, latency_ms_p10=p10,
                  latency_ms_p90=p90, latency_threads=1, latency_kernels="XNNPACK",
                  input_dtype="float32", output_dtype="float32", engine="tflite-converter",
                  measured_on="test host (2 cores)", **kw)


def digits_rows() -> list[Result]:
    """float32, qat (lost 0.44 points, slower), float16 and dynamic_range (equal latency),
    integer (lost 0.22, faster)."""
    rows = [
        _r("float32", 100_000, 0.9822, 0.0020, 0.0019, 0.0021),
        _r("qat", 31_000, 0.9778, 0.0030, 0.0029, 0.0032),
        _r("float16", 52_000, 0.9822, 0.0020, 0.0019, 0.0022),
        _r("dynamic_range", 27_000, 0.9822, 0.0020, 0.0018, 0.0021),
        _r("integer", 29_000, 0.9800, 0.0012, 0.0011, 0.0013),
    ]
    for r in rows:
        r.accuracy_delta = r.accuracy - rows[0].accuracy
    return rows


def write_run(run_dir: Path | str, rows=None, answers=None, goals=None) -> Path:
    """A finished run in ``run_dir`` with ``rows`` (default ``digits_rows()``) and, when given,
    the answers and goals (``Answers`` / ``Goals``) it was made for."""
    run_dir = Path(run_dir)
    rows = digits_rows() if rows is None else rows
    run_dir.mkdir(parents=True, exist_ok=True)
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
