"""My runs: every run and search of this workspace; open, share, compare two, delete."""
import time

import streamlit as st

from optimizer import delete_run, read_run, workspace_runs
from optimizer.report import best_label, compare_figure
from pages.common import layout, mlflow_view, nav, state
from pages.common.table import MISSING

layout.header(nav.MY_RUNS, "Every run and search started from this browser's workspace, newest "
                           "first. Bookmark this page's address to come back to them.")

owner = state.get(state.SESSION_ID)
try:
    rows = workspace_runs(owner)
except ValueError as exc:      # the history database is damaged: say how to rebuild it
    layout.show_error(exc, "Reading the run history")
    st.stop()
if not rows:
    st.info("No runs yet in this workspace.", icon=":material/info:")
    nav.next_button(nav.RUN, "Go to the Run page", key="my_runs_to_run")
    st.stop()


def _when(t) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else ""


by_id = {row["id"]: row for row in rows}
st.caption("Best result: the Results page's verdict for the goals each run was made for -- the "
           "smallest variant meeting all of them, on the size those goals judge (on disk "
           "unless a size goal is on the download).")
st.dataframe([{"Started": _when(r["queued_at"]), "Kind": r["kind"], "Model": r["model"],
               "Status": r["status"] + (" (cached)" if r["cached"] else ""),
               "Best result": best_label(r.get("best")),
               "Techniques": ", ".join(r["techniques"] or []),
               "Run id": r["id"]} for r in rows], hide_index=True, width="stretch",
             placeholder=MISSING,
             key="my_runs_table")


def label(run_id: str) -> str:
    row = by_id[run_id]
    return f"{_when(row['queued_at'])} · {row['kind']} · {row['model']} · {row['status']}"


layout.section("Open, share or delete one")
pick = st.selectbox("Run", list(by_id), format_func=label, key="my_runs_pick")
row = by_id[pick]
left, middle, right = st.columns([1, 2, 1], gap="medium")
with left:
    if st.button("Open", key="my_runs_open", type="primary", icon=":material/open_in_new:"):
        if row["kind"] == "search":
            state.put(state.SEARCH_DIR, row["folder"])
            nav.go(nav.SEARCH)
        state.put(state.RUN_DIR, row["folder"])
        nav.go(nav.RESULTS)
with middle:
    if row["kind"] == "run":
        st.caption("Anyone with this link sees this run's results, read-only:")
        st.code(f"/results?run={pick}", language=None)
with right:
    sure = st.checkbox("Yes, delete it", key="my_runs_sure")
    if st.button("Delete", key="my_runs_delete", disabled=not sure, icon=":material/delete:"):
        try:
            delete_run(pick, owner)
        except ValueError as exc:
            layout.show_error(exc, "Deleting the run")
        else:
            for key in (state.RUN_DIR, state.SEARCH_DIR):
                if state.get(key) == row["folder"]:
                    state.put(key, None)
            st.rerun()

if row["status"] not in ("queued", "running"):
    mlflow_view.export_button(row["folder"], key="my_runs_mlflow")

runs_only = [r["id"] for r in rows if r["kind"] == "run"]
if len(runs_only) >= 2:
    layout.section("Compare two runs", "Both runs' measured results on one chart.")
    chosen = st.multiselect("Runs to compare", runs_only, default=runs_only[:2],
                            max_selections=2, format_func=label, key="my_runs_compare")
    if len(chosen) == 2:
        pairs = [(f"{by_id[c]['model']} · {_when(by_id[c]['queued_at'])}",
                  read_run(by_id[c]["folder"]).results) for c in chosen]
        st.plotly_chart(compare_figure(pairs), key="my_runs_chart")
