"""Progress events of a run: one JSON object per line in ``<run_dir>/events.jsonl``.

Every process of a run (the orchestrator, each job's worker, ``cancel_run``) appends to the
same file, so a reader (the app polling ``read_run``) can rebuild the whole state from disk.
An event looks like ``{"t": unix_time, "type": "progress", "technique": "pruning",
"step": "fine-tune (pruning)", "epoch": 2, "epochs": 6, "fraction": 0.33, "message": ".."}``;
``fraction`` is the fraction done of that technique (0..1). A ``result`` event carries the
technique's ``Result.to_dict()`` once it is complete (latency timed); a ``measured`` event
carries it earlier, as soon as its job has measured accuracy and size, with ``"latency":
"pending"`` (the results arrive while the run goes on; ``artifacts.recover.measured_results``
reads them back marked ``latency_pending``). Nothing here imports TensorFlow.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from optimizer.text import Message, render


class EventType(str, Enum):
    """The kinds of event a run writes (the ``type`` field)."""

    RUN_STARTED = "run_started"
    QUEUED = "queued"
    JOB_STARTED = "job_started"
    PROGRESS = "progress"
    RESULT = "result"
    MEASURED = "measured"   # a result before its latency is timed ("latency": "pending")
    JOB_FINISHED = "job_finished"
    RUN_FINISHED = "run_finished"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


#: Fields every event has (missing ones are written as null so readers need no defaults).
EVENT_FIELDS = ("t", "type", "technique", "step", "epoch", "epochs", "fraction", "message")


def make_event(type: EventType | str, technique: str | None = None, **fields) -> dict:
    """Build an event dict with every standard field present (``None`` where not given). A
    field given as an ``optimizer.text.Message`` (a ``message``, a ``step``) also keeps its id
    and values as ``<field>_data``, for a page to write it in its reader's language."""
    event = {"t": round(time.time(), 3), "type": EventType(type).value, "technique": technique,
             "step": None, "epoch": None, "epochs": None, "fraction": None, "message": None}
    event.update(fields)
    event.update({f"{key}_data": value.to_dict() for key, value in fields.items()
                  if isinstance(value, Message)})
    if event["fraction"] is not None:
        event["fraction"] = round(min(1.0, max(0.0, float(event["fraction"]))), 4)
    return event


class EventLog:
    """Appends events to one ``events.jsonl`` file; safe to use from several processes.

    Each event is written with a single ``write`` on an ``O_APPEND`` descriptor under an
    exclusive ``flock``, so lines from concurrent writers never interleave. A write cut short
    (a full disk) is rolled back, so the file never ends in half a line that the next event
    would be glued to; the ``OSError`` is raised.
    """

    def __init__(self, path: Path | str | None):
        self.path = Path(path) if path else None

    def emit(self, type: EventType | str, technique: str | None = None, **fields) -> dict:
        """Append one event (see ``make_event``) and return it. A log without a path is a no-op."""
        event = make_event(type, technique, **fields)
        if self.path is None:
            return event
        line = (json.dumps(event, default=str) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            try:
                if os.write(fd, line) != len(line):
                    raise OSError(errno.ENOSPC, "no space left on device (short write)")
            except OSError:
                os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)  # closing releases the lock
        return event

    def progress(self, techniques, step: str, fraction: float | None = None, message: str = "",
                 **fields) -> None:
        """Emit one ``progress`` event per technique (a job's steps are shared by its specs)."""
        for spec in _as_list(techniques):
            self.emit(EventType.PROGRESS, spec, step=step, fraction=fraction,
                      message=message or step, **fields)


def _as_list(techniques) -> list:
    if techniques is None or isinstance(techniques, str):
        return [techniques]
    return list(techniques)


def read_events(path: Path | str) -> list[dict]:
    """All complete events in the file, in order; a missing file gives ``[]``.

    A half-written last line (a writer killed mid-write) or a corrupt line is skipped rather
    than failing the reader: the app must always be able to show what is on disk.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    events = []
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("type"), str) and \
                isinstance(event.get("t"), (int, float)) and not isinstance(event["t"], bool):
            events.append(event)
    return events


class TechniqueState(str, Enum):
    """Where one technique of a run stands (``TechniqueProgress.state``)."""

    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"
    SKIPPED = "skipped"      # not applicable to this model; the message says why
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


FINAL_STATES = (TechniqueState.DONE.value, TechniqueState.ERROR.value,
                TechniqueState.SKIPPED.value, TechniqueState.CANCELLED.value)


@dataclass(frozen=True)
class TechniqueProgress:
    """The latest known progress of one technique spec, rebuilt from the events."""

    technique: str
    state: str = TechniqueState.WAITING.value
    step: str | None = None
    epoch: int | None = None
    epochs: int | None = None
    fraction: float = 0.0
    elapsed_s: float = 0.0
    message: str | None = None
    step_data: dict | None = None
    message_data: dict | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    def shown(self, field: str) -> str:
        """``step`` or ``message`` in the language in use (as recorded when it was not
        recorded as a message)."""
        data = getattr(self, f"{field}_data")
        return render(data) if data else (getattr(self, field) or "")


def fold_progress(events: list[dict], specs, now: float | None = None) -> dict:
    """Per-spec ``TechniqueProgress`` from a run's events, in the order of ``specs``.

    ``job_started`` makes a spec running, ``progress`` updates its step, epoch and fraction,
    and ``result`` finishes it (done, error, skipped or cancelled from the result's status). A spec's
    elapsed time runs from its job's start to its result (or ``now``).
    """
    now = time.time() if now is None else now
    state = {spec: {"technique": spec} for spec in specs}
    started: dict = {}
    for event in events:
        spec = event.get("technique")
        if spec not in state:
            continue
        row, kind = state[spec], event.get("type")
        if kind == EventType.JOB_STARTED.value:
            started.setdefault(spec, event.get("t", now))
            row.update(state=TechniqueState.RUNNING.value, message=event.get("message"),
                       message_data=event.get("message_data"))
        elif kind == EventType.PROGRESS.value and row.get("state") not in FINAL_STATES:
            started.setdefault(spec, event.get("t", now))
            row["state"] = TechniqueState.RUNNING.value
            for key in ("step", "epoch", "epochs", "fraction", "message"):
                if event.get(key) is not None:
                    row[key] = event[key]
                    if key in ("step", "message"):
                        row[f"{key}_data"] = event.get(f"{key}_data")
        elif kind == EventType.RESULT.value:
            result = event.get("result") or {}
            status = result.get("status", "ok")
            row["state"] = {"ok": TechniqueState.DONE.value,
                            "skipped": TechniqueState.SKIPPED.value,
                            "cancelled": TechniqueState.CANCELLED.value}.get(
                                status, TechniqueState.ERROR.value)
            row["fraction"] = 1.0
            row["message"] = result.get("error") or event.get("message") or "done"
            row["message_data"] = (result.get("error_data") if result.get("error") else
                                   event.get("message_data") if event.get("message") else None)
            row["elapsed_s"] = max(0.0, event.get("t", now) - started.get(spec, event.get("t", now)))
    out = {}
    for spec, row in state.items():
        if spec in started and "elapsed_s" not in row:
            row["elapsed_s"] = max(0.0, now - started[spec])
        row["fraction"] = float(row.get("fraction") or 0.0)
        out[spec] = TechniqueProgress(**row)
    return out
