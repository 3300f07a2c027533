"""Small models of varied architectures and their data, built the same way in tf_keras and
Keras 3 (the layer APIs match), trained briefly so accuracies mean something.

Architectures: a Conv1D signal classifier, a depthwise-separable CNN, a residual block (Add)
with BatchNormalization, a GlobalAveragePooling CNN, an MLP on a CSV, an LSTM+GRU recurrent
net, and a Keras 3 model with ``RMSNormalization`` (no tf_keras counterpart). Data files are
written in the formats users upload: ``.npz``, a zip of PNG images in class folders, a CSV.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

ARCHITECTURES = ("conv1d", "dwsep", "resnet", "gap", "mlp", "rnn")
#: Which data each architecture trains on, and the file type it is uploaded as.
DATA_OF = {"conv1d": "waves", "rnn": "waves", "dwsep": "digits", "resnet": "digits",
           "gap": "digits", "mlp": "table"}
UPLOAD_AS = {"conv1d": "npz", "rnn": "npz", "dwsep": "images", "resnet": "npz", "gap": "npz",
             "mlp": "csv"}


def build(keras, arch: str):
    """The architecture built with ``keras`` (tf_keras or Keras 3)."""
    L = keras.layers
    if arch == "conv1d":
        i = keras.Input((32, 1))
        x = L.Conv1D(8, 5, activation="relu")(i)
        x = L.MaxPooling1D(2)(x)
        x = L.Conv1D(8, 3, activation="relu")(x)
        x = L.Flatten()(x)
        o = L.Dense(3, activation="softmax")(x)
    elif arch == "dwsep":
        i = keras.Input((8, 8, 1))
        x = L.Conv2D(8, 3, padding="same", activation="relu")(i)
        x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = L.Conv2D(16, 1, activation="relu")(x)
        x = L.SeparableConv2D(16, 3, padding="same", activation="relu")(x)
        x = L.Flatten()(x)
        o = L.Dense(10, activation="softmax")(x)
    elif arch == "resnet":
        i = keras.Input((8, 8, 1))
        x = L.Conv2D(16, 3, padding="same")(i)
        x = L.BatchNormalization()(x)
        x = L.ReLU()(x)
        y = L.Conv2D(16, 3, padding="same")(x)
        y = L.BatchNormalization()(y)
        x = L.ReLU()(L.Add()([x, y]))
        x = L.MaxPooling2D()(x)
        x = L.Flatten()(x)
        o = L.Dense(10, activation="softmax")(x)
    elif arch == "gap":
        i = keras.Input((8, 8, 1))
        x = L.Conv2D(16, 3, padding="same", activation="relu")(i)
        x = L.Conv2D(32, 3, padding="same", activation="relu")(x)
        x = L.GlobalAveragePooling2D()(x)
        o = L.Dense(10, activation="softmax")(x)
    elif arch == "mlp":
        i = keras.Input((10,))
        x = L.Dense(32, activation="relu")(i)
        x = L.Dropout(0.1)(x)
        x = L.Dense(16, activation="relu")(x)
        o = L.Dense(3, activation="softmax")(x)
    elif arch == "rnn":
        i = keras.Input((32, 1))
        x = L.LSTM(12, return_sequences=True)(i)
        x = L.GRU(8)(x)
        o = L.Dense(3, activation="softmax")(x)
    elif arch == "rmsnorm":  # Keras 3 only
        i = keras.Input((8, 8, 1))
        x = L.Flatten()(i)
        x = L.Dense(32, activation="relu")(x)
        x = L.RMSNormalization()(x)
        o = L.Dense(10, activation="softmax")(x)
    else:
        raise ValueError(arch)
    return keras.Model(i, o, name=arch)


def waves(n: int = 600, length: int = 32, seed: int = 0):
    """Noisy sine / square / sawtooth signals (3 classes), shaped (n, length, 1)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length, dtype=np.float32)
    y = rng.integers(0, 3, n)
    freq = rng.uniform(1.5, 4.0, n)[:, None]
    phase = rng.uniform(0, 1, n)[:, None]
    arg = 2 * np.pi * (freq * t[None] + phase)
    x = np.where(y[:, None] == 0, np.sin(arg),
                 np.where(y[:, None] == 1, np.sign(np.sin(arg)),
                          2 * ((freq * t[None] + phase) % 1) - 1))
    x = x + rng.normal(0, 0.2, x.shape)
    return x[..., None].astype(np.float32), y.astype(np.int64)


def table(n: int = 600, seed: int = 0):
    """Three Gaussian blobs in 10 features; labels as species names (strings)."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=n, n_features=10, n_informative=6, n_classes=3,
                               random_state=seed, class_sep=1.5)
    names = np.array(["setosa", "versicolor", "virginica"])
    return x.astype(np.float32), names[y]


def train(model, keras, x, y, epochs: int = 8):
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model


def write_npz(path: Path, x_train, y_train, x_test, y_test) -> Path:
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def write_image_zip(path: Path, x, y) -> Path:
    """8-bit grayscale PNGs in one folder per class (``digits/<class>/<i>.png``)."""
    from PIL import Image

    with zipfile.ZipFile(path, "w") as zf:
        for i, (image, label) in enumerate(zip(x, y)):
            buffer = io.BytesIO()
            pixels = np.clip(np.round(image[..., 0] * 255), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(buffer, format="PNG")
            zf.writestr(f"digits/{int(label)}/{i:04d}.png", buffer.getvalue())
    return path


def write_csv(path: Path, x, labels) -> Path:
    import pandas as pd

    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
    frame["species"] = labels
    frame.to_csv(path, index=False)
    return path
