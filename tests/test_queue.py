"""The fair queue: slots go out first come, first served, with places and estimated waits; one
workspace cannot fill the queue; work time and wait time are told apart. No TensorFlow."""
from __future__ import annotations

import json
import threading
import time

import pytest

from optimizer import queueing
from optimizer.artifacts import history, store
from optimizer.artifacts.events import EventType, make_event
from optimizer.runs import slots
from optimizer.runs.background import read_run, start_run
from optimizer.runs.request import RunRequest


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("OPTIMIZER_MAX_JOBS", "1")
    return tmp_path / "ws"


def test_six_sessions_are_served_in_arrival_order_with_their_places():
    served, seen = [], {}
    holder = queueing.slot("run", 1)
    holder.__enter__()                       # someone's run holds the only slot

    def session(name):
        def told(message, position, wait_s):
            seen.setdefault(name, []).append(position)

        with slots.worker_slot(on_wait=told, poll_seconds=0.01):
            served.append(name)
            time.sleep(0.02)

    threads = []
    for number in range(6):                  # they arrive one after the other
        thread = threading.Thread(target=session, args=(f"s{number}",))
        thread.start()
        threads.append(thread)
        deadline = time.time() + 30          # it has taken its ticket and been told its place
        while f"s{number}" not in seen and time.time() < deadline:
            time.sleep(0.005)
    assert [seen[f"s{n}"][0] for n in range(6)] == [1, 2, 3, 4, 5, 6]
    holder.__exit__(None, None, None)
    for thread in threads:
        thread.join(20)
    assert served == [f"s{n}" for n in range(6)]
    assert all(places == sorted(places, reverse=True) for places in seen.values())
    assert queueing.live_tickets("run") == []


def test_a_dead_waiters_ticket_is_dropped(workspace):
    stale = queueing.queue_dir("run") / "00000000000000000001-1-dead.json"
    stale.write_text(json.dumps({"t": 1}))   # nobody holds its lock: its process is gone
    assert queueing.live_tickets("run") == [] and not stale.exists()
    with slots.worker_slot(poll_seconds=0.01) as index:
        assert index == 0


def test_the_wait_is_estimated_from_measured_work_times():
    message, estimate = slots.wait_message(3, 1, None, 0)
    assert estimate is None and "number 3 in the queue" in message
    for i, work in enumerate((10.0, 20.0)):
        history.upsert_run({"id": f"r{i}", "kind": "run", "status": "finished",
                            "folder": f"/r{i}", "queued_at": 0.0, "started_at": 100.0,
                            "finished_at": 100.0 + work})
    mean, runs = slots.typical_work_s()
    assert (mean, runs) == (15.0, 2)
    message, estimate = slots.wait_message(3, 2, mean, runs)
    assert estimate == 30.0 and "about 30 s" in message


def _queued_run(folder, t0=1000.0):
    folder.mkdir(parents=True)
    store.write_json_atomic(folder / store.REQUEST, RunRequest(model="digits-cnn").to_dict())
    store.write_pid(folder, 1)
    event = make_event(EventType.QUEUED, message="waiting", position=2, wait_s=30.0)
    (folder / store.EVENTS).write_text(json.dumps({**event, "t": t0}) + "\n")
    return folder


def test_a_queued_run_shows_its_place_and_wait(tmp_path):
    folder = _queued_run(tmp_path / "runs" / "a")
    with store.RunLock(folder):
        run = read_run(folder)
    assert run.status == "queued" and run.queue_position == 2 and run.wait_estimate_s == 30.0
    assert run.work_s == 0.0 and run.wait_s > 0


def test_work_time_and_wait_time_are_separate(tmp_path):
    folder = _queued_run(tmp_path / "r")
    with open(folder / store.EVENTS, "a") as f:
        for kind, t in ((EventType.RUN_STARTED, 1050.0), (EventType.RUN_FINISHED, 1060.0)):
            f.write(json.dumps({**make_event(kind, status="finished"), "t": t}) + "\n")
    run = read_run(folder)
    assert run.wait_s == pytest.approx(50.0) and run.work_s == pytest.approx(10.0)
    assert run.elapsed_s == pytest.approx(60.0)


def test_one_workspace_cannot_fill_the_queue(tmp_path, monkeypatch):
    runs = tmp_path / "sessions" / "tok" / "runs"
    locks = [store.RunLock(_queued_run(runs / name)).acquire() for name in ("a", "b")]
    try:
        with pytest.raises(ValueError, match="OPTIMIZER_MAX_QUEUED"):
            start_run(RunRequest(model="digits-cnn"), runs / "c")
        assert not (runs / "c").exists()
        monkeypatch.setenv("OPTIMIZER_MAX_QUEUED", "zero")
        with pytest.raises(ValueError, match="whole number"):
            start_run(RunRequest(model="digits-cnn"), runs / "c")
    finally:
        for lock in locks:
            lock.release()
