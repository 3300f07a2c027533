"""The technique registry: every optimization technique with what the guide says about it.

This table is the single source for the CLI (`techniques --json`), the decision tree, the
app's tables and the tests. Facts quoted from the LiteRT "Model optimization" guide are kept
verbatim in ``guide_*`` fields and cited with ``GUIDE``; nothing here is a measurement.

A *technique spec* is what users type: a technique id optionally followed by a post-training
quantization, e.g. ``pruning+dynamic_range``, ``clustering+integer``, ``qat+integer_only``, or
``pruning+clustering`` (sparsity-preserving clustering). ``parse_spec`` turns it into a
validated ``TechniqueSpec``.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from optimizer.guide.targets import Format, targets_running

GUIDE = 'LiteRT "Model optimization" guide (ai.google.dev/edge/litert/models/model_optimization)'
GUIDE_PTQ = 'LiteRT "Post-training quantization" guide'
GUIDE_TFMOT = "TensorFlow Model Optimization Toolkit guides (collaborative optimization)"


class TechniqueId(str, Enum):
    """Stable technique ids: the CLI, the app, recipes and results use exactly these strings."""

    FLOAT32 = "float32"
    FLOAT16 = "float16"
    DYNAMIC_RANGE = "dynamic_range"
    INTEGER = "integer"
    INTEGER_ONLY = "integer_only"
    INT16X8 = "int16x8"
    QAT = "qat"
    PRUNING = "pruning"
    CLUSTERING = "clustering"
    PQAT = "pqat"
    CQAT = "cqat"
    PCQAT = "pcqat"

    def __str__(self) -> str:
        return self.value


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


F = Format


@dataclass(frozen=True)
class TechniqueInfo:
    """What the guide says about one technique, plus how the engine runs it.

    ``formats`` are the number formats the technique's files can have (its conversions);
    ``targets`` (derived from the target table) the targets such a file runs on; ``guide_hardware`` is the
    guide's own wording. ``size_factor`` is the guide's expected size relative to float32 on
    disk (``None`` where the guide only promises better compression).
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
    source: str = GUIDE
    hardware_note: str = ""

    @property
    def targets(self) -> frozenset:
        """Targets that run a file this technique can produce (``guide.targets``)."""
        return targets_running(self.formats)

    @property
    def quantizes(self) -> bool:
        """True if the produced file has integer weights (the int8 techniques)."""
        return self.id not in {
            TechniqueId.FLOAT32, TechniqueId.FLOAT16, TechniqueId.PRUNING, TechniqueId.CLUSTERING
        }

    def to_dict(self) -> dict:
        """JSON-ready form used by ``python -m optimizer techniques --json``."""
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


def _t(**kw) -> TechniqueInfo:
    return TechniqueInfo(**kw)


TECHNIQUES: dict[TechniqueId, TechniqueInfo] = {
    info.id: info
    for info in [
        _t(id=TechniqueId.FLOAT32, title="Float32 TFLite (baseline)", family=Family.BASELINE,
           data=DataNeed.NONE, retrains=False, guide_size="None (baseline)",
           guide_accuracy="Baseline", guide_hardware="CPU, GPU", formats=(F.FLOAT32,),
           size_factor=1.0,
           summary="Plain float conversion. The guide converts to float first: it checks every "
                   "op is supported and is the baseline every variant is compared with.",
           hardware_note="Edge TPUs and microcontrollers need integer-only models."),
        _t(id=TechniqueId.FLOAT16, title="Post-training float16 quantization",
           family=Family.POST_TRAINING, data=DataNeed.NONE, retrains=False,
           guide_size="Up to 50%", guide_accuracy="Insignificant accuracy loss",
           guide_hardware="CPU, GPU", formats=(F.FLOAT16,), size_factor=0.5,
           summary="Weights stored as float16; the model still computes in float32 on CPU and "
                   "in float16 on GPU delegates.",
           hardware_note="The GPU-friendly choice; not for Edge TPU or microcontrollers."),
        _t(id=TechniqueId.DYNAMIC_RANGE, title="Post-training dynamic range quantization",
           family=Family.POST_TRAINING, data=DataNeed.NONE, retrains=False,
           guide_size="Up to 75%", guide_accuracy="Smallest accuracy loss",
           guide_hardware="CPU, GPU (Android)", formats=(F.DYNAMIC_RANGE,),
           size_factor=0.25,
           summary="Weights stored as int8; activations are quantized on the fly by dynamic-range "
                   "kernels, so no data is needed.",
           hardware_note="Mixed float/integer execution: not for Edge TPU or microcontrollers."),
        _t(id=TechniqueId.INTEGER, title="Post-training integer quantization (float fallback)",
           family=Family.POST_TRAINING, data=DataNeed.REPRESENTATIVE, retrains=False,
           guide_size="Up to 75%", guide_accuracy="Small accuracy loss",
           guide_hardware="CPU, GPU (Android), EdgeTPU", formats=(F.INT8_FLOAT_IO,),
           size_factor=0.25,
           summary="Weights and activations int8 where possible, float32 otherwise; input and "
                   "output stay float. Calibrated on 100-500 representative samples.",
           hardware_note="Float input/output and float fallback ops are not Edge TPU compatible; "
                         "use integer_only there.",
           source=GUIDE_PTQ),
        _t(id=TechniqueId.INTEGER_ONLY, title="Post-training integer quantization (integer only)",
           family=Family.POST_TRAINING, data=DataNeed.REPRESENTATIVE, retrains=False,
           guide_size="Up to 75%", guide_accuracy="Small accuracy loss",
           guide_hardware="CPU, GPU (Android), EdgeTPU", formats=(F.INT8_ONLY,), size_factor=0.25,
           summary="Every op int8 with int8 input and output, as Edge TPUs and microcontrollers "
                   "require; conversion fails on an op that cannot be quantized.",
           source=GUIDE_PTQ),
        _t(id=TechniqueId.INT16X8, title="Post-training integer quantization with int16 activations",
           family=Family.POST_TRAINING, data=DataNeed.REPRESENTATIVE, retrains=False,
           guide_size="Up to 75% (weights int8)",
           guide_accuracy="Can be more accurate than int8 activations",
           guide_hardware="CPU (reference kernels)", formats=(F.INT16X8,),
           size_factor=0.3,
           summary="int16 activations with int8 weights: more accurate when activations are "
                   "sensitive to quantization.",
           hardware_note="Only unoptimized reference kernels exist, so it is slower than int8; "
                         "hardware delegates do not run it."),
        _t(id=TechniqueId.QAT, title="Quantization-aware training", family=Family.TRAINING,
           data=DataNeed.LABELLED, retrains=True, guide_size="Up to 75%",
           guide_accuracy="Smallest accuracy loss",
           guide_hardware="CPU, GPU (Android), EdgeTPU", formats=(F.INT8_FLOAT_IO, F.INT8_ONLY),
           size_factor=0.25,
           summary="Fine-tunes with quantization simulated in the forward pass, then converts to "
                   "int8; recovers accuracy that post-training quantization loses.",
           hardware_note="Edge TPU and microcontrollers need the integer-only conversion "
                         "(qat+integer_only)."),
        _t(id=TechniqueId.PRUNING, title="Magnitude pruning", family=Family.TRAINING,
           data=DataNeed.LABELLED, retrains=True,
           guide_size="Same size on disk; up to 6x smaller compressed (TFMOT)",
           guide_accuracy="Minimal loss of accuracy (TFMOT)", guide_hardware="As the float model",
           formats=(F.FLOAT32,), size_factor=None,
           summary="Zeroes the lowest-magnitude weights while fine-tuning. Same size and latency "
                   "on disk; pays off in download (compressed) size. Follow with a "
                   "post-training quantization for both effects.",
           source=GUIDE_TFMOT),
        _t(id=TechniqueId.CLUSTERING, title="Weight clustering", family=Family.TRAINING,
           data=DataNeed.LABELLED, retrains=True,
           guide_size="Same size on disk; up to 5x smaller compressed (TFMOT)",
           guide_accuracy="Minimal loss of accuracy (TFMOT)", guide_hardware="As the float model",
           formats=(F.FLOAT32,), size_factor=None,
           summary="Shares a few centroid values among each layer's weights while fine-tuning; "
                   "compresses better, like pruning.",
           source=GUIDE_TFMOT),
        _t(id=TechniqueId.PQAT, title="Pruning-preserving quantization-aware training (PQAT)",
           family=Family.COLLABORATIVE, data=DataNeed.LABELLED, retrains=True,
           guide_size="Up to 75%, plus sparsity for compression",
           guide_accuracy="Close to QAT (TFMOT)", guide_hardware="CPU, GPU (Android), EdgeTPU",
           formats=(F.INT8_FLOAT_IO, F.INT8_ONLY), size_factor=0.25,
           summary="Prune, then QAT that keeps the zeros: an int8 model that also compresses.",
           source=GUIDE_TFMOT),
        _t(id=TechniqueId.CQAT, title="Cluster-preserving quantization-aware training (CQAT)",
           family=Family.COLLABORATIVE, data=DataNeed.LABELLED, retrains=True,
           guide_size="Up to 75%, plus clustering for compression",
           guide_accuracy="Close to QAT (TFMOT)", guide_hardware="CPU, GPU (Android), EdgeTPU",
           formats=(F.INT8_FLOAT_IO, F.INT8_ONLY), size_factor=0.25,
           summary="Cluster, then QAT that keeps the clusters.", source=GUIDE_TFMOT),
        _t(id=TechniqueId.PCQAT,
           title="Sparsity- and cluster-preserving quantization-aware training (PCQAT)",
           family=Family.COLLABORATIVE, data=DataNeed.LABELLED, retrains=True,
           guide_size="Up to 75%, plus sparsity and clustering for compression",
           guide_accuracy="Close to QAT (TFMOT)", guide_hardware="CPU, GPU (Android), EdgeTPU",
           formats=(F.INT8_FLOAT_IO, F.INT8_ONLY), size_factor=0.25,
           summary="Prune, sparsity-preserving clustering, then QAT that keeps both.",
           source=GUIDE_TFMOT),
    ]
}

POST_TRAINING = (
    TechniqueId.FLOAT16, TechniqueId.DYNAMIC_RANGE, TechniqueId.INTEGER,
    TechniqueId.INTEGER_ONLY, TechniqueId.INT16X8,
)
QAT_FAMILY = (TechniqueId.QAT, TechniqueId.PQAT, TechniqueId.CQAT, TechniqueId.PCQAT)
FLOAT_TRAINING = (TechniqueId.PRUNING, TechniqueId.CLUSTERING)


@dataclass(frozen=True)
class TechniqueSpec:
    """A parsed technique spec: the retraining steps, then exactly one conversion.

    ``base`` is the technique that names the spec (e.g. PRUNING for ``pruning+integer``);
    ``preserve_sparsity_clustering`` is set for ``pruning+clustering``; ``conversion`` is the
    post-training quantization applied at the end (FLOAT32 for plain pruning/clustering,
    INTEGER for the QAT family unless ``+integer_only`` is given).
    """

    text: str
    base: TechniqueId
    conversion: TechniqueId
    preserve_sparsity_clustering: bool = False

    @property
    def retrains(self) -> bool:
        """True if any step fine-tunes the model (needs labelled data)."""
        return TECHNIQUES[self.base].retrains

    @property
    def data(self) -> DataNeed:
        """The most demanding data need of any step."""
        needs = [TECHNIQUES[self.base].data]
        if self.base not in QAT_FAMILY:
            needs.append(TECHNIQUES[self.conversion].data)
        return max(needs, key=DATA_ORDER.__getitem__)

    @property
    def targets(self) -> frozenset:
        """Targets the produced file can run on. Pruning and clustering leave a float model,
        so the final conversion alone decides; the QAT family decides by its I/O types."""
        return _format_targets(self)

    @property
    def is_post_training(self) -> bool:
        """True for the baseline and the five plain post-training variants."""
        return not self.retrains

    def __str__(self) -> str:
        return self.text


def _format_targets(spec: TechniqueSpec) -> frozenset:
    # The final conversion decides the file's format, after any retraining.
    return TECHNIQUES[spec.conversion].targets


def parse_spec(text: str) -> TechniqueSpec:
    """Parse ``id[+id...]`` into a ``TechniqueSpec``; raise ``ValueError`` naming the fix.

    Accepted forms: ``<ptq>``; ``pruning|clustering[+<ptq>]``; ``pruning+clustering[+<ptq>]``;
    ``qat|pqat|cqat|pcqat[+integer|+integer_only]``.
    """
    raw = (text or "").strip()
    parts = [p.strip() for p in raw.split("+")]
    valid = ", ".join(t.value for t in TechniqueId)
    ids = []
    for part in parts:
        try:
            ids.append(TechniqueId(part))
        except ValueError:
            raise ValueError(
                f"unknown technique '{part}' in '{raw}'; use one of: {valid}, optionally "
                f"followed by +<post-training id> (e.g. pruning+dynamic_range)"
            ) from None
    preserve = False
    if ids[:2] == [TechniqueId.PRUNING, TechniqueId.CLUSTERING]:
        preserve = True
        ids = [TechniqueId.PRUNING] + ids[2:]
    base, rest = ids[0], ids[1:]
    if len(rest) > 1:
        raise ValueError(f"'{raw}' chains too many steps; a spec is a technique and at most one "
                         f"post-training quantization, e.g. clustering+integer")
    if base in POST_TRAINING or base == TechniqueId.FLOAT32:
        if rest:
            raise ValueError(f"'{raw}': {base.value} is already a conversion; put a retraining "
                             f"technique first (e.g. pruning+{rest[0].value})")
        return TechniqueSpec(text=base.value, base=base, conversion=base)
    conversion = rest[0] if rest else None
    if base in QAT_FAMILY:
        allowed = (TechniqueId.INTEGER, TechniqueId.INTEGER_ONLY)
        if conversion is not None and conversion not in allowed:
            raise ValueError(f"'{raw}': {base.value} converts to int8; only +integer (float I/O) "
                             f"or +integer_only (int8 I/O) may follow it")
        conversion = conversion or TechniqueId.INTEGER
    else:
        if conversion is not None and conversion not in POST_TRAINING + (TechniqueId.FLOAT32,):
            raise ValueError(f"'{raw}': after {base.value} only a post-training quantization may "
                             f"follow ({', '.join(t.value for t in POST_TRAINING)}); for QAT on "
                             f"a pruned or clustered model use pqat, cqat or pcqat")
        conversion = conversion or TechniqueId.FLOAT32
    canonical = base.value + ("+clustering" if preserve else "")
    default_conv = TechniqueId.INTEGER if base in QAT_FAMILY else TechniqueId.FLOAT32
    if conversion != default_conv:
        canonical += "+" + conversion.value
    return TechniqueSpec(text=canonical, base=base, conversion=conversion,
                         preserve_sparsity_clustering=preserve)


def technique(tid: TechniqueId | str) -> TechniqueInfo:
    """Return the registry row for a technique id (string or enum)."""
    return TECHNIQUES[TechniqueId(tid)]
