"""Per-layer int8 error (TFLite's QuantizationDebugger) and selective quantization."""
from __future__ import annotations

import math

import pytest

from optimizer.engine.layer_error import (
    ROUNDING_RMSE_SCALE,
    LayerError,
    short_layer_name,
    worst_layers,
)


@pytest.mark.parametrize("name, op, expected", [
    ("sequential/dense/MatMul;sequential/dense/Relu;sequential/dense/BiasAdd", "", "dense"),
    ("digits_cnn/re_lu/Relu;digits_cnn/batch_normalization/FusedBatchNormV3;"
     "digits_cnn/conv2d/BiasAdd;digits_cnn/conv2d/Conv2D1", "CONV_2D", "conv2d"),
    ("mobilenetv2_0.35_96/block_16_project_BN/FusedBatchNormV3;"
     "mobilenetv2_0.35_96/block_16_project/Conv2D", "CONV_2D", "block_16_project"),
    ("digits_cnn/max_pooling2d/MaxPool1", "MAX_POOL_2D", "max_pooling2d"),
    ("Identity", "SOFTMAX", "softmax (output)"),
])
def test_short_layer_names(name, op, expected):
    assert short_layer_name(name, op) == expected


def _error(name, rmse, scale):
    return LayerError(index=len(name), name=name, layer=name, op="CONV_2D", rmse=rmse,
                      scale=scale, rmse_scale=rmse / scale, mean_error=0.0, max_abs_error=rmse,
                      elements=10)


def test_worst_layers_rank_by_rmse_over_scale_and_skip_exact_ops():
    errors = [_error("a", 0.3, 1.0), _error("b", 0.0, 1.0), _error("c", 5.0, 1.0),
              _error("d", 0.1, 0.01)]
    assert [e.name for e in worst_layers(errors, 2)] == ["d", "c"]
    assert [e.name for e in worst_layers(errors, 9)] == ["d", "c", "a"]   # never the exact "b"
    assert worst_layers(errors, 0) == []
    with pytest.raises(ValueError):
        worst_layers(errors, -1)
    assert LayerError.from_dict(errors[0].to_dict()) == errors[0]


@pytest.fixture(scope="module")
def outliers():
    """The digits-outliers demo: (model, dataset, frozen graph, debugger)."""
    from optimizer.engine.convert import freeze_model
    from optimizer.engine.quant_debug import quantization_debugger
    from optimizer.models.demos import get_demo

    demo = get_demo("digits-outliers")
    model, data = demo.build_model(), demo.dataset()
    frozen = freeze_model(model)
    return model, data, frozen, quantization_debugger(frozen, data.representative(200))


@pytest.mark.slow
def test_the_layer_reading_outlier_inputs_is_the_worst_and_keeping_it_float_repairs_int8(
        outliers):
    """digits-outliers' first layer (``normalize``, a MUL) reads the raw-unit inputs: int8
    gives its input one coarse scale, so it is by far the worst, and float there repairs."""
    from optimizer.engine.convert import convert
    from optimizer.engine.layer_error import layer_errors
    from optimizer.engine.quant_debug import selective_conversion
    from optimizer.guide.configs import PtqConfig
    from optimizer.measuring.accuracy import evaluate
    from optimizer.measuring.facts import tflite_facts

    model, data, frozen, debug = outliers
    baseline = evaluate(convert(frozen, PtqConfig.float32()).tflite, data).value
    errors = layer_errors(debug)
    assert [e.op for e in errors] == ["MUL"] + ["FULLY_CONNECTED"] * 4 + ["SOFTMAX"]
    worst = worst_layers(errors, 1)[0]
    assert worst.layer == "normalize" and worst.index == errors[0].index
    assert worst.rmse_scale > 10 and all(e.rmse_scale < 2 for e in errors[1:])
    plain = selective_conversion(debug, [])
    kept = selective_conversion(debug, [worst.name])
    plain_acc, kept_acc = evaluate(plain.tflite, data).value, evaluate(kept.tflite, data).value
    assert baseline - plain_acc > 0.05                 # plain int8 misses a 1-point budget...
    assert baseline - kept_acc <= 0.01                 # ...one float layer meets it
    assert len(kept.tflite) > len(plain.tflite)        # the float weights cost bytes
    assert tflite_facts(kept.tflite).float_ops == ("MUL",)
    assert tflite_facts(plain.tflite).float_ops == ()
    assert worst.name in kept.log[0] and "denylisted_nodes" in kept.recipe
    after = layer_errors(debug, [worst.name])
    assert worst.name not in {e.name for e in after} and len(after) == len(errors) - 1


@pytest.mark.slow
def test_an_ordinary_model_has_rounding_level_errors(tiny_model, tiny_dataset):
    from optimizer.engine.layer_error import layer_errors
    from optimizer.engine.quant_debug import quantization_debugger

    debug = quantization_debugger(tiny_model, tiny_dataset.representative(200),
                                  debug_samples=50)
    errors = layer_errors(debug)
    assert debug.debug_samples == 50 and len(errors) >= 4
    assert {"CONV_2D", "FULLY_CONNECTED"} <= {e.op for e in errors}
    assert all(math.isfinite(e.rmse_scale) for e in errors)
    weighted = [e for e in errors if e.op in ("CONV_2D", "FULLY_CONNECTED")]
    # no outliers here: every weighted op stays within a few rounding steps
    assert all(e.rmse_scale < 10 * ROUNDING_RMSE_SCALE for e in weighted)
    assert [e.index for e in errors] == sorted(e.index for e in errors)
