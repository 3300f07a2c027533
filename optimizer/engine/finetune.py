"""The one fine-tuning function every retraining step uses (pruning, clustering, QAT...).

``finetune`` compiles the model it is given with Adam and a loss inferred from the output
layer, fits it on the labelled training split with a deterministic shuffle, and reports
progress through a callback the job process turns into events. There is nothing to cancel
in-process: a run is cancelled by killing its job process.

TensorFlow is imported only inside functions, through ``optimizer.compat``.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from enum import Enum

import numpy as np

from optimizer.guide.configs import FinetuneConfig
from optimizer.inputs import as_float32, count, ordered

#: At most this many per-batch progress calls per second (epoch ends always report).
PROGRESS_PER_SECOND = 4


class LossKind(str, Enum):
    """The loss ``finetune`` compiles with, chosen from the model's output layer.

    Each member knows its Keras loss class (``loss``, with ``from_logits``), the metric
    reported with it (``metric`` and its keyword arguments) and the labels it takes
    (``labels``: "classes" = class indices, "binary" = a 0/1 column, "values" = regression
    targets). ``finetune`` builds them from these, and the reproduce script writes them.
    """

    def __new__(cls, value: str, loss: str, from_logits: bool, metric: str,
                metric_args: tuple, labels: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.loss, member.from_logits, member.labels = loss, from_logits, labels
        member.metric, member.metric_args = metric, tuple(metric_args)
        return member

    SPARSE_CATEGORICAL = ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
                          False, "SparseCategoricalAccuracy", (("name", "accuracy"),), "classes")
    SPARSE_CATEGORICAL_LOGITS = ("sparse_categorical_crossentropy_from_logits",
                                 "SparseCategoricalCrossentropy", True,
                                 "SparseCategoricalAccuracy", (("name", "accuracy"),), "classes")
    BINARY = ("binary_crossentropy", "BinaryCrossentropy", False, "BinaryAccuracy",
              (("name", "accuracy"),), "binary")
    # A logit above 0 is a probability above 0.5.
    BINARY_LOGITS = ("binary_crossentropy_from_logits", "BinaryCrossentropy", True,
                     "BinaryAccuracy", (("name", "accuracy"), ("threshold", 0.0)), "binary")
    MSE = ("mean_squared_error", "MeanSquaredError", False, "MeanAbsoluteError",
           (("name", "mae"),), "values")

    @property
    def loss_source(self) -> str:
        """The loss as Python source over ``keras`` (for the reproduce script)."""
        return f"keras.losses.{self.loss}({'from_logits=True' if self.from_logits else ''})"

    @property
    def metric_source(self) -> str:
        """The metric as Python source over ``keras``."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.metric_args)
        return f"keras.metrics.{self.metric}({args})"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class FinetuneReport:
    """What one fine-tune did: epochs, steps, wall seconds and the last epoch's metrics.

    ``loss`` and ``accuracy`` are Keras training-set figures of the last epoch (``accuracy``
    is ``None`` for regression); the honest test-split numbers come from the LiteRT evaluation.
    """

    epochs: int
    steps_per_epoch: int
    samples: int
    seconds: float
    loss: float
    accuracy: float | None
    loss_kind: str
    learning_rate: float
    batch_size: int

    def to_dict(self) -> dict:
        return asdict(self)


def steps_per_epoch(samples: int, batch_size: int) -> int:
    """Optimizer steps in one epoch over ``samples`` training samples (last batch partial)."""
    if samples < 1:
        raise ValueError("fine-tuning needs at least one training sample")
    return math.ceil(int(samples) / int(batch_size))


def train_steps(dataset, config: FinetuneConfig) -> int:
    """Steps per epoch ``finetune`` will take on ``dataset`` with ``config`` (what
    ``apply_pruning`` needs to place its schedule)."""
    _require_labels(dataset)
    return steps_per_epoch(len(dataset.x_train), config.batch_size)


def infer_loss(model, task: str = "classification") -> LossKind:
    """Choose the loss from the output layer: softmax -> sparse categorical cross-entropy,
    a linear multi-unit output -> the same from logits, one sigmoid unit -> binary
    cross-entropy (one linear unit -> from logits), ``task == "regression"`` -> MSE.

    Raises ``ValueError`` when the output cannot be read as one of those.
    """
    if task == "regression":
        return LossKind.MSE
    if task != "classification":
        raise ValueError(f"unknown task '{task}'; use 'classification' or 'regression'")
    if len(getattr(model, "outputs", None) or [None]) > 1:
        raise ValueError("fine-tuning supports single-output models; this one has "
                         f"{len(model.outputs)} outputs")
    activation = _output_activation(model)
    units = model.output_shape[-1]
    if activation == "softmax" and units > 1:
        return LossKind.SPARSE_CATEGORICAL
    if activation == "sigmoid" and units == 1:
        return LossKind.BINARY
    if activation == "linear":
        return LossKind.SPARSE_CATEGORICAL_LOGITS if units > 1 else LossKind.BINARY_LOGITS
    raise ValueError(
        f"cannot tell which loss to fine-tune with from a '{activation}' output with {units} "
        f"unit(s); end the model with softmax (classes), one sigmoid unit (binary) or a "
        f"linear layer (logits), or mark the data as regression")


def finetune(model, dataset, config: FinetuneConfig, callbacks=(), on_progress=None,
             seed: int = 0) -> FinetuneReport:
    """Compile ``model`` (Adam at ``config.learning_rate``, loss from ``infer_loss``) and fit it
    on ``dataset``'s labelled train split for ``config.epochs`` epochs.

    Needs ``dataset.x_train`` and ``dataset.y_train`` (``ValueError`` otherwise). ``callbacks``
    are passed to ``fit`` (e.g. TFMOT's ``UpdatePruningStep``). ``on_progress(epoch, epochs,
    fraction, logs)`` is called after every epoch and, at most ``PROGRESS_PER_SECOND`` times
    a second, after batches; ``epoch`` counts from 1 and ``fraction`` (0..1) is the share of
    the whole fine-tune done. The shuffle and any random layers are seeded with ``seed``.
    The model is changed in place (it is the transform's own copy, never the user's).
    """
    x, y = _training_arrays(dataset)  # before TensorFlow loads: unlabelled data fails fast
    from optimizer import compat
    from optimizer.engine.weights import require_tf_keras_model

    require_tf_keras_model(model, "fine-tuning")
    x = _model_inputs(model, x)
    kind = infer_loss(model, dataset.task)
    y = _labels_for(kind, y, model.output_shape[-1])

    keras = compat.keras()
    # Seeds Python, NumPy and TensorFlow: the shuffle order and dropout masks repeat.
    keras.utils.set_random_seed(int(seed))
    loss, metrics = _loss_and_metrics(keras, kind)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=float(config.learning_rate)),
                  loss=loss, metrics=metrics)
    steps = steps_per_epoch(count(x), config.batch_size)
    all_callbacks = list(callbacks)
    if on_progress is not None:
        all_callbacks.append(_progress_callback(keras, on_progress, int(config.epochs), steps))
    start = time.perf_counter()
    history = model.fit(x, y, epochs=int(config.epochs), batch_size=int(config.batch_size),
                        shuffle=True, callbacks=all_callbacks, verbose=0)
    seconds = time.perf_counter() - start
    logs = history.history
    accuracy = logs.get("accuracy")
    return FinetuneReport(
        epochs=int(config.epochs), steps_per_epoch=steps, samples=int(count(x)),
        seconds=seconds, loss=float(logs["loss"][-1]),
        accuracy=float(accuracy[-1]) if accuracy else None, loss_kind=kind.value,
        learning_rate=float(config.learning_rate), batch_size=int(config.batch_size))


def _require_labels(dataset) -> None:
    if dataset.x_train is None or dataset.y_train is None or not len(dataset.x_train):
        raise ValueError(
            "fine-tuning needs labelled training data (x_train and y_train); this dataset has "
            f"{'only unlabelled samples' if dataset.x_train is not None else 'no training split'}"
            ". Provide an .npz with x_train and y_train, or choose a post-training quantization")


def _training_arrays(dataset) -> tuple[np.ndarray, np.ndarray]:
    _require_labels(dataset)
    x = as_float32(dataset.x_train)
    y = np.asarray(dataset.y_train)
    if len(x) != len(y):
        raise ValueError(f"x_train has {len(x)} samples but y_train has {len(y)}; give one "
                         f"label per training sample")
    return x, y


def _model_inputs(model, x):
    """``x`` as ``fit`` takes it: one array, or a list in the model's input order (from
    ``Inputs``); raises ``ValueError`` naming a missing or mis-shaped input."""
    shapes = model.input_shape if isinstance(model.input_shape, list) else [model.input_shape]
    names = list(getattr(model, "input_names", None) or [f"input_{i}" for i in range(len(shapes))])
    arrays = ordered(x, names, "the training samples")
    for name, shape, array in zip(names, shapes, arrays):
        expected, got = tuple(shape[1:]), array.shape[1:]
        if len(expected) != len(got) or any(e is not None and e != g
                                            for e, g in zip(expected, got)):
            which = f"input '{name}': " if len(names) > 1 else ""
            raise ValueError(f"{which}training samples have shape {got} but the model expects "
                             f"{expected}; reshape x_train to match the model input")
    return arrays[0] if len(arrays) == 1 else arrays


def _labels_for(kind: LossKind, y: np.ndarray, units: int) -> np.ndarray:
    if kind.labels == "classes":
        if y.ndim == 2 and y.shape[1] == units:
            y = y.argmax(axis=1)  # one-hot labels -> class indices
        y = y.reshape(-1)
        if not np.issubdtype(y.dtype, np.integer) and not np.all(y == np.round(y)):
            raise ValueError("classification labels must be class indices (0..N-1); mark the "
                             "data as regression for continuous targets")
        if y.min() < 0 or y.max() >= units:
            raise ValueError(f"labels range {int(y.min())}..{int(y.max())} but the model has "
                             f"{units} output classes; labels must be 0..{units - 1}")
        return y.astype(np.int64)
    if kind.labels == "binary":
        return y.reshape(-1, 1).astype(np.float32)
    if kind.labels == "values":
        return y.astype(np.float32)
    raise ValueError(f"loss {kind}: unknown label kind {kind.labels!r}")


def _loss_and_metrics(keras, kind: LossKind):
    """The Keras loss and metric objects of ``kind`` (built from the member's data)."""
    loss = getattr(keras.losses, kind.loss)(**({"from_logits": True} if kind.from_logits
                                               else {}))
    return loss, [getattr(keras.metrics, kind.metric)(**dict(kind.metric_args))]


def _output_activation(model) -> str:
    """Name of the activation producing the model's output, looking through wrappers
    (pruning, clustering, quantization) and QAT's activation wrappers."""
    outputs = getattr(model, "outputs", None)
    layer = None
    if outputs:
        history = getattr(outputs[0], "_keras_history", None)
        layer = getattr(history, "layer", None)
    layer = layer or model.layers[-1]
    while hasattr(layer, "layer") and layer.layer is not layer:
        layer = layer.layer
    if hasattr(layer, "layers") and layer.layers:  # a nested model as the last layer
        return _output_activation(layer)
    if type(layer).__name__ == "Softmax":
        return "softmax"
    activation = getattr(layer, "activation", None)
    while activation is not None and hasattr(activation, "activation"):
        activation = activation.activation  # QuantizeAwareActivation keeps the original here
    if activation is None:
        return "linear"
    return getattr(activation, "__name__", str(activation))


def _floats(logs) -> dict:
    out = {}
    for key, value in (logs or {}).items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _progress_callback(keras, on_progress, epochs: int, steps: int):
    min_interval = 1.0 / PROGRESS_PER_SECOND

    class _Progress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self._epoch = 0
            self._last = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            now = time.monotonic()
            if now - self._last < min_interval:
                return
            self._last = now
            fraction = (self._epoch + min(batch + 1, steps) / steps) / epochs
            on_progress(self._epoch + 1, epochs, min(fraction, 1.0), _floats(logs))

        def on_epoch_end(self, epoch, logs=None):
            self._last = time.monotonic()
            on_progress(epoch + 1, epochs, (epoch + 1) / epochs, _floats(logs))

    return _Progress()
