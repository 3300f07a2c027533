"""The "Your own model" half of the Model page: upload, check, and what the check found.

Thin: the browser's files go straight to ``optimizer.models.uploads.accept_upload`` (saved in this
session's folder, checked in a subprocess); this module only lays out widgets and messages.
Nothing here parses the uploaded files except a CSV's header row (for the label column).
Every failure is shown as one line (cause and fix) and the journey goes on.
"""
from __future__ import annotations

import streamlit as st

from optimizer import DATA_LABELS, Answers, DataNeed, numbers
from optimizer.models.uploads import (
    DATA_SUFFIXES,
    MODEL_SUFFIXES,
    PIXEL_RANGES,
    DataOptions,
    accept_upload,
    csv_header,
    current_upload,
    limits,
)
from optimizer.models.uploads.validate import tensors_text
from optimizer.workspace.browser import reset_session, touch

from . import layout, state
from .table import MISSING

UPLOAD = state.UPLOAD          # session-state key: the checked upload this session uses
PIXEL_LABELS = {"0-1": "0 to 1", "0-255": "0 to 255", "-1-1": "-1 to 1"}
NO_LABEL = "(no label column: unlabelled samples)"


def _session_id() -> str:
    state.session_dir()        # makes sure the session has an id
    return state.get(state.SESSION_ID)


def render() -> None:
    """Upload widgets, the check button, and the current upload's summary."""
    sid = _session_id()
    touch(sid)                 # (state.init also sweeps idle sessions' files once per session)
    lim = limits()
    st.markdown(
        f"Upload a **Keras model** (`.h5` / `.keras`, tf_keras or Keras 3), a **zipped "
        f"SavedModel folder** (`.zip`) or a **float `.tflite`**, and **data**: an `.npz` "
        f"(`x_train, y_train, x_test, y_test`, or only `x`; a model with several inputs takes "
        f"one array per input: `x_train.<input name>`, `x_test.<input name>`), a zip of images "
        f"in one folder per class, or a CSV. Up to {lim.max_upload_mb} MB per file. Your files stay in this "
        f"browser session's own folder on the server and are removed when you start over or "
        f"after {numbers.plain(lim.session_max_age_h)} hours of inactivity; nothing in them is "
        "executed.")
    left, right = st.columns(2, gap="large")
    model_file = left.file_uploader(
        "Model file", type=[s.lstrip(".") for s in MODEL_SUFFIXES], key="upload_model",
        max_upload_size=lim.max_upload_mb)
    data_file = right.file_uploader(
        "Data file", type=[s.lstrip(".") for s in DATA_SUFFIXES], key="upload_data",
        max_upload_size=lim.max_upload_mb)
    options = _data_options(right, data_file)
    if st.button("Check my model and data", type="primary", key="upload_check",
                 icon=":material/fact_check:", disabled=model_file is None or data_file is None):
        _check(sid, model_file, data_file, options)
    upload = current_upload(state.get(UPLOAD))
    if upload is not None:
        show_summary(upload)
        if st.button("Remove my uploaded files and start over", key="upload_reset",
                     type="tertiary", icon=":material/delete:"):
            reset_session(sid)
            reset = {UPLOAD: None, state.MODEL: state.DEFAULT_MODEL, state.DATA: None,
                     state.RUN_DIR: None, state.RUN_SPECS: None, state.ANSWERS: None,
                     state.CONFIRMED: False, state.SEARCH_DIR: None}
            for key, value in reset.items():
                state.put(key, value)
            st.rerun()


def _data_options(column, data_file) -> DataOptions:
    """Label column for a CSV, pixel range for an image zip."""
    name = (getattr(data_file, "name", "") or "").lower()
    if name.endswith(".csv"):
        columns = csv_header(data_file.getvalue()[:65536])
        pick = column.selectbox("Label column", [NO_LABEL] + columns, key="upload_label",
                                index=len(columns) if columns else 0,
                                help="The column holding the labels; every other column is an "
                                     "input feature.")
        return DataOptions(label_column=None if pick == NO_LABEL else pick)
    if name.endswith(".zip"):
        pick = column.radio("Scale the image pixels to", list(PIXEL_RANGES), horizontal=True,
                            format_func=PIXEL_LABELS.get, key="upload_pixels",
                            help="Match the preprocessing the model was trained with; images "
                                 "are resized to the model's input size.")
        return DataOptions(pixel_range=pick)
    return DataOptions()


def _check(sid: str, model_file, data_file, options: DataOptions) -> None:
    with st.spinner("Checking your files in a separate process: file types, no code inside, "
                    "the model loads, the data fits it (a few seconds)…"):
        try:
            upload = accept_upload(sid, (model_file.name, model_file),
                                   (data_file.name, data_file), options)
        except ValueError as exc:
            layout.show_error(exc, "Your upload was not accepted")
            return
    use(upload)
    st.rerun()      # redraw everything (the sidebar too) with the new model; the summary stays


def use(upload) -> None:
    """Make a checked upload the session's model; its data decides the tree's data answer."""
    state.put(UPLOAD, upload.manifest_path)
    state.put(state.MODEL, upload.manifest_path)
    state.put(state.DATA, upload.data)
    state.put(state.RUN_SPECS, None)
    state.put(state.RUN_DIR, None)
    state.put(state.SEARCH_DIR, None)         # a search of the previous model is not this one's
    kind = upload.data_kind or "none"
    base = state.default_answers(kind)
    state.put(state.ANSWERS, Answers(
        optimize=base.optimize, data=kind, can_retrain=base.can_retrain and
        not upload.retrain_blocker, target=base.target, size_goal=base.size_goal,
        effort=base.effort, accuracy=base.accuracy))
    state.put(state.CONFIRMED, False)


def _counts(samples) -> str:
    """{"train": 1347, "test": 450} -> "1,347 train · 450 test samples"."""
    if not isinstance(samples, dict):
        return str(samples)
    return " · ".join(f"{numbers.count(n)} {split}" for split, n in samples.items()) \
        + " samples"


def show_summary(upload) -> None:
    """What the check found: model kind, shapes, the rebuild, data answer, notes, warnings."""
    sig = upload.signature
    kinds = {"tf_keras": "tf_keras (Keras 2) model", "keras3": "Keras 3 model",
             "saved-model": "SavedModel", "tflite": "float .tflite"}
    plural = "s" if len(sig["inputs"]) > 1 else ""
    st.success(f"**{layout.plain(upload.title)}** checked: "
               f"{kinds.get(upload.flavor, upload.flavor)}, input{plural} "
               f"{layout.plain(tensors_text(sig['inputs'], ' × '))} → output "
               f"{layout.plain(tensors_text(sig['outputs'], ' × '))}. It is now the model of "
               f"this session.", icon=":material/verified:")
    validation = upload.validation or {}
    kind = validation.get("data_kind")
    if kind:
        counts = _counts(validation.get("samples"))
        st.info(f"**What data do you have?** → *{DATA_LABELS[DataNeed(kind)]}*: decided by "
                f"your upload ({layout.plain(upload.data_title)}: {counts}). The next page starts from this "
                f"answer. Results report **{validation.get('metric')}**.",
                icon=":material/dataset:")
    bridge = upload.bridge or {}
    if "max_abs_diff" in bridge:
        st.caption(f"Rebuilt in tf_keras for TFMOT and verified: largest output difference "
                   f"{numbers.sig(bridge['max_abs_diff'])} on {bridge['samples']} random "
                   f"inputs (allowed {numbers.sig(bridge['tolerance'], 2)}).")
    if upload.retrain_blocker:
        st.warning(f"**QAT, pruning and clustering do not apply:** "
                   f"{layout.plain(upload.retrain_blocker)}.",
                   icon=":material/block:")
    for line in upload.warnings:
        st.warning(layout.plain(line), icon=":material/warning:")
    with st.expander("Everything the check noted"):
        st.markdown("\n".join(f"- {layout.plain(line)}" for line in upload.notes)
                    or "Nothing to note.")
        if upload.layers:
            st.dataframe([{"Layer": r.get("name"), "Type": r.get("type"),
                           "Parameters": r.get("params")} for r in upload.layers],
                         hide_index=True, width="stretch", placeholder=MISSING)
