"""The stage registry: one ``StageHandler`` per ``StageKind``, complete at import.

The handlers are the modules of ``optimizer.guide.stages`` (each defines ``STAGE``). Importing
this module fails (``ImportError`` naming the kind) when a ``StageKind`` has no handler, or two,
so a new kind of stage cannot be half added. The engine resolves each handler's ``apply`` step
when it imports (``engine.retraining``); the search reads the knobs (``KNOBS``); settings read
the config groups (``STAGE_CONFIGS``); the reproduce script calls each handler's ``script``.
"""
from __future__ import annotations

import importlib
import pkgutil

import optimizer.guide.stages as stage_modules
from optimizer.guide.stage import STAGE_ORDER, Knob, StageHandler, StageKind


def _discover() -> dict:
    found: dict = {}
    for info in pkgutil.iter_modules(stage_modules.__path__):
        module = importlib.import_module(f"{stage_modules.__name__}.{info.name}")
        handler = getattr(module, "STAGE", None)
        if not isinstance(handler, StageHandler):
            raise ImportError(f"optimizer/guide/stages/{info.name}.py defines no STAGE "
                              "(a guide.stage.StageHandler)")
        if handler.kind in found:
            raise ImportError(f"two stage handlers for '{handler.kind}': "
                              f"{found[handler.kind][1]} and {info.name}")
        found[handler.kind] = (handler, info.name)
    missing = [kind.value for kind in StageKind if kind not in found]
    if missing:
        raise ImportError(f"no stage handler for: {', '.join(missing)}; write "
                          f"optimizer/guide/stages/<kind>.py defining STAGE = StageHandler(...)")
    return {kind: found[kind][0] for kind in STAGE_ORDER}


#: Every kind of stage's handler, in ``STAGE_ORDER``.
STAGES: dict[StageKind, StageHandler] = _discover()
#: The search's knobs by ``--set`` key (``pruning.sparsity``), in stage order.
KNOBS: dict[str, Knob] = {h.knob.key: h.knob for h in STAGES.values() if h.knob is not None}
#: ``(settings group, config class)`` of every stage that has settings, in stage order.
STAGE_CONFIGS: tuple = tuple((h.group, h.config) for h in STAGES.values() if h.config is not None)


def stage_handler(kind: StageKind | str) -> StageHandler:
    """The handler of a stage kind (``ValueError`` for an unknown kind)."""
    return STAGES[StageKind(kind)]


def knob(key: str) -> Knob:
    """The knob with ``--set`` key ``key``; ``ValueError`` naming the known ones."""
    if key not in KNOBS:
        raise ValueError(f"unknown knob '{key}'; the search varies: {', '.join(KNOBS)}")
    return KNOBS[key]


def default_knob_levels() -> dict:
    """``{knob key: default levels}`` for every knob (what a search tries by default)."""
    return {key: k.levels for key, k in KNOBS.items()}
