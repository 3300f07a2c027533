"""The Run page's buttons say what they do: "Run again" measures again (no cache), "Open the
cached result" opens an identical run measured before. Synthetic run folders; the start of
a run is recorded, not performed (no TensorFlow)."""
from __future__ import annotations

import re

import pytest
from app_helpers import button, goto, new_app
from run_folders import make_run

from optimizer import new_run_id, paths, read_run
from optimizer.artifacts import store
from pages.common import runs

pytestmark = pytest.mark.cost(20)

OFFER = {"measured_at": "2026-12-01T10:00:00+0000", "measured_on": "Test CPU, 2 logical cores",
         "cache_key": "k-offered"}


@pytest.fixture
def started(monkeypatch):
    """Every start_run the pages make: (request, use_cache); the folder gets a queued run."""
    calls = []

    def start_run(request, run_dir, use_cache=True):
        calls.append((request, use_cache))
        run_dir.mkdir(parents=True)
        store.write_json_atomic(run_dir / store.REQUEST, request.to_dict())
        return run_dir

    monkeypatch.setattr(runs, "start_run", start_run)
    return calls


def _offer(monkeypatch, offer):
    monkeypatch.setattr(runs, "cached_result", lambda request: offer)


def _finished(token: str, key: str = "k-shown"):
    folder = make_run(paths.workspace() / "sessions" / token / "runs" / new_run_id())
    store.add_to_results(folder / store.RESULTS, cache_key=key)
    return folder


def _labels(at) -> list[str]:
    return [b.label for b in at.button]


def test_run_again_measures_again(started, monkeypatch):
    _offer(monkeypatch, None)
    folder = _finished("buttons-token-aaaaaaaaaaaa")
    at = goto(new_app(session_id="buttons-token-aaaaaaaaaaaa", run_dir=str(folder),
                      run_specs=["float16"]), "pages/run.py")
    assert not at.exception
    assert "Run again" in _labels(at) and "Measure again" not in _labels(at)
    assert "Open the cached result" not in _labels(at)        # nothing else cached
    button(at, "Run again").click().run()
    assert [use for _, use in started] == [False]             # the cache is not used


def test_a_cached_run_is_opened_only_by_the_button_that_says_so(started, monkeypatch):
    _offer(monkeypatch, OFFER)
    folder = _finished("buttons-token-bbbbbbbbbbbb")
    at = goto(new_app(session_id="buttons-token-bbbbbbbbbbbb", run_dir=str(folder),
                      run_specs=["float16"]), "pages/run.py")
    assert {"Run again", "Open the cached result"} <= set(_labels(at))
    captions = [re.sub(r"\\(.)", r"\1", c.value) for c in at.caption]     # as rendered
    assert any("measured at 2026-12-01T10:00:00+0000 on Test CPU" in c for c in captions)
    button(at, "Open the cached result").click().run()
    assert [use for _, use in started] == [True]


def test_the_shown_run_is_not_offered_as_its_own_cached_result(started, monkeypatch):
    _offer(monkeypatch, {**OFFER, "cache_key": "k-same"})
    folder = _finished("buttons-token-cccccccccccc", key="k-same")
    assert read_run(folder).extra["cache_key"] == "k-same"
    at = goto(new_app(session_id="buttons-token-cccccccccccc", run_dir=str(folder),
                      run_specs=["float16"]), "pages/run.py")
    assert "Run again" in _labels(at) and "Open the cached result" not in _labels(at)


def test_before_a_run_the_cached_result_and_a_new_measurement_are_two_buttons(started,
                                                                               monkeypatch):
    _offer(monkeypatch, OFFER)
    at = goto(new_app(session_id="buttons-token-dddddddddddd", run_specs=["float16"]),
              "pages/run.py")
    assert _labels(at)[:2] == ["Open the cached result", "Start the run"]
    assert any("Open the cached result" in i.value for i in at.info)
    button(at, "Start the run").click().run()
    assert [use for _, use in started] == [False]             # it says start a run: it measures
    _offer(monkeypatch, None)
    at = goto(new_app(session_id="buttons-token-eeeeeeeeeeee", run_specs=["float16"]),
              "pages/run.py")
    assert _labels(at)[0] == "Start the run" and "Open the cached result" not in _labels(at)
    button(at, "Start the run").click().run()
    assert [use for _, use in started] == [False, True]       # shares a run being measured now


def test_the_recommendation_run_button_starts_the_run_then_shows_it(started, monkeypatch):
    _offer(monkeypatch, None)
    at = goto(new_app(session_id="buttons-token-dddddddddddd"), "pages/recommendation.py")
    run = next(b for b in at.button if re.match(r"^Run \d+ models now", b.label))
    run.click().run()
    assert not at.exception, at.exception
    assert len(started) == 1 and started[0][1] is True          # one run, the cache allowed
    assert list(started[0][0].techniques) == at.session_state["run_specs"]
    assert at.title[0].value == "Run"                           # moved straight on to Run
    assert at.session_state["run_dir"]


def test_a_run_that_cannot_start_says_why_on_the_recommendation_page(monkeypatch):
    def refuse(request, run_dir, use_cache=True):
        raise ValueError("you already have 2 run(s) waiting in the queue; wait for one")

    monkeypatch.setattr(runs, "start_run", refuse)
    _offer(monkeypatch, None)
    at = goto(new_app(session_id="buttons-token-eeeeeeeeeeee"), "pages/recommendation.py")
    next(b for b in at.button if re.match(r"^Run \d+ models now", b.label)).click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Recommendation"
    assert any("waiting in the queue" in e.value for e in at.error)
