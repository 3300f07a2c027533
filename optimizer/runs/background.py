"""Runs as background process trees: start, read, cancel, list (the app's API).

``start_run(request, run_dir)`` writes the request to ``request.json`` and spawns
``python -m optimizer run --request request.json ...`` in its own process group
(``optimizer.runs.processes``) and returns at once; that orchestrator
(``optimizer.runs.orchestrate``) runs each job in a child ``python -m optimizer worker``
process and writes everything to the run folder (see ``optimizer.artifacts.store``).
``read_run(run_dir)`` rebuilds the whole state from those files alone, so it survives the
caller going away (a Streamlit rerun, a new browser tab, a server restart). Nothing here
imports TensorFlow.
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from optimizer import access
from optimizer.artifacts import space, store
from optimizer.artifacts.events import (
    FINAL_STATES,
    EventLog,
    EventType,
    TechniqueProgress,
    TechniqueState,
    fold_progress,
    read_events,
)
from optimizer.artifacts.recover import load_results, measured_results, results_from_jobs
from optimizer.guide.registry import TechniqueId, parse_spec
from optimizer.guide.schema import Result, Status
from optimizer.runs.processes import just_started, start_in_background, stop_processes
from optimizer.runs.request import RunRequest
from optimizer.text import msg, render, tr

__all__ = ["RunState", "RunStatus", "TechniqueProgress", "start_run", "read_run", "cancel_run",
           "list_runs"]


#: Relative expected cost of a technique in a run: a post-training conversion (plus its
#: evaluation and timing) is 1; a retraining technique fine-tunes first (on digits-mobilenetv2
#: 0 of 5 techniques were done at 60 % of an equal-weight bar; QAT took most of the 166 s).
POST_TRAINING_COST = 1.0
RETRAINING_COST = 8.0


def expected_cost(spec: str) -> float:
    """The weight of ``spec`` in a run's overall progress (see ``RETRAINING_COST``)."""
    try:
        return RETRAINING_COST if parse_spec(spec).retrains else POST_TRAINING_COST
    except ValueError:
        return POST_TRAINING_COST


class RunStatus:
    """The values of ``RunState.status``."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    OVER = (FINISHED, FAILED, CANCELLED)


@dataclass(frozen=True)
class RunState:
    """A run as read from its folder: status, per-technique progress, results so far.

    ``status`` is "queued" | "running" | "finished" | "failed" | "cancelled"; ``error`` is a
    one-line run-level error (or None); ``progress`` maps each spec to its
    ``TechniqueProgress``; ``results`` are the results written so far, with those measured
    but not yet timed while it runs (``latency_pending``: accuracy and size, no latency yet),
    plus error/cancelled records for unfinished specs once the run is over.
    """

    run_dir: Path
    status: str
    elapsed_s: float
    progress: dict
    results: list
    error: str | None = None
    request: RunRequest | None = None
    model: str | None = None
    started_at: float | None = None
    queue_message: str | None = None
    extra: dict = field(default_factory=dict)
    damaged: str | None = None   # "this run's files are damaged: <what>", shown beside the rest
    queue_position: int | None = None   # 1 = next to get a worker slot (while queued)
    wait_estimate_s: float | None = None  # from the last runs' measured work times
    wait_s: float = 0.0          # time spent waiting for a worker slot
    work_s: float = 0.0          # time from getting the slot to the end (or now)

    @property
    def done(self) -> bool:
        """True once the run is over (finished, failed or cancelled)."""
        return self.status in RunStatus.OVER

    @property
    def overall_fraction(self) -> float:
        """Fraction done over the techniques, each weighted by its expected cost
        (``expected_cost``: retraining ones fine-tune for many times a conversion's time)."""
        if not self.progress:
            return 1.0 if self.done else 0.0
        weights = {spec: expected_cost(spec) for spec in self.progress}
        done = sum(weights[s] * (1.0 if p.finished else min(1.0, max(0.0, p.fraction or 0.0)))
                   for s, p in self.progress.items())
        return done / sum(weights.values())

    @property
    def seconds_left(self) -> float | None:
        """A rough estimate of the time left (elapsed time scaled by the weighted fraction
        still to do); None before 5 % is done, when the run is over, or while queued."""
        fraction = self.overall_fraction
        if self.done or self.status != RunStatus.RUNNING or fraction < 0.05:
            return None
        return self.elapsed_s * (1.0 - fraction) / fraction

    def result(self, spec: str) -> Result | None:
        """The result for one spec, if there is one."""
        return next((r for r in self.results if r.technique == spec), None)


def start_run(request: RunRequest, run_dir: Path | str, use_cache: bool = True) -> Path:
    """Start a run in the background and return its folder at once.

    Writes ``request.json`` (the whole request: what to measure, and the answers and goals the
    results are judged by) and ``pid``, then spawns ``python -m optimizer run --request
    request.json`` in a new process group with its output in ``run.log``. ``use_cache=False``
    measures again even if an identical run was measured. Raises ``ValueError`` for an unknown
    model or a folder that already holds a run.
    """
    from optimizer.models.resolve import resolve_model

    run_dir = Path(run_dir).resolve()
    if (run_dir / store.EVENTS).exists() or (run_dir / store.REQUEST).exists():
        raise ValueError(msg("{name} already holds a run; start each run in a new folder",
                             name=run_dir.name))
    _check_queue_share(run_dir.parent)
    space.ensure_space(run_dir.parent, space.RUN_OVERHEAD_BYTES, msg("a run"))   # NoSpace: one line
    bundle = resolve_model(request.model, request.data)  # fail fast on unusable input
    # Files are recorded as absolute paths: the orchestrator runs with the run folder as cwd.
    request = replace(request, model=bundle.ref, data=bundle.data)
    run_dir.mkdir(parents=True, exist_ok=True)
    store.write_json_atomic(run_dir / store.REQUEST, request.to_dict())
    start_in_background("run", ["--request", str(run_dir / store.REQUEST), "--out", str(run_dir),
                                "--events", str(run_dir / store.EVENTS),
                                "--json", str(run_dir / store.RESULTS)]
                        + ([] if use_cache else ["--no-cache"]), run_dir)
    return run_dir


ENV_MAX_QUEUED = "OPTIMIZER_MAX_QUEUED"
DEFAULT_MAX_QUEUED = 2


def max_queued() -> int:
    """Runs one workspace may have waiting at once: ``OPTIMIZER_MAX_QUEUED`` (default 2)."""
    raw = os.environ.get(ENV_MAX_QUEUED, "").strip()
    try:
        value = int(raw) if raw else DEFAULT_MAX_QUEUED
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(msg("{env_max_queued}={raw!r} must be a whole number >= 1",
                             env_max_queued=ENV_MAX_QUEUED, raw=raw))
    return value


def _check_queue_share(parent: Path) -> None:
    """Refuse a new run while this workspace (the runs folder) already has its share of runs
    waiting for a slot, so one user cannot fill the queue in front of everyone else."""
    if not parent.is_dir():
        return
    limit = max_queued()
    waiting = sum(1 for d in parent.iterdir() if (d / store.REQUEST).exists()
                  and read_run(d).status == RunStatus.QUEUED)
    if waiting >= limit:
        raise ValueError(msg("you already have {waiting} run(s) waiting in the queue (at most {limit} "
                             "per workspace, {env_max_queued}); wait for one to start or cancel one",
                             waiting=waiting, limit=limit, env_max_queued=ENV_MAX_QUEUED))


def read_run(run_dir: Path | str) -> RunState:
    """Rebuild a run's state from its folder alone (request, events, results, lock).

    Never raises for a damaged folder: what cannot be read is named in ``RunState.damaged``
    and everything readable is kept, so one bad folder never breaks a page or the other runs.
    """
    run_dir = Path(run_dir)
    try:
        return _read_run(run_dir)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OSError) as exc:
        results, damaged = load_results(run_dir, [])
        what = f"{type(exc).__name__}: {str(exc).strip()[:120]}"
        return RunState(run_dir=run_dir, status=RunStatus.FAILED, elapsed_s=0.0, progress={},
                        results=results, error=None,
                        damaged=damaged or tr("this run's files are damaged: {what}",
                                              what=what))


def _read_run(run_dir: Path) -> RunState:
    now = time.time()
    raw_request = store.read_json(run_dir / store.REQUEST)
    request = _request_or_none(raw_request)
    events = read_events(run_dir / store.EVENTS)
    started = next((e for e in events if e["type"] == EventType.RUN_STARTED.value), None)
    finished = next((e for e in reversed(events) if e["type"] == EventType.RUN_FINISHED.value), None)
    queued = next((e for e in reversed(events) if e["type"] == EventType.QUEUED.value), None)
    specs = list(request.specs) if request else list((started or {}).get("techniques") or [])
    progress = fold_progress(events, specs, now=now)
    results, damaged = load_results(run_dir, events)
    pid = store.read_pid(run_dir) or {}
    alive = store.RunLock.is_held(run_dir)
    first_t = events[0]["t"] if events else pid.get("t")
    status, error = _status(run_dir, alive, started, finished, pid, now, events)
    end_t = finished["t"] if finished else (events[-1]["t"] if events and status in
                                             RunStatus.OVER else now)
    if status in RunStatus.OVER:
        if not alive and status != RunStatus.CANCELLED:
            results = results + results_from_jobs(run_dir, {r.technique for r in results})
            results = results + measured_results(events, {r.technique for r in results},
                                                 over=True)
        progress, results = _close_unfinished(progress, results, status, error, request)
    else:   # results measured so far, their latency still to come (drawn as they arrive)
        results = results + measured_results(events, {r.technique for r in results})
    return RunState(run_dir=run_dir, status=status,
                    elapsed_s=max(0.0, (end_t - first_t) if first_t else 0.0),
                    wait_s=max(0.0, ((started or {}).get("t", end_t) - first_t)
                               if first_t else 0.0),
                    work_s=max(0.0, end_t - started["t"]) if started else 0.0,
                    queue_position=(queued or {}).get("position") if status == "queued" else None,
                    wait_estimate_s=(queued or {}).get("wait_s") if status == "queued" else None,
                    progress=progress, results=results, error=error, request=request,
                    model=(started or {}).get("model") or (request.model if request else None),
                    started_at=first_t,
                    queue_message=(queued or {}).get("message") if status == "queued" else None,
                    extra=_cache_note(run_dir),
                    damaged=damaged if raw_request is None or request else
                    damaged or tr("this run's files are damaged: request.json is not a run "
                                  "request"))


def _cache_note(run_dir: Path) -> dict:
    """``{"cache_key": ..}`` of a run keyed for the result cache (``optimizer.workspace.cache``),
    plus ``{"cached": True, "cached_from": {"measured_at", "measured_on"}}`` for one served
    from it; ``{}`` without a key."""
    doc = store.read_json(run_dir / store.RESULTS)
    if not isinstance(doc, dict):
        return {}
    note = {"cache_key": doc["cache_key"]} if isinstance(doc.get("cache_key"), str) else {}
    if doc.get("cached") is True:
        source = doc.get("cached_from")
        note.update(cached=True, cached_from=source if isinstance(source, dict) else {})
    return note


def _request_or_none(raw) -> RunRequest | None:
    if not isinstance(raw, dict):
        return None
    try:
        return RunRequest.from_dict(raw)
    except (KeyError, ValueError):
        return None


def _status(run_dir, alive, started, finished, pid, now, events) -> tuple[str, str | None]:
    if (run_dir / store.CANCELLED).exists():
        return RunStatus.CANCELLED, None
    if finished:
        status = finished.get("status") or RunStatus.FINISHED
        return status, _shown(finished, "error")
    if alive:
        return (RunStatus.RUNNING if started else RunStatus.QUEUED), None
    ended = _ended_unrecorded(run_dir)
    if ended is not None:
        return ended
    errors = [e for e in events if e["type"] == EventType.ERROR.value and not e.get("technique")]
    if errors:
        return RunStatus.FAILED, _shown(errors[-1], "message")
    if not events and just_started(pid, now):
        return RunStatus.QUEUED, None  # spawned a moment ago, not yet writing
    return RunStatus.FAILED, _why_stopped(run_dir)


def _ended_unrecorded(run_dir: Path) -> tuple[str, str | None] | None:
    """The status of a run whose ``run_finished`` event is the cut last line of its events
    (a file truncated mid-line): it did end -- the line's start says so, or ``results.json``
    carries the insights ``run`` adds only once the run is over -- so it is finished (failed
    when its baseline failed), not killed. None when nothing says the run ended."""
    try:
        with open(run_dir / store.EVENTS, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 65536))
            tail = f.read()
    except OSError:
        return None
    cut = tail.rsplit(b"\n", 1)[-1]
    doc = store.read_json(run_dir / store.RESULTS)
    doc = doc if isinstance(doc, dict) else {}
    if not (cut.strip() and (b'"type": "run_finished"' in cut or "insights" in doc)):
        return None
    base = next((r for r in doc.get("results") or [] if isinstance(r, dict)
                 and r.get("technique") == TechniqueId.FLOAT32.value), None)
    if base is not None and base.get("status") == Status.OK.value:
        return RunStatus.FINISHED, None
    why = (base or {}).get("error") or "no result"
    return RunStatus.FAILED, tr("the float32 baseline failed: {why}", why=why)


#: Below this much free space a run that died unexpectedly is said to have filled the disk.
LOW_SPACE_BYTES = 5 * space.MB


def _why_stopped(run_dir: Path) -> str:
    """One line for a run whose process died without saying why (killed, or the disk filled)."""
    try:
        if space.free_bytes(run_dir) < LOW_SPACE_BYTES:
            return tr("the run stopped: {why}", why=space.no_space_message(
                run_dir, space.RUN_OVERHEAD_BYTES, msg("a run")).render())
    except OSError:
        pass
    return tr("the run process stopped unexpectedly (killed, or the server restarted); its "
              "finished results are kept; see {log} in the run's folder", log=store.RUN_LOG)


def _shown(event: dict, field: str):
    """An event's ``field`` in the language in use (from its ``<field>_data`` when the writer
    recorded it as a message), read here where the page reads the run."""
    data = event.get(f"{field}_data")
    return render(data) if data else event.get(field)


def _close_unfinished(progress, results, status, error, request):
    """Once a run is over, specs without a result become cancelled/error records."""
    have = {r.technique: r for r in results}
    cancelled = status == RunStatus.CANCELLED
    message = msg("cancelled before it finished") if cancelled else (
        error or msg("the run stopped early"))
    state = TechniqueState.CANCELLED.value if cancelled else TechniqueState.ERROR.value
    new_progress, extra = {}, []
    for spec, row in progress.items():
        if row.state not in FINAL_STATES and spec in have:  # recovered from its job's file
            done = have[spec].ok
            row = TechniqueProgress(**{**asdict(row), "fraction": 1.0, "message": msg("done") if done
                                       else have[spec].error,
                                       "state": TechniqueState.DONE.value if done else state})
        elif row.state not in FINAL_STATES:
            row = TechniqueProgress(**{**asdict(row), "state": state, "message": message})
        new_progress[spec] = row
        if spec not in have:
            extra.append(Result.failed(spec, message, model=request.model if request else "",
                                       status=Status.CANCELLED if cancelled else Status.ERROR))
    return new_progress, list(results) + extra


def cancel_run(run_dir: Path | str, wait_s: float = 10.0, *, workspace: str | None = None) -> bool:
    """Stop a run: kill its process group; finished results stay, the rest become "cancelled".

    Returns True if a live run was stopped, False if it was already over. ``workspace`` is who
    asks (None: the command line); another workspace's run raises ``access.ReadOnly``.
    """
    run_dir = Path(run_dir)
    access.require_owner(run_dir, workspace, msg("Cancelling a run"))
    if not store.RunLock.is_held(run_dir) and read_run(run_dir).done:
        return False
    store.write_json_atomic(run_dir / store.CANCELLED, {"t": round(time.time(), 3)})
    info = store.read_pid(run_dir) or {}
    if info.get("pid"):
        stop_processes(int(info["pid"]), info.get("pgid"), run_dir, wait_s)
    state = read_run(run_dir)  # unfinished specs now read as cancelled
    EventLog(run_dir / store.EVENTS).emit(EventType.RUN_FINISHED, status=RunStatus.CANCELLED,
                                          message=msg("cancelled by the user"))
    doc = store.read_json(run_dir / store.RESULTS, default={}) or {}
    store.write_results(run_dir, doc.get("model") or state.model or "", state.results,
                        **{k: v for k, v in doc.items() if k not in ("model", "results")})
    return True


def list_runs(parent: Path | str) -> list[RunState]:
    """Every run folder directly under ``parent``, newest first."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    runs = [read_run(d) for d in parent.iterdir()
            if (d / store.REQUEST).exists() or (d / store.EVENTS).exists()]
    return sorted(runs, key=lambda r: r.started_at or 0.0, reverse=True)
