"""How long a run waits for a worker slot: estimated from what is ahead of it, measured here.

Every job a run executes on this server (the post-training group, each retraining technique)
appends its measured duration to ``<workspace>/slots/job-times.jsonl`` (``record_job_time``).
A waiting run's estimate (``estimate_wait``) adds up, for each slot holder, the time its jobs
are expected to take less what it has already worked, and for each run queued ahead of it, the
expected time of its jobs. A job's expected time is the median of the last measured durations
of the same kind of job on the same model (a post-training group scaled by its number of
variants), else of the same kind on any model; a search counts its time budget; what has no
measurement yet counts the mean work time of the last runs (``fallback``), and without that
the estimate says it cannot tell.

The message names what holds the slot -- this workspace's own run, another workspace's run or
search (never whose, never its id), a command-line run -- and the wait is re-estimated while
it lasts. When a wait ends, its first estimate and the actual wait are appended to
``<workspace>/slots/wait-estimates.jsonl`` (``log_wait``), so the estimate's error is on record.
Nothing here imports TensorFlow.
"""
from __future__ import annotations

import hashlib
import heapq
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from optimizer import numbers, queueing

JOB_TIMES = "job-times.jsonl"
WAIT_LOG = "wait-estimates.jsonl"
#: The kind of the job that converts the baseline and every plain post-training variant.
POST_TRAINING = "post-training"
#: How many recent measurements of a kind of job the median is taken over.
RECENT = 20
#: How many job-time lines are read (the newest).
READ_LAST = 2000


def owner_tag(owner: str | None) -> str | None:
    """A workspace token as the queue files hold it: a digest that tells two workspaces apart
    and reveals neither."""
    return None if owner is None else hashlib.sha256(f"owner:{owner}".encode()).hexdigest()[:16]


def run_info(owner: str | None, model: str, jobs: list[tuple[str, int]]) -> dict:
    """A run's description for the queue: whose (digest), from where, its model and jobs
    (``(kind, number of techniques)``: ``POST_TRAINING`` or a retraining base like "qat")."""
    return {"kind": "run", "source": "app" if owner else "cli", "owner": owner_tag(owner),
            "model": str(model), "jobs": [{"kind": str(k), "specs": int(n)} for k, n in jobs]}


def work_info(kind: str, owner: str | None, budget_s: float | None = None) -> dict:
    """A search, repair or benchmark's description for the queue (a search: its time budget)."""
    return {"kind": str(kind), "source": "app" if owner else "cli", "owner": owner_tag(owner),
            "budget_s": budget_s}


def _file(name: str) -> Path:
    return queueing.pool_dir() / name


def _append(name: str, entry: dict) -> None:
    """One JSON line appended in one write; a full disk only loses the line."""
    try:
        fd = os.open(_file(name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:
        return
    try:
        os.write(fd, (json.dumps(entry) + "\n").encode())
    except OSError:
        pass
    finally:
        os.close(fd)


def _read(name: str, last: int = READ_LAST) -> list[dict]:
    try:
        lines = _file(name).read_bytes().split(b"\n")[-last - 1:]
    except OSError:
        return []
    out = []
    for raw in lines:
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def record_job_time(model: str, kind: str, specs: int, seconds: float) -> None:
    """Record that a job of ``kind`` with ``specs`` techniques on ``model`` held the slot for
    ``seconds`` (conversion, evaluation and latency timing)."""
    _append(JOB_TIMES, {"t": round(time.time(), 3), "model": str(model), "job": str(kind),
                        "specs": int(specs), "seconds": round(float(seconds), 3)})


def job_times() -> list[dict]:
    """The recorded job durations, oldest first (the newest ``READ_LAST``)."""
    return [t for t in _read(JOB_TIMES) if isinstance(t.get("seconds"), (int, float))]


def job_estimate(model: str, kind: str, specs: int, times: list[dict]) -> float | None:
    """Expected seconds of one job (see the module doc), None without a measurement."""
    same = [t for t in times if t.get("model") == model and t.get("job") == kind]
    pool = (same or [t for t in times if t.get("job") == kind])[-RECENT:]
    if not pool:
        return None
    if kind == POST_TRAINING:   # each variant converts, evaluates and is timed: scale by them
        return statistics.median(t["seconds"] * (1 + specs) / (1 + max(1, t.get("specs") or 1))
                                 for t in pool)
    return statistics.median(t["seconds"] for t in pool)


def work_estimate(info: dict, times: list[dict], fallback: float | None) -> float | None:
    """Expected seconds the work ``info`` describes holds a slot, or None."""
    if info.get("kind") == "search" and info.get("budget_s"):
        return float(info["budget_s"])
    jobs = info.get("jobs") if info.get("kind") == "run" else None
    if not jobs:
        return fallback
    total = 0.0
    for job in jobs:
        seconds = job_estimate(info.get("model") or "", job.get("kind"), job.get("specs") or 1,
                               times)
        if seconds is None:
            return fallback
        total += seconds
    return total


def who(info: dict, mine: dict | None) -> str:
    """What a queue entry is, in words that never say whose it is."""
    kind = {"run": "run", "search": "search", "repair": "per-layer repair",
            "benchmark": "benchmark"}.get(info.get("kind"), "job")
    if info.get("source") == "cli":
        return f"a command-line {kind}"
    if info.get("source") != "app":
        return f"a {kind} (started outside the app)" if info else "another process"
    if mine and info.get("owner") and info.get("owner") == mine.get("owner"):
        return f"your own {kind}"
    return f"another workspace's {kind}"


@dataclass
class Estimate:
    """A wait estimate: seconds (None: unknown), and what it is made of."""

    seconds: float | None
    holding: list = field(default_factory=list)   # (words, seconds left or None)
    ahead: list = field(default_factory=list)     # (words, seconds or None)


def estimate_wait(slots: int, ahead: list[dict], holding: list[dict], mine: dict | None,
                  times: list[dict], fallback: float | None, now: float | None = None
                  ) -> Estimate:
    """Seconds until a slot is free for the caller: each holder's expected time left, then
    each run ahead given the first slot to free up (see the module doc)."""
    now = time.time() if now is None else now
    estimate = Estimate(seconds=None)
    free_at, known = [], True
    for info in holding:
        total = work_estimate(info, times, fallback)
        left = None if total is None else max(total - max(0.0, now - (info.get("since") or now)),
                                              0.1 * total)
        estimate.holding.append((who(info, mine), left))
        known &= left is not None
        free_at.append(left or 0.0)
    free_at += [0.0] * max(0, slots - len(free_at))
    heapq.heapify(free_at)
    for info in ahead:
        seconds = work_estimate(info, times, fallback)
        estimate.ahead.append((who(info, mine), seconds))
        known &= seconds is not None
        heapq.heappush(free_at, heapq.heappop(free_at) + (seconds or 0.0))
    estimate.seconds = free_at[0] if known else None
    return estimate


def _about(seconds: float | None, unit: str = "") -> str:
    return "" if seconds is None else f" (about {numbers.seconds(seconds)}{unit})"


def wait_message(position: int, slots: int, estimate: Estimate, env: str) -> str:
    """The sentence a waiting run shows: its place, the estimate and what it waits for."""
    when = (f"about {numbers.seconds(estimate.seconds)}" if estimate.seconds is not None else
            "no measured times on this server yet to estimate the wait from")
    parts = [f"waiting for a free worker slot: number {position} in the queue, {when}"]
    if estimate.holding:
        parts.append("the slot is held by " + ", ".join(
            f"{words}{_about(left, ' left')}" for words, left in estimate.holding))
    if estimate.ahead:
        shown = [f"{words}{_about(seconds)}" for words, seconds in estimate.ahead[:3]]
        more = len(estimate.ahead) - len(shown)
        parts.append("ahead of this one: " + ", ".join(shown) + (f" and {more} more" if more
                                                                  else ""))
    basis = ("estimated from each technique's measured time on this server; "
             if estimate.seconds is not None else "")
    return "; ".join(parts) + (f"; {basis}{slots} run(s) at a time on this server ({env}="
                               f"{slots}), so runs do not distort each other's latency")


def log_wait(estimated_s: float | None, actual_s: float, position: int) -> None:
    """Append one finished wait: the first estimate it was given and how long it really was."""
    error = None if estimated_s is None or actual_s <= 0 else \
        round((estimated_s - actual_s) / actual_s, 3)
    _append(WAIT_LOG, {"t": round(time.time(), 3), "position": int(position),
                       "estimated_s": None if estimated_s is None else round(estimated_s, 2),
                       "actual_s": round(actual_s, 2), "error": error})


def wait_log() -> list[dict]:
    """The logged waits, oldest first."""
    return _read(WAIT_LOG)
