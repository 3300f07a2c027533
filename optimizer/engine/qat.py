"""Quantization-aware training with TFMOT, plain or preserving earlier pruning / clustering.

``apply_qat(model)`` follows the TFMOT guide's "quantize some layers" path: every layer the
scheme's registry supports is annotated (``quantize_annotate_layer``) and ``quantize_apply``
runs with one scheme: ``guide.stage.QatScheme.for_preserve(preserve)`` (the default 8-bit
scheme, or a collaborative one from ``tfmot.experimental.combine`` that keeps sparsity,
clusters or both), built from the scheme's own constructor path.

Conv1D, which TFMOT's registry lacks, gets a quantize config of our own
(``conv1d_quantize_config``) under plain QAT, and so do the layers of attention models
(``engine.qat_configs``: Embedding, EinsumDense and MultiHeadAttention's projections), so QAT
covers most of a text transformer's weights. Layers TFMOT cannot quantize (Rescaling, a
BatchNormalization that does not follow a Conv, TFOpLambda math) stay float while
fine-tuning; the step lists them in ``left_float`` (and attention, whose internal activations
stay float, in ``partly_float``) and the retraining job then gives the converter
representative data, so it quantizes them by calibration. QAT is applied to a stripped model.

TensorFlow is imported only inside functions, through ``optimizer.compat``.
"""
from __future__ import annotations

import re

from optimizer.engine.qat_configs import PARTLY_FLOAT, attention_quantize_configs
from optimizer.engine.weights import (
    TransformStep,
    require_plain_model,
    require_tf_keras_model,
    transform_report,
    wrap_supported,
)
from optimizer.guide.stage import QatScheme

#: What a QAT stage may preserve (None: plain QAT), one per TFMOT scheme.
PRESERVE_OPTIONS = tuple(scheme.preserve for scheme in QatScheme)
#: Why a layer QAT does not annotate is left alone.
LEFT_FLOAT = ("TFMOT cannot quantize it during training; it trains in float and the converter "
              "quantizes it from the representative data")

# TFMOT's message: "Layer <name>:<class 'tf_keras.src....BatchNormalization'> is not supported."
_UNSUPPORTED = re.compile(r"Layer (?P<name>.+?):<class '(?P<cls>[\w.]+)'> is not supported")


#: Recurrent layer classes QAT refuses (see ``apply_qat``).
RECURRENT_LAYERS = frozenset({"LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional",
                              "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"})


class UnsupportedLayerError(ValueError):
    """A layer that quantization-aware training cannot quantize; names the layer and the fix."""

    def __init__(self, layer_name: str, layer_type: str):
        self.layer_name = layer_name
        self.layer_type = layer_type
        if layer_type == "BatchNormalization":
            fix = ("use post-training integer quantization, or put BatchNormalization right "
                   "after a Conv so it can be folded into it")
        else:
            fix = ("use post-training integer quantization, or replace it with a layer TFMOT "
                   "can quantize (Conv2D, Dense, DepthwiseConv2D, pooling, activations)")
        super().__init__(f"quantization-aware training cannot quantize layer '{layer_name}' "
                         f"({layer_type}); {fix}")


def apply_qat(model, preserve: str | None = None) -> TransformStep:
    """Wrap a copy of ``model`` for quantization-aware training.

    ``preserve`` keeps what earlier steps made: ``"sparsity"`` (after pruning), ``"clusters"``
    (after clustering) or ``"sparsity+clusters"`` (after sparsity-preserving clustering).
    Needs a built tf_keras Sequential/Functional model with the pruning / clustering wrappers
    stripped. Fine-tune the returned ``model``, then convert it with the default optimizations
    (no representative data needed). The input model is never changed. Raises
    ``UnsupportedLayerError`` for a layer TFMOT cannot quantize.
    """
    try:
        qat_scheme = QatScheme.for_preserve(preserve)
    except ValueError:
        raise ValueError(f"unknown preserve option {preserve!r}; use None, "
                         + ", ".join(repr(str(p)) for p in PRESERVE_OPTIONS if p)) from None
    require_tf_keras_model(model, "quantization-aware training")
    require_plain_model(model, "quantization-aware training")
    # A recurrent layer left float under QAT crashes the TF 2.21 converter (SIGSEGV, measured
    # on LSTM+GRU models in tf_keras and rebuilt from Keras 3): refuse it by name instead.
    recurrent = next((layer for layer in model.layers
                      if type(layer).__name__ in RECURRENT_LAYERS), None)
    if recurrent is not None:
        raise UnsupportedLayerError(recurrent.name, type(recurrent).__name__)
    from optimizer import compat

    tfmot = compat.tfmot()
    quantization = tfmot.quantization.keras
    scheme = _CheckedScheme(build_scheme(tfmot, qat_scheme))
    registry = scheme.get_quantize_registry()
    plain = qat_scheme == QatScheme.DEFAULT
    conv1d = conv1d_quantize_config(quantization) if plain else None
    ours = attention_quantize_configs(quantization) if plain else {}
    keras = compat.keras()

    def annotate(layer):
        if conv1d is not None and type(layer) is keras.layers.Conv1D:
            return quantization.quantize_annotate_layer(layer, conv1d())
        if type(layer).__name__ in ours and not registry.supports(layer):
            return quantization.quantize_annotate_layer(layer, ours[type(layer).__name__]())
        if not registry.supports(layer):
            raise ValueError(type(layer).__name__)
        return quantization.quantize_annotate_layer(layer)

    # TFMOT's "quantize some layers" path: annotate what it supports, leave the rest float
    # (the converter quantizes those from the representative data).
    annotated, refused = wrap_supported(model, annotate, "quantization-aware training",
                                        LEFT_FLOAT, weightless=True, offered=tuple(ours))
    try:
        scope = {"Conv1DQuantizeConfig": conv1d} if conv1d is not None else {}
        scope.update({config.__name__: config for config in ours.values()})
        with quantization.quantize_scope(scope):
            wrapped = quantization.quantize_apply(annotated, scheme)
    except RuntimeError as error:
        match = _UNSUPPORTED.search(str(error))
        if not match:
            raise
        raise UnsupportedLayerError(match["name"], match["cls"].rsplit(".", 1)[-1]) from None
    # Layers whose weights get fake-quantized (activations-only wrappers do not count).
    acted_on = [layer.layer.name for layer in wrapped.layers
                if getattr(layer, "_weight_vars", None)]
    left_float = [layer.name for layer in wrapped.layers
                  if type(layer).__name__ not in ("QuantizeWrapperV2", "QuantizeWrapper",
                                                  "QuantizeLayer", "InputLayer")]
    partly = [layer.layer.name for layer in wrapped.layers
              if type(getattr(layer, "layer", None)).__name__ in PARTLY_FLOAT]
    report = transform_report(model, acted_on, "quantized", refused)
    return TransformStep(model=wrapped, report=report, left_float=tuple(left_float),
                         partly_float=tuple(partly))


def build_scheme(tfmot, scheme: QatScheme):
    """The TFMOT scheme object of ``scheme``: its constructor (a path under ``tfmot``) called
    with its keyword arguments, as the reproduce script writes it."""
    constructor = tfmot
    for part in scheme.constructor.split("."):
        constructor = getattr(constructor, part)
    return constructor(**dict(scheme.kwargs))


def conv1d_quantize_config(quantization):
    """Our own QuantizeConfig for Conv1D, which TFMOT's 8-bit registry lacks: the kernel
    fake-quantized per tensor (symmetric, narrow range, as TFMOT does for Dense) and the
    activation output with a moving-average range. Measured: the converter turns the layer
    into an int8 CONV_2D. Used for plain QAT only (the preserving schemes keep their own
    registries, so Conv1D stays float there and the converter calibrates it)."""
    quantizers = quantization.quantizers

    class Conv1DQuantizeConfig(quantization.QuantizeConfig):
        def get_weights_and_quantizers(self, layer):
            return [(layer.kernel, quantizers.LastValueQuantizer(
                num_bits=8, symmetric=True, narrow_range=True, per_axis=False))]

        def get_activations_and_quantizers(self, layer):
            return [(layer.activation, quantizers.MovingAverageQuantizer(
                num_bits=8, symmetric=False, narrow_range=False, per_axis=False))]

        def set_quantize_weights(self, layer, quantize_weights):
            layer.kernel = quantize_weights[0]

        def set_quantize_activations(self, layer, quantize_activations):
            layer.activation = quantize_activations[0]

        def get_output_quantizers(self, layer):
            return []

        def get_config(self):
            return {}

    return Conv1DQuantizeConfig


class _CheckedScheme:
    """A quantize scheme whose registry says "supported" only when it can also give a
    config: TFMOT's prune-preserving registry claims layers such as Rescaling and then fails
    on them (``get_quantize_config() called on an unsupported layer``) when an annotated
    layer follows one; with this the layer simply stays float."""

    def __init__(self, inner):
        self._inner = inner
        self._registry = inner.get_quantize_registry()
        claims = self._registry.supports
        checking = set()  # get_quantize_config may ask supports() again: answer plainly then

        def supports(layer):
            if not claims(layer):
                return False
            if id(layer) in checking:
                return True
            checking.add(id(layer))
            try:
                self._registry.get_quantize_config(layer)
            except (ValueError, KeyError):
                return False
            finally:
                checking.discard(id(layer))
            return True

        self._registry.supports = supports

    def get_layout_transformer(self):
        return _FloatInputsOnly(self._inner.get_layout_transformer())

    def get_quantize_registry(self):
        return self._registry


class _FloatInputsOnly:
    """A scheme's layout transformer that quantizes only float model inputs: TFMOT adds a
    ``QuantizeLayer`` after every ``InputLayer``, which fails on integer token ids (measured:
    "FakeQuantWithMinMaxVars has type int32" for an Embedding model). For the call only, its
    ``InputLayerQuantize`` transform matches float32 inputs alone."""

    def __init__(self, inner):
        self._inner = inner

    def apply(self, model, layer_quantize_map):
        from optimizer import compat

        transforms = compat.tfmot_8bit_transforms()
        original = transforms.InputLayerQuantize

        class FloatInputLayerQuantize(original):
            def pattern(self):
                found = super().pattern()
                return type(found)(found.class_name, config={"dtype": "float32"},
                                   inputs=found.inputs)

        transforms.InputLayerQuantize = FloatInputLayerQuantize
        try:
            return self._inner.apply(model, layer_quantize_map)
        finally:
            transforms.InputLayerQuantize = original
