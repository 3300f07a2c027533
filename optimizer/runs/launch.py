"""Runs as background process trees: start, read, cancel, list (the app's API).

``start_run(request, run_dir)`` spawns ``python -m optimizer run ...`` in its own process group
and returns at once; that orchestrator (``optimizer.runs.orchestrate``) runs each job in a child
``python -m optimizer worker`` process and writes everything to the run folder (see
``optimizer.artifacts.store``). ``read_run(run_dir)`` rebuilds the whole state from those files alone,
so it survives the caller going away (a Streamlit rerun, a new browser tab, a server restart).
Nothing here imports TensorFlow.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from optimizer.artifacts import store
from optimizer.artifacts.events import (
    FINAL_STATES,
    EventLog,
    EventType,
    TechniqueProgress,
    TechniqueState,
    fold_progress,
    read_events,
)
from optimizer.guide.configs import Settings
from optimizer.guide.registry import TechniqueId, parse_spec
from optimizer.guide.schema import Result, Status
from optimizer.procs import child_env

__all__ = ["RunRequest", "RunState", "TechniqueProgress", "start_run", "read_run", "cancel_run",
           "list_runs"]

#: How long a freshly started run may show no sign of life before it counts as failed.
START_GRACE_S = 60.0


def _tuple(values) -> tuple:
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(str(v) for v in values)


@dataclass(frozen=True)
class RunRequest:
    """What a user asked to run: a model ref, technique specs, optional data and ``k=v`` settings.

    Specs and settings are validated when the request is built (``ValueError`` naming the fix).
    ``specs`` is the canonical, de-duplicated list with the float32 baseline first.
    """

    model: str
    techniques: tuple = ()
    data: str | None = None
    settings: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "techniques", _tuple(self.techniques))
        object.__setattr__(self, "settings", _tuple(self.settings))
        if not str(self.model or "").strip():
            raise ValueError("no model given: pass a demo name (e.g. digits-cnn) or a model file")
        for text in self.techniques:
            parse_spec(text)
        Settings.from_pairs(self.settings)

    @property
    def specs(self) -> tuple:
        """Canonical spec texts, float32 first, each once."""
        out = [TechniqueId.FLOAT32.value]
        for text in self.techniques:
            spec = parse_spec(text).text
            if spec not in out:
                out.append(spec)
        return tuple(out)

    def to_cli_args(self) -> list[str]:
        """The ``python -m optimizer run`` arguments that ask for exactly this."""
        args = ["--model", self.model]
        if self.data:
            args += ["--data", self.data]
        for spec in self.specs:
            args += ["--technique", spec]
        for pair in self.settings:
            args += ["--set", pair]
        return args

    def to_dict(self) -> dict:
        return {"model": self.model, "techniques": list(self.techniques), "data": self.data,
                "settings": list(self.settings)}

    @classmethod
    def from_dict(cls, data: dict) -> "RunRequest":
        return cls(model=data["model"], techniques=data.get("techniques") or (),
                   data=data.get("data"), settings=data.get("settings") or ())


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
    ``TechniqueProgress``; ``results`` are the results written so far (plus error/cancelled
    records for unfinished specs once the run is over).
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


def start_run(request: RunRequest, run_dir: Path | str, context: dict | None = None) -> Path:
    """Start a run in the background and return its folder at once.

    Writes ``request.json`` and ``pid``, then spawns ``python -m optimizer run ...`` in a new
    process group (so neither a Streamlit rerun nor the app's exit stops it) with its output in
    ``run.log``. ``context`` (``{"answers": .., "goals": ..}`` as dicts) goes to
    ``context.json`` for the run's insights. Raises ``ValueError`` for an unknown model or a
    folder that already holds a run.
    """
    from optimizer.models.resolve import resolve_model

    run_dir = Path(run_dir).resolve()
    if (run_dir / store.EVENTS).exists() or (run_dir / store.REQUEST).exists():
        raise ValueError(f"{run_dir} already holds a run; start each run in a new folder")
    bundle = resolve_model(request.model, request.data)  # fail fast on unusable input
    # Files are passed as absolute paths: the orchestrator runs with the run folder as cwd.
    request = RunRequest(model=bundle.ref, techniques=request.techniques,
                         data=bundle.data, settings=request.settings)
    run_dir.mkdir(parents=True, exist_ok=True)
    store.write_json_atomic(run_dir / store.REQUEST, request.to_dict())
    if context:
        store.write_context(run_dir, context.get("answers"), context.get("goals"))
    command = [sys.executable, "-m", "optimizer", "run", *request.to_cli_args(),
               "--out", str(run_dir), "--events", str(run_dir / store.EVENTS),
               "--json", str(run_dir / store.RESULTS)]
    with open(run_dir / store.RUN_LOG, "ab") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=run_dir, env=child_env(),
                                start_new_session=True)
    store.write_pid(run_dir, proc.pid, proc.pid)  # start_new_session: it leads its group
    return run_dir


def read_run(run_dir: Path | str) -> RunState:
    """Rebuild a run's state from its folder alone (request, events, results, lock)."""
    run_dir = Path(run_dir)
    now = time.time()
    raw_request = store.read_json(run_dir / store.REQUEST)
    request = _request_or_none(raw_request)
    events = read_events(run_dir / store.EVENTS)
    started = next((e for e in events if e["type"] == EventType.RUN_STARTED.value), None)
    finished = next((e for e in reversed(events) if e["type"] == EventType.RUN_FINISHED.value), None)
    queued = next((e for e in reversed(events) if e["type"] == EventType.QUEUED.value), None)
    specs = list(request.specs) if request else list((started or {}).get("techniques") or [])
    progress = fold_progress(events, specs, now=now)
    results = store.read_results(run_dir)
    pid = store.read_pid(run_dir) or {}
    alive = store.RunLock.is_held(run_dir)
    first_t = events[0]["t"] if events else pid.get("t")
    status, error = _status(run_dir, alive, started, finished, pid, now, events)
    end_t = finished["t"] if finished else (events[-1]["t"] if events and status in
                                             RunStatus.OVER else now)
    if status in RunStatus.OVER:
        progress, results = _close_unfinished(progress, results, status, error, request)
    return RunState(run_dir=run_dir, status=status,
                    elapsed_s=max(0.0, (end_t - first_t) if first_t else 0.0),
                    progress=progress, results=results, error=error, request=request,
                    model=(started or {}).get("model") or (request.model if request else None),
                    started_at=first_t,
                    queue_message=(queued or {}).get("message") if status == "queued" else None)


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
        return status, finished.get("error")
    if alive:
        return (RunStatus.RUNNING if started else RunStatus.QUEUED), None
    errors = [e for e in events if e["type"] == EventType.ERROR.value and not e.get("technique")]
    if errors:
        return RunStatus.FAILED, errors[-1].get("message")
    if not events and pid and now - pid.get("t", 0) < START_GRACE_S:
        return RunStatus.QUEUED, None  # spawned a moment ago, not yet writing
    return RunStatus.FAILED, f"the run process stopped unexpectedly; see {run_dir / store.RUN_LOG}"


def _close_unfinished(progress, results, status, error, request):
    """Once a run is over, specs without a result become cancelled/error records."""
    have = {r.technique for r in results}
    cancelled = status == RunStatus.CANCELLED
    message = "cancelled before it finished" if cancelled else (error or "the run stopped early")
    state = TechniqueState.CANCELLED.value if cancelled else TechniqueState.ERROR.value
    new_progress, extra = {}, []
    for spec, row in progress.items():
        if row.state not in FINAL_STATES:
            row = TechniqueProgress(**{**asdict(row), "state": state, "message": message})
        new_progress[spec] = row
        if spec not in have:
            extra.append(Result.failed(spec, message, model=request.model if request else "",
                                       status=Status.CANCELLED if cancelled else Status.ERROR))
    return new_progress, list(results) + extra


def cancel_run(run_dir: Path | str, wait_s: float = 10.0) -> bool:
    """Stop a run: kill its process group; finished results stay, the rest become "cancelled".

    Returns True if a live run was stopped, False if it was already over.
    """
    run_dir = Path(run_dir)
    if not store.RunLock.is_held(run_dir) and read_run(run_dir).done:
        return False
    store.write_json_atomic(run_dir / store.CANCELLED, {"t": round(time.time(), 3)})
    info = store.read_pid(run_dir) or {}
    if info.get("pid"):
        _stop(int(info["pid"]), info.get("pgid"), run_dir, wait_s)
    state = read_run(run_dir)  # unfinished specs now read as cancelled
    EventLog(run_dir / store.EVENTS).emit(EventType.RUN_FINISHED, status=RunStatus.CANCELLED,
                                          message="cancelled by the user")
    doc = store.read_json(run_dir / store.RESULTS, default={}) or {}
    store.write_results(run_dir, doc.get("model") or state.model or "", state.results,
                        **{k: v for k, v in doc.items() if k not in ("model", "results")})
    return True


def _stop(pid: int, pgid: int | None, run_dir: Path, wait_s: float) -> None:
    """SIGTERM the run's processes, then SIGKILL what is left, and wait until they are gone.

    A run from ``start_run`` leads its own process group: the group is signalled, which also
    reaches a worker spawned a moment ago. A run started from a user's shell is not a leader
    (signalling its group would hit the shell's job), so its process tree is signalled.
    """
    tree = [] if pgid else _tree(pid)
    _signal(pgid, tree, signal.SIGTERM)
    deadline = time.time() + wait_s
    while store.RunLock.is_held(run_dir) and time.time() < deadline:
        time.sleep(0.1)
    _signal(pgid, tree, signal.SIGKILL)  # anything left (a child ignoring SIGTERM)
    deadline = time.time() + wait_s
    while time.time() < deadline:
        alive = _group_members(pgid) if pgid else [p for p in tree if _alive(p)]
        if not alive:
            return
        time.sleep(0.1)


def _tree(pid: int) -> list:
    import psutil

    try:
        parent = psutil.Process(pid)
        return parent.children(recursive=True) + [parent]
    except psutil.Error:
        return []


def _signal(pgid: int | None, tree: list, sig: int) -> None:
    import psutil

    if pgid:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        return
    for proc in tree:
        try:
            proc.send_signal(sig)
        except psutil.Error:
            pass


def _alive(proc) -> bool:
    import psutil

    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _group_members(pgid: int) -> list[int]:
    """Pids of the live (not zombie) processes in a process group."""
    import psutil

    members = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(proc.pid)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return members


def list_runs(parent: Path | str) -> list[RunState]:
    """Every run folder directly under ``parent``, newest first."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    runs = [read_run(d) for d in parent.iterdir() if (d / store.REQUEST).exists()]
    return sorted(runs, key=lambda r: r.started_at or 0.0, reverse=True)
