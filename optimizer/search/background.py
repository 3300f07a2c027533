"""A search as a background process: start, read, stop (the app's API, like
``optimizer.runs.background`` for runs, and spawned and stopped the same way:
``optimizer.runs.processes``).

``start_search(request, folder)`` writes ``search.json`` and spawns ``python -m optimizer
search --request search.json --out folder`` in its own process group and returns at once;
``read_search(folder)`` rebuilds everything from the folder (request, outcome so far, the step
running now), so it survives Streamlit reruns and server restarts. ``stop_search`` asks the
search to stop (it ends the running job, keeps every trial it measured and writes its
outcome), and stops its processes only if it does not stop in time. ``start_repair`` runs
one selective-quantization trial (layers picked by hand) or a per-layer analysis on a finished
search. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from optimizer import access
from optimizer.artifacts import store
from optimizer.artifacts.events import EventType, read_events
from optimizer.runs.processes import just_started, start_in_background, stop_processes
from optimizer.search.explain import SearchOutcome
from optimizer.search.request import SearchRequest, readiness_blocker
from optimizer.search.runner import OUTCOME, SEARCH, STOP, read_outcome
from optimizer.text import msg

__all__ = ["SearchState", "start_search", "start_repair", "read_search", "stop_search",
           "list_searches"]

OVER = ("finished", "stopped", "failed", "cancelled")


@dataclass(frozen=True)
class SearchState:
    """A search as read from its folder.

    ``status``: "queued" | "running" | "finished" | "stopped" | "failed" | "cancelled";
    ``outcome`` the latest ``SearchOutcome`` written (None before the first batch ends);
    ``current`` a sentence about what runs now and ``fraction`` how far that job is;
    ``busy`` is True while a repair or analysis runs on the finished search.
    """

    run_dir: Path
    status: str
    request: SearchRequest | None
    outcome: SearchOutcome | None
    elapsed_s: float
    current: str | None = None
    fraction: float | None = None
    error: str | None = None
    busy: bool = False
    model: str | None = None
    started_at: float | None = None

    @property
    def done(self) -> bool:
        """True once the search is over and nothing runs on its folder."""
        return self.status in OVER and not self.busy


def start_search(request: SearchRequest, run_dir: Path | str) -> Path:
    """Start ``request`` in the background in a new folder and return the folder at once.

    Raises ``ValueError`` for an unknown model, a folder that already holds a run or search,
    or a target whose readiness check the trials need but cannot run here.
    """
    from optimizer.models.resolve import resolve_model

    blocker = readiness_blocker(request)
    if blocker:
        raise ValueError(blocker)
    run_dir = Path(run_dir).resolve()
    if any((run_dir / name).exists() for name in (SEARCH, store.EVENTS, store.REQUEST)):
        raise ValueError(f"{run_dir} already holds a run or search; start each in a new folder")
    bundle = resolve_model(request.model, request.data)   # fail fast on unusable input
    request = replace(request, model=bundle.ref, data=bundle.data)
    run_dir.mkdir(parents=True, exist_ok=True)
    store.write_json_atomic(run_dir / SEARCH, request.to_dict())
    start_in_background("search", ["--request", str(run_dir / SEARCH), "--out", str(run_dir)],
                        run_dir)
    return run_dir


def start_repair(run_dir: Path | str, layers=(), analyse: bool = False, *,
                 workspace: str | None = None, sensitivity: bool = False,
                 plan=None) -> None:
    """Keep ``layers`` (op names from a layer report) of int8 in float as one more trial of
    the finished search in ``run_dir`` -- or, with ``analyse``, measure the per-layer error;
    with ``sensitivity``, measure each layer at every precision the target allows; with
    ``plan`` (a ``LayerPlan``), measure that mixed-precision plan as one more trial -- in the
    background. Raises ``ValueError`` while the search still runs or without layers,
    and ``access.ReadOnly`` when ``workspace`` (who asks; None: the command line) does not
    own the search."""
    run_dir = Path(run_dir).resolve()
    access.require_owner(run_dir, workspace, msg("Repairing a search's layers"))
    state = read_search(run_dir)
    if not state.done:
        raise ValueError("the search is still running; wait for it to finish (or stop it)")
    if state.outcome is None:
        raise ValueError("the search measured nothing yet; run it first")
    if sensitivity:
        args = ["--measure-precisions"]
    elif plan is not None:
        # the plan goes in a file of the search's own folder (its name is not the user's)
        path = run_dir / f"plan-{len(list(run_dir.glob('plan-*.json'))) + 1}.json"
        store.write_json_atomic(path, plan.to_dict())
        args = ["--plan", str(path)]
    elif not analyse and not layers:
        raise ValueError("pick at least one layer to keep in float")
    else:
        args = ["--analyse-layers"] if analyse else [a for name in layers
                                                     for a in ("--keep-float", str(name))]
    start_in_background("search", [*args, "--out", str(run_dir)], run_dir)


def _current(events: list[dict]) -> tuple[str | None, float | None, dict | None]:
    """(what runs now, its fraction, the last start event) from the events of the latest
    start (a search or a repair)."""
    start = max((i for i, e in enumerate(events) if e["type"] == EventType.RUN_STARTED.value),
                default=None)
    if start is None:
        return None, None, None
    text, fraction, batch = None, None, None
    for event in events[start:]:
        kind = event["type"]
        if kind == EventType.JOB_STARTED.value:
            batch, text, fraction = event.get("batch"), event.get("message"), 0.0
        elif kind == EventType.PROGRESS.value:
            step = event.get("step") or ""
            epoch = (f" epoch {event['epoch']}/{event['epochs']}"
                     if event.get("epoch") and event.get("epochs") else "")
            text = f"{batch or event.get('technique')}: {step}{epoch}"
            fraction = event.get("fraction")
        elif kind == EventType.JOB_FINISHED.value:
            text, fraction = f"{event.get('batch')}: finished", 1.0
    return text, fraction, events[start]


def read_search(run_dir: Path | str) -> SearchState:
    """Rebuild a search's state from its folder alone."""
    run_dir = Path(run_dir)
    now = time.time()
    raw = store.read_json(run_dir / SEARCH)
    try:
        request = SearchRequest.from_dict(raw) if isinstance(raw, dict) else None
    except ValueError:
        request = None
    outcome = read_outcome(run_dir)
    events = read_events(run_dir / store.EVENTS)
    alive = store.RunLock.is_held(run_dir)
    current, fraction, started = _current(events)
    pid = store.read_pid(run_dir) or {}
    first_t = events[0]["t"] if events else pid.get("t")
    queued = bool(events) and events[-1]["type"] == EventType.QUEUED.value
    error = None
    last_t = events[-1]["t"] if events else 0.0
    # spawned a moment ago and not yet holding the lock (a repair on a finished search)
    starting = not alive and just_started(pid, now, after=last_t)
    alive = alive or (starting and outcome is not None)
    busy = alive and outcome is not None and outcome.status in OVER
    if alive:
        status = outcome.status if busy else ("queued" if queued else "running")
    elif outcome is not None:
        status = outcome.status
        if status == "running":   # the process ended without its final write
            stopped = (run_dir / STOP).exists()
            status = "stopped" if stopped else "failed"
            error = None if stopped else ("the search process ended unexpectedly; what it "
                                          f"measured is kept (see {store.RUN_LOG} in its folder)")
        error = error or outcome.error
    else:
        errors = [e for e in events if e["type"] == EventType.ERROR.value]
        if errors:
            status, error = "failed", errors[-1].get("message")
        elif not events and just_started(pid, now):
            status = "queued"
        else:
            status, error = "failed", (f"the search process stopped before measuring anything; "
                                       f"see {store.RUN_LOG} in its folder")
    finished = next((e for e in reversed(events) if e["type"] == EventType.RUN_FINISHED.value),
                    None)
    end_t = now if alive or not events else (finished or events[-1])["t"]
    if not (alive or busy):
        current = None
    return SearchState(run_dir=run_dir, status=status, request=request, outcome=outcome,
                       elapsed_s=max(0.0, end_t - first_t) if first_t else 0.0,
                       current=current, fraction=fraction, error=error, busy=busy,
                       model=(started or {}).get("model") or (request.model if request
                                                              else None),
                       started_at=first_t)


def stop_search(run_dir: Path | str, wait_s: float = 30.0, *,
                workspace: str | None = None) -> bool:
    """Stop a running search (or repair): ask it to stop, wait up to ``wait_s`` for it to end
    its job and write what it found, then stop its processes (``stop_processes``) if it is
    still alive. Returns False when nothing was running; ``access.ReadOnly`` when
    ``workspace`` (who asks; None: the command line) does not own the search."""
    run_dir = Path(run_dir)
    access.require_owner(run_dir, workspace, msg("Stopping a search"))
    if not store.RunLock.is_held(run_dir):
        return False
    store.write_json_atomic(run_dir / STOP, {"t": round(time.time(), 3)})
    deadline = time.time() + wait_s
    while store.RunLock.is_held(run_dir) and time.time() < deadline:
        time.sleep(0.2)
    if store.RunLock.is_held(run_dir):
        info = store.read_pid(run_dir) or {}
        if info.get("pid"):
            stop_processes(int(info["pid"]), info.get("pgid"), run_dir, wait_s=10.0)
        doc = store.read_json(run_dir / OUTCOME)
        if isinstance(doc, dict) and doc.get("status") == "running":
            doc.update(status="stopped", stopped="stopped by the user")
            store.write_json_atomic(run_dir / OUTCOME, doc)
    return True


def list_searches(parent: Path | str) -> list[SearchState]:
    """Every search folder directly under ``parent``, newest first."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    found = [read_search(d) for d in parent.iterdir() if (d / SEARCH).exists()]
    return sorted(found, key=lambda s: s.started_at or 0.0, reverse=True)
