"""The ``digits-outliers`` demo: a model that plain int8 breaks through one layer's activation
range, and that int16 on that layer (or keeping it in float) repairs.

A small dense network reads the 64 pixels of an 8x8 digit, but three of its inputs arrive in
raw units, ``RAW_SCALE`` (300) times larger than the other 61, as when one sensor reports raw
counts beside normalized features. The model normalizes them itself: its first layer
(``normalize``, a Keras ``Normalization`` with fixed statistics) divides each input by its unit
(1, or 300), and the dense layers read plain [0, 1] pixels. The float model does not care.
Post-training int8 gives the whole input tensor of that first layer one scale, set by the raw
features (about 300 / 255 per step), so the other 61 inputs lose nearly all their resolution:
an activation-range problem of one layer (the dense layers' weights are ordinary). int16
activations on that layer keep 128 times finer steps and repair it; so does keeping it in float
where the target allows float ops (the selective-quantization demo of the search).

How the shipped weights are made (``python -m optimizer.models.demos.train --model
digits-outliers``): the network, normalization included, is trained on the raw-unit inputs like
every demo. Deterministic like every demo. NumPy only at import.
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
