"""Post-training quantization of a float ``.tflite`` with the LiteRT Quantizer.

This is the path for users who upload a ``.tflite`` (there is no Keras model to convert), and
a fast one in general: it rewrites the float file in 0.01-4 s instead of re-running the
converter. Each technique names its recipe (``TechniqueInfo.quantizer`` in
``optimizer.guide.techniques``; why each was chosen, measured, is written beside it); float32 is
the input itself, so it is not a quantization here.

Calibration feeds the first ``config.calibration_samples`` representative samples one at a
time through the model's signature (a file that fixes its batch at B takes them B at a time).
A file without a signature (the frozen-graph converter path writes none) gets a
``serving_default`` signature first (``add_signature``). The
quantizer's report (stdout), progress bar (stderr) and debugging warnings are kept out of the
caller's output.

A per-layer recipe (``mixed``) takes the run's plan (``PtqConfig.own_config``), resolved on the
float file (``engine.layer_plan``); the log says where the file's precisions differ from the
plan. A weight rule (int4 weights) names every weight it left float and why
(``uncovered_weights``): an op the Quantizer's policy does not cover for that rule, or an input
size that is not a multiple of the block.
"""
from __future__ import annotations

import ast
import contextlib
import io
import time
import warnings

import numpy as np

from optimizer import compat
from optimizer.engine.converter import Conversion, ConversionError, require_integer_only
from optimizer.engine.signature import add_signature
from optimizer.guide.configs import IoType, PtqConfig
from optimizer.guide.conversion import QuantizerAlgorithm
from optimizer.guide.registry import TECHNIQUES, TechniqueId
from optimizer.guide.schema import Engine
from optimizer.guide.technique import QuantizerRecipe
from optimizer.inputs import ordered
from optimizer.measuring.batching import fixed_batch, padded


def quantize_tflite(float_tflite: bytes, config: PtqConfig, representative=None) -> Conversion:
    """Quantize a float ``.tflite`` (bytes) with the LiteRT Quantizer recipe for ``config``.

    ``representative`` (an array of samples, or a list of arrays in signature input order) is
    needed by integer, integer_only and int16x8. Raises ``ValueError`` for configs the
    LiteRT Quantizer cannot express or missing calibration data, and ``ConversionError`` when
    quantization fails or an integer_only result keeps float ops.
    """
    tid = TechniqueId(config.technique)
    row = TECHNIQUES[tid]
    recipe = row.quantizer
    if recipe is None:
        available = [t.value for t, r in TECHNIQUES.items() if r.quantizer is not None]
        why = ("the float .tflite is the baseline itself" if row.is_baseline else
               "its row has no QuantizerRecipe")
        raise ValueError(f"'{tid.value}' is not a LiteRT Quantizer recipe: {why}; available "
                         f"for a .tflite input: {', '.join(available)}")
    if row.integer_only and IoType(config.io_type) != IoType.INT8:
        raise ValueError("the LiteRT Quantizer writes int8 input/output only; use io_type int8, "
                         "or convert from the Keras model for uint8 I/O")
    if config.needs_calibration and representative is None:
        raise ValueError(f"{tid.value} needs representative data for calibration: pass 100-500 "
                         "unlabelled input samples, or use dynamic_range, which needs none")
    from optimizer.measuring.facts import tflite_facts

    stored = set(tflite_facts(float_tflite).weight_dtypes)
    if stored - {"float32"}:
        raise ValueError(f"this .tflite is already quantized (weights stored as "
                         f"{', '.join(sorted(stored))}); start from the float32 .tflite")
    start = time.perf_counter()
    model = add_signature(bytes(float_tflite))
    calibration = (calibration_data(model, config, representative)
                   if config.needs_calibration else None)
    quantizer_module, recipe_module = compat.litert_quantizer()
    plan = config.own_config.layer_plan if recipe.per_layer else None
    log = [f"LiteRT Quantizer recipe: {recipe.text}"]
    if plan is not None:
        log.append(f"per-layer plan: {plan.describe()}; {plan.io} input and output")
    if calibration:
        log.append(f"calibrated on {len(next(iter(calibration.values())))} representative "
                   "samples")
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "experimental_preserve_all_tensors is for debugging"
        try:
            quantizer = quantizer_module.Quantizer(bytearray(model))
            load_recipe(quantizer, recipe_module, recipe, plan=plan, model=model)
            if quantizer.need_calibration:
                # Two threads: this project's hosts have two cores.
                quantized = quantizer.quantize(quantizer.calibrate(calibration, num_threads=2))
            else:
                quantized = quantizer.quantize()
        except ValueError as exc:
            if plan is not None and "the plan names layer" in str(exc):
                raise   # a plan naming a layer the model lacks: the message lists its layers
            raise ConversionError(_one_line(tid, exc)) from exc
        except Exception as exc:  # noqa: BLE001 - every quantizer failure becomes one line
            raise ConversionError(_one_line(tid, exc)) from exc
    tflite = bytes(quantized.quantized_model)
    require_quantized_weights(tflite, recipe, tid.value)
    require_integer_only(tflite, config, tool="the LiteRT Quantizer")
    if plan is not None:
        from optimizer.engine.layer_plan import plan_notes
        from optimizer.measuring.precision import layer_ops

        log += plan_notes(model, layer_ops(tflite), plan)
    if recipe.weight_only and recipe.algorithm == QuantizerAlgorithm.MIN_MAX:
        log += uncovered_weights(tflite, recipe, quantizer_module)
    return Conversion(tflite=tflite, engine=Engine.LITERT_QUANTIZER,
                      seconds=time.perf_counter() - start, technique=tid, log=tuple(log),
                      recipe=f"litert_quantizer {recipe.text}")


def require_quantized_weights(tflite: bytes, recipe: QuantizerRecipe, name: str) -> None:
    """Raise ``ConversionError`` when a weight-only recipe left every weight float: the
    quantizer skips ops silently (measured: blockwise weight-only on small Conv2D/Dense
    kernels), and a "quantized" file that is the float file would be a false result."""
    from optimizer.measuring.facts import tflite_facts

    if recipe.weight_only and not set(tflite_facts(tflite).weight_dtypes) - {"float32"}:
        raise ConversionError(f"{name}: the LiteRT Quantizer quantized no weight of this "
                              f"model with {recipe.text} (granularity {recipe.granularity}); "
                              "use channelwise granularity, or another technique")


def load_recipe(quantizer, recipe_module, recipe: QuantizerRecipe, plan=None,
                model: bytes | None = None) -> None:
    """Apply a technique's ``QuantizerRecipe``: its calls (``QuantizerRecipe.calls``), the
    same the reproduce script writes; a per-layer recipe resolves its ``plan``'s layer names
    on ``model`` (the float file)."""
    names = {"recipe": recipe_module}
    if recipe.per_layer and plan is not None and plan.layers:
        from optimizer.engine.layer_plan import plan_names
        from optimizer.guide.precision import LayerPlan

        names.update(plan_names(model, plan if plan is not None else LayerPlan()))
    for call in recipe.calls(plan) if recipe.per_layer else recipe.calls():
        kwargs = {name: interpret(value, names) for name, value in call.kwargs}
        getattr(quantizer, call.method)(**kwargs)


#: Ops whose constant weights a weight rule quantizes (input 1; EMBEDDING_LOOKUP's table too).
_WEIGHTED_OPS = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D_TRANSPOSE",
                 "BATCH_MATMUL", "EMBEDDING_LOOKUP")


def covered_ops(quantizer_module, recipe: QuantizerRecipe) -> list[str]:
    """The ops the LiteRT Quantizer's own policy lets ``recipe``'s weight rule quantize."""
    policy = quantizer_module.default_policy.DEFAULT_CONFIG_CHECK_POLICY
    precision = "INTEGER" if recipe.dynamic else "FLOAT"
    out = []
    for op, configs in policy.items():
        for c in configs:
            weight = c.weight_tensor_config
            if (c.activation_tensor_config is None and weight is not None
                    and int(weight.num_bits) == int(recipe.weight_only_bits)
                    and str(getattr(weight.granularity, "value", weight.granularity))
                    == recipe.granularity.value
                    and str(getattr(c.compute_precision, "value", c.compute_precision))
                    == precision):
                out.append(str(getattr(op, "value", op)))
                break
    return sorted(out)


def uncovered_weights(tflite: bytes, recipe: QuantizerRecipe, quantizer_module) -> list[str]:
    """One sentence per layer whose weights ``recipe`` left float, with the reason."""
    from optimizer.measuring.precision import layer_ops
    from optimizer.measuring.readiness.graph import read_graph

    covered = covered_ops(quantizer_module, recipe)
    block = int(recipe.granularity.value.rsplit("_", 1)[1]) \
        if recipe.granularity.value.startswith("BLOCKWISE") else None
    names = {layer.index: layer.name for layer in layer_ops(tflite)}
    notes = []
    for op in read_graph(tflite).ops:
        if op.name not in _WEIGHTED_OPS:
            continue
        weight = next((t for t in op.inputs if t.constant and t.dtype == "float32"
                       and len(t.shape) >= 2), None)
        if weight is None:
            continue
        layer = f"{names.get(op.index, op.name)} ({op.name})"
        if op.name not in covered:
            why = f"the LiteRT Quantizer's {recipe.text} covers {', '.join(covered)} only"
        elif block and weight.shape[-1] % block:
            why = (f"its input size {weight.shape[-1]} is not a multiple of the block size "
                   f"{block}")
        else:
            why = "the LiteRT Quantizer left it float"
        notes.append(f"{layer} keeps float weights: {why}")
    return notes


def interpret(expression: str, names: dict):
    """The value of a recipe expression: a literal, a name or attribute path from ``names``,
    or a call of one with literal arguments. Anything else raises ``ValueError`` (no eval)."""
    def value(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.Attribute):
            return getattr(value(node.value), node.attr)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.Call) and not node.keywords \
                and all(isinstance(a, ast.Constant) for a in node.args):
            return value(node.func)(*(a.value for a in node.args))
        raise ValueError(f"recipe expression {expression!r}: only literals, names, attributes "
                         "and calls with literal arguments are allowed")

    return value(ast.parse(expression, mode="eval").body)


def calibration_data(model: bytes, config: PtqConfig, representative) -> dict:
    """``{signature: [{input_name: one_sample}, ...]}`` from the first calibration samples."""
    interpreter = compat.interpreter_class()(model_content=model)
    signatures = interpreter.get_signature_list()
    key = next(iter(signatures))
    names = list(signatures[key]["inputs"])
    runner_inputs = interpreter.get_signature_runner(key).get_input_details()
    arrays = ordered(representative, names, "the representative samples")
    arrays = [np.asarray(a)[: config.calibration_samples] for a in arrays]
    count = min(len(a) for a in arrays)
    if count == 0:
        raise ValueError("the representative dataset is empty: pass 100-500 input samples")
    for name, array in zip(names, arrays):
        expected = tuple(int(d) for d in runner_inputs[name]["shape_signature"][1:])
        if tuple(array.shape[1:]) != expected and -1 not in expected:
            raise ValueError(f"representative samples have shape {tuple(array.shape[1:])} but "
                             f"input '{name}' expects {expected}; pass inputs shaped like the "
                             "model's")
    dtypes = {n: np.dtype(runner_inputs[n]["dtype"]) for n in names}
    step = fixed_batch(list(runner_inputs.values())) or 1   # a file fixing its batch at 3: by 3
    samples = [{n: padded(a[i:i + step], step).astype(dtypes[n], copy=False)
                for n, a in zip(names, arrays)} for i in range(0, count, step)]
    return {key: samples}


def _one_line(tid: TechniqueId, exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    cause = (lines[0] if lines else type(exc).__name__)[:220]
    return (f"LiteRT Quantizer could not apply {tid.value} ({cause}); convert from the Keras "
            "model instead, or try another technique")


