"""Magnitude pruning: the schedule lands, the sparsity is reached, the input is untouched."""
from __future__ import annotations

import numpy as np
import pytest

from optimizer.engine.pruning import schedule_steps
from optimizer.guide.configs import FinetuneConfig, PruningConfig
from optimizer.models.dataset import Dataset


@pytest.mark.parametrize("total, frequency, expected", [
    (86, 10, (10, 60)),     # 2 epochs x 43 steps: ramp ends on a multiple of 10 before the end
    (43, 100, (43, 43)),    # TFMOT's default 100 never fires in 43 steps: lowered to fit
    (258, 10, (10, 190)),
    (5, 10, (5, 5)),
    (1, 10, (1, 1)),
])
def test_schedule_ends_on_a_mask_update_inside_the_fine_tune(total, frequency, expected):
    freq, end_step = schedule_steps(total, frequency)
    assert (freq, end_step) == expected
    assert end_step % freq == 0 and 1 <= end_step <= total


def test_schedule_needs_at_least_one_step():
    with pytest.raises(ValueError, match="finetune.epochs"):
        schedule_steps(0, 10)


def _accuracy(model, dataset) -> float:
    predictions = model.predict(dataset.x_test, verbose=0).argmax(axis=1)
    return float((predictions == dataset.y_test).mean())


@pytest.mark.slow
@pytest.mark.parametrize("sparsity, epochs, min_accuracy", [(0.5, 1, 0.9), (0.8, 2, 0.7)])
def test_pruning_reaches_the_target_sparsity(tiny_model, tiny_dataset, sparsity, epochs,
                                             min_accuracy):
    from optimizer.engine.finetune import finetune, train_steps
    from optimizer.engine.pruning import apply_pruning, strip_pruning
    from optimizer.engine.weights import kernel_stats

    before = [w.copy() for w in tiny_model.get_weights()]
    config = FinetuneConfig(epochs=epochs, learning_rate=5e-4)
    step = apply_pruning(tiny_model, PruningConfig(sparsity=sparsity),
                         train_steps(tiny_dataset, config), epochs)
    kernels = tuple(layer.name for layer in tiny_model.layers if hasattr(layer, "kernel"))
    assert step.report.wrapped == kernels and len(kernels) == 4
    assert step.report.skipped == ()
    assert any(type(cb).__name__ == "UpdatePruningStep" for cb in step.callbacks)
    assert step.end_step % step.frequency == 0 and step.end_step <= step.total_steps
    finetune(step.model, tiny_dataset, config, callbacks=step.callbacks)
    pruned = strip_pruning(step.model)

    stats = kernel_stats(pruned)
    assert {row.layer for row in stats.rows} == set(step.report.wrapped)
    for row in stats.rows:  # every wrapped kernel, within one point
        assert abs(row.sparsity - sparsity) <= 0.01, row
    assert abs(stats.sparsity - sparsity) <= 0.01
    assert _accuracy(pruned, tiny_dataset) >= min_accuracy
    assert not any("prune" in layer.name for layer in pruned.layers)
    # The input model is unchanged after the transform and the fine-tune.
    assert all(np.array_equal(a, b) for a, b in zip(tiny_model.get_weights(), before))
    assert kernel_stats(tiny_model).sparsity < 0.01


@pytest.mark.slow
def test_constant_schedule_and_a_too_large_frequency_still_reach_the_target(tiny_model,
                                                                             tiny_dataset):
    from optimizer.engine.finetune import finetune, train_steps
    from optimizer.engine.pruning import apply_pruning, strip_pruning
    from optimizer.engine.weights import kernel_stats

    small = Dataset(name="s", x_test=tiny_dataset.x_test, y_test=tiny_dataset.y_test,
                    x_train=tiny_dataset.x_train[:320], y_train=tiny_dataset.y_train[:320])
    config = FinetuneConfig(epochs=1, learning_rate=5e-4)
    for pruning in (PruningConfig(sparsity=0.6, schedule="constant"),
                    PruningConfig(sparsity=0.6, frequency=100)):
        step = apply_pruning(tiny_model, pruning, train_steps(small, config), 1)
        assert step.frequency == 10 and step.end_step == 10   # 10 steps: lowered from 100
        finetune(step.model, small, config, callbacks=step.callbacks)
        assert abs(kernel_stats(strip_pruning(step.model)).sparsity - 0.6) <= 0.01


@pytest.mark.slow
def test_depthwise_layers_are_reported_as_skipped():
    from optimizer import compat
    from optimizer.engine.pruning import apply_pruning

    keras = compat.keras()
    model = keras.Sequential([
        keras.layers.InputLayer(input_shape=(8, 8, 3)),
        keras.layers.Conv2D(8, 3),
        keras.layers.DepthwiseConv2D(3, name="dw"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    report = apply_pruning(model, PruningConfig(), steps_per_epoch=10, epochs=1).report
    assert report.skipped == ("dw",) and report.skipped_kinds == ("DepthwiseConv2D",)
    assert set(report.wrapped) == {model.layers[0].name, model.layers[3].name}
    assert 0 < report.skipped_fraction < 0.1
    assert "DepthwiseConv2D" in report.note()


@pytest.mark.slow
def test_keras3_and_still_wrapped_models_are_refused(tiny_model):
    from optimizer import compat
    from optimizer.engine.pruning import apply_pruning

    k3 = compat.keras3()
    keras3_model = k3.Sequential([k3.Input((8, 8, 1)), k3.layers.Flatten(), k3.layers.Dense(10)])
    with pytest.raises(ValueError, match="TFMOT needs a tf_keras \\(Keras 2\\) model"):
        apply_pruning(keras3_model, PruningConfig(), steps_per_epoch=10, epochs=1)
    wrapped = apply_pruning(tiny_model, PruningConfig(), steps_per_epoch=10, epochs=1).model
    with pytest.raises(ValueError, match="strip_pruning"):
        apply_pruning(wrapped, PruningConfig(), steps_per_epoch=10, epochs=1)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        apply_pruning(tiny_model, PruningConfig(), steps_per_epoch=0, epochs=1)
