"""Reading a plotly figure's text labels back, to check each is on the point(s) it names.

Independent of how ``optimizer.report.labels`` places them: a label is any non-empty text of
a scatter point (anchored at that point) or an arrow annotation named "label" (anchored where
its arrow points); a marker is a scatter point with an ``ids`` entry (its technique). Pixel
distances use the figure's own axis types and ranges, its height and margins, and a plot
``labels.PLOT_WIDTH_PX`` wide.
"""
from __future__ import annotations

import math
import re

from optimizer.report.labels import PLOT_WIDTH_PX

#: How far (pixels) a named marker may sit from its label's anchor: "at the point".
TOLERANCE_PX = 6.0


def _get(obj, *path, default=None):
    for key in path:
        if obj is None:
            return default
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return default if obj is None else obj


def as_dict(fig) -> dict:
    """A figure (plotly Figure or its JSON dict) as a plain dict."""
    return fig if isinstance(fig, dict) else fig.to_plotly_json()


def _values(array):
    """Plotly arrays in JSON may be typed base64 ({"dtype", "bdata"}): decode them."""
    if isinstance(array, dict) and "bdata" in array:
        import base64

        import numpy as np
        return list(np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]))
    return list(array) if array is not None else []


def label_names(text: str) -> list[str]:
    """The names in a label's text: "a, b,<br>c" -> ["a", "b", "c"]."""
    plain = re.sub(r"<[^>]+>", " ", str(text))
    return [part.strip() for part in plain.replace(",", " , ").split(",") if part.strip()]


class Geometry:
    """Data units to pixels on a figure's axes (log axes: the layout's range is log10)."""

    def __init__(self, fig: dict):
        layout = fig["layout"]
        self.log_x = _get(layout, "xaxis", "type") == "log"
        self.x_range = _get(layout, "xaxis", "range")
        self.y_range = _get(layout, "yaxis", "range")
        assert self.x_range and self.y_range, "labelled charts set their axis ranges"
        height = _get(layout, "height")
        margin = _get(layout, "margin", default={})
        self.height = height - _get(margin, "t") - _get(margin, "b")
        self.width = PLOT_WIDTH_PX

    def x_of_annotation(self, x: float) -> float:
        return 10 ** x if self.log_x else x

    def pixels(self, x: float, y: float) -> tuple[float, float]:
        x0, x1 = self.x_range
        fx = ((math.log10(x) - x0) / (x1 - x0)) if self.log_x else (x - x0) / (x1 - x0)
        y0, y1 = self.y_range
        return fx * self.width, (y - y0) / (y1 - y0) * self.height


def labels_of(fig: dict) -> list[tuple[list[str], tuple[float, float]]]:
    """Every text label of ``fig``: (names, anchor in data units)."""
    found = []
    for trace in fig["data"]:
        if trace.get("type", "scatter") != "scatter" or "text" not in (trace.get("mode") or ""):
            continue
        texts = trace.get("text")
        texts = [texts] * len(_values(trace.get("x"))) if isinstance(texts, str) else texts
        for x, y, text in zip(_values(trace.get("x")), _values(trace.get("y")), texts or []):
            if text:
                found.append((label_names(text), (float(x), float(y))))
    geometry = Geometry(fig) if found or fig["layout"].get("annotations") else None
    for note in fig["layout"].get("annotations") or []:
        if note.get("name") == "label":
            assert note.get("showarrow"), note
            found.append((label_names(note["text"]),
                          (geometry.x_of_annotation(float(note["x"])), float(note["y"]))))
    return found


def markers_of(fig: dict) -> dict[str, list[tuple[float, float]]]:
    """Every marker: technique -> its positions (data units). A marker is named by the
    trace's ``ids``; a one-point trace without them by its name (less " (baseline)")."""
    found: dict[str, list] = {}
    for trace in fig["data"]:
        if "markers" not in (trace.get("mode") or ""):
            continue
        xs, ys = _values(trace.get("x")), _values(trace.get("y"))
        ids = trace.get("ids") or ([str(trace.get("name", "")).removesuffix(" (baseline)")]
                                   if len(xs) == 1 else None)
        assert ids, f"a marker trace without ids: {trace.get('name')}"
        for x, y, name in zip(xs, ys, ids):
            found.setdefault(str(name), []).append((float(x), float(y)))
    return found


def legend_names(fig: dict) -> set[str]:
    """Techniques named in the legend (traces shown there with one marker)."""
    return {str(t["ids"][0]) for t in fig["data"]
            if t.get("showlegend") and t.get("ids") and len(t["ids"]) == 1}


def check_labels_on_their_points(fig) -> list[str]:
    """Problems with ``fig``'s labels, [] when every name in every label has its marker at
    the label's anchor (within TOLERANCE_PX) and every marker is named by a label or in the
    legend."""
    fig = as_dict(fig)
    markers, labels = markers_of(fig), labels_of(fig)
    if not markers:
        return []
    geometry = Geometry(fig)
    problems, named = [], set()
    for names, anchor in labels:
        at = geometry.pixels(*anchor)
        for name in names:
            spots = [geometry.pixels(*p) for p in markers.get(name, [])]
            near = [s for s in spots if math.dist(s, at) <= TOLERANCE_PX]
            if not near:
                far = min((math.dist(s, at) for s in spots), default=None)
                problems.append(f"label {names} at {anchor} names {name!r}, whose marker is "
                                + (f"{far:.0f} px away" if far is not None else "missing"))
            named.add(name)
    legend = legend_names(fig)
    for name, spots in markers.items():
        if name not in named and name not in legend:
            problems.append(f"{name!r} at {spots} is named by no label and not in the legend")
    return problems


def report_figures(html: str) -> list[dict]:
    """The figures of a hand-over report, read back from its ``Plotly.newPlot(id, data,
    layout, config)`` calls: ``{"id", "data", "layout"}`` each."""
    import json

    decoder, figures, at = json.JSONDecoder(), [], 0
    while (at := html.find("Plotly.newPlot(", at)) >= 0:
        rest = html[at + len("Plotly.newPlot("):]
        parts, offset = [], 0
        for _ in range(3):               # the div id, the data, the layout
            offset += len(rest[offset:]) - len(rest[offset:].lstrip(" \n,"))
            value, offset = decoder.raw_decode(rest, offset)
            parts.append(value)
        figures.append({"id": parts[0], "data": parts[1], "layout": parts[2]})
        at += 1
    return figures
