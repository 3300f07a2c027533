"""What one technique is, as data: the ``TechniqueInfo`` object every technique module builds.

A technique knows, in one place:

* its guide facts (title, family, data need, the guide's size / accuracy / hardware words);
* its file formats (``optimizer.guide.targets.Format``), from which the targets it runs on, its
  chart marker and the hardware sentences follow; its chart ``color``; its table ``order``;
* for a conversion (float32 and the post-training quantizations): its ``ConverterOptions``
  (what ``TFLiteConverter`` is set to) and/or its ``QuantizerRecipe`` (what the LiteRT Quantizer
  does to a float ``.tflite``). A technique with only a recipe is made by converting to float32
  first, then applying the recipe, for a Keras model too; ``search_after_training`` says whether
  the search tries it after a retraining technique;
* for a retraining technique: its ``stages`` (in ``STAGE_ORDER``; each kind's handler in
  ``guide.stage_handlers``), the conversions that may follow it, its ``size_class`` (what the
  search may assume about its file size) and an optional ``combination`` (``pruning+clustering``);
* ``action``: the sentence that names what it does in recipes and reproduce scripts;
* ``settings_group`` / ``settings_config``: a conversion's own settings group (``mixed``: its
  per-layer plan), read as ``settings.<group>`` and set with ``--set <group>.<field>=..``;
  ``per_layer`` marks a conversion whose settings are a per-layer plan the search proposes
  (it is not a plain candidate of the search's post-training batch).

The engine applies these options, the reproduce script writes them and the search derives its
candidates from them; none of them lists techniques again. Pure Python: no TensorFlow.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from optimizer.guide.conversion import ConverterOptions, QuantizerRecipe
from optimizer.guide.ids import GUIDE, DataNeed, Family
from optimizer.guide.stage import STAGE_ORDER, Preserve, QatScheme, Stage, StageKind
from optimizer.guide.stage_handlers import STAGES
from optimizer.guide.targets import Format, targets_running
from optimizer.text import N_

__all__ = ["ANY_CONVERSION", "STAGE_ORDER", "Combination", "ConverterOptions", "Preserve",
           "QatScheme", "QuantizerRecipe", "SizeClass", "Stage", "StageKind", "TechniqueInfo"]

#: In a retraining technique's ``conversions``: every conversion the registry holds.
ANY_CONVERSION = "*"


class SizeClass(str, Enum):
    """What a retraining technique's file size on disk is, relative to a measured file, which
    lets the search skip a trial that cannot be smaller than the best so far.

    Each member carries ``margin`` (how far below the measured size such a file was seen: the
    floor sits that fraction below it) and ``why`` (the sentence, with ``{what}`` and
    ``{conversion}`` filled in).
    """

    def __new__(cls, value: str, margin: float | None, why: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.margin = margin
        member.why = why
        return member

    #: Weights zeroed or shared, all kept on disk: the size of the same conversion of the float
    #: model (pruned and clustered files measured byte-for-byte that size).
    SAME_AS_CONVERSION = (
        "same-as-conversion", 0.005,
        N_("{what} keeps every weight on disk (zeros and shared values too), so the file is "
           "the size of {conversion} of the float model"))
    #: Quantization-aware training: the int8 layout of post-training int8 (measured +1.0%).
    INT8_LAYOUT = (
        "int8-layout", 0.02,
        N_("quantization-aware training produces the same int8 layout as post-training "
           "{conversion}"))
    #: Nothing known: the search never skips it for its size.
    UNBOUNDED = ("unbounded", None, "")

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Combination:
    """A retraining technique followed by another one's stage, typed as ``a+b``
    (``pruning+clustering``: sparsity-preserving clustering after pruning)."""

    then: str          # the second technique's id as typed ("clustering")
    stage: Stage       # the stage it adds
    color: str         # its chart colour


@dataclass(frozen=True)
class TechniqueInfo:
    """One technique: what the guide says about it and how the engine runs it.

    ``formats`` are the number formats its files can have (a conversion has exactly one);
    ``targets`` (derived from the target table) the targets such a file runs on;
    ``guide_hardware`` is the guide's own wording. ``size_factor`` is the guide's expected size
    relative to float32 on disk (None where the guide only promises better compression).
    ``order`` places it in tables (unique). A conversion has ``converter`` and/or
    ``quantizer``; a retraining technique has ``stages``, ``conversions`` (what may follow it
    after ``+``; the first is the default) and ``size_class``. ``outside_tree`` says why the
    guide's decision tree never picks it (for a technique with no leaf there).
    """

    id: str
    order: int
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
    color: str
    source: str = GUIDE
    hardware_note: str = ""
    outside_tree: str = ""
    converter: ConverterOptions | None = None
    quantizer: QuantizerRecipe | None = None
    search_after_training: bool = True
    stages: tuple = ()
    conversions: tuple = ()
    size_class: SizeClass | None = None
    combination: Combination | None = None
    settings_group: str = ""
    settings_config: type | None = None
    per_layer: bool = False

    def __post_init__(self):
        """A technique is either a conversion or a retraining pipeline, completely."""
        object.__setattr__(self, "formats", tuple(Format(f) for f in self.formats))
        if not self.formats:
            raise ValueError(f"technique {self.id}: give the formats its files have")
        if not str(self.color).startswith("#"):
            raise ValueError(f"technique {self.id}: color must be a '#rrggbb' chart colour")
        if self.retrains:
            if not self.stages or not self.conversions:
                raise ValueError(f"technique {self.id}: a retraining technique needs stages and "
                                 "the conversions that may follow it")
            kinds = [s.kind for s in self.stages]
            if kinds != sorted(kinds, key=STAGE_ORDER.index):
                raise ValueError(f"technique {self.id}: stages must follow STAGE_ORDER")
            if self.size_class is None:
                raise ValueError(f"technique {self.id}: a retraining technique needs its "
                                 "size_class (what the search may assume about its size)")
            if self.converter is not None or self.quantizer is not None:
                raise ValueError(f"technique {self.id}: a retraining technique converts with "
                                 "the conversion that follows it, not its own options")
            return
        if self.stages or self.conversions or self.combination:
            raise ValueError(f"technique {self.id}: a conversion has no stages or conversions")
        if self.converter is None and self.quantizer is None:
            raise ValueError(f"technique {self.id}: a conversion needs ConverterOptions or a "
                             "QuantizerRecipe")
        if len(self.formats) != 1:
            raise ValueError(f"technique {self.id}: a conversion produces exactly one format")
        if bool(self.settings_group) != (self.settings_config is not None):
            raise ValueError(f"technique {self.id}: give settings_group and settings_config "
                             "together (its own settings group and the config class)")
        if self.per_layer and (self.quantizer is None or not self.quantizer.per_layer):
            raise ValueError(f"technique {self.id}: a per-layer technique needs a per-layer "
                             "QuantizerRecipe")
        if self.converter is not None and self.quantizer is not None \
                and self.converter.calibrate != self.quantizer.calibrate:
            raise ValueError(f"technique {self.id}: its converter options and quantizer recipe "
                             "disagree on calibration")

    @property
    def is_conversion(self) -> bool:
        """True for float32 and the post-training quantizations (no retraining)."""
        return not self.retrains

    @property
    def is_baseline(self) -> bool:
        """True for the float32 baseline (its family says so)."""
        return self.family == Family.BASELINE

    @property
    def is_post_training(self) -> bool:
        """True for a post-training quantization: a conversion that is not the baseline."""
        return self.is_conversion and not self.is_baseline

    @property
    def quantizer_only(self) -> bool:
        """True when only the LiteRT Quantizer makes it (float32 first, then the recipe)."""
        return self.is_conversion and self.converter is None

    @property
    def calibrates(self) -> bool:
        """True when the conversion needs representative data (False for retraining rows)."""
        if self.converter is not None:
            return self.converter.calibrate
        return self.quantizer is not None and self.quantizer.calibrate

    @property
    def format(self) -> Format:
        """The one format of a conversion's file (``ValueError`` for a retraining row)."""
        if not self.is_conversion:
            raise ValueError(f"{self.id} is not a conversion; its file's format is its "
                             "conversion's")
        return self.formats[0]

    @property
    def marker(self) -> str:
        """The chart marker of a conversion's files (its format's)."""
        return self.format.marker

    @property
    def integer_only(self) -> bool:
        """True when its files are integer-only int8 (int8 ops, int8 input and output)."""
        return self.formats == (Format.INT8_ONLY,)

    @property
    def quantization_aware(self) -> bool:
        """True when a stage leaves the model quantization-aware (QAT; its handler says so)."""
        return any(STAGES[s.kind].quantization_aware for s in self.stages)

    @property
    def qat_scheme(self) -> QatScheme | None:
        """The TFMOT quantize scheme of its QAT stage (None without one)."""
        stage = next((s for s in self.stages if STAGES[s.kind].quantization_aware), None)
        return None if stage is None else stage.qat_scheme

    @property
    def targets(self) -> frozenset:
        """Targets that run a file this technique can produce (``guide.targets``)."""
        return targets_running(self.formats)

    @property
    def quantizes(self) -> bool:
        """True if the produced file has integer weights (the int8 techniques)."""
        return any(not f.is_float for f in self.formats)

    def to_dict(self) -> dict:
        """JSON-ready form used by ``python -m optimizer techniques --json``."""
        from optimizer.guide.ids import DATA_LABELS

        return {
            "id": str(self.id),
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
            "formats": [f.value for f in self.formats],
            "engine": ("retraining" if self.retrains else
                       "litert_quantizer" if self.quantizer_only else "converter"),
        }
