"""validate(): data checked against the model signature, and the task/metric it implies."""
from __future__ import annotations

import numpy as np
import pytest

from optimizer.models.uploads import DataMismatch
from optimizer.models.uploads.raw_data import RawData
from optimizer.models.uploads.validate import shape_text, validate


def sig(shape=(8, 8, 1), out=(10,), activation="softmax", dtype="float32"):
    return {"inputs": [{"name": "in", "shape": [None, *shape], "dtype": dtype}],
            "outputs": [{"name": "out", "shape": [None, *out], "dtype": "float32"}],
            "output_activation": activation}


def raw(**arrays):
    return RawData(source=arrays.pop("source", "npz"), arrays=arrays)


RNG = np.random.default_rng(0)
X = RNG.random((150, 8, 8, 1), dtype=np.float32)
Y = np.arange(150) % 10


def test_labelled_classification_reports_accuracy_and_the_tree_answer():
    data, report = validate(sig(), raw(x=X, y=Y))
    assert (report.task, report.metric, report.data_kind) == ("classification", "accuracy",
                                                              "labelled")
    assert report.data_answer == "Labelled training data"
    assert data.num_classes == 10 and data.kind.value == "labelled"
    assert len(data.x_train) + len(data.x_test) == 150 and len(data.x_rep) == len(data.x_train)
    assert not report.warnings


def test_unlabelled_samples_mean_agreement_and_a_calibration_warning():
    data, report = validate(sig(), raw(x=X[:60]))
    assert (report.metric, report.data_kind) == ("agreement", "unlabelled")
    assert report.data_answer == "Unlabelled representative sample"
    assert any("only 60 representative samples" in w and "100-500" in w
               for w in report.warnings)
    assert data.y_test is None and len(data.x_rep) == 60


def test_a_missing_channel_axis_is_added_and_said():
    data, report = validate(sig(), raw(x=X[..., 0], y=Y))
    assert data.x_test.shape[1:] == (8, 8, 1)
    assert any("added a channel axis" in n for n in report.notes)


@pytest.mark.parametrize("shape,source,words", [
    ((96, 96, 3), "images", "the model expects 96x96x3, your images are 8x8x1"),
    ((20,), "csv", "expects 20 input values"),
    ((4, 4, 1), "npz", "your samples are 8x8x1")])
def test_shape_mismatch_names_both_shapes(shape, source, words):
    x = X if source != "csv" else RNG.random((150, 7), dtype=np.float32)
    with pytest.raises(DataMismatch, match=words):
        validate(sig(shape=shape), raw(x=x, y=Y, source=source))


def test_labels_and_outputs():
    with pytest.raises(DataMismatch, match="labels go from -1 to 8 but class ids start at 0"):
        validate(sig(), raw(x=X, y=Y - 1))
    with pytest.raises(DataMismatch, match="labels go from 0 to 10 .* a model with 11 outputs"):
        validate(sig(), raw(x=X, y=np.where(Y == 9, 10, Y)))
    one_hot = np.eye(10)[Y]
    data, report = validate(sig(), raw(x=X, y=one_hot))
    assert data.y_test.ndim == 1 and any("one-hot" in n for n in report.notes)
    binary, _ = validate(sig(out=(1,), activation="sigmoid"), raw(x=X, y=Y % 2))
    assert binary.task == "classification" and binary.num_classes == 2


def test_regression_measures_error_and_says_against_what():
    targets = RNG.random(150).astype(np.float32)
    data, report = validate(sig(out=(1,), activation="linear"), raw(x=X, y=targets))
    assert (report.task, report.metric) == ("regression", "rmse")
    assert data.y_test.dtype == np.float32
    assert any("RMSE" in n and "your labels" in n for n in report.notes)
    _, unlabelled = validate(sig(out=(8, 8, 1), activation="linear"), raw(x=X))
    assert unlabelled.metric == "rmse"
    assert any("float32 baseline's outputs" in n for n in unlabelled.notes)
    with pytest.raises(DataMismatch, match="model outputs 4"):
        validate(sig(out=(4,), activation="linear"), raw(x=X, y=np.ones((150, 3)) / 3))


def test_integer_inputs_nan_labels_and_multi_input_models():
    tokens = RNG.integers(0, 50, (150, 12)).astype(np.float32)
    data, _ = validate(sig(shape=(12,), dtype="int32"), raw(x=tokens, y=Y))
    assert data.x_test.shape[1:] == (12,)
    with pytest.raises(DataMismatch, match="whole-number inputs"):
        validate(sig(shape=(12,), dtype="int32"), raw(x=tokens + 0.5, y=Y))
    with pytest.raises(DataMismatch, match="NaN or infinite"):
        validate(sig(out=(1,), activation="linear"),
                 raw(x=X, y=np.where(Y == 3, np.nan, 1.5)))
    two = sig()
    two["inputs"] = two["inputs"] * 2
    with pytest.raises(DataMismatch, match=r"2 inputs .* are one array; save one array per "
                       r"input as x_train.<input name>"):
        validate(two, raw(x=X, y=Y))
    with pytest.raises(DataMismatch, match="150 samples but 10 labels"):
        validate(sig(), raw(x=X, y=Y[:10]))


def test_shape_text():
    assert shape_text((96, 96, 3)) == "96x96x3" and shape_text((None, 4)) == "anyx4"
