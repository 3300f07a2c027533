"""The Search and Per-layer repair pages' pieces: the goals form, starting a search, live views.

Thin: a search runs as a background process (``optimizer.search.background``); this module turns the
form into a ``SearchRequest``, remembers the search folder in session state and renders what
``read_search`` finds on disk. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import streamlit as st

from optimizer import numbers, results_frame
from optimizer.report import accuracy_latency_figure, skipped_table, trials_figure, trials_table
from optimizer.search import (
    SearchRequest,
    list_searches,
    post_training_specs,
    read_search,
    start_search,
)

from . import layout, state
from .table import MISSING

POLL_S = 1.5
STATUS = {"queued": "Queued: waiting for a free worker slot", "running": "Running",
          "finished": "Finished", "stopped": "Stopped (what it found is kept)",
          "failed": "Failed", "cancelled": "Cancelled"}
# The numbers arrive rounded as optimizer.numbers writes them (trials_table); latency is text
# ("4.12 µs"), since a fixed "%.3f" column wrote every int8 trial as "0.004 ms".
TABLE_CONFIG = {
    "Trial": st.column_config.TextColumn("Trial", pinned=True, width="medium"),
    "Accuracy": st.column_config.NumberColumn("Accuracy", format="plain"),
    "Size (kB)": st.column_config.NumberColumn("Size (kB)", format="plain"),
    "gzip (kB)": st.column_config.NumberColumn("gzip (kB)", format="plain"),
    "x smaller": st.column_config.NumberColumn("x smaller", format="plain"),
    "Latency median": st.column_config.TextColumn("Latency median", help="µs below 0.1 ms"),
    "Note": st.column_config.TextColumn("Note", width="large"),
}


#: What a search tries: every technique the target allows, or the post-training conversions
#: only (no fine-tuning; int8 that misses the budget is still repaired per layer).
SCOPES = {"all": "every technique the target allows",
          "post-training": "post-training only (no fine-tuning)"}


def request_from_form(target: str, goals, minutes: float, gzip: bool = False,
                      objective: str = "size", scope: str = "all") -> SearchRequest:
    """The session model's search for ``target`` under ``goals`` (``optimizer.Goals``) within
    ``minutes``; ``gzip`` makes it minimize (and judge) the download size, not bytes on disk;
    ``objective`` picks the smallest or the most accurate model that meets the goals;
    ``scope`` (``SCOPES``) restricts it to the post-training conversions."""
    techniques = post_training_specs(target) if scope == "post-training" else ()
    return SearchRequest.from_goals(goals, target, model=state.get(state.MODEL),
                                    data=state.get(state.DATA),
                                    size_measure="gzip" if gzip else "raw",
                                    time_budget_s=float(minutes) * 60.0, objective=objective,
                                    techniques=techniques)


def launch(request: SearchRequest) -> Path:
    """Start ``request`` in a new folder of this session and remember it."""
    folder = state.searches_dir() / (time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6])
    run_dir = start_search(request, folder)
    state.put(state.SEARCH_DIR, str(run_dir))
    return run_dir


def current():
    """The ``SearchState`` this session looks at (its latest search when none was chosen)."""
    chosen = state.get(state.SEARCH_DIR)
    if chosen and Path(chosen).exists():
        return read_search(chosen)
    found = list_searches(state.searches_dir())
    if found:
        state.put(state.SEARCH_DIR, str(found[0].run_dir))
        return found[0]
    return None


def status_line(search) -> str:
    """e.g. "digits-cnn · Running · 42 s · 7 trials · qat: fine-tune (QAT) epoch 1/2"."""
    outcome = search.outcome
    count = len(outcome.trials) if outcome else 0
    parts = [search.model or "?", STATUS.get(search.status, search.status),
             numbers.seconds(search.elapsed_s), f"{count} trial{'s' if count != 1 else ''}"]
    if search.current:
        parts.append(search.current)
    return " · ".join(parts)


def budget_line(search) -> str:
    """What was asked, in words."""
    r = search.request
    if r is None:
        return ""
    drop = (f"{numbers.plain(r.max_accuracy_drop * 100)} % of the baseline" if r.relative
            else f"{numbers.plain(r.max_accuracy_drop * 100)} points")
    size = ""
    if r.max_size_bytes:
        size = f", at most {numbers.size(r.max_size_bytes)}"
    elif r.max_size_ratio:
        size = f", at least {numbers.plain(numbers.round_sig(1 / r.max_size_ratio))}x smaller"
    latency = f", at most {numbers.ms(r.max_latency_ms)}" if r.max_latency_ms else ""
    measure = "gzip (download) size" if r.size_measure == "gzip" else "size on disk"
    return (f"Target **{r.target.value}** · accuracy drop at most **{drop}**{size}{latency} · "
            f"smallest **{measure}** · time budget "
            f"**{numbers.plain(numbers.round_sig(r.time_budget_s / 60))} min**")


def render_trials(search, key: str) -> None:
    """The trials chart, the latency chart and the table of every trial so far."""
    outcome = search.outcome
    if outcome is None or not outcome.trials:
        st.caption("The float32 baseline and the post-training variants come first; trials "
                   "appear here as they are measured.")
        return
    left, right = st.columns(2, gap="medium")
    with left:
        st.plotly_chart(trials_figure(outcome), key=f"{key}_front")
    with right:
        frame = results_frame(outcome.trials)
        st.plotly_chart(accuracy_latency_figure(frame), key=f"{key}_latency")
    st.dataframe(trials_table(outcome), hide_index=True, placeholder=MISSING, width="stretch",
                 column_config=TABLE_CONFIG, key=f"{key}_table")


def render_verdict(search) -> None:
    """The best trial and why it won (or what came closest), the front, skips and notes."""
    outcome = search.outcome
    if search.error and (outcome is None or not outcome.trials):
        st.error(f"**The search failed:** {layout.plain(search.error)}", icon=":material/error:")
        return
    if outcome is None:
        return
    box = st.success if outcome.goal_met else st.warning
    box(layout.plain(outcome.explanation), icon=":material/emoji_events:" if outcome.goal_met
        else ":material/search_off:")
    if outcome.pareto:
        st.markdown("**Pareto front** (nothing else is better on accuracy, size and latency "
                    "at once): " + ", ".join(f"`{t}`" for t in outcome.pareto))
    if outcome.skipped:
        with st.expander(f"Not run: {len(outcome.skipped)} candidate(s), and why"):
            st.dataframe(skipped_table(outcome), hide_index=True, placeholder=MISSING, width="stretch",
                         key="search_skipped")
    if outcome.excluded:
        with st.expander(f"Not for this target: {len(outcome.excluded)} technique(s)"):
            st.markdown("\n".join(f"- `{t}`: {layout.plain(why)}" for t, why in outcome.excluded))
    if outcome.notes:
        with st.expander("Notes: time estimates and stops"):
            st.markdown("\n".join(f"- {layout.plain(n)}" for n in outcome.notes))
