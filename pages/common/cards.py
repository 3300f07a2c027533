"""The model card on the Model page: cached lookup and the facts/rows it shows."""
from __future__ import annotations

import streamlit as st

from optimizer import describe_model, numbers


@st.cache_data(show_spinner=False, max_entries=32)
def model_card(ref: str, data: str | None = None) -> dict:
    """The model card of ``ref`` (a TensorFlow subprocess the first time, then a disk cache)."""
    return describe_model(ref, data)


def _shape(value) -> str:
    """A shape without its batch axis (as the card stores it), e.g. "8 × 8 × 1"."""
    if value is None:
        return "?"
    if value and isinstance(value[0], list):          # several inputs or outputs
        return ", ".join(_shape(v) for v in value)
    return " × ".join("any" if d in (None, -1) else str(d) for d in value) or "scalar"


def _kb(nbytes) -> str:
    return numbers.size(nbytes) if nbytes else "?"


def card_facts(card: dict, demo=None) -> list[tuple[str, str, str]]:
    """(label, value, help) for the metric row: parameters, float size, input, output, classes."""
    params = card.get("params")
    classes = card.get("num_classes") or (demo.num_classes if demo else None)
    return [
        ("Parameters", numbers.count(params) if isinstance(params, int) else "?",
         "Trainable and non-trainable weights of the Keras model."),
        ("Float32 size", _kb(card.get("float32_tflite_bytes")),
         "The float32 .tflite file converted from it: the baseline every variant is compared "
         "with (1 kB = 1,000 bytes)."),
        ("Input shape", _shape(card.get("input_shape")), "One sample, without the batch axis."),
        ("Classes", str(classes), "How many classes the model tells apart.") if classes else
        ("Output shape", _shape(card.get("output_shape")), "What the model predicts."),
        ("Layers", str(len(card.get("layers") or [])), "Keras layers, listed below."),
    ]


def layer_rows(card: dict) -> list[dict]:
    """One display row per layer: name, type, output shape, parameters."""
    rows = []
    for layer in card.get("layers") or []:
        rows.append({"Layer": layer.get("name", ""), "Type": layer.get("type", ""),
                     "Output shape": _shape(layer.get("output_shape")),
                     "Parameters": layer.get("params", 0)})
    return rows


def split_lines(splits: dict) -> list[str]:
    """The sample counts of a demo's splits, saying that the representative samples are drawn
    from the training split (so the counts do not add up to more than the data set)."""
    lines = []
    for name, count in splits.items():
        if name == "representative" and "train" in splits:
            lines.append(f"**representative**: {numbers.count(count)} samples, drawn from the training "
                         "split (not extra data)")
        else:
            lines.append(f"**{name}**: {numbers.count(count)} samples")
    return lines
