"""The reproduce-script generator: every spec form compiles, carries the run's hyper-parameters,
and (slow) really runs against a saved tf_keras model."""
from __future__ import annotations

import math
import re
import subprocess
import sys

import numpy as np
import pytest

from optimizer.engine.pruning import schedule_steps
from optimizer.guide.configs import FinetuneConfig, Settings
from optimizer.guide.registry import POST_TRAINING, QAT_FAMILY, TechniqueId, parse_spec
from optimizer.report.reproduce import reproduce_script

pytestmark = pytest.mark.cost(35)

FINETUNE = {"pruning": FinetuneConfig(epochs=3, learning_rate=5e-4, batch_size=16),
            "clustering": FinetuneConfig(epochs=2, learning_rate=2e-5, batch_size=64),
            "qat": FinetuneConfig(epochs=1, learning_rate=1e-4, batch_size=32)}
PTQ = [TechniqueId.FLOAT32.value] + [t.value for t in POST_TRAINING]


def _all_specs() -> list[str]:
    specs = list(PTQ)
    for base in ("pruning", "clustering", "pruning+clustering"):
        specs += [base] + [f"{base}+{ptq}" for ptq in PTQ[1:]]
    for base in QAT_FAMILY:
        specs += [base.value, f"{base.value}+integer_only"]
    return specs


@pytest.mark.parametrize("text", _all_specs())
def test_every_spec_form_gives_a_compiling_standalone_script(text):
    source = reproduce_script(parse_spec(text), Settings(), FINETUNE)
    compile(source, f"reproduce_{text}.py", "exec")
    assert f"Reproduce '{parse_spec(text).text}'" in source
    assert not re.search(r"^\s*(from|import)\s+optimizer\b", source, re.MULTILINE)
    assert "tf.lite.TFLiteConverter.from_keras_model(model)" in source
    assert "model.tflite" in source
    retrains = parse_spec(text).retrains
    assert ("import tensorflow_model_optimization as tfmot" in source) == retrains
    assert ("fine_tune(model" in source) == retrains


def test_script_carries_the_runs_hyper_parameters():
    settings = Settings().with_pairs([
        "pruning.sparsity=0.8", "pruning.frequency=5", "clustering.clusters=8",
        "clustering.init=linear", "clustering.per_channel=true", "calibration.samples=123"])
    source = reproduce_script("pruning+clustering+integer", settings, FINETUNE)
    assert "final_sparsity=0.8" in source and "frequency = min(5, total_steps)" in source
    assert "total_steps = 3 * math.ceil(len(y_train) / 16)" in source
    assert "epochs=3, learning_rate=0.0005, batch_size=16" in source
    assert "number_of_clusters=8" in source and "CentroidInitialization.LINEAR" in source
    assert "preserve_sparsity=True, cluster_per_channel=True" in source
    assert "epochs=2, learning_rate=2e-05, batch_size=64" in source
    assert "range(min(123, len(x_rep[0])))" in source and "representative_dataset" in source
    assert "UpdatePruningStep()" in source and "strip_pruning" in source
    assert "strip_clustering" in source


@pytest.mark.parametrize("text, expected, absent", [
    ("qat", "default_8bit.Default8BitQuantizeScheme()", "quantize_model(model)"),
    ("qat", "if left_float:  # layers QAT left float", "calibration samples)"),
    ("pqat", "Default8BitPrunePreserveQuantizeScheme()", "static_wi8"),
    ("cqat", "Default8BitClusterPreserveQuantizeScheme()", "preserve_sparsity=True)"),
    ("pcqat", "Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=True)",
     "supported_ops"),
    ("qat+integer_only", "inference_input_type = tf.int8", "supported_ops"),
    ("float16", "supported_types = [tf.float16]", "data = np.load"),
    ("dynamic_range", "optimizations = [tf.lite.Optimize.DEFAULT]", "data = np.load"),
    ("float32", "from_keras_model", "optimizations"),
    ("integer_only", "TFLITE_BUILTINS_INT8", "tfmot"),
    ("int16x8", "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8", "fine_tune"),
    ("pruning+dynamic_range", "prune_low_magnitude", "representative_dataset"),
    ("clustering", "tfmot.clustering.keras.cluster_weights(", "experimental_cluster"),
])
def test_script_uses_the_right_api_for_each_form(text, expected, absent):
    source = reproduce_script(text, Settings(), FINETUNE)
    assert expected in source and absent not in source


def test_pruning_schedule_in_the_script_matches_the_engine():
    source = reproduce_script("pruning", Settings().with_pairs(["pruning.frequency=7"]), FINETUNE)
    lines = [line for line in source.splitlines()
             if line.startswith(("total_steps =", "frequency =", "end_step ="))]
    assert len(lines) == 3
    for samples in (5, 40, 1347):
        scope = {"math": math, "y_train": np.zeros(samples)}
        exec("\n".join(lines), scope)
        total = 3 * math.ceil(samples / 16)
        assert (scope["frequency"], scope["end_step"]) == schedule_steps(total, 7)


def test_missing_finetune_config_is_named():
    with pytest.raises(ValueError, match="'qat' step"):
        reproduce_script("pqat", Settings(), {"pruning": FinetuneConfig()})
    assert reproduce_script("integer", Settings(), {})  # no retraining: nothing needed


def test_regression_scripts_use_mse():
    source = reproduce_script("qat", Settings(), FINETUNE, task="regression")
    assert "LOSS = keras.losses.MeanSquaredError()" in source and "loss_for" not in source
    assert "keras.metrics.MeanAbsoluteError(name='mae')" in source
    assert 'y_train = y_train.astype("float32")' in source


def test_a_recorded_loss_is_written_as_is():
    source = reproduce_script("pruning", Settings(), FINETUNE,
                              loss="sparse_categorical_crossentropy_from_logits")
    assert "LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)" in source
    assert 'y_train = y_train.reshape(-1).astype("int64")' in source
    with pytest.raises(ValueError):
        reproduce_script("pruning", Settings(), FINETUNE, loss="hinge")


def test_generator_imports_no_tensorflow():
    code = ("import sys, optimizer.report.reproduce; "
            "print(any(m.split('.')[0] in ('tensorflow', 'tf_keras') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
@pytest.mark.parametrize("text", ["dynamic_range", "pruning+integer"])
def test_script_runs_and_writes_a_valid_tflite(tmp_path, tiny_model, tiny_dataset, text):
    from optimizer import compat

    tiny_model.save(tmp_path / "model.h5", include_optimizer=False)
    tiny_dataset.save_npz(tmp_path / "data.npz")
    finetune = {"pruning": FinetuneConfig(epochs=1, learning_rate=5e-4)}
    (tmp_path / "reproduce.py").write_text(reproduce_script(text, Settings(), finetune))
    run = subprocess.run([sys.executable, "reproduce.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "wrote model.tflite" in run.stdout

    interpreter = compat.interpreter_class()(model_path=str(tmp_path / "model.tflite"))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert inp["dtype"] == np.float32 and tuple(out["shape"]) == (1, 10)
    interpreter.set_tensor(inp["index"], tiny_dataset.x_test[:1])
    interpreter.invoke()
    assert np.isclose(interpreter.get_tensor(out["index"]).sum(), 1.0, atol=0.05)
    weights = [interpreter.get_tensor(op["inputs"][1])
               for op in interpreter._get_ops_details()
               if op["op_name"] in ("CONV_2D", "FULLY_CONNECTED")]
    largest = max(weights, key=lambda w: w.size)
    assert largest.dtype == np.int8  # dynamic range leaves only tiny kernels in float
    if text.startswith("pruning"):
        assert all(w.dtype == np.int8 for w in weights)
        zeros = sum(int((w == 0).sum()) for w in weights) / sum(w.size for w in weights)
        assert abs(zeros - 0.5) <= 0.02
