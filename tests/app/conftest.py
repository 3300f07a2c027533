"""AppTest fixtures: a fresh app per test, empty Streamlit caches, one real finished run.

AppTest runs the app in this process; the session workspace from tests/conftest.py
(OPTIMIZER_WORKSPACE) is where its runs go. ``finished_run`` starts one real run of
digits-cnn from the Run page's button and waits for it, so the Results tests read what the
engine actually measured.
"""
from __future__ import annotations

import pytest
from app_helpers import RUN_SPECS, goto, new_app, start_and_wait


@pytest.fixture(scope="session", autouse=True)
def _navigation_app_mode():
    """Run every AppTest run as the plain st.navigation app a real server settles into.

    AppTest resets Streamlit's process-wide "pages/ folder" flag before *each* run, so each run
    would start in the folder emulation and ``boot.ensure_app_navigation`` would spend the
    run's widget clicks on its corrective rerun (see pages/common/boot.py). A real server
    clears the flag once, on its first run, and keeps it clear.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import app_test

    class NavigationPagesManager(PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    app_test.PagesManager = NavigationPagesManager
    yield
    app_test.PagesManager = PagesManager
    PagesManager.uses_pages_directory = None


@pytest.fixture(autouse=True)
def _fresh_caches():
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.fixture(scope="session")
def finished_run():
    """(session id, run folder) of a digits-cnn run started from the Run page and finished."""
    from optimizer import read_run

    at = new_app(session_id="apptest-run", run_specs=list(RUN_SPECS))
    goto(at, "pages/run.py")
    run_dir = start_and_wait(at)
    state = read_run(run_dir)
    assert state.status == "finished", (state.status, state.error,
                                        (run_dir / "run.log").read_text()[-2000:])
    return "apptest-run", run_dir
