"""The questionnaire's wording: the guide's tree questions in the user's words, and goals.

Options are (value, label) pairs whose values are exactly what ``optimizer.Answers`` takes;
``goals_from_form`` / ``goal_form_defaults`` translate between the form and ``optimizer.Goals``.
"""
from __future__ import annotations

from optimizer import TARGET_LABELS, Target
from optimizer import TARGETS as TARGET_ROWS

OPTIMIZE = {True: "Optimize it (smaller, maybe faster)",
            False: "Just convert it to a float .tflite, don't optimize"}
DATA = {"labelled": "Labelled training data",
        "unlabelled": "A few hundred unlabelled samples (inputs only)",
        "none": "No data at all"}
TARGETS = {t.value: TARGET_LABELS[t] for t in Target}
SIZE = {"2x": "About 2x smaller is enough", "4x": "As small as possible (about 4x)"}
EFFORT = {"quick": "Quickest path", "thorough": "Best result, more effort is fine"}
ACCURACY = {"standard": "Standard: a small loss is fine",
            "high": "Highest accuracy matters most"}

DROP_MODES = {"absolute": "points (absolute)", "relative": "% of the baseline (relative)"}
SIZE_KINDS = {"none": "No size target", "bytes": "At most … kB", "ratio": "At least … x smaller"}


def value_of(answer) -> str:
    """The plain string of an enum answer (or the value itself)."""
    return getattr(answer, "value", answer)


def goal_form_defaults(goals, target="cpu") -> dict:
    """Form values that reproduce ``goals`` (so the form shows what was saved). "Must be ready"
    starts on where the target row has it off by default (nothing to remember there),
    elsewhere the saved goal says."""
    acc, size, lat = goals.accuracy, goals.size, goals.latency
    mcu = getattr(goals, "mcu", None)
    out = {"drop": 1.0, "drop_mode": "absolute", "size_kind": "none", "size_value": 0.0,
           "compressed": False, "latency_ms": 0.0,
           "must_be_ready": (getattr(goals, "target", None) is not None
                             or not TARGET_ROWS[Target(value_of(target))].ready_by_default),
           "ram_kb": float(mcu.ram_kb or 0) if mcu else 0.0,
           "flash_kb": float(mcu.flash_kb or 0) if mcu else 0.0}
    if acc is not None:
        out["drop"] = round(acc.max_drop * 100, 4)
        out["drop_mode"] = "relative" if acc.relative else "absolute"
    if size is not None:
        out["compressed"] = bool(size.compressed)
        if size.max_bytes is not None:
            out["size_kind"], out["size_value"] = "bytes", size.max_bytes / 1e3
        elif size.max_ratio:
            out["size_kind"], out["size_value"] = "ratio", round(1.0 / size.max_ratio, 4)
    if lat is not None:
        out["latency_ms"] = float(lat.max_ms)
    return out


def goals_from_form(drop: float, drop_mode: str, size_kind: str, size_value: float,
                    compressed: bool, latency_ms: float, higher_is_better: bool = True,
                    target: str = "cpu", must_be_ready: bool = True, ram_kb: float = 0,
                    flash_kb: float = 0):
    """Build ``optimizer.Goals`` from the form; ``ValueError`` names the field to fix.

    The accuracy drop is entered in points or percent and stored as a fraction (1 point =
    0.01). A size target is kB (1 kB = 1,000 bytes) or "x smaller" (stored as the ratio
    candidate/baseline, e.g. 4x -> 0.25). A latency of 0 means no latency target.
    ``must_be_ready`` adds "must be ready for the target" where the target row has that goal
    (``TargetInfo.ready_by_default``); the microcontroller budgets (kB = 1024 bytes, 0 = none)
    count only for the mcu target.
    """
    from optimizer import AccuracyGoal, Goals, LatencyGoal, McuBudget, SizeGoal, TargetGoal

    if drop < 0:
        raise ValueError("the accuracy drop must be 0 or more; enter e.g. 1 for one point")
    if drop_mode == "relative" and drop >= 100:
        raise ValueError("a relative accuracy drop is a percentage of the baseline below 100; "
                         "enter e.g. 2 for 2%")
    accuracy = AccuracyGoal(max_drop=drop / 100.0, relative=drop_mode == "relative",
                            higher_is_better=higher_is_better)
    size = None
    if size_kind == "bytes":
        if size_value <= 0:
            raise ValueError("enter the largest acceptable size in kB, or choose 'No size target'")
        size = SizeGoal(max_bytes=int(round(size_value * 1e3)), compressed=compressed)
    elif size_kind == "ratio":
        if size_value <= 1:
            raise ValueError("a size target of 'x smaller' must be above 1 (e.g. 4 for 4x "
                             "smaller), or choose 'No size target'")
        size = SizeGoal(max_ratio=1.0 / size_value, compressed=compressed)
    latency = LatencyGoal(max_ms=latency_ms) if latency_ms and latency_ms > 0 else None
    target = value_of(target)
    mcu = None
    if target == Target.MCU.value and (ram_kb or flash_kb):
        if (ram_kb or 0) < 0 or (flash_kb or 0) < 0:
            raise ValueError("microcontroller budgets are kB of RAM and flash, 0 for none")
        mcu = McuBudget(ram_kb=int(ram_kb) or None, flash_kb=int(flash_kb) or None)
    ready = TargetGoal(target) if must_be_ready and TARGET_ROWS[Target(target)].ready_by_default \
        else None
    return Goals(accuracy=accuracy, size=size, latency=latency, mcu=mcu, target=ready)
