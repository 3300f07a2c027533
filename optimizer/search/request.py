"""What a user asks a search for: model and data, target, goals, size measure and time budget.

``SearchRequest`` is validated when built (``ValueError`` naming the fix) and is a file:
``to_dict`` / ``from_dict`` are exact over every field (``optimizer.guide.request_file``), the
search folder's ``search.json`` holds it, and the search process reads it back
(``python -m optimizer search --request search.json``). Its goals are the ``GoalFields``
shared with ``RunRequest`` (the same keys and flags); the accuracy goal's direction (higher-
or lower-is-better) is the metric's, known once the float32 baseline is measured;
``goals(higher_is_better)`` builds the ``optimizer.guide.goals`` objects the search judges
every trial with.

Size is measured as bytes on disk by default ("raw"): what an app bundles and what the
device loads. ``size_measure="gzip"`` measures the download size (gzip -9) instead: where
pruning and clustering pay off. The measure applies to the size goal and to the objective
(the smallest file that meets the goals).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from optimizer.guide.configs import Settings
from optimizer.guide.goal_fields import JUDGES, SIZE_MEASURES, GoalFields
from optimizer.guide.request_file import request_from_dict, request_to_dict
from optimizer.guide.stage_handlers import KNOBS, default_knob_levels, knob
from optimizer.guide.targets import Target

__all__ = ["SearchRequest", "SIZE_MEASURES", "OBJECTIVES"]

#: What "best" means among the trials that meet every goal: the smallest file, or the most
#: accurate one (e.g. the most accurate model that fits a microcontroller's RAM and flash).
OBJECTIVES = ("size", "accuracy")
#: How int8 that misses the accuracy budget is repaired (``search.strategies``).
PRECISION_STRATEGIES = ("sensitivity", "op-type", "keep-float", "none")
DEFAULT_MAX_PRECISION_TRIALS = 8
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
class SearchRequest(GoalFields):
    """A budget-driven search: find the smallest file that meets the goals on ``target``.

    The goals are ``GoalFields`` (a search always has a target, default the CPU, and an
    accuracy budget, default 1 point); ``size_measure`` also picks what "smallest" means;
    ``time_budget_s`` bounds the whole search; ``settings`` are ``key=value`` pairs applied to
    every trial (e.g. ``finetune.epochs=3``); ``knob_levels`` maps each stage knob's key
    (``pruning.sparsity``, ``clustering.clusters``: ``guide.stage_handlers.KNOBS``) to the levels
    tried (a knob left out gets its default levels); ``max_float_layers`` caps how many of the
    worst layers selective quantization may keep in float; ``objective`` picks the smallest or
    the most accurate trial that meets every goal; ``precision_strategy`` how the target's
    int8 is repaired when it misses the accuracy budget (``sensitivity``: per-layer sensitivity
    first, then one verified mixed-precision plan at a time; ``op-type``: one op type at a time
    to a higher precision; ``keep-float``: the worst layers in float; ``none``) and
    ``max_precision_trials`` how many mixed-precision plans it may verify; ``techniques``
    restricts the candidates to these technique specs (the float32 baseline always runs;
    empty: every technique the target allows), e.g. only the target's int8 form, to compare
    precision strategies.
    """

    model: str
    data: str | None = None
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    settings: tuple = ()
    knob_levels: dict = field(default_factory=default_knob_levels)
    max_float_layers: int = DEFAULT_MAX_FLOAT_LAYERS
    objective: str = "size"
    precision_strategy: str = "sensitivity"
    max_precision_trials: int = DEFAULT_MAX_PRECISION_TRIALS
    techniques: tuple = ()
    target: Target | None = field(default=Target.CPU, kw_only=True, metadata=JUDGES)
    max_accuracy_drop: float | None = field(default=0.01, kw_only=True, metadata=JUDGES)

    def __post_init__(self):
        if not str(self.model or "").strip():
            raise ValueError("no model given: pass a demo name (e.g. digits-cnn) or a model file")
        if self.target is None:
            raise ValueError("a search needs a target: give --target, e.g. cpu or edgetpu")
        if self.max_accuracy_drop is None:
            raise ValueError("a search needs an accuracy budget: give --max-accuracy-drop, "
                             "e.g. 0.01 for 1 point")
        object.__setattr__(self, "settings", tuple(str(p) for p in _tuple(self.settings)))
        from optimizer.guide.registry import parse_spec

        object.__setattr__(self, "techniques", tuple(dict.fromkeys(
            parse_spec(str(t)).text for t in _tuple(self.techniques))))
        object.__setattr__(self, "knob_levels", _knob_levels(self.knob_levels))
        Settings.from_pairs(self.settings)
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
        if self.precision_strategy not in PRECISION_STRATEGIES:
            raise ValueError(f"precision strategy '{self.precision_strategy}' is not known; use "
                             f"{', '.join(PRECISION_STRATEGIES)}")
        if isinstance(self.max_precision_trials, bool) or \
                not isinstance(self.max_precision_trials, int) or \
                not 1 <= self.max_precision_trials <= 100:
            raise ValueError(f"max_precision_trials {self.max_precision_trials!r} must be a whole "
                             "number from 1 to 100")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective '{self.objective}' is not known; use 'size' (the "
                             f"smallest file that meets the goals) or 'accuracy' (the most "
                             f"accurate one)")
        super().__post_init__()

    def to_dict(self) -> dict:
        """Every field, JSON-ready and exact (what ``search.json`` holds)."""
        return request_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SearchRequest":
        """Inverse of ``to_dict``; unknown keys raise ``ValueError`` naming the valid ones. A
        ``search.json`` from before the knobs became generic (``sparsities``, ``clusters``) is
        read into ``knob_levels``."""
        if isinstance(data, dict) and set(data) & set(_LEGACY_KNOBS):
            data = dict(data)
            legacy = {_LEGACY_KNOBS[k]: data.pop(k) for k in list(data) if k in _LEGACY_KNOBS}
            data["knob_levels"] = {**legacy, **(data.get("knob_levels") or {})}
        return request_from_dict(cls, data, "search request")


def readiness_blocker(request: SearchRequest) -> str | None:
    """Why ``request`` cannot run here: its trials must be ready on a target whose readiness
    check cannot run on this machine (the NPU checks without ``make setup-npu``), so every
    trial would end "could not check". None when it can run."""
    if not request.readiness_required:
        return None
    from optimizer.measuring.readiness import readiness_unavailable

    missing = readiness_unavailable(request.target)
    if missing is None:
        return None
    return (f"target {request.target.value} needs its readiness check, but {missing}; or "
            f"search without it (must be ready: off)")
