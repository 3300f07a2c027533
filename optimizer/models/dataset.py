"""The data a run uses: train / representative / test splits, and what kind of data it is.

A ``Dataset`` is plain NumPy (no TensorFlow), so the app and the CLI can describe it cheaply.
What the user has decides the decision tree's "what data do you have" answer (``kind``):
labelled training data, only unlabelled representative samples, or nothing at all.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.guide.registry import DataNeed
from optimizer.inputs import Inputs, as_float32, to_npz

#: The guide's advice for the size of a representative (calibration) dataset.
REPRESENTATIVE_MIN, REPRESENTATIVE_MAX = 100, 500


@dataclass(frozen=True, eq=False)
class Dataset:
    """Splits for one model. Arrays are float32 inputs and integer class labels.

    The ``x_*`` splits are arrays, or ``optimizer.inputs.Inputs`` (named arrays) for a model
    with several inputs.

    ``x_rep`` holds representative samples for calibration (taken from the training split
    when there is one). Without labels ``y_test`` is ``None`` and results report agreement
    with the float baseline's predictions instead of accuracy. ``task`` is "classification"
    or "regression" (regression results report the error against the baseline's outputs).
    """

    name: str
    x_test: np.ndarray | Inputs
    y_test: np.ndarray | None = None
    x_train: np.ndarray | Inputs | None = None
    y_train: np.ndarray | None = None
    x_rep: np.ndarray | Inputs | None = None
    task: str = "classification"
    num_classes: int | None = None
    class_names: tuple = ()

    @property
    def kind(self) -> DataNeed:
        """What data the user has, in the decision tree's terms."""
        if self.x_train is not None and self.y_train is not None:
            return DataNeed.LABELLED
        if self.x_rep is not None and len(self.x_rep):
            return DataNeed.REPRESENTATIVE
        return DataNeed.NONE

    @property
    def labelled(self) -> bool:
        """True when the test split has labels, so accuracy can be measured."""
        return self.y_test is not None

    @property
    def input_names(self) -> tuple:
        """The names of the inputs for a model with several, else ()."""
        return self.x_test.names if isinstance(self.x_test, Inputs) else ()

    def representative(self, n: int = 200):
        """The first ``n`` representative samples (deterministic, float32)."""
        source = self.x_rep if self.x_rep is not None else self.x_train
        if source is None:
            raise ValueError("no representative samples: upload 100-500 unlabelled inputs "
                             "(an .npz with an 'x' array) to use integer quantization")
        return as_float32(source[:n])

    def sizes(self) -> dict:
        """Sample counts per split, for display."""
        def count(a):
            return 0 if a is None else int(len(a))
        return {"train": count(self.x_train), "representative": count(self.x_rep),
                "test": count(self.x_test)}

    def save_npz(self, path) -> None:
        """Write the splits as an ``.npz`` the CLI's ``--data`` accepts (no pickled objects)."""
        np.savez_compressed(path, **self.arrays())

    def arrays(self) -> dict:
        """The splits as ``.npz`` entries (several inputs as ``x_test.<input name>``...)."""
        arrays = {}
        for key in ("x_test", "y_test", "x_train", "y_train", "x_rep"):
            value = getattr(self, key)
            if value is not None:
                arrays.update(to_npz(key, value) if key.startswith("x") else {key: value})
        return arrays
