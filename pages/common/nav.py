"""The journey's pages in order, and the "what to do next" buttons every page ends with.

``app.py`` builds ``st.navigation`` from ``sections()``. Other ways in (an upload page, a
goal-driven search) join as more sections here without changing the journey pages.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class PageInfo:
    """One page: its script (relative to app.py), title and URL path.

    The URL path equals the file name (see ``boot``). Pages have no icons: a Material page
    icon makes the browser fetch a favicon from fonts.gstatic.com (fails offline) and emoji
    need an emoji font that minimal Linux browsers lack; the step number says enough.
    """

    script: str
    title: str
    url: str


MODEL = PageInfo("pages/model.py", "Model", "model")
SITUATION = PageInfo("pages/situation.py", "Your situation", "situation")
RECOMMENDATION = PageInfo("pages/recommendation.py", "Recommendation", "recommendation")
RUN = PageInfo("pages/run.py", "Run", "run")
RESULTS = PageInfo("pages/results.py", "Results", "results")

JOURNEY = (MODEL, SITUATION, RECOMMENDATION, RUN, RESULTS)

SEARCH = PageInfo("pages/search.py", "Search my goals", "search")
LAYERS = PageInfo("pages/layers.py", "Per-layer repair", "layers")
GRAPH = PageInfo("pages/graph.py", "Graph", "graph")
MY_RUNS = PageInfo("pages/my_runs.py", "My runs", "my_runs")
LEARN = PageInfo("pages/learn.py", "Learn: the guide", "learn")
#: Pages beside the journey: the goal-driven search, its per-layer int8 repair, the model's
#: graph, every run and search of this workspace, and the guide.
FURTHER = (SEARCH, LAYERS, GRAPH, MY_RUNS, LEARN)


def sections() -> dict:
    """``{section title: [st.Page, ...]}`` for ``st.navigation``; the Model page is the default."""
    journey = [st.Page(p.script, title=f"{i}. {p.title}", url_path=p.url, default=(p is MODEL))
               for i, p in enumerate(JOURNEY, start=1)]
    further = [st.Page(p.script, title=p.title, url_path=p.url) for p in FURTHER]
    return {"The journey": journey, "Go further": further}


def step_number(page: PageInfo) -> int:
    return JOURNEY.index(page) + 1


def go(page: PageInfo) -> None:
    """Switch to another page of the app, keeping the workspace token in the URL (``?w=``)."""
    from . import state

    token = st.session_state.get(state.SESSION_ID)
    st.switch_page(page.script, query_params={state.TOKEN_PARAM: token} if token else None)


def next_button(page: PageInfo, label: str, key: str, primary: bool = True,
                disabled: bool = False) -> None:
    """A button that moves on to ``page``; used at the end of every page (no dead ends)."""
    if st.button(label, key=key, type="primary" if primary else "secondary",
                 icon=":material/arrow_forward:", icon_position="right", disabled=disabled):
        go(page)


def back_button(page: PageInfo, label: str, key: str) -> None:
    """A quiet button back to an earlier step."""
    if st.button(label, key=key, type="tertiary", icon=":material/arrow_back:"):
        go(page)
