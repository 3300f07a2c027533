"""quantize_tflite: LiteRT Quantizer recipes applied to a float .tflite."""
from __future__ import annotations

import numpy as np
import pytest

from optimizer import compat
from optimizer.guide.configs import IoType, PtqConfig
from optimizer.guide.schema import Engine
from optimizer.measuring.facts import tflite_facts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def float_tflite(tiny_model) -> bytes:
    from optimizer.engine.convert import convert

    return convert(tiny_model, PtqConfig.float32()).tflite


@pytest.fixture(scope="module")
def baseline(float_tflite, tiny_dataset):
    from optimizer.measuring.accuracy import evaluate

    return evaluate(float_tflite, tiny_dataset)


def _without_signature(tflite: bytes) -> bytes:
    """The same model with its SignatureDefs removed (as some exported files come)."""
    import flatbuffers

    schema = compat.tflite_schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(tflite), 0)
    model.signatureDefs = []
    builder = flatbuffers.Builder(len(tflite) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def test_integer_only_gives_int8_io_and_near_baseline_accuracy(float_tflite, baseline,
                                                                tiny_dataset, capfd):
    from optimizer.engine.quantizer import quantize_tflite
    from optimizer.measuring.accuracy import evaluate

    result = quantize_tflite(float_tflite, PtqConfig.full_integer(True, calibration_samples=100),
                             tiny_dataset.representative(200))
    facts = tflite_facts(result.tflite)
    assert result.engine == Engine.LITERT_QUANTIZER
    assert (facts.input_dtype, facts.output_dtype, facts.float_ops) == ("int8", "int8", ())
    assert abs(evaluate(result.tflite, tiny_dataset).value - baseline.value) <= 0.02
    assert any("100 representative samples" in line for line in result.log)
    assert capfd.readouterr().out == ""  # the quantizer's report stays off our stdout


@pytest.mark.parametrize("config, io, ratio", [
    (PtqConfig.float16(), "float32", (0.45, 0.6)),
    (PtqConfig.dynamic_range(), "float32", (0.2, 0.37)),
    (PtqConfig.full_integer(), "float32", (0.2, 0.37)),
    (PtqConfig.int16x8(), "int16", (0.2, 0.37)),
], ids=["float16", "dynamic_range", "integer", "int16x8"])
def test_recipes(float_tflite, baseline, tiny_dataset, config, io, ratio):
    from optimizer.engine.quantizer import quantize_tflite
    from optimizer.measuring.accuracy import evaluate

    result = quantize_tflite(float_tflite, config, tiny_dataset.representative(100))
    facts = tflite_facts(result.tflite)
    assert facts.input_dtype == facts.output_dtype == io
    assert ratio[0] < facts.size_bytes / len(float_tflite) < ratio[1]
    assert abs(evaluate(result.tflite, tiny_dataset).value - baseline.value) <= 0.02
    assert result.recipe.startswith("litert_quantizer ")


def test_file_without_signature_gets_one(float_tflite, tiny_dataset):
    from optimizer.engine.quantizer import quantize_tflite
    from optimizer.engine.signature import add_signature

    bare = _without_signature(float_tflite)
    assert tflite_facts(bare).signatures == ()
    assert tflite_facts(add_signature(bare)).signatures == ("serving_default",)
    result = quantize_tflite(bare, PtqConfig.full_integer(True), tiny_dataset.representative(50))
    assert tflite_facts(result.tflite).input_dtype == "int8"


def test_unsupported_configs_say_what_is_available(float_tflite, tiny_dataset):
    from optimizer.engine.quantizer import quantize_tflite

    with pytest.raises(ValueError, match="available for a .tflite input: float16, dynamic_range"):
        quantize_tflite(float_tflite, PtqConfig.float32())
    with pytest.raises(ValueError, match="int8 input/output only"):
        quantize_tflite(float_tflite, PtqConfig.full_integer(True, io_type=IoType.UINT8),
                        tiny_dataset.representative(50))
    with pytest.raises(ValueError, match="representative data"):
        quantize_tflite(float_tflite, PtqConfig.int16x8())
    dynamic = quantize_tflite(float_tflite, PtqConfig.dynamic_range()).tflite
    with pytest.raises(ValueError, match="already quantized"):
        quantize_tflite(dynamic, PtqConfig.dynamic_range())
    with pytest.raises(ValueError, match="shape"):
        quantize_tflite(float_tflite, PtqConfig.full_integer(),
                        np.zeros((10, 4, 4, 1), np.float32))


def _weight_only(float_tflite: bytes, recipe) -> bytes:
    from optimizer.engine.quantizer import load_recipe
    from optimizer.engine.signature import add_signature

    quantizer_module, recipe_module = compat.litert_quantizer()
    quantizer = quantizer_module.Quantizer(bytearray(add_signature(float_tflite)))
    load_recipe(quantizer, recipe_module, recipe)
    return bytes(quantizer.quantize().quantized_model)


def test_weight_only_recipes_take_their_bits_and_granularity(float_tflite, baseline,
                                                              tiny_dataset):
    """A QuantizerRecipe expresses weight-only int8 and int4 channelwise (not only float
    casting): the weights are stored as integers, dequantized before float compute."""
    from optimizer.engine.quantizer import require_quantized_weights
    from optimizer.guide.conversion import QuantizerRecipe
    from optimizer.measuring.accuracy import evaluate

    sizes = {}
    for bits in (8, 4):
        recipe = QuantizerRecipe(f"int{bits} channelwise", weight_only_bits=bits)
        tflite = _weight_only(float_tflite, recipe)
        require_quantized_weights(tflite, recipe, f"int{bits}")
        facts = tflite_facts(tflite)
        assert "DEQUANTIZE" in facts.ops and facts.input_dtype == "float32"
        assert abs(evaluate(tflite, tiny_dataset).value - baseline.value) <= 0.05
        sizes[bits] = len(tflite)
    assert sizes[4] < sizes[8] < 0.4 * len(float_tflite)


def test_a_weight_only_recipe_that_quantizes_nothing_is_an_error(float_tflite):
    from optimizer.engine.converter import ConversionError
    from optimizer.engine.quantizer import require_quantized_weights
    from optimizer.guide.conversion import Granularity, QuantizerRecipe

    recipe = QuantizerRecipe("int8 blockwise", weight_only_bits=8,
                             granularity=Granularity.BLOCKWISE_32)
    tflite = _weight_only(float_tflite, recipe)     # measured: small kernels stay float
    with pytest.raises(ConversionError, match="quantized no weight.*BLOCKWISE_32"):
        require_quantized_weights(tflite, recipe, "int8_blockwise")
