"""The technique registry: one row per technique, and the specs users type.

``TECHNIQUES`` is the single source for the CLI (``techniques --json``), the decision tree, the
engine's conversions and stages, the reproduce script, the search's candidates, the app's
tables and the tests. Each row is a technique object defined in its own module under
``optimizer.guide.techniques`` (guide facts kept verbatim in ``guide_*`` fields, cited with
``GUIDE``; nothing here is a measurement). The registry checks at import that every
``TechniqueId`` has exactly one complete technique, so a forgotten piece fails loudly.

A *technique spec* is what users type: a technique id optionally followed by a post-training
quantization, e.g. ``pruning+dynamic_range``, ``clustering+integer``, ``qat+integer_only``, or
``pruning+clustering`` (sparsity-preserving clustering). ``parse_spec`` turns it into a
validated ``TechniqueSpec``.
"""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.guide.ids import (
    DATA_LABELS,
    DATA_ORDER,
    GUIDE,
    GUIDE_PTQ,
    GUIDE_TFMOT,
    DataNeed,
    Family,
    TechniqueId,
)
from optimizer.guide.technique import (
    ANY_CONVERSION,
    STAGE_ORDER,
    Stage,
    StageKind,
    TechniqueInfo,
)
from optimizer.guide.techniques import (
    clustering,
    cqat,
    dynamic_range,
    float16,
    float32,
    int16x8,
    integer,
    integer_only,
    pcqat,
    pqat,
    pruning,
    qat,
)

__all__ = [
    "DATA_LABELS", "DATA_ORDER", "GUIDE", "GUIDE_PTQ", "GUIDE_TFMOT", "DataNeed", "Family",
    "TechniqueId", "TechniqueInfo", "TECHNIQUES", "POST_TRAINING", "QAT_FAMILY",
    "FLOAT_TRAINING", "TechniqueSpec", "parse_spec", "technique", "retraining_bases",
    "conversions_after",
]

#: One row per technique, in the order tables list them.
TECHNIQUES: dict[TechniqueId, TechniqueInfo] = {row.id: row for row in (
    float32.TECHNIQUE,
    float16.TECHNIQUE,
    dynamic_range.TECHNIQUE,
    integer.TECHNIQUE,
    integer_only.TECHNIQUE,
    int16x8.TECHNIQUE,
    qat.TECHNIQUE,
    pruning.TECHNIQUE,
    clustering.TECHNIQUE,
    pqat.TECHNIQUE,
    cqat.TECHNIQUE,
    pcqat.TECHNIQUE,
)}


def _check_registry() -> None:
    """Every id has a row; every conversion a retraining technique names is a conversion."""
    missing = [t.value for t in TechniqueId if t not in TECHNIQUES]
    if missing:
        raise ImportError(f"no technique module registered for: {', '.join(missing)}; add its "
                          "row to optimizer/guide/registry.py")
    for row in TECHNIQUES.values():
        for conversion in row.conversions:
            if conversion != ANY_CONVERSION and TECHNIQUES[conversion].retrains:
                raise ImportError(f"{row.id}: '{conversion}' cannot follow it: not a conversion")


_check_registry()

def conversions_after(tid: TechniqueId) -> tuple:
    """The conversions that may follow a retraining technique after ``+``, its default first
    (``ANY_CONVERSION`` expands to every conversion of the registry, in table order)."""
    out = []
    for item in TECHNIQUES[TechniqueId(tid)].conversions:
        if item == ANY_CONVERSION:
            out += [t for t, row in TECHNIQUES.items() if row.is_conversion]
        else:
            out.append(TechniqueId(item))
    return tuple(dict.fromkeys(out))


#: The plain post-training quantizations (every conversion but the float32 baseline).
POST_TRAINING = tuple(t for t, row in TECHNIQUES.items()
                      if row.is_conversion and t != TechniqueId.FLOAT32)
#: Retraining techniques that end in quantization-aware training.
QAT_FAMILY = tuple(t for t, row in TECHNIQUES.items() if row.quantization_aware)
#: Retraining techniques that leave a float model (a conversion may follow).
FLOAT_TRAINING = tuple(t for t, row in TECHNIQUES.items()
                       if row.retrains and not row.quantization_aware)


@dataclass(frozen=True)
class TechniqueSpec:
    """A parsed technique spec: the retraining steps, then exactly one conversion.

    ``base`` is the technique that names the spec (e.g. PRUNING for ``pruning+integer``);
    ``preserve_sparsity_clustering`` is set for ``pruning+clustering``; ``conversion`` is the
    post-training quantization applied at the end (the base's default when no ``+`` follows:
    FLOAT32 after pruning/clustering, INTEGER after the QAT family).
    """

    text: str
    base: TechniqueId
    conversion: TechniqueId
    preserve_sparsity_clustering: bool = False

    @property
    def technique(self) -> TechniqueInfo:
        """The base technique's row."""
        return TECHNIQUES[self.base]

    @property
    def retrains(self) -> bool:
        """True if any step fine-tunes the model (needs labelled data)."""
        return self.technique.retrains

    @property
    def quantization_aware(self) -> bool:
        """True when the pipeline ends in quantization-aware training."""
        return self.technique.quantization_aware

    @property
    def stages(self) -> tuple:
        """The fine-tuning stages in ``STAGE_ORDER``: the base technique's, plus the
        sparsity-preserving clustering of ``pruning+clustering``."""
        stages = self.technique.stages
        if self.preserve_sparsity_clustering:
            stages = stages + (Stage(StageKind.CLUSTERING, "sparsity"),)
        return tuple(sorted(stages, key=lambda s: STAGE_ORDER.index(s.kind)))

    @property
    def conversion_options(self):
        """The converter options of the final conversion (as a QAT model needs them)."""
        options = TECHNIQUES[self.conversion].converter
        return options.for_quantization_aware() if self.quantization_aware else options

    @property
    def calibrates(self) -> bool:
        """True when the final conversion needs representative data (never after QAT)."""
        return self.conversion_options.calibrate

    @property
    def data(self) -> DataNeed:
        """The most demanding data need of any step."""
        needs = [self.technique.data]
        if not self.quantization_aware:
            needs.append(TECHNIQUES[self.conversion].data)
        return max(needs, key=DATA_ORDER.__getitem__)

    @property
    def targets(self) -> frozenset:
        """Targets the produced file can run on: the final conversion decides its format
        (pruning and clustering leave a float model; the QAT family's I/O types decide)."""
        return TECHNIQUES[self.conversion].targets

    @property
    def is_post_training(self) -> bool:
        """True for the baseline and the five plain post-training variants."""
        return not self.retrains

    def __str__(self) -> str:
        return self.text


def parse_spec(text: str) -> TechniqueSpec:
    """Parse ``id[+id...]`` into a ``TechniqueSpec``; raise ``ValueError`` naming the fix.

    Accepted forms: a conversion alone (``float16``); a retraining technique followed by one of
    the conversions its row allows (``pruning+dynamic_range``, ``qat+integer_only``); and
    ``pruning+clustering[+<conversion>]`` (sparsity-preserving clustering).
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
    row = TECHNIQUES[base]
    if len(rest) > 1:
        raise ValueError(f"'{raw}' chains too many steps; a spec is a technique and at most one "
                         f"post-training quantization, e.g. clustering+integer")
    if row.is_conversion:
        if rest:
            raise ValueError(f"'{raw}': {base.value} is already a conversion; put a retraining "
                             f"technique first (e.g. pruning+{rest[0].value})")
        return TechniqueSpec(text=base.value, base=base, conversion=base)
    allowed = conversions_after(base)
    conversion = rest[0] if rest else allowed[0]
    if conversion not in allowed:
        if row.quantization_aware:
            raise ValueError(f"'{raw}': {base.value} converts to int8; only +integer (float I/O) "
                             f"or +integer_only (int8 I/O) may follow it")
        raise ValueError(f"'{raw}': after {base.value} only a post-training quantization may "
                         f"follow ({', '.join(t.value for t in POST_TRAINING)}); for QAT on "
                         f"a pruned or clustered model use pqat, cqat or pcqat")
    canonical = base.value + ("+clustering" if preserve else "")
    if conversion != allowed[0]:
        canonical += "+" + conversion.value
    return TechniqueSpec(text=canonical, base=base, conversion=conversion,
                         preserve_sparsity_clustering=preserve)


def retraining_bases() -> tuple[str, ...]:
    """Every retraining pipeline a spec can name before its ``+conversion``: the float
    retraining techniques, their sparsity-preserving combination ``pruning+clustering``, then
    the quantization-aware ones (table order within each)."""
    return (*(t.value for t in FLOAT_TRAINING), parse_spec("pruning+clustering").text,
            *(t.value for t in QAT_FAMILY))


def technique(tid: TechniqueId | str) -> TechniqueInfo:
    """Return the registry row for a technique id (string or enum)."""
    return TECHNIQUES[TechniqueId(tid)]
