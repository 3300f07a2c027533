"""The per-layer int8 error chart and the before/after cost of keeping layers in float.

Reads a layer report (``layers.json``, written by ``engine.selective``): every quantized op's
RMSE / scale before (all layers int8) and, after a repair, with some layers kept in float.
``layer_error_figure`` draws both on one chart, layers in the order they run, with the level of
pure rounding (1/sqrt(12)) marked; ``repair_rows`` puts the int8 trial and the repaired one side
by side (accuracy, size, latency) so the cost of the float layers is plain. No streamlit.
"""
from __future__ import annotations

import math

import plotly.graph_objects as go

from optimizer import numbers
from optimizer.report import style

#: RMSE / scale of pure rounding to the int8 grid (uniform error over one quantization step).
ROUNDING = 1.0 / math.sqrt(12.0)
BEFORE_COLOR = "#e15759"
AFTER_COLOR = "#4e79a7"


def layer_options(report: dict) -> list[dict]:
    """The quantized ops of a report, worst first: ``{"name", "layer", "op", "rmse_scale"}``."""
    rows = [e for e in report.get("before", []) if e.get("rmse", 0) > 0]
    return sorted(rows, key=lambda e: -float(e["rmse_scale"]))


def layer_error_figure(report: dict):
    """Horizontal bars of RMSE / scale per layer: before (all int8) and after the repair."""
    before = report.get("before") or []
    title = "Per-layer int8 error (RMSE / quantization step)"
    fig = go.Figure()
    if not before:
        fig.add_annotation(text="No per-layer measurement in this report", showarrow=False,
                           x=0.5, y=0.5, xref="paper", yref="paper")
        return style.apply_layout(fig, title, "", "", height=260)
    names = [f"{e['layer']} ({e['op']})" for e in before]
    kept = {k["name"] for k in report.get("kept_float") or []}
    after = {e["name"]: e for e in report.get("after") or []}
    floor = 0.05   # log axis: exact ops (error 0) are drawn at the left edge
    fig.add_trace(go.Bar(
        y=names, x=[max(float(e["rmse_scale"]), floor) for e in before], orientation="h",
        name="all layers int8", marker={"color": BEFORE_COLOR},
        customdata=[[numbers.sig(e["rmse_scale"]), numbers.sig(e["rmse"]),
                     numbers.sig(e["scale"]), e["name"]] for e in before],
        hovertemplate="<b>%{y}</b><br>RMSE / scale: %{customdata[0]}<br>RMSE "
                      "%{customdata[1]}, scale %{customdata[2]}<br>%{customdata[3]}"
                      "<extra>int8</extra>"))
    if report.get("after") or kept:
        count = len(kept)
        fig.add_trace(go.Bar(
            y=names, x=[max(float(after[e["name"]]["rmse_scale"]), floor)
                        if e["name"] in after else None for e in before],
            orientation="h", name=f"with {count} layer{'s' if count != 1 else ''} kept in float",
            marker={"color": AFTER_COLOR},
            customdata=[numbers.sig(after[e["name"]]["rmse_scale"]) if e["name"] in after
                        else "" for e in before],
            hovertemplate="<b>%{y}</b><br>RMSE / scale: %{customdata}<extra>after</extra>"))
        # A layer kept in float has no int8 "after" bar: say so in that empty slot (the lower
        # half of its row), where nothing else is drawn.
        for name, entry in zip(names, before):
            if entry["name"] in kept:
                fig.add_annotation(x=math.log10(floor * 1.2), y=name, yshift=-7, xanchor="left",
                                   text="<b>kept in float</b>", showarrow=False,
                                   font={"size": style.FONT_SIZE - 3, "color": AFTER_COLOR})
    fig.add_vline(x=ROUNDING, line={"color": "#8d8d8d", "dash": "dash", "width": 2},
                  annotation_text="rounding only (0.29)", annotation_position="bottom right",
                  annotation_font={"size": style.FONT_SIZE - 3, "color": "#8d8d8d"})
    height = 160 + 26 * len(names) * (2 if report.get("after") else 1)
    style.apply_layout(fig, title, "RMSE / scale (log; 0.29 = rounding only)", "",
                       height=min(max(height, 320), 2400))
    fig.update_layout(barmode="group", bargap=0.25)     # legend on top (style.apply_layout)
    fig.update_xaxes(type="log", dtick=1)
    fig.update_yaxes(autorange="reversed", tickfont={"size": style.FONT_SIZE - 3})
    return fig


def _kb(nbytes):
    return None if nbytes is None else numbers.round_sig(nbytes / 1e3)


def repair_rows(before, after) -> list[dict]:
    """Side-by-side rows for the int8 trial (``before``) and the repaired one (``after``):
    metric, sizes and latency, with the difference the float layers made -- rounded as
    ``optimizer.numbers`` writes them (latency as text: µs below 0.1 ms)."""
    rows = []
    pct = after is not None and after.metric in ("accuracy", "agreement")
    scale = 100.0 if pct else 1.0
    pair = [r for r in (before, after) if r is not None]
    places = numbers.metric_places([r.accuracy for r in pair],
                                   [after.accuracy - before.accuracy] if len(pair) == 2
                                   and None not in (after.accuracy, before.accuracy) else [],
                                   pair[0].metric if pair else "accuracy",
                                   max((r.samples or 0 for r in pair), default=0))
    for name, r in (("all layers int8", before), ("layers kept in float", after)):
        if r is None:
            continue
        rows.append({"Model": f"{r.technique} ({name})",
                     "Accuracy": None if r.accuracy is None else round(r.accuracy * scale, places),
                     "Size (kB)": _kb(r.size_bytes), "gzip (kB)": _kb(r.gzip_bytes),
                     "Latency": numbers.ms(r.latency_ms_median)})
    if before is not None and after is not None:
        latency = None if None in (after.latency_ms_median, before.latency_ms_median) \
            else after.latency_ms_median - before.latency_ms_median
        rows.append({"Model": "difference (cost of the float layers)",
                     "Accuracy": None if None in (after.accuracy, before.accuracy)
                     else round((after.accuracy - before.accuracy) * scale, places),
                     "Size (kB)": None if None in (after.size_bytes, before.size_bytes)
                     else _kb(after.size_bytes - before.size_bytes),
                     "gzip (kB)": None if None in (after.gzip_bytes, before.gzip_bytes)
                     else _kb(after.gzip_bytes - before.gzip_bytes),
                     "Latency": numbers.MISSING if latency is None else
                     ("+" if latency > 0 else "") + numbers.ms(latency)})
    return rows


def attempt_rows(report: dict) -> list[dict]:
    """One row per number of layers tried in float: which, the metric and the size."""
    rows = []
    short = {e["name"]: e["layer"] for e in report.get("before") or []}
    for a in report.get("attempts") or []:
        pct = a.get("metric") in ("accuracy", "agreement")
        rows.append({"Layers in float": a.get("count"),
                     "Metric": None if a.get("accuracy") is None else
                     numbers.round_sig(a["accuracy"] * (100.0 if pct else 1.0), 4),
                     "Size (kB)": _kb(a.get("size_bytes", 0)),
                     "Meets the budget": {True: "yes", False: "no"}.get(a.get("meets_budget"),
                                                                         ""),
                     "Ops kept in float": ", ".join(short.get(x, x) for x in a.get("layers")
                                                    or [])})
    return rows
