"""The Run page of a queued run: its place in the queue, the estimated wait, wait vs work."""
from __future__ import annotations

import json

from app_helpers import goto, new_app

from optimizer import RunRequest, new_run_id, paths
from optimizer.artifacts import store
from optimizer.artifacts.events import EventType, make_event


def test_a_queued_run_shows_its_place_and_estimated_wait():
    token = "queue-page-token-aaaaaaaaaaaa"
    folder = paths.workspace() / "sessions" / token / "runs" / new_run_id()
    folder.mkdir(parents=True)
    store.write_json_atomic(folder / store.REQUEST, RunRequest(model="digits-cnn").to_dict())
    store.write_pid(folder, 1)
    event = make_event(EventType.QUEUED, message="waiting for a free worker slot: number 3 in "
                                                 "the queue, about 40 s", position=3, wait_s=40.0)
    (folder / store.EVENTS).write_text(json.dumps(event) + "\n")
    with store.RunLock(folder):                       # its orchestrator is alive, waiting
        at = new_app(session_id=token, run_dir=str(folder))
        goto(at, "pages/run.py")
        assert not at.exception
        progress = at.get("progress")[0].proto.text
        assert "Queued: number 3 in the queue, about 40 s to wait" in progress
        assert "waited" in progress
        assert any("number 3 in the queue" in i.value for i in at.info)
