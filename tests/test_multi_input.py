"""Models with several inputs: data named per input (``x_train.<input name>``), checked per
input (a missing or mis-shaped input is named), and every technique run end to end on a
two-input Keras 3 model (image + table) through the CLI."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.inputs import Inputs, from_npz, ordered, to_npz
from optimizer.models.dataset import Dataset
from optimizer.models.uploads.errors import DataMismatch
from optimizer.models.uploads.raw_data import RawData
from optimizer.models.uploads.validate import tensors_text, validate

pytestmark = pytest.mark.cost(120)  # one CLI run of every technique, a reproduce run
RNG = np.random.default_rng(0)
N = 120
IMAGE = RNG.random((N, 8, 8, 1), dtype=np.float32)
TABLE = RNG.random((N, 5), dtype=np.float32)
Y = np.arange(N) % 4


def signature():
    return {"inputs": [{"name": "image", "shape": [None, 8, 8, 1], "dtype": "float32"},
                       {"name": "table", "shape": [None, 5], "dtype": "float32"}],
            "outputs": [{"name": "out", "shape": [None, 4], "dtype": "float32"}],
            "output_activation": "softmax"}


def labelled(**changes):
    arrays = {"x_train.image": IMAGE[:90], "x_train.table": TABLE[:90], "y_train": Y[:90],
              "x_test.image": IMAGE[90:], "x_test.table": TABLE[90:], "y_test": Y[90:]}
    arrays.update(changes)
    return RawData(source="npz", arrays={k: v for k, v in arrays.items() if v is not None})


def test_inputs_slice_together_and_keep_their_names():
    x = Inputs({"image": IMAGE, "table": TABLE})
    assert len(x) == N and x.names == ("image", "table")
    part = x[np.array([3, 1])]
    assert isinstance(part, Inputs) and len(part) == 2
    np.testing.assert_array_equal(part["table"], TABLE[[3, 1]])
    assert x[:10].shapes() == {"image": (8, 8, 1), "table": (5,)}
    with pytest.raises(ValueError, match=r"same number of samples \(image: 120, table: 3\)"):
        Inputs({"image": IMAGE, "table": TABLE[:3]})


def test_ordered_matches_runtime_names_and_names_what_is_missing():
    x = Inputs({"table": TABLE, "image": IMAGE})  # not the model's order
    image, table = ordered(x, ["serving_default_image:0", "table"])
    assert image is x["image"] and table is x["table"]
    with pytest.raises(ValueError, match="have no input 'mask'.*model's inputs: image, mask"):
        ordered(x, ["image", "mask"])
    with pytest.raises(ValueError, match="input 'table' which the model does not take"):
        ordered(x, ["image"])
    with pytest.raises(ValueError, match=r"2 inputs \(image, table\) but 1 arrays"):
        ordered(IMAGE, ["image", "table"])
    assert ordered(IMAGE, ["input"])[0] is IMAGE


def test_npz_keys_round_trip_and_refuse_two_forms():
    entries = to_npz("x_test", Inputs({"image": IMAGE, "table": TABLE}))
    assert sorted(entries) == ["x_test.image", "x_test.table"]
    back = from_npz(entries, "x_test")
    np.testing.assert_array_equal(back["image"], IMAGE)
    assert from_npz({"x_test": IMAGE}, "x_test") is IMAGE
    assert from_npz({"x_test": IMAGE}, "x_train") is None
    with pytest.raises(ValueError, match="both 'x_test' and 'x_test.<input>'"):
        from_npz({**entries, "x_test": IMAGE}, "x_test")


def test_validate_builds_named_splits_in_the_models_order():
    raw = labelled()
    # the file may list the inputs in any order
    raw = RawData(source="npz", arrays=dict(reversed(list(raw.arrays.items()))))
    data, report = validate(signature(), raw)
    assert isinstance(data.x_test, Inputs) and data.x_test.names == ("image", "table")
    assert data.input_names == ("image", "table")
    assert report.metric == "accuracy" and report.samples == {"train": 90,
                                                              "representative": 90, "test": 30}
    rep = data.representative(50)
    assert isinstance(rep, Inputs) and len(rep) == 50 and rep["image"].dtype == np.float32


def test_validate_names_a_missing_or_mis_shaped_input():
    with pytest.raises(DataMismatch, match="the test inputs have no input 'table'"):
        validate(signature(), labelled(**{"x_test.table": None}))
    with pytest.raises(DataMismatch, match="input 'image': the model expects 8x8x1, your "
                                           "samples are 6x6x1"):
        validate(signature(), labelled(**{"x_train.image": IMAGE[:90, :6, :6]}))
    with pytest.raises(DataMismatch, match="the training inputs of input 'table' have 1 NaN"):
        bad = TABLE[:90].copy()
        bad[4, 2] = np.nan
        validate(signature(), labelled(**{"x_train.table": bad}))
    with pytest.raises(DataMismatch, match="input 'mask' which the model does not take"):
        validate(signature(), labelled(**{"x_test.mask": TABLE[90:]}))
    with pytest.raises(DataMismatch, match=r"2 inputs \(image \(8x8x1\), table \(5\)\); image "
                                           r"zips and CSV files hold one input"):
        validate(signature(), RawData(source="images", arrays={"x": IMAGE, "y": Y}))


def test_unlabelled_and_unsplit_named_inputs():
    data, report = validate(signature(), RawData(source="npz", arrays={
        "x.image": IMAGE, "x.table": TABLE}))
    assert report.metric == "agreement" and isinstance(data.x_rep, Inputs)
    data, _ = validate(signature(), RawData(source="npz", arrays={
        "x.image": IMAGE, "x.table": TABLE, "y": Y}))
    assert len(data.x_train) + len(data.x_test) == N and data.x_train.names == ("image", "table")
    # the samples stay paired: each test image row goes with its own table row
    rows = {IMAGE[i].tobytes(): i for i in range(N)}
    for image, table in zip(data.x_test["image"], data.x_test["table"]):
        np.testing.assert_array_equal(table, TABLE[rows[image.tobytes()]])


def test_a_one_input_model_takes_a_single_named_array():
    one = signature()
    one["inputs"] = one["inputs"][:1]
    data, _ = validate(one, RawData(source="npz", arrays={
        "x_train.image": IMAGE[:90], "y_train": Y[:90], "x_test.image": IMAGE[90:],
        "y_test": Y[90:]}))
    assert isinstance(data.x_test, np.ndarray) and data.x_test.shape == (30, 8, 8, 1)


def test_signature_text_names_several_inputs():
    assert tensors_text(signature()["inputs"]) == "image 8x8x1, table 5"
    assert tensors_text(signature()["outputs"], " × ") == "4"


def test_dataset_file_round_trip(tmp_path):
    from optimizer.models.resolve import load_npz
    from optimizer.models.uploads.data_files import load_npz_file

    x = Inputs({"image": IMAGE, "table": TABLE})
    Dataset(name="two", x_train=x[:90], y_train=Y[:90], x_test=x[90:], y_test=Y[90:],
            x_rep=x[:40]).save_npz(tmp_path / "two.npz")
    back = load_npz(tmp_path / "two.npz")
    assert back.x_test.names == ("image", "table") and len(back.x_rep) == 40
    np.testing.assert_array_equal(back.x_train["table"], TABLE[:90])
    raw = load_npz_file(tmp_path / "two.npz")  # the upload reader keeps the named keys
    assert {"x_train.image", "x_test.table", "x_rep.image", "y_test"} <= set(raw.arrays)
    np.savez(tmp_path / "odd.npz", **{"inputs.image": IMAGE})
    with pytest.raises(DataMismatch, match=r"x_train.<input name>, x_test.<input name>"):
        load_npz_file(tmp_path / "odd.npz")


@pytest.fixture(scope="module")
def two_input_run(tmp_path_factory):
    """The two-input Keras 3 model of tests/real_models.py and every technique through the
    CLI, as a user would run it."""
    from real_models import build_zoo, run_cli

    folder = tmp_path_factory.mktemp("two-input")
    path, data, model = build_zoo(folder, ("two_input",), samples=320)["two_input"]
    specs = "float32,dynamic_range,integer,integer_only,qat,pruning,clustering"
    doc = run_cli(path, data, specs, folder / "run")
    with np.load(data) as npz:
        x_test = {k.split(".", 1)[1]: npz[k] for k in npz.files if k.startswith("x_test.")}
        y_test = npz["y_test"]
    own = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
    return doc, specs.split(","), own, (x_test, y_test), data


@pytest.mark.slow
def test_every_technique_runs_on_a_two_input_model(two_input_run):
    doc, specs, own, _, _ = two_input_run
    results = {r["technique"]: r for r in doc["results"]}
    for spec in specs:
        assert results[spec]["status"] == "ok", (spec, results[spec]["error"])
        assert results[spec]["latency_ms_median"] > 0 and results[spec]["size_bytes"] > 0
    assert results["float32"]["accuracy"] == pytest.approx(own, abs=0.02)
    for spec in ("qat", "pruning", "clustering"):
        assert results[spec]["transformed_weight_fraction"] >= 0.5, spec
    assert results["integer_only"]["input_dtype"] == "int8"


@pytest.mark.slow
def test_measured_outputs_follow_input_names_not_argument_order(two_input_run):
    from optimizer.measuring.accuracy import run_tflite

    doc, _, _, (x_test, y_test), data = two_input_run
    results = {r["technique"]: r for r in doc["results"]}
    path = results["integer_only"]["tflite_path"]
    forward = run_tflite(path, Inputs(x_test))
    backward = run_tflite(path, Inputs(dict(reversed(list(x_test.items())))))
    np.testing.assert_array_equal(forward, backward)
    accuracy = float(np.mean(forward.argmax(axis=1) == y_test))
    assert accuracy == pytest.approx(results["integer_only"]["accuracy"], abs=1e-9)
    with pytest.raises(ValueError, match="have no input 'table'"):
        run_tflite(path, Inputs({"image": x_test["image"]}))
    # TFLite Micro feeds each input by its index, matched by the file's input names
    from optimizer.measuring.readiness.mcu import tflm_accuracy
    from optimizer.models.resolve import load_npz

    tflm = tflm_accuracy(Path(path).read_bytes(), 64 * 1024, load_npz(data), path)
    assert tflm["tflm"] == pytest.approx(tflm["litert"], abs=0.02)



@pytest.mark.slow
def test_reproduce_script_feeds_each_input_by_name(tmp_path):
    """The generated script fine-tunes and calibrates a two-input model from the named
    arrays (pruning needs x_train, integer needs representative samples)."""
    from optimizer import compat
    from optimizer.guide.configs import FinetuneConfig, Settings
    from optimizer.report.reproduce import reproduce_script

    model = tf_keras_two_input()
    model.save(tmp_path / "model.h5", include_optimizer=False)
    # the file lists the table first: the script must pair arrays by name, not position
    x = Inputs({"table": TABLE, "image": IMAGE})
    Dataset(name="two", x_train=x[:90], y_train=Y[:90], x_test=x[90:],
            y_test=Y[90:]).save_npz(tmp_path / "data.npz")
    finetune = {"pruning": FinetuneConfig(epochs=1, learning_rate=5e-4)}
    (tmp_path / "reproduce.py").write_text(
        reproduce_script("pruning+integer", Settings(), finetune))
    run = subprocess.run([sys.executable, "reproduce.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    interpreter = compat.interpreter_class()(model_path=str(tmp_path / "model.tflite"))
    shapes = sorted(tuple(d["shape"][1:]) for d in interpreter.get_input_details())
    assert shapes == [(5,), (8, 8, 1)]


def tf_keras_two_input():
    from optimizer import compat

    keras = compat.keras()
    keras.utils.set_random_seed(0)
    image, table = keras.Input((8, 8, 1), name="image"), keras.Input((5,), name="table")
    x = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, activation="relu")(image))
    x = keras.layers.Concatenate()([x, keras.layers.Dense(4, activation="relu")(table)])
    return keras.Model([image, table], keras.layers.Dense(4, activation="softmax")(x))


@pytest.mark.slow
def test_every_conversion_path_calibrates_each_input_by_name(tmp_path):
    """The frozen graph, from_keras_model (whose graph lists these inputs as table, image)
    and an uploaded SavedModel all calibrate int8 from named inputs given in any order."""
    from optimizer.engine.convert import convert, convert_from_keras, freeze_model
    from optimizer.engine.sources import convert_upload
    from optimizer.guide.configs import PtqConfig
    from optimizer.measuring.accuracy import run_tflite
    from optimizer.models.sources import SavedModelSource
    from optimizer.models.uploads.loaders import saved_model_signature

    model = tf_keras_two_input()
    x = Inputs({"table": TABLE, "image": IMAGE})
    expected = model.predict([IMAGE, TABLE], verbose=0)
    model.export(str(tmp_path / "saved"))
    saved = SavedModelSource.from_signature(tmp_path / "saved",
                                            saved_model_signature(tmp_path / "saved"))
    config = PtqConfig("integer_only")
    for name, conversion in (
            ("frozen", convert(freeze_model(model), config, representative=x)),
            ("from_keras_model", convert_from_keras(model, config, representative=x)),
            ("saved model", convert_upload(saved, config, representative=x))):
        outputs = run_tflite(conversion.tflite, x)
        assert np.abs(outputs - expected).max() < 0.05, name
