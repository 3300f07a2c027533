"""Hostile and broken upload files, built on the fly (no binaries are committed).

Each builder writes one file into a folder and returns its path. ``MODEL_CASES`` and
``DATA_CASES`` pair each builder with the error kind and the words its one-line message must
contain. The Lambda payloads are real marshalled bytecode in the format Keras stores
(``[base64 code, defaults, closure]``) that would create ``CANARY`` if anything ran it, so a
test can also prove no code from an upload ever ran.
"""
from __future__ import annotations

import base64
import io
import json
import marshal
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

CANARY = "PWNED-canary.txt"


@dataclass(frozen=True)
class Case:
    """One hostile input: how to build it, the error kind and message words expected."""

    name: str
    build: Callable
    kind: str
    words: tuple
    role: str = "model"           # which file is hostile: "model" or "data"
    needs_model_shape: bool = False  # True: only caught after the model is loaded (TF)
    env: tuple = ()               # extra environment for the CLI (limits)


def _payload(folder: Path) -> str:
    """Marshalled bytecode of a lambda that writes the canary file next to the upload."""
    target = str(Path(folder).resolve() / CANARY)
    source = f"lambda x: (__import__('pathlib').Path({target!r}).write_text('ran'), x)[1]"
    code = compile(source, "<upload>", "eval").co_consts[0]
    return base64.b64encode(marshal.dumps(code)).decode()


def _sequential(layers: list) -> dict:
    base = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, 8, 8, 1],
                                                   "dtype": "float32", "name": "input"}}]
    tail = [{"class_name": "Flatten", "config": {"name": "flatten"}},
            {"class_name": "Dense", "config": {"name": "dense", "units": 10,
                                               "activation": "softmax"}}]
    return {"class_name": "Sequential", "config": {"name": "hostile", "layers": base + layers +
                                                   tail}}


def lambda_layer(folder: Path) -> dict:
    return {"class_name": "Lambda", "config": {
        "name": "evil_lambda", "function": [_payload(folder), None, None],
        "function_type": "lambda", "module": "__main__", "output_shape": None,
        "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}}


def _write_h5(path: Path, config: dict, version: str = "2.21.0") -> Path:
    import h5py

    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = version
        handle.attrs["backend"] = "tensorflow"
        handle.attrs["model_config"] = json.dumps(config)
        handle.create_group("model_weights")
    return path


def _write_keras_zip(path: Path, config: dict, version: str) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": version}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    return path


# -- model files -------------------------------------------------------------------------------

def h5_with_lambda(folder: Path) -> Path:
    return _write_h5(folder / "lambda.h5", _sequential([lambda_layer(folder)]))


def keras_with_lambda(folder: Path) -> Path:
    return _write_keras_zip(folder / "lambda.keras", _sequential([lambda_layer(folder)]),
                            "2.21.0")


def keras3_with_lambda(folder: Path) -> Path:
    layer = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
             "config": {"name": "evil_lambda", "function": {
                 "class_name": "__lambda__", "config": {"code": _payload(folder)}}}}
    return _write_keras_zip(folder / "lambda3.keras", _sequential([layer]), "3.15.1")


def h5_with_custom_layer(folder: Path) -> Path:
    layer = {"class_name": "MyCustomLayer", "module": "evil_package.layers",
             "config": {"name": "custom"}}
    return _write_h5(folder / "custom.h5", _sequential([layer]))


def truncated_h5(folder: Path, source: Path | None = None) -> Path:
    """The first half of a real (or crafted) .h5 file."""
    full = source or _write_h5(folder / "full.h5", _sequential([]))
    data = Path(full).read_bytes()
    path = folder / "truncated.h5"
    path.write_bytes(data[: max(200, len(data) // 2)])
    return path


def text_renamed_h5(folder: Path) -> Path:
    path = folder / "model.h5"
    path.write_text("this is not a model, just text\n" * 20)
    return path


def text_renamed_tflite(folder: Path) -> Path:
    path = folder / "model.tflite"
    path.write_text("not a flatbuffer\n" * 20)
    return path


def empty_model(folder: Path) -> Path:
    path = folder / "empty.keras"
    path.write_bytes(b"")
    return path


def oversized_model(folder: Path) -> Path:
    """2 MB of HDF5-looking bytes (refused by size before anything reads it; limit 1 MB)."""
    path = folder / "big.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + np.random.default_rng(0).bytes(2 * 1024 * 1024))
    return path


def _zip(path: Path, entries: list) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.create_system = 3
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


def saved_model_zip_slip(folder: Path) -> Path:
    return _zip(folder / "slip.zip", [("model/saved_model.pb", b"x", None),
                                      ("../../escaped.txt", b"escaped", None)])


def saved_model_absolute(folder: Path) -> Path:
    return _zip(folder / "absolute.zip", [("model/saved_model.pb", b"x", None),
                                          ("/tmp/absolute-escape.txt", b"escaped", None)])


def saved_model_symlink(folder: Path) -> Path:
    return _zip(folder / "symlink.zip", [("model/saved_model.pb", b"x", None),
                                         ("model/variables", b"/etc", 0o120777)])


def saved_model_with_code(folder: Path) -> Path:
    return _zip(folder / "code.zip", [("model/saved_model.pb", b"x", None),
                                      ("model/assets/hook.py", b"import os", None)])


def zip_bomb(folder: Path) -> Path:
    """20 MB of zeros packed into ~20 kB (ratio ~1000, over the default 200)."""
    return _zip(folder / "bomb.zip", [("model/saved_model.pb", b"x", None),
                                      ("model/variables/zeros.data", bytes(20 * 1024 * 1024),
                                       None)])


# -- data files --------------------------------------------------------------------------------

def npz_object_arrays(folder: Path) -> Path:
    path = folder / "objects.npz"
    np.savez(path, x=np.array([{"a": 1}, "b"], dtype=object))
    return path


def npz_header_bomb(folder: Path) -> Path:
    """An .npz whose array header claims 4 TB while storing a few bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (1_000_000, 1_000_000)})
    path = folder / "header_bomb.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", header.getvalue() + b"\0" * 16)
    return path


def image_zip_slip(folder: Path) -> Path:
    return _zip(folder / "images_slip.zip", [("digits/0/a.png", _png(), None),
                                             ("../evil.png", _png(), None)])


def image_zip_symlink(folder: Path) -> Path:
    return _zip(folder / "images_link.zip", [("digits/0/a.png", _png(), None),
                                             ("digits/1/b.png", b"/etc/passwd", 0o120777)])


def image_zip_bomb(folder: Path) -> Path:
    return _zip(folder / "images_bomb.zip", [("digits/0/a.png", _png(), None),
                                             ("digits/1/zeros.png", bytes(20 * 1024 * 1024),
                                              None)])


def empty_data(folder: Path) -> Path:
    path = folder / "empty.npz"
    path.write_bytes(b"")
    return path


def csv_with_text(folder: Path) -> Path:
    path = folder / "text.csv"
    path.write_text("a,b,city,label\n1,2,Paris,0\n3,4,Rome,1\n")
    return path


def npz_wrong_shape(folder: Path) -> Path:
    path = folder / "shape.npz"
    x = np.random.default_rng(0).random((40, 28, 28, 1), dtype=np.float32)
    y = np.arange(40) % 10
    np.savez(path, x_train=x, y_train=y, x_test=x, y_test=y)
    return path


def npz_labels_out_of_range(folder: Path) -> Path:
    path = folder / "labels.npz"
    x = np.random.default_rng(0).random((40, 8, 8, 1), dtype=np.float32)
    y = np.arange(40) % 13
    np.savez(path, x_train=x, y_train=y, x_test=x, y_test=y)
    return path


def npz_nan(folder: Path) -> Path:
    path = folder / "nan.npz"
    x = np.random.default_rng(0).random((40, 8, 8, 1), dtype=np.float32)
    x[3, 2, 2, 0] = np.nan
    y = np.arange(40) % 10
    np.savez(path, x_train=x, y_train=y, x_test=x, y_test=y)
    return path


def _png(size: int = 8) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((size, size), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


MODEL_CASES = [
    Case("truncated-h5", truncated_h5, "unreadable", ("truncated",)),
    Case("h5-lambda", h5_with_lambda, "unsafe-model", ("Lambda", "never run")),
    Case("keras-lambda", keras_with_lambda, "unsafe-model", ("Lambda", "never run")),
    Case("keras3-lambda", keras3_with_lambda, "unsafe-model", ("Lambda",)),
    Case("h5-custom-layer", h5_with_custom_layer, "unsafe-model", ("MyCustomLayer", "custom")),
    Case("text-renamed-h5", text_renamed_h5, "unreadable", ("text file", "HDF5")),
    Case("text-renamed-tflite", text_renamed_tflite, "unreadable", ("text file", "TFLite")),
    Case("empty-model", empty_model, "unreadable", ("empty", "0 bytes")),
    Case("oversized-model", oversized_model, "too-large", ("over the 1 MiB upload limit",),
         env=(("OPTIMIZER_MAX_UPLOAD_MB", "1"),)),
    Case("zip-slip", saved_model_zip_slip, "unsafe-archive", ("outside", "..")),
    Case("zip-absolute", saved_model_absolute, "unsafe-archive", ("absolute path",)),
    Case("zip-symlink", saved_model_symlink, "unsafe-archive", ("symbolic link",)),
    Case("zip-bomb", zip_bomb, "unsafe-archive", ("zip bomb",)),
    Case("savedmodel-code", saved_model_with_code, "unsafe-model", ("hook.py", "code")),
]

DATA_CASES = [
    Case("npz-object-arrays", npz_object_arrays, "data-mismatch", ("object arrays",), "data"),
    Case("npz-header-bomb", npz_header_bomb, "too-large", ("MB limit",), "data"),
    Case("image-zip-slip", image_zip_slip, "unsafe-archive", ("outside",), "data"),
    Case("image-zip-symlink", image_zip_symlink, "unsafe-archive", ("symbolic link",), "data"),
    Case("image-zip-bomb", image_zip_bomb, "unsafe-archive", ("zip bomb",), "data"),
    Case("empty-data", empty_data, "unreadable", ("empty", "0 bytes"), "data"),
    Case("csv-text-column", csv_with_text, "data-mismatch", ("'city'", "not numbers"), "data"),
    Case("wrong-shape", npz_wrong_shape, "data-mismatch",
         ("model expects 8x8x1", "your samples are 28x28x1"), "data", True),
    Case("labels-out-of-range", npz_labels_out_of_range, "data-mismatch",
         ("labels go from 0 to 12", "10 outputs"), "data", True),
    Case("nan-inputs", npz_nan, "data-mismatch", ("NaN or infinite",), "data", True),
]
