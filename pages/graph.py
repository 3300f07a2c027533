"""Go further · Graph: the float model and a variant in Google's Model Explorer, with overlays."""
import time

import streamlit as st

from optimizer import read_run, run_data, with_readiness, workspace_runs
from optimizer.graph import GraphRefused, run_folder
from pages.common import graph_view, layout, nav, state

layout.header(nav.GRAPH, "The model's graph as Google's Model Explorer draws it: the float "
                         "model beside a variant, coloured by what the runs measured — each "
                         "op's int8 error, where it runs on your target, the precision it "
                         "computes in, and the kernel it ran on.")

owner = state.get(state.SESSION_ID)
try:
    rows = [r for r in workspace_runs(owner) if r["status"] not in ("queued", "running")]
except ValueError as exc:      # the history database is damaged: say how to rebuild it
    layout.show_error(exc, "Reading the run history")
    st.stop()
if not rows:
    st.info("No finished run or search yet in this workspace: run one, then see its graph "
            "here.", icon=":material/info:")
    nav.next_button(nav.RUN, "Go to the Run page", key="graph_to_run")
    st.stop()

by_id = {row["id"]: row for row in rows}
current = {state.get(state.RUN_DIR), state.get(state.SEARCH_DIR)}
ids = list(by_id)
first = next((i for i, r in enumerate(rows) if r["folder"] in current), 0)
pick = st.selectbox(
    "Run or search", ids, index=first, key="graph_run",
    format_func=lambda i: f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(by_id[i]['queued_at'] or 0))}"
                          f" · {by_id[i]['kind']} · {by_id[i]['model']} · {by_id[i]['status']}")
try:
    folder = run_folder(pick, owner)
except GraphRefused as exc:
    layout.show_error(exc, "Opening the run")
    st.stop()
run = read_run(folder)
target = state.answers().target
data = run_data(run.model, getattr(run.request, "data", None))
results = with_readiness(run.results, target, budget=state.goals().mcu, data=data)
graph_view.render(folder, results, key="graph", owner=owner, target=target)
st.divider()
nav.back_button(nav.RESULTS, "Back to the results", key="graph_back")
