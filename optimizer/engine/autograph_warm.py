"""AutoGraph's conversions done once in the warm job process, before it forks.

The first time a graph calls a function (a TFMOT wrapper's ``call``, its quantizers, Keras's
``train_function``), TensorFlow's AutoGraph parses its source and rewrites it -- pure Python,
about 40 % of a QAT job's set-up and fine-tuning on digits-cnn (measured: 17 conversions, 3.1 s
of 7.7 s on a loaded 2-core machine). Each process pays it again, and a fork of the warm job
process is a new process. Converting them in the warm process itself, where only Python runs
(no graph is built, no TensorFlow runtime starts: the process keeps its threads), fills
AutoGraph's cache that every fork inherits, keyed exactly as AutoGraph keys it: the function's
code object and the conversion options.

``WARM`` lists the functions the retraining stages and the freezing trace convert (read from
AutoGraph's cache misses in real QAT, pruning and clustering jobs). A function a later TFMOT or
TensorFlow no longer has is skipped: the job then converts it itself, as before.
"""
from __future__ import annotations

import importlib
import types

#: (module, qualified name, user_requested): what AutoGraph converts in retraining jobs.
#: ``user_requested`` is True for a ``tf.function``'s own function, False for what it calls.
WARM = (
    # QAT (tfmot.quantization.keras)
    ("tensorflow_model_optimization.python.core.quantization.keras.quantize_annotate",
     "QuantizeAnnotate.call", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.quantize_layer",
     "QuantizeLayer.call", False),
    ("tensorflow_model_optimization.python.core.keras.utils", "smart_cond", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.quantizers",
     "AllValuesQuantizer.__call__", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.quant_ops",
     "AllValuesQuantize", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.quant_ops",
     "_FakeQuantWithMinMaxVars", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.quantize_wrapper",
     "QuantizeWrapper.call", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.quantize_wrapper",
     "QuantizeWrapper._make_quantizer_fn", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.quantizers",
     "LastValueQuantizer.__call__", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.quant_ops",
     "LastValueQuantize", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.default_8bit."
     "default_8bit_quantize_registry", "Default8BitQuantizeConfig.set_quantize_weights", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.default_8bit."
     "default_8bit_quantize_registry", "Default8BitQuantizeConfig.set_quantize_activations",
     False),
    ("tensorflow_model_optimization.python.core.quantization.keras.quantizers",
     "MovingAverageQuantizer.__call__", False),
    ("tensorflow_model_optimization.python.core.quantization.keras.quant_ops",
     "MovingAvgQuantize", False),
    ("tensorflow_model_optimization.python.core.keras.compat", "assign", False),
    # pruning (tfmot.sparsity.keras)
    ("tensorflow_model_optimization.python.core.sparsity.keras.pruning_wrapper",
     "PruneLowMagnitude.call", False),
    ("tensorflow_model_optimization.python.core.sparsity.keras.pruning_wrapper",
     "PruneLowMagnitude.build.<locals>.training_step_fn", False),
    ("tensorflow_model_optimization.python.core.sparsity.keras.pruning_impl",
     "Pruning.weight_mask_op", False),
    ("tensorflow_model_optimization.python.core.sparsity.keras.pruning_impl",
     "Pruning._weight_assign_objs", False),
    ("tensorflow_model_optimization.python.core.sparsity.keras.pruning_impl",
     "Pruning.conditional_mask_update.<locals>.mask_update_distributed", False),
    ("tensorflow_model_optimization.python.core.sparsity.keras.pruning_impl",
     "Pruning.conditional_mask_update.<locals>.maybe_update_masks", False),
    ("tensorflow_model_optimization.python.core.sparsity.keras.pruning_impl",
     "Pruning._maybe_update_block_mask", False),
    ("tensorflow_model_optimization.python.core.sparsity.keras.pruning_impl",
     "Pruning._update_mask", False),
    ("tensorflow_model_optimization.python.core.sparsity.keras.pruning_schedule",
     "PolynomialDecay.__call__", False),
    ("tensorflow_model_optimization.python.core.sparsity.keras.pruning_schedule",
     "PruningSchedule._should_prune_in_step", False),
    # clustering (tfmot.clustering.keras)
    ("tensorflow_model_optimization.python.core.clustering.keras.cluster_wrapper",
     "ClusterWeights.call", False),
    ("tensorflow_model_optimization.python.core.clustering.keras.cluster_wrapper",
     "ClusterWeights.update_clustered_weights_associations", False),
    ("tensorflow_model_optimization.python.core.clustering.keras.cluster_wrapper",
     "ClusterWeights.set_weight_to_layer", False),
    ("tensorflow_model_optimization.python.core.clustering.keras.clustering_algorithm",
     "ClusteringAlgorithm.get_pulling_indices", False),
    ("tensorflow_model_optimization.python.core.clustering.keras.clustering_algorithm",
     "ClusteringAlgorithm.get_clustered_weight", False),
    # every fine-tune's training step, and the freezing trace
    ("tf_keras.src.engine.training", "Model.make_train_function.<locals>.train_function", True),
    ("optimizer.engine.convert", "freeze_model.<locals>.forward", True),
)


def warm_autograph() -> tuple[int, list[str]]:
    """Convert every function of ``WARM`` into AutoGraph's cache; (how many, those skipped)."""
    from optimizer import compat

    transpiler, options_class, context_class = compat.autograph_internals()
    done, skipped = 0, []
    for module, qualname, user_requested in WARM:
        try:
            function = resolve(module, qualname)
            transpiler.transform(function, context_class(options=_options(options_class,
                                                                          user_requested)))
        except Exception as exc:  # noqa: BLE001 - a job converts what is missing itself
            skipped.append(f"{module}.{qualname} ({type(exc).__name__})")
            continue
        done += 1
    return done, skipped


def is_warm(module: str, qualname: str, user_requested: bool) -> bool:
    """True when AutoGraph's cache holds the conversion of that function (tests)."""
    from optimizer import compat

    transpiler, options_class, _ = compat.autograph_internals()
    return transpiler._cache.has(resolve(module, qualname),
                                 _options(options_class, user_requested))


def _options(options_class, user_requested: bool):
    """The options AutoGraph converts these with (``tf.function`` and the calls it makes)."""
    return options_class(recursive=True, user_requested=user_requested,
                         internal_convert_user_code=True, optional_features=None)


def resolve(module: str, qualname: str):
    """The function ``qualname`` names in ``module``; a nested one (``outer.<locals>.inner``)
    is rebuilt from its code object inside the outer function's (AutoGraph keys its cache by
    code object: the same one a job's call would use)."""
    outer, _, inner = qualname.partition(".<locals>.")
    target = importlib.import_module(module)
    for part in outer.split("."):
        target = getattr(target, part)
    target = getattr(target, "__func__", target)
    if not inner:
        return target
    code = _nested_code(target.__code__, qualname)
    if code is None:
        raise LookupError(f"no nested function {qualname}")
    closure = tuple(types.CellType() for _ in code.co_freevars)
    return types.FunctionType(code, target.__globals__, code.co_name, None, closure)


def _nested_code(code, qualname: str):
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_qualname == qualname:
                return const
            found = _nested_code(const, qualname)
            if found is not None:
                return found
    return None
