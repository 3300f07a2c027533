"""Weight clustering with TFMOT: ``apply_clustering`` -> ``finetune`` -> ``strip_clustering``.

Plain clustering uses ``tfmot.clustering.keras.cluster_weights``. Per-channel clustering and
sparsity-preserving clustering (the step after pruning in ``pruning+clustering`` and PCQAT)
need the experimental ``cluster_weights`` that TFMOT keeps in
``tensorflow_model_optimization.python.core.clustering.keras.experimental.cluster`` (reached
through ``compat.tfmot_experimental_clustering()``).

TFMOT leaves some kernels alone (DepthwiseConv2D; a Conv2D with no more weights than clusters,
per channel when clustering per channel); the returned report names them.

TensorFlow is imported only inside functions, through ``optimizer.compat``.
"""
from __future__ import annotations

from optimizer.engine.weights import (
    TransformStep,
    copy_model,
    require_plain_model,
    require_tf_keras_model,
    transform_report,
    wrap_supported,
)
from optimizer.guide.stages.clustering import ClusteringConfig


def apply_clustering(model, config: ClusteringConfig,
                     preserve_sparsity: bool = False) -> TransformStep:
    """Wrap a copy of ``model`` so its kernels share ``config.clusters`` centroid values
    (per output channel of each Conv2D when ``config.per_channel``).

    ``preserve_sparsity=True`` keeps the zeros of a pruned (and stripped) model. Needs a
    built tf_keras Sequential/Functional model without TFMOT wrappers. Fine-tune the returned
    ``model`` (a low learning rate works best), then call ``strip_clustering``. The input
    model is never changed.
    """
    require_tf_keras_model(model, "clustering")
    require_plain_model(model, "clustering")
    from optimizer import compat

    tfmot = compat.tfmot()
    init = getattr(tfmot.clustering.keras.CentroidInitialization, config.tfmot_init)
    if preserve_sparsity or config.per_channel:
        experimental = compat.tfmot_experimental_clustering()

        def wrap(layer):
            return experimental.cluster_weights(
                layer, number_of_clusters=int(config.clusters), cluster_centroids_init=init,
                preserve_sparsity=bool(preserve_sparsity),
                cluster_per_channel=bool(config.per_channel))
    else:
        def wrap(layer):
            return tfmot.clustering.keras.cluster_weights(
                layer, number_of_clusters=int(config.clusters), cluster_centroids_init=init)
    # Only layers TFMOT can cluster are wrapped; the others stay as they are.
    wrapped, refused = wrap_supported(model, _checked(wrap), "clustering",
                                      "TFMOT has no clustering support for it")
    acted_on = [layer.layer.name for layer in wrapped.layers
                if getattr(layer, "original_clusterable_weights", None)]
    return TransformStep(model=wrapped,
                         report=transform_report(model, acted_on, "clustered", refused))


def _checked(wrap):
    """``wrap`` that raises instead of returning None (``cluster_weights`` returns None,
    without an error, for an object it does not recognise)."""
    def checked(layer):
        out = wrap(layer)
        if out is None:
            raise ValueError("TFMOT's cluster_weights returned nothing for it")
        return out
    return checked


def strip_clustering(model):
    """Remove the clustering wrappers and return an independent plain model whose kernels
    hold the clustered (centroid) values."""
    require_tf_keras_model(model, "strip_clustering")
    from optimizer import compat

    return copy_model(compat.tfmot().clustering.keras.strip_clustering(model))
