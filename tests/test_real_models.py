"""The architectures people really bring, as Keras 3 files (tests/real_models.py): the tf_keras
rebuild covers them (operation nodes, hard_silu, attention called with two tensors, Rescaling /
Normalization) and the retraining transforms cover what TFMOT supports, leaving the rest.

One small zoo is trained once per module; everything runs in-process except one end-to-end
CLI run (the signal model: Rescaling input, Conv1D, BatchNorm after a Dense).
"""
from __future__ import annotations

import numpy as np
import pytest
from real_models import build_zoo, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.cost(210)]
NAMES = ("mobilenetv3", "signal", "text")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return build_zoo(tmp_path_factory.mktemp("real"), NAMES, samples=160, epochs=1)


@pytest.fixture(scope="module")
def rebuilt(zoo):
    from optimizer.models.uploads.keras3_bridge import rebuild_verified
    from optimizer.models.uploads.loaders import keras_signature, load_keras3, random_inputs

    out = {}
    for name, (path, _, _) in zoo.items():
        original = load_keras3(path)  # through the upload loader (safe mode, static check)
        model, report = rebuild_verified(original, random_inputs(keras_signature(original), 8))
        out[name] = (model, report)
    return out


def test_rebuild_matches_the_keras3_model(rebuilt):
    for name, (_model, report) in rebuilt.items():
        assert report.max_abs_diff <= report.tolerance, name
    kinds = {type(layer).__name__ for layer in rebuilt["mobilenetv3"][0].layers}
    # x + 3.0 (an operation node) and hard_silu became TFOpLambda layers; the preprocessing
    # Rescaling stayed a layer
    assert {"TFOpLambda", "Rescaling"} <= kinds
    functions = {layer.get_config()["function"] for layer in rebuilt["mobilenetv3"][0].layers
                 if type(layer).__name__ == "TFOpLambda"}
    assert {"math.add", "nn.relu6", "math.multiply"} <= functions
    text_kinds = {type(layer).__name__ for layer in rebuilt["text"][0].layers}
    assert "MultiHeadAttention" in text_kinds


def test_pruning_and_clustering_wrap_what_tfmot_supports(rebuilt):
    from optimizer.engine.clustering import apply_clustering
    from optimizer.engine.pruning import apply_pruning
    from optimizer.guide.configs import ClusteringConfig, PruningConfig

    pruned = {}
    for name, (model, _) in rebuilt.items():
        pruned[name] = apply_pruning(model, PruningConfig(), steps_per_epoch=4, epochs=1).report
        clustered = apply_clustering(model, ClusteringConfig()).report
        for report in (pruned[name], clustered):
            assert report.transformed_layers >= 1, (name, report)
            if name in ("mobilenetv3", "signal"):
                assert report.transformed_weight_fraction >= 0.5, (name, report)
    text = pruned["text"]
    assert "MultiHeadAttention" in text.skipped_kinds
    assert "MultiHeadAttention: attention internals are left as they are" in text.note()
    assert text.weight_layers == text.transformed_layers + len(text.skipped)


def test_qat_annotates_supported_layers_and_leaves_the_rest_float(rebuilt):
    from optimizer.engine.qat import apply_qat

    step = apply_qat(rebuilt["mobilenetv3"][0])
    assert step.report.transformed_weight_fraction >= 0.5
    assert any(name.startswith("rescaling") for name in step.left_float)
    signal = apply_qat(rebuilt["signal"][0])
    # the BatchNormalization after a Dense stays float (the converter calibrates it); Conv1D
    # gets our own quantize config
    assert any(name.startswith("batch_normalization") for name in signal.left_float)
    assert "Conv1D" not in signal.report.skipped_kinds
    assert signal.report.transformed_weight_fraction == 1.0
    pqat = apply_qat(rebuilt["signal"][0], preserve="sparsity")  # Conv1D stays float here
    assert "Conv1D" in pqat.report.skipped_kinds
    text = apply_qat(rebuilt["text"][0])
    # our quantize configs: the embedding, the attention projections and the dense layers
    assert text.report.transformed_weight_fraction >= 0.5
    assert {"Embedding", "MultiHeadAttention"}.isdisjoint(text.report.skipped_kinds)
    assert any(name.startswith("multi_head_attention") for name in text.partly_float)
    assert not any(name.startswith(("embedding", "multi_head")) for name in text.left_float)


def test_qat_on_the_text_transformer_converts_and_measures(zoo, tmp_path):
    """Token ids stay integer (no input fake-quant), the attention internals are calibrated by
    the converter, and the result is an int8 file measured through the interpreter."""
    path, data, _ = zoo["text"]
    results = {r["technique"]: r for r in run_cli(path, data, "qat", tmp_path / "run")["results"]}
    qat = results["qat"]
    assert qat["status"] == "ok", qat["error"]
    assert qat["transformed_weight_fraction"] >= 0.5
    assert qat["accuracy"] is not None and qat["size_bytes"] < results["float32"]["size_bytes"]
    assert qat["precision_counts"]["int8"] > qat["precision_counts"]["float"]
    assert any("attention trained with fake-quantized projection weights" in n
               for n in qat["notes"])


def test_every_technique_on_the_signal_model_through_the_cli(zoo, tmp_path):
    path, data, original = zoo["signal"]
    specs = "float32,qat,pruning"
    results = {r["technique"]: r for r in run_cli(path, data, specs, tmp_path / "run")["results"]}
    for spec in specs.split(","):
        assert results[spec]["status"] == "ok", (spec, results[spec]["error"])
    for spec in ("qat", "pruning"):
        r = results[spec]
        assert isinstance(r["transformed_layers"], int) and isinstance(r["weight_layers"], int)
        assert 0 < r["transformed_weight_fraction"] <= 1
    assert results["float32"]["transformed_layers"] is None
    assert any("trained in float" in n for n in results["qat"]["notes"])  # BN after a Dense
    with np.load(data) as npz:
        x_test, y_test = npz["x_test"], npz["y_test"]
    own = float(np.mean(np.argmax(original.predict(x_test, verbose=0), axis=1) == y_test))
    assert results["float32"]["accuracy"] == pytest.approx(own, abs=0.02)
