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
"""
from __future__ import annotations

from dataclasses import dataclass, field

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

    def to_dict(self, details: bool = False) -> dict:
        """The CLI's JSON shape; ``details=True`` adds the ``details`` key."""
        data = {"target": self.target, "method": self.method, "ready": self.ready,
                "summary": self.summary, "ops": [o.to_dict() for o in self.ops],
                "memory": self.memory, "accuracy": self.accuracy}
        if details:
            data["details"] = dict(self.details)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Readiness":
        ready = data["ready"]
        return cls(target=data["target"], method=data["method"],
                   ready=None if ready is None else bool(ready),
                   summary=data["summary"],
                   ops=tuple(OpPlacement(**o) for o in data.get("ops") or ()),
                   memory=data.get("memory"), accuracy=data.get("accuracy"),
                   details=dict(data.get("details") or {}))


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
        return "some ops stay"
    return f"{', '.join(names)} {'stays' if len(names) == 1 else 'stay'}"
