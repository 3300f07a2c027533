"""The model card on the Model page, the same for a demo and an upload: cached lookup, the
facts and rows it shows, and ``show_card`` drawing it."""
from __future__ import annotations

import streamlit as st

from optimizer import describe_model
from optimizer.report import numbers

from . import layout
from .table import MISSING


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


def read_card(ref: str) -> dict | None:
    """The card of ``ref`` with a spinner; a failure is shown as one line and gives None."""
    with st.spinner("Reading the model: layers, parameters, float size and ops "
                    "(a few seconds the first time)…"):
        try:
            return model_card(ref)
        except Exception as exc:  # noqa: BLE001 - shown as a message, the journey goes on
            layout.show_error(exc, "Reading the model card")
    return None


#: Why a model without Keras layers (a SavedModel or a .tflite upload) lists none.
NO_LAYERS = ("A {kind} has no Keras layers to list: its LiteRT ops are on the right, and its "
             "inputs and outputs above.")
KINDS = {"saved-model": "SavedModel", "tflite": ".tflite file"}


def card_facts(card: dict, demo=None) -> list[tuple[str, str, str]]:
    """(label, value, help) for the metric row: parameters, float size, input, output, classes.
    A fact the model does not have (a .tflite upload's layers) is "–", its help says why."""
    params = card.get("params")
    classes = card.get("num_classes") or (demo.num_classes if demo else None)
    layers = card.get("layers") or []
    return [
        ("Parameters", numbers.count(params) if isinstance(params, int) else "–",
         "Trainable and non-trainable weights of the model." if isinstance(params, int) else
         "Not recorded for this kind of model (no Keras model to count them in)."),
        ("Float32 size", numbers.size(card.get("float32_tflite_bytes")),
         "The float32 .tflite file converted from it: the baseline every variant is compared "
         "with (1 kB = 1,000 bytes)."),
        ("Input shape", _shape(card.get("input_shape")), "One sample, without the batch axis."),
        ("Classes", str(classes), "How many classes the model tells apart.") if classes else
        ("Output shape", _shape(card.get("output_shape")), "What the model predicts."),
        ("Layers", str(len(layers)) if layers else "–",
         "Keras layers, listed below." if layers else "No Keras layers in this kind of model."),
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


def show_card(card: dict, demo=None) -> None:
    """The model card: the facts row, the architecture, the float32 file's ops and the data.
    The same for a built-in demo (``demo``: its catalogue entry) and an upload."""
    facts = card_facts(card, demo)
    # two rows of metrics: one row of five cut "Float32 size" to "156.6…" at 1280 px
    for row in (facts[:3], facts[3:]):
        cols = st.columns(3)
        for col, (label, value, help_text) in zip(cols, row):
            col.metric(label, value, help=help_text, border=True)
    left, right = st.columns([3, 2], gap="large")
    layers = card.get("layers") or []
    with left:
        layout.section("Architecture", "Each layer with its output shape and parameter count.")
        if layers:
            st.dataframe(layer_rows(card), hide_index=True, placeholder=MISSING, width="stretch",
                         height=min(38 + 35 * len(layers), 420))
        else:
            st.caption(NO_LAYERS.format(kind=KINDS.get(card.get("kind"), "model")))
    with right:
        layout.section("LiteRT ops in the float32 file",
                       "The operators the converted model uses; hardware delegates support "
                       "different subsets.")
        ops = card.get("ops") or []
        st.markdown(", ".join(layout.plain(op) for op in ops) or "not reported")
        splits = card.get("data") or {}
        if splits:
            layout.section("Data that comes with it" if demo else "Your data")
            st.markdown("  \n".join(split_lines(splits)))
        if demo is not None:
            st.caption(f"Input: {demo.input_description}.")
