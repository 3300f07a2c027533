"""Two runs side by side on one chart: accuracy against download size, one colour per run."""
from __future__ import annotations

import plotly.graph_objects as go

from optimizer import numbers
from optimizer.guide.schema import results_frame
from optimizer.report import labels as marks
from optimizer.report import style
from optimizer.report.charts import empty_figure, finish_labels, measured, y_range_of

#: One colour per compared run (colour-blind safe pair), and a marker each.
RUN_STYLES = (("#0b7a75", "circle"), ("#d95f02", "diamond"))


def compare_figure(runs: list[tuple[str, list]]):
    """Accuracy vs gzip size for each ``(label, results)`` (two runs), every measured result
    a point labelled with its technique (``labels.place_labels``: points drawn on top of each
    other share a label); the float32 baselines drawn hollow."""
    frames = [(label, measured(results_frame(results), "gzip_bytes", "accuracy"))
              for label, results in runs]
    frames = [(label, frame) for label, frame in frames if not frame.empty]
    title = "Two runs compared: accuracy against download size"
    if not frames:
        return empty_figure(title, "Neither run has a measured result to compare.")
    metric = str(frames[0][1]["metric"].iloc[0])
    y_title, scale, _unit = style.metric_axis(metric)
    top = max(float(frame["gzip_bytes"].max()) for _, frame in frames)
    divisor, unit = style.size_unit(top)
    points = [(number, label, row) for number, (label, frame) in enumerate(frames)
              for _, row in frame.iterrows()]
    xs = [float(row["gzip_bytes"]) / divisor for _, _, row in points]
    ys = [float(row["accuracy"]) * scale for _, _, row in points]
    x_range = (0.0, max(xs) * 1.08)
    y_range = y_range_of([row["accuracy"] for _, _, row in points], None, scale)
    plot = marks.plot_of(x_range, y_range, style.HEIGHT, *style.MARGIN_TB)
    labels = marks.place_labels(xs, ys, [style.result_name(row) for _, _, row in points], plot,
                                13, first=("float32",))
    texts, sides = marks.label_texts(labels, len(points))
    legend = marks.legend_points(labels)
    fig = go.Figure()
    shown_runs = set()
    for k, (number, label, row) in enumerate(points):
        color, symbol = RUN_STYLES[number % len(RUN_STYLES)]
        technique = style.result_name(row)
        # the run's first point names the run in the legend; a point without room for its
        # label is named there too ("run: technique")
        named = k in legend
        fig.add_trace(go.Scatter(
            x=[xs[k]], y=[ys[k]], mode="markers+text", ids=[technique],
            name=f"{label}: {technique}" if named else label, legendgroup=label,
            showlegend=named or number not in shown_runs,
            text=[texts[k]], textposition=sides[k], textfont={"size": style.FONT_SIZE - 3},
            marker={"color": color, "size": 13, "line": {"width": 2, "color": color},
                    "symbol": f"{symbol}-open" if row["is_baseline"] else symbol},
            hovertemplate=f"{label}<br>{technique}<br>{numbers.size(row['gzip_bytes'])}<br>"
                          f"{numbers.sig(ys[k])}<extra></extra>"))
        shown_runs.add(number)
    style.apply_layout(fig, title, f"Download size, gzip -9 ({unit})", y_title)
    finish_labels(fig, labels, xs, ys)
    fig.update_layout(showlegend=True)       # the runs' colours are named in the legend
    fig.update_xaxes(range=list(x_range))
    fig.update_yaxes(range=list(y_range))
    return fig
