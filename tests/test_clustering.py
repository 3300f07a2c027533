"""Weight clustering: at most N values per kernel (or channel), zeros kept when asked."""
from __future__ import annotations

import numpy as np
import pytest

from optimizer.guide.configs import ClusteringConfig, FinetuneConfig, PruningConfig

pytestmark = pytest.mark.cost(30)


def test_every_configurable_init_maps_to_a_tfmot_initialization():
    from optimizer import compat
    from optimizer.guide.stages.clustering import CENTROID_INITS

    inits = compat.tfmot().clustering.keras.CentroidInitialization
    for init in CENTROID_INITS:
        assert hasattr(inits, ClusteringConfig(init=init).tfmot_init), init
    with pytest.raises(ValueError, match="clustering.init"):
        ClusteringConfig(init="nearest")


def _accuracy(model, dataset) -> float:
    predictions = model.predict(dataset.x_test, verbose=0).argmax(axis=1)
    return float((predictions == dataset.y_test).mean())


@pytest.mark.slow
def test_clustering_leaves_at_most_n_values_per_kernel(tiny_model, tiny_dataset):
    from optimizer.engine.clustering import apply_clustering, strip_clustering
    from optimizer.engine.finetune import finetune
    from optimizer.engine.weights import kernel_stats

    before = [w.copy() for w in tiny_model.get_weights()]
    baseline = _accuracy(tiny_model, tiny_dataset)
    step = apply_clustering(tiny_model, ClusteringConfig(clusters=8))
    kernels = tuple(layer.name for layer in tiny_model.layers if hasattr(layer, "kernel"))
    assert step.report.wrapped == kernels and step.report.skipped == ()
    finetune(step.model, tiny_dataset, FinetuneConfig(epochs=1, learning_rate=1e-4))
    clustered = strip_clustering(step.model)

    stats = kernel_stats(clustered)
    assert len(stats.rows) == 4
    for row in stats.rows:
        assert row.unique <= 8, row
    assert not any("cluster" in layer.name for layer in clustered.layers)
    assert _accuracy(clustered, tiny_dataset) >= baseline - 0.05
    assert all(np.array_equal(a, b) for a, b in zip(tiny_model.get_weights(), before))
    # The input was not clustered (it has far more distinct values).
    assert kernel_stats(tiny_model).max_unique_per_channel > 8


@pytest.mark.slow
def test_per_channel_clustering_bounds_each_conv_channel(tiny_model, tiny_dataset):
    from optimizer.engine.clustering import apply_clustering, strip_clustering
    from optimizer.engine.finetune import finetune
    from optimizer.engine.weights import kernel_stats
    from optimizer.models.dataset import Dataset

    # Per-channel clustering trains slowly on CPU; a few hundred samples show the bound.
    small = Dataset(name="s", x_test=tiny_dataset.x_test, x_train=tiny_dataset.x_train[:320],
                    y_train=tiny_dataset.y_train[:320])
    step = apply_clustering(tiny_model, ClusteringConfig(clusters=8, per_channel=True))
    finetune(step.model, small, FinetuneConfig(epochs=1, learning_rate=1e-4))
    stats = kernel_stats(strip_clustering(step.model))
    for row in stats.rows:
        assert row.max_unique_per_channel <= 8, row
        if row.kind == "Dense":  # per-channel clustering applies to Conv2D only
            assert row.unique <= 8, row
    # Each conv channel has its own centroids, so a whole conv kernel holds more than 8.
    assert any(row.kind == "Conv2D" and row.unique > 8 for row in stats.rows)


@pytest.mark.slow
def test_a_conv_too_small_for_per_channel_clusters_is_reported_skipped(tiny_model):
    from optimizer.engine.clustering import apply_clustering

    # The first conv has 3x3x1 = 9 weights per channel: not more than 16 clusters.
    first_conv = next(layer.name for layer in tiny_model.layers if hasattr(layer, "kernel"))
    report = apply_clustering(tiny_model, ClusteringConfig(clusters=16, per_channel=True)).report
    assert report.skipped == (first_conv,) and report.skipped_kinds == ("Conv2D",)
    assert first_conv not in report.wrapped and len(report.wrapped) == 3


@pytest.mark.slow
@pytest.mark.parametrize("init", ["linear", "density", "random"])
def test_every_centroid_init_clusters(tiny_model, init):
    from optimizer.engine.clustering import apply_clustering, strip_clustering
    from optimizer.engine.weights import kernel_stats

    step = apply_clustering(tiny_model, ClusteringConfig(clusters=4, init=init))
    stats = kernel_stats(strip_clustering(step.model))
    assert all(row.unique <= 4 for row in stats.rows)


@pytest.mark.slow
def test_sparsity_preserving_clustering_keeps_the_zeros(tiny_model, tiny_dataset):
    from optimizer.engine.clustering import apply_clustering, strip_clustering
    from optimizer.engine.finetune import finetune, train_steps
    from optimizer.engine.pruning import apply_pruning, strip_pruning
    from optimizer.engine.weights import kernel_stats

    config = FinetuneConfig(epochs=1, learning_rate=5e-4)
    step = apply_pruning(tiny_model, PruningConfig(sparsity=0.5),
                         train_steps(tiny_dataset, config), 1)
    finetune(step.model, tiny_dataset, config, callbacks=step.callbacks)
    pruned = strip_pruning(step.model)
    zero_masks = [w == 0 for w in pruned.get_weights()]

    clustering = apply_clustering(pruned, ClusteringConfig(clusters=8), preserve_sparsity=True)
    finetune(clustering.model, tiny_dataset, FinetuneConfig(epochs=1, learning_rate=1e-4))
    both = strip_clustering(clustering.model)

    stats = kernel_stats(both)
    assert abs(stats.sparsity - 0.5) <= 0.01
    for row in stats.rows:
        assert row.unique <= 8 and abs(row.sparsity - 0.5) <= 0.01, row
    kernels = [(a, b) for a, b in zip(zero_masks, both.get_weights()) if a.ndim >= 2]
    assert all(np.all(weights[mask] == 0) for mask, weights in kernels)
    assert _accuracy(both, tiny_dataset) >= 0.85


@pytest.mark.slow
def test_keras3_model_is_refused_not_silently_dropped():
    from optimizer import compat
    from optimizer.engine.clustering import apply_clustering

    k3 = compat.keras3()
    keras3_model = k3.Sequential([k3.Input((8, 8, 1)), k3.layers.Flatten(), k3.layers.Dense(10)])
    with pytest.raises(ValueError, match="TFMOT needs a tf_keras \\(Keras 2\\) model"):
        apply_clustering(keras3_model, ClusteringConfig())
