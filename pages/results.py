"""Step 5 · Results: the table against the baseline, trade-off charts, notes and downloads."""
from pathlib import Path

import streamlit as st

from optimizer import BASELINE, numbers, read_run, results_frame, run_data
from optimizer.measuring.latency import host_words
from optimizer.report import (
    accuracy_budget,
    accuracy_latency_figure,
    accuracy_size_figure,
    insights_for,
    key_table_html,
    places_of,
    published_table,
    results_table,
    run_verdict,
    size_bars_figure,
)
from optimizer.report.published import table_1_source
from optimizer.text import N_, render, tr
from pages.common import (
    downloads,
    goals_view,
    graph_view,
    layout,
    mlflow_view,
    nav,
    readiness_view,
    runs,
    state,
)
from pages.common.table import MISSING, column_config, localized, quoted_table

layout.header(nav.RESULTS, tr("Measured on this machine against the float32 baseline: accuracy "
                              "on the test split, size on disk and gzipped, latency per "
                              "inference."))

shared = runs.linked_run()     # /results?run=<id>: a run opened read-only from its link
read_only = runs.read_only(shared)
if read_only:
    st.info(tr("A shared run, opened from its link (read-only): nothing here changes it. Copy "
               "it into your workspace to check readiness or run it again."),
            icon=":material/link:")
    if st.button(tr("Copy into my workspace"), key="results_copy",
                 icon=":material/content_copy:"):
        try:
            runs.copy_to_workspace(shared)
        except ValueError as exc:
            layout.show_error(exc, tr("Copying the run"))
        else:
            nav.go(nav.RESULTS)      # the copy, as this workspace's own run (no ?run= link)
elif shared is not None:
    st.info(tr("Your run, opened from its share link."), icon=":material/link:")
session_runs = [read_run(shared)] if shared else [r for r in runs.session_runs() if r.results]
if not session_runs:
    st.info(tr("No results yet. Start a run to measure the techniques."), icon=":material/info:")
    nav.next_button(nav.RUN, tr("Go to the Run page"), key="results_to_run")
    st.stop()

current = str(shared) if shared else state.get(state.RUN_DIR)
#: A run's status in the run picker (message ids).
STATUS_WORDS = {"queued": N_("queued"), "running": N_("running"), "finished": N_("finished"),
                "failed": N_("failed"), "cancelled": N_("cancelled")}
labels = {str(r.run_dir): tr("{name} · {model} · {count} results · {status}",
                             name=Path(r.run_dir).name, model=r.model, count=len(r.results),
                             status=tr(STATUS_WORDS[r.status]) if r.status in STATUS_WORDS
                             else r.status) for r in session_runs}
keys = list(labels)
if len(keys) > 1:
    chosen = st.selectbox(tr("Run"), keys, index=keys.index(current) if current in keys else 0,
                          format_func=labels.get, key="results_run")
else:
    chosen = keys[0]
run = read_run(chosen)
if run.damaged:
    st.warning(layout.plain(run.damaged), icon=":material/broken_image:")
if not run.done:
    st.info(tr("This run is still going; these are the results so far."),
            icon=":material/sync:")

view = st.session_state.get("results_size_view") or state.get(state.SIZE_VIEW)
# One evaluation for the table, counters, banners and notes: the run's own answers and goals
# (or the ones being tried), with the readiness checked so far -- recomputed on every rerun.
verdict = run_verdict(run.run_dir, size=view)
target = verdict.target

results_tab, graph_tab = st.tabs([tr("Results"), tr("Graph")], key="results_tabs",
                                 on_change="rerun")
if graph_tab.open:     # the graph view only when its tab is open: the rest of the page stops
    with graph_tab:
        graph_view.render(run.run_dir, verdict.results, key="results_graph", target=target,
                          owner=state.get(state.SESSION_ID), read_only=read_only)
    st.stop()

other_goals = goals_view.try_other_goals(verdict.goals if verdict.goals_from == "run" else None,
                                         verdict.results, key="results_goals")
if other_goals is not None:      # this view only: the run keeps the goals it was run with
    verdict = run_verdict(run.run_dir, goals=other_goals, size=view)
results, goals = verdict.results, verdict.goals
frame = results_frame(results)
checks = verdict.checks
budget = accuracy_budget(results, goals)
notes = verdict.insights
recommended = verdict.recommended

judged = render(verdict.judged_by())
st.caption(layout.plain(judged[:1].upper() + judged[1:]) + ".")
cols = st.columns([2, 1, 1, 1])
cols[0].metric(tr("Model"), run.model or "?", border=True)
cols[1].metric(tr("Measured"), tr("{count} of {total}", count=int((frame["status"] == "ok").sum()),
                                  total=len(frame)), border=True)
counts = verdict.counts
pending = ([tr("{count} within noise of a budget", count=counts["within_noise"])]
           if counts.get("within_noise") else []) + \
    ([tr("{count} not checked yet", count=counts["not_checked"])]
     if counts.get("not_checked") else [])
cols[2].metric(tr("Meet the goals"), tr("{count} of {total}", count=len(verdict.met),
                                        total=len(checks)), border=True,
               help=tr("The goals this run is judged by (above): the accuracy budget, and the "
                       "size, latency and readiness goals if set.")
               + (" " + tr("Not counted as met or missed: {pending}.",
                           pending=", ".join(pending)) if pending else ""))
cols[3].metric(tr("Work time"), numbers.seconds(run.work_s), border=True,
               help=tr("Time the run worked; it also waited {wait} in the queue for a worker "
                       "slot.", wait=numbers.seconds(run.wait_s)) if run.wait_s >= 1 else
               tr("Time the run worked."))
if run.extra.get("cached"):
    source = run.extra.get("cached_from") or {}
    st.info(tr("Served from the cache: an identical run (same model file, data, techniques, "
               "settings, code and packages) was measured at {when} on {where}. **Run again** "
               "on the Run page measures it anew.",
               when=layout.plain(source.get("measured_at")),
               where=layout.plain(render(host_words(source.get("measured_on"))))),
            icon=":material/cached:")
for note in insights_for(notes, None):
    if note.kind == "best":
        st.success(layout.plain(note.text), icon=":material/emoji_events:")
    elif note.kind == "none_meets":
        st.info(layout.plain(note.text), icon=":material/flag:")
    else:
        st.caption(layout.plain(note.text))
goals_view.agreement_banner(verdict)

layout.section(tr("Results against the float32 baseline"),
               tr("The metric with its 95 % interval; Δ is the change in percentage points with "
                  "the paired test's p-value against float32 on the same test samples (below "
                  "0.05 it is measurable); x smaller = baseline bytes / these bytes; latency is "
                  "one sample per inference (median, with the p10–p90 spread)."))
# the key columns wrap instead of scrolling sideways (a projector, a phone); all columns below
st.html(key_table_html(frame, checks))
with st.expander(tr("All columns (sortable): intervals, gzip, threads, kernels, I/O, engine, "
                    "notes")):
    st.dataframe(localized(results_table(frame, checks), places_of(frame)), hide_index=True,
                 width="stretch", column_config=column_config(places_of(frame)),
                 key="results_table",
                 placeholder=MISSING)

layout.section(tr("Trade-offs"))
size_words = {"gzip": tr("Compressed (gzip -9, download)"), "raw": tr("On disk")}
view = st.segmented_control(tr("Size shown"), ["gzip", "raw"], default=verdict.size,
                            format_func=size_words.get, key="results_size_view")
if view:
    state.put(state.SIZE_VIEW, view)
left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(accuracy_size_figure(frame, size=view or "gzip", budget=budget),
                    key="chart_acc_size")
with right:
    st.plotly_chart(accuracy_latency_figure(frame, budget=budget), key="chart_acc_latency")
st.plotly_chart(size_bars_figure(frame), key="chart_sizes")

layout.section(tr("What the numbers say"), tr("Notes derived from the measured values above."))
for result in run.results:
    if result.is_baseline and not insights_for(notes, BASELINE):
        continue
    check = checks.get(result.technique)
    own = insights_for(notes, result.technique)
    if check is None and not own:
        continue
    with st.expander(f"**{result.technique}**{goals_view.check_label(check)}",
                     expanded=bool(own)):
        if check is not None:
            st.markdown("\n".join(f"- {goals_view.ICONS[i.state.value]} "
                                   f"{layout.plain(render(i.detail))}" for i in check.items))
        for note in own:
            (st.warning if note.severity == "warning" else st.info)(layout.plain(note.text))

readiness_view.render(results, target, goals.mcu, run_data(run.model, getattr(run.request,
                                                                            "data", None)),
                      key="results_ready", read_only=read_only)

with st.expander(tr("For comparison: the guide's published figures (not measured here)")):
    st.caption(tr("Published, Pixel 2. Source: {source}. These large models gain from "
                  "quantization on a phone CPU; a model as small as the demos may not on this "
                  "machine. Compare with the latency measured above. N/A: not given in the "
                  "guide.", source=table_1_source()))
    quoted_table(published_table(), missing=tr("N/A"))

layout.section(tr("Downloads"), tr("Each model with its recipe, the results table, and a script "
                                   "that reproduces an optimization with the public APIs."))
downloads.render(run, frame)
if not read_only:      # a share link's viewer reads; exporting is the owner's
    mlflow_view.export_button(run.run_dir, key="results_mlflow")

st.divider()
if not read_only:
    nav.back_button(nav.RECOMMENDATION, tr("Try other techniques"), key="results_back")
