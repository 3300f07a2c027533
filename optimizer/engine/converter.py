"""The one place that configures and runs ``TFLiteConverter`` for every source.

``convert_with(make, ...)`` takes a factory for a converter (from a frozen graph, a Keras model
or a SavedModel), applies the options of one technique's conversion, converts while capturing
the C++ converter's output, retries int16x8 once with float fallback and checks that an
integer-only file kept no float op. The options themselves are data, declared by each
technique (``optimizer.guide``); their one list of converter assignments
(``ConverterOptions.settings``) is what this module applies and describes, and what the
reproduce script writes.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from optimizer import compat
from optimizer.guide.configs import IoType, PtqConfig
from optimizer.guide.conversion import ConverterOptions, ConverterSetting
from optimizer.guide.registry import QAT_FAMILY, TECHNIQUES, TechniqueId, conversions_after
from optimizer.guide.schema import Engine
from optimizer.inputs import is_multi, ordered


class ConversionError(ValueError):
    """A conversion failed; the message is one line: the cause and the fix."""


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


def conversion_options(config: PtqConfig, qat: bool) -> ConverterOptions:
    """The converter options of ``config``'s technique.

    Raises ``ConversionError`` when a quantization-aware model is asked for a conversion it
    cannot have (only the conversions the QAT techniques allow: integer, integer_only), or
    when the technique has no converter options (only the LiteRT Quantizer makes it).
    """
    tid = TechniqueId(config.technique)
    options = TECHNIQUES[tid].converter
    if qat:
        allowed = tuple(dict.fromkeys(c for t in QAT_FAMILY for c in conversions_after(t)))
        if tid not in allowed:
            raise ConversionError(f"a quantization-aware (QAT) model converts to "
                                  f"{' or '.join(repr(t.value) for t in allowed)}, not "
                                  f"'{tid.value}'; convert the model from before quantize_model "
                                  "for other variants")
    if options is None:
        raise ConversionError(f"{tid.value} has no converter options: the LiteRT Quantizer "
                              "makes it from the float .tflite (engine.convert does that)")
    return options


def converter_settings(config: PtqConfig, qat: bool, fallback: bool) -> tuple:
    """The converter assignments of ``config``'s conversion (``ConverterOptions.settings``)."""
    return conversion_options(config, qat).settings(
        io_type=IoType(config.io_type).value, qat=qat, fallback=fallback)


def resolve_value(expression: str, names: dict):
    """The object an expression of a ``ConverterSetting`` names, attribute by attribute from
    ``names`` (``{"tf": tf, "representative_dataset": generator}``); never evaluated."""
    head, *rest = expression.split(".")
    if head not in names:
        raise ValueError(f"converter setting value {expression!r} names nothing known")
    value = names[head]
    for part in rest:
        value = getattr(value, part)
    return value


def configure(converter, tf, config: PtqConfig, reps, qat: bool, fallback: bool) -> tuple:
    """Apply one technique's converter settings (see ``guide.conversion``); ``fallback`` adds
    its fallback ops sets (int16x8 with an op that has no 16x8 kernel). A QAT model's
    representative dataset is set only when ``reps`` is given (layers QAT left float).
    Returns the settings applied."""
    names = {"tf": tf, "representative_dataset": reps}
    applied = []
    for setting in converter_settings(config, qat, fallback):
        if setting.only_with_data and reps is None:
            continue
        values = [resolve_value(v, names) for v in setting.values]
        owner, _, attribute = setting.attribute.rpartition(".")
        target = resolve_value(f"converter.{owner}" if owner else "converter",
                               {"converter": converter})
        setattr(target, attribute, values if setting.listed else values[0])
        applied.append(setting)
    return tuple(applied)


def convert_with(make, origin: str, config: PtqConfig, representative, shapes, dtypes,
                  qat: bool, start: float, names=None, by_name: bool = False,
                  shared=None) -> Conversion:
    """Configure, convert (capturing stderr), retry int16x8 once with float fallback, check.

    ``names`` is ``(input names, output names)``: the signature a file without one gets, and
    how named representative inputs are matched (fed by name with ``by_name``). ``shared``
    (a ``shared_conversion.SharedWork``) is what the converters of one frozen graph share:
    TensorFlow's re-freezing of it and its calibrations, each made once."""
    from optimizer.engine.shared_conversion import reuse_frozen_graph, shared_calibration

    tf = compat.tf()
    tid = TechniqueId(config.technique)
    reps, samples = representative_dataset(shapes, dtypes, config, representative, qat,
                                           names[0] if names else None, by_name)
    log: list[str] = []
    fallback = False
    while True:
        captured: list[str] = []
        with captured_stderr(captured), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            converter = make()  # from_concrete_functions logs a deprecation note: captured
            if shared is not None:
                reuse_frozen_graph(converter, shared)
            applied = configure(converter, tf, config, reps, qat, fallback)
            try:
                with shared_calibration(shared, getattr(reps, "samples_key", None)):
                    tflite, error = converter.convert(), None
            except Exception as exc:  # noqa: BLE001 - every converter failure is translated
                tflite, error = None, exc
        text = captured[0]
        if error is None:
            log.extend(_notable([str(w.message) for w in caught] + text.splitlines()))
            break
        op = re.search(r"16x8-bit not yet supported for op: '(\w+)'", str(error))
        if op and not fallback and conversion_options(config, qat).fallback_ops:
            op = op.group(1)
            log.append(f"op {op} has no int16x8 kernel: converted again with TFLITE_BUILTINS "
                       f"so {op} runs in float")
            fallback = True
            continue
        os.write(2, text.encode(errors="replace")[-4000:])  # the job log keeps the detail
        raise conversion_error(error, text, tid) from error
    if names:
        from optimizer.engine.signature import (
            add_signature,  # flatbuffer helper shared with the .tflite path
        )

        tflite = add_signature(tflite, *names)
    require_integer_only(tflite, config)
    return Conversion(tflite=tflite, engine=Engine.CONVERTER,
                      seconds=time.perf_counter() - start, technique=tid, log=tuple(log),
                      recipe=describe(applied, origin, samples))


def describe(settings, origin: str, samples: int) -> str:
    """The converter options that produced a file, in words (``TFLiteConverter.<origin>,
    optimizations=[DEFAULT], ...``), from the settings applied."""
    parts = [f"TFLiteConverter.{origin}"]
    parts += [setting.describe(samples) for setting in settings
              if isinstance(setting, ConverterSetting)]
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


def conversion_error(error: Exception, captured: str, tid: TechniqueId) -> ConversionError:
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
        cause = first_line(error)
    return ConversionError(f"{tid.value} conversion failed: {cause[:220]}; check that the "
                           "float32 conversion works, then try another technique")


def require_integer_only(tflite: bytes, config: PtqConfig, tool: str = "the converter") -> None:
    """Raise ``ConversionError`` if an integer-only file (its format is int8-only) kept float
    ops, naming them and the fix; the converter (and the LiteRT Quantizer) leave such ops in
    float silently."""
    if not TECHNIQUES[TechniqueId(config.technique)].integer_only:
        return
    from optimizer.measuring.facts import tflite_facts

    floats = tflite_facts(tflite).float_ops
    if floats:
        raise ConversionError(f"{TechniqueId(config.technique).value}: {', '.join(floats)} "
                              f"cannot be quantized to int8 ({tool} kept float); use 'integer' "
                              f"(float fallback), or replace op {floats[0]}")


def representative_dataset(shapes, dtypes, config: PtqConfig, data, qat: bool, names=None,
                           by_name: bool = False):
    """The calibration generator (built once; one sample per yield) and its sample count.

    ``data`` is an array, a list of arrays in ``names`` order, or ``Inputs`` matched to the
    model's input ``names``. A sample is a list in ``names`` order, or with ``by_name`` a dict
    by input name (the converter then matches the names to its signature: needed where its
    graph orders the inputs otherwise, measured for ``from_keras_model`` with two inputs)."""
    tid = TechniqueId(config.technique)
    if (qat and data is None) or (not qat and not config.needs_calibration):
        return None, 0
    if data is None:
        raise ValueError(f"{tid.value} needs representative data for calibration: pass 100-500 "
                         "unlabelled input samples, or use dynamic_range, which needs none")
    if is_multi(data) and not names:
        raise ValueError("named representative inputs need the model's input names")
    arrays = ordered(data, names or [f"input_{i}" for i in range(len(shapes))],
                     "the representative samples")
    if len(arrays) != len(shapes):
        raise ValueError(f"the model has {len(shapes)} inputs but {len(arrays)} representative "
                         "arrays were given; pass one array per input")
    arrays = [np.asarray(a)[: config.calibration_samples].astype(d, copy=False)
              for a, d in zip(arrays, dtypes)]
    for i, (array, shape) in enumerate(zip(arrays, shapes)):
        expected = tuple(shape[1:])
        if len(array.shape) != len(shape) or any(
                e is not None and e != a for e, a in zip(expected, array.shape[1:])):
            which = f" for input '{names[i]}'" if names and len(shapes) > 1 else ""
            raise ValueError(f"representative samples have shape {tuple(array.shape[1:])} but "
                             f"the model expects {expected}{which}; pass inputs shaped like "
                             f"the model's")
    count = min(len(a) for a in arrays)
    if count == 0:
        raise ValueError("the representative dataset is empty: pass 100-500 input samples")

    def generator():
        for i in range(count):
            if by_name and len(arrays) > 1:
                yield {n: a[i:i + 1] for n, a in zip(names, arrays)}
            else:
                yield [a[i:i + 1] for a in arrays]

    from optimizer.engine.shared_conversion import data_key

    generator.samples_key = data_key([a[:count] for a in arrays], names, by_name)
    return generator, count


def first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


@contextmanager
def captured_stderr(into: list):
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
