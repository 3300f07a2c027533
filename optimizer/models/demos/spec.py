"""``DemoSpec``: what one built-in demo is, where its weights live and how it is fine-tuned.

A spec is plain metadata (no TensorFlow): the app and the CLI list and describe demos without
paying for the TensorFlow import. ``build_model()`` and ``dataset()`` do the heavy work lazily.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from optimizer.guide.configs import FinetuneConfig
from optimizer.guide.technique import StageKind
from optimizer.paths import ASSETS

#: The retraining steps that have their own fine-tuning defaults.
FINETUNE_STEPS = tuple(kind.value for kind in StageKind)

DEMO_ASSETS = ASSETS / "demos"


@dataclass(frozen=True)
class TrainingRecipe:
    """How a demo's shipped weights were trained from scratch (``python -m optimizer.models.demos.train``)."""

    epochs: int
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 0
    schedule: str = "constant"  # or "cosine": decays the learning rate to 0 over the training

    def __post_init__(self):
        if int(self.epochs) < 1 or int(self.batch_size) < 1:
            raise ValueError("training epochs and batch_size must be positive")
        if not 0.0 < float(self.learning_rate) < 1.0:
            raise ValueError("training learning_rate must be between 0 and 1")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError("training schedule must be 'constant' or 'cosine'")


@dataclass(frozen=True)
class DemoSpec:
    """One built-in, fully offline demo: a small trained tf_keras model and its data splits.

    ``finetune`` is the default fine-tuning config of every retraining step; ``finetune_steps``
    overrides it per step kind (``(("pruning", FinetuneConfig(...)), ...)``, a tuple so the spec
    stays hashable). Weights and the training record live in ``assets/demos/``.
    """

    name: str
    title: str
    description: str
    input_description: str
    input_shape: tuple
    num_classes: int
    class_names: tuple
    training: TrainingRecipe
    task: str = "classification"
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    finetune_steps: tuple = ()

    def __post_init__(self):
        if len(self.class_names) != self.num_classes:
            raise ValueError(f"demo {self.name}: {len(self.class_names)} class names for "
                             f"{self.num_classes} classes; give one name per class")
        unknown = {step for step, _ in self.finetune_steps} - set(FINETUNE_STEPS)
        if unknown:
            raise ValueError(f"demo {self.name}: unknown fine-tuning step(s) {sorted(unknown)}; "
                             f"use {', '.join(FINETUNE_STEPS)}")

    @property
    def weights_path(self) -> Path:
        """The shipped tf_keras weights (``save_weights`` HDF5, no pickle)."""
        return DEMO_ASSETS / f"{self.name}.weights.h5"

    @property
    def record_path(self) -> Path:
        """The JSON training record written next to the weights."""
        return DEMO_ASSETS / f"{self.name}.json"

    def finetune_for(self, step: str) -> FinetuneConfig:
        """The fine-tuning defaults for a step kind ("pruning", "clustering", "qat").

        Any other step gets the demo's default (``self.finetune``).
        """
        return dict(self.finetune_steps).get(step, self.finetune)

    def build_model(self):
        """A fresh tf_keras model with the shipped weights loaded (imports TensorFlow).

        Each call returns a new, compiled model, so callers may transform or fine-tune it.
        Raises ``FileNotFoundError`` when the weights are missing (regenerate them with
        ``python -m optimizer.models.demos.train --model NAME``).
        """
        from optimizer.models.demos.builders import build_trained

        return build_trained(self)

    def dataset(self):
        """The demo's ``optimizer.models.dataset.Dataset``: a stratified 25% test split, the rest for
        training, and the first 200 training samples as representative data.

        Deterministic across calls and processes; arrays are cached per process and read-only.
        """
        from optimizer.models.demos.datasets import load_dataset

        return load_dataset(self.name)

    def training_record(self) -> dict | None:
        """The JSON record of how the shipped weights were trained, or ``None`` if absent."""
        if not self.record_path.exists():
            return None
        return json.loads(self.record_path.read_text())

    def to_dict(self) -> dict:
        """Plain, JSON-ready description (for ``models --json`` and the app's model card)."""
        return {
            "name": self.name, "title": self.title, "description": self.description,
            "task": self.task, "input_description": self.input_description,
            "input_shape": list(self.input_shape), "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "weights_path": str(self.weights_path), "record_path": str(self.record_path),
            "finetune": {step: asdict(self.finetune_for(step)) for step in FINETUNE_STEPS},
        }
