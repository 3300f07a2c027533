"""The ``digits-outliers`` demo: a model that plain int8 breaks and selective quantization fixes.

A small dense network reads the 64 pixels of an 8x8 digit, but three of its inputs arrive in
raw units, ``RAW_SCALE`` (300) times larger than the other 61, as when one sensor reports raw
counts beside normalized features. The float model does not care: its first layer's weights for
those inputs are ``RAW_SCALE`` times smaller, so it computes exactly what a network trained on
plain [0, 1] pixels computes. Post-training int8 gives the whole input tensor one scale, set by
the raw features (about 300 / 255 per step), so the other 61 inputs lose nearly all their
resolution; dynamic range quantizes the same input row on the fly and loses it too. Keeping the
first layer in float (it reads the float input directly) repairs it at the cost of that layer's
float weights.

How the shipped weights are made (``python -m optimizer.models.demos.train --model digits-outliers``):
train the network on the pixels in plain units (``training_view``), then fold the unit change
into the first layer (``finish_training``: divide its weights for the raw inputs by
``RAW_SCALE``). Deterministic like every demo. NumPy only at import.
"""
from __future__ import annotations

import numpy as np

NAME = "digits-outliers"
#: The inputs (flattened 8x8 pixel indices, all in the digits' informative centre) in raw units.
RAW_FEATURES = (27, 28, 36)
RAW_SCALE = 300.0


def unit_scales(features: int = 64) -> np.ndarray:
    """Per-input factor from plain units to the model's input units (1, or ``RAW_SCALE``)."""
    scales = np.ones(features, dtype=np.float32)
    scales[list(RAW_FEATURES)] = RAW_SCALE
    return scales


def raw_inputs(images: np.ndarray) -> np.ndarray:
    """(n, 8, 8, 1) digit images in [0, 1] -> (n, 64) model inputs with the raw-unit features."""
    flat = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    return flat * unit_scales(flat.shape[1])


def training_view(name: str, x: np.ndarray) -> np.ndarray:
    """The inputs a demo is trained on: plain units for this demo, unchanged for the others."""
    return np.asarray(x) / unit_scales(np.asarray(x).shape[1]) if name == NAME else x


def finish_training(name: str, model) -> None:
    """Fold the unit change into the first layer of this demo's model, in place (a model
    trained on plain units then computes the same function on raw-unit inputs)."""
    if name != NAME:
        return
    first = next(layer for layer in model.layers if layer.get_weights())
    kernel, bias = first.get_weights()
    first.set_weights([kernel / unit_scales(kernel.shape[0])[:, None], bias])
