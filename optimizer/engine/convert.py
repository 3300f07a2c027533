"""The one place that runs ``TFLiteConverter``: freeze a Keras model once, convert it per config.

Why freeze: ``TFLiteConverter.from_keras_model`` re-traces and re-exports the model on every
call (27-36 s per variant for MobileNetV2-0.35@96 on a 2-core host). Tracing the model once in
inference mode (``training=False``, which folds BatchNorm into the convolutions), turning its
variables into constants, and converting that frozen graph with ``from_concrete_functions``
takes about 1 s per variant and gives the same outputs. ``freeze_model`` does the tracing;
``convert`` reuses the result for every post-training variant; ``convert_from_keras`` is the
plain path (the benchmark's "naive" side, and the fallback when a model cannot be frozen).

Converter presets (``PtqConfig.technique``):

- float32: no options. float16: DEFAULT + ``supported_types=[float16]``.
- dynamic_range: DEFAULT only.
- integer: DEFAULT + representative data; float input/output, float fallback ops.
- integer_only: ``TFLITE_BUILTINS_INT8`` with int8 (or uint8) input and output. The converter
  in TF 2.21 does not fail on an op without an int8 kernel: it silently keeps that op in float
  behind DEQUANTIZE/QUANTIZE. Such a file is not integer-only (an Edge TPU or microcontroller
  rejects it), so the result is checked and a ``ConversionError`` names the op.
- int16x8: ``EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8`` alone first, as the
  guide's recipe. Only if the converter rejects an op with no 16x8 kernel is it converted again
  with ``TFLITE_BUILTINS`` added, so that op falls back to float; the log says which op.
- A quantization-aware (TFMOT ``quantize_model``) model converts with DEFAULT and no
  representative data (its ranges were learned); integer_only adds int8 (or uint8) I/O types
  only (see ``_configure``), and the same float-op check applies.

Selective quantization (some ops kept in float) reuses these presets from
``engine.quant_debug``.

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

import os
import re
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

from .. import compat
from ..configs import IoType, PtqConfig
from ..registry import TechniqueId
from ..schema import Engine
from .sources import SavedModelSource, TfliteSource


class ConversionError(ValueError):
    """A conversion failed; the message is one line: the cause and the fix."""


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


#: Op types of a recurrent loop whose tensor list needs a static batch size to convert.
_TENSOR_LIST_OPS = frozenset({"TensorListReserve", "TensorListFromTensor"})


@dataclass(frozen=True)
class Conversion:
    """One produced ``.tflite``: its bytes, the engine and technique, time taken and notes.

    ``seconds`` is the wall time of the call that produced it (including freezing when a Keras
    model was frozen on the fly). ``log`` holds the notable converter messages (warnings,
    fallbacks), never its routine start-up noise. ``recipe`` spells out the converter options
    or LiteRT Quantizer recipe that produced the file.
    """

    tflite: bytes = field(repr=False)
    engine: Engine
    seconds: float
    technique: TechniqueId
    log: tuple = ()
    recipe: str = ""  # the exact options used, for recipe.json (reproduce the file)


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
            raise FreezeError(f"could not freeze the model ({_first_line(exc)}); convert it "
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
    """
    start = time.perf_counter()
    if isinstance(source, (SavedModelSource, TfliteSource)):  # uploads without a Keras model
        from .sources import convert_upload

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
    result = _convert_with(
        lambda: tf.lite.TFLiteConverter.from_concrete_functions([frozen.function]),
        "from_concrete_functions(frozen graph)", config, representative, frozen.input_shapes,
        frozen.input_dtypes, frozen.quantization_aware, start,
        names=(frozen.input_names, frozen.output_names))
    return replace(result, log=(frozen.note, *result.log)) if frozen.note else result


def _refuse_loop_calibration(frozen: FrozenModel, config: PtqConfig) -> None:
    """Raise ``ConversionError`` before calibrating a model whose float file keeps a WHILE
    loop: measured with TF 2.21, calibrating an LSTM, GRU or SimpleRNN loop for integer,
    integer_only or int16x8 kills the process (segmentation fault)."""
    float_file = convert(frozen, PtqConfig(TechniqueId.FLOAT32)).tflite
    from ..tflite_facts import tflite_facts

    if "WHILE" in tflite_facts(float_file).ops:
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
    tf = compat.tf()
    inputs = getattr(model, "inputs", None) or []
    shapes = tuple((None, *tuple(t.shape)[1:]) for t in inputs)
    dtypes = tuple(np.dtype(t.dtype.as_numpy_dtype).name for t in inputs)
    return _convert_with(lambda: tf.lite.TFLiteConverter.from_keras_model(model),
                         "from_keras_model", config, representative, shapes, dtypes,
                         is_quantization_aware(model), start)


def is_quantization_aware(model) -> bool:
    """True when the model contains TFMOT quantization wrappers (built by ``quantize_model``)."""
    layers = getattr(model, "submodules", None) or getattr(model, "layers", [])
    return any(type(layer).__module__.startswith(
        "tensorflow_model_optimization.python.core.quantization") for layer in layers)


# -- internals ---------------------------------------------------------------------------------

def _configure(converter, tf, config: PtqConfig, reps, qat: bool, fallback: bool) -> None:
    """Set the converter options of one preset (see the module docstring)."""
    tid = TechniqueId(config.technique)
    if qat:
        if tid not in (TechniqueId.INTEGER, TechniqueId.INTEGER_ONLY):
            raise ConversionError(f"a quantization-aware (QAT) model converts to 'integer' or "
                                  f"'integer_only', not '{tid.value}'; convert the model from "
                                  "before quantize_model for other variants")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if tid == TechniqueId.INTEGER_ONLY:
            # Only the I/O types: adding TFLITE_BUILTINS_INT8 makes TF 2.21 demand a
            # representative dataset even for QAT graphs. The output is identical (measured)
            # and require_integer_only still verifies no op stayed in float.
            _integer_io(converter, tf, config, restrict_ops=False)
        return
    if tid == TechniqueId.FLOAT32:
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if tid == TechniqueId.FLOAT16:
        converter.target_spec.supported_types = [tf.float16]
    elif tid == TechniqueId.INTEGER:
        converter.representative_dataset = reps
    elif tid == TechniqueId.INTEGER_ONLY:
        converter.representative_dataset = reps
        _integer_io(converter, tf, config)
    elif tid == TechniqueId.INT16X8:
        converter.representative_dataset = reps
        ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        if fallback:
            ops.append(tf.lite.OpsSet.TFLITE_BUILTINS)
        converter.target_spec.supported_ops = ops


def _integer_io(converter, tf, config: PtqConfig, restrict_ops: bool = True) -> None:
    if restrict_ops:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    io = tf.uint8 if IoType(config.io_type) == IoType.UINT8 else tf.int8
    converter.inference_input_type = io
    converter.inference_output_type = io


def _convert_with(make, origin: str, config: PtqConfig, representative, shapes, dtypes,
                  qat: bool, start: float, names=None) -> Conversion:
    """Configure, convert (capturing stderr), retry int16x8 once with float fallback, check."""
    tf = compat.tf()
    tid = TechniqueId(config.technique)
    reps, samples = _representative(shapes, dtypes, config, representative, qat)
    log: list[str] = []
    fallback = False
    while True:
        captured: list[str] = []
        with _captured_stderr(captured), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            converter = make()  # from_concrete_functions logs a deprecation note: captured
            _configure(converter, tf, config, reps, qat, fallback)
            try:
                tflite, error = converter.convert(), None
            except Exception as exc:  # noqa: BLE001 - every converter failure is translated
                tflite, error = None, exc
        text = captured[0]
        if error is None:
            log.extend(_notable([str(w.message) for w in caught] + text.splitlines()))
            break
        op = re.search(r"16x8-bit not yet supported for op: '(\w+)'", str(error))
        if tid == TechniqueId.INT16X8 and op and not fallback:
            op = op.group(1)
            log.append(f"op {op} has no int16x8 kernel: converted again with TFLITE_BUILTINS "
                       f"so {op} runs in float")
            fallback = True
            continue
        os.write(2, text.encode(errors="replace")[-4000:])  # the job log keeps the detail
        raise _conversion_error(error, text, tid) from error
    if names:
        from .quantizer import add_signature  # flatbuffer helper shared with the .tflite path

        tflite = add_signature(tflite, *names)
    require_integer_only(tflite, config)
    return Conversion(tflite=tflite, engine=Engine.CONVERTER,
                      seconds=time.perf_counter() - start, technique=tid, log=tuple(log),
                      recipe=_describe(converter, origin, samples))


def _describe(converter, origin: str, samples: int) -> str:
    """The converter options that produced a file, spelled as the converter's API."""
    parts = [f"TFLiteConverter.{origin}"]
    if converter.optimizations:
        parts.append("optimizations=[DEFAULT]")
    if converter.target_spec.supported_types:
        parts.append("supported_types=[%s]" % ", ".join(
            t.name for t in converter.target_spec.supported_types))
    ops = sorted(str(o).split(".")[-1] for o in converter.target_spec.supported_ops)
    if ops != ["TFLITE_BUILTINS"]:
        parts.append(f"supported_ops=[{', '.join(ops)}]")
    if converter.representative_dataset is not None:
        parts.append(f"representative_dataset={samples} samples")
    for name in ("inference_input_type", "inference_output_type"):
        value = getattr(converter, name, None)
        if value is not None and getattr(value, "name", "float32") != "float32":
            parts.append(f"{name}={value.name}")
    return ", ".join(parts)


# Routine converter chatter that says nothing about this model.
_NOISE = re.compile(
    r"fully_quantize: |Ignored output_format|Ignored drop_control_dependency|cuInit|cuda|"
    r"oneDNN|absl::InitializeLog|trackable_obj|Statistics for quantized inputs were expected|"
    r"XNNPACK delegate|TF_ENABLE_ONEDNN_OPTS|rebuild TensorFlow|^\s*warnings\.warn|"
    r"^\s*$|^\^$|^\s+\S+\(.*\)$|MLIR V1 optimization pass|does not support 'optimizations'|"
    r"Estimated count of arithmetic ops|Ignored change_concat_input_ranges", re.IGNORECASE)


def _notable(lines) -> list[str]:
    """The converter messages worth keeping: warnings about this model, deduplicated."""
    kept: list[str] = []
    for line in lines:
        text = re.sub(r"^[WIE]\d{4} [\d:.]+\s+\d+ \S+\] ", "", str(line)).strip()
        text = re.sub(r"^(loc\(.*?\)|\S+:\d+:\d+): ", "", text)
        if not text or _NOISE.search(text) or text in kept:
            continue
        if re.search(r"warning|error|not |fallback|unsupported|float", text, re.IGNORECASE):
            kept.append(text[:240])
    return kept[:12]


def _conversion_error(error: Exception, captured: str, tid: TechniqueId) -> ConversionError:
    """Turn a converter exception into one line: the cause (op names) and the fix."""
    text = f"{error}\n{captured}"
    flex = re.search(r"TF Select ops: ([^\n]+)", text)
    missing = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op",
                                     text)))
    if flex or missing:
        ops = flex.group(1).strip() if flex else ", ".join(missing)
        return ConversionError(f"TensorFlow op(s) {ops} have no LiteRT builtin kernel (they "
                               "would need TF Select ops); replace them with LiteRT-supported "
                               "ops and convert again")
    unsupported = re.search(r"not yet supported for op: '(\w+)'", text)
    if unsupported:
        op = unsupported.group(1)
        return ConversionError(f"{tid.value}: op {op} cannot be quantized this way; use "
                               f"'integer' (float fallback) or 'dynamic_range', or replace op "
                               f"{op}")
    for line in text.splitlines():
        match = re.search(r"error: (.+)", line)
        if match:
            cause = match.group(1).strip()
            break
    else:
        cause = _first_line(error)
    return ConversionError(f"{tid.value} conversion failed: {cause[:220]}; check that the "
                           "float32 conversion works, then try another technique")


def require_integer_only(tflite: bytes, config: PtqConfig, tool: str = "the converter") -> None:
    """Raise ``ConversionError`` if an integer_only file kept float ops (naming them and the
    fix); the converter (and the LiteRT Quantizer) leave such ops in float silently."""
    if TechniqueId(config.technique) != TechniqueId.INTEGER_ONLY:
        return
    from ..tflite_facts import tflite_facts

    floats = tflite_facts(tflite).float_ops
    if floats:
        raise ConversionError(f"integer_only: {', '.join(floats)} cannot be quantized to int8 "
                              f"({tool} kept float); use 'integer' (float fallback), or "
                              f"replace op {floats[0]}")


def _representative(shapes, dtypes, config: PtqConfig, data, qat: bool):
    """The calibration generator (built once; one sample per yield, a list per input) and its
    sample count."""
    tid = TechniqueId(config.technique)
    if qat or not config.needs_calibration:
        return None, 0
    if data is None:
        raise ValueError(f"{tid.value} needs representative data for calibration: pass 100-500 "
                         "unlabelled input samples, or use dynamic_range, which needs none")
    arrays = list(data) if isinstance(data, (list, tuple)) else [data]
    if len(arrays) != len(shapes):
        raise ValueError(f"the model has {len(shapes)} inputs but {len(arrays)} representative "
                         "arrays were given; pass one array per input")
    arrays = [np.asarray(a)[: config.calibration_samples].astype(d, copy=False)
              for a, d in zip(arrays, dtypes)]
    for array, shape in zip(arrays, shapes):
        expected = tuple(shape[1:])
        if len(array.shape) != len(shape) or any(
                e is not None and e != a for e, a in zip(expected, array.shape[1:])):
            raise ValueError(f"representative samples have shape {tuple(array.shape[1:])} but "
                             f"the model expects {expected}; pass inputs shaped like the model's")
    count = min(len(a) for a in arrays)
    if count == 0:
        raise ValueError("the representative dataset is empty: pass 100-500 input samples")

    def generator():
        for i in range(count):
            yield [a[i:i + 1] for a in arrays]

    return generator, count


def _spec_name(name, index: int) -> str:
    # TensorSpec names become graph op names: keep them to the characters TF accepts.
    clean = re.sub(r"[^A-Za-z0-9_.\-/]", "_", str(name).split(":")[0]) or f"input_{index}"
    return clean if re.match(r"[A-Za-z0-9.]", clean) else f"x{clean}"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


@contextmanager
def _captured_stderr(into: list):
    """Redirect file descriptor 2 (the C++ converter writes there) into ``into`` as text.

    Process-wide, like the converter's own output: a job process converts one model at a time.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            into.append(sink.read().decode(errors="replace"))
