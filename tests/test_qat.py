"""Quantization-aware training, plain and preserving sparsity / clusters (PQAT, CQAT, PCQAT).

The preserving variants are checked where it matters, in the int8 ``.tflite``: tests may call
``tf.lite`` directly to sanity-check a transformed model (production conversion is
``optimizer.engine.convert``).
"""
from __future__ import annotations

import numpy as np
import pytest

from optimizer.engine.qat import UnsupportedLayerError, apply_qat
from optimizer.guide.configs import ClusteringConfig, FinetuneConfig, PruningConfig

pytestmark = pytest.mark.cost(60)

QAT_FINETUNE = FinetuneConfig(epochs=1, learning_rate=1e-4)


def test_unknown_preserve_option_is_refused():
    with pytest.raises(ValueError, match="sparsity\\+clusters"):
        apply_qat(object(), preserve="everything")


def _accuracy(model, dataset) -> float:
    predictions = model.predict(dataset.x_test, verbose=0).argmax(axis=1)
    return float((predictions == dataset.y_test).mean())


def _int8_weights(model) -> list[np.ndarray]:
    """Convert a QAT model to int8 and read back its CONV_2D / FULLY_CONNECTED weights."""
    from optimizer import compat

    tf = compat.tf()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    interpreter = compat.interpreter_class()(model_content=converter.convert())
    interpreter.allocate_tensors()
    weights = [interpreter.get_tensor(op["inputs"][1])
               for op in interpreter._get_ops_details()
               if op["op_name"] in ("CONV_2D", "FULLY_CONNECTED")]
    assert len(weights) == 4 and all(w.dtype == np.int8 for w in weights)
    return weights


def _max_unique_per_channel(weights: np.ndarray) -> int:
    # TFLite stores output channels first for CONV_2D and FULLY_CONNECTED.
    channels = weights.reshape(weights.shape[0], -1)
    return max(len(np.unique(channel)) for channel in channels)


@pytest.fixture(scope="module")
def pruned(tiny_model, tiny_dataset):
    """The tiny model pruned to 50% and stripped (shared by PQAT and PCQAT; read-only)."""
    from optimizer.engine.finetune import finetune, train_steps
    from optimizer.engine.pruning import apply_pruning, strip_pruning

    config = FinetuneConfig(epochs=1, learning_rate=5e-4)
    step = apply_pruning(tiny_model, PruningConfig(sparsity=0.5),
                         train_steps(tiny_dataset, config), 1)
    finetune(step.model, tiny_dataset, config, callbacks=step.callbacks)
    return strip_pruning(step.model)


@pytest.fixture(scope="module")
def part(tiny_dataset):
    """A third of the training split: clustering and the preserving QAT schemes fine-tune
    slowly on CPU, and what is checked here is structure, not the last point of accuracy."""
    from optimizer.models.dataset import Dataset

    return Dataset(name="part", x_test=tiny_dataset.x_test, y_test=tiny_dataset.y_test,
                   x_train=tiny_dataset.x_train[:448], y_train=tiny_dataset.y_train[:448])


def _clustered(model, part, preserve_sparsity=False):
    from optimizer.engine.clustering import apply_clustering, strip_clustering
    from optimizer.engine.finetune import finetune

    step = apply_clustering(model, ClusteringConfig(clusters=8),
                            preserve_sparsity=preserve_sparsity)
    finetune(step.model, part, FinetuneConfig(epochs=1, learning_rate=1e-4))
    return strip_clustering(step.model)


@pytest.mark.slow
def test_qat_trains_and_keeps_keras_accuracy(tiny_model, tiny_dataset):
    from optimizer.engine.finetune import finetune

    before = [w.copy() for w in tiny_model.get_weights()]
    baseline = _accuracy(tiny_model, tiny_dataset)
    step = apply_qat(tiny_model)
    kernels = tuple(layer.name for layer in tiny_model.layers if hasattr(layer, "kernel"))
    assert step.report.wrapped == kernels and step.report.skipped == ()
    assert any("quant" in layer.name for layer in step.model.layers)
    report = finetune(step.model, tiny_dataset, QAT_FINETUNE)
    assert report.epochs == 1 and np.isfinite(report.loss)
    # Within ~2 points; it may also gain (QAT is one more epoch of training).
    assert _accuracy(step.model, tiny_dataset) >= baseline - 0.02
    assert all(np.array_equal(a, b) for a, b in zip(tiny_model.get_weights(), before))


@pytest.mark.slow
def test_pqat_keeps_the_sparsity_in_the_int8_file(pruned, part, tiny_dataset):
    from optimizer.engine.finetune import finetune

    step = apply_qat(pruned, preserve="sparsity")
    finetune(step.model, part, QAT_FINETUNE)
    weights = _int8_weights(step.model)
    zeros = sum(int((w == 0).sum()) for w in weights) / sum(w.size for w in weights)
    assert abs(zeros - 0.5) <= 0.01
    assert _accuracy(step.model, tiny_dataset) >= 0.9


@pytest.mark.slow
def test_cqat_keeps_the_cluster_count_in_the_int8_file(tiny_model, part, tiny_dataset):
    from optimizer.engine.finetune import finetune

    clustered = _clustered(tiny_model, part)
    step = apply_qat(clustered, preserve="clusters")
    finetune(step.model, part, QAT_FINETUNE)
    weights = _int8_weights(step.model)
    assert max(_max_unique_per_channel(w) for w in weights) <= 8
    assert _accuracy(step.model, tiny_dataset) >= 0.9


@pytest.mark.slow
def test_pcqat_keeps_sparsity_and_clusters_in_the_int8_file(pruned, part, tiny_dataset):
    from optimizer.engine.finetune import finetune

    both = _clustered(pruned, part, preserve_sparsity=True)
    step = apply_qat(both, preserve="sparsity+clusters")
    finetune(step.model, part, QAT_FINETUNE)
    weights = _int8_weights(step.model)
    zeros = sum(int((w == 0).sum()) for w in weights) / sum(w.size for w in weights)
    assert abs(zeros - 0.5) <= 0.01
    assert max(_max_unique_per_channel(w) for w in weights) <= 8
    assert _accuracy(step.model, tiny_dataset) >= 0.85


@pytest.mark.slow
def test_unsupported_layers_are_left_float_and_the_rest_quantized():
    """TFMOT's "quantize some layers" path: a BatchNormalization that does not follow a Conv
    (which TFMOT cannot quantize) stays float; Conv2D and Dense are still quantized."""
    from optimizer import compat

    keras = compat.keras()
    model = keras.Sequential([
        keras.layers.InputLayer(input_shape=(8, 8, 1)),
        keras.layers.Conv2D(4, 3),
        keras.layers.ReLU(),
        keras.layers.BatchNormalization(name="late_bn"),  # not right after the Conv
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    for preserve in (None, "sparsity"):
        step = apply_qat(model, preserve=preserve)
        assert "late_bn" in step.left_float
        # the Dense kernel is fake-quantized (TFMOT gives this Conv2D a no-op config)
        assert "dense" in " ".join(step.report.wrapped) and step.report.weight_layers == 2
        assert step.report.transformed_weight_fraction > 0.9
        kinds = {type(layer).__name__ for layer in step.model.layers}
        assert "QuantizeWrapperV2" in kinds and "BatchNormalization" in kinds


def test_unsupported_layer_error_names_the_layer_and_the_fix():
    error = UnsupportedLayerError("late_bn", "BatchNormalization")
    assert isinstance(error, ValueError)
    message = str(error)
    assert "'late_bn'" in message and "post-training integer quantization" in message
    assert "right after a Conv" in message and "\n" not in message


@pytest.mark.slow
def test_qat_needs_a_stripped_tf_keras_model(tiny_model):
    from optimizer import compat
    from optimizer.engine.pruning import apply_pruning

    wrapped = apply_pruning(tiny_model, PruningConfig(), steps_per_epoch=10, epochs=1).model
    with pytest.raises(ValueError, match="strip"):
        apply_qat(wrapped, preserve="sparsity")
    k3 = compat.keras3()
    keras3_model = k3.Sequential([k3.Input((4,)), k3.layers.Dense(2)])
    with pytest.raises(ValueError, match="TFMOT needs a tf_keras \\(Keras 2\\) model"):
        apply_qat(keras3_model)
