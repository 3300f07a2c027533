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
from optimizer.guide.stage_handlers import STAGE_CONFIGS, stage_handler
from optimizer.guide.stages.clustering import ClusteringConfig
from optimizer.guide.stages.pruning import PruningConfig

__all__ = ["IoType", "PtqConfig", "PruningConfig", "ClusteringConfig", "FinetuneConfig",
           "LatencyConfig", "Settings", "SETTING_KEYS", "TECHNIQUE_CONFIGS"]

#: The conversions' own settings groups, from the technique rows: ((group, config class), ..).
TECHNIQUE_CONFIGS = tuple((row.settings_group, row.settings_config)
                          for row in TECHNIQUES.values() if row.settings_group)


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
    technique_settings: tuple = ()   # ((field, value), ..) of the technique's own settings group

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
        return TECHNIQUES[TechniqueId(self.technique)].calibrates

    @property
    def own_config(self):
        """The technique's own settings group as its config object (``MixedConfig`` for
        ``mixed``), None for a technique without one."""
        row = TECHNIQUES[TechniqueId(self.technique)]
        if row.settings_config is None:
            return None
        return row.settings_config(**dict(self.technique_settings))

    @property
    def integer_only_io(self) -> bool:
        """True when the file has integer input and output (its format is int8-only)."""
        return TECHNIQUES[TechniqueId(self.technique)].integer_only


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
    """All knobs of a run. ``stages`` holds one config per stage settings group
    (``pruning``, ``clustering``: ``guide.stage_handlers.STAGE_CONFIGS``), read as
    ``settings.pruning`` or ``settings.stage_config(kind)``; ``techniques`` one config per
    conversion's own settings group (``mixed``: ``TECHNIQUE_CONFIGS``), read as
    ``settings.mixed``; ``finetune`` holds only the fine-tuning values the user set, the rest
    come from the model's own defaults (see ``finetune_for``)."""

    stages: tuple = ()  # ((group, config), ...) every stage group, in stage order
    calibration_samples: int = 200
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    finetune: tuple = ()  # (("epochs", 3), ...) -- the user's overrides, hashable
    techniques: tuple = ()  # ((group, config), ...) every conversion's own settings group

    def __post_init__(self):
        for name, table in (("stages", STAGE_CONFIGS), ("techniques", TECHNIQUE_CONFIGS)):
            given = dict(getattr(self, name))
            groups = {group: config for group, config in table}
            unknown = sorted(set(given) - set(groups))
            if unknown:
                raise ValueError(f"unknown settings group(s) {unknown}; use {', '.join(groups)}")
            for group, config in given.items():
                if not isinstance(config, groups[group]):
                    raise ValueError(f"settings group {group} needs a {groups[group].__name__}")
            object.__setattr__(self, name, tuple(
                (group, given[group] if group in given else config()) for group, config in
                table))
        PtqConfig(TechniqueId.INTEGER, calibration_samples=self.calibration_samples)

    def __getattr__(self, name):
        """A stage's or a conversion's settings group by its name (``settings.pruning``)."""
        for group, config in (*self.__dict__.get("stages", ()),
                              *self.__dict__.get("techniques", ())):
            if group == name:
                return config
        raise AttributeError(f"Settings has no {name!r}")

    def stage_config(self, kind):
        """The config of a stage kind's settings group (None for a stage without settings)."""
        handler = stage_handler(kind)
        return getattr(self, handler.group) if handler.group else None

    def finetune_for(self, default: FinetuneConfig) -> FinetuneConfig:
        """The model's default fine-tuning config with the user's overrides applied."""
        return replace(default, **dict(self.finetune))

    def ptq(self, technique: TechniqueId) -> PtqConfig:
        """The post-training config for a conversion id, with this run's calibration size (and
        the conversion's own settings group, e.g. ``mixed``'s plan)."""
        row = TECHNIQUES[TechniqueId(technique)]
        own = tuple(asdict(getattr(self, row.settings_group)).items()) \
            if row.settings_group else ()
        return PtqConfig(TechniqueId(technique), calibration_samples=self.calibration_samples,
                         technique_settings=own)

    def with_pairs(self, pairs) -> "Settings":
        """Return a copy with ``key=value`` pairs applied (see ``SETTING_KEYS``)."""
        groups = {group: asdict(config) for group, config in (*self.stages, *self.techniques)}
        groups.update({"latency": asdict(self.latency), "finetune": dict(self.finetune),
                       "calibration": {"samples": self.calibration_samples}})
        for pair in pairs:
            key, value = _split_pair(pair)
            group, name = key.split(".", 1)
            groups[group][name] = _coerce(key, value)
        return Settings(
            stages=tuple((group, config(**groups[group])) for group, config in STAGE_CONFIGS),
            techniques=tuple((group, config(**groups[group]))
                             for group, config in TECHNIQUE_CONFIGS),
            latency=LatencyConfig(**groups["latency"]),
            calibration_samples=groups["calibration"]["samples"],
            finetune=tuple(sorted(_validated_finetune(groups["finetune"]).items())),
        )

    @classmethod
    def from_pairs(cls, pairs) -> "Settings":
        """Build settings from ``["pruning.sparsity=0.8", ...]``; raise ``ValueError`` on bad keys."""
        return cls().with_pairs(pairs)

    def to_dict(self) -> dict:
        """Plain dict for recipe JSON and results (round-trips through ``from_dict``); a
        conversion's own group only when it differs from its defaults."""
        own = {group: asdict(config) for group, config in self.techniques
               if config != type(config)()}
        return {**{group: asdict(config) for group, config in self.stages}, **own,
                "calibration": {"samples": self.calibration_samples},
                "latency": asdict(self.latency), "finetune": dict(self.finetune)}

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        pairs = [f"{group}.{k}={v}" for group, values in (data or {}).items()
                 for k, v in values.items()]
        return cls.from_pairs(pairs)


#: A config field's annotation (a string under ``from __future__ import annotations``) -> type.
_FIELD_TYPES = {"float": float, "int": int, "str": str, "bool": bool}


def _field_types(group: str, config) -> dict:
    out = {}
    for f in fields(config):
        name = f.type if isinstance(f.type, str) else f.type.__name__
        if name not in _FIELD_TYPES:
            raise TypeError(f"setting {group}.{f.name}: type {name} is not one of "
                            f"{', '.join(_FIELD_TYPES)}")
        out[f"{group}.{f.name}"] = _FIELD_TYPES[name]
    return out


_TYPES = {
    **{key: kind for group, config in (*STAGE_CONFIGS, *TECHNIQUE_CONFIGS)
       for key, kind in _field_types(group, config).items()},
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
