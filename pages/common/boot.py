"""Make sure the app runs as a plain ``st.navigation`` app, never in the pages/-folder mode.

Streamlit treats an app with a ``pages/`` folder as an old-style multipage app until the
entry point calls ``st.navigation``: a process-wide flag starts True, and while it is True
each run goes through Streamlit's folder emulation. Measured with Streamlit 1.67:
- the first session after a server start that opens a deep link (``/results``) gets the
  folder-based pages: ``app.py`` does not run (no wide layout, no session defaults, a
  sidebar listing every file);
- a run that went through the emulation (``app.py`` nested inside it) loses the button
  click of the next run, because the page identity changes between the two runs (AppTest
  starts every run this way).
``ensure_app_navigation`` (called first by ``app.py`` and by every page) clears the flag and
reruns, so ``app.py`` runs directly and ``st.navigation`` opens the same page: the page
hashes match because each ``st.Page`` url_path equals its file name.
"""
from __future__ import annotations

import streamlit as st


def ensure_app_navigation() -> None:
    """Rerun through app.py when Streamlit started this page without it (see module doc)."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without this class has no such mode either
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
