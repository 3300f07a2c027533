"""Step 5 · Results: the table against the baseline, trade-off charts, notes and downloads."""
from pathlib import Path

import streamlit as st

from optimizer import numbers, read_run, results_frame, run_data
from optimizer.report import (
    PUBLISHED_SOURCE,
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
from pages.common.table import MISSING, column_config, quoted_table

layout.header(nav.RESULTS, "Measured on this machine against the float32 baseline: accuracy on "
                           "the test split, size on disk and gzipped, latency per inference.")

shared = runs.linked_run()     # /results?run=<id>: a run opened read-only from its link
read_only = runs.read_only(shared)
if read_only:
    st.info("A shared run, opened from its link (read-only): nothing here changes it. Copy it "
            "into your workspace to check readiness or run it again.", icon=":material/link:")
    if st.button("Copy into my workspace", key="results_copy", icon=":material/content_copy:"):
        try:
            runs.copy_to_workspace(shared)
        except ValueError as exc:
            layout.show_error(exc, "Copying the run")
        else:
            nav.go(nav.RESULTS)      # the copy, as this workspace's own run (no ?run= link)
elif shared is not None:
    st.info("Your run, opened from its share link.", icon=":material/link:")
session_runs = [read_run(shared)] if shared else [r for r in runs.session_runs() if r.results]
if not session_runs:
    st.info("No results yet. Start a run to measure the techniques.", icon=":material/info:")
    nav.next_button(nav.RUN, "Go to the Run page", key="results_to_run")
    st.stop()

current = str(shared) if shared else state.get(state.RUN_DIR)
labels = {str(r.run_dir): f"{Path(r.run_dir).name} · {r.model} · {len(r.results)} results · "
                          f"{r.status}" for r in session_runs}
keys = list(labels)
if len(keys) > 1:
    chosen = st.selectbox("Run", keys, index=keys.index(current) if current in keys else 0,
                          format_func=labels.get, key="results_run")
else:
    chosen = keys[0]
run = read_run(chosen)
if run.damaged:
    st.warning(layout.plain(run.damaged), icon=":material/broken_image:")
if not run.done:
    st.info("This run is still going; these are the results so far.", icon=":material/sync:")

view = st.session_state.get("results_size_view") or state.get(state.SIZE_VIEW)
# One evaluation for the table, counters, banners and notes: the run's own answers and goals
# (or the ones being tried), with the readiness checked so far -- recomputed on every rerun.
verdict = run_verdict(run.run_dir, size=view)
target = verdict.target

results_tab, graph_tab = st.tabs(["Results", "Graph"], key="results_tabs", on_change="rerun")
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

st.caption(layout.plain(verdict.judged_by()[:1].upper() + verdict.judged_by()[1:]) + ".")
cols = st.columns([2, 1, 1, 1])
cols[0].metric("Model", run.model or "?", border=True)
cols[1].metric("Measured", f"{int((frame['status'] == 'ok').sum())} of {len(frame)}",
               border=True)
counts = verdict.counts
pending = [f"{counts[k]} {w}" for k, w in (("within_noise", "within noise of a budget"),
                                           ("not_checked", "not checked yet")) if counts.get(k)]
cols[2].metric("Meet the goals", f"{len(verdict.met)} of {len(checks)}", border=True,
               help="The goals this run is judged by (above): the accuracy budget, and the size, "
                    "latency and readiness goals if set."
                    + (" Not counted as met or missed: " + ", ".join(pending) + "."
                       if pending else ""))
cols[3].metric("Work time", numbers.seconds(run.work_s), border=True,
               help=f"Time the run worked; it also waited {numbers.seconds(run.wait_s)} in the "
                    "queue for a worker slot." if run.wait_s >= 1 else "Time the run worked.")
if run.extra.get("cached"):
    source = run.extra.get("cached_from") or {}
    st.info(f"Served from the cache: an identical run (same model file, data, techniques, "
            f"settings, code and packages) was measured at {layout.plain(source.get('measured_at'))} "
            f"on {layout.plain(source.get('measured_on'))}. **Run again** on the Run page "
            f"measures it anew.", icon=":material/cached:")
for note in insights_for(notes, None):
    if note.kind == "best":
        st.success(layout.plain(note.text), icon=":material/emoji_events:")
    elif note.kind == "none_meets":
        st.info(layout.plain(note.text), icon=":material/flag:")
    else:
        st.caption(layout.plain(note.text))
goals_view.agreement_banner(verdict)

layout.section("Results against the float32 baseline",
               "The metric with its 95 % interval; Δ is the change in percentage points with "
               "the paired test's p-value against float32 on the same test samples (below 0.05 "
               "it is measurable); x smaller = baseline bytes / these bytes; latency is one "
               "sample per inference (median, with the p10–p90 spread).")
# the key columns wrap instead of scrolling sideways (a projector, a phone); all columns below
st.html(key_table_html(frame, checks))
with st.expander("All columns (sortable): intervals, gzip, threads, kernels, I/O, engine, notes"):
    st.dataframe(results_table(frame, checks), hide_index=True, width="stretch",
                 column_config=column_config(places_of(frame)), key="results_table",
                 placeholder=MISSING)

layout.section("Trade-offs")
view = st.segmented_control("Size shown", ["gzip", "raw"], default=verdict.size,
                            format_func={"gzip": "Compressed (gzip -9, download)",
                                         "raw": "On disk"}.get, key="results_size_view")
if view:
    state.put(state.SIZE_VIEW, view)
left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(accuracy_size_figure(frame, size=view or "gzip", budget=budget),
                    key="chart_acc_size")
with right:
    st.plotly_chart(accuracy_latency_figure(frame, budget=budget), key="chart_acc_latency")
st.plotly_chart(size_bars_figure(frame), key="chart_sizes")

layout.section("What the numbers say", "Notes derived from the measured values above.")
for result in run.results:
    if result.technique == "float32" and not insights_for(notes, "float32"):
        continue
    check = checks.get(result.technique)
    own = insights_for(notes, result.technique)
    if check is None and not own:
        continue
    with st.expander(f"**{result.technique}**{goals_view.check_label(check)}",
                     expanded=bool(own)):
        if check is not None:
            st.markdown("\n".join(f"- {goals_view.ICONS[i.state.value]} {layout.plain(i.detail)}"
                                   for i in check.items))
        for note in own:
            (st.warning if note.severity == "warning" else st.info)(layout.plain(note.text))

readiness_view.render(results, target, goals.mcu, run_data(run.model, getattr(run.request,
                                                                            "data", None)),
                      key="results_ready", read_only=read_only)

with st.expander("For comparison: the guide's published figures (not measured here)"):
    st.caption(f"Published, Pixel 2. Source: {PUBLISHED_SOURCE}. These large models gain "
               "from quantization on a phone CPU; a model as small as the demos may not on "
               "this machine. Compare with the latency measured above. N/A: not given in "
               "the guide.")
    quoted_table(published_table(), missing="N/A")

layout.section("Downloads", "Each model with its recipe, the results table, and a script that "
                            "reproduces an optimization with the public APIs.")
downloads.render(run, frame)
if not read_only:      # a share link's viewer reads; exporting is the owner's
    mlflow_view.export_button(run.run_dir, key="results_mlflow")

st.divider()
if not read_only:
    nav.back_button(nav.RECOMMENDATION, "Try other techniques", key="results_back")
