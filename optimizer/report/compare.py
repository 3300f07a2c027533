"""Two runs side by side on one chart: accuracy against download size, one colour per run."""
from __future__ import annotations

import plotly.graph_objects as go

from optimizer import numbers
from optimizer.guide.schema import results_frame
from optimizer.report import style
from optimizer.report.charts import empty_figure, measured

#: One colour per compared run (colour-blind safe pair), and a marker each.
RUN_STYLES = (("#0b7a75", "circle"), ("#d95f02", "diamond"))


def compare_figure(runs: list[tuple[str, list]]):
    """Accuracy vs gzip size for each ``(label, results)`` (two runs), every measured result
    a point labelled with its technique; the float32 baselines drawn hollow."""
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
    fig = go.Figure()
    for number, (label, frame) in enumerate(frames):
        color, symbol = RUN_STYLES[number % len(RUN_STYLES)]
        hollow = [f"{symbol}-open" if base else symbol for base in frame["is_baseline"]]
        fig.add_trace(go.Scatter(
            x=frame["gzip_bytes"] / divisor, y=frame["accuracy"] * scale, mode="markers+text",
            name=label, text=list(frame["technique"]), textposition="top center",
            marker={"color": color, "symbol": hollow, "size": 13, "line": {"width": 2,
                                                                          "color": color}},
            customdata=[f"{numbers.size(b)}<br>{numbers.sig(a * scale)}"
                        for b, a in zip(frame["gzip_bytes"], frame["accuracy"])],
            hovertemplate=f"{label}<br>%{{text}}<br>%{{customdata}}<extra></extra>"))
    return style.apply_layout(fig, title, f"Download size, gzip -9 ({unit})", y_title)
