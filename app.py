"""LiteRT Optimization Studio: page config, session defaults and navigation -- nothing else.

Run with ``make run`` (or ``streamlit run app.py``). The pages live in ``pages/``; their shared
helpers (state keys, layout, navigation) in ``pages/common/``.
"""
import streamlit as st

from pages.common import access, boot, nav, state

boot.ensure_app_navigation()      # run as a plain st.navigation app, never the pages/-folder mode
st.set_page_config(page_title="LiteRT Optimization Studio", page_icon="🪶", layout="wide",
                   initial_sidebar_state="auto")     # a drawer, closed, on a phone
state.init()
state.remember_in_browser()       # the workspace token in a cookie: a new tab opens the same one
access.gate()                     # only when OPTIMIZER_ACCESS_TOKEN is set: asked once per browser
st.navigation(nav.sections()).run()
