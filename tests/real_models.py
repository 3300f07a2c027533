"""The architectures people really bring, as Keras 3 files: MobileNetV3Small with its built-in
preprocessing, EfficientNetB0, a Conv1D + BatchNorm signal model with a ``Rescaling`` input, a
self-attention text classifier and a two-input (image + table) model. Random-initialised at
tiny sizes, BatchNorm momentum lowered to 0.9 and trained briefly on small synthetic data that
each can learn, so accuracies mean something.

``build_zoo(folder)`` writes ``<name>.keras`` and ``<name>.npz`` (multi-input data under
``x_train.<input name>`` keys) and returns ``{name: (model path, data path, keras model)}``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

NAMES = ("mobilenetv3", "efficientnet", "signal", "text", "two_input")
CLASSES = 4


def images(n: int, size: int = 32, seed: int = 0):
    """Pixels 0-255: each class is a colour tint plus a stripe direction, with noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n)
    x = rng.uniform(0, 90, (n, size, size, 3))
    ramp = np.linspace(0, 1, size)
    for i, c in enumerate(y):
        x[i, :, :, c % 3] += 120
        stripes = np.sin(ramp * 12)[:, None] if c < 2 else np.sin(ramp * 12)[None, :]
        x[i] += 40 * stripes[..., None]
    return np.clip(x, 0, 255).astype(np.float32), y.astype(np.int64)


def signals(n: int, length: int = 64, seed: int = 1):
    """Raw readings 0..4 (the model rescales them): a sine of one of four frequencies."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n)
    t = np.arange(length)
    phase = rng.uniform(0, 6.3, n)
    x = 2 + 1.5 * np.sin(t[None, :] * (0.15 + 0.2 * y[:, None]) + phase[:, None])
    x = x + rng.normal(0, 0.2, x.shape)
    return x[..., None].astype(np.float32), y.astype(np.int64)


def tokens(n: int, length: int = 16, vocab: int = 40, seed: int = 2):
    """Token ids: each class draws most of its tokens from its own quarter of the vocabulary."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n)
    own = rng.integers(0, vocab // CLASSES, (n, length)) + (vocab // CLASSES) * y[:, None]
    noise = rng.integers(0, vocab, (n, length))
    x = np.where(rng.uniform(size=(n, length)) < 0.6, own, noise)
    return x.astype(np.int32), y.astype(np.int64)


def two_inputs(n: int, seed: int = 3):
    """An 8x8 image and 5 table columns; the class needs both (image half, table half)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n)
    img = rng.normal(0, 0.3, (n, 8, 8, 1))
    img[:, :4, :, 0] += (y[:, None, None] % 2) * 1.0
    tab = rng.normal(0, 0.3, (n, 5))
    tab[:, 0] += (y // 2) * 1.0
    return {"image": img.astype(np.float32), "table": tab.astype(np.float32)}, y.astype(np.int64)


def build(keras, name: str):
    """The architecture ``name`` built with Keras 3 (random weights)."""
    L = keras.layers
    if name == "mobilenetv3":
        return keras.applications.MobileNetV3Small(
            input_shape=(32, 32, 3), alpha=0.75, minimalistic=False, include_preprocessing=True,
            weights=None, classes=CLASSES, dropout_rate=0.0)
    if name == "efficientnet":
        return keras.applications.EfficientNetB0(input_shape=(32, 32, 3), weights=None,
                                                 classes=CLASSES)
    if name == "signal":
        i = keras.Input((64, 1), name="signal")
        x = L.Rescaling(0.5, offset=-1.0)(i)
        x = L.Conv1D(16, 5, padding="same")(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
        x = L.MaxPooling1D(2)(x)
        x = L.Conv1D(32, 3, padding="same", activation="relu")(x)
        x = L.GlobalAveragePooling1D()(x)
        x = L.Dense(16)(x)
        x = L.BatchNormalization()(x)  # not after a convolution
        x = L.Activation("relu")(x)
        return keras.Model(i, L.Dense(CLASSES, activation="softmax")(x))
    if name == "text":
        i = keras.Input((16,), dtype="int32", name="tokens")
        x = L.Embedding(40, 16)(i)
        a = L.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
        x = L.LayerNormalization()(x + a)
        x = L.GlobalAveragePooling1D()(x)
        x = L.Dense(16, activation="gelu")(x)
        return keras.Model(i, L.Dense(CLASSES, activation="softmax")(x))
    if name == "two_input":
        a = keras.Input((8, 8, 1), name="image")
        b = keras.Input((5,), name="table")
        x = L.Conv2D(8, 3, activation="relu")(a)
        x = L.Flatten()(x)
        t = L.Dense(8, activation="relu")(b)
        x = L.Concatenate()([x, t])
        return keras.Model([a, b], L.Dense(CLASSES, activation="softmax")(x))
    raise ValueError(name)


def data(name: str, n: int = 480):
    """``(x, y)`` for ``name``; ``x`` is a dict by input name for the two-input model."""
    if name in ("mobilenetv3", "efficientnet"):
        return images(n)
    return {"signal": signals, "text": tokens, "two_input": two_inputs}[name](n)


def train(keras, model, x, y, epochs: int):
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            layer.momentum = 0.9
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], run_eagerly=True)
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model


def _split(x, n):
    if isinstance(x, dict):
        return {k: v[:n] for k, v in x.items()}, {k: v[n:] for k, v in x.items()}
    return x[:n], x[n:]


def write_npz(path: Path, x_train, y_train, x_test, y_test) -> Path:
    arrays = {"y_train": y_train, "y_test": y_test}
    for key, value in (("x_train", x_train), ("x_test", x_test)):
        if isinstance(value, dict):
            arrays.update({f"{key}.{name}": v for name, v in value.items()})
        else:
            arrays[key] = value
    np.savez(path, **arrays)
    return path


EPOCHS = {"mobilenetv3": 6, "efficientnet": 4, "signal": 8, "text": 8, "two_input": 10}


def build_zoo(folder: Path, names=NAMES, samples: int = 480, epochs: int | None = None) -> dict:
    """Train and save every model in ``names`` with Keras 3 and write its data file
    (``samples`` in all, a quarter for the test split; ``epochs`` overrides ``EPOCHS``)."""
    from optimizer import compat

    keras = compat.keras3()
    zoo = {}
    for name in names:
        keras.utils.set_random_seed(0)
        x, y = data(name, samples)
        n = int(len(y) * 0.75)
        x_train, x_test = _split(x, n)
        model = train(keras, build(keras, name), x_train, y[:n], epochs or EPOCHS[name])
        path = Path(folder) / f"{name}.keras"
        model.compile()  # saved without the optimizer state, as users are advised to
        model.save(path)
        zoo[name] = (path, write_npz(Path(folder) / f"{name}.npz", x_train, y[:n], x_test, y[n:]),
                     model)
    return zoo


def run_cli(model: Path, data: Path, specs: str, out: Path) -> dict:
    """``python -m optimizer run`` on a zoo model as a user runs it (one fine-tuning epoch);
    returns its JSON document. Fails the test with the log's tail when the command fails."""
    import json
    import os
    import subprocess
    import sys

    args = [sys.executable, "-m", "optimizer", "run", "--model", str(model), "--data", str(data),
            "--technique", specs, "--set", "finetune.epochs=1", "--out", str(out), "--json", "-"]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)
