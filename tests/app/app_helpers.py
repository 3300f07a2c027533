"""Helpers for the AppTest tests: a fresh app, page switching, finding buttons."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 120          # AppTest's default of 3 s is far too short for a first plotly import
RUN_DEADLINE_S = 900   # a loaded 2-core machine; a quiet one needs well under a minute
RUN_SPECS = ["dynamic_range", "integer"]


def new_app(**state) -> AppTest:
    """A fresh app (one browser session) with some session-state values preset."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    return at


def goto(at: AppTest, script: str) -> AppTest:
    """Run the app once (so st.navigation registers the pages), then open ``script``."""
    if not at._tree:          # noqa: SLF001 - AppTest has no public "has run" flag
        at.run()
    return at.switch_page(script).run()


def button(at: AppTest, label: str):
    """The button (or form submit button) with this label."""
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button '{label}'; have {[b.label for b in at.button]}"
    return matches[0]


def start_and_wait(at: AppTest) -> Path:
    """Click the Run page's "Start the run" and wait until the run is done; its folder."""
    import time

    from optimizer import read_run

    button(at, "Start the run").click().run()
    assert not at.exception, at.exception
    run_dir = Path(at.session_state["run_dir"])
    deadline = time.time() + RUN_DEADLINE_S
    while not read_run(run_dir).done and time.time() < deadline:
        time.sleep(2)
    return run_dir

