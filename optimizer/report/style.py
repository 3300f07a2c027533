"""Shared look of every figure: one colour per technique, marker per format, units, layout.

Colours are keyed by how a model was *trained* (the spec's base technique: its row's
``color``, or its combination's) and marker symbols by the final *format* (the conversion's
``Format.marker``), so ``pruning+dynamic_range`` keeps pruning's colour and dynamic range's
diamond in every chart. Both come from the registry's rows; an unknown technique raises
``ValueError`` instead of borrowing another's look. The colours are mid-tone so they read on
both Streamlit's light and dark themes and on a projector.
"""
from __future__ import annotations

import math

from optimizer.guide.registry import TechniqueSpec, parse_spec


def _spec(spec: str) -> TechniqueSpec:
    """The parsed spec of a result's technique or a search trial id (``pruning[sparsity=0.5]``,
    ``integer[keep-float]``: the knobs in brackets do not change its look)."""
    return parse_spec(str(spec).split("[", 1)[0])


FONT_SIZE = 15        # readable from the back of a workshop room
TITLE_SIZE = 18
GRID = "rgba(128,128,128,0.25)"   # visible on white and on Streamlit's dark background
BUDGET_COLOR = "#e15759"
FRONT_COLOR = "#59a14f"
HEIGHT = 460                      # a figure's height in pixels
MARGIN_TB = (100, 70)             # top (title, two-line subtitle) and bottom margins, pixels


def result_name(row) -> str:
    """The name a result is shown under: its recorded ``label`` ("as uploaded (int8)" for an
    already-quantized upload measured as it is) or else its technique id. ``row`` is a
    ``Result``, its dict or a results-frame row."""
    get = row.get if hasattr(row, "get") else lambda key: getattr(row, key, None)
    label = get("label")
    return label if isinstance(label, str) and label else str(get("technique"))


def technique_color(spec: str) -> str:
    """The colour of a technique spec, the same in every chart and every session."""
    return _spec(spec).color


def technique_symbol(spec: str) -> str:
    """The plotly marker symbol of a spec's final format (circle = float32, diamond = dynamic...)."""
    return _spec(spec).conversion_row.marker


def size_unit(max_bytes: float) -> tuple[float, str]:
    """(divisor, unit label) that keeps sizes readable: kB below 1 MB, else MB (SI units)."""
    if max_bytes is None or (isinstance(max_bytes, float) and math.isnan(max_bytes)):
        return 1e3, "kB"
    return (1e6, "MB") if max_bytes >= 1e6 else (1e3, "kB")


def metric_axis(metric: str) -> tuple[str, float, str]:
    """(axis label, scale, unit) for a result metric; fractions are shown as percent."""
    if metric == "agreement":
        return "Agreement with float32 predictions (%)", 100.0, "%"
    if metric == "rmse":
        return "RMSE vs float32 outputs (lower is better)", 1.0, ""
    return "Accuracy on the test split (%)", 100.0, "%"


def apply_layout(fig, title: str, x_title: str, y_title: str, height: int = HEIGHT):
    """Common layout: transparent background, large fonts, light grid, legend on top."""
    fig.update_layout(
        title={"text": title, "font": {"size": TITLE_SIZE}, "x": 0.0, "xanchor": "left"},
        font={"size": FONT_SIZE},
        height=height,
        margin={"l": 70, "r": 30, "t": MARGIN_TB[0], "b": MARGIN_TB[1]},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0,
                "xanchor": "left", "font": {"size": FONT_SIZE - 2}},
        hoverlabel={"font": {"size": FONT_SIZE - 1}},
    )
    # Sizes are set on the axes themselves: Streamlit's chart theme (a template) sets tick and
    # axis-title fonts explicitly, which would win over the layout-wide font.
    axis = {"gridcolor": GRID, "zeroline": False, "tickfont": {"size": FONT_SIZE - 1}}
    fig.update_xaxes(title={"text": x_title, "font": {"size": FONT_SIZE}}, **axis)
    fig.update_yaxes(title={"text": y_title, "font": {"size": FONT_SIZE}}, **axis)
    return fig
