"""Figures and tables of a search (``optimizer.search``): its trials, front, best and skips.

``trials_figure`` plots every measured trial as accuracy against size (as the search measured
it: on disk or gzip), outlines the Pareto front over (accuracy, size, latency), points an arrow
at the best trial and draws the accuracy budget; ``trials_table`` and ``skipped_table`` are the rows the
Search page shows. Only measured values are drawn. No streamlit.
"""
from __future__ import annotations

import math

import plotly.graph_objects as go

from optimizer.guide.goals import Goals
from optimizer.report import labels as marks
from optimizer.report import numbers, style
from optimizer.report.charts import budget_box, budget_line, empty_figure, finish_labels
from optimizer.report.judge import accuracy_budget
from optimizer.search.candidates import trial_spec
from optimizer.search.pareto import size_of

#: The top margin: the title and a two-line subtitle above the arrow's room.
MARGIN_TOP = 120
#: How far above the best trial the "best" arrow starts, pixels.
BEST_ARROW_PX = 42

_SIZE_WORDS = {"raw": ("size on disk", "Size on disk"),
               "gzip": ("download size (gzip -9)", "Download size, gzip -9")}


def _ok(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _goals(outcome) -> Goals | None:
    try:
        return Goals.from_dict(outcome.goals) if outcome.goals else None
    except ValueError:
        return None


def trials_figure(outcome):
    """Accuracy vs size of every measured trial of ``outcome`` (a ``SearchOutcome``)."""
    measure = outcome.size_measure
    what, axis = _SIZE_WORDS[measure]
    title = f"Search: accuracy vs {what}"
    rows = [r for r in outcome.trials if r.ok and _ok(r.accuracy) and size_of(r, measure)]
    if not rows:
        return empty_figure(title, "No trial measured yet")
    metric = rows[0].metric or "accuracy"
    label, scale, _unit = style.metric_axis(metric)
    higher = bool(rows[0].higher_is_better)
    divisor, unit = style.size_unit(max(size_of(r, measure) for r in rows))
    xs = [size_of(r, measure) / divisor for r in rows]
    ys = [r.accuracy * scale for r in rows]
    budget = accuracy_budget(rows, _goals(outcome))
    low = min(ys + ([budget * scale] if budget is not None else []))
    high = max(ys + ([budget * scale] if budget is not None else []))
    # room above the top point for its label and the "best" arrow (issue 13, 10)
    pad = max((high - low) * 0.25, 0.8)
    y_range = (low - pad, high + pad)
    fig = go.Figure()
    x_range = (0.0, max(xs) * 1.08)
    plot = marks.plot_of(x_range, y_range, style.HEIGHT, MARGIN_TOP, style.MARGIN_TB[1])
    sizes = [22 if r.technique == outcome.best else 14 for r in rows]
    reserved = budget_box(plot, budget, scale, "%" if scale == 100.0 else "", higher)
    for r, x, y in zip(rows, xs, ys):
        if r.technique == outcome.best:      # the arrow and its word, above the best trial
            px, py = plot.pixels(x, y)
            reserved += ((px - 3, px + 3, py + 8, py + BEST_ARROW_PX),
                         (px - 22, px + 22, py + BEST_ARROW_PX - 4, py + BEST_ARROW_PX + 18))
    labels = marks.place_labels(xs, ys, [r.technique for r in rows], plot, sizes,
                                first=("float32", outcome.best or ""), reserved=reserved)
    texts, sides = marks.label_texts(labels, len(rows))
    legend = marks.legend_points(labels)
    for number, (r, x, y, text, side) in enumerate(zip(rows, xs, ys, texts, sides)):
        best, on_front = r.technique == outcome.best, r.technique in outcome.pareto
        latency = numbers.ms(r.latency_ms_median) if _ok(r.latency_ms_median) \
            else "not measured"
        fig.add_trace(go.Scatter(
            x=[x], y=[y], mode="markers+text", text=[text], textposition=side,
            textfont={"size": style.FONT_SIZE - 3}, ids=[r.technique],
            name=r.technique, showlegend=number in legend,
            marker={"size": sizes[number],
                    "symbol": style.technique_symbol(trial_spec(r.technique)),
                    "color": style.technique_color(trial_spec(r.technique)),
                    "line": {"width": 3 if on_front else 1,
                             "color": style.FRONT_COLOR if on_front else "rgba(0,0,0,0.4)"}},
            hovertemplate=(f"<b>{r.technique}</b>{' (best)' if best else ''}<br>{label}: "
                           f"{numbers.sig(y)}<br>{what}: {numbers.size(size_of(r, measure))}"
                           f"<br>latency: {latency}"
                           + ("<br>on the Pareto front" if on_front else "")
                           + "<extra></extra>")))
        if best:
            fig.add_annotation(x=x, y=y, text="<b>best</b>", showarrow=True, arrowhead=2,
                               ax=0, ay=-BEST_ARROW_PX, font={"size": style.FONT_SIZE - 1},
                               name="best")
    budget_line(fig, budget, scale, "%" if scale == 100.0 else "", higher)
    style.apply_layout(fig, title, f"{axis} ({unit})", label)
    # no line through the front: it is a front over three axes, drawn here on two
    fig.update_layout(margin={"t": MARGIN_TOP}, title={"subtitle": {"text": (
        "Arrow: the best trial (smallest meeting every goal)<br>green outline: Pareto front "
        "over accuracy, size and latency")}})
    finish_labels(fig, labels, xs, ys)
    fig.update_yaxes(range=list(y_range))
    fig.update_xaxes(range=list(x_range))
    return fig


def _goal_cell(check) -> str:
    """The Goals cell of a trial from its ``GoalCheck`` or its dict (an outcome read back)."""
    from optimizer.guide.verdicts import STATE_CELLS, state_of

    if check is None:
        return ""
    state = getattr(check, "state", None)
    if state is None:
        state = check.get("state") or check.get("met")
    return STATE_CELLS[state_of(state)]


def trials_places(outcome) -> int:
    """The decimals the trials' metric values share (``numbers.metric_places``)."""
    from optimizer import numbers

    base = outcome.trial("float32")
    metric = (base.metric if base is not None else None) or "accuracy"
    return numbers.metric_places([r.accuracy for r in outcome.trials],
                                 [r.delta_value for r in outcome.trials
                                  if r.technique != "float32"], metric,
                                 max((r.samples or 0 for r in outcome.trials), default=0))


def trials_table(outcome) -> list[dict]:
    """One display row per trial: goals verdict, the metric with its interval and its change
    (with the paired test's p-value), sizes, latency (as ``optimizer.numbers`` writes it: µs
    below 0.1 ms), front/best marks."""
    from optimizer import numbers

    rows = []
    base = outcome.trial("float32")
    places = trials_places(outcome)
    for r in outcome.trials:
        scale = numbers.metric_scale(r.metric)
        rows.append({
            "Trial": r.technique,
            "Best": "★" if r.technique == outcome.best else "",
            "Pareto": "●" if r.technique in outcome.pareto else "",
            "Goals": "baseline" if r.technique == "float32" else
            _goal_cell(outcome.checks.get(r.technique)),
            "Status": r.status,
            "Accuracy": None if r.accuracy is None else round(r.accuracy * scale, places),
            "95 % interval": numbers.interval(r.accuracy_ci, r.metric)
            if r.accuracy_ci else "",
            "Δ (p)": "" if r.technique == "float32" or r.delta_value is None else
            numbers.change(r.delta_value, r.metric)
            + (f" ({numbers.p_value(r.delta_p)})" if r.delta_p is not None else ""),
            "Size (kB)": None if r.size_bytes is None else numbers.round_sig(r.size_bytes / 1e3),
            "gzip (kB)": None if r.gzip_bytes is None else numbers.round_sig(r.gzip_bytes / 1e3),
            "x smaller": numbers.round_sig(base.size_bytes / r.size_bytes)
            if base is not None and base.size_bytes and r.size_bytes else None,
            "Latency median": numbers.ms(r.latency_ms_median)
            if r.latency_ms_median is not None else "",
            "Note": r.error or next((n for n in (r.notes or ())
                                     if n.startswith("latency not measured")), ""),
        })
    return rows


def skipped_table(outcome) -> list[dict]:
    """One display row per candidate the search did not run, with the reason."""
    return [{"Candidate": s.id, "Why it was not run": s.reason} for s in outcome.skipped]
