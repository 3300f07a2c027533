"""Dispatch a readiness check by the target's row: ``TARGETS[target].check`` names the module
of this package that checks it, ``TARGETS[target].readiness`` the method it uses.
"""
from __future__ import annotations

import importlib

from optimizer.guide.targets import TARGETS, Target
from optimizer.measuring.readiness.report import Readiness


class SetupMissing(ValueError):
    """An optional check whose tools are not installed; the message names the command."""


def check_readiness(path, target: Target | str, *, soc: str | None = None, dataset=None,
                    budget=None) -> Readiness:
    """Whether the ``.tflite`` at ``path`` (or its bytes) runs on ``target``.

    ``soc`` picks the Snapdragon SoC for ``npu-qualcomm``; ``dataset`` (a ``Dataset``) adds the
    accuracy through the target's runtime where one runs here (TFLite Micro); ``budget`` (a
    ``McuBudget``) adds the microcontroller's RAM/flash to the verdict. Raises ``ValueError``
    for an unknown target or a file that is not a ``.tflite``, ``SetupMissing`` when an
    optional check's tools are absent (the message names the command that installs them).
    """
    try:
        info = TARGETS[Target(str(target))]
    except ValueError:
        raise ValueError(f"unknown target '{target}'; use one of "
                         f"{', '.join(t.value for t in Target)}") from None
    module = importlib.import_module(f"optimizer.measuring.readiness.{info.check}")
    result = module.check(path, info.id.value, {"soc": soc, "dataset": dataset, "budget": budget})
    if result.method != info.readiness:
        raise RuntimeError(f"the {info.check} check answered '{result.method}' but the target "
                           f"table says '{info.readiness}'")
    return result
