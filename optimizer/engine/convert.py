"""Freeze a Keras model once and convert it per technique (through ``engine.converter``).

Why freeze: ``TFLiteConverter.from_keras_model`` re-traces and re-exports the model on every
call (27-36 s per variant for MobileNetV2-0.35@96 on a 2-core host). Tracing the model once in
inference mode (``training=False``, which folds BatchNorm into the convolutions), turning its
variables into constants, and converting that frozen graph with ``from_concrete_functions``
takes about 1 s per variant and gives the same outputs. ``freeze_model`` does the tracing;
``convert`` reuses the result for every post-training variant; ``convert_from_keras`` is the
plain path (the benchmark's "naive" side, and the fallback when a model cannot be frozen).

The converter options are each technique's ``ConverterOptions`` (``optimizer.guide.techniques``),
applied by ``engine.converter``. Two facts shape them: the TF 2.21 converter does not fail on an
op without an int8 kernel under ``TFLITE_BUILTINS_INT8`` (it silently keeps that op in float), so
an integer_only file is checked and a ``ConversionError`` names the op; and int16x8 is tried with
the guide's 16x8 ops set alone first, converted again with ``TFLITE_BUILTINS`` added only when
the converter rejects an op with no 16x8 kernel (the log says which op). A quantization-aware
model converts with DEFAULT and no representative data (its ranges were learned). Selective
quantization (some ops kept in float) reuses the same options from ``engine.quant_debug``.

Uploads without a tf_keras model convert from a ``SavedModelSource`` (``from_saved_model``) or
a ``TfliteSource`` (the LiteRT Quantizer); see ``engine.sources``. Recurrent models (a tensor
list loop) are frozen at batch 1 (the converter needs a static batch there) and their
loop stays a stateless WHILE op, which is refused for calibration (it crashes the TF 2.21
converter).

Every file produced from a frozen graph gets a ``serving_default`` signature (the frozen path
writes none, ``from_keras_model`` does), so signature runners and the LiteRT Quantizer's
calibration work on it alike.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace

import numpy as np

from optimizer import compat
from optimizer.engine.converter import Conversion, ConversionError, convert_with, first_line
from optimizer.engine.shared_conversion import SharedWork
from optimizer.guide.configs import PtqConfig
from optimizer.guide.registry import TECHNIQUES, TechniqueId
from optimizer.models.sources import SavedModelSource, TfliteSource


class FreezeError(ConversionError):
    """The model could not be frozen into a graph of constants (``convert`` then falls back)."""


@dataclass(frozen=True)
class FrozenModel:
    """A model traced once in inference mode with its variables turned into constants.

    ``function`` is the frozen concrete function every post-training variant converts from.
    Shapes use ``None`` for dimensions that stay resizable (always the batch). Building it
    never changes the Keras model.
    """

    function: object = field(repr=False, compare=False)
    input_names: tuple
    input_shapes: tuple
    input_dtypes: tuple
    output_names: tuple
    quantization_aware: bool = False
    seconds: float = 0.0
    name: str = ""
    note: str = ""  # e.g. why the batch size was fixed (added to every conversion's log)
    recurrent: bool = False  # a recurrent loop, traced at batch 1 (see freeze_model)
    # What the converters of this graph share, each made once (engine.shared_conversion).
    shared: SharedWork = field(default_factory=SharedWork, repr=False, compare=False)


#: Op types of a recurrent loop whose tensor list needs a static batch size to convert.
_TENSOR_LIST_OPS = frozenset({"TensorListReserve", "TensorListFromTensor"})


def freeze_model(model) -> FrozenModel:
    """Trace a tf_keras model once (``training=False``) and freeze its variables to constants.

    Needs a built model with defined inputs. The batch dimension is left unknown so the
    converted file can be resized. Raises ``FreezeError`` when the model cannot be frozen;
    ``convert(model, ...)`` then falls back to ``from_keras_model`` by itself, so a caller can
    write ``source = freeze_model(m)`` and on ``FreezeError`` pass ``m`` instead.
    """
    tf = compat.tf()
    convert_variables_to_constants_v2 = compat.freeze_variables()

    start = time.perf_counter()
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise FreezeError("the model has no defined inputs: build it with an Input layer or "
                          "model.build(input_shape) before converting")
    names = tuple(_spec_name(n, i) for i, n in enumerate(getattr(model, "input_names", None)
                                                            or [t.name for t in inputs]))
    shapes = tuple((None, *tuple(t.shape)[1:]) for t in inputs)
    dtypes = tuple(t.dtype for t in inputs)

    def forward(*xs):
        return model(list(xs) if len(xs) > 1 else xs[0], training=False)

    def trace(batch_shapes):
        specs = [tf.TensorSpec(s, d, name=n) for s, d, n in zip(batch_shapes, dtypes, names)]
        try:
            concrete = tf.function(forward).get_concrete_function(*specs)
            return convert_variables_to_constants_v2(concrete)
        except Exception as exc:  # noqa: BLE001 - any tracing failure means "cannot freeze"
            raise FreezeError(f"could not freeze the model ({first_line(exc)}); convert it "
                              "with from_keras_model instead") from exc

    frozen, note, recurrent = trace(shapes), "", False
    if {op.type for op in frozen.graph.get_operations()} & _TENSOR_LIST_OPS:
        # A recurrent layer (LSTM, GRU, SimpleRNN) loops over a tensor list whose element
        # shape includes the batch; the converter needs it static (measured: "TensorListReserve
        # requires element_shape to be static" with a free batch, and from_keras_model fails
        # the same way), so the file takes one sample at a time. It stays a WHILE loop: the
        # fused LSTM op the unfrozen path gives keeps its state between invokes (measured:
        # accuracy 0.92 -> 0.36 on independent samples), and the loop is stateless.
        shapes = tuple((1, *s[1:]) for s in shapes)
        frozen, recurrent = trace(shapes), True
        note = ("recurrent layers: converted with a fixed batch size of 1 (the converter needs "
                "a static batch for their loop); the file runs one sample per invoke")
    leftover = {op.type for op in frozen.graph.get_operations()} & {
        "VarHandleOp", "ReadVariableOp", "VariableV2"}
    if leftover:
        raise FreezeError(f"freezing left variable ops ({', '.join(sorted(leftover))}) in the "
                          "graph; convert it with from_keras_model instead")
    outputs = list(getattr(model, "output_names", None) or [])
    if len(outputs) != len(frozen.outputs):
        outputs = [f"output_{i}" for i in range(len(frozen.outputs))]
    return FrozenModel(
        function=frozen, input_names=names,
        input_shapes=tuple(tuple(None if d is None else int(d) for d in s) for s in shapes),
        input_dtypes=tuple(np.dtype(d.as_numpy_dtype).name for d in dtypes),
        output_names=tuple(_spec_name(n, i) for i, n in enumerate(outputs)),
        quantization_aware=is_quantization_aware(model),
        seconds=time.perf_counter() - start, name=str(getattr(model, "name", "")), note=note,
        recurrent=recurrent)


def convert(source, config: PtqConfig, representative=None) -> Conversion:
    """Convert a ``FrozenModel`` (or a tf_keras model, frozen on the fly) with one preset.

    ``representative`` is an array of samples (or a list of arrays, one per input) used for
    calibration by integer, integer_only and int16x8; the first ``config.calibration_samples``
    are yielded one at a time. Raises ``ValueError`` when calibration data is missing and
    ``ConversionError`` when the converter fails or an integer-only file would keep float ops.
    A technique only the LiteRT Quantizer makes is converted to float32 first, then quantized
    (``quantize_after_float``).
    """
    start = time.perf_counter()
    if TECHNIQUES[TechniqueId(config.technique)].quantizer_only:
        return quantize_after_float(convert, source, config, representative, start)
    if isinstance(source, (SavedModelSource, TfliteSource)):  # uploads without a Keras model
        from optimizer.engine.sources import convert_upload

        return convert_upload(source, config, representative, start)
    if not isinstance(source, FrozenModel):
        try:
            source = freeze_model(source)
        except FreezeError as exc:
            result = convert_from_keras(source, config, representative)
            return replace(result, seconds=time.perf_counter() - start,
                           log=(f"could not freeze, used from_keras_model: {exc}", *result.log))
    tf = compat.tf()
    frozen = source
    if frozen.recurrent and config.needs_calibration and not frozen.quantization_aware:
        _refuse_loop_calibration(frozen, config)
    loop_note = None
    if frozen.recurrent and frozen.quantization_aware and representative is not None \
            and _graph_has_loop(frozen):
        # QAT left the recurrent layers float; calibrating their loop would crash the converter
        representative = None
        loop_note = ("the recurrent loop (WHILE op) stays float: calibrating it crashes the "
                     "TensorFlow 2.21 converter")
    result = convert_with(
        lambda: tf.lite.TFLiteConverter.from_concrete_functions([frozen.function]),
        "from_concrete_functions(frozen graph)", config, representative, frozen.input_shapes,
        frozen.input_dtypes, frozen.quantization_aware, start,
        names=(frozen.input_names, frozen.output_names), shared=frozen.shared)
    notes = tuple(n for n in (frozen.note, loop_note) if n)
    return replace(result, log=(*notes, *result.log)) if notes else result


def quantize_after_float(convert_float, source, config: PtqConfig, representative,
                         start: float) -> Conversion:
    """A technique whose row has only a LiteRT Quantizer recipe: ``convert_float(source,
    float32)`` first (the same float file the baseline is), then the recipe on that file."""
    from optimizer.engine.quantizer import quantize_tflite

    base = convert_float(source, PtqConfig(TechniqueId.FLOAT32,
                                           calibration_samples=config.calibration_samples))
    quantized = quantize_tflite(base.tflite, config, representative=representative)
    engine = getattr(base.engine, "value", base.engine)
    return replace(quantized, seconds=time.perf_counter() - start,
                   log=(f"converted to float32 first ({engine}), then quantized by the LiteRT "
                        "Quantizer", *base.log, *quantized.log),
                   recipe=f"{base.recipe}; then {quantized.recipe}")


def _graph_has_loop(frozen: FrozenModel) -> bool:
    """True when the frozen graph holds a While loop (a QAT graph cannot be converted to
    float32 to look at its ops)."""
    try:
        return any(op.type in ("While", "StatelessWhile")
                   for op in frozen.function.graph.get_operations())
    except AttributeError:
        return True  # cannot tell: do not risk calibrating a loop


def _keeps_loop(frozen: FrozenModel) -> bool:
    """True when the model's float file keeps a WHILE loop (recurrent layers)."""
    float_file = convert(frozen, PtqConfig(TechniqueId.FLOAT32)).tflite
    from optimizer.measuring.facts import tflite_facts

    return "WHILE" in tflite_facts(float_file).ops


def _refuse_loop_calibration(frozen: FrozenModel, config: PtqConfig) -> None:
    """Raise ``ConversionError`` before calibrating a model whose float file keeps a WHILE
    loop: measured with TF 2.21, calibrating an LSTM, GRU or SimpleRNN loop for integer,
    integer_only or int16x8 kills the process (segmentation fault)."""
    if _keeps_loop(frozen):
        raise ConversionError(
            f"{TechniqueId(config.technique).value}: not applicable: calibrating this model's "
            f"recurrent loop (the WHILE op of its LSTM/GRU/SimpleRNN layers) crashes the "
            f"TensorFlow 2.21 converter; use dynamic_range or float16, which need no "
            f"calibration")


def convert_from_keras(model, config: PtqConfig, representative=None) -> Conversion:
    """Convert with the plain ``TFLiteConverter.from_keras_model`` path (re-traces every call).

    Same presets, calibration and errors as ``convert``; slower. Used as the benchmark's naive
    side and when a model cannot be frozen.
    """
    start = time.perf_counter()
    if TECHNIQUES[TechniqueId(config.technique)].quantizer_only:
        return quantize_after_float(convert_from_keras, model, config, representative, start)
    tf = compat.tf()
    inputs = getattr(model, "inputs", None) or []
    shapes = tuple((None, *tuple(t.shape)[1:]) for t in inputs)
    dtypes = tuple(np.dtype(t.dtype.as_numpy_dtype).name for t in inputs)
    names = tuple(str(n) for n in (getattr(model, "input_names", None)
                                   or [t.name.split(":")[0] for t in inputs]))
    return convert_with(lambda: tf.lite.TFLiteConverter.from_keras_model(model),
                         "from_keras_model", config, representative, shapes, dtypes,
                         is_quantization_aware(model), start, names=(names, ()), by_name=True)


def is_quantization_aware(model) -> bool:
    """True when the model contains TFMOT quantization wrappers (built by ``quantize_model``)."""
    layers = getattr(model, "submodules", None) or getattr(model, "layers", [])
    return any(type(layer).__module__.startswith(
        "tensorflow_model_optimization.python.core.quantization") for layer in layers)


# -- internals ---------------------------------------------------------------------------------


def _spec_name(name, index: int) -> str:
    # TensorSpec names become graph op names: keep them to the characters TF accepts.
    clean = re.sub(r"[^A-Za-z0-9_.\-/]", "_", str(name).split(":")[0]) or f"input_{index}"
    return clean if re.match(r"[A-Za-z0-9.]", clean) else f"x{clean}"


