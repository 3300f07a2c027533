"""What the graph view shows: the float model and a variant, each with the chosen overlay.

``panes`` picks the files (through ``sources``, so only the workspace's own), reads their ops
and builds the overlay each one gets; ``explorer_args`` turns panes and their graph JSON into
the arguments the component's ``bridge.js`` hands to Model Explorer: the graphs, the node data,
and Model Explorer's own ``data`` URL parameter (which graphs, which overlay for which graph,
side by side or one pane, the node to open on). No streamlit, no TensorFlow.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from optimizer.graph.ops import read_ops
from optimizer.graph.overlays import (
    Overlay,
    error_overlay,
    kernel_overlay,
    placement_overlay,
    precision_overlay,
)
from optimizer.graph.sources import model_file

#: Graphs with at most this many ops open fully expanded (bigger ones start collapsed).
EXPAND_ALL_MAX_OPS = 300
HEIGHT = 800


@dataclass(frozen=True)
class Pane:
    """One model in the view: its technique, file, ops and overlay (None: no overlay)."""

    label: str
    path: Path
    ops: tuple
    overlay: Overlay | None


def overlay_for(kind: str | None, ops, result, *, report=None, target: str = "cpu") -> Overlay | None:
    """The overlay ``kind`` (``overlays.KINDS``) for one file, or None for no overlay."""
    if kind is None:
        return None
    if kind == "int8-error":
        return error_overlay(ops, report)
    if kind == "placement":
        return placement_overlay(ops, getattr(result, "readiness", None), target)
    if kind == "precision":
        return precision_overlay(ops)
    if kind == "kernels":
        return kernel_overlay(ops, result)
    raise ValueError(f"unknown overlay {kind!r}; use one of int8-error, placement, precision, "
                     "kernels")


def panes(folder, results, techniques, kind: str | None, *, owner: str | None,
          shared: bool = False, report: dict | None = None, target: str = "cpu") -> list[Pane]:
    """One ``Pane`` per technique of the run in ``folder`` (``results`` are its records, with
    their readiness verdicts for ``target`` when checked). ``GraphRefused`` for a file the
    workspace may not open."""
    out = []
    for technique in techniques:
        path = model_file(folder, technique, results, owner, shared=shared)
        result = next(r for r in results if r.technique == technique)
        ops = read_ops(path)
        out.append(Pane(technique, path, ops, overlay_for(kind, ops, result, report=report,
                                                          target=target)))
    return out


def explorer_args(items, height: int = HEIGHT) -> dict:
    """The component's arguments for ``items``: ``[(Pane, graph JSON), ..]``, shown side by
    side (two) or alone (one)."""
    graphs, node_data, models, targets, states, used = [], [], [], [], [], set()
    width = 1.0 / max(1, len(items))
    for index, (pane, graph) in enumerate(items):
        label = pane.label.replace("/", "-")
        graph = _unique_ids(graph, used, label)
        graphs.append(graph)
        main = graph["graphs"][0]["id"]
        models.append({"url": f"graphs://{label}/{index}", "adapterId": "builtin_json"})
        if pane.overlay is not None:
            node_data.append(pane.overlay.node_data())
            targets.append(label)
        focus = pane.overlay.focus if pane.overlay is not None else None
        expand = ["___all___"] if len(pane.ops) <= EXPAND_ALL_MAX_OPS else []
        states.append({"deepestExpandedGroupNodeIds": [] if focus else expand,
                       "selectedNodeId": focus or "", "selectedGraphId": main,
                       "selectedCollectionLabel": label, "widthFraction": width,
                       "selected": index == 0})
    url = {"models": models, "uiState": {"paneStates": states}}
    if node_data:
        kind = next(p.overlay.kind for p, _g in items if p.overlay is not None)
        url["nodeData"] = [f"node_data://{kind}/{i}" for i in range(len(node_data))]
        url["nodeDataTargets"] = targets
    return {"graphs": graphs, "nodeData": node_data, "url": url, "height": int(height)}


def _unique_ids(graph: dict, used: set, label: str) -> dict:
    """A copy of ``graph`` whose graph ids no earlier pane used (Model Explorer would rename a
    repeated id itself, and the pane could then not be named); subgraph references follow."""
    graph = copy.deepcopy(graph)
    renamed = {}
    for sub in graph.get("graphs") or []:
        old = str(sub.get("id") or "graph")
        new = old if old not in used else f"{old} ({label})"
        renamed[old], sub["id"] = new, new
        used.add(new)
    for sub in graph.get("graphs") or []:
        for node in sub.get("nodes") or []:
            if node.get("subgraphIds"):
                node["subgraphIds"] = [renamed.get(s, s) for s in node["subgraphIds"]]
    return graph


def overlay_file_name(technique: str, kind: str) -> str:
    """The download name of an overlay: ``<technique>.<kind>.node-data.json`` (safe chars)."""
    safe = "".join(c if c.isalnum() or c in "-_+." else "_" for c in technique)
    return f"{safe}.{kind}.node-data.json"
