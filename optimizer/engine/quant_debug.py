"""Selective quantization: calibrate 'integer' once under TFLite's QuantizationDebugger, then
re-quantize with chosen ops kept in float.

``quantization_debugger`` sets the converter up exactly as ``convert.convert`` sets up
'integer' and hands it to ``tf.lite.experimental.QuantizationDebugger``, whose per-layer
statistics show which ops lose the most to quantization (``engine.layer_error`` reads them).
``selective_conversion`` then re-quantizes the calibrated model with some ops denylisted
(``QuantizationDebugOptions(denylisted_nodes=...)``) without calibrating again.
"""
from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field

from optimizer import compat
from optimizer.engine.convert import FrozenModel, freeze_model
from optimizer.engine.converter import (
    Conversion,
    captured_stderr,
    configure,
    conversion_error,
    representative_dataset,
)
from optimizer.guide.configs import PtqConfig
from optimizer.guide.registry import TechniqueId
from optimizer.guide.schema import Engine


@dataclass(frozen=True)
class QuantizationDebug:
    """Post-training integer quantization calibrated once, under TFLite's QuantizationDebugger.

    ``debugger`` is a ``tf.lite.experimental.QuantizationDebugger``: its per-layer statistics
    compare each quantized op with a float copy of it (``engine.layer_error`` reads them), and
    ``selective_conversion`` re-quantizes its calibrated model with some ops kept in float.
    """

    debugger: object = field(repr=False, compare=False)
    frozen: FrozenModel = field(repr=False, compare=False)
    calibration_samples: int
    debug_samples: int
    seconds: float


def quantization_debugger(source, representative, calibration_samples: int = 200,
                          debug_samples: int = 100) -> QuantizationDebug:
    """Calibrate post-training integer quantization of ``source`` once, under the debugger.

    ``source`` is a ``FrozenModel`` or a tf_keras model (frozen here). The converter is set up
    exactly as ``convert`` sets up 'integer' (DEFAULT optimizations, the first
    ``calibration_samples`` representative samples, float input/output); the first
    ``debug_samples`` samples feed the per-layer statistics. Raises ``ConversionError`` when
    calibration fails.
    """
    tf = compat.tf()
    start = time.perf_counter()
    frozen = source if isinstance(source, FrozenModel) else freeze_model(source)
    config = PtqConfig(TechniqueId.INTEGER, calibration_samples=calibration_samples)
    reps, _ = representative_dataset(frozen.input_shapes, frozen.input_dtypes, config,
                                     representative, False, frozen.input_names)
    debug_config = PtqConfig(TechniqueId.INTEGER, calibration_samples=debug_samples)
    debug_reps, count = representative_dataset(frozen.input_shapes, frozen.input_dtypes,
                                               debug_config, representative, False,
                                               frozen.input_names)
    captured: list[str] = []
    error = None
    with captured_stderr(captured), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the debugger's own tf.lite.Interpreter warns
        converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen.function])
        configure(converter, tf, config, reps, qat=False, fallback=False)
        try:
            debugger = tf.lite.experimental.QuantizationDebugger(converter=converter,
                                                                 debug_dataset=debug_reps)
        except Exception as exc:  # noqa: BLE001 - translated into one line below
            error = exc
    if error is not None:
        os.write(2, captured[0].encode(errors="replace")[-4000:])
        raise conversion_error(error, captured[0], TechniqueId.INTEGER) from error
    return QuantizationDebug(debugger=debugger, frozen=frozen,
                             calibration_samples=calibration_samples, debug_samples=count,
                             seconds=time.perf_counter() - start)


def selective_conversion(debug: QuantizationDebug, denylisted_nodes=()) -> Conversion:
    """The integer file of ``debug`` with the ops in ``denylisted_nodes`` kept in float.

    ``denylisted_nodes`` are op output tensor names as the debugger's statistics name them
    (``QuantizationDebugOptions(denylisted_nodes=...)``); those ops keep float32 weights and
    compute in float, with (de)quantize ops around them. Input and output stay float, as with
    'integer'. No recalibration: the calibrated model is re-quantized (well under a second).
    """
    tf = compat.tf()
    start = time.perf_counter()
    nodes = [str(n) for n in denylisted_nodes]
    captured: list[str] = []
    error = None
    with captured_stderr(captured), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            debug.debugger.options = tf.lite.experimental.QuantizationDebugOptions(
                denylisted_nodes=nodes or None)
            tflite = debug.debugger.get_nondebug_quantized_model()
        except Exception as exc:  # noqa: BLE001 - translated into one line below
            error = exc
    if error is not None:
        os.write(2, captured[0].encode(errors="replace")[-4000:])
        raise conversion_error(error, captured[0], TechniqueId.INTEGER) from error
    from optimizer.engine.signature import add_signature

    tflite = add_signature(tflite, debug.frozen.input_names, debug.frozen.output_names)
    recipe = (f"TFLiteConverter.from_concrete_functions(frozen graph), optimizations=[DEFAULT], "
              f"representative_dataset={debug.calibration_samples} samples, through "
              f"tf.lite.experimental.QuantizationDebugger(...).get_nondebug_quantized_model() "
              f"with QuantizationDebugOptions(denylisted_nodes={nodes!r})")
    log = (f"kept in float (denylisted_nodes): {', '.join(nodes)}",) if nodes else ()
    return Conversion(tflite=tflite, engine=Engine.CONVERTER,
                      seconds=time.perf_counter() - start, technique=TechniqueId.INTEGER,
                      log=log, recipe=recipe)
