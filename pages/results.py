"""Step 5 · Results: the table against the baseline, trade-off charts, notes and downloads."""
from pathlib import Path

import streamlit as st

from optimizer import read_run, results_frame, run_data, with_readiness
from optimizer.report import (
    PUBLISHED_SOURCE,
    accuracy_budget,
    accuracy_latency_figure,
    accuracy_size_figure,
    agreement,
    goal_checks,
    insights_for,
    key_table_html,
    published_table,
    recommended_of,
    results_table,
    size_bars_figure,
    stored_insights,
)
from pages.common import downloads, graph_view, layout, mlflow_view, nav, readiness_view, runs, state
from pages.common.table import COLUMN_CONFIG, MISSING, quoted_table

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

goals = state.goals()
target = state.answers().target
request = run.request
data = run_data(run.model, getattr(request, "data", None))
results = with_readiness(run.results, target, budget=goals.mcu, data=data)
frame = results_frame(results)
checks = goal_checks(results, goals)
budget = accuracy_budget(results, goals)
notes = stored_insights(run.run_dir, results)
recommended = recommended_of(run.run_dir)

results_tab, graph_tab = st.tabs(["Results", "Graph"], key="results_tabs", on_change="rerun")
if graph_tab.open:     # the graph view only when its tab is open: the rest of the page stops
    with graph_tab:
        graph_view.render(run.run_dir, results, key="results_graph", target=target,
                          owner=state.get(state.SESSION_ID), read_only=read_only)
    st.stop()

met = [t for t, c in checks.items() if c.met]
cols = st.columns([2, 1, 1, 1])
cols[0].metric("Model", run.model or "?", border=True)
cols[1].metric("Measured", f"{int((frame['status'] == 'ok').sum())} of {len(frame)}",
               border=True)
cols[2].metric("Meet your goals", f"{len(met)} of {len(checks)}", border=True,
               help="The goals set on Your situation: the accuracy budget, and the size and "
                    "latency targets if you set them.")
cols[3].metric("Work time", f"{run.work_s:.0f} s", border=True,
               help=f"Time the run worked; it also waited {run.wait_s:.0f} s in the queue for "
                    "a worker slot." if run.wait_s >= 1 else "Time the run worked.")
if run.extra.get("cached"):
    source = run.extra.get("cached_from") or {}
    st.info(f"Served from the cache: an identical run (same model file, data, techniques, "
            f"settings, code and packages) was measured at {layout.plain(source.get('measured_at'))} "
            f"on {layout.plain(source.get('measured_on'))}. **Run again** on the Run page "
            f"measures it anew.", icon=":material/cached:")
for note in insights_for(notes, None):
    st.caption(note.text)
if recommended and run.result(recommended) is not None:
    agreed, against = agreement(notes, recommended)
    if agreed:
        st.success(f"The measurements agreed with the guide's recommendation, `{recommended}`: "
                   "nothing measured contradicts it.", icon=":material/thumb_up:")
    else:
        st.warning(f"**The measurements disagree with the guide's recommendation, "
                   f"`{recommended}`.**\n\n" + "\n\n".join(n.message for n in against),
                   icon=":material/rule:")

layout.section("Results against the float32 baseline",
               "Δ is the change in percentage points; x smaller = baseline bytes / these bytes; "
               "latency is one sample per inference (median, with the p10–p90 spread).")
# the key columns wrap instead of scrolling sideways (a projector, a phone); all columns below
st.html(key_table_html(frame, checks))
with st.expander("All columns (sortable): gzip, threads, kernels, I/O, engine, notes"):
    st.dataframe(results_table(frame, checks), hide_index=True, width="stretch",
                 column_config=COLUMN_CONFIG, key="results_table", placeholder=MISSING)

layout.section("Trade-offs")
view = st.segmented_control("Size shown", ["gzip", "raw"], default=state.get(state.SIZE_VIEW),
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
    verdict = "" if check is None else (" — :green[meets your goals]" if check.met
                                        else " — :red[" + check.summary + "]")
    with st.expander(f"**{result.technique}**{verdict}", expanded=bool(own)):
        if check is not None:
            st.markdown("\n".join(f"- {':material/check_circle:' if i.met else ':material/cancel:'}"
                                   f" {i.detail}" for i in check.items))
        for note in own:
            (st.warning if note.severity == "warning" else st.info)(note.text)

readiness_view.render(results, target, goals.mcu, data, key="results_ready",
                      read_only=read_only)

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
