"""The graph view (the Graph page, and the Graph tab on Results): Model Explorer in the app.

Model Explorer's web app runs as a Streamlit component served from one fixed folder
(``optimizer.graph.web``); the graphs and overlays reach it as the component's arguments,
built by the library from files the workspace owns (``optimizer.graph.sources``). The browser
names runs and techniques through the widgets below, never a file.
"""
from __future__ import annotations

import hashlib
import html
import json

import streamlit as st
import streamlit.components.v1 as components

from optimizer.graph import (
    KINDS,
    TITLES,
    GraphRefused,
    explorer_args,
    graph_json,
    missing,
    overlay_file_name,
    panes,
    report_for,
    start_analysis,
    status,
    web_dir,
)

from . import layout

POLL_S = 2.0
OVERLAY_HELP = {
    "int8-error": "Each quantized op's int8 error (RMSE / scale), as the per-layer repair "
                  "measures it; the worst op is dark red and selected.",
    "placement": "Where each op runs on your target, from the readiness check on Results.",
    "precision": "What each op computes in, read from the .tflite file.",
    "kernels": "The kernel each op ran on when its latency was measured.",
}


def _component():
    return components.declare_component("model_explorer", path=str(web_dir()))


def _legend(overlay) -> None:
    chips = "".join(
        f"<span style='display:inline-block;margin:2px 10px 2px 0'><span style='display:"
        f"inline-block;width:12px;height:12px;background:{color};border:1px solid #999;"
        f"vertical-align:middle;margin-right:4px'></span>{html.escape(str(label))} "
        f"({count})</span>" for label, color, count in overlay.legend)
    st.html(f"<div data-testid='graph-legend' style='font-size:14px'>{chips}</div>")
    st.caption(overlay.note)


@st.fragment(run_every=POLL_S)
def _wait_for_analysis(folder) -> None:
    """While the per-layer analysis runs, poll; rerun the page when its report appears."""
    if status(folder) != "running":
        st.rerun()
    st.info("Measuring each layer's int8 error in a job process (tens of seconds on the small "
            "demos); the overlay appears when it is done…", icon=":material/sync:")


def _error_report(folder, read_only: bool, key: str, owner: str | None):
    """The run's per-layer report, or None after saying how to get one."""
    report = report_for(folder)
    if report is not None:
        return report
    state = status(folder)
    if state == "running":
        _wait_for_analysis(folder)
        return None
    if state:
        st.error(layout.plain(state), icon=":material/error:")
    if read_only:
        st.info("The per-layer int8 error of this run has not been measured; its owner can "
                "measure it.", icon=":material/info:")
        return None
    st.markdown("The per-layer int8 error of this run has not been measured yet.")
    if st.button("Measure the per-layer int8 error", type="primary", key=f"{key}_analyse",
                 icon=":material/analytics:"):
        try:
            start_analysis(folder, workspace=owner)
        except ValueError as exc:
            layout.show_error(exc, "Starting the analysis")
        else:
            st.rerun()
    return None


def render(folder, results, *, key: str, owner: str | None, target: str,
           read_only: bool = False) -> None:
    """The graph view of the run in ``folder`` (``results``: its records, with readiness for
    ``target`` when checked). ``read_only`` (a share link) starts nothing."""
    files = [r for r in results if r.ok and r.tflite_path]
    variants = [r.technique for r in files if r.technique != "float32"]
    if not files:
        st.info("This run has no model files to draw yet.", icon=":material/info:")
        return
    default = "integer" if "integer" in variants else (variants[0] if variants else None)
    left, right = st.columns([1, 1], gap="medium")
    chosen = left.selectbox("Variant", variants or ["float32"], key=f"{key}_variant",
                            index=(variants or ["float32"]).index(default or "float32"))
    layout_pick = right.segmented_control("Show", ["side by side", "float32", "variant"],
                                          default="side by side", key=f"{key}_layout")
    kind = st.segmented_control("Overlay", ["none", *KINDS], default="int8-error",
                                format_func=lambda k: "none" if k == "none" else TITLES[k],
                                key=f"{key}_overlay")
    kind = None if kind in (None, "none") else kind
    if kind:
        st.caption(OVERLAY_HELP[kind])
    techniques = {"float32": ["float32"], "variant": [chosen]}.get(
        layout_pick or "side by side", ["float32", chosen] if chosen != "float32" else ["float32"])
    report = _error_report(folder, read_only, key, owner) if kind == "int8-error" else None
    if kind == "int8-error" and report is None:
        kind = None
    try:
        shown = panes(folder, results, techniques, kind, owner=owner, shared=read_only,
                      report=report, target=target)
    except (GraphRefused, ValueError) as exc:
        layout.show_error(exc, "Opening the graph")
        return
    if kind:
        for col, pane in zip(st.columns(len(shown), gap="medium"), shown):
            with col:
                st.markdown(f"**{layout.plain(pane.label)}** · {TITLES[kind]}")
                _legend(pane.overlay)
    reason = missing()
    if reason:
        st.info(layout.plain(reason[0].upper() + reason[1:]) + ". The overlays still "
                "download below.", icon=":material/extension:")
    else:
        try:
            items = [(pane, graph_json(pane.path)) for pane in shown]
        except ValueError as exc:
            layout.show_error(exc, "Drawing the graph")
        else:
            args = explorer_args(items)
            digest = hashlib.sha256(json.dumps([args["url"], args["nodeData"]],
                                               sort_keys=True).encode()).hexdigest()[:16]
            _component()(**args, key=f"{key}_explorer_{digest}", default=None)
    if kind:
        cols = st.columns(len(shown))
        for col, pane in zip(cols, shown):
            col.download_button(
                f"Download {pane.label} overlay (Model Explorer node data)",
                json.dumps(pane.overlay.node_data(), indent=1),
                file_name=overlay_file_name(pane.label, kind), mime="application/json",
                key=f"{key}_download_{pane.label}", icon=":material/download:")
        st.caption("Open it beside the file in the standalone Model Explorer: "
                   "`model-explorer model.tflite --node_data_paths FILE.json`.")
