"""Plotly figures of a run's measured results (a ``results_frame`` DataFrame), no streamlit.

Every figure plots only rows with ``status == "ok"`` and values that were measured; nothing
is estimated. Axis titles carry units, colours come from ``style.technique_color`` so a
technique looks the same in every chart, and the float32 baseline is always labelled.
"""
from __future__ import annotations

import math

import plotly.graph_objects as go

from optimizer.report import labels as marks
from optimizer.report import numbers, style
from optimizer.report.pareto import frame_front

#: size kind -> (column, chart title words, axis title words)
SIZE_COLUMNS = {"raw": ("size_bytes", "size on disk", "Size on disk"),
                "gzip": ("gzip_bytes", "download size (gzip -9)", "Download size, gzip -9")}


def _ok(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def measured(frame, *columns):
    """The rows of ``frame`` that ran and have every given column measured."""
    rows = frame[frame["status"] == "ok"] if "status" in frame.columns else frame
    for column in columns:
        if rows.empty:
            break
        rows = rows[rows[column].map(_ok).astype(bool)]
    return rows


def _metric(frame) -> tuple[str, float, str, bool]:
    metric = str(frame["metric"].dropna().iloc[0]) if frame["metric"].notna().any() else "accuracy"
    label, scale, unit = style.metric_axis(metric)
    higher = bool(frame["higher_is_better"].dropna().iloc[0]) \
        if frame["higher_is_better"].notna().any() else True
    return label, scale, unit, higher


def empty_figure(title: str, message: str):
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper",
                       yref="paper", font={"size": style.FONT_SIZE})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style.apply_layout(fig, title, "", "", height=260)


def _names(rows) -> list[str]:
    """Each row's shown name (``style.result_name``: "as uploaded (int8)" or the technique)."""
    return [style.result_name(row) for _, row in rows.iterrows()]


def _baseline_names(rows) -> tuple:
    base = rows.get("is_baseline")
    if base is None:
        return ("float32",)
    return tuple(name for name, is_base in zip(_names(rows), base) if is_base) or ("float32",)


def _label(technique: str, is_baseline: bool) -> str:
    return f"{technique} (baseline)" if is_baseline else technique


def budget_words(threshold, scale, unit, higher) -> str:
    """The words written at the budget line: the limit in the decimals the baseline's value
    has (float32's 98.667 less 1 point reads 97.667, as the table writes 98.667)."""
    value = threshold * scale
    text = numbers.fixed(value, numbers.needed_places(value, 5))
    return f"accuracy budget: {'≥' if higher else '≤'} {text}{unit}"


def budget_line(fig, threshold, scale, unit, higher):
    """Dashed horizontal line at the worst acceptable metric value, with a shaded 'miss' side."""
    if threshold is None:
        return
    y = threshold * scale
    fig.add_hline(y=y, line={"color": style.BUDGET_COLOR, "dash": "dash", "width": 2},
                  annotation_text=budget_words(threshold, scale, unit, higher),
                  annotation_position="bottom right" if higher else "top right",
                  annotation_font={"color": style.BUDGET_COLOR, "size": style.FONT_SIZE - 2})
    fig.add_hrect(y0=y, y1=y - 1e9 if higher else y + 1e9, fillcolor=style.BUDGET_COLOR,
                  opacity=0.06, line_width=0, layer="below")


def budget_box(plot, threshold, scale, unit, higher) -> tuple:
    """The pixels the budget line's words take (right end, on the miss side): no point label
    goes there. An empty box without a budget."""
    if threshold is None:
        return ()
    width, height = marks.text_size(budget_words(threshold, scale, unit, higher))
    width *= (style.FONT_SIZE - 2) / (style.FONT_SIZE - 3)
    y = plot.y.position(threshold * scale)
    return ((plot.x.pixels - width, plot.x.pixels, y - height - 2, y) if higher
            else (plot.x.pixels - width, plot.x.pixels, y, y + height + 2)),


def finish_labels(fig, labels, xs, ys, log_x: bool = False):
    """Draw the point labels that need a leader line, and the legend for the points whose
    label found no place (their traces were made with ``showlegend``); call it after
    ``style.apply_layout``."""
    marks.add_leader_labels(fig, labels, xs, ys, log_x, font_size=style.FONT_SIZE - 3)
    unplaced = marks.legend_points(labels)
    if not unplaced:
        fig.update_layout(showlegend=False)
        return
    for trace in fig.data:                 # lines (the front) stay out of this legend
        if not trace.ids:
            trace.showlegend = False
    # under the x axis, one entry a row, in a margin of its own: the plot keeps the height
    # its labels were placed for
    rows = sum(1 for t in fig.data if t.showlegend)
    extra = 12 + 21 * rows
    fig.update_layout(showlegend=True, height=fig.layout.height + extra,
                      margin={"b": fig.layout.margin.b + extra},
                      legend={"orientation": "v", "x": 0.0, "xanchor": "left", "y": 0.0,
                              "yanchor": "bottom", "yref": "container"})


def y_range_of(values, threshold, scale):
    """A y range that shows every point and the budget line with a little headroom."""
    ys = [v * scale for v in values]
    if threshold is not None:
        ys.append(threshold * scale)
    low, high = min(ys), max(ys)
    pad = max((high - low) * 0.15, 0.5 if scale == 100.0 else abs(high) * 0.05 or 0.01)
    return [low - pad, high + pad]


def accuracy_size_figure(frame, size: str = "gzip", budget: float | None = None):
    """Accuracy vs size (kB or MB) per technique, with the Pareto front and the budget line.

    ``size`` is "raw" (bytes on disk) or "gzip" (gzip level 9, the download size);
    ``budget`` is the worst acceptable metric value (``judge.accuracy_budget``) or None.
    """
    if size not in SIZE_COLUMNS:
        raise ValueError(f"size must be 'raw' or 'gzip', not {size!r}")
    column, what, axis = SIZE_COLUMNS[size]
    title = f"Accuracy vs {what}"
    rows = measured(frame, column, "accuracy")
    if rows.empty:
        return empty_figure(title, "No measured results yet")
    label, scale, unit, higher = _metric(rows)
    divisor, size_label = style.size_unit(rows[column].max())
    fig = go.Figure()
    front = frame_front(rows, {column: "min", "accuracy": "max" if higher else "min"})
    if len(front) > 1:
        pts = rows.loc[front]
        fig.add_trace(go.Scatter(
            x=pts[column] / divisor, y=pts["accuracy"] * scale, mode="lines",
            line={"color": style.FRONT_COLOR, "dash": "dot", "width": 2, "shape": "hv"},
            name="Pareto front", hoverinfo="skip"))
    y_range = y_range_of(rows["accuracy"], budget, scale)
    xs, ys = list(rows[column] / divisor), list(rows["accuracy"] * scale)
    x_range = (0.0, max(xs) * 1.08)
    plot = marks.plot_of(x_range, y_range, style.HEIGHT, *style.MARGIN_TB)
    sizes = [18 if base else 15 for base in rows.get("is_baseline", [False] * len(rows))]
    labels = marks.place_labels(xs, ys, _names(rows), plot, sizes,
                                first=_baseline_names(rows),
                                reserved=budget_box(plot, budget, scale, unit, higher))
    texts, sides = marks.label_texts(labels, len(rows))
    legend = marks.legend_points(labels)
    for number, ((index, row), text, side) in enumerate(zip(rows.iterrows(), texts, sides)):
        is_base = bool(row.get("is_baseline", False))
        ratio = row["gzip_ratio"] if size == "gzip" else row["size_ratio"]
        on_front = index in front
        fig.add_trace(go.Scatter(
            x=[xs[number]], y=[ys[number]], mode="markers+text", ids=[style.result_name(row)],
            name=_label(style.result_name(row), is_base), text=[text], showlegend=number in legend,
            textposition=side, textfont={"size": style.FONT_SIZE - 3},
            marker={"size": sizes[number], "color": style.technique_color(row["technique"]),
                    "symbol": style.technique_symbol(row["technique"]),
                    "line": {"width": 3 if on_front else 1,
                             "color": style.FRONT_COLOR if on_front else "rgba(0,0,0,0.4)"}},
            hovertemplate=(f"<b>{style.result_name(row)}</b><br>{label}: "
                           f"{numbers.sig(row['accuracy'] * scale)}<br>"
                           f"{what}: {numbers.size(row[column])}"
                           + (f" ({numbers.ratio(ratio)} smaller)" if _ok(ratio) and not is_base
                              else "")
                           + ("<br>on the Pareto front" if on_front else "") + "<extra></extra>"),
        ))
    budget_line(fig, budget, scale, unit, higher)
    style.apply_layout(fig, title, f"{axis} ({size_label})", label)
    fig.update_layout(title={"subtitle": {"text": (
        "Dotted line: the Pareto front<br>(nothing else is both smaller and more accurate)"
        if len(front) > 1 else "Each point is one measured .tflite file")}})
    finish_labels(fig, labels, xs, ys)
    fig.update_yaxes(range=y_range)
    fig.update_xaxes(range=list(x_range))
    return fig


def accuracy_latency_figure(frame, budget: float | None = None):
    """Accuracy vs median latency (ms) with p10-p90 error bars; log x when spans are wide."""
    title = "Accuracy vs latency"
    rows = measured(frame, "latency_ms_median", "accuracy")
    if rows.empty:
        return empty_figure(title, "No latency measured yet")
    label, scale, unit, higher = _metric(rows)
    lows = rows["latency_ms_p10"].where(rows["latency_ms_p10"].map(_ok), rows["latency_ms_median"])
    highs = rows["latency_ms_p90"].where(rows["latency_ms_p90"].map(_ok), rows["latency_ms_median"])
    log_x = bool(lows.min() > 0 and highs.max() / lows.min() > 20)
    # explicit x range (error bars included) so labels can be placed in plot fractions
    x_range = ((lows.min() / 1.25, highs.max() * 1.25) if log_x
               else (0.0, float(highs.max()) * 1.08))
    y_range = y_range_of(rows["accuracy"], budget, scale)
    xs, ys = list(rows["latency_ms_median"]), list(rows["accuracy"] * scale)
    plot = marks.plot_of(x_range, y_range, style.HEIGHT, *style.MARGIN_TB, log_x=log_x)
    labels = marks.place_labels(xs, ys, _names(rows), plot, 15, first=_baseline_names(rows),
                                reserved=budget_box(plot, budget, scale, unit, higher))
    texts, sides = marks.label_texts(labels, len(rows))
    legend = marks.legend_points(labels)
    fig = go.Figure()
    for number, ((_, row), text, side) in enumerate(zip(rows.iterrows(), texts, sides)):
        median = float(row["latency_ms_median"])
        p10 = float(row["latency_ms_p10"]) if _ok(row["latency_ms_p10"]) else median
        p90 = float(row["latency_ms_p90"]) if _ok(row["latency_ms_p90"]) else median
        threads = row.get("latency_threads")
        kernels = row.get("latency_kernels") or "n/a"
        fig.add_trace(go.Scatter(
            x=[median], y=[ys[number]], mode="markers+text", ids=[style.result_name(row)],
            name=_label(style.result_name(row), bool(row.get("is_baseline", False))),
            text=[text], showlegend=number in legend,
            textposition=side,
            textfont={"size": style.FONT_SIZE - 3},
            error_x={"type": "data", "symmetric": False, "array": [max(p90 - median, 0.0)],
                     "arrayminus": [max(median - p10, 0.0)], "thickness": 2, "width": 6,
                     "color": style.technique_color(row["technique"])},
            marker={"size": 15, "color": style.technique_color(row["technique"]),
                    "symbol": style.technique_symbol(row["technique"]),
                    "line": {"width": 1, "color": "rgba(0,0,0,0.4)"}},
            hovertemplate=(f"<b>{style.result_name(row)}</b><br>{label}: "
                           f"{numbers.sig(row['accuracy'] * scale)}<br>"
                           f"median {numbers.ms(median)} (p10–p90 "
                           f"{numbers.ms_range(p10, p90)})<br>"
                           f"threads: {threads if _ok(threads) else 'n/a'} · kernels: {kernels}"
                           "<extra></extra>"),
        ))
    budget_line(fig, budget, scale, unit, higher)
    style.apply_layout(fig, title, "Latency per inference (median; bars p10–p90)", label)
    fig.update_layout(title={"subtitle": {"text": (
        "One sample per inference: the median of many;<br>bars span the 10th to 90th "
        "percentile")}})
    finish_labels(fig, labels, xs, ys, log_x)
    # explicit ticks with their unit: plotly's log ticks read "2 5 1 2 5" (issue 13, 3)
    tickvals, ticktext = numbers.latency_ticks(x_range[0], x_range[1], log_x)
    fig.update_xaxes(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    if log_x:
        fig.update_xaxes(type="log",
                         range=[math.log10(x_range[0]), math.log10(x_range[1])],
                         title={"text": "Latency per inference (log scale; bars p10–p90)"})
    else:
        fig.update_xaxes(range=list(x_range))
    fig.update_yaxes(range=y_range)
    return fig


def size_bars_figure(frame):
    """Grouped bars per technique: bytes on disk (solid) and gzip -9 bytes (hatched)."""
    title = "Model size: on disk vs compressed (gzip -9)"
    rows = measured(frame, "size_bytes")
    if rows.empty:
        return empty_figure(title, "No measured results yet")
    divisor, unit = style.size_unit(rows["size_bytes"].max())
    names = _names(rows)
    colors = [style.technique_color(t) for t in rows["technique"]]

    def factors(ratios):
        return [numbers.ratio(r) if _ok(r) and not base else "" for r, base
                in zip(ratios, rows.get("is_baseline", [False] * len(rows)))]

    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=names, y=rows["size_bytes"] / divisor, name="On disk", marker={"color": colors},
        text=factors(rows["size_ratio"]), textposition="outside",
        customdata=[numbers.size(b) for b in rows["size_bytes"]],
        hovertemplate="%{x}<br>on disk: %{customdata}<extra></extra>"))
    if rows["gzip_bytes"].map(_ok).any():
        fig.add_trace(go.Bar(
            x=names, y=rows["gzip_bytes"] / divisor, name="gzip -9 (download size)",
            marker={"color": colors, "opacity": 0.65,
                    "pattern": {"shape": "/", "fgcolor": "rgba(255,255,255,0.6)"}},
            text=factors(rows["gzip_ratio"]), textposition="outside",
            customdata=[numbers.size(b) for b in rows["gzip_bytes"]],
            hovertemplate="%{x}<br>gzip -9: %{customdata}<extra></extra>"))
    style.apply_layout(fig, title, "Technique", f"Size ({unit}); label = x smaller than float32")
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_yaxes(rangemode="tozero")
    return fig
