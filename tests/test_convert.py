"""convert: freeze once, every post-training preset, QAT, failures as one-line errors."""
from __future__ import annotations

import numpy as np
import pytest

from optimizer.guide.configs import IoType, PtqConfig
from optimizer.guide.registry import TechniqueId
from optimizer.guide.schema import Engine
from optimizer.measuring.facts import tflite_facts

pytestmark = [pytest.mark.slow, pytest.mark.cost(30)]

PRESETS = {
    "float32": PtqConfig.float32(),
    "float16": PtqConfig.float16(),
    "dynamic_range": PtqConfig.dynamic_range(),
    "integer": PtqConfig.full_integer(calibration_samples=100),
    "integer_only": PtqConfig.full_integer(True, calibration_samples=100),
    "integer_only_uint8": PtqConfig.full_integer(True, calibration_samples=100,
                                                 io_type=IoType.UINT8),
    "int16x8": PtqConfig.int16x8(calibration_samples=100),
}


@pytest.fixture(scope="module")
def frozen(tiny_model):
    from optimizer.engine.convert import freeze_model

    return freeze_model(tiny_model)


@pytest.fixture(scope="module")
def conversions(frozen, tiny_dataset):
    from optimizer.engine.convert import convert

    rep = tiny_dataset.representative(200)
    return {name: convert(frozen, config, rep) for name, config in PRESETS.items()}


def _keras_accuracy(model, dataset) -> float:
    return float(np.mean(model.predict(dataset.x_test, verbose=0).argmax(1) == dataset.y_test))


def test_freeze_reports_inputs_and_leaves_the_model_alone(tiny_model):
    from optimizer.engine.convert import freeze_model

    before = [w.copy() for w in tiny_model.get_weights()]
    frozen = freeze_model(tiny_model)
    assert frozen.input_shapes == ((None, 8, 8, 1),)
    assert frozen.input_dtypes == ("float32",) and len(frozen.output_names) == 1
    assert not frozen.quantization_aware
    assert all(np.array_equal(a, b) for a, b in zip(before, tiny_model.get_weights()))


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_converts(conversions, name):
    conversion = conversions[name]
    facts = tflite_facts(conversion.tflite)
    assert conversion.engine == Engine.CONVERTER
    assert conversion.technique == PRESETS[name].technique
    assert conversion.seconds > 0 and conversion.recipe.startswith("TFLiteConverter.")
    assert facts.signatures == ("serving_default",)
    assert facts.input_shape == (-1, 8, 8, 1)


def test_shared_freezing_and_calibration_give_the_same_bytes(frozen, conversions, tiny_dataset):
    """Every variant of one frozen graph shares TensorFlow's re-freezing and the calibrations
    (engine.shared_conversion): each file is byte for byte an unshared conversion's."""
    from dataclasses import replace

    from optimizer.engine.convert import convert

    assert frozen.shared.graph is not None and frozen.shared.reused >= len(PRESETS)
    alone = replace(frozen, shared=None)             # TensorFlow's converter, untouched
    rep = tiny_dataset.representative(200)
    for name, config in PRESETS.items():
        assert convert(alone, config, rep).tflite == conversions[name].tflite, name


def test_sizes_follow_the_guide(conversions):
    base = len(conversions["float32"].tflite)
    assert 0.45 < len(conversions["float16"].tflite) / base < 0.6
    for name in ("dynamic_range", "integer", "integer_only", "int16x8"):
        assert 0.2 < len(conversions[name].tflite) / base < 0.37, name


def test_io_dtypes(conversions):
    def io(name):
        facts = tflite_facts(conversions[name].tflite)
        return facts.input_dtype, facts.output_dtype

    assert io("integer_only") == ("int8", "int8")
    assert io("integer_only_uint8") == ("uint8", "uint8")
    for name in ("float32", "float16", "dynamic_range", "integer", "int16x8"):
        assert io(name) == ("float32", "float32"), name
    assert tflite_facts(conversions["integer_only"].tflite).float_ops == ()


def test_int16x8_has_int16_activations(conversions):
    from optimizer import compat

    interpreter = compat.interpreter_class()(model_content=conversions["int16x8"].tflite)
    dtypes = {np.dtype(d["dtype"]).name for d in interpreter.get_tensor_details()}
    assert "int16" in dtypes and "int8" in dtypes


def test_batchnorm_is_folded(conversions):
    ops = tflite_facts(conversions["float32"].tflite).ops
    assert "MUL" not in ops and "ADD" not in ops  # BN would leave a multiply-add behind


def test_frozen_and_from_keras_model_give_the_same_float_outputs(tiny_model, tiny_dataset,
                                                                 conversions):
    from optimizer.engine.convert import convert_from_keras
    from optimizer.measuring.accuracy import run_tflite

    naive = convert_from_keras(tiny_model, PtqConfig.float32())
    x = tiny_dataset.x_test
    np.testing.assert_allclose(run_tflite(conversions["float32"].tflite, x),
                               run_tflite(naive.tflite, x), atol=1e-5)
    np.testing.assert_allclose(run_tflite(naive.tflite, x), tiny_model.predict(x, verbose=0),
                               atol=1e-5)
    assert naive.recipe.startswith("TFLiteConverter.from_keras_model")


@pytest.mark.parametrize("name", [n for n in PRESETS if n != "float32"])
def test_accuracy_through_the_interpreter_within_two_points(tiny_model, tiny_dataset,
                                                            conversions, name):
    from optimizer.measuring.accuracy import evaluate

    keras_accuracy = _keras_accuracy(tiny_model, tiny_dataset)
    measured = evaluate(conversions[name].tflite, tiny_dataset)
    assert measured.metric == "accuracy"
    assert abs(measured.value - keras_accuracy) <= 0.02


def test_missing_representative_data_names_the_fix(frozen):
    from optimizer.engine.convert import convert

    for config in (PtqConfig.full_integer(), PtqConfig.int16x8()):
        with pytest.raises(ValueError, match="representative data.*dynamic_range"):
            convert(frozen, config)


def test_wrong_representative_shape_is_refused(frozen):
    from optimizer.engine.convert import convert

    with pytest.raises(ValueError, match="shape"):
        convert(frozen, PtqConfig.full_integer(), np.zeros((10, 4, 4, 1), np.float32))


def _sin_model():
    from optimizer import compat

    keras, tf = compat.keras(), compat.tf()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,))
    hidden = keras.layers.Lambda(lambda t: tf.sin(t))(keras.layers.Dense(8)(inputs))
    return keras.Model(inputs, keras.layers.Dense(3)(hidden))


def test_integer_only_refuses_an_op_left_in_float():
    from optimizer.engine.convert import convert
    from optimizer.engine.converter import ConversionError

    rep = np.random.default_rng(0).random((20, 8), dtype=np.float32)
    with pytest.raises(ConversionError) as info:
        convert(_sin_model(), PtqConfig.full_integer(True), rep)
    message = str(info.value)
    assert "SIN" in message and "'integer'" in message and "\n" not in message
    # the same op is fine with float fallback, and int16x8 falls back to float for it
    assert "SIN" in tflite_facts(convert(_sin_model(), PtqConfig.full_integer(), rep).tflite
                                 ).float_ops
    fallback = convert(_sin_model(), PtqConfig.int16x8(), rep)
    assert any("SIN" in line for line in fallback.log)


def test_op_without_a_litert_kernel_is_a_one_line_error():
    from optimizer import compat
    from optimizer.engine.convert import convert
    from optimizer.engine.converter import ConversionError

    keras, tf = compat.keras(), compat.tf()
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: tf.math.erf(t))(inputs))
    with pytest.raises(ConversionError) as info:
        convert(model, PtqConfig.float32())
    assert "Erf" in str(info.value) and "\n" not in str(info.value)
    assert "loc(" not in str(info.value)


def test_quantization_aware_model_converts_without_data(tiny_model, tiny_dataset):
    from optimizer import compat
    from optimizer.engine.convert import convert, freeze_model
    from optimizer.engine.converter import ConversionError
    from optimizer.measuring.accuracy import evaluate

    before = [w.copy() for w in tiny_model.get_weights()]
    qat = compat.tfmot().quantization.keras.quantize_model(tiny_model)
    # One short epoch: QAT learns its activation ranges while training.
    qat.compile(optimizer=compat.keras().optimizers.Adam(1e-4),
                loss="sparse_categorical_crossentropy")
    qat.fit(tiny_dataset.x_train, tiny_dataset.y_train, epochs=1, batch_size=32, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, tiny_model.get_weights()))
    frozen = freeze_model(qat)
    assert frozen.quantization_aware
    integer = convert(frozen, PtqConfig.full_integer())
    integer_only = convert(frozen, PtqConfig.full_integer(True))
    facts = tflite_facts(integer.tflite)
    assert (facts.input_dtype, facts.weight_dtypes) == ("float32", ("int8",))
    only = tflite_facts(integer_only.tflite)
    assert (only.input_dtype, only.output_dtype, only.float_ops) == ("int8", "int8", ())
    qat_accuracy = _keras_accuracy(qat, tiny_dataset)
    assert abs(evaluate(integer_only.tflite, tiny_dataset).value - qat_accuracy) <= 0.02
    with pytest.raises(ConversionError, match="'integer' or 'integer_only'"):
        convert(frozen, PtqConfig.float16())


def test_models_with_fixed_batch_or_several_inputs(tiny_dataset):
    from optimizer import compat
    from optimizer.engine.convert import convert, freeze_model
    from optimizer.measuring.accuracy import run_tflite

    keras = compat.keras()
    fixed_in = keras.Input((6,), batch_size=1)
    fixed = keras.Model(fixed_in, keras.layers.Dense(2)(keras.layers.BatchNormalization()(
        keras.layers.Dense(4)(fixed_in))))
    x = np.random.default_rng(0).random((5, 6), dtype=np.float32)
    tflite = convert(fixed, PtqConfig.float32()).tflite
    assert tflite_facts(tflite).input_shape == (-1, 6)
    np.testing.assert_allclose(run_tflite(tflite, x), fixed.predict(x, verbose=0), atol=1e-5)

    a, b = keras.Input((3,), name="a"), keras.Input((5,), name="b")
    two = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Concatenate()([a, b])))
    frozen = freeze_model(two)
    assert frozen.input_names == ("a", "b")
    xa, xb = x[:, :3], np.random.default_rng(1).random((5, 5), dtype=np.float32)
    out = run_tflite(convert(frozen, PtqConfig.float32()).tflite, [xa, xb])
    np.testing.assert_allclose(out, two.predict([xa, xb], verbose=0), atol=1e-5)
    int8 = convert(frozen, PtqConfig.full_integer(), [np.tile(xa, (4, 1)), np.tile(xb, (4, 1))])
    assert tflite_facts(int8.tflite).inputs == 2


def test_falls_back_to_from_keras_model_when_freezing_fails(tiny_model, monkeypatch):
    from optimizer.engine import convert as module

    def refuse(model):
        raise module.FreezeError("simulated: this model cannot be frozen")

    monkeypatch.setattr(module, "freeze_model", refuse)
    result = module.convert(tiny_model, PtqConfig.float32())
    assert result.recipe.startswith("TFLiteConverter.from_keras_model")
    assert "from_keras_model" in result.log[0] and "simulated" in result.log[0]
    assert result.technique == TechniqueId.FLOAT32
