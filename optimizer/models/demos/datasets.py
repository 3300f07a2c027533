"""The demos' data: offline sources, deterministic stratified splits, per-demo preprocessing.

Every demo splits the same way: a stratified 25% test split (``sources.split_indices``,
``random_state`` fixed), the rest for training, and the first 200 training samples as the representative set.
The splits are made once and shipped with the data (``sources.py``), so loading needs no
scikit-learn. Splitting happens on the small source arrays; expensive preprocessing (the 96x96
upsampling for MobileNetV2, ~200 MB as float32) runs after the split, on demand, and is cached
per process rather than written to disk. Cached arrays are read-only because every caller
shares them.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from optimizer.models.dataset import Dataset
from optimizer.models.demos.sources import load_source

REPRESENTATIVE_SAMPLES = 200
MOBILENET_SIZE = 96


def bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) matrix of 1-D bilinear resizing with half-pixel centres.

    Applied along both axes it matches ``tf.image.resize(..., "bilinear")`` (no antialiasing),
    so users can reproduce the preprocessing in TensorFlow.
    """
    source = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    source = np.clip(source, 0.0, n_in - 1)
    lower = np.floor(source).astype(int)
    upper = np.minimum(lower + 1, n_in - 1)
    weight = source - lower
    matrix = np.zeros((n_out, n_in))
    matrix[np.arange(n_out), lower] += 1.0 - weight
    matrix[np.arange(n_out), upper] += weight
    return matrix


def upsample_to_rgb(images: np.ndarray, size: int = MOBILENET_SIZE,
                    chunk: int = 256) -> np.ndarray:
    """Bilinear-upsample (n, h, w, 1) grey images to (n, size, size, 3) float32 (tiled grey).

    Computed in float64 ``chunk`` images at a time, so the only large allocation is the
    result (fresh memory is what costs here: the kernel zeroes every page first touched).
    """
    rows = bilinear_matrix(images.shape[1], size)
    cols = bilinear_matrix(images.shape[2], size)
    out = np.empty((len(images), size, size, 3), dtype=np.float32)
    for start in range(0, len(images), chunk):
        grey = rows @ images[start:start + chunk, ..., 0].astype(np.float64) @ cols.T
        out[start:start + chunk] = grey[..., None]
    return out


def _digits() -> tuple:
    arrays = load_source("digits")
    x = (arrays["x"] / 16.0).astype(np.float32)[..., None]  # pixels 0..16 -> [0, 1]
    return x, arrays["y"], _names(arrays), _split(arrays)


def _waveforms() -> tuple:
    from optimizer.models.demos.waveforms import WAVEFORM_CLASSES, make_waveforms

    x, y = make_waveforms()
    return x, y, WAVEFORM_CLASSES, _split(load_source("waveforms"))


def _breast_cancer() -> tuple:
    arrays = load_source("breast_cancer")
    return arrays["x"], arrays["y"], _names(arrays), _split(arrays)


def _names(arrays: dict) -> tuple:
    return tuple(str(n) for n in arrays["class_names"])


def _split(arrays: dict) -> tuple[np.ndarray, np.ndarray]:
    return arrays["train_idx"], arrays["test_idx"]


def _standardize(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Statistics from the training split only, so nothing about the test split leaks in.
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return ((x_train - mean) / std).astype(np.float32), ((x_test - mean) / std).astype(np.float32)


# demo name -> (source of (x, y, class names, (train_idx, test_idx)), preprocessing applied
# after the split)
_SOURCES = {
    "digits-cnn": (_digits, None),
    "digits-mobilenetv2": (_digits, lambda tr, te: (upsample_to_rgb(tr), upsample_to_rgb(te))),
    "waveforms-conv1d": (_waveforms, None),
    "tabular-mlp": (_breast_cancer, _standardize),
    "digits-outliers": (_digits, lambda tr, te: (_raw_inputs(tr), _raw_inputs(te))),
}


def _raw_inputs(images: np.ndarray) -> np.ndarray:
    from optimizer.models.demos.outliers import raw_inputs

    return raw_inputs(images)


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@lru_cache(maxsize=None)
def load_dataset(name: str) -> Dataset:
    """The ``Dataset`` of demo ``name`` (cached per process; arrays are read-only).

    Inputs are float32, labels int64; ``x_rep`` is the first 200 training samples.
    """
    if name not in _SOURCES:
        raise ValueError(f"no data source for demo '{name}'; known: {', '.join(_SOURCES)}")
    source, preprocess = _SOURCES[name]
    x, y, class_names, (train_idx, test_idx) = source()
    x_train, x_test = x[train_idx], x[test_idx]
    if preprocess is not None:
        x_train, x_test = preprocess(x_train, x_test)
    x_train = _readonly(x_train.astype(np.float32, copy=False))
    x_test = _readonly(x_test.astype(np.float32, copy=False))
    return Dataset(
        name=name, x_train=x_train, y_train=_readonly(y[train_idx]), x_test=x_test,
        y_test=_readonly(y[test_idx]), x_rep=x_train[:REPRESENTATIVE_SAMPLES],
        task="classification", num_classes=len(class_names), class_names=class_names)


def split_sizes(name: str) -> dict:
    """Sample counts per split without preprocessing (cheap even for the 96x96 demo)."""
    if name not in _SOURCES:
        raise ValueError(f"no data source for demo '{name}'; known: {', '.join(_SOURCES)}")
    _, _, _, (train_idx, test_idx) = _SOURCES[name][0]()
    return {"train": len(train_idx), "representative": min(REPRESENTATIVE_SAMPLES, len(train_idx)),
            "test": len(test_idx)}
