"""The goals about the hardware: a microcontroller's memory budget and "must be ready for the
target". Both are judged on what a readiness check measured (``Result.readiness``), so before
*Check readiness* has run their verdict is "not checked yet" (``GoalState.NOT_CHECKED``: never
met, never missed), also when the check failed or could not tell (``ready`` null).
"""
from __future__ import annotations

from dataclasses import dataclass

from optimizer import numbers
from optimizer.guide.verdicts import GoalItem, GoalState, as_result, failure

#: Bytes in one "kB" of a microcontroller budget (datasheets give RAM and flash in KiB).
KB = 1024


@dataclass(frozen=True)
class McuBudget:
    """A microcontroller's memory: the tensor arena must fit ``ram_kb`` and the model bytes
    ``flash_kb`` (1 kB = 1024 bytes); either may be None (not set).

    Judged like the size goal, on what the TFLite Micro readiness check measured: the smallest
    arena that allocates (``readiness["memory"]["arena_bytes"]``) and the file's bytes. Only the
    model counts against flash; the application and TFLM's own code need room too.
    """

    ram_kb: int | None = None
    flash_kb: int | None = None
    name = "microcontroller memory"

    def __post_init__(self) -> None:
        if self.ram_kb is None and self.flash_kb is None:
            raise ValueError("set ram_kb or flash_kb (or both), e.g. ram_kb=256, flash_kb=1024")
        for key in ("ram_kb", "flash_kb"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value <= 0):
                raise ValueError(f"{key} must be a positive whole number of kB, not {value!r}")

    def describe(self) -> str:
        """The goal as a sentence: "tensor arena within 256 kB of RAM, model within 1,024 kB
        of flash"."""
        parts = [f"tensor arena within {numbers.count(kb)} kB of {where}" if label == "arena"
                 else f"model within {numbers.count(kb)} kB of {where}"
                 for label, kb, where in (("arena", self.ram_kb, "RAM"),
                                          ("model", self.flash_kb, "flash")) if kb]
        return ", ".join(parts)

    def check_memory(self, arena_bytes: int | None, flash_bytes: int | None) -> GoalItem:
        """The verdict on measured bytes, e.g. "arena 9.13 kB <= 256 kB RAM; model 44.4 kB
        <= 1,024 kB flash" (kB of 1,024 bytes)."""
        parts, met = [], True
        for label, used, kb in (("arena", arena_bytes, self.ram_kb),
                                ("model", flash_bytes, self.flash_kb)):
            if kb is None:
                continue
            where = "RAM" if label == "arena" else "flash"
            if used is None:
                parts.append(f"{label} not measured ({where} budget {numbers.count(kb)} kB)")
                met = False
                continue
            ok = used <= kb * KB
            met = met and ok
            shown = numbers.kib(used)
            if shown == f"{numbers.count(kb)} kB" or shown == numbers.kib(kb * KB):
                shown = f"{numbers.count(used)} B of {numbers.count(kb * KB)} B"
            parts.append(f"{label} {shown} {'<=' if ok else '>'} {numbers.count(kb)} kB {where}")
        return GoalItem(self.name, met, "; ".join(parts),
                        {"arena_bytes": arena_bytes, "flash_bytes": flash_bytes,
                         "ram_kb": self.ram_kb, "flash_kb": self.flash_kb})

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict on a Result whose ``readiness`` holds a microcontroller check; not
        checked yet (its own state, never "missed") before the check has run."""
        cand = as_result(candidate, "candidate")
        failed = failure(cand, "the candidate")
        if failed:
            return GoalItem(self.name, False, f"memory not measured: {failed}")
        verdict = cand.readiness or {}
        memory = verdict.get("memory") or {}
        if memory:
            return self.check_memory(memory.get("arena_bytes"), memory.get("flash_bytes"))
        if verdict.get("target") != "mcu" or verdict.get("error") or verdict.get("ready") is None:
            why = verdict.get("error") or (str(verdict.get("summary") or "").rstrip(".")
                                           if verdict.get("target") == "mcu" else "")
            return GoalItem(self.name, GoalState.NOT_CHECKED,
                            f"not checked yet: {why or 'the microcontroller check has not run'}")
        return GoalItem(self.name, False, f"the microcontroller check did not measure "
                                          f"{cand.technique}'s arena (it does not run in "
                                          f"TFLite Micro)")

    def is_met(self, baseline, candidate) -> bool:
        """True if the candidate's measured arena and model bytes fit the budget."""
        return self.evaluate(baseline, candidate).met


@dataclass(frozen=True)
class TargetGoal:
    """"Must be ready for the target": the candidate's readiness check for ``target`` ran and
    said ready (``Result.readiness``, from ``optimizer.measuring.readiness``). A variant that was
    not checked, was checked for another target, or whose check could not tell (``ready``
    null) does not meet it, and is "not checked yet", never "missed"."""

    target: str
    name = "target"

    def __post_init__(self) -> None:
        if not isinstance(self.target, str) or not self.target:
            raise ValueError(f"target must be a target id such as 'mcu', not {self.target!r}")
        object.__setattr__(self, "target", str(getattr(self.target, "value", self.target)))

    def describe(self) -> str:
        """The goal as a sentence: "ready for Microcontroller (its readiness check says so)"."""
        return f"ready for {_target_label(self.target)} (its readiness check says so)"

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with the check's own sentence and method; "not checked yet" (its own
        state, never "missed") before the check has run, when it failed, or when it could not
        tell (``ready`` null)."""
        cand = as_result(candidate, "candidate")
        failed = failure(cand, "the candidate")
        label = _target_label(self.target)
        if failed:
            return GoalItem(self.name, False, f"not ready for {label}: {failed}")
        verdict = cand.readiness or {}
        summary = str(verdict.get("summary", "")).rstrip(".")
        if verdict.get("target") != self.target or verdict.get("error"):
            why = verdict.get("error") or "press 'Check readiness' to run the check"
            return GoalItem(self.name, GoalState.NOT_CHECKED,
                            f"not checked yet for {label}: {why}", {"target": self.target})
        if verdict.get("ready") is None:      # the check ran but could not tell
            why = summary.removeprefix("Could not check: ")
            return GoalItem(self.name, GoalState.NOT_CHECKED,
                            f"could not check for {label} ({verdict.get('method')}): {why}",
                            {"target": self.target})
        word = "ready" if verdict.get("ready") else "not ready"
        return GoalItem(self.name, bool(verdict.get("ready")),
                        f"{word} for {label} ({verdict.get('method')}): {summary}",
                        {"target": self.target})

    def is_met(self, baseline, candidate) -> bool:
        """True if the candidate was checked for the target and is ready."""
        return self.evaluate(baseline, candidate).met


def _target_label(target: str) -> str:
    from optimizer.guide.targets import TARGET_LABELS, Target

    try:
        return TARGET_LABELS[Target(target)]
    except ValueError:
        return str(target)
