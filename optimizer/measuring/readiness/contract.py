"""What a readiness check is: ``TargetCheck`` (its method, its callable, the tools it needs) and
the two ways a check may decline to answer.

Every check module of this package defines ``CHECK = TargetCheck(...)``; ``registry.CHECKS``
keys them by ``Target`` and is checked complete against ``optimizer.guide.targets.TARGETS`` at
import. ``could_not_check`` builds the third verdict besides ready and not ready: the check ran
(or tried to) but its tool failed or said something this code does not understand, so nothing
is claimed about the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from optimizer.measuring.readiness.report import METHODS, Readiness


class SetupMissing(ValueError):
    """An optional check whose tools are not installed; the message names the command."""


def _no_tools() -> str | None:
    return None


def _nothing() -> str:
    return ""


@dataclass(frozen=True)
class TargetCheck:
    """One readiness check.

    ``run(path, target, options)`` returns a ``Readiness`` whose method is ``method``.
    ``version`` names this code's rules or parsing (bump it when a change would change a
    verdict: cached verdicts carry it). ``missing()`` says why the check's optional tools are
    absent, naming the command that installs them (None when they are there or none are
    needed); ``tools()`` identifies the installed tools ("" when none are needed), so a verdict
    cached before a setup, or with other tools, is checked again.
    """

    method: str
    run: Callable
    version: str
    missing: Callable[[], str | None] = _no_tools
    tools: Callable[[], str] = _nothing

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")

    def fingerprint(self) -> str:
        """What a cached verdict must have been checked with to be served: code and tools."""
        tools = "tools absent" if self.missing() else self.tools()
        return f"{self.version}; {tools}" if tools else self.version


def could_not_check(target, method: str, why: str, details: dict | None = None) -> Readiness:
    """The verdict when the check could not tell: never ready, never "not ready", and no op
    placement claimed. ``why`` is one line naming the cause (and the fix when there is one)."""
    why = " ".join(str(why).split()).rstrip(".")
    return Readiness(str(target), method, None, f"Could not check: {why}.", (), None, None,
                     dict(details or {}))
