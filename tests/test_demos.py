"""The built-in demos: registry, deterministic splits, light import, shipped weights."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.guide.configs import FinetuneConfig
from optimizer.guide.registry import DataNeed
from optimizer.models.demos import FINETUNE_STEPS, demo_names, get_demo, list_demos, sources
from optimizer.models.demos import datasets as demo_data
from optimizer.models.demos.train import main as train_main
from optimizer.models.demos.waveforms import WAVEFORM_CLASSES, make_waveforms

pytestmark = pytest.mark.cost(45)

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ("digits-cnn", "digits-mobilenetv2", "waveforms-conv1d")
# Keras test-accuracy floors, a few points under what the shipped weights measured
# (see assets/demos/<name>.json: 0.9867, 0.9689, 0.9467, 0.9580).
ACCURACY_FLOOR = {"digits-cnn": 0.96, "digits-mobilenetv2": 0.94, "waveforms-conv1d": 0.92,
                  "tabular-mlp": 0.93, "digits-outliers": 0.95}   # outliers: 0.9711 shipped
SMALL = [name for name in demo_names() if name != "digits-mobilenetv2"]


# --- registry ------------------------------------------------------------------------------

def test_required_demos_are_listed_quickest_first():
    names = demo_names()
    assert set(REQUIRED) <= set(names)
    assert names[0] == "digits-cnn"
    assert [d.name for d in list_demos()] == names
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", demo_names())
def test_get_demo_returns_complete_spec(name):
    spec = get_demo(name)
    assert spec.name == name and spec.task == "classification"
    assert spec.title and spec.description and spec.input_description
    assert len(spec.class_names) == spec.num_classes >= 2
    assert spec.weights_path == ROOT / "assets" / "demos" / f"{name}.weights.h5"
    assert spec.record_path == ROOT / "assets" / "demos" / f"{name}.json"
    json.dumps(spec.to_dict())  # JSON-ready for `models --json`


def test_unknown_demo_names_the_valid_ones():
    with pytest.raises(ValueError) as info:
        get_demo("resnet-9000")
    message = str(info.value)
    assert "resnet-9000" in message
    assert all(name in message for name in demo_names())


@pytest.mark.parametrize("name", demo_names())
def test_finetune_for_each_step_and_default(name):
    spec = get_demo(name)
    for step in FINETUNE_STEPS:
        assert isinstance(spec.finetune_for(step), FinetuneConfig)
    assert spec.finetune_for("something-else") == spec.finetune
    assert spec.to_dict()["finetune"]["pruning"]["epochs"] == spec.finetune_for("pruning").epochs


def test_spec_validation_names_the_problem():
    from dataclasses import replace

    from optimizer.models.demos import TrainingRecipe

    spec = get_demo("digits-cnn")
    with pytest.raises(ValueError, match="class names"):
        replace(spec, class_names=("a", "b"))
    with pytest.raises(ValueError, match="fine-tuning step"):
        replace(spec, finetune_steps=(("distillation", FinetuneConfig()),))
    with pytest.raises(ValueError, match="schedule"):
        TrainingRecipe(epochs=3, schedule="step")
    with pytest.raises(ValueError, match="positive"):
        TrainingRecipe(epochs=0)


def test_mobilenet_pruning_default_is_the_measured_safe_one():
    # 2 epochs at lr 1e-4 collapsed MobileNetV2 to 18-71%; 6 epochs at 5e-4 kept 92-96%.
    config = get_demo("digits-mobilenetv2").finetune_for("pruning")
    assert config.epochs >= 6 and config.learning_rate >= 5e-4


def _modules_loaded_by(code: str) -> set:
    """The modules a fresh interpreter has loaded once it ran ``code``."""
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_does_not_load_tensorflow():
    loaded = _modules_loaded_by("import optimizer.models.demos as d\n"
                                "[s.to_dict() for s in d.list_demos()]\n"
                                "d.get_demo('digits-cnn').finetune_for('qat')")
    assert not loaded & {"tensorflow", "tf_keras", "keras", "tensorflow_model_optimization",
                         "streamlit", "sklearn"}


# --- data ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", demo_names())
def test_dataset_shapes_dtypes_labels(name):
    spec = get_demo(name)
    data = spec.dataset()
    assert data.name == name and data.kind == DataNeed.LABELLED
    assert data.num_classes == spec.num_classes and data.class_names == spec.class_names
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.shape[1:] == spec.input_shape and len(x) == len(y)
        assert y.min() == 0 and y.max() == spec.num_classes - 1
        assert np.isfinite(x).all()
    assert data.x_rep.shape == (200,) + spec.input_shape
    np.testing.assert_array_equal(data.x_rep, data.x_train[:200])
    total = len(data.y_train) + len(data.y_test)
    assert abs(len(data.y_test) - 0.25 * total) <= 1
    assert data.sizes() == demo_data.split_sizes(name)


@pytest.mark.parametrize("name", demo_names())
def test_split_is_stratified(name):
    data = get_demo(name).dataset()
    counts_train = np.bincount(data.y_train)
    counts_test = np.bincount(data.y_test)
    # Every class is split 75/25 to within one sample.
    assert np.all(np.abs(counts_test - 0.25 * (counts_train + counts_test)) <= 1)


def test_split_indices_partition_and_repeat():
    y = np.repeat(np.arange(4), 50)
    train, test = sources.split_indices(y)
    assert sorted(np.concatenate([train, test])) == list(range(len(y)))
    again_train, again_test = sources.split_indices(y)
    np.testing.assert_array_equal(train, again_train)
    np.testing.assert_array_equal(test, again_test)


def test_shipped_sources_equal_what_regeneration_writes():
    # The files in assets/demos/data/ are what `python -m optimizer.models.demos.sources
    # --write` makes from scikit-learn: same data, same stratified split.
    for source in sources.SOURCES:
        shipped, built = sources.load_source(source), sources.build_source(source)
        assert sorted(shipped) == sorted(built), source
        for key, array in built.items():
            assert shipped[key].dtype == array.dtype, (source, key)
            np.testing.assert_array_equal(shipped[key], array, err_msg=f"{source}: {key}")
    shipped = sources.load_source("digits")
    assert sorted(np.concatenate([shipped["train_idx"], shipped["test_idx"]])) == list(
        range(len(shipped["y"])))


def test_loading_every_demo_dataset_needs_no_scikit_learn():
    assert "sklearn" not in _modules_loaded_by(
        "from optimizer.models.demos.datasets import load_dataset, split_sizes\n"
        "for n in ('digits-cnn', 'waveforms-conv1d', 'tabular-mlp', 'digits-outliers'):\n"
        "    load_dataset(n); split_sizes(n)")


def test_a_missing_data_file_names_the_command_that_writes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="optimizer.models.demos.sources --write"):
        sources.load_source("digits", folder=tmp_path)
    assert [p.name for p in sources.write_sources(tmp_path)] == [
        f"{s}.npz" for s in sources.SOURCES]
    np.testing.assert_array_equal(sources.load_source("digits", tmp_path)["test_idx"],
                                  sources.load_source("digits")["test_idx"])


def _fingerprint(data) -> str:
    return hashlib.sha256(data.x_train.tobytes() + data.y_train.tobytes()
                          + data.x_test.tobytes() + data.y_test.tobytes()).hexdigest()


@pytest.mark.parametrize("name", SMALL)
def test_dataset_is_deterministic_across_calls(name):
    cached = get_demo(name).dataset()
    assert get_demo(name).dataset() is cached
    fresh = demo_data.load_dataset.__wrapped__(name)  # recomputed, bypassing the cache
    for key in ("x_train", "y_train", "x_test", "y_test", "x_rep"):
        np.testing.assert_array_equal(getattr(fresh, key), getattr(cached, key))


def test_datasets_are_identical_in_another_process():
    code = ("import hashlib\nfrom optimizer.models.demos import get_demo\n"
            f"for name in {SMALL!r}:\n"
            "    d = get_demo(name).dataset()\n"
            "    print(hashlib.sha256(d.x_train.tobytes() + d.y_train.tobytes()\n"
            "                         + d.x_test.tobytes() + d.y_test.tobytes()).hexdigest())")
    other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    assert other == [_fingerprint(get_demo(name).dataset()) for name in SMALL]


def test_cached_arrays_are_read_only():
    data = get_demo("digits-cnn").dataset()
    with pytest.raises(ValueError):
        data.x_train[0, 0, 0, 0] = 5.0


def test_digits_match_the_shared_test_fixture(tiny_dataset):
    data = get_demo("digits-cnn").dataset()
    np.testing.assert_array_equal(data.x_test, tiny_dataset.x_test)
    np.testing.assert_array_equal(data.y_train, tiny_dataset.y_train)


def test_mobilenet_inputs_are_the_digits_upsampled():
    small, big = get_demo("digits-cnn").dataset(), get_demo("digits-mobilenetv2").dataset()
    np.testing.assert_array_equal(small.y_test, big.y_test)
    assert big.x_test.shape == (len(small.x_test), 96, 96, 3)
    assert 0.0 <= big.x_test.min() and big.x_test.max() <= 1.0
    np.testing.assert_array_equal(big.x_test[..., 0], big.x_test[..., 2])  # grey, tiled
    # Each 12x12 block of the upsampled image averages close to its source pixel.
    blocks = big.x_test[:20, ..., 0].reshape(20, 8, 12, 8, 12).mean(axis=(2, 4))
    assert np.abs(blocks - small.x_test[:20, ..., 0]).mean() < 0.08


def test_bilinear_matrix_interpolates():
    matrix = demo_data.bilinear_matrix(8, 96)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    ramp = np.arange(8.0)
    up = matrix @ ramp
    assert np.all(np.diff(up) >= 0) and up[0] == 0.0 and up[-1] == 7.0


def test_waveforms_are_balanced_and_seeded():
    x, y = make_waveforms(samples_per_class=20, length=64, seed=3)
    x2, y2 = make_waveforms(samples_per_class=20, length=64, seed=3)
    x3, _ = make_waveforms(samples_per_class=20, length=64, seed=4)
    assert x.shape == (20 * len(WAVEFORM_CLASSES), 64, 1) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [20] * len(WAVEFORM_CLASSES)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, x3)
    with pytest.raises(ValueError):
        make_waveforms(samples_per_class=0)


def test_tabular_standardized_with_training_statistics_only():
    data = get_demo("tabular-mlp").dataset()
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1.0, atol=1e-3)
    assert np.abs(data.x_test.mean(axis=0)).max() > 1e-3  # test statistics were not used


# --- shipped weights and their records -----------------------------------------------------

@pytest.mark.parametrize("name", demo_names())
def test_training_record_matches_shipped_weights(name):
    spec = get_demo(name)
    record = spec.training_record()
    assert record is not None, f"regenerate with python -m optimizer.models.demos.train --model {name}"
    assert record["demo"] == name
    assert record["training"]["epochs"] == spec.training.epochs
    assert record["training"]["learning_rate"] == spec.training.learning_rate
    assert record["weights_sha256"] == hashlib.sha256(spec.weights_path.read_bytes()).hexdigest()
    assert record["test_accuracy"] >= ACCURACY_FLOOR[name]
    assert {"tensorflow", "tf-keras", "numpy"} <= set(record["versions"])
    assert record["wall_seconds"] >= record["train_seconds"] > 0 and record["date"]


def test_assets_stay_small():
    total = sum(get_demo(n).weights_path.stat().st_size for n in demo_names())
    assert total < 5_000_000


def test_train_cli_rejects_bad_arguments(capsys):
    assert train_main([]) == 2
    assert train_main(["--model", "no-such-demo"]) == 2
    assert "digits-cnn" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("name", demo_names())
def test_shipped_weights_reach_their_accuracy(name):
    spec = get_demo(name)
    model = spec.build_model()
    data = spec.dataset()
    assert model.input_shape[1:] == spec.input_shape
    assert model.output_shape[-1] == spec.num_classes
    predictions = model.predict(data.x_test, batch_size=64, verbose=0).argmax(axis=1)
    accuracy = float((predictions == data.y_test).mean())
    assert accuracy >= ACCURACY_FLOOR[name]
    assert abs(accuracy - spec.training_record()["test_accuracy"]) < 0.01
    assert spec.build_model() is not model  # a new model on every call


@pytest.mark.slow
def test_mobilenet_batchnorm_momentum_is_lowered():
    from optimizer import compat

    model = get_demo("digits-mobilenetv2").build_model()
    momenta = {layer.momentum for layer in model.layers
               if isinstance(layer, compat.keras().layers.BatchNormalization)}
    assert momenta == {0.9}


@pytest.mark.slow
@pytest.mark.parametrize("name", SMALL)
def test_small_demos_accept_quantization_aware_training(name):
    """QAT as the engine applies it (TFMOT's "quantize some layers" path: digits-outliers'
    Normalization has no TFMOT config and trains in float, the converter calibrates it)."""
    from optimizer.engine.qat import apply_qat

    step = apply_qat(get_demo(name).build_model())
    assert step.model.output_shape[-1] == get_demo(name).num_classes
    assert step.report.transformed_weight_fraction == 1.0
    assert ("normalize" in step.left_float) == (name == "digits-outliers")


@pytest.mark.slow
def test_upsampling_matches_tensorflow_bilinear():
    from optimizer import compat

    x = get_demo("digits-cnn").dataset().x_test[:16]
    expected = compat.tf().image.resize(x, (96, 96), method="bilinear").numpy()
    np.testing.assert_allclose(demo_data.upsample_to_rgb(x)[..., :1], expected, atol=1e-5)


@pytest.mark.slow
def test_train_script_writes_loadable_weights_and_record(tmp_path):
    # In a child process: training switches on TensorFlow's op determinism process-wide.
    done = subprocess.run([sys.executable, "-m", "optimizer.models.demos.train", "--model", "tabular-mlp",
                           "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "tabular-mlp: test accuracy" in done.stdout
    record = json.loads((tmp_path / "tabular-mlp.json").read_text())
    weights = tmp_path / "tabular-mlp.weights.h5"
    assert record["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert not list(tmp_path.glob("*partial*"))
    assert record["test_accuracy"] >= ACCURACY_FLOOR["tabular-mlp"]
    from optimizer.models.demos.builders import build_architecture

    spec = get_demo("tabular-mlp")
    model = build_architecture(spec)
    model.load_weights(str(weights))
    data = spec.dataset()
    accuracy = float((model.predict(data.x_test, verbose=0).argmax(axis=1) == data.y_test).mean())
    assert accuracy == pytest.approx(record["test_accuracy"], abs=1e-3)
