"""The goals about the hardware: a microcontroller's memory budget and "must be ready for the
target". Both are judged on what a readiness check measured (``Result.readiness``), so before
*Check readiness* has run their verdict is "not checked yet" (``GoalState.NOT_CHECKED``: never
met, never missed), also when the check failed or could not tell (``ready`` null).
"""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.guide.verdicts import GoalItem, GoalState, as_result, failure
from optimizer.text import Message, figure, msg

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

    def describe(self) -> Message:
        """The goal as a sentence: "tensor arena within 256 kB of RAM, model within 1,024 kB
        of flash"."""
        arena = msg("tensor arena within {kb} kB of RAM", kb=figure(self.ram_kb)) \
            if self.ram_kb else None
        model = msg("model within {kb} kB of flash", kb=figure(self.flash_kb)) \
            if self.flash_kb else None
        if arena and model:
            return msg("{first}, {second}", first=arena, second=model)
        return arena or model

    def check_memory(self, arena_bytes: int | None, flash_bytes: int | None) -> GoalItem:
        """The verdict on measured bytes, e.g. "arena 9.13 kB <= 256 kB RAM; model 44.4 kB
        <= 1,024 kB flash" (kB of 1,024 bytes)."""
        parts, met = [], True
        for label, used, kb in (("arena", arena_bytes, self.ram_kb),
                                ("model", flash_bytes, self.flash_kb)):
            if kb is None:
                continue
            arena = label == "arena"
            if used is None:
                parts.append(msg("arena not measured (RAM budget {kb} kB)", kb=figure(kb))
                             if arena else
                             msg("model not measured (flash budget {kb} kB)", kb=figure(kb)))
                met = False
                continue
            ok = used <= kb * KB
            met = met and ok
            shown = figure(used, "kib")
            if shown == f"{figure(kb)} kB" or shown == figure(kb * KB, "kib"):
                shown = msg("{used} B of {total} B", used=figure(used), total=figure(kb * KB))
            values = {"shown": shown, "kb": figure(kb)}
            if arena:
                parts.append(msg("arena {shown} <= {kb} kB RAM", **values) if ok else
                             msg("arena {shown} > {kb} kB RAM", **values))
            else:
                parts.append(msg("model {shown} <= {kb} kB flash", **values) if ok else
                             msg("model {shown} > {kb} kB flash", **values))
        while len(parts) > 1:
            parts[-2:] = [msg("{first}; {second}", first=parts[-2], second=parts[-1])]
        return GoalItem(self.name, met, parts[0] if parts else "",
                        {"arena_bytes": arena_bytes, "flash_bytes": flash_bytes,
                         "ram_kb": self.ram_kb, "flash_kb": self.flash_kb})

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict on a Result whose ``readiness`` holds a microcontroller check; not
        checked yet (its own state, never "missed") before the check has run."""
        cand = as_result(candidate, "candidate")
        failed = failure(cand, "the candidate")
        if failed:
            return GoalItem(self.name, False, msg("memory not measured: {why}", why=failed))
        verdict = cand.readiness or {}
        memory = verdict.get("memory") or {}
        if memory:
            return self.check_memory(memory.get("arena_bytes"), memory.get("flash_bytes"))
        if verdict.get("target") != "mcu" or verdict.get("error") or verdict.get("ready") is None:
            why = verdict.get("error") or (_summary(verdict) if verdict.get("target") == "mcu"
                                           else "")
            return GoalItem(self.name, GoalState.NOT_CHECKED,
                            msg("not checked yet: {why}",
                                why=why or msg("the microcontroller check has not run")))
        return GoalItem(self.name, False, msg("the microcontroller check did not measure "
                                              "{technique}'s arena (it does not run in TFLite "
                                              "Micro)", technique=cand.technique))

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

    def describe(self) -> Message:
        """The goal as a sentence: "ready for Microcontroller (its readiness check says so)"."""
        return msg("ready for {target} (its readiness check says so)",
                   target=_target_label(self.target))

    def evaluate(self, baseline, candidate) -> GoalItem:
        """The verdict with the check's own sentence and method; "not checked yet" (its own
        state, never "missed") before the check has run, when it failed, or when it could not
        tell (``ready`` null)."""
        cand = as_result(candidate, "candidate")
        failed = failure(cand, "the candidate")
        label = _target_label(self.target)
        if failed:
            return GoalItem(self.name, False, msg("not ready for {target}: {why}", target=label,
                                                  why=failed))
        verdict = cand.readiness or {}
        summary = _summary(verdict)
        if verdict.get("target") != self.target or verdict.get("error"):
            why = verdict.get("error") or msg("press 'Check readiness' to run the check")
            return GoalItem(self.name, GoalState.NOT_CHECKED,
                            msg("not checked yet for {target}: {why}", target=label, why=why),
                            {"target": self.target})
        values = {"target": label, "method": str(verdict.get("method")), "summary": summary}
        if verdict.get("ready") is None:      # the check ran but could not tell
            return GoalItem(self.name, GoalState.NOT_CHECKED,
                            msg("could not check for {target} ({method}): {summary}", **values),
                            {"target": self.target})
        return GoalItem(self.name, bool(verdict.get("ready")),
                        msg("ready for {target} ({method}): {summary}", **values)
                        if verdict.get("ready") else
                        msg("not ready for {target} ({method}): {summary}", **values),
                        {"target": self.target})

    def is_met(self, baseline, candidate) -> bool:
        """True if the candidate was checked for the target and is ready."""
        return self.evaluate(baseline, candidate).met


def _target_label(target: str):
    from optimizer.guide.targets import TARGET_LABELS, Target

    try:
        return msg(TARGET_LABELS[Target(target)])
    except ValueError:
        return str(target)


def _summary(verdict: dict):
    """A readiness verdict's summary without its final full stop and without "Could not
    check: " (the sentence says it): a message when the check kept its message data."""
    kept = verdict.get("messages") if isinstance(verdict.get("messages"), dict) else {}
    message = Message.from_dict(kept.get("summary"))
    if message is not None:
        if message.id == "Could not check: {why}." and "why" in message.params:
            return message.params["why"]
        return message
    return str(verdict.get("summary") or "").rstrip(".").removeprefix("Could not check: ")
