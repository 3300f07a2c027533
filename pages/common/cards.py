"""The model card on the Model page: cached lookup and the facts/rows it shows."""
from __future__ import annotations

import streamlit as st

from optimizer import describe_model
from optimizer.text import N_, tr


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
    return " × ".join(tr("any") if d in (None, -1) else str(d) for d in value) or tr("scalar")


def _kb(nbytes) -> str:
    if not nbytes:
        return "?"
    return f"{nbytes / 1e6:,.2f} MB" if nbytes >= 1e6 else f"{nbytes / 1e3:,.1f} kB"


def card_facts(card: dict, demo=None) -> list[tuple[str, str, str]]:
    """(label, value, help) for the metric row: parameters, float size, input, output, classes."""
    params = card.get("params")
    classes = card.get("num_classes") or (demo.num_classes if demo else None)
    return [
        (tr("Parameters"), f"{params:,}" if isinstance(params, int) else "?",
         tr("Trainable and non-trainable weights of the Keras model.")),
        (tr("Float32 size"), _kb(card.get("float32_tflite_bytes")),
         tr("The float32 .tflite file converted from it: the baseline every variant is compared "
            "with (1 kB = 1,000 bytes).")),
        (tr("Input shape"), _shape(card.get("input_shape")),
         tr("One sample, without the batch axis.")),
        (tr("Classes"), str(classes), tr("How many classes the model tells apart."))
        if classes else
        (tr("Output shape"), _shape(card.get("output_shape")), tr("What the model predicts.")),
        (tr("Layers"), str(len(card.get("layers") or [])), tr("Keras layers, listed below.")),
    ]


def layer_rows(card: dict) -> list[dict]:
    """One display row per layer: name, type, output shape, parameters."""
    rows = []
    for layer in card.get("layers") or []:
        rows.append({tr("Layer"): layer.get("name", ""), tr("Type"): layer.get("type", ""),
                     tr("Output shape"): _shape(layer.get("output_shape")),
                     tr("Parameters"): layer.get("params", 0)})
    return rows


#: A data set's splits as the card names them.
SPLITS = {"train": N_("train"), "test": N_("test"), "representative": N_("representative")}


def split_lines(splits: dict) -> list[str]:
    """The sample counts of a demo's splits, saying that the representative samples are drawn
    from the training split (so the counts do not add up to more than the data set)."""
    lines = []
    for name, count in splits.items():
        if name == "representative" and "train" in splits:
            lines.append(tr("**{split}**: {count} samples, drawn from the training split (not "
                            "extra data)", split=tr("representative"), count=f"{count:,}"))
        else:
            lines.append(tr("**{split}**: {count} samples", split=tr(SPLITS.get(name, name)),
                            count=f"{count:,}"))
    return lines
