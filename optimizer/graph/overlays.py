"""Overlays on a model's graph: one value per op, as Model Explorer's node data.

Four overlays, each built from what a run measured or what the file holds -- never estimated:

* ``int8-error``: each quantized op's int8 error (RMSE / scale, the per-layer repair's
  measurement, ``graph.analyse``), matched to the file's ops by output tensor name (then by
  layer and op type); the worst op carries its own colour and is the one the view opens on;
* ``placement``: where each op runs on the chosen target, from the readiness check
  (accelerator / cpu / unsupported), "not checked" when there is no verdict;
* ``precision``: what each op computes in, read from the ``.tflite`` itself (``ops.precision``);
* ``kernels``: the kernel each op ran on when its latency was measured (XNNPACK or LiteRT's
  builtin kernels), "not recorded" for a result measured before that was recorded.

``Overlay.node_data()`` is Model Explorer's node-data JSON for one graph
(``{"name", "results": {node id: {"value", "bgColor"}}, "thresholds"}``); saved to a file,
the standalone ``model-explorer MODEL.tflite --node_data_paths FILE`` shows the same colours.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from optimizer.graph.ops import PRECISIONS, precision
from optimizer.guide.targets import TARGET_LABELS
from optimizer.report import numbers

KINDS = ("int8-error", "placement", "precision", "kernels")
TITLES = {"int8-error": "int8 error (RMSE / scale)", "placement": "Op placement",
          "precision": "Precision", "kernels": "Kernel"}

WORST_COLOR = "#b71c1c"
#: RMSE / scale bands: near rounding (1/sqrt(12) = 0.29), a few steps, many steps.
ERROR_BANDS = ((0.5, "#c8e6c9", "up to 0.5: about rounding"), (2.0, "#fff59d", "0.5 to 2"),
               (10.0, "#ffcc80", "2 to 10"), (1e9, "#ef9a9a", "above 10"))
PLACEMENT_COLORS = {"accelerator": "#a5d6a7", "cpu": "#ffe082", "unsupported": "#ef9a9a",
                    "not checked": "#e0e0e0"}
PRECISION_COLORS = dict(zip(PRECISIONS, ("#90caf9", "#ce93d8", "#80cbc4", "#a5d6a7",
                                         "#fff59d", "#ffcc80", "#ffab91", "#e0e0e0",
                                         "#f5f5f5")))
KERNEL_COLORS = {"XNNPACK": "#a5d6a7", "builtin": "#ffcc80", "not recorded": "#e0e0e0"}


@dataclass(frozen=True)
class Overlay:
    """One overlay for one ``.tflite``: ``results`` maps node ids to ``{"value", "bgColor"}``;
    ``legend`` is ``((label, colour, count), ..)``; ``note`` says where the values come from;
    ``focus`` is the node id the view opens on (the worst op of the error overlay)."""

    kind: str
    results: dict
    legend: tuple = ()
    note: str = ""
    thresholds: tuple = ()
    focus: str | None = None

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    def node_data(self) -> dict:
        """Model Explorer's node-data JSON (one graph), keys are the file's node ids."""
        data = {"name": self.title, "results": {k: dict(v) for k, v in self.results.items()}}
        if self.thresholds:
            data["thresholds"] = [{"value": v, "bgColor": c} for v, c in self.thresholds]
        else:       # categories: sums and averages of words mean nothing
            data["hideInAggregatedStatsTable"] = True
            data["showExpandedSummaryOnGroupNode"] = True
        return data


def _categorical(kind: str, ops, value_of, colors: dict, note: str) -> Overlay:
    results, counts = {}, {}
    for op in ops:
        value = value_of(op)
        if value is None:
            continue
        results[op.node_id] = {"value": value, "bgColor": colors.get(value, "#e0e0e0")}
        counts[value] = counts.get(value, 0) + 1
    order = [v for v in colors if v in counts] + [v for v in counts if v not in colors]
    return Overlay(kind, results, tuple((v, colors.get(v, "#e0e0e0"), counts[v]) for v in order),
                   note)


def precision_overlay(ops) -> Overlay:
    """What each op computes in, read from the file's tensor types."""
    return _categorical("precision", ops, precision, PRECISION_COLORS,
                        "Read from the .tflite: the types of each op's activations and stored "
                        "weights.")


def kernel_overlay(ops, result) -> Overlay:
    """The kernel each op ran on during the latency measurement of ``result``."""
    kernels = list(getattr(result, "latency_op_kernels", None) or [])
    if len(kernels) != len(ops):
        return _categorical("kernels", ops, lambda op: "not recorded", KERNEL_COLORS,
                            "This result's latency run did not record the kernel of each op "
                            "(measured before that was recorded, or not timed); measure it "
                            "again to see them.")
    threads = getattr(result, "latency_threads", None)
    return _categorical("kernels", ops, lambda op: kernels[op.index], KERNEL_COLORS,
                        f"Recorded when its latency was measured ({threads} thread(s)): "
                        f"{getattr(result, 'latency_kernels', None) or '?'}. XNNPACK ops ran "
                        "inside the XNNPACK delegate; builtin ops on LiteRT's own kernels.")


def placement_overlay(ops, verdict: dict | None, target: str) -> Overlay:
    """Where each op runs on ``target``, from the readiness ``verdict`` (its ``ops`` rows).

    A verdict groups ops by kind (op, where, count); ops of one kind are given those places in
    execution order, which is exact when a kind has one place, and is how the Edge TPU
    compiler places them otherwise (the first op it cannot map and every op after it run on
    the CPU). Without a verdict, or with one that could not check (``ready`` null), every op
    is "not checked".
    """
    target = TARGET_LABELS.get(str(target), str(target))
    verdict = verdict or {}
    could_not = "ready" in verdict and verdict["ready"] is None   # claims nothing about ops
    rows = [] if verdict.get("error") or could_not else list(verdict.get("ops") or [])
    if not rows:
        why = (verdict.get("error") or (f"the check could not run: {verdict.get('summary')}"
                                        if could_not else None)
               or "no readiness check has run for this file")
        return _categorical("placement", ops, lambda op: "not checked", PLACEMENT_COLORS,
                            f"Not checked on {target}: {why}. Use **Check readiness** on the "
                            "Results page.")
    queues: dict = {}
    for row in rows:
        queues.setdefault(str(row.get("op")), []).extend([row.get("where")] * int(row["count"]))
    mixed = sorted(op for op, places in queues.items() if len(set(places)) > 1)
    places = {}
    for op in ops:
        queue = queues.get(op.op)
        places[op.index] = queue.pop(0) if queue else "not checked"
    note = (f"From the readiness check on {target} ({verdict.get('method', '?')}): "
            f"{verdict.get('summary', '')}")
    if mixed:
        note += (f" Ops of kind {', '.join(mixed)} run in more than one place; they are placed "
                 "in execution order.")
    return _categorical("placement", ops, lambda op: places.get(op.index), PLACEMENT_COLORS,
                        note)


def error_overlay(ops, report: dict | None) -> Overlay:
    """Each quantized op's int8 error (RMSE / scale) from a per-layer ``report``.

    A measured op is matched to one of the file's ops with the same output tensor name and op
    type, else with the same layer and op type when exactly one op has them. Ops without a
    measurement (QUANTIZE, ops kept in float in this file are still shown by layer) have no
    value.
    """
    from optimizer.engine.layer_error import short_layer_name

    errors = [e for e in (report or {}).get("before") or []
              if isinstance(e.get("rmse_scale"), (int, float)) and math.isfinite(e["rmse_scale"])]
    by_name = {(name, op.op): op for op in ops for name in op.output_names}
    by_layer: dict = {}
    for op in ops:
        for name in op.output_names:
            by_layer.setdefault((short_layer_name(name, op.op), op.op), set()).add(op.index)
    index = {op.index: op for op in ops}
    results, unmatched, worst = {}, 0, None
    for e in errors:
        op = by_name.get((e["name"], e["op"]))
        if op is None:
            found = by_layer.get((short_layer_name(e["name"], e["op"]), e["op"]), set())
            op = index[next(iter(found))] if len(found) == 1 else None
        if op is None or op.node_id in results:
            unmatched += 1
            continue
        value = float(f"{float(e['rmse_scale']):.3g}")
        results[op.node_id] = {"value": value}
        if worst is None or e["rmse_scale"] > worst[1]["rmse_scale"]:
            worst = (op.node_id, e)
    legend = []
    banded = [r["value"] for node, r in results.items() if worst is None or node != worst[0]]
    for (limit, color, label), low in zip(ERROR_BANDS, (-1.0,) + tuple(b[0] for b in ERROR_BANDS)):
        legend.append((label, color, sum(1 for v in banded if low < v <= limit)))
    note = (f"Post-training int8 with every layer quantized, measured on "
            f"{(report or {}).get('debug_samples', '?')} representative samples with TFLite's "
            "QuantizationDebugger: each op's int8 output against its float copy, in "
            "quantization steps (rounding alone gives 0.29). Shown on this file's ops by "
            "output tensor name.")
    if unmatched:
        note += f" {unmatched} measured op(s) have no counterpart in this file."
    focus = None
    if worst is not None:
        focus, e = worst
        results[focus]["bgColor"] = WORST_COLOR
        results[focus]["textColor"] = "#ffffff"
        legend.insert(0, (f"worst: {e['layer']} ({e['op']}), {numbers.sig(e['rmse_scale'])}",
                          WORST_COLOR, 1))
    return Overlay("int8-error", results, tuple(legend), note,
                   tuple((limit, color) for limit, color, _label in ERROR_BANDS), focus)
