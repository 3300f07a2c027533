"""``.tflite`` files from elsewhere: a file that fixes its batch at 3 is checked and run (samples
fed 3 at a time, the padding dropped), one whose output loses that batch is refused in one
line; an already-quantized file is measured and named "as uploaded (int8)", never "float32",
and the post-training techniques say why they do not apply."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.paths import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.cost(35)]


def _converter(tf, keras, model):
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A labelled .npz and four .tflite files built here: float with a fixed batch of 3, a
    fixed batch of 3 whose output is one row, integer-only int8 and float16-weight."""
    from optimizer import compat

    tf, keras = compat.tf(), compat.keras()
    folder = tmp_path_factory.mktemp("forms")
    rng = np.random.default_rng(0)
    x = rng.random((67, 8, 8, 1)).astype("float32")
    y = (x.reshape(67, -1).mean(axis=1) > 0.5).astype(np.int64) + 2 * (x[:, 0, 0, 0] > 0.5)
    np.savez(folder / "data.npz", x_train=x[:40], y_train=y[:40], x_test=x[40:],
             y_test=y[40:])                                     # 27 test samples: 9 batches
    keras.utils.set_random_seed(0)

    def body(inputs):
        h = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
        return keras.layers.Dense(4, activation="softmax")(keras.layers.Flatten()(h))

    fixed = keras.Input((8, 8, 1), batch_size=3)
    plain = keras.Input((8, 8, 1))
    batch3 = keras.Model(fixed, body(fixed))
    merged = keras.Model(fixed, keras.layers.Lambda(
        lambda t: tf.reduce_mean(t, axis=0, keepdims=True))(batch3.output))
    free = keras.Model(plain, body(plain))

    def representative():
        for i in range(20):
            yield [x[i:i + 1]]

    made = {"batch3": _converter(tf, keras, batch3), "merged": _converter(tf, keras, merged)}
    converter = tf.lite.TFLiteConverter.from_keras_model(free)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    made["float16"] = converter.convert()
    converter = tf.lite.TFLiteConverter.from_keras_model(free)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    made["int8"] = converter.convert()
    paths = {"data": folder / "data.npz"}
    for name, data in made.items():
        paths[name] = folder / f"{name}.tflite"
        paths[name].write_bytes(data)
    return paths


def _cli(*args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "optimizer", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=REPO_ROOT)


def _run(files, model: str, out: Path, *techniques) -> dict:
    args = ["run", "--model", files[model], "--data", files["data"], "--out", out,
            "--no-cache", "--json", "-"]
    for spec in techniques:
        args += ["--technique", spec]
    done = _cli(*args)
    assert done.returncode == 0, done.stderr[-3000:]
    return {r["technique"]: r for r in json.loads(done.stdout)["results"]}


def test_a_fixed_batch_of_3_is_fed_3_at_a_time_and_the_padding_dropped(files):
    from optimizer import compat
    from optimizer.measuring.accuracy import run_tflite
    from optimizer.measuring.batching import fixed_batch

    interpreter = compat.interpreter_class()(model_path=str(files["batch3"]))
    assert fixed_batch(interpreter.get_input_details()) == 3
    x = np.load(files["data"])["x_test"][:8]                    # 8 = 3 + 3 + 2 (padded)
    outputs = run_tflite(files["batch3"], x)
    assert outputs.shape == (8, 4)
    one_by_one = [run_tflite(files["batch3"], np.repeat(x[i:i + 1], 3, axis=0))[0]
                  for i in range(8)]
    np.testing.assert_array_equal(outputs, np.stack(one_by_one))


def test_a_batch_3_tflite_is_checked_and_runs(files, tmp_path):
    done = _cli("check", "--model", files["batch3"], "--data", files["data"])
    assert done.returncode == 0, done.stderr
    assert "fixes its batch at 3" in done.stdout
    results = _run(files, "batch3", tmp_path / "run", "dynamic_range", "integer")
    base = results["float32"]
    assert base["status"] == "ok", base["error"]
    assert "Dimension mismatch" not in json.dumps(results)
    assert any("fixes its batch at 3" in n for n in base["notes"])
    assert "each timed invoke() runs 3 samples" in base["latency_note"]
    assert results["integer"]["status"] == "ok", results["integer"]["error"]  # calibrated by 3
    assert base["label"] is None                                  # a float file is float32


def test_a_fixed_batch_whose_output_loses_it_is_refused_in_one_line(files):
    done = _cli("check", "--model", files["merged"], "--data", files["data"])
    assert done.returncode == 2 and done.stdout == ""
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "fixes its batch at 3 but its output batch is 1" in line
    assert "export the model with a resizable (or batch-1) input" in line


def test_an_int8_upload_is_named_as_uploaded_and_ptq_says_why_not(files, tmp_path):
    from optimizer.guide.schema import Result, results_frame
    from optimizer.report.handover import report_html
    from optimizer.report.table import results_table

    results = _run(files, "int8", tmp_path / "run", "dynamic_range", "integer_only")
    base = results["float32"]
    assert base["status"] == "ok" and base["label"] == "as uploaded (int8)"
    assert base["input_dtype"] == "int8" and base["accuracy"] is not None
    for spec in ("dynamic_range", "integer_only"):
        assert results[spec]["status"] == "skipped"
        assert results[spec]["error"].startswith(
            "not applicable: this .tflite is already quantized (int8)")
    table = results_table(results_frame([Result.from_dict(r) for r in results.values()]))
    assert list(table["Technique"])[0] == "as uploaded (int8)"
    assert "as uploaded (int8)" in report_html(tmp_path / "run")


def test_formats_read_from_the_file(files):
    from optimizer.measuring.formats import tflite_format, uploaded_label

    assert uploaded_label(tflite_format(files["int8"])) == "as uploaded (int8)"
    assert uploaded_label(tflite_format(files["float16"])) == "as uploaded (float16 weights)"
    assert uploaded_label(tflite_format(files["batch3"])) is None
