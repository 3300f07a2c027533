"""Results as they arrive: the Run page draws the variants measured so far while the run goes
on, their latency marked as not timed yet, and the complete results once it ends. Synthetic
run folders in the shapes a real run writes (no TensorFlow)."""
from __future__ import annotations

import json

import pytest
from app_helpers import goto, new_app

from optimizer import new_run_id, paths, read_run
from optimizer.artifacts import store
from optimizer.artifacts.events import EventLog, EventType
from optimizer.guide.schema import Result
from optimizer.guide.stats import Paired
from optimizer.guide.verdicts import STATE_CELLS, GoalState
from optimizer.report.table import LATENCY_PENDING
from optimizer.runs.request import RunRequest

pytestmark = pytest.mark.cost(15)

TOKEN = "live-results-token-aaaaaa"


def _measured(spec: str, size: int, latency: float | None = None) -> dict:
    """A result as a job writes it: the metric with its interval, the paired test against
    float32 (``accuracy_delta``'s record), sizes, and the latency once it is timed."""
    return Result(technique=spec, model="digits-cnn", size_bytes=size, gzip_bytes=size // 2,
                  accuracy=0.95, accuracy_ci=[0.93, 0.97], samples=450,
                  accuracy_delta=Paired(0.0, (-0.01, 0.01), 1.0, 450, 0, 0).to_dict(),
                  latency_ms_median=latency, latency_ms_p10=latency,
                  latency_ms_p90=latency).to_dict()


@pytest.fixture
def running():
    """A run still going (its lock held): float32 and float16 measured, latency not timed,
    QAT fine-tuning."""
    folder = paths.workspace() / "sessions" / TOKEN / "runs" / new_run_id()
    folder.mkdir(parents=True)
    # judged by the run's own goals, a latency goal among them
    store.write_json_atomic(folder / store.REQUEST, RunRequest(
        model="digits-cnn", techniques=("float16", "qat"), max_accuracy_drop=0.02,
        max_latency_ms=1.0).to_dict())
    log = EventLog(folder / store.EVENTS)
    log.emit(EventType.RUN_STARTED, model="digits-cnn", techniques=["float32", "float16", "qat"])
    for spec, size in (("float32", 4000), ("float16", 2000)):
        log.emit(EventType.JOB_STARTED, spec)
        log.emit(EventType.MEASURED, spec, result=_measured(spec, size), latency="pending")
    log.emit(EventType.JOB_STARTED, "qat")
    log.emit(EventType.PROGRESS, "qat", step="fine-tune (QAT)", fraction=0.4)
    lock = store.RunLock(folder).acquire()
    yield folder, log, lock
    lock.release()


def _key_table(at) -> str:
    return next((h.proto.body for h in at.get("html") if "key-table" in h.proto.body), "")


def _charts(at) -> list[str]:
    return [c.proto.id for c in at.get("plotly_chart")]


def test_the_first_variants_are_drawn_while_the_run_goes_on(running):
    folder, log, lock = running
    state = read_run(folder)
    assert state.status == "running"
    by = {r.technique: r for r in state.results}
    assert set(by) == {"float32", "float16"} and all(r.latency_pending for r in by.values())
    assert state.progress["float16"].state == "running"     # not done until its latency is

    at = goto(new_app(session_id=TOKEN, run_dir=str(folder)), "pages/run.py")
    assert not at.exception, at.exception
    assert any(i.endswith("run_preview_live") or "run_preview_live" in i for i in _charts(at))
    chart = json.loads(next(c for c in at.get("plotly_chart")
                            if "run_preview_live" in c.proto.id).proto.spec)
    assert "float16" in [t.get("name") for t in chart["data"]]
    table = _key_table(at)
    assert "float16" in table and LATENCY_PENDING in table    # measured, latency to come
    # its latency goal waits for the latency: not checked yet, never "missed"
    assert STATE_CELLS[GoalState.NOT_CHECKED] in table
    assert STATE_CELLS[GoalState.MISSED] not in table
    assert "(93.0–97.0)" in table                              # the metric with its interval
    assert "qat" not in table                                  # not measured yet


def test_latency_shows_once_it_is_timed_and_the_final_page_replaces_the_live_one(running):
    folder, log, lock = running
    timed = [_measured("float32", 4000, 0.2), _measured("float16", 2000, 0.19),
             _measured("qat", 1000, 0.1)]
    for result in timed:
        log.emit(EventType.RESULT, result["technique"], result=result)
    store.write_results(folder, "digits-cnn", [Result.from_dict(r) for r in timed])
    log.emit(EventType.RUN_FINISHED, status="finished")
    state = read_run(folder)
    assert state.status == "finished" and not any(r.latency_pending for r in state.results)

    at = goto(new_app(session_id=TOKEN, run_dir=str(folder)), "pages/run.py")
    assert not at.exception, at.exception
    ids = _charts(at)
    assert any("run_preview" in i and "live" not in i for i in ids), ids
    assert not any("run_preview_live" in i for i in ids)
    assert LATENCY_PENDING not in _key_table(at)


def test_a_measured_result_of_a_stopped_run_keeps_its_numbers_and_says_latency_was_not_timed(
        running):
    folder, log, lock = running
    log.emit(EventType.ERROR, message="killed")
    lock.release()                           # the orchestrator died
    state = read_run(folder)
    assert state.done
    f16 = state.result("float16")
    assert f16.ok and f16.size_bytes == 2000 and not f16.latency_pending
    assert any("latency not measured" in n for n in f16.notes)
    assert state.result("qat").status == "error"
