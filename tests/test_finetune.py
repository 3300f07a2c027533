"""The one fine-tuning function: loss inference, labels, progress, the report."""
from __future__ import annotations

import numpy as np
import pytest

from optimizer.engine.finetune import LossKind, finetune, steps_per_epoch
from optimizer.guide.configs import FinetuneConfig
from optimizer.models.dataset import Dataset


def test_steps_per_epoch_counts_the_partial_last_batch():
    assert steps_per_epoch(1347, 32) == 43
    assert steps_per_epoch(64, 32) == 2
    assert steps_per_epoch(1, 32) == 1
    with pytest.raises(ValueError):
        steps_per_epoch(0, 32)


def test_finetune_refuses_unlabelled_data():
    x = np.zeros((10, 8, 8, 1), np.float32)
    unlabelled = Dataset(name="u", x_test=x, x_rep=x)
    with pytest.raises(ValueError, match="fine-tuning needs labelled training data"):
        finetune(object(), unlabelled, FinetuneConfig())
    no_labels = Dataset(name="u", x_test=x, x_train=x)
    with pytest.raises(ValueError, match="fine-tuning needs labelled training data"):
        finetune(object(), no_labels, FinetuneConfig())


def _head(keras, units, activation=None, softmax_layer=False):
    layers = [keras.layers.InputLayer(input_shape=(4,)), keras.layers.Dense(units, activation)]
    if softmax_layer:
        layers.append(keras.layers.Softmax())
    return keras.Sequential(layers)


@pytest.mark.slow
def test_loss_is_inferred_from_the_output_layer():
    from optimizer import compat
    from optimizer.engine.finetune import infer_loss

    keras = compat.keras()
    assert infer_loss(_head(keras, 10, "softmax")) == LossKind.SPARSE_CATEGORICAL
    assert infer_loss(_head(keras, 10, softmax_layer=True)) == LossKind.SPARSE_CATEGORICAL
    assert infer_loss(_head(keras, 10)) == LossKind.SPARSE_CATEGORICAL_LOGITS
    assert infer_loss(_head(keras, 1, "sigmoid")) == LossKind.BINARY
    assert infer_loss(_head(keras, 1)) == LossKind.BINARY_LOGITS
    assert infer_loss(_head(keras, 1), task="regression") == LossKind.MSE
    with pytest.raises(ValueError, match="cannot tell which loss"):
        infer_loss(_head(keras, 10, "relu"))


@pytest.mark.slow
def test_loss_is_inferred_through_tfmot_wrappers(tiny_model):
    from optimizer.engine.finetune import infer_loss
    from optimizer.engine.qat import apply_qat

    quantized = apply_qat(tiny_model).model
    assert infer_loss(quantized) == LossKind.SPARSE_CATEGORICAL


@pytest.mark.slow
def test_finetune_trains_reports_and_streams_progress(tiny_model, tiny_dataset):
    from optimizer.engine.weights import copy_model

    before = [w.copy() for w in tiny_model.get_weights()]
    model = copy_model(tiny_model)
    calls = []
    report = finetune(model, tiny_dataset, FinetuneConfig(epochs=2, learning_rate=1e-4),
                      on_progress=lambda *args: calls.append(args))
    assert (report.epochs, report.steps_per_epoch, report.samples) == (2, 43, 1347)
    assert report.loss_kind == LossKind.SPARSE_CATEGORICAL.value
    assert report.seconds > 0 and report.loss > 0 and report.accuracy > 0.9
    # Every epoch end is reported; fractions only grow and end at 1.0.
    assert {(1, 0.5), (2, 1.0)} <= {(c[0], c[2]) for c in calls}
    fractions = [c[2] for c in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(c[1] == 2 and 1 <= c[0] <= 2 and 0 < c[2] <= 1 for c in calls)
    assert "loss" in calls[-1][3]
    # The model given was trained; the fixture it was copied from was not.
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    assert all(np.array_equal(a, b) for a, b in zip(tiny_model.get_weights(), before))


@pytest.mark.slow
def test_finetune_is_repeatable_with_the_same_seed(tiny_model, tiny_dataset):
    from optimizer.engine.weights import copy_model

    small = Dataset(name="s", x_test=tiny_dataset.x_test, x_train=tiny_dataset.x_train[:256],
                    y_train=tiny_dataset.y_train[:256])
    config = FinetuneConfig(epochs=1, learning_rate=1e-3)
    first, second = copy_model(tiny_model), copy_model(tiny_model)
    a = finetune(first, small, config, seed=3)
    b = finetune(second, small, config, seed=3)
    assert a.loss == pytest.approx(b.loss, rel=1e-4)
    for wa, wb in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(wa, wb, atol=1e-4)


@pytest.mark.slow
def test_finetune_rejects_mismatched_inputs_and_labels(tiny_model, tiny_dataset):
    from optimizer.engine.weights import copy_model

    model = copy_model(tiny_model)
    wrong_shape = Dataset(name="w", x_test=tiny_dataset.x_test,
                          x_train=np.zeros((8, 4, 4, 1), np.float32), y_train=np.zeros(8, int))
    with pytest.raises(ValueError, match="model expects"):
        finetune(model, wrong_shape, FinetuneConfig(epochs=1))
    bad_labels = Dataset(name="b", x_test=tiny_dataset.x_test, x_train=tiny_dataset.x_train[:8],
                         y_train=np.full(8, 12))
    with pytest.raises(ValueError, match="labels must be 0..9"):
        finetune(model, bad_labels, FinetuneConfig(epochs=1))


@pytest.mark.slow
def test_finetune_uses_mse_for_regression():
    from optimizer import compat

    keras = compat.keras()
    keras.utils.set_random_seed(0)
    model = _head(keras, 1)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5, 0.0], np.float32)
    data = Dataset(name="r", x_test=x, y_test=y, x_train=x, y_train=y, task="regression")
    report = finetune(model, data, FinetuneConfig(epochs=3, learning_rate=1e-2))
    assert report.loss_kind == LossKind.MSE.value and report.accuracy is None
    assert np.isfinite(report.loss)
