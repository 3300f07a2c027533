"""A search as a background process: read live from its folder, stopped keeping its trials,
then analysed per layer; everything rebuilt from the folder alone."""
from __future__ import annotations

import time

import pytest

from optimizer.artifacts import store
from optimizer.search.background import (
    list_searches,
    read_search,
    start_repair,
    start_search,
    stop_search,
)
from optimizer.search.request import SearchRequest

pytestmark = pytest.mark.cost(35)

DEADLINE_S = 900


def _until(predicate, what: str):
    deadline = time.time() + DEADLINE_S
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def test_reading_a_folder_without_a_search(tmp_path):
    state = read_search(tmp_path)
    assert state.status == "failed" and state.outcome is None and state.done
    assert list_searches(tmp_path / "missing") == []
    with pytest.raises(ValueError, match="measured nothing"):
        start_repair(tmp_path, analyse=True)
    assert stop_search(tmp_path) is False


def test_start_refuses_a_used_folder_and_an_unknown_model(tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / store.EVENTS).write_text("")
    with pytest.raises(ValueError, match="already holds"):
        start_search(SearchRequest(model="digits-cnn"), tmp_path / "used")
    with pytest.raises(ValueError, match="unknown model"):
        start_search(SearchRequest(model="no-such-model"), tmp_path / "new")


@pytest.mark.slow
def test_a_background_search_is_stopped_keeps_its_trials_and_can_be_analysed(tmp_path):
    folder = tmp_path / "search"
    start_search(SearchRequest(model="digits-cnn", target="cpu", max_accuracy_drop=0.01,
                               size_measure="gzip", time_budget_s=900), folder)
    first = read_search(folder)
    assert first.status in ("queued", "running") and not first.done
    # the post-training batch (baseline + 5 variants) lands while the search goes on
    live = _until(lambda: (s := read_search(folder)).outcome and len(s.outcome.trials) >= 6
                  and not s.done and s, "the first trials")
    assert live.outcome.status == "running" and live.outcome.trials[0].technique == "float32"
    with pytest.raises(ValueError, match="still running"):
        start_repair(folder, analyse=True)
    assert stop_search(folder, wait_s=60) is True
    stopped = read_search(folder)
    assert stopped.done and stopped.status == "stopped"
    assert stopped.outcome.stopped == "stopped by the user"
    assert len(stopped.outcome.trials) >= 6 and stopped.outcome.best is not None
    assert not store.RunLock.is_held(folder)
    assert store.read_results(folder)[0].technique == "float32"   # like a run, on disk

    start_repair(folder, analyse=True)
    busy = read_search(folder)
    assert busy.busy and not busy.done           # a repair runs on the finished search
    done = _until(lambda: (s := read_search(folder)).done and s, "the analysis")
    report = done.outcome.layer_reports[-1]
    assert report["mode"] == "analyse" and report["trial"] is None
    assert len(done.outcome.trials) == len(stopped.outcome.trials)   # analysis adds no trial
    assert [s.run_dir for s in list_searches(tmp_path)] == [folder.resolve()]
