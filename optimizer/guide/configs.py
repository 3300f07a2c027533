"""Frozen, validated configuration objects for every step of a pipeline.

Configs are built with named presets (``PtqConfig.float16()``...) or from ``--set key=value``
pairs (``Settings.from_pairs``). An impossible value raises ``ValueError`` whose message names
the fix; nothing here is checked with ``assert``. ``Settings.to_dict`` is what recipe JSON
files store so a result can be reproduced.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from enum import Enum

from optimizer.guide.registry import TECHNIQUES, TechniqueId


class IoType(str, Enum):
    """Input/output tensor type of an integer-only model."""

    INT8 = "int8"
    UINT8 = "uint8"


@dataclass(frozen=True)
class PtqConfig:
    """One post-training conversion: which quantization, its I/O types and calibration size."""

    technique: TechniqueId = TechniqueId.FLOAT32
    io_type: IoType = IoType.INT8
    calibration_samples: int = 200

    def __post_init__(self):
        if not TECHNIQUES[TechniqueId(self.technique)].is_conversion:
            raise ValueError(f"{self.technique} is not a post-training conversion; use "
                             + ", ".join(t.value for t, row in TECHNIQUES.items()
                                         if row.is_conversion))
        if not 1 <= int(self.calibration_samples) <= 5000:
            raise ValueError("calibration.samples must be between 1 and 5000; the guide suggests "
                             "100-500 representative samples")

    @classmethod
    def float32(cls) -> "PtqConfig":
        return cls(TechniqueId.FLOAT32)

    @classmethod
    def float16(cls) -> "PtqConfig":
        return cls(TechniqueId.FLOAT16)

    @classmethod
    def dynamic_range(cls) -> "PtqConfig":
        return cls(TechniqueId.DYNAMIC_RANGE)

    @classmethod
    def full_integer(cls, integer_only_io: bool = False, calibration_samples: int = 200,
                     io_type: IoType = IoType.INT8) -> "PtqConfig":
        tid = TechniqueId.INTEGER_ONLY if integer_only_io else TechniqueId.INTEGER
        return cls(tid, io_type=IoType(io_type), calibration_samples=calibration_samples)

    @classmethod
    def int16x8(cls, calibration_samples: int = 200) -> "PtqConfig":
        return cls(TechniqueId.INT16X8, calibration_samples=calibration_samples)

    @property
    def needs_calibration(self) -> bool:
        """True when the conversion needs a representative dataset."""
        return TECHNIQUES[TechniqueId(self.technique)].converter.calibrate

    @property
    def integer_only_io(self) -> bool:
        return self.technique == TechniqueId.INTEGER_ONLY


_SCHEDULES = ("polynomial", "constant")
_INITS = ("kmeans++", "linear", "density", "random")


@dataclass(frozen=True)
class PruningConfig:
    """Magnitude pruning: final sparsity, schedule and how often the mask is updated.

    ``frequency`` defaults to 10 steps, not TFMOT's 100: with ~40 steps per epoch a frequency of
    100 updates the mask twice and stops short of the target sparsity (measured 46% for 50%).
    """

    sparsity: float = 0.5
    schedule: str = "polynomial"
    frequency: int = 10

    def __post_init__(self):
        if not 0.0 < float(self.sparsity) < 1.0:
            raise ValueError("pruning.sparsity must be between 0 and 1 (e.g. 0.5 zeroes half the "
                             "weights)")
        if self.schedule not in _SCHEDULES:
            raise ValueError(f"pruning.schedule must be one of {', '.join(_SCHEDULES)}")
        if int(self.frequency) < 1:
            raise ValueError("pruning.frequency must be a positive number of steps (10 works)")


@dataclass(frozen=True)
class ClusteringConfig:
    """Weight clustering: clusters per layer (or per channel) and centroid initialization."""

    clusters: int = 16
    init: str = "kmeans++"
    per_channel: bool = False

    def __post_init__(self):
        if not 2 <= int(self.clusters) <= 256:
            raise ValueError("clustering.clusters must be between 2 and 256 (16 is the usual "
                             "choice; 8 compresses more)")
        if self.init not in _INITS:
            raise ValueError(f"clustering.init must be one of {', '.join(_INITS)}")


@dataclass(frozen=True)
class FinetuneConfig:
    """One fine-tuning run (used by every retraining step: pruning, clustering, QAT...)."""

    epochs: int = 2
    learning_rate: float = 1e-4
    batch_size: int = 32

    def __post_init__(self):
        if not 1 <= int(self.epochs) <= 200:
            raise ValueError("finetune.epochs must be between 1 and 200")
        if not 0.0 < float(self.learning_rate) < 1.0:
            raise ValueError("finetune.learning_rate must be between 0 and 1 (1e-4 is typical "
                             "for fine-tuning)")
        if not 1 <= int(self.batch_size) <= 4096:
            raise ValueError("finetune.batch_size must be between 1 and 4096")


@dataclass(frozen=True)
class LatencyConfig:
    """How latency is timed: threads, warm-up invokes, rounds and a time cap per model."""

    threads: int = 1
    warmup: int = 20
    rounds: int = 5
    max_seconds: float = 3.0

    def __post_init__(self):
        if not 1 <= int(self.threads) <= 64:
            raise ValueError("latency.threads must be between 1 and 64")
        if int(self.warmup) < 0 or int(self.rounds) < 1:
            raise ValueError("latency.warmup must be >= 0 and latency.rounds >= 1")
        if float(self.max_seconds) <= 0:
            raise ValueError("latency.max_seconds must be positive")


@dataclass(frozen=True)
class Settings:
    """All knobs of a run. ``finetune`` holds only the fine-tuning values the user set; the
    rest come from the model's own defaults (see ``finetune_for``)."""

    pruning: PruningConfig = field(default_factory=PruningConfig)
    clustering: ClusteringConfig = field(default_factory=ClusteringConfig)
    calibration_samples: int = 200
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    finetune: tuple = ()  # (("epochs", 3), ...) -- the user's overrides, hashable

    def __post_init__(self):
        PtqConfig(TechniqueId.INTEGER, calibration_samples=self.calibration_samples)

    def finetune_for(self, default: FinetuneConfig) -> FinetuneConfig:
        """The model's default fine-tuning config with the user's overrides applied."""
        return replace(default, **dict(self.finetune))

    def ptq(self, technique: TechniqueId) -> PtqConfig:
        """The post-training config for a conversion id, with this run's calibration size."""
        return PtqConfig(TechniqueId(technique), calibration_samples=self.calibration_samples)

    def with_pairs(self, pairs) -> "Settings":
        """Return a copy with ``key=value`` pairs applied (see ``SETTING_KEYS``)."""
        groups = {"pruning": asdict(self.pruning), "clustering": asdict(self.clustering),
                  "latency": asdict(self.latency), "finetune": dict(self.finetune),
                  "calibration": {"samples": self.calibration_samples}}
        for pair in pairs:
            key, value = _split_pair(pair)
            group, name = key.split(".", 1)
            groups[group][name] = _coerce(key, value)
        return Settings(
            pruning=PruningConfig(**groups["pruning"]),
            clustering=ClusteringConfig(**groups["clustering"]),
            latency=LatencyConfig(**groups["latency"]),
            calibration_samples=groups["calibration"]["samples"],
            finetune=tuple(sorted(_validated_finetune(groups["finetune"]).items())),
        )

    @classmethod
    def from_pairs(cls, pairs) -> "Settings":
        """Build settings from ``["pruning.sparsity=0.8", ...]``; raise ``ValueError`` on bad keys."""
        return cls().with_pairs(pairs)

    def to_dict(self) -> dict:
        """Plain dict for recipe JSON and results (round-trips through ``from_dict``)."""
        return {"pruning": asdict(self.pruning), "clustering": asdict(self.clustering),
                "calibration": {"samples": self.calibration_samples},
                "latency": asdict(self.latency), "finetune": dict(self.finetune)}

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        pairs = [f"{group}.{k}={v}" for group, values in (data or {}).items()
                 for k, v in values.items()]
        return cls.from_pairs(pairs)


_TYPES = {
    "pruning.sparsity": float, "pruning.schedule": str, "pruning.frequency": int,
    "clustering.clusters": int, "clustering.init": str, "clustering.per_channel": bool,
    "calibration.samples": int,
    "finetune.epochs": int, "finetune.learning_rate": float, "finetune.batch_size": int,
    "latency.threads": int, "latency.warmup": int, "latency.rounds": int,
    "latency.max_seconds": float,
}
SETTING_KEYS = tuple(_TYPES)


def _split_pair(pair: str) -> tuple[str, str]:
    if "=" not in str(pair):
        raise ValueError(f"setting '{pair}' must look like key=value, e.g. pruning.sparsity=0.8")
    key, value = (s.strip() for s in str(pair).split("=", 1))
    if key not in _TYPES:
        raise ValueError(f"unknown setting '{key}'; known settings: {', '.join(SETTING_KEYS)}")
    return key, value


def _coerce(key: str, value):
    kind = _TYPES[key]
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    text = str(value).strip()
    try:
        if kind is bool:
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if kind is int:
            as_float = float(text)
            if as_float != int(as_float):
                raise ValueError
            return int(as_float)
        return kind(text)
    except ValueError:
        raise ValueError(f"setting {key}={value!r} is not a valid {kind.__name__}") from None


def _validated_finetune(values: dict) -> dict:
    merged = {f.name: f.default for f in fields(FinetuneConfig)}
    merged.update(values)
    FinetuneConfig(**merged)
    return dict(values)
