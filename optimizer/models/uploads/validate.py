"""Check uploaded data against the model BEFORE anything runs, and decide what to measure.

``validate(signature, raw)`` turns ``RawData`` into the ``Dataset`` a run uses, or raises a
``DataMismatch`` whose one line names the cause and the fix:

- shapes: "the model expects 96x96x3, your images are 28x28x1; ..." (a missing trailing
  channel axis of size 1 is added for the user, and said so);
- dtypes: integer-input models (token ids) need whole numbers;
- values: NaN or infinite inputs or labels;
- labels: class ids outside ``0..outputs-1``, or regression targets shaped unlike the output;
- sizes: an empty test split; fewer than 100 representative samples is a warning (the guide
  suggests 100-500 for calibration).

The task follows the model and the labels: class-id labels on a multi-output (or one
sigmoid unit) model -> classification, measured as accuracy; no labels on a softmax/sigmoid
model -> agreement with the float32 baseline's predictions; anything else (continuous targets,
linear or non-vector outputs) -> regression, measured as RMSE against the labels when there
are any, otherwise against the float32 baseline's outputs. The report says which, and what
the upload answers to the decision tree's "what data do you have?". Nothing here imports
TensorFlow.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.guide.registry import DATA_LABELS, DataNeed
from optimizer.inputs import SPLITS, Inputs, as_float32, from_npz, is_multi, ordered
from optimizer.models.dataset import REPRESENTATIVE_MAX, REPRESENTATIVE_MIN, Dataset
from optimizer.models.uploads.data_files import split
from optimizer.models.uploads.errors import DataMismatch
from optimizer.models.uploads.raw_data import RawData
from optimizer.text import N_, figure, msg

CLASS_SCORE_ACTIVATIONS = ("softmax", "sigmoid")


@dataclass(frozen=True)
class ValidationReport:
    """What the checks found: the task and metric chosen, what data the user has (the tree's
    answer), sample counts, notes (what was done) and warnings (what may hurt results)."""

    task: str
    metric: str
    data_kind: str
    samples: dict
    notes: tuple = field(default=())
    warnings: tuple = field(default=())

    @property
    def data_answer(self) -> str:
        """The decision tree's "what data do you have?" answer, in words."""
        return DATA_LABELS.get(DataNeed(self.data_kind), self.data_kind)

    def to_dict(self) -> dict:
        return {"task": self.task, "metric": self.metric, "data_kind": self.data_kind,
                "data_answer": self.data_answer, "samples": dict(self.samples),
                "notes": list(self.notes), "warnings": list(self.warnings)}


def shape_text(shape) -> str:
    """(96, 96, 3) -> "96x96x3" (None -> "any")."""
    return "x".join(msg("any") if d is None or d == -1 else str(int(d)) for d in shape) \
        or msg("a scalar")


def tensors_text(specs, times: str = "x") -> str:
    """A signature's inputs (or outputs) in words: "32x32x3", or with several, each named:
    "image 32x32x3, tabular 8"."""
    def one(spec):
        return shape_text(tuple(spec["shape"])[1:]).replace("x", times)
    if len(specs) == 1:
        return one(specs[0])
    return ", ".join(f"{spec.get('name') or f'input_{i}'} {one(spec)}"
                     for i, spec in enumerate(specs))


def validate(signature: dict, raw: RawData, name: str = "data") -> tuple[Dataset, ValidationReport]:
    """Check ``raw`` against the model ``signature`` (from the probe) and build the Dataset.

    ``signature`` is ``{"inputs": [{"shape": [None, ...], "dtype": ..}], "outputs": [..],
    "output_activation": "softmax" | "sigmoid" | "linear" | None}``. Raises ``DataMismatch``.
    """
    inputs, outputs = signature.get("inputs") or [], signature.get("outputs") or []
    if not inputs:
        raise DataMismatch(msg("the model reports no inputs; export it with its input layer"))
    if not outputs:
        raise DataMismatch(msg("the model reports no outputs; export it with its output layer"))
    notes, warnings = list(raw.notes), []
    arrays = _splits(raw)
    for key in [k for k in ("x_train", "x_test", "x_rep") if arrays.get(k) is not None]:
        arrays[key] = _fit_inputs(arrays[key], inputs, raw.source, notes, key)
    labelled = arrays.get("y_test") is not None or arrays.get("y_train") is not None
    task, num_classes = _task(signature, arrays, labelled, notes)
    if len(arrays["x_test"]) == 0:
        raise DataMismatch(msg("the test split is empty; upload more samples"))
    x_rep = arrays.get("x_rep")
    if x_rep is None:
        x_rep = (arrays.get("x_train") if arrays.get("x_train") is not None
                 else arrays["x_test"])[:REPRESENTATIVE_MAX]
    if len(x_rep) < REPRESENTATIVE_MIN:
        warnings.append(msg("only {n_x_rep} representative samples for calibration; the guide suggests "
                            "{representative_min}-{representative_max} for integer quantization: upload "
                            "more for reliable int8 results",
                            n_x_rep=len(x_rep), representative_min=REPRESENTATIVE_MIN,
                            representative_max=REPRESENTATIVE_MAX))
    if arrays.get("x_train") is not None and len(arrays["x_train"]) < 32 and labelled:
        warnings.append(msg("only {count} training samples; fine-tuning (QAT, pruning, "
                            "clustering) needs more to recover accuracy",
                            count=len(arrays["x_train"])))
    dataset = Dataset(
        name=name, x_test=arrays["x_test"], y_test=arrays.get("y_test"),
        x_train=arrays.get("x_train"), y_train=arrays.get("y_train"), x_rep=x_rep, task=task,
        num_classes=num_classes, class_names=tuple(raw.class_names))
    metric = _metric(task, dataset.labelled)
    notes.append(_metric_note(metric, dataset.labelled))
    report = ValidationReport(task=task, metric=metric, data_kind=dataset.kind.value,
                              samples=dataset.sizes(), notes=tuple(notes),
                              warnings=tuple(warnings))
    return dataset, report


def _splits(raw: RawData) -> dict:
    flat = dict(raw.arrays)
    arrays = {k: v for k, v in flat.items() if "." not in k}
    for split_name in SPLITS:  # x_train.<input name>... -> Inputs
        try:
            value = from_npz(flat, split_name)
        except ValueError as exc:
            raise DataMismatch(str(exc)) from None
        if value is not None:
            arrays[split_name] = value
    if "x" in arrays:
        x, y = arrays.pop("x"), arrays.pop("y", None)
        if y is None:
            return {"x_test": as_float32(x), "x_rep": as_float32(x[:REPRESENTATIVE_MAX])}
        if len(y) != len(x):
            raise DataMismatch(msg("{n_x} samples but {n_y} labels; give one label per sample",
                                   n_x=len(x), n_y=len(y)))
        arrays = split(x, y)
    for key in ("x_train", "x_test", "x_rep"):
        if arrays.get(key) is not None:
            arrays[key] = as_float32(arrays[key])
    for xs, ys in (("x_train", "y_train"), ("x_test", "y_test")):
        if arrays.get(ys) is not None and len(arrays[ys]) != len(arrays[xs]):
            raise DataMismatch(msg("{xs} has {samples} samples but {ys} has {labels} labels; give "
                                   "one label per sample", xs=xs, samples=len(arrays[xs]), ys=ys,
                                   labels=len(arrays[ys])))
    return arrays


def _fit_inputs(x, inputs: list, source: str, notes: list, key: str):
    """``x`` checked against the model's inputs: one array for a one-input model, ``Inputs``
    in the model's input order (named as the model names them) for several."""
    names = [str(spec.get("name") or f"input_{i}") for i, spec in enumerate(inputs)]
    if len(inputs) == 1:
        if is_multi(x):
            if len(x.names) != 1:
                raise DataMismatch(msg("{split_name} are named arrays ({names}) but the model has "
                                       "one input; save them as one '{key}' array",
                                       split_name=_split_name(key), names=", ".join(x.names),
                                       key=key))
            x = x[x.names[0]]
        x = _fit_shape(x, tuple(inputs[0]["shape"])[1:], source, notes)
        _check_values(x, key, _value_dtype(inputs[0]))
        return x
    if not is_multi(x):
        expected = ", ".join(f"{n} ({shape_text(tuple(s['shape'])[1:])})"
                             for n, s in zip(names, inputs))
        if source in ("images", "csv"):
            raise DataMismatch(msg("the model has {n_inputs} inputs ({expected}); image zips and CSV "
                                   "files hold one input: upload an .npz with x_train.<input name>, "
                                   "x_test.<input name> arrays (or x.<input name>) for each of them",
                                   n_inputs=len(inputs), expected=expected))
        raise DataMismatch(msg("the model has {n_inputs} inputs ({expected}) but {split_name} "
                               "are one array; save one array per input as {key}.<input name> "
                               "(e.g. {key}.{first})", n_inputs=len(inputs), expected=expected,
                               split_name=_split_name(key), key=key, first=names[0]))
    try:
        arrays = ordered(x, names, _split_name(key))
    except ValueError as exc:
        raise DataMismatch(str(exc)) from None
    fitted = {}
    for name, spec, array in zip(names, inputs, arrays):
        try:
            fitted[name] = _fit_shape(array, tuple(spec["shape"])[1:], source, notes)
        except DataMismatch as exc:
            raise DataMismatch(msg("input '{name}': {exc}", name=name, exc=exc)) from None
        _check_values(fitted[name], key, _value_dtype(spec), name)
    return Inputs(fitted)


def _fit_shape(x: np.ndarray, model_shape: tuple, source: str, notes: list) -> np.ndarray:
    data_shape = tuple(x.shape[1:])
    if _matches(data_shape, model_shape):
        return x
    if _matches(data_shape + (1,), model_shape):
        note = msg("added a channel axis: {before} -> {after}", before=shape_text(data_shape),
                   after=shape_text(data_shape + (1,)))
        if note not in notes:
            notes.append(note)
        return x[..., None]
    if source == "csv":
        raise DataMismatch(msg("the model expects {expected} input values, your CSV rows have "
                               "{given} feature columns; give the CSV exactly the model's input "
                               "features (plus the label column)",
                               expected=shape_text(model_shape), given=shape_text(data_shape)))
    noun = msg("your images are") if source == "images" else msg("your samples are")
    fix = (msg("resize or reshape your data to match") if len(model_shape) == len(data_shape)
           else msg("reshape your data to the model's input shape"))
    raise DataMismatch(msg("the model expects {expected}, {noun} {given}; {fix}",
                           expected=shape_text(model_shape), noun=noun,
                           given=shape_text(data_shape), fix=fix))


def _matches(data_shape: tuple, model_shape: tuple) -> bool:
    return len(data_shape) == len(model_shape) and all(
        m is None or m == -1 or int(m) == int(d) for d, m in zip(data_shape, model_shape))


def _value_dtype(spec: dict) -> str:
    """The dtype of the values an input takes: float32 for a quantized integer input (its
    samples are real values the runtime quantizes with the tensor's scale)."""
    return "float32" if spec.get("quantized") else str(spec.get("dtype") or "float32")


def _check_values(x: np.ndarray, key: str, model_dtype: str, input_name: str = "") -> None:
    what = msg("{split} of input '{name}'", split=_split_name(key), name=input_name) \
        if input_name else _split_name(key)
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.argwhere(bad.reshape(len(x), -1).any(axis=1))[0][0])
        raise DataMismatch(msg("{what} have {count} NaN or infinite values (first in sample "
                               "{first}); clean or drop those samples",
                               what=what, count=figure(int(bad.sum())), first=first))
    if np.dtype(model_dtype).kind in "iu" and not np.array_equal(x, np.round(x)):
        raise DataMismatch(msg("the model takes whole-number inputs ({model_dtype}, e.g. token ids) but "
                               "{what} have fractional values; upload the ids",
                               model_dtype=model_dtype, what=what))


def _split_name(key: str) -> str:
    return msg(_SPLIT_NAMES[key]) if key in _SPLIT_NAMES else key


_SPLIT_NAMES = {"x_train": N_("the training inputs"), "x_test": N_("the test inputs"),
                "x_rep": N_("the representative inputs"), "y_train": N_("the training labels"),
                "y_test": N_("the test labels")}


def _task(signature: dict, arrays: dict, labelled: bool, notes: list):
    """Decide classification vs regression and check labels; returns (task, num_classes)."""
    out_shape = tuple(signature["outputs"][0]["shape"])[1:]
    activation = signature.get("output_activation")
    units = int(out_shape[-1]) if len(out_shape) == 1 and out_shape[-1] not in (None, -1) else None
    if not labelled:
        if units and (activation in CLASS_SCORE_ACTIVATIONS or (activation is None and units > 1)):
            return "classification", units if units > 1 else 2
        return "regression", None
    ys = {k: np.asarray(arrays[k]) for k in ("y_train", "y_test") if arrays.get(k) is not None}
    for key, y in ys.items():
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise DataMismatch(msg("{split_name} have NaN or infinite values; fix or drop those samples",
                                   split_name=_split_name(key)))
    if units and all(y.ndim == 2 and y.shape[1] == units > 1 and _one_hot(y) for y in ys.values()):
        for key, y in ys.items():
            arrays[key] = y.argmax(axis=1).astype(np.int64)
        notes.append(msg("one-hot labels turned into class ids"))
        ys = {k: arrays[k] for k in ys}
    whole = all(y.ndim == 1 and np.array_equal(y, np.round(y)) for y in ys.values())
    values = np.concatenate([y.reshape(-1) for y in ys.values()])
    if whole and units and (units > 1 or set(np.unique(values)) <= {0, 1}):
        classes = units if units > 1 else 2
        low, high = int(values.min()), int(values.max())
        if low < 0:
            raise DataMismatch((msg("labels go from {low} to {high} but class ids start at 0 "
                                    "(the model has {units} outputs: classes 0-{last}); relabel "
                                    "the data as 0-{last}", low=low, high=high, units=units,
                                    last=classes - 1) if units > 1 else
                                msg("labels go from {low} to {high} but class ids start at 0 "
                                    "(the model has {units} output: classes 0-{last}); relabel "
                                    "the data as 0-{last}", low=low, high=high, units=units,
                                    last=classes - 1)))
        if high >= classes:
            raise DataMismatch((msg("labels go from {low} to {high} but the model has {units} "
                                    "outputs (classes 0-{last}); relabel the data as 0-{last} or "
                                    "use a model with {needed} outputs", low=low, high=high,
                                    units=units, last=classes - 1, needed=high + 1)
                                if units > 1 else
                                msg("labels go from {low} to {high} but the model has {units} "
                                    "output (classes 0-{last}); relabel the data as 0-{last} or "
                                    "use a model with {needed} outputs", low=low, high=high,
                                    units=units, last=classes - 1, needed=high + 1)))
        for key in ys:
            arrays[key] = np.asarray(arrays[key]).astype(np.int64)
        return "classification", classes
    for key, y in ys.items():
        if tuple(y.shape[1:]) not in (out_shape, out_shape[:-1] if out_shape[-1:] == (1,) else
                                      out_shape):
            raise DataMismatch(msg("{split_name} have shape {shape} but the model outputs "
                                   "{output}; give class ids 0-{last} or targets shaped like the "
                                   "output", split_name=_split_name(key),
                                   shape=shape_text(y.shape[1:]), output=shape_text(out_shape),
                                   last=(units or 1) - 1))
        arrays[key] = np.asarray(y, dtype=np.float32)
    return "regression", None


def _one_hot(y: np.ndarray) -> bool:
    return bool(np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all())


def _metric(task: str, labelled: bool) -> str:
    if task == "regression":
        return "rmse"
    return "accuracy" if labelled else "agreement"


def _metric_note(metric: str, labelled: bool) -> str:
    if metric == "accuracy":
        return msg("classification with labels: results report accuracy on the test split")
    if metric == "agreement":
        return msg("no labels: results report agreement with the float32 baseline's predictions "
                   "instead of accuracy")
    against = msg("your labels") if labelled else msg("the float32 baseline's outputs")
    return msg("not a classification model (or the targets are not class ids): results report "
               "the error (RMSE) against {against} instead of accuracy", against=against)
