"""evaluate / run_tflite: batched interpreter runs, (de)quantized I/O, accuracy, agreement, rmse."""
from __future__ import annotations

import numpy as np
import pytest

from optimizer.guide.configs import PtqConfig
from optimizer.measuring.accuracy import predictions
from optimizer.models.dataset import Dataset


def test_predictions_argmax_and_single_sigmoid():
    assert list(predictions(np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]]))) == [1, 0]
    assert list(predictions(np.array([[0.2], [0.51], [0.5]]))) == [0, 1, 0]


@pytest.fixture(scope="module")
def tflites(tiny_model, tiny_dataset):
    from optimizer.engine.convert import convert, freeze_model

    frozen = freeze_model(tiny_model)
    rep = tiny_dataset.representative(100)
    return {name: convert(frozen, config, rep).tflite for name, config in {
        "float32": PtqConfig.float32(), "integer_only": PtqConfig.full_integer(True),
        "int16x8": PtqConfig.int16x8()}.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["float32", "integer_only", "int16x8"])
def test_chunks_of_32_equal_one_sample_at_a_time(tflites, tiny_dataset, name):
    from optimizer.measuring.accuracy import run_tflite

    x = tiny_dataset.x_test[:77]  # 2 full chunks and a partial one
    np.testing.assert_array_equal(run_tflite(tflites[name], x, chunk=32),
                                  run_tflite(tflites[name], x, chunk=1))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["float32", "integer_only", "int16x8"])
def test_a_run_split_over_interpreters_equals_one_interpreter(tflites, tiny_dataset, name):
    from optimizer.measuring.accuracy import run_tflite, workers_for

    x = tiny_dataset.x_test[:77]
    whole = run_tflite(tflites[name], x)
    for workers in (2, 3):
        np.testing.assert_array_equal(run_tflite(tflites[name], x, workers=workers), whole)
    assert workers_for(tflites[name]) == (2 if name == "int16x8" else 1)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["float32", "int16x8"])
def test_outputs_computed_beside_other_work_equal_one_interpreters(tflites, tiny_dataset, name):
    from optimizer.measuring.accuracy import OutputsBeside, evaluate, run_tflite

    x = tiny_dataset.x_test[:77]
    beside = OutputsBeside(tflites[name], x)
    np.testing.assert_array_equal(beside.finish(), run_tflite(tflites[name], x))
    # one sample per chunk: the caller's thread takes what is left when it finishes
    beside = OutputsBeside(tflites[name], tiny_dataset.x_test, chunk=1)
    evaluation = evaluate(tflites[name], tiny_dataset, beside=beside)
    np.testing.assert_array_equal(evaluation.outputs, run_tflite(tflites[name],
                                                                 tiny_dataset.x_test))
    assert evaluation.value == evaluate(tflites[name], tiny_dataset).value
    with pytest.raises(ValueError, match="the test split is empty"):
        OutputsBeside(tflites[name], x[:0])


def test_samples_are_shared_in_whole_chunks():
    from optimizer.measuring.accuracy import _parts

    assert _parts(77, 32, 2) == [(0, 32), (32, 77)]
    assert _parts(450, 32, 2) == [(0, 224), (224, 450)]
    assert _parts(20, 32, 2) == [(0, 20)]             # one chunk: nothing to share
    assert _parts(100, 1, 3) == [(0, 33), (33, 66), (66, 100)]


@pytest.mark.slow
def test_accuracy_matches_keras_and_int8_outputs_are_dequantized(tflites, tiny_model,
                                                                 tiny_dataset, tmp_path):
    from optimizer.measuring.accuracy import evaluate

    path = tmp_path / "model.tflite"
    path.write_bytes(tflites["float32"])
    base = evaluate(path, tiny_dataset)
    keras_out = tiny_model.predict(tiny_dataset.x_test, verbose=0)
    assert (base.metric, base.higher_is_better, base.samples) == ("accuracy", True, 450)
    assert base.value == pytest.approx(np.mean(keras_out.argmax(1) == tiny_dataset.y_test))
    int8 = evaluate(tflites["integer_only"], tiny_dataset)
    # dequantized softmax probabilities, not raw int8 codes
    assert int8.outputs.dtype == np.float32 and 0.0 <= int8.outputs.min() <= 1.0
    assert np.abs(int8.outputs - base.outputs).max() < 0.2
    assert np.allclose(int8.outputs.sum(axis=1), 1.0, atol=0.05)


@pytest.mark.slow
def test_agreement_without_labels(tflites, tiny_dataset):
    from optimizer.measuring.accuracy import evaluate

    unlabelled = Dataset(name="unlabelled", x_test=tiny_dataset.x_test)
    base = evaluate(tflites["float32"], tiny_dataset)
    same = evaluate(tflites["float32"], unlabelled, reference_outputs=base.outputs)
    assert (same.metric, same.value) == ("agreement", 1.0)
    int8 = evaluate(tflites["integer_only"], unlabelled, reference_outputs=base.outputs)
    expected = np.mean(int8.outputs.argmax(1) == base.outputs.argmax(1))
    assert int8.value == pytest.approx(expected) and int8.value > 0.9
    with pytest.raises(ValueError, match="reference_outputs"):
        evaluate(tflites["float32"], unlabelled)
    with pytest.raises(ValueError, match="reference outputs"):
        evaluate(tflites["float32"], unlabelled, reference_outputs=base.outputs[:10])


@pytest.mark.slow
def test_rmse_for_a_regression_model():
    from optimizer import compat
    from optimizer.engine.convert import convert
    from optimizer.measuring.accuracy import evaluate

    keras = compat.keras()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((300, 5), dtype=np.float32)
    y = (x @ np.arange(1, 6, dtype=np.float32) + 0.1 * rng.normal(size=300)).astype(np.float32)
    model = keras.Sequential([keras.layers.InputLayer(input_shape=(5,)),
                              keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(x[:200], y[:200], epochs=20, verbose=0)
    data = Dataset(name="signal", x_test=x[200:], y_test=y[200:], task="regression")
    tflite = convert(model, PtqConfig.float32()).tflite

    result = evaluate(tflite, data)
    expected = np.sqrt(np.mean((model.predict(x[200:], verbose=0)[:, 0] - y[200:]) ** 2))
    assert (result.metric, result.higher_is_better) == ("rmse", False)
    assert result.value == pytest.approx(expected, rel=1e-4)

    unlabelled = Dataset(name="signal", x_test=x[200:], task="regression")
    against_itself = evaluate(tflite, unlabelled, reference_outputs=result.outputs)
    assert against_itself.value == 0.0
    dynamic = evaluate(convert(model, PtqConfig.dynamic_range()).tflite, unlabelled,
                       reference_outputs=result.outputs)
    assert 0.0 <= dynamic.value < 0.5 * float(np.std(y))


@pytest.mark.slow
def test_input_count_must_match(tflites, tiny_dataset):
    from optimizer.measuring.accuracy import run_tflite

    with pytest.raises(ValueError, match=r"has 1 input \(.*\) but 2 arrays"):
        run_tflite(tflites["float32"], [tiny_dataset.x_test, tiny_dataset.x_test])
    with pytest.raises(ValueError, match="chunk"):
        run_tflite(tflites["float32"], tiny_dataset.x_test, chunk=0)


def test_degenerate_agreement_is_said_to_be_not_meaningful():
    from optimizer.measuring.accuracy import degenerate_agreement

    rng = np.random.default_rng(0)
    varied = rng.uniform(size=(40, 4))
    assert degenerate_agreement(varied, varied[::-1].copy()) is None
    constant = np.tile([0.7, 0.1, 0.1, 0.1], (40, 1))  # an untrained model: always class 0
    note = degenerate_agreement(varied, constant)
    assert "not meaningful" in note and "predicts class 0 for every test sample" in note
    zeros = np.zeros((40, 4))  # an int8 softmax that rounds every class to 0
    assert "this model's top class scores tie on 100%" in degenerate_agreement(zeros, varied)
