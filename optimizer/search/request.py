"""What a user asks a search for: model and data, target, goals, size measure and time budget.

``SearchRequest`` is validated when built (``ValueError`` naming the fix) and round-trips
through JSON (``search.json`` in the search folder) and the command line (``to_cli_args``).
The accuracy goal's direction (higher- or lower-is-better) is the metric's, known once the
float32 baseline is measured; ``goals(higher_is_better)`` builds the ``optimizer.guide.goals`` objects
the search judges every trial with.

Size is measured as bytes on disk by default ("raw"): what an app bundles and what the
device loads. ``size_measure="gzip"`` measures the download size (gzip -9) instead: where
pruning and clustering pay off. The measure applies to the size goal and to the objective
(the smallest file that meets the goals).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from optimizer.guide.configs import Settings
from optimizer.guide.goals import (
    FRACTION_METRICS,
    AccuracyGoal,
    Goals,
    LatencyGoal,
    McuBudget,
    SizeGoal,
    TargetGoal,
)
from optimizer.guide.stage_handlers import KNOBS, default_knob_levels, knob
from optimizer.guide.targets import Target

SIZE_MEASURES = ("raw", "gzip")
#: What "best" means among the trials that meet every goal: the smallest file, or the most
#: accurate one (e.g. the most accurate model that fits a microcontroller's RAM and flash).
OBJECTIVES = ("size", "accuracy")
#: A search shorter than this cannot even convert the float baseline of a small model.
MIN_TIME_BUDGET_S = 10.0
DEFAULT_TIME_BUDGET_S = 600.0
DEFAULT_MAX_FLOAT_LAYERS = 5


def _tuple(values) -> tuple:
    if values is None:
        return ()
    if isinstance(values, (str, int, float)):
        return (values,)
    return tuple(values)


#: search.json files written before the knobs became generic held these fields.
_LEGACY_KNOBS = {"sparsities": "pruning.sparsity", "clusters": "clustering.clusters"}


def _knob_levels(given) -> dict:
    """Every knob's levels (validated by the knob; ``ValueError`` naming an unknown knob or a
    bad level), the defaults for those not given, in knob order."""
    if not isinstance(given, dict):
        raise ValueError(f"knob_levels must map a knob (e.g. pruning.sparsity) to its levels, "
                         f"not {given!r}")
    for key in given:
        knob(key)
    merged = {**default_knob_levels(), **given}
    return {key: KNOBS[key].parse_levels(merged[key]) for key in KNOBS}


@dataclass(frozen=True)
class SearchRequest:
    """A budget-driven search: find the smallest file that meets the goals on ``target``.

    ``max_accuracy_drop`` is in the metric's units (0.01 = 1 point of accuracy) or, with
    ``relative``, a fraction of the baseline; ``max_size_bytes`` / ``max_size_ratio`` (at most
    one) and ``max_latency_ms`` are optional constraints; ``size_measure`` is "raw" (bytes on
    disk) or "gzip" (download size); ``time_budget_s`` bounds the whole search;
    ``settings`` are ``key=value`` pairs applied to every trial (e.g. ``finetune.epochs=3``);
    ``knob_levels`` maps each stage knob's key (``pruning.sparsity``, ``clustering.clusters``:
    ``guide.stage_handlers.KNOBS``) to the levels tried (a knob left out gets its default
    levels); ``max_float_layers`` caps how many
    of the worst layers selective quantization may keep in float. ``mcu_ram_kb`` /
    ``mcu_flash_kb`` are the microcontroller's budgets (target ``mcu``, kB = 1024 bytes), judged
    on the arena and bytes TFLite Micro measured; ``must_be_ready`` requires every trial's
    readiness check for the target to say ready (None: on for every target but the CPU).
    """

    model: str
    target: Target = Target.CPU
    max_accuracy_drop: float = 0.01
    relative: bool = False
    data: str | None = None
    max_size_bytes: int | None = None
    max_size_ratio: float | None = None
    max_latency_ms: float | None = None
    size_measure: str = "raw"
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    settings: tuple = ()
    knob_levels: dict = field(default_factory=default_knob_levels)
    max_float_layers: int = DEFAULT_MAX_FLOAT_LAYERS
    mcu_ram_kb: int | None = None
    mcu_flash_kb: int | None = None
    must_be_ready: bool | None = None
    objective: str = "size"

    def __post_init__(self):
        if not str(self.model or "").strip():
            raise ValueError("no model given: pass a demo name (e.g. digits-cnn) or a model file")
        try:
            object.__setattr__(self, "target", Target(self.target))
        except ValueError:
            raise ValueError(f"unknown target '{self.target}'; use one of: "
                             f"{', '.join(t.value for t in Target)}") from None
        object.__setattr__(self, "settings", tuple(str(p) for p in _tuple(self.settings)))
        object.__setattr__(self, "knob_levels", _knob_levels(self.knob_levels))
        Settings.from_pairs(self.settings)
        if self.size_measure not in SIZE_MEASURES:
            raise ValueError(f"size measure '{self.size_measure}' is not known; use 'raw' (bytes "
                             "on disk) or 'gzip' (download size)")
        budget = self.time_budget_s
        if isinstance(budget, bool) or not isinstance(budget, (int, float)) \
                or not math.isfinite(budget) or budget < MIN_TIME_BUDGET_S:
            raise ValueError(f"time budget {budget!r} s is too short; give at least "
                             f"{MIN_TIME_BUDGET_S:g} s (600 = 10 minutes)")
        object.__setattr__(self, "time_budget_s", float(budget))
        if isinstance(self.max_float_layers, bool) or not isinstance(self.max_float_layers, int) \
                or not 1 <= self.max_float_layers <= 50:
            raise ValueError(f"max_float_layers {self.max_float_layers!r} must be a whole "
                             "number from 1 to 50")
        if (self.mcu_ram_kb is not None or self.mcu_flash_kb is not None) \
                and self.target != Target.MCU:
            raise ValueError("microcontroller RAM/flash budgets apply to the mcu target only; "
                             "use --target mcu or drop them")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective '{self.objective}' is not known; use 'size' (the "
                             f"smallest file that meets the goals) or 'accuracy' (the most "
                             f"accurate one)")
        if self.must_be_ready is not None and not isinstance(self.must_be_ready, bool):
            raise ValueError(f"must_be_ready must be True, False or None, not "
                             f"{self.must_be_ready!r}")
        self.goals()  # validates the budgets (ValueError names the fix)

    @property
    def readiness_required(self) -> bool:
        """True when trials must pass the target's readiness check (default: off the CPU)."""
        if self.must_be_ready is not None:
            return self.must_be_ready
        return self.target != Target.CPU

    @property
    def mcu_budget(self) -> McuBudget | None:
        """The microcontroller budget, or None when neither RAM nor flash is given."""
        if self.mcu_ram_kb is None and self.mcu_flash_kb is None:
            return None
        return McuBudget(ram_kb=self.mcu_ram_kb, flash_kb=self.mcu_flash_kb)

    def goals(self, higher_is_better: bool = True) -> Goals:
        """The goals every trial is judged with (the metric's direction from the baseline)."""
        size = None
        if self.max_size_bytes is not None or self.max_size_ratio is not None:
            if self.max_size_bytes is not None and self.max_size_ratio is not None:
                raise ValueError("give either a size limit in bytes or a ratio to the baseline, "
                                 "not both")
            size = SizeGoal(max_bytes=self.max_size_bytes, max_ratio=self.max_size_ratio,
                            compressed=self.size_measure == "gzip")
        latency = LatencyGoal(self.max_latency_ms) if self.max_latency_ms is not None else None
        accuracy = AccuracyGoal(self.max_accuracy_drop, relative=self.relative,
                                higher_is_better=higher_is_better)
        ready = TargetGoal(self.target.value) if self.readiness_required else None
        return Goals(accuracy=accuracy, size=size, latency=latency, mcu=self.mcu_budget,
                     target=ready)

    def check_metric(self, metric: str) -> None:
        """Raise ``ValueError`` when an absolute budget cannot be meant for ``metric``: a drop
        of 1 or more on a fraction metric (accuracy) allows any result at all."""
        if metric in FRACTION_METRICS and not self.relative and self.max_accuracy_drop >= 1:
            raise ValueError(f"--max-accuracy-drop {self.max_accuracy_drop:g} allows a drop of "
                             f"{self.max_accuracy_drop * 100:g} points of {metric}; give it in "
                             "the metric's units, e.g. 0.01 for 1 point")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["target"] = self.target.value
        data["settings"] = list(data["settings"])
        data["knob_levels"] = {key: list(levels) for key, levels in self.knob_levels.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "SearchRequest":
        """Inverse of ``to_dict``; unknown keys raise ``ValueError`` naming the valid ones."""
        names = {f.name for f in fields(cls)}
        data = dict(data)
        legacy = {_LEGACY_KNOBS[k]: data.pop(k) for k in list(data) if k in _LEGACY_KNOBS}
        if legacy:
            data["knob_levels"] = {**legacy, **(data.get("knob_levels") or {})}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown search request keys {unknown}; use: "
                             f"{', '.join(sorted(names))}")
        return cls(**data)

    def to_cli_args(self) -> list[str]:
        """The ``python -m optimizer search`` arguments that ask for exactly this."""
        args = ["--model", self.model, "--target", self.target.value,
                "--max-accuracy-drop", repr(float(self.max_accuracy_drop))]
        if self.data:
            args += ["--data", self.data]
        if self.relative:
            args.append("--relative")
        if self.max_size_bytes is not None:
            args += ["--max-size-bytes", str(self.max_size_bytes)]
        if self.max_size_ratio is not None:
            args += ["--max-size-ratio", repr(float(self.max_size_ratio))]
        if self.max_latency_ms is not None:
            args += ["--max-latency-ms", repr(float(self.max_latency_ms))]
        args += ["--size-measure", self.size_measure,
                 "--time-budget", repr(float(self.time_budget_s)),
                 "--max-float-layers", str(self.max_float_layers)]
        for key, levels in self.knob_levels.items():
            if tuple(levels) != KNOBS[key].levels:
                args += [KNOBS[key].cli_flag, ",".join(repr(v) for v in levels)]
        if self.mcu_ram_kb is not None:
            args += ["--mcu-ram-kb", str(self.mcu_ram_kb)]
        if self.mcu_flash_kb is not None:
            args += ["--mcu-flash-kb", str(self.mcu_flash_kb)]
        if self.must_be_ready is not None:
            args.append("--must-be-ready" if self.must_be_ready else "--no-must-be-ready")
        if self.objective != "size":
            args += ["--objective", self.objective]
        for pair in self.settings:
            args += ["--set", pair]
        return args
