"""The verdict of a readiness check: one shape for every target and method.

``Readiness.to_dict()`` is exactly what ``python -m optimizer readiness --json -`` prints::

    {"target": .., "method": "interpreted|compiled|partitioned|rules",
     "ready": true|false|null, "summary": "one sentence", "ops": [{"op": .., "count": .., "where":
     "accelerator|cpu|unsupported", "reason": ..}], "memory": {"arena_bytes": ..,
     "flash_bytes": ..} or null, "accuracy": .. or null}

``where`` is where an op runs on that target: ``accelerator`` (on the target's own engine: the
NPU, the Edge TPU, the GPU delegate, XNNPACK on a CPU, TFLite Micro's kernels on a
microcontroller), ``cpu`` (falls back to the host CPU's kernels) or ``unsupported`` (cannot run
there at all).

``ready`` has three values: true (ready), false (not ready: the check found why) and null
("could not check": the tool failed or its output was not understood; the summary says why,
and nothing is claimed about the ops). A verdict that could not check is never counted as
ready, nor as a finding that the file does not run there.

The summary and the op reasons are English (``optimizer.text.Message`` where a check wrote them
as messages); ``to_dict(messages=True)`` (the app's form, ``readiness --messages``) adds
``"messages": {"summary": .., "reasons": [..]}``, their ids and values, which ``from_dict``
reads back so a page writes them in its reader's language (``text.render``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from optimizer.text import Message, msg

WHERE = ("accelerator", "cpu", "unsupported")
METHODS = ("interpreted", "compiled", "partitioned", "rules")
COULD_NOT_CHECK = "could not check"


@dataclass(frozen=True)
class OpPlacement:
    """Where the ops of one kind (and one reason) run: ``count`` of them."""

    op: str
    count: int
    where: str
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.where not in WHERE:
            raise ValueError(f"where must be one of {WHERE}, not {self.where!r}")

    def to_dict(self) -> dict:
        return {"op": self.op, "count": self.count, "where": self.where, "reason": self.reason}


@dataclass(frozen=True)
class Readiness:
    """Whether a ``.tflite`` runs on a target, how that was found out, and what was measured.

    ``memory`` holds ``arena_bytes`` / ``flash_bytes`` (microcontroller); ``accuracy`` the
    metric through the target's runtime next to LiteRT's, when data was given; ``details``
    extra facts (partitions, SoC, seconds, budgets) shown beside the verdict.
    """

    target: str
    method: str
    ready: bool | None
    summary: str
    ops: tuple = ()
    memory: dict | None = None
    accuracy: dict | None = None
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")

    @property
    def state(self) -> str:
        """"ready", "not ready" or "could not check"."""
        return verdict_state(self.ready)

    @property
    def label(self) -> str:
        """The state with the method: "ready (rules)", "could not check (compiled)"."""
        return f"{self.state} ({self.method})"

    def to_dict(self, details: bool = False, messages: bool = False) -> dict:
        """The CLI's JSON shape; ``details=True`` adds the ``details`` key, ``messages=True``
        the summary's and reasons' message data (see the module doc)."""
        data = {"target": self.target, "method": self.method, "ready": self.ready,
                "summary": self.summary, "ops": [o.to_dict() for o in self.ops],
                "memory": self.memory, "accuracy": self.accuracy}
        if details:
            data["details"] = dict(self.details)
        if messages:
            data["messages"] = {"summary": _data(self.summary),
                                "reasons": [_data(o.reason) for o in self.ops]}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Readiness":
        ready = data["ready"]
        kept = data.get("messages") if isinstance(data.get("messages"), dict) else {}
        reasons = kept.get("reasons") if isinstance(kept.get("reasons"), list) else []
        ops = [dict(o) for o in data.get("ops") or ()]
        if len(reasons) == len(ops):
            for op, reason in zip(ops, reasons):
                op["reason"] = Message.from_dict(reason) or op.get("reason")
        return cls(target=data["target"], method=data["method"],
                   ready=None if ready is None else bool(ready),
                   summary=Message.from_dict(kept.get("summary")) or data["summary"],
                   ops=tuple(OpPlacement(**o) for o in ops),
                   memory=data.get("memory"), accuracy=data.get("accuracy"),
                   details=dict(data.get("details") or {}))


def _data(text) -> dict | None:
    return text.to_dict() if isinstance(text, Message) else None


def shown_summary(verdict: dict) -> str:
    """A verdict's (``to_dict`` form) summary in the language in use: from its message data
    when it kept them, else as written."""
    from optimizer.text import render

    kept = verdict.get("messages") if isinstance(verdict.get("messages"), dict) else {}
    return render(kept["summary"]) if kept.get("summary") else str(verdict.get("summary") or "")


def shown_reasons(verdict: dict) -> list:
    """The reasons of a verdict's op rows (``None`` where an op has none), in the language in
    use where the verdict kept their message data."""
    from optimizer.text import render

    ops = list(verdict.get("ops") or [])
    kept = verdict.get("messages") if isinstance(verdict.get("messages"), dict) else {}
    reasons = kept.get("reasons") if isinstance(kept.get("reasons"), list) else []
    if len(reasons) != len(ops):
        reasons = [None] * len(ops)
    return [render(data) if data else op.get("reason") for op, data in zip(ops, reasons)]


def verdict_state(ready) -> str:
    """The words for a verdict's ``ready`` value: True, False or None (could not check)."""
    if ready is None:
        return COULD_NOT_CHECK
    return "ready" if ready else "not ready"


def grouped(placements) -> tuple:
    """Merge ``(op, where, reason)`` triples into counted ``OpPlacement`` rows, in order."""
    counts: dict[tuple, int] = {}
    for op, where, reason in placements:
        counts[(op, where, reason)] = counts.get((op, where, reason), 0) + 1
    return tuple(OpPlacement(op, n, where, reason) for (op, where, reason), n in counts.items())


def count_where(ops, where: str) -> int:
    """How many ops (summing counts) run ``where``."""
    return sum(o.count for o in ops if o.where == where)


def stay(names) -> str:
    """"ATAN2 stays" / "ATAN2, TOPK_V2 stay" / "some ops stay"."""
    names = list(names)
    if not names:
        return msg("some ops stay")
    if len(names) == 1:
        return msg("{names} stays", names=names[0])
    return msg("{names} stay", names=", ".join(names))
