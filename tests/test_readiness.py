"""Readiness checks on tiny models built here: TFLite Micro (interpreted), Edge TPU and GPU
rules, the CPU, and the CLI's JSON shape and exit codes."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from optimizer.guide.goals import McuBudget
from optimizer.paths import REPO_ROOT

pytestmark = pytest.mark.slow

KEYS = {"target", "method", "ready", "summary", "ops", "memory", "accuracy"}


def _lambda_model(fn, name):
    from optimizer import compat

    keras, tf = compat.keras(), compat.tf()
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = keras.layers.Lambda(lambda t: fn(tf, t))(x)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
    return keras.Model(inputs, outputs, name=name)


@pytest.fixture(scope="module")
def files(tiny_model, tiny_dataset, tmp_path_factory):
    """.tflite files through the project's converter: the tiny CNN int8-only and float32, and
    a float model with ATAN2 (TFLite Micro has no kernel for it)."""
    from optimizer.engine.convert import convert, freeze_model
    from optimizer.guide.configs import PtqConfig

    folder = tmp_path_factory.mktemp("readiness")
    frozen = freeze_model(tiny_model)
    rep = tiny_dataset.representative(100)
    made = {
        "int8": convert(frozen, PtqConfig.full_integer(True, calibration_samples=100), rep),
        "float": convert(frozen, PtqConfig.float32()),
        "dynamic": convert(frozen, PtqConfig.dynamic_range()),
        "atan2": convert(_lambda_model(lambda tf, t: tf.math.atan2(t, t + 1.0), "atan2"),
                         PtqConfig.float32()),
        "reduce_prod": convert(_lambda_model(
            lambda tf, t: tf.reduce_prod(t, axis=-1, keepdims=True), "reduce_prod"),
            PtqConfig.float32()),
    }
    paths = {}
    for name, conversion in made.items():
        paths[name] = folder / f"{name}.tflite"
        paths[name].write_bytes(conversion.tflite)
    return paths


def _cli(*args):
    done = subprocess.run([sys.executable, "-m", "optimizer", "readiness", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    return done.returncode, done.stdout, done.stderr


def _json(*args) -> dict:
    code, out, err = _cli(*args, "--json", "-")
    assert code == 0, err
    return json.loads(out)


def test_int8_model_is_ready_on_mcu_with_measured_arena_and_flash(files, tiny_dataset):
    from optimizer.measuring.readiness import check_readiness

    result = check_readiness(files["int8"], "mcu", dataset=tiny_dataset,
                             budget=McuBudget(ram_kb=256, flash_kb=1024))
    assert result.ready and result.method == "interpreted"
    assert result.memory["flash_bytes"] == files["int8"].stat().st_size
    arena = result.memory["arena_bytes"]
    assert 0 < arena < 256 * 1024
    # The arena is the smallest that allocates: 16 bytes less does not (bisection's step).
    from optimizer import compat
    from optimizer.measuring.readiness.mcu import _load

    data = files["int8"].read_bytes()
    assert _load(compat.tflite_micro_runtime(), data, arena).ok
    assert not _load(compat.tflite_micro_runtime(), data, arena - 16).ok
    assert {o.where for o in result.ops} == {"accelerator"}
    accuracy = result.accuracy
    assert accuracy["metric"] == "accuracy" and accuracy["samples"] == len(tiny_dataset.x_test)
    assert abs(accuracy["tflm"] - accuracy["litert"]) <= 0.02 and accuracy["tflm"] > 0.5


def test_budget_too_small_makes_it_not_ready(files):
    from optimizer.measuring.readiness import check_readiness

    result = check_readiness(files["int8"], "mcu", budget=McuBudget(ram_kb=1, flash_kb=16))
    assert not result.ready and "does not fit" in result.summary
    assert result.memory["arena_bytes"] > 1024


def test_atan2_model_is_not_ready_on_mcu_and_the_op_is_named(files):
    data = _json("--model", files["atan2"], "--target", "mcu")
    assert set(data) == KEYS and data["method"] == "interpreted" and data["ready"] is False
    assert "ATAN2" in data["summary"]
    missing = [o for o in data["ops"] if o["where"] == "unsupported"]
    assert [o["op"] for o in missing] == ["ATAN2"]
    assert data["memory"]["arena_bytes"] is None


def test_int8_model_is_ready_on_edgetpu_by_rules(files):
    data = _json("--model", files["int8"], "--target", "edgetpu")
    assert set(data) == KEYS
    assert data["method"] == "rules" and data["ready"] is True
    assert all(o["where"] == "accelerator" for o in data["ops"])
    assert data["memory"] is None and data["accuracy"] is None


def test_float_model_is_not_ready_on_edgetpu_naming_why(files):
    data = _json("--model", files["float"], "--target", "edgetpu")
    assert data["method"] == "rules" and data["ready"] is False
    assert "float32" in data["summary"] and "int8/uint8" in data["summary"]
    first = data["ops"][0]
    assert first["where"] == "cpu" and "float" in first["reason"]
    assert all(o["where"] == "cpu" for o in data["ops"])  # everything after the first, too


def test_gpu_rules_follow_the_number_format(files):
    from optimizer.measuring.readiness import check_readiness

    assert check_readiness(files["float"], "gpu").ready
    int8 = check_readiness(files["int8"], "gpu")
    assert not int8.ready and int8.method == "rules"
    assert check_readiness(files["int8"], "gpu-android").ready
    atan2 = check_readiness(files["atan2"], "gpu")
    assert not atan2.ready and "ATAN2" in atan2.summary
    dynamic = check_readiness(files["dynamic"], "gpu")       # int8 weights: not on desktop
    assert not dynamic.ready and any("int8 weights" in (o.reason or "") for o in dynamic.ops)
    assert check_readiness(files["dynamic"], "gpu-android").ready


def test_cpu_reports_xnnpack(files):
    from optimizer.measuring.readiness import check_readiness

    result = check_readiness(files["float"], "cpu")
    assert result.ready and result.method == "interpreted"
    assert any(o.where == "accelerator" and o.reason == "XNNPACK" for o in result.ops)


def test_cli_refuses_bad_input_in_one_line(files, tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model at all")
    for args in (("--model", bad, "--target", "mcu"),
                 ("--model", tmp_path / "missing.tflite", "--target", "mcu"),
                 ("--model", files["int8"], "--target", "edgetpu", "--mcu-ram-kb", "256"),
                 ("--model", files["int8"], "--target", "mcu", "--data", tmp_path / "x.csv")):
        code, out, err = _cli(*args)
        assert code == 2 and out == ""
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err


def _npu_missing() -> str | None:
    from optimizer.measuring.readiness.setup_npu import intel_missing, qualcomm_missing

    return qualcomm_missing() or intel_missing()


npu = pytest.mark.skipif(_npu_missing() is not None,
                         reason=f"NPU tools absent: {_npu_missing()}")


@npu
def test_int8_conv_model_is_fully_compiled_for_a_snapdragon(files):
    data = _json("--model", files["int8"], "--target", "npu-qualcomm", "--soc", "SM8650")
    assert set(data) == KEYS and data["method"] == "compiled" and data["ready"] is True
    assert all(o["where"] == "accelerator" for o in data["ops"])
    assert "fully compiled for SM8650" in data["summary"] and "not run on one" in data["summary"]


@npu
def test_reduce_prod_model_is_partial_on_qualcomm_naming_the_op(files):
    from optimizer.measuring.readiness import check_readiness

    result = check_readiness(files["reduce_prod"], "npu-qualcomm", soc="SM8550")
    assert not result.ready and "partially compiled" in result.summary
    assert "REDUCE_PROD" in result.summary
    refused = [o for o in result.ops if o.where == "cpu"]
    assert [o.op for o in refused] == ["REDUCE_PROD"]
    assert "not supported in Qualcomm Compiler" in refused[0].reason
    assert result.details["ops_offloaded"] == result.details["ops_total"] - 1


@npu
def test_intel_partitioning_names_the_op_it_leaves(files):
    from optimizer.measuring.readiness import check_readiness

    assert check_readiness(files["int8"], "npu-intel").ready
    result = check_readiness(files["atan2"], "npu-intel")
    assert result.method == "partitioned" and not result.ready
    assert [o.op for o in result.ops if o.where == "cpu"] == ["ATAN2"]
    assert "NPU compile itself was not run" in result.summary
