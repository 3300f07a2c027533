"""Every target's readiness check, registered as a callable keyed by ``Target``, and the dispatch.

``CHECKS`` maps each target of ``optimizer.guide.targets.TARGETS`` to the ``TargetCheck`` of
one module of this package. ``verify`` runs at import: a target row without a check, a check
for a target that has no row, or a check whose method is not the one its row declares
(``TargetInfo.readiness``) stops the import with a message naming the fix, so a forgotten
piece fails at once rather than when someone asks for that target.
"""
from __future__ import annotations

from optimizer.guide.targets import TARGETS, Target
from optimizer.measuring.readiness.contract import TargetCheck
from optimizer.measuring.readiness.cpu import CHECK as CPU
from optimizer.measuring.readiness.edgetpu import CHECK as EDGETPU
from optimizer.measuring.readiness.gpu import CHECK as GPU
from optimizer.measuring.readiness.intel import CHECK as INTEL
from optimizer.measuring.readiness.mcu import CHECK as MCU
from optimizer.measuring.readiness.qualcomm import CHECK as QUALCOMM
from optimizer.measuring.readiness.report import Readiness

CHECKS: dict[Target, TargetCheck] = {
    Target.CPU: CPU,
    Target.GPU: GPU,
    Target.GPU_ANDROID: GPU,
    Target.EDGETPU: EDGETPU,
    Target.MCU: MCU,
    Target.NPU_QUALCOMM: QUALCOMM,
    Target.NPU_INTEL: INTEL,
}


class RegistryError(ImportError):
    """The check registry and the target table disagree (raised at import)."""


def verify(checks: dict, targets: dict) -> None:
    """Raise ``RegistryError`` unless every target row has exactly one check of its method."""
    missing = [str(getattr(t, "value", t)) for t in targets if t not in checks]
    if missing:
        raise RegistryError(f"no readiness check registered for target(s) {', '.join(missing)}: "
                            f"add a TargetCheck for each to CHECKS in "
                            f"optimizer/measuring/readiness/registry.py")
    extra = [str(getattr(t, "value", t)) for t in checks if t not in targets]
    if extra:
        raise RegistryError(f"readiness checks registered for unknown target(s) "
                            f"{', '.join(extra)}: add their rows to TARGETS or drop the checks")
    for target, info in targets.items():
        check = checks[target]
        if not isinstance(check, TargetCheck):
            raise RegistryError(f"the readiness check of {target} must be a TargetCheck, not "
                                f"{type(check).__name__}")
        if check.method != info.readiness:
            raise RegistryError(f"the {target} row declares readiness '{info.readiness}' but its "
                                f"registered check answers '{check.method}': make them agree")


verify(CHECKS, TARGETS)


def target_check(target: Target | str) -> TargetCheck:
    """The registered check of ``target``; ``ValueError`` names the known targets."""
    try:
        return CHECKS[Target(str(getattr(target, "value", target)))]
    except ValueError:
        raise ValueError(f"unknown target '{target}'; use one of "
                         f"{', '.join(t.value for t in Target)}") from None


def readiness_unavailable(target: Target | str) -> str | None:
    """Why ``target``'s check cannot run on this machine (naming the command that installs its
    tools), or None when it can."""
    return target_check(target).missing()


def check_fingerprint(target: Target | str) -> str:
    """The code and tools a verdict for ``target`` is checked with now (see ``TargetCheck``)."""
    return target_check(target).fingerprint()


def check_readiness(path, target: Target | str, *, soc: str | None = None, dataset=None,
                    budget=None) -> Readiness:
    """Whether the ``.tflite`` at ``path`` (or its bytes) runs on ``target``.

    ``soc`` picks the SoC for the NPU targets; ``dataset`` (a ``Dataset``) adds the accuracy
    through the target's runtime where one runs here (TFLite Micro); ``budget`` (a
    ``McuBudget``) adds the microcontroller's RAM/flash to the verdict. The verdict's ``ready``
    is None ("could not check") when the target's tool failed or was not understood. Raises
    ``ValueError`` for an unknown target or a file that is not a ``.tflite``, ``SetupMissing``
    when an optional check's tools are absent (the message names the command).
    """
    check = target_check(target)
    info = TARGETS[Target(str(getattr(target, "value", target)))]
    result = check.run(path, info.id.value, {"soc": soc, "dataset": dataset, "budget": budget})
    if result.method != check.method:
        raise RuntimeError(f"the {info.id.value} check answered '{result.method}' but is "
                           f"registered as '{check.method}'")
    return result
