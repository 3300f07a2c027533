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
from optimizer.text import N_, render, tr, tr_plural

from . import layout, state
from .table import MISSING

POLL_S = 1.5
STATUS = {"queued": N_("Queued: waiting for a free worker slot"), "running": N_("Running"),
          "finished": N_("Finished"), "stopped": N_("Stopped (what it found is kept)"),
          "failed": N_("Failed"), "cancelled": N_("Cancelled")}


def status_words(status) -> str:
    """A search's status in the language in use."""
    return tr(STATUS[status]) if status in STATUS else str(status or "")


def _table_config() -> dict:
    """The trials table's columns, keyed by their names in the language in use. The numbers
    arrive rounded as optimizer.numbers writes them (trials_table); latency is text ("4.12
    µs"), since a fixed "%.3f" column wrote every int8 trial as "0.004 ms"."""
    num = st.column_config.NumberColumn
    text = st.column_config.TextColumn
    return {tr("Trial"): text(tr("Trial"), pinned=True, width="medium"),
            tr("Accuracy"): num(tr("Accuracy"), format="plain"),
            tr("Size (kB)"): num(tr("Size (kB)"), format="plain"),
            tr("gzip (kB)"): num(tr("gzip (kB)"), format="plain"),
            tr("x smaller"): num(tr("x smaller"), format="plain"),
            tr("Latency median"): text(tr("Latency median"), help=tr("µs below 0.1 ms")),
            tr("Note"): text(tr("Note"), width="large")}


#: What a search tries: every technique the target allows, or the post-training conversions
#: only (no fine-tuning; int8 that misses the budget is still repaired per layer).
SCOPES = {"all": N_("every technique the target allows"),
          "post-training": N_("post-training only (no fine-tuning)")}


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
    parts = [search.model or "?", status_words(search.status),
             numbers.seconds(search.elapsed_s),
             tr_plural("{count} trial", "{count} trials", count)]
    if search.current:
        parts.append(search.current)
    return " · ".join(parts)


def budget_line(search) -> str:
    """What was asked, in words."""
    r = search.request
    if r is None:
        return ""
    amount = numbers.plain(r.max_accuracy_drop * 100)
    drop = (tr("{amount} % of the baseline", amount=amount) if r.relative
            else tr("{amount} points", amount=amount))
    size = ""
    if r.max_size_bytes:
        size = ", " + tr("at most {size}", size=numbers.size(r.max_size_bytes))
    elif r.max_size_ratio:
        size = ", " + tr("at least {ratio}x smaller",
                         ratio=numbers.plain(numbers.round_sig(1 / r.max_size_ratio)))
    latency = ", " + tr("at most {ms}", ms=numbers.ms(r.max_latency_ms)) \
        if r.max_latency_ms else ""
    measure = tr("gzip (download) size") if r.size_measure == "gzip" else tr("size on disk")
    return tr("Target **{target}** · accuracy drop at most **{drop}**{size}{latency} · "
              "smallest **{measure}** · time budget **{minutes} min**",
              target=r.target.value, drop=drop, size=size, latency=latency, measure=measure,
              minutes=numbers.plain(numbers.round_sig(r.time_budget_s / 60)))


def render_trials(search, key: str) -> None:
    """The trials chart, the latency chart and the table of every trial so far."""
    outcome = search.outcome
    if outcome is None or not outcome.trials:
        st.caption(tr("The float32 baseline and the post-training variants come first; trials "
                      "appear here as they are measured."))
        return
    left, right = st.columns(2, gap="medium")
    with left:
        st.plotly_chart(trials_figure(outcome), key=f"{key}_front")
    with right:
        frame = results_frame(outcome.trials)
        st.plotly_chart(accuracy_latency_figure(frame), key=f"{key}_latency")
    st.dataframe(trials_table(outcome), hide_index=True, placeholder=MISSING, width="stretch",
                 column_config=_table_config(), key=f"{key}_table")


def render_verdict(search) -> None:
    """The best trial and why it won (or what came closest), the front, skips and notes."""
    outcome = search.outcome
    if search.error and (outcome is None or not outcome.trials):
        st.error(tr("**The search failed:** {error}", error=layout.plain(search.error)),
                 icon=":material/error:")
        return
    if outcome is None:
        return
    box = st.success if outcome.goal_met else st.warning
    box(layout.plain(render(outcome.explanation)), icon=":material/emoji_events:" if outcome.goal_met
        else ":material/search_off:")
    if outcome.pareto:
        st.markdown(tr("**Pareto front** (nothing else is better on accuracy, size and latency "
                       "at once): {names}", names=", ".join(f"`{t}`" for t in outcome.pareto)))
    if outcome.skipped:
        with st.expander(tr("Not run: {count} candidate(s), and why",
                            count=len(outcome.skipped))):
            st.dataframe(skipped_table(outcome), hide_index=True, placeholder=MISSING, width="stretch",
                         key="search_skipped")
    if outcome.excluded:
        with st.expander(tr("Not for this target: {count} technique(s)",
                            count=len(outcome.excluded))):
            st.markdown("\n".join(f"- `{t}`: {layout.plain(render(why))}"
                                   for t, why in outcome.excluded))
    if outcome.notes:
        with st.expander(tr("Notes: time estimates and stops")):
            st.markdown("\n".join(f"- {layout.plain(render(n))}" for n in outcome.notes))
