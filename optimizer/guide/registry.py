"""The technique registry: one row per technique, found in ``guide/techniques/``, and the specs.

``TECHNIQUES`` is the single source for the CLI (``techniques --json``), the decision tree, the
engine's conversions and stages, the reproduce script, the search's candidates, the app's
tables and the tests. Each row is a technique object defined in its own module under
``optimizer.guide.techniques``; this module finds those modules itself (``pkgutil``), so adding
a technique is one new file. ``TechniqueId`` (a ``str`` enum: ``TechniqueId.FLOAT16 ==
"float16"``) is built from the ids found, in each row's ``order``. At import every row is
checked complete: a module named after its id, a unique order, conversions that exist, stages
with a handler, targets whose int8 form is a conversion they run; a forgotten piece fails
loudly (guide facts are kept verbatim in ``guide_*`` fields, cited with ``GUIDE``; nothing here
is a measurement).

A *technique spec* is what users type: a technique id optionally followed by a post-training
quantization, e.g. ``pruning+dynamic_range``, ``clustering+integer``, ``qat+integer_only``, or
a row's ``combination`` (``pruning+clustering``: sparsity-preserving clustering).
``parse_spec`` turns it into a validated ``TechniqueSpec``.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, replace
from enum import Enum

import optimizer.guide.techniques as technique_modules
from optimizer.guide.ids import (
    DATA_LABELS,
    DATA_ORDER,
    GUIDE,
    GUIDE_PTQ,
    GUIDE_TFMOT,
    DataNeed,
    Family,
)
from optimizer.guide.stage_handlers import STAGES
from optimizer.guide.targets import TARGETS, Target
from optimizer.guide.technique import (
    ANY_CONVERSION,
    STAGE_ORDER,
    TechniqueInfo,
)

__all__ = [
    "DATA_LABELS", "DATA_ORDER", "GUIDE", "GUIDE_PTQ", "GUIDE_TFMOT", "DataNeed", "Family",
    "BASELINE", "TechniqueId", "TechniqueInfo", "TECHNIQUES", "POST_TRAINING", "QAT_FAMILY",
    "FLOAT_TRAINING", "TechniqueSpec", "parse_spec", "technique", "retraining_bases",
    "conversions_after", "all_specs", "int8_conversion",
]


class TechniqueIdBase(str, Enum):
    """The base of ``TechniqueId``: a string enum printed as its value."""

    def __str__(self) -> str:
        return self.value


def _discover() -> list[TechniqueInfo]:
    """Every ``TECHNIQUE`` of ``optimizer.guide.techniques``, in ``order``."""
    rows, shared = [], set(getattr(technique_modules, "SHARED_MODULES", ()))
    for info in pkgutil.iter_modules(technique_modules.__path__):
        module = importlib.import_module(f"{technique_modules.__name__}.{info.name}")
        row = getattr(module, "TECHNIQUE", None)
        if row is None:
            if info.name in shared:
                continue
            raise ImportError(f"optimizer/guide/techniques/{info.name}.py defines no TECHNIQUE; "
                              "define TECHNIQUE = TechniqueInfo(...) or list it in "
                              "SHARED_MODULES")
        if not isinstance(row, TechniqueInfo) or str(row.id) != info.name:
            raise ImportError(f"optimizer/guide/techniques/{info.name}.py: TECHNIQUE must be a "
                              f"TechniqueInfo whose id is the module's name '{info.name}'")
        if not info.name.isidentifier() or not info.name.islower():
            raise ImportError(f"technique id '{info.name}' must be a lower-case identifier")
        rows.append(row)
    orders = [row.order for row in rows]
    clashes = sorted({str(r.id) for r in rows if orders.count(r.order) > 1})
    if clashes:
        raise ImportError(f"techniques {', '.join(clashes)} share an order; give each a unique "
                          "order (its place in tables)")
    return sorted(rows, key=lambda row: row.order)


_ROWS = _discover()
#: Stable technique ids: the CLI, the app, recipes and results use exactly these strings.
TechniqueId = TechniqueIdBase("TechniqueId", [(str(r.id).upper(), str(r.id)) for r in _ROWS],
                              module=__name__, qualname="TechniqueId")
#: One row per technique, in the order tables list them.
TECHNIQUES: dict = {TechniqueId(str(row.id)): replace(row, id=TechniqueId(str(row.id)))
                    for row in _ROWS}
#: The baseline every result is compared with: the one row whose family says so.
BASELINE: str = next(str(row.id) for row in _ROWS if row.is_baseline)


def _check_registry() -> None:
    """Conversions that exist, stages with handlers, combinations and targets' int8 forms."""
    for row in TECHNIQUES.values():
        for conversion in row.conversions:
            if conversion != ANY_CONVERSION and (conversion not in TECHNIQUES
                                                 or TECHNIQUES[conversion].retrains):
                raise ImportError(f"{row.id}: '{conversion}' cannot follow it: not a conversion")
        for stage in row.stages:
            handler = STAGES[stage.kind]
            if stage.preserve not in handler.preserves:
                raise ImportError(f"{row.id}: a {stage.kind} stage cannot preserve "
                                  f"{stage.preserve}")
        combo = row.combination
        if combo is not None:
            if combo.then not in TECHNIQUES or not TECHNIQUES[combo.then].retrains:
                raise ImportError(f"{row.id}: its combination names '{combo.then}', not a "
                                  "retraining technique")
            if combo.stage.preserve not in STAGES[combo.stage.kind].preserves:
                raise ImportError(f"{row.id}: its combination's stage is not valid")
    for target, info in TARGETS.items():
        if info.int8 is None:
            continue
        row = TECHNIQUES.get(info.int8)
        if row is None or not row.is_conversion or target not in row.targets:
            raise ImportError(f"target {target}: its int8 form '{info.int8}' is not a "
                              "conversion that runs there")


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
POST_TRAINING = tuple(t for t, row in TECHNIQUES.items() if row.is_post_training)
#: Retraining techniques that end in quantization-aware training.
QAT_FAMILY = tuple(t for t, row in TECHNIQUES.items() if row.quantization_aware)
#: Retraining techniques that leave a float model (a conversion may follow).
FLOAT_TRAINING = tuple(t for t, row in TECHNIQUES.items()
                       if row.retrains and not row.quantization_aware)


@dataclass(frozen=True)
class TechniqueSpec:
    """A parsed technique spec: the retraining steps, then exactly one conversion.

    ``base`` is the technique that names the spec (e.g. PRUNING for ``pruning+integer``);
    ``combined`` is set when the base's ``combination`` follows it (``pruning+clustering``);
    ``conversion`` is the post-training quantization applied at the end (the base's default
    when no ``+`` follows: FLOAT32 after pruning/clustering, INTEGER after the QAT family).
    """

    text: str
    base: TechniqueId
    conversion: TechniqueId
    combined: bool = False

    @property
    def technique(self) -> TechniqueInfo:
        """The base technique's row."""
        return TECHNIQUES[self.base]

    @property
    def conversion_row(self) -> TechniqueInfo:
        """The final conversion's row (it decides the file's format)."""
        return TECHNIQUES[self.conversion]

    @property
    def retrains(self) -> bool:
        """True if any step fine-tunes the model (needs labelled data)."""
        return self.technique.retrains

    @property
    def quantization_aware(self) -> bool:
        """True when the pipeline ends in quantization-aware training."""
        return self.technique.quantization_aware

    @property
    def family_key(self) -> str:
        """What names its training: the base id, or ``pruning+clustering`` for a combination."""
        combo = self.technique.combination
        return f"{self.base.value}+{combo.then}" if self.combined else self.base.value

    @property
    def color(self) -> str:
        """The chart colour of its training family (the base row's, or its combination's)."""
        return self.technique.combination.color if self.combined else self.technique.color

    @property
    def stages(self) -> tuple:
        """The fine-tuning stages in ``STAGE_ORDER``: the base technique's, plus its
        combination's stage (``pruning+clustering``: sparsity-preserving clustering)."""
        stages = self.technique.stages
        if self.combined:
            stages = stages + (self.technique.combination.stage,)
        return tuple(sorted(stages, key=lambda s: STAGE_ORDER.index(s.kind)))

    @property
    def conversion_options(self):
        """The converter options of the final conversion (as a QAT model needs them); None
        for a conversion only the LiteRT Quantizer makes."""
        options = self.conversion_row.converter
        if options is None:
            return None
        return options.for_quantization_aware() if self.quantization_aware else options

    @property
    def calibrates(self) -> bool:
        """True when the final conversion needs representative data (never after QAT)."""
        return not self.quantization_aware and self.conversion_row.calibrates

    @property
    def data(self) -> DataNeed:
        """The most demanding data need of any step."""
        needs = [self.technique.data]
        if not self.quantization_aware:
            needs.append(self.conversion_row.data)
        return max(needs, key=DATA_ORDER.__getitem__)

    @property
    def targets(self) -> frozenset:
        """Targets the produced file can run on: the final conversion decides its format
        (pruning and clustering leave a float model; the QAT family's I/O types decide)."""
        return self.conversion_row.targets

    @property
    def is_post_training(self) -> bool:
        """True for a plain post-training quantization (not the float32 baseline, not
        retraining)."""
        return self.technique.is_post_training

    def __str__(self) -> str:
        return self.text


def parse_spec(text: str) -> TechniqueSpec:
    """Parse ``id[+id...]`` into a ``TechniqueSpec``; raise ``ValueError`` naming the fix.

    Accepted forms: a conversion alone (``float16``); a retraining technique followed by one of
    the conversions its row allows (``pruning+dynamic_range``, ``qat+integer_only``); and a
    row's combination, optionally followed by a conversion (``pruning+clustering+integer``).
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
    base, rest = ids[0], ids[1:]
    row = TECHNIQUES[base]
    combined = bool(rest) and row.combination is not None and rest[0] == row.combination.then
    if combined:
        rest = rest[1:]
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
            raise ValueError(f"'{raw}': {base.value} converts to int8; only "
                             + _either(f"+{t.value}" for t in allowed) + " may follow it")
        raise ValueError(f"'{raw}': after {base.value} only a post-training quantization may "
                         f"follow ({', '.join(t.value for t in POST_TRAINING)}); for QAT on "
                         f"a pruned or clustered model use "
                         + _either(t.value for t in QAT_FAMILY if len(TECHNIQUES[t].stages) > 1))
    canonical = base.value + (f"+{row.combination.then}" if combined else "")
    if conversion != allowed[0]:
        canonical += "+" + conversion.value
    return TechniqueSpec(text=canonical, base=base, conversion=conversion, combined=combined)


def _either(words) -> str:
    """``a, b or c``."""
    words = list(words)
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1]


def retraining_bases() -> tuple[str, ...]:
    """Every retraining pipeline a spec can name before its ``+conversion``: the float
    retraining techniques, their combinations (``pruning+clustering``), then the
    quantization-aware ones (table order within each)."""
    combos = tuple(f"{t.value}+{TECHNIQUES[t].combination.then}" for t in FLOAT_TRAINING
                   if TECHNIQUES[t].combination is not None)
    return (*(t.value for t in FLOAT_TRAINING), *combos, *(t.value for t in QAT_FAMILY))


def all_specs() -> tuple[str, ...]:
    """Every technique spec a user can pick, grouped: the post-training conversions, then each
    retraining pipeline followed by its ``+conversion`` variants (what the app offers). A
    per-layer technique (``mixed``) is left out: it runs with a plan, from the search or the
    per-layer repair page (or ``run --technique mixed --set mixed.plan=@plan.json``)."""
    out = [t.value for t in POST_TRAINING if not TECHNIQUES[t].per_layer]   # mixed needs a plan
    for base in retraining_bases():
        spec = parse_spec(base)
        out.append(spec.text)
        out += [parse_spec(f"{base}+{c.value}").text for c in conversions_after(spec.base)
                if c != spec.conversion]
    return tuple(dict.fromkeys(out))


def int8_conversion(target: Target | str) -> TechniqueId | None:
    """The int8 conversion ``target`` needs (its row's ``int8``: integer_only on
    integer-only targets, else integer; None where it runs no int8 file)."""
    form = TARGETS[Target(target)].int8
    return None if form is None else TechniqueId(form)


def technique(tid: TechniqueId | str) -> TechniqueInfo:
    """Return the registry row for a technique id (string or enum)."""
    return TECHNIQUES[TechniqueId(tid)]
