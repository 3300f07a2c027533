"""The per-layer precision choices of a sensitivity report, as rows for the Per-layer repair
page: what each layer at int16 or float recovers and costs, measured, before you choose.

A sensitivity report (``engine.sensitivity``) holds, on its sensitivity samples, the all-int8
model and, per layer and precision, that model with only that layer changed. A row per layer
gives, for each precision, the metric's change against all-int8 (points for accuracy), the
bytes and the single-invoke latency it adds (short timing rounds, a cost to compare).
``plan_rows`` is the editable table of one precision per layer (the page turns it into a
``LayerPlan``). No streamlit; numbers are written by ``optimizer.numbers``.
"""
from __future__ import annotations

from optimizer import numbers
from optimizer.engine.sensitivity import REPRESENTATIVE_SAMPLES, TRAINING_SAMPLES
from optimizer.guide.goals import metric_word
from optimizer.text import N_, read_back, render, tr

#: The columns' names (message ids; a precision's columns name it: "int16: gain").
GAIN, SIZE, LATENCY = N_("{precision}: gain"), N_("{precision}: size"), N_("{precision}: latency")


def _delta(report: dict, value) -> float | None:
    int8 = report["int8"]["value"]
    if value is None or int8 is None:
        return None
    change = float(value) - float(int8)
    return change if report.get("higher_is_better", True) else -change


def sensitivity_rows(report: dict, precisions) -> list[dict]:
    """One dict per measured layer: ``Layer``, ``Op`` and, per precision in ``precisions``
    (besides int8), its metric gain over all-int8, bytes added and latency."""
    metric = report.get("metric", "accuracy")
    int8 = report["int8"]
    rows = []
    for entry in report.get("layers", []):
        row = {tr("Layer"): entry["name"], tr("Op"): entry.get("op", "")}
        for precision in precisions:
            choice = entry.get("choices", {}).get(precision)
            gain = tr(GAIN, precision=precision)
            if precision == "int8":
                continue
            if choice is None:
                row[gain] = tr("not measured")
                continue
            if choice.get("precision_read") not in (None, precision):
                row[gain] = tr("not available (the Quantizer made it {precision})",
                               precision=choice["precision_read"])
                continue
            row[gain] = numbers.points(_delta(report, choice["value"]), metric)
            row[tr(SIZE, precision=precision)] = "+" + numbers.size(
                int(choice["size_bytes"]) - int(int8["size_bytes"])) if int(
                choice["size_bytes"]) >= int(int8["size_bytes"]) else "-" + numbers.size(
                int(int8["size_bytes"]) - int(choice["size_bytes"]))
            row[tr(LATENCY, precision=precision)] = numbers.ms(choice.get("latency_ms"))
        rows.append(row)
    return rows


def sensitivity_summary(report: dict) -> str:
    """One sentence: where it was measured and what all-int8 and float score there."""
    metric = report.get("metric", "accuracy")

    def value(v):
        return numbers.metric_value(v, metric)

    split = report.get("split")
    split = render(read_back(split, (TRAINING_SAMPLES, REPRESENTATIVE_SAMPLES))) if split \
        else tr("the sensitivity samples")
    return tr("Measured on {split} ({metric}): float {float}, all layers int8 {int8}, {size}, "
              "{ms} per invoke. Each column below changes one layer only; the gains of several "
              "layers need not add up, which is why every plan is verified by a real trial.",
              split=split, metric=render(metric_word(metric)),
              float=value(report["float"]["value"]), int8=value(report["int8"]["value"]),
              size=numbers.size(report["int8"]["size_bytes"]),
              ms=numbers.ms(report["int8"].get("latency_ms")))


def plan_rows(report: dict, plan_layers: dict | None = None) -> list[dict]:
    """``{"Layer", "Op", "Precision"}`` per measured layer, the precision from
    ``plan_layers`` (``{layer: precision}``, default int8)."""
    chosen = dict(plan_layers or {})
    return [{"Layer": e["name"], "Op": e.get("op", ""),
             "Precision": chosen.get(e["name"], "int8")} for e in report.get("layers", [])]
