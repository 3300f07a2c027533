"""Reading uploads without TensorFlow: model file identity and config scan, data parsing."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from hostile.builders import _sequential, _write_h5, _write_keras_zip

from optimizer.models.uploads import DataMismatch, TooLarge, UnreadableFile, UnsafeModel
from optimizer.models.uploads.data_files import csv_header, load_data_file, split
from optimizer.models.uploads.model_files import inspect_model_file, scan_config, sniff
from optimizer.models.uploads.raw_data import DataOptions


def _dense(name="extra"):
    return {"class_name": "Dense", "config": {"name": name, "units": 4}}


def test_keras_version_decides_the_flavor(tmp_path):
    two = inspect_model_file(_write_h5(tmp_path / "a.h5", _sequential([]), "2.21.0"))
    three = inspect_model_file(_write_keras_zip(tmp_path / "b.keras", _sequential([]), "3.15.1"))
    assert (two.format, two.flavor) == ("h5", "tf_keras")
    assert (three.format, three.flavor) == ("keras", "keras3")
    assert [cls for _, cls in two.layers] == ["InputLayer", "Flatten", "Dense"]


def test_config_scan_allows_built_ins_and_refuses_the_rest():
    ok = _sequential([_dense(), {"class_name": "Dense", "config": {
        "name": "init", "units": 2, "kernel_initializer": {
            "module": "keras.initializers", "class_name": "GlorotUniform", "config": {}},
        "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}},
        "activation": {"module": "keras.activations", "class_name": "function",
                       "config": "relu", "registered_name": "function"}}}])
    assert len(scan_config(ok)) == 5
    for layer, words in [
        ({"class_name": "TFSMLayer", "config": {"name": "t"}}, "loads code or files"),
        ({"class_name": "Dense", "module": "keras.layers", "registered_name": "pkg>Dense",
          "config": {"name": "d"}}, "custom"),
        ({"class_name": "Dense", "config": {"name": "d", "activation": {
            "module": "__main__", "class_name": "function", "config": "my_act"}}}, "custom function"),
        ({"class_name": "TFOpLambda", "config": {"name": "w", "function": "io.write_file"}},
         "not plain tensor math")]:
        with pytest.raises(UnsafeModel, match=words):
            scan_config(_sequential([layer]))
    scan_config(_sequential([{"class_name": "TFOpLambda",
                              "config": {"name": "m", "function": "math.multiply"}}]))


def test_compile_config_is_not_scanned(tmp_path):
    doc = {**_sequential([]), "compile_config": {"loss": {"module": "my_losses",
                                                          "class_name": "CustomLoss"}}}
    assert scan_config(doc)          # never deserialized: loaded with compile=False


def test_keras_zip_needs_config_and_weights(tmp_path):
    path = tmp_path / "x.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", "{}")
    with pytest.raises(UnreadableFile, match="config.json"):
        inspect_model_file(path)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", json.dumps(_sequential([])))
    with pytest.raises(UnreadableFile, match="model.weights.h5"):
        inspect_model_file(path)


def test_sniff_and_unsupported_names(tmp_path):
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"\x08\x07")
    with pytest.raises(UnreadableFile, match="unsupported model file"):
        inspect_model_file(onnx)
    flat = tmp_path / "x.tflite"
    flat.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(32))
    assert sniff(flat) == "tflite"
    saved = tmp_path / "s.zip"
    with zipfile.ZipFile(saved, "w") as zf:
        zf.writestr("exported/saved_model.pb", b"x")
        zf.writestr("exported/keras_metadata.pb", b"x")
    info = inspect_model_file(saved)
    assert info.flavor == "saved-model" and info.saved_model_root == "exported"
    assert any("keras_metadata.pb is ignored" in n for n in info.notes)


# -- data --------------------------------------------------------------------------------------

def _png(pixels: np.ndarray, mode="L") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_image_zip_is_labelled_by_folder_resized_and_scaled(tmp_path):
    path = tmp_path / "imgs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for label in ("cat", "dog"):
            for i in range(3):
                zf.writestr(f"pets/{label}/{i}.png", _png(np.full((16, 16, 3), 255), "RGB"))
        zf.writestr("pets/readme.txt", b"ignored")
        zf.writestr("__MACOSX/pets/._x.png", b"junk")
    raw = load_data_file(path, DataOptions(pixel_range="-1-1"), input_shape=(8, 8, 1))
    assert raw.source == "images" and raw.class_names == ("cat", "dog")
    assert raw.arrays["x"].shape == (6, 8, 8, 1) and np.allclose(raw.arrays["x"], 1.0)
    assert sorted(raw.arrays["y"].tolist()) == [0, 0, 0, 1, 1, 1]
    assert any("resized to 8x8" in n for n in raw.notes)
    assert any("non-image files ignored" in n for n in raw.notes)


def test_flat_image_zip_is_unlabelled_and_huge_images_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "flat.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(3):
            zf.writestr(f"{i}.png", _png(np.zeros((8, 8))))
    raw = load_data_file(path, input_shape=(8, 8, 1))
    assert "y" not in raw.arrays and raw.arrays["x"].shape == (3, 8, 8, 1)
    monkeypatch.setenv("OPTIMIZER_MAX_IMAGE_PIXELS", "32")
    with pytest.raises(TooLarge, match="8x8 pixels"):
        load_data_file(path, input_shape=(8, 8, 1))
    monkeypatch.setenv("OPTIMIZER_MAX_IMAGES", "2")
    with pytest.raises(TooLarge, match="3 images"):
        load_data_file(path, input_shape=(8, 8, 1))
    with pytest.raises(DataMismatch, match="not images"):
        load_data_file(path, input_shape=(20,))


def test_a_corrupt_image_is_one_line(tmp_path):
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a/0.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
        zf.writestr("b/0.png", _png(np.zeros((8, 8))))
    with pytest.raises(UnreadableFile, match="cannot be decoded"):
        load_data_file(path, input_shape=(8, 8, 1))


def test_csv_label_column_and_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,kind\n1,2,x\n3,4,y\n5,6,x\n")
    assert csv_header(path.read_bytes()) == ["a", "b", "kind"]
    raw = load_data_file(path, DataOptions(label_column="kind"))
    assert raw.arrays["x"].shape == (3, 2) and raw.class_names == ("x", "y")
    assert raw.arrays["y"].tolist() == [0, 1, 0]
    assert "y" not in load_data_file(_no_label(path)).arrays
    with pytest.raises(DataMismatch, match="column 'label' is not in"):
        load_data_file(path, DataOptions(label_column="label"))
    gaps = tmp_path / "gaps.csv"
    gaps.write_text("a,b\n1,\n3,4\n")
    with pytest.raises(DataMismatch, match="empty or non-finite cells.*column 'b', row 1"):
        load_data_file(gaps)


def _no_label(path):
    plain = path.with_name("plain.csv")
    plain.write_text("a,b\n1,2\n3,4\n")
    return plain


def test_npz_with_x_and_string_labels(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((10, 3), np.float32), y=np.array(["b", "a"] * 5))
    raw = load_data_file(path)
    assert raw.class_names == ("a", "b") and raw.arrays["y"].tolist() == [1, 0] * 5


def test_split_is_stratified_and_deterministic():
    x = np.arange(40, dtype=np.float32)[:, None]
    y = np.array([0] * 20 + [1] * 20)
    a, b = split(x, y, 0.25, seed=3), split(x, y, 0.25, seed=3)
    assert np.array_equal(a["x_test"], b["x_test"])
    assert sorted(a["y_test"].tolist()) == [0] * 5 + [1] * 5
    assert len(a["x_train"]) == 30 and not set(a["x_train"][:, 0]) & set(a["x_test"][:, 0])


def test_child_check_command_keeps_a_negative_pixel_range_in_one_argument():
    import argparse

    from optimizer.cli import check as check_cli
    from optimizer.models.uploads.check import check_command
    from optimizer.models.uploads.raw_data import DataOptions

    command = check_command("m.keras", "d.zip", "/w", DataOptions(pixel_range="-1-1"))
    assert "--pixel-range=-1-1" in command
    parser = argparse.ArgumentParser()
    check_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(command[3:])  # after "python -m optimizer"
    assert args.pixel_range == "-1-1"


def test_upload_limit_message_counts_mib_and_names_the_optimizer_state(tmp_path):
    from optimizer.models.uploads.errors import TooLarge
    from optimizer.models.uploads.limits import Limits, check_upload_size

    path = tmp_path / "big.keras"
    path.write_bytes(b"x" * (3 * 1024 * 1024 + 10))
    with pytest.raises(TooLarge) as caught:
        check_upload_size(path, "model file", Limits(max_upload_mb=2))
    message = str(caught.value)
    assert "3.0 MiB (3.1 MB), over the 2 MiB upload limit" in message
    assert "include_optimizer=False" in message


def test_check_json_without_workdir_drops_paths_into_the_deleted_folder():
    from optimizer.cli.check import without_paths

    doc = {"manifest_path": "/tmp/x/upload.json", "title": "m", "nested": {"a": "/tmp/x/a"},
           "list": ["/tmp/x/b", "keep"]}
    assert without_paths(doc, "/tmp/x") == {"title": "m", "nested": {}, "list": ["keep"]}
