"""The "Export to MLflow" button (Results and My runs): never offered to a share-link viewer.

The export runs ``python -m optimizer export mlflow`` in a child process (MLflow stays out of
the app's process) into the server's ``MLFLOW_TRACKING_URI`` when it sets one (a team's MLflow
server), else into this browser workspace's own SQLite store on the server.
"""
from __future__ import annotations

import os

import streamlit as st

from optimizer.tracking import default_tracking_uri, export_in_child, mlflow_missing

from . import layout, state


def export_button(folder, key: str) -> None:
    """A button exporting the run or search in ``folder`` (this workspace's own)."""
    reason = mlflow_missing()
    if reason:
        st.caption(f"Export to MLflow: {layout.plain(reason)}.")
        return
    team = os.environ.get("MLFLOW_TRACKING_URI")
    where = ("this server's MLflow (`MLFLOW_TRACKING_URI`)" if team else
             "this workspace's own MLflow store on the server (`mlflow.db` in its folder)")
    if st.button("Export to MLflow", key=key, icon=":material/upload:",
                 help=f"One parent run, one nested run per variant or trial, with params, "
                      f"metrics, the .tflite files, recipes, the report and the charts, into "
                      f"{where}."):
        with st.spinner("Exporting to MLflow…"):
            try:
                summary = export_in_child(folder, team or default_tracking_uri(
                    state.session_dir()), workspace=state.get(state.SESSION_ID))
            except ValueError as exc:
                layout.show_error(exc, "Exporting to MLflow")
                return
        st.session_state[f"{key}_summary"] = (str(folder), summary)
    done = st.session_state.get(f"{key}_summary")
    if done and done[0] == str(folder):
        summary = done[1]
        st.success(f"Exported to {where}: MLflow run `{summary['parent_run_id']}` with "
                   f"{summary['nested_runs']} nested runs, experiment "
                   f"“{summary['experiment']}”."
                   + (f" {layout.plain(summary['note'])}." if summary.get("note") else ""),
                   icon=":material/check_circle:")
