"""The guide's vocabulary: data needs, families, and how the guide is cited.

Stable strings used by the CLI, the app, recipes and results. The technique objects
(``optimizer.guide.techniques``) and the registry (``optimizer.guide.registry``, which also builds
``TechniqueId`` from the technique modules it finds) build on these.
"""
from __future__ import annotations

from enum import Enum

GUIDE = 'LiteRT "Model optimization" guide (ai.google.dev/edge/litert/models/model_optimization)'
GUIDE_PTQ = 'LiteRT "Post-training quantization" guide'
GUIDE_TFMOT = "TensorFlow Model Optimization Toolkit guides (collaborative optimization)"


class DataNeed(str, Enum):
    """What data a technique needs; ordered from least to most (see ``DATA_ORDER``)."""

    NONE = "none"
    REPRESENTATIVE = "unlabelled"
    LABELLED = "labelled"

    def __str__(self) -> str:
        return self.value


DATA_ORDER = {DataNeed.NONE: 0, DataNeed.REPRESENTATIVE: 1, DataNeed.LABELLED: 2}

DATA_LABELS = {
    DataNeed.NONE: "No data",
    DataNeed.REPRESENTATIVE: "Unlabelled representative sample",
    DataNeed.LABELLED: "Labelled training data",
}


class Family(str, Enum):
    """How a technique changes the model: a conversion only, or retraining first."""

    BASELINE = "baseline"
    POST_TRAINING = "post-training"
    TRAINING = "training"
    COLLABORATIVE = "collaborative"

    def __str__(self) -> str:
        return self.value
