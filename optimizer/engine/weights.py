"""Keras-side weight facts: kernel statistics, and which layers a TFMOT transform touched.

``kernel_stats`` measures sparsity and distinct values per output channel on a model's Keras
weights, so a pruned or clustered model can be checked before it is converted (the
``.tflite`` side is measured by ``optimizer.measuring.facts``). Call it on a *stripped* model:
inside clustering wrappers the kernel variables still hold the unclustered weights.

The transforms (``pruning``, ``clustering``, ``qat``) share the small helpers here: the
tf_keras check (TFMOT cannot transform Keras 3 models), the weight-preserving copy that keeps
their input untouched, and ``TransformReport``, which says which kernel layers were wrapped
and which TFMOT skipped (it skips ``DepthwiseConv2D`` for pruning and clustering: measured
47% instead of 50% sparsity on MobileNetV2).

TensorFlow is imported only inside functions, through ``optimizer.compat``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Weight names ending in these: kernel (Conv, Dense), depthwise_kernel, pointwise_kernel...,
#: embeddings (Embedding, which TFMOT prunes and clusters too)
_KERNEL_SUFFIX = ("kernel", "embeddings")
#: Kernels TFMOT's whole-model pruning and clustering never change (its registries map
#: DepthwiseConv2D to no weights), so they do not count towards the pruned sparsity.
_NOT_PRUNABLE = ("depthwise_kernel",)
_TRANSPOSED = ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")


@dataclass(frozen=True)
class LayerKernel:
    """One kernel tensor of one layer, measured on its Keras weights."""

    layer: str
    kind: str
    weight: str
    shape: tuple
    params: int
    zeros: int
    unique: int
    max_unique_per_channel: int
    prunable: bool

    @property
    def sparsity(self) -> float:
        """Fraction of exact zeros in this kernel."""
        return self.zeros / self.params if self.params else 0.0

    def to_dict(self) -> dict:
        return {"layer": self.layer, "kind": self.kind, "weight": self.weight,
                "shape": list(self.shape), "params": self.params, "zeros": self.zeros,
                "sparsity": self.sparsity, "unique": self.unique,
                "max_unique_per_channel": self.max_unique_per_channel,
                "prunable": self.prunable}


@dataclass(frozen=True)
class KernelStats:
    """Sparsity and distinct weights of a model's kernels (biases and BatchNorm excluded).

    ``sparsity`` is the fraction of zeros over the kernels TFMOT prunes (``prunable`` rows;
    DepthwiseConv2D excluded); ``total_sparsity`` counts every kernel. ``max_unique_per_channel``
    is the largest number of distinct values in any output channel of any kernel. Both are
    ``None`` for a model without kernels.
    """

    sparsity: float | None
    total_sparsity: float | None
    max_unique_per_channel: int | None
    rows: tuple

    def to_dict(self) -> dict:
        return {"sparsity": self.sparsity, "total_sparsity": self.total_sparsity,
                "max_unique_per_channel": self.max_unique_per_channel,
                "rows": [row.to_dict() for row in self.rows]}


@dataclass(frozen=True)
class TransformReport:
    """Which weight layers a transform wrapped, and which it left alone.

    ``wrapped`` and ``skipped`` are layer names in model order; ``skipped_kinds`` the layer
    classes skipped (e.g. ``("DepthwiseConv2D",)``) and ``skipped_fraction`` the share of all
    kernel weights held by skipped layers. ``params`` maps each weight layer to its kernel
    parameters (for coverage over several stages) and ``reasons`` says why a layer class was
    left alone ("TFMOT has no pruning support for MultiHeadAttention").
    """

    action: str
    wrapped: tuple
    skipped: tuple = ()
    skipped_kinds: tuple = ()
    skipped_fraction: float = 0.0
    params: tuple = ()
    reasons: tuple = ()

    @property
    def transformed_layers(self) -> int:
        return len(self.wrapped)

    @property
    def weight_layers(self) -> int:
        return len(self.wrapped) + len(self.skipped)

    @property
    def transformed_weight_fraction(self) -> float:
        return 1.0 - float(self.skipped_fraction) if self.weight_layers else 0.0

    def note(self) -> str:
        """One honest sentence about skipped layers for a result's notes ("" when none)."""
        if not self.skipped:
            return ""
        kinds = ", ".join(self.skipped_kinds)
        effect = {"pruned": "so whole-model sparsity stays below the target",
                  "clustered": "so those layers keep all their distinct values",
                  "quantized": "so only the converter quantizes them"}.get(
                      self.action, "so those layers keep their original weights")
        names = ", ".join(self.skipped[:8]) + (", ..." if len(self.skipped) > 8 else "")
        why = "; ".join(self.reasons)
        return (f"{len(self.skipped)} kernel layer(s) were not {self.action} by TFMOT ({kinds}: "
                f"{self.skipped_fraction:.0%} of kernel weights), {effect}; left alone: {names}"
                + (f" ({why})" if why else ""))

    def to_dict(self) -> dict:
        return {"action": self.action, "wrapped": list(self.wrapped),
                "skipped": list(self.skipped), "skipped_kinds": list(self.skipped_kinds),
                "skipped_fraction": self.skipped_fraction, "reasons": list(self.reasons)}


def coverage(reports) -> dict:
    """``transformed_layers``, ``weight_layers`` and ``transformed_weight_fraction`` over the
    reports of a pipeline's stages: a layer counts as transformed when every stage wrapped it.
    Empty when there is no report."""
    reports = [r for r in reports if r is not None]
    if not reports:
        return {}
    params = dict(reports[0].params) or {n: 1 for n in reports[0].wrapped + reports[0].skipped}
    done = set(params)
    for report in reports:
        done &= set(report.wrapped)
    total = sum(params.values())
    return {"transformed_layers": len(done), "weight_layers": len(params),
            "transformed_weight_fraction": (sum(params[n] for n in done) / total
                                            if total else 0.0)}


#: Layers the retraining transforms leave as they are, and why (measured: clustering a
#: MultiHeadAttention cannot be stripped, its kernels come back with another shape).
LEFT_AS_IS = {"MultiHeadAttention": "attention internals are left as they are"}


def wrap_supported(model, wrap, action: str, reason: str, weightless: bool = False,
                   offered=()):
    """A copy of ``model`` where every layer holding weights that ``wrap`` accepts is wrapped
    and every other layer is left as it is (TFMOT's "transform some layers" path:
    ``clone_model`` with a ``clone_function``).

    ``wrap(layer)`` returns the wrapped layer or raises ``ValueError``/``RuntimeError`` for a
    layer it cannot transform (``reason`` is then recorded for its class). ``weightless``
    offers layers without weights to ``wrap`` too (QAT quantizes their outputs); ``offered``
    names classes of ``LEFT_AS_IS`` that ``wrap`` is offered anyway (QAT's attention). Returns
    ``(model, {layer class: reason})``; raises
    ``ValueError`` ("cannot ... any layer") when nothing could be wrapped.
    """
    from optimizer import compat

    keras = compat.keras()
    copy = copy_model(model)
    refused: dict[str, str] = {}
    wrapped_any = []

    def clone(layer):
        if isinstance(layer, keras.Model):
            if layer.weights:
                refused[type(layer).__name__] = "a nested model is left as it is"
            return layer
        if not layer.weights and not weightless:
            return layer
        if type(layer).__name__ in LEFT_AS_IS and type(layer).__name__ not in offered:
            refused.setdefault(type(layer).__name__, LEFT_AS_IS[type(layer).__name__])
            return layer
        try:
            out = wrap(layer)
        except (ValueError, RuntimeError, TypeError):
            refused.setdefault(type(layer).__name__, reason)
            return layer
        if layer.weights:
            wrapped_any.append(layer.name)
        return out

    result = keras.models.clone_model(copy, clone_function=clone)
    if not wrapped_any:
        kinds = ", ".join(sorted(refused)) or "none with weights"
        raise ValueError(f"{action} cannot transform any layer of this model (layers: {kinds})")
    return result, refused


@dataclass(frozen=True, eq=False)
class TransformStep:
    """A transformed (wrapped) model, the callbacks its fine-tune needs, and the report."""

    model: object
    report: TransformReport
    callbacks: tuple = ()
    left_float: tuple = ()  # QAT: layers (weightless ones too) left without fake-quant
    partly_float: tuple = ()  # QAT: wrapped layers whose internal activations stay float


def kernel_stats(model) -> KernelStats:
    """Measure zeros and distinct values per output channel of every kernel in ``model``.

    Needs a tf_keras model (wrappers are looked through; measure stripped models). Channels
    are the output channels: the last axis, the second-to-last for transposed convolutions,
    and input channel x multiplier for depthwise kernels.
    """
    rows = tuple(_measure(layer, weight) for layer, weight in _kernels(model))
    if not rows:
        return KernelStats(None, None, None, ())
    prunable = [r for r in rows if r.prunable]
    sparsity = (sum(r.zeros for r in prunable) / sum(r.params for r in prunable)
                if prunable else None)
    total = sum(r.zeros for r in rows) / sum(r.params for r in rows)
    return KernelStats(sparsity=sparsity, total_sparsity=total,
                       max_unique_per_channel=max(r.max_unique_per_channel for r in rows),
                       rows=rows)


def kernel_layers(model) -> list[tuple[str, str, int]]:
    """``(layer name, layer class, kernel parameters)`` for every layer holding a kernel."""
    totals: dict[str, list] = {}
    for layer, weight in _kernels(model):
        entry = totals.setdefault(layer.name, [type(layer).__name__, 0])
        entry[1] += int(np.prod(weight.shape))
    return [(name, kind, params) for name, (kind, params) in totals.items()]


def transform_report(model, acted_on, action: str, reasons=None) -> TransformReport:
    """Build the report for a transform of ``model`` (the plain input) that changed the
    kernels of the layers named in ``acted_on``."""
    acted = set(acted_on)
    layers = kernel_layers(model)
    wrapped = tuple(name for name, _, _ in layers if name in acted)
    skipped = [(name, kind, params) for name, kind, params in layers if name not in acted]
    total = sum(params for _, _, params in layers) or 1
    kinds = sorted({kind for _, kind, _ in skipped})
    why = dict(reasons or {})
    return TransformReport(
        action=action, wrapped=wrapped, skipped=tuple(name for name, _, _ in skipped),
        skipped_kinds=tuple(kinds),
        skipped_fraction=sum(params for _, _, params in skipped) / total,
        params=tuple((name, params) for name, _, params in layers),
        reasons=tuple(f"{', '.join(k for k in kinds if why.get(k) == text)}: {text}"
                      for text in dict.fromkeys(why[k] for k in kinds if k in why)))


def require_tf_keras_model(model, what: str = "this step") -> None:
    """Raise ``ValueError`` unless ``model`` is a built Sequential/Functional tf_keras model."""
    from optimizer import compat

    keras = compat.keras()
    if not isinstance(model, keras.Model):
        if type(model).__module__.split(".")[0] == "keras":
            raise ValueError(
                f"TFMOT needs a tf_keras (Keras 2) model; this one was built with Keras 3, so "
                f"{what} cannot transform it. Rebuild it with tf_keras (import tf_keras as keras) "
                f"and load its weights, or use a post-training quantization, which works on any "
                f"model")
        raise ValueError(f"{what} needs a tf_keras model, got {type(model).__name__}; load the "
                         f"model with tf_keras.models.load_model")
    if not (isinstance(model, keras.Sequential) or getattr(model, "_is_graph_network", False)):
        raise ValueError(f"{what} needs a Sequential or Functional tf_keras model; TFMOT cannot "
                         f"transform subclassed models ({type(model).__name__}). Rebuild it "
                         f"with the Functional API")
    if not model.built:
        raise ValueError(f"{what} needs a built model; give it an Input layer (or call it once) "
                         f"so its weights exist")


def tfmot_wrapped_layers(model) -> list[str]:
    """Names of the layers of ``model`` that are still TFMOT wrappers (pruning, clustering,
    quantization)."""
    return [layer.name for layer in _walk(model)
            if "tensorflow_model_optimization" in type(layer).__module__]


def require_plain_model(model, what: str) -> None:
    """Raise ``ValueError`` if ``model`` still holds TFMOT wrappers (strip them first)."""
    wrapped = tfmot_wrapped_layers(model)
    if wrapped:
        raise ValueError(f"{what} needs a stripped model, but layer '{wrapped[0]}' is still "
                         f"wrapped by TFMOT; call strip_pruning / strip_clustering first")


def copy_model(model):
    """An independent copy of a tf_keras model: same architecture, copied weights.

    TFMOT's whole-model APIs wrap the *original* layer objects, so fine-tuning their result
    would change the caller's model (and clustering twice the same model even fails); every
    transform therefore works on a copy.
    """
    from optimizer import compat

    keras = compat.keras()
    try:
        clone = keras.models.clone_model(model)
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot copy the model for a TFMOT transform ({error}); custom layers "
                         f"need get_config/from_config and registration with "
                         f"keras.saving.register_keras_serializable") from None
    clone.set_weights(model.get_weights())
    return clone


def _walk(model):
    """Top-level layers, descending into nested models (but not into wrappers)."""
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers") and not hasattr(layer, "layer"):
            yield from _walk(layer)
        else:
            yield layer


def _unwrap(layer):
    """The layer inside TFMOT / Keras wrappers (PruneLowMagnitude, QuantizeWrapper...)."""
    while hasattr(layer, "layer") and layer.layer is not layer:
        layer = layer.layer
    return layer


def _kernels(model):
    for outer in _walk(model):
        layer = _unwrap(outer)
        for weight in layer.weights:
            short = weight.name.split("/")[-1].split(":")[0]
            if short.endswith(_KERNEL_SUFFIX):
                yield layer, weight


def _measure(layer, weight) -> LayerKernel:
    values = np.asarray(weight.numpy())
    short = weight.name.split("/")[-1].split(":")[0]
    return LayerKernel(
        layer=layer.name, kind=type(layer).__name__, weight=short, shape=tuple(values.shape),
        params=int(values.size), zeros=int(np.count_nonzero(values == 0)),
        unique=int(np.unique(values).size),
        max_unique_per_channel=_max_unique_per_channel(values, short, type(layer).__name__),
        prunable=short not in _NOT_PRUNABLE)


def _max_unique_per_channel(values: np.ndarray, weight: str, kind: str) -> int:
    if values.ndim < 2:
        return int(np.unique(values).size)
    if weight == "depthwise_kernel":
        # (kh, kw, in, multiplier): each input channel x multiplier is an output channel.
        channels = values.reshape(-1, values.shape[-2] * values.shape[-1])
    else:
        axis = -2 if kind in _TRANSPOSED else -1
        channels = np.moveaxis(values, axis, -1).reshape(-1, values.shape[axis])
    return max(int(np.unique(channels[:, c]).size) for c in range(channels.shape[1]))
