"""A retraining stage as data: its kind, what it preserves, the QAT schemes, and the handler type.

A *stage* is one transform + fine-tune step of a retraining technique (prune, cluster,
quantization-aware training). Everything about a kind of stage lives in ONE ``StageHandler``
(``optimizer.guide.stages.<kind>``, collected in ``optimizer.guide.stage_handlers.STAGES`` and
checked complete at import): its settings group and config class, the knob the search may vary,
the step in words, the reproduce script's block and the engine step (a dotted path the engine
resolves, so this layer never imports TensorFlow code).

Pure Python: nothing here imports TensorFlow.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable


class StageKind(str, Enum):
    """A fine-tuning stage of a retraining pipeline; members are listed in pipeline order."""

    PRUNING = "pruning"
    CLUSTERING = "clustering"
    QAT = "qat"

    def __str__(self) -> str:
        return self.value


#: The order stages run in whenever a pipeline has several (prune, then cluster, then QAT).
STAGE_ORDER = tuple(StageKind)


class Preserve(str, Enum):
    """What a stage keeps of what earlier stages made."""

    SPARSITY = "sparsity"
    CLUSTERS = "clusters"
    SPARSITY_AND_CLUSTERS = "sparsity+clusters"

    @property
    def words(self) -> str:
        """For sentences: "sparsity", "clusters", "sparsity and clusters"."""
        return self.value.replace("+", " and ")

    def __str__(self) -> str:
        return self.value


class QatScheme(str, Enum):
    """TFMOT's quantize schemes; each member knows what it preserves and its TFMOT constructor
    (a path under the ``tfmot`` module, and its keyword arguments). The engine builds the
    scheme from ``constructor``/``kwargs``; the reproduce script writes ``expression``."""

    def __new__(cls, value: str, preserve, constructor: str, kwargs: tuple):
        member = str.__new__(cls, value)
        member._value_ = value
        member.preserve = None if preserve is None else Preserve(preserve)
        member.constructor = constructor
        member.kwargs = tuple(kwargs)
        return member

    DEFAULT = ("default", None,
               "quantization.keras.default_8bit.Default8BitQuantizeScheme", ())
    PRUNE_PRESERVE = ("prune-preserve", "sparsity",
                      "experimental.combine.Default8BitPrunePreserveQuantizeScheme", ())
    CLUSTER_PRESERVE = ("cluster-preserve", "clusters",
                        "experimental.combine.Default8BitClusterPreserveQuantizeScheme", ())
    PRUNE_CLUSTER_PRESERVE = ("prune-cluster-preserve", "sparsity+clusters",
                              "experimental.combine.Default8BitClusterPreserveQuantizeScheme",
                              (("preserve_sparsity", True),))

    @property
    def expression(self) -> str:
        """The scheme as Python source: ``tfmot.experimental.combine....Scheme(...)``."""
        args = ", ".join(f"{name}={value!r}" for name, value in self.kwargs)
        return f"tfmot.{self.constructor}({args})"

    @classmethod
    def for_preserve(cls, preserve) -> "QatScheme":
        """The scheme that keeps ``preserve`` (None: the default 8-bit scheme); ``ValueError``
        for a combination no TFMOT scheme keeps."""
        wanted = None if preserve is None else Preserve(preserve)
        for member in cls:
            if member.preserve == wanted:
                return member
        raise ValueError(f"no TFMOT quantize scheme preserves {wanted}; use one of: "
                         + ", ".join(str(m.preserve) for m in cls))

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Stage:
    """One transform + fine-tune step; ``preserve`` says what an earlier stage made that this
    one keeps (clustering: sparsity; QAT: sparsity, clusters or both)."""

    kind: StageKind
    preserve: Preserve | None = None

    def __post_init__(self):
        object.__setattr__(self, "kind", StageKind(self.kind))
        if self.preserve is not None:
            object.__setattr__(self, "preserve", Preserve(self.preserve))

    @property
    def qat_scheme(self) -> QatScheme:
        """The TFMOT scheme a QAT stage uses (from what it preserves)."""
        return QatScheme.for_preserve(self.preserve)


@dataclass(frozen=True)
class Knob:
    """The one setting of a stage the search varies, and its levels.

    ``key`` is the ``--set`` key (``pruning.sparsity``); ``short`` names it in trial ids
    (``pruning[sparsity=0.75]``); ``levels`` are the levels tried by default, mildest first
    (collaborative techniques use the first); ``low``/``high`` bound a level; ``harsher`` is
    "higher" when a higher level removes more (sparsity) and "lower" when a lower one does
    (clusters); ``cli_flag`` and ``help`` are the search command's option for the levels.
    """

    key: str
    short: str
    levels: tuple
    low: float
    high: float
    integer: bool
    harsher: str
    cli_flag: str
    help: str

    def __post_init__(self):
        if self.harsher not in ("higher", "lower"):
            raise ValueError(f"knob {self.key}: harsher must be 'higher' or 'lower'")
        object.__setattr__(self, "levels", self.parse_levels(self.levels))

    def parse_levels(self, values) -> tuple:
        """The levels as numbers, validated and deduplicated (order kept); ``ValueError``
        naming the range for a bad one."""
        if isinstance(values, (str, int, float)):
            values = [v for v in str(values).split(",") if v.strip()]
        out = []
        for value in values:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{self.short} level {value!r} is not a number") from None
            if not self.low <= number <= self.high or (self.integer and number != int(number)):
                kind = "whole numbers" if self.integer else "values"
                raise ValueError(f"{self.short} level {value} is out of range; use {kind} in "
                                 f"{self.low:g}..{self.high:g}")
            out.append(int(number) if self.integer else number)
        if not out:
            raise ValueError(f"give at least one {self.short} level")
        return tuple(dict.fromkeys(out))

    def pair(self, level) -> str:
        """The ``--set`` pair of one level, exact (``pruning.sparsity=0.1234567``)."""
        return f"{self.key}={int(level) if self.integer else float(level)!r}"

    def is_harsher(self, level, other) -> bool:
        """True when level ``other`` removes more than level ``level``."""
        return float(other) > float(level) if self.harsher == "higher" else \
            float(other) < float(level)


@dataclass(frozen=True)
class ScriptBlock:
    """A stage's part of the reproduce script: its code, the imports it needs and the line
    naming it in the script's docstring."""

    code: str
    header: str
    imports: tuple = ()


def fit_call(finetune, callbacks: str = "") -> str:
    """The reproduce script's call of its ``fine_tune`` helper with one fine-tuning config."""
    extra = f",\n          callbacks={callbacks}" if callbacks else ""
    return (f"fine_tune(model, epochs={finetune.epochs}, learning_rate={finetune.learning_rate!r}, "
            f"batch_size={finetune.batch_size}{extra})")


def finetune_words(finetune) -> str:
    """``fine-tune 3 epoch(s), lr 0.0005, batch 16`` for the script's step list."""
    return (f"fine-tune {finetune.epochs} epoch(s), lr {finetune.learning_rate:g}, "
            f"batch {finetune.batch_size}")


@dataclass(frozen=True)
class StageHandler:
    """Everything about one kind of stage.

    ``label`` names it in progress and steps ("QAT"); ``group`` and ``config`` are its
    ``--set`` group and the frozen config class of that group (None for a stage without
    settings); ``knob`` is what the search varies (None: nothing); ``preserves`` lists what its
    ``Stage.preserve`` may be; ``apply`` is the engine step as ``"module:function"`` under
    ``optimizer.engine`` (resolved, and checked, when the engine imports); ``script(number,
    config, finetune, stage) -> ScriptBlock`` writes its reproduce-script block; ``evidence``
    names what the file's measured facts show of it ("sparsity", "distinct weights" or None);
    ``quantization_aware`` is True for a stage that leaves the model quantization-aware (its
    ranges learned: converted without calibration, only to the int8 conversions).
    """

    kind: StageKind
    label: str
    apply: str
    script: Callable
    group: str | None = None
    config: type | None = None
    knob: Knob | None = None
    preserves: tuple = (None,)
    evidence: str | None = None
    quantization_aware: bool = False

    def __post_init__(self):
        if (self.group is None) != (self.config is None):
            raise ValueError(f"stage {self.kind}: a settings group needs its config class")
        if self.knob is not None and (self.group is None
                                      or not self.knob.key.startswith(self.group + ".")):
            raise ValueError(f"stage {self.kind}: knob {self.knob.key} is not a setting of its "
                             f"group {self.group}")
        if self.evidence not in (None, "sparsity", "distinct weights"):
            raise ValueError(f"stage {self.kind}: evidence must be 'sparsity', 'distinct "
                             "weights' or None")
        if ":" not in self.apply or not self.apply.startswith("optimizer.engine."):
            raise ValueError(f"stage {self.kind}: apply must be 'optimizer.engine.<module>:"
                             f"<function>', not {self.apply!r}")
