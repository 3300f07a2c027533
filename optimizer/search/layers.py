"""Reading the per-layer int8 error reports of a search (written by ``engine.selective``).

Each selective job leaves ``layers.json`` in its folder: every quantized op's RMSE / scale with
all layers int8 ("before") and with the kept layers in float ("after"), which layers stayed
float, and every attempt. ``layer_reports`` lists a search's reports newest first with a label
for each. No TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

from optimizer.artifacts import store

LAYER_REPORT = "layers.json"   # the name engine.selective writes
MODES = {"auto": "automatic repair", "hand": "kept in float by hand",
         "analyse": "per-layer error only"}


def read_layer_report(folder: Path | str) -> dict | None:
    """The layer report in ``folder`` (None when there is none yet)."""
    data = store.read_json(Path(folder) / LAYER_REPORT)
    return data if isinstance(data, dict) else None


def layer_reports(outcome) -> list[dict]:
    """``[{"label", "trial", "mode", "folder", "report"}]`` for every report the search has,
    newest first; reports whose file is missing (a job that failed) are left out."""
    out = []
    for entry in reversed(list(getattr(outcome, "layer_reports", None) or [])):
        report = read_layer_report(entry.get("folder") or "")
        if report is None:
            continue
        kept = [k["layer"] for k in report.get("kept_float") or []]
        what = MODES.get(entry.get("mode"), entry.get("mode") or "")
        label = (f"{entry.get('trial')} · {what}: {', '.join(kept)}" if kept
                 else f"int8 · {what}")
        out.append({**entry, "label": label, "report": report})
    return out


SENSITIVITY_REPORT = "sensitivity.json"   # the name engine.sensitivity writes


def sensitivity_reports(outcome) -> list[dict]:
    """``[{"label", "folder", "mode", "report"}]`` for every sensitivity report of the search
    (the precision search's pass, or one measured by hand), newest first."""
    out = []
    for entry in reversed(list(getattr(outcome, "sensitivity_reports", None) or [])):
        data = store.read_json(Path(entry.get("folder") or "") / SENSITIVITY_REPORT)
        if not isinstance(data, dict):
            continue
        what = "measured by hand" if entry.get("mode") == "hand" else "the search's pass"
        label = (f"each layer at {', '.join(p for p in data.get('precisions', []) if p != 'int8')}"
                 f" · {what}")
        out.append({**entry, "label": label, "report": data})
    return out
