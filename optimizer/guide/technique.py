"""What one technique is, as data: the ``TechniqueInfo`` object every technique module builds.

A technique knows, in one place:

* its guide facts (title, family, data need, the guide's size / accuracy / hardware words);
* its file formats (``optimizer.guide.targets.Format``), from which the targets it runs on follow;
* for a conversion (float32 and the post-training quantizations): its ``ConverterOptions``
  (what ``TFLiteConverter`` is set to) and its ``QuantizerRecipe`` (the LiteRT Quantizer recipe
  used for an uploaded float ``.tflite``, or None when the quantizer cannot express it);
* for a retraining technique: its ``stages`` (prune, cluster, quantization-aware fine-tune, in
  ``STAGE_ORDER``), the conversions that may follow it, and the TFMOT scheme a preserving QAT uses;
* ``action``: the sentence that names what it does in recipes and reproduce scripts.

The engine applies these options (``engine.converter``, ``engine.quantizer``,
``engine.retraining``), the reproduce script writes them (``report.reproduce``) and the search
derives its candidates from them (``search.candidates``); none of them lists techniques again.
Pure Python: nothing here imports TensorFlow.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from optimizer.guide.ids import GUIDE, DataNeed, Family, TechniqueId
from optimizer.guide.targets import Format, targets_running


class StageKind(str, Enum):
    """A fine-tuning stage of a retraining pipeline; members are listed in pipeline order."""

    PRUNING = "pruning"
    CLUSTERING = "clustering"
    QAT = "qat"

    def __str__(self) -> str:
        return self.value


#: In a retraining technique's ``conversions``: every conversion the registry holds.
ANY_CONVERSION = "*"
#: The order stages run in whenever a pipeline has several (prune, then cluster, then QAT).
STAGE_ORDER = tuple(StageKind)
#: The ``--set`` key a stage's search knob varies (None: the stage has no knob).
STAGE_KNOBS = {StageKind.PRUNING: "pruning.sparsity", StageKind.CLUSTERING: "clustering.clusters",
               StageKind.QAT: None}


@dataclass(frozen=True)
class Stage:
    """One transform + fine-tune step; ``preserve`` says what an earlier stage made that this
    one keeps (clustering: "sparsity"; QAT: "sparsity", "clusters" or "sparsity+clusters")."""

    kind: StageKind
    preserve: str | None = None


@dataclass(frozen=True)
class ConverterOptions:
    """``TFLiteConverter`` settings of one conversion, spelled as the converter's API names.

    ``optimize``: ``optimizations = [DEFAULT]``; ``supported_types``: ``tf`` dtype names;
    ``supported_ops``: ``tf.lite.OpsSet`` names; ``calibrate``: a representative dataset is
    needed; ``integer_io``: int8 (or uint8) input and output; ``fallback_ops``: ops sets added
    when the converter rejects an op of ``supported_ops`` (int16x8 without a 16x8 kernel).
    """

    optimize: bool = False
    supported_types: tuple = ()
    supported_ops: tuple = ("TFLITE_BUILTINS",)
    calibrate: bool = False
    integer_io: bool = False
    fallback_ops: tuple = ()

    def for_quantization_aware(self) -> "ConverterOptions":
        """The options for a QAT model: its ranges were learned, so no calibration and no ops
        restriction (TF 2.21 demands a representative dataset with ``TFLITE_BUILTINS_INT8``
        even for QAT graphs; the output is identical, measured), only the I/O types."""
        return replace(self, optimize=True, supported_types=(), calibrate=False,
                       supported_ops=("TFLITE_BUILTINS",), fallback_ops=())


@dataclass(frozen=True)
class QuantizerRecipe:
    """The LiteRT Quantizer recipe for a conversion of an uploaded float ``.tflite``.

    ``recipe`` names a recipe function of ``litert_quantizer.recipe`` (e.g. ``static_wi8_ai8``);
    ``weight_only_bits`` casts weights only (float16: 16 bits) instead; ``float_io`` leaves the
    graph's input and output float (QUANTIZE/DEQUANTIZE inserted at the edges).
    """

    text: str
    recipe: str | None = None
    weight_only_bits: int | None = None
    float_io: bool = False


@dataclass(frozen=True)
class TechniqueInfo:
    """One technique: what the guide says about it and how the engine runs it.

    ``formats`` are the number formats its files can have; ``targets`` (derived from the target
    table) the targets such a file runs on; ``guide_hardware`` is the guide's own wording.
    ``size_factor`` is the guide's expected size relative to float32 on disk (None where the
    guide only promises better compression). A conversion has ``converter`` (and
    ``quantizer``); a retraining technique has ``stages``, ``conversions`` (what may follow it
    after ``+``; the first is the default) and, for preserving QAT, ``qat_scheme``.
    """

    id: TechniqueId
    title: str
    family: Family
    data: DataNeed
    retrains: bool
    guide_size: str
    guide_accuracy: str
    guide_hardware: str
    formats: tuple
    size_factor: float | None
    summary: str
    action: str
    source: str = GUIDE
    hardware_note: str = ""
    converter: ConverterOptions | None = None
    quantizer: QuantizerRecipe | None = None
    stages: tuple = ()
    conversions: tuple = ()
    qat_scheme: str | None = None

    def __post_init__(self):
        """A technique is either a conversion or a retraining pipeline, completely."""
        if self.retrains:
            if not self.stages or not self.conversions:
                raise ValueError(f"technique {self.id}: a retraining technique needs stages and "
                                 "the conversions that may follow it")
            kinds = [s.kind for s in self.stages]
            if kinds != sorted(kinds, key=STAGE_ORDER.index):
                raise ValueError(f"technique {self.id}: stages must follow STAGE_ORDER")
        elif self.converter is None or self.stages:
            raise ValueError(f"technique {self.id}: a conversion needs ConverterOptions and no "
                             "stages")

    @property
    def is_conversion(self) -> bool:
        """True for float32 and the post-training quantizations (no retraining)."""
        return not self.retrains

    @property
    def quantization_aware(self) -> bool:
        """True when the pipeline ends in quantization-aware training."""
        return any(s.kind == StageKind.QAT for s in self.stages)

    @property
    def targets(self) -> frozenset:
        """Targets that run a file this technique can produce (``guide.targets``)."""
        return targets_running(self.formats)

    @property
    def quantizes(self) -> bool:
        """True if the produced file has integer weights (the int8 techniques)."""
        return any(Format(f) not in (Format.FLOAT32, Format.FLOAT16) for f in self.formats)

    def to_dict(self) -> dict:
        """JSON-ready form used by ``python -m optimizer techniques --json``."""
        from optimizer.guide.ids import DATA_LABELS

        return {
            "id": self.id.value,
            "title": self.title,
            "family": self.family.value,
            "data": self.data.value,
            "data_label": DATA_LABELS[self.data],
            "retrains": self.retrains,
            "guide_size": self.guide_size,
            "guide_accuracy": self.guide_accuracy,
            "guide_hardware": self.guide_hardware,
            "targets": sorted(t.value for t in self.targets),
            "size_factor": self.size_factor,
            "summary": self.summary,
            "source": self.source,
            "hardware_note": self.hardware_note,
        }
