"""resolve_model: demo names, tf_keras files with .npz data, and clear errors."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from optimizer.models.resolve import load_npz, resolve_model
from optimizer.paths import file_sha256


def test_demo_resolves_without_tensorflow():
    code = ("import sys; from optimizer.models.resolve import resolve_model; "
            "b = resolve_model('digits-cnn'); "
            "print(b.kind, len(b.sha256), 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["demo", "64", "False"]


def test_demo_bundle_has_data_and_finetune_defaults():
    bundle = resolve_model("digits-cnn")
    assert bundle.name == "digits-cnn" and bundle.ref == "digits-cnn" and bundle.data is None
    data = bundle.dataset
    assert data.x_test.dtype == np.float32 and data.labelled and len(data.x_rep) == 200
    assert bundle.dataset is data  # loaded once per bundle
    assert bundle.finetune_for("pruning").epochs >= 1
    assert bundle.to_dict()["sha256"] == bundle.sha256


@pytest.mark.parametrize("ref", ["no-such-demo", "model.onnx", ""])
def test_unknown_ref_names_demos_and_file_types(ref):
    with pytest.raises(ValueError) as info:
        resolve_model(ref)
    message = str(info.value)
    assert "digits-cnn" in message and ".h5" in message and ".keras" in message
    assert "\n" not in message


def test_model_file_needs_existing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file not found"):
        resolve_model(str(tmp_path / "m.h5"), None)
    (tmp_path / "m.h5").write_bytes(b"x")
    with pytest.raises(ValueError, match="--data"):
        resolve_model(str(tmp_path / "m.h5"))
    with pytest.raises(FileNotFoundError, match="data file not found"):
        resolve_model(str(tmp_path / "m.h5"), str(tmp_path / "d.npz"))
    with pytest.raises(ValueError, match=r"\.npz"):
        resolve_model(str(tmp_path / "m.h5"), str(tmp_path / "d.csv"))


def test_npz_labelled_and_unlabelled(tmp_path, tiny_dataset):
    tiny_dataset.save_npz(tmp_path / "l.npz")
    labelled = load_npz(tmp_path / "l.npz")
    assert labelled.labelled and labelled.num_classes == 10
    assert labelled.y_test.dtype == np.int64 and labelled.x_train.dtype == np.float32
    np.testing.assert_array_equal(labelled.x_test, tiny_dataset.x_test)
    np.savez(tmp_path / "u.npz", x=tiny_dataset.x_test[:120])
    unlabelled = load_npz(tmp_path / "u.npz")
    assert not unlabelled.labelled and unlabelled.x_train is None
    assert len(unlabelled.x_rep) == 120 and unlabelled.kind.value == "unlabelled"
    np.savez(tmp_path / "bad.npz", features=np.zeros(3))
    with pytest.raises(ValueError, match="x_train"):
        load_npz(tmp_path / "bad.npz")
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        load_npz(tmp_path / "obj.npz")  # never unpickled


@pytest.mark.slow
def test_keras_file_bundle_loads_a_fresh_model_each_call(tmp_path, tiny_model, tiny_dataset):
    tiny_model.save(tmp_path / "tiny.h5")
    tiny_dataset.save_npz(tmp_path / "tiny.npz")
    bundle = resolve_model(str(tmp_path / "tiny.h5"), str(tmp_path / "tiny.npz"))
    assert bundle.kind == "keras-file" and bundle.name == "tiny"
    assert bundle.sha256 == file_sha256(tmp_path / "tiny.h5")
    first, second = bundle.load_keras(), bundle.load_keras()
    assert first is not second
    first.layers[-1].set_weights([w * 0 for w in first.layers[-1].get_weights()])
    np.testing.assert_allclose(second.predict(tiny_dataset.x_test[:8], verbose=0),
                               tiny_model.predict(tiny_dataset.x_test[:8], verbose=0), atol=1e-6)
    assert bundle.finetune_for("qat").epochs >= 1
