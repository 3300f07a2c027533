"""Keras-side weight statistics and the checks the TFMOT transforms share."""
from __future__ import annotations

import numpy as np
import pytest

from optimizer.engine.weights import TransformReport


def test_report_note_is_empty_without_skipped_layers():
    report = TransformReport(action="pruned", wrapped=("conv2d", "dense"))
    assert report.note() == ""
    assert report.to_dict()["wrapped"] == ["conv2d", "dense"]


def test_report_note_names_the_skipped_kind_and_share():
    report = TransformReport(action="pruned", wrapped=("conv2d",), skipped=("dw",),
                             skipped_kinds=("DepthwiseConv2D",), skipped_fraction=0.06)
    note = report.note()
    assert "DepthwiseConv2D" in note and "6%" in note and "not pruned" in note


def _model(keras):
    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.layers.InputLayer(input_shape=(6, 6, 2)),
        keras.layers.Conv2D(4, 3),
        keras.layers.DepthwiseConv2D(3),
        keras.layers.Flatten(),
        keras.layers.Dense(5),
    ])


@pytest.mark.slow
def test_kernel_stats_measures_exact_sparsity_and_unique_values_per_channel():
    from optimizer import compat
    from optimizer.engine.weights import kernel_stats

    model = _model(compat.keras())
    conv, depthwise, _, dense = model.layers
    kernel = dense.get_weights()[0]                      # (16, 5)
    flat = kernel.reshape(-1).copy()
    flat[: int(0.7 * flat.size)] = 0.0                   # exactly 70% zeros (56 of 80)
    dense.set_weights([flat.reshape(kernel.shape), dense.get_weights()[1]])
    conv_kernel = conv.get_weights()[0]                  # (3, 3, 2, 4)
    levels = np.array([-0.2, -0.1, 0.1, 0.2], np.float32)
    rounded = levels[np.abs(conv_kernel[..., None] - levels).argmin(-1)]
    conv.set_weights([rounded, conv.get_weights()[1]])

    stats = kernel_stats(model)
    rows = {row.layer: row for row in stats.rows}
    assert set(rows) == {conv.name, depthwise.name, dense.name}   # biases are not kernels
    assert rows[dense.name].zeros == 56 and rows[dense.name].sparsity == pytest.approx(0.7)
    assert rows[conv.name].max_unique_per_channel <= 4
    assert not rows[depthwise.name].prunable and rows[dense.name].prunable
    # Sparsity counts the prunable kernels only; total_sparsity counts the depthwise one too.
    assert stats.sparsity == pytest.approx(56 / (72 + 80))
    assert stats.total_sparsity == pytest.approx(56 / (72 + 36 + 80))
    # The unclustered depthwise and dense kernels have more distinct values than 4.
    assert stats.max_unique_per_channel > 4
    assert stats.to_dict()["rows"][0]["layer"] == conv.name


@pytest.mark.slow
def test_kernel_stats_of_a_model_without_kernels_is_empty():
    from optimizer import compat
    from optimizer.engine.weights import kernel_stats

    keras = compat.keras()
    model = keras.Sequential([keras.layers.InputLayer(input_shape=(4,)), keras.layers.ReLU()])
    stats = kernel_stats(model)
    assert stats.sparsity is None and stats.max_unique_per_channel is None and stats.rows == ()


@pytest.mark.slow
def test_copy_model_is_independent_of_its_source():
    from optimizer import compat
    from optimizer.engine.weights import copy_model

    model = _model(compat.keras())
    before = [w.copy() for w in model.get_weights()]
    copy = copy_model(model)
    assert all(np.array_equal(a, b) for a, b in zip(copy.get_weights(), before))
    copy.set_weights([w + 1.0 for w in copy.get_weights()])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


@pytest.mark.slow
def test_keras3_subclassed_and_unbuilt_models_are_refused():
    from optimizer import compat
    from optimizer.engine.weights import require_tf_keras_model

    k3 = compat.keras3()
    keras3_model = k3.Sequential([k3.Input((4,)), k3.layers.Dense(2)])
    with pytest.raises(ValueError, match="TFMOT needs a tf_keras \\(Keras 2\\) model"):
        require_tf_keras_model(keras3_model, "pruning")

    keras = compat.keras()

    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    sub = Sub()
    sub(np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="subclassed"):
        require_tf_keras_model(sub, "pruning")
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="built model"):
        require_tf_keras_model(unbuilt, "pruning")
    with pytest.raises(ValueError, match="tf_keras model"):
        require_tf_keras_model(object(), "pruning")
