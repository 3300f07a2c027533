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
from optimizer.report import numbers, style
from optimizer.report.charts import budget_line, empty_figure, point_labels
from optimizer.report.judge import accuracy_budget
from optimizer.search.candidates import trial_spec
from optimizer.search.pareto import size_of

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
    texts, sides = point_labels(xs, ys, [r.technique for r in rows],
                                x_range=(0.0, max(xs) * 1.05), y_range=y_range,
                                first=("float32", outcome.best or ""))
    for r, x, y, text, side in zip(rows, xs, ys, texts, sides):
        best, on_front = r.technique == outcome.best, r.technique in outcome.pareto
        latency = numbers.ms(r.latency_ms_median) if _ok(r.latency_ms_median) \
            else "not measured"
        fig.add_trace(go.Scatter(
            x=[x], y=[y], mode="markers+text", text=[text], textposition=side,
            textfont={"size": style.FONT_SIZE - 3},
            name=r.technique,
            marker={"size": 22 if best else 14,
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
                               ax=0, ay=-42, font={"size": style.FONT_SIZE - 1})
    budget_line(fig, budget, scale, "%" if scale == 100.0 else "", higher)
    style.apply_layout(fig, title, f"{axis} ({unit})", label)
    # no line through the front: it is a front over three axes, drawn here on two
    fig.update_layout(showlegend=False, margin={"t": 110}, title={"subtitle": {"text": (
        "Arrow: the best trial (smallest meeting every goal) · green outline: Pareto front "
        "over accuracy, size and latency")}})
    fig.update_yaxes(range=list(y_range))
    fig.update_xaxes(rangemode="tozero")
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
