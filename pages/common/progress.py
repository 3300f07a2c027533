"""How a run's progress is shown: the per-technique table rows and the status line."""
from __future__ import annotations

from optimizer import numbers

# Plain symbols (in every font): emoji would need an emoji font the browser may not have.
STATE_LABELS = {
    "waiting": "· waiting",
    "running": "▸ running",
    "done": "✓ done",
    "error": "✗ error",
    "skipped": "– not applicable",
    "cancelled": "■ cancelled",
}
RUN_LABELS = {
    "queued": "Starting",
    "running": "Running",
    "finished": "Finished",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def progress_rows(run_state) -> list[dict]:
    """One row per technique: state, step, epoch x/y, fraction done, elapsed, message."""
    rows = []
    for spec, p in run_state.progress.items():
        epoch = f"{p.epoch}/{p.epochs}" if p.epoch is not None and p.epochs else ""
        fraction = 1.0 if p.state == "done" else max(0.0, min(1.0, float(p.fraction or 0.0)))
        rows.append({
            "Technique": spec,
            "State": STATE_LABELS.get(p.state, p.state),
            "Step": p.step or "",
            "Epoch": epoch,
            "Progress": fraction,
            "Elapsed (s)": round(float(p.elapsed_s or 0.0), 1),
            "Message": p.message or "",
        })
    return rows


def status_line(run_state) -> str:
    """e.g. "digits-cnn · Running · work 42 s, waited 12 s · 3 of 5 techniques done"."""
    from .layout import plain

    done = sum(1 for p in run_state.progress.values() if p.finished)
    total = len(run_state.progress)
    label = RUN_LABELS.get(run_state.status, run_state.status)
    if run_state.status == "queued" and run_state.queue_position:
        wait = run_state.wait_estimate_s
        label = (f"Queued: number {run_state.queue_position} in the queue"
                 + (f", about {numbers.seconds(wait)} to wait" if wait is not None else ""))
    elif run_state.status == "queued" and run_state.queue_message:
        label = "Queued"
    model = f"{plain(run_state.model)} · " if run_state.model else ""
    left = getattr(run_state, "seconds_left", None)
    estimate = f" · about {numbers.seconds(left)} left (estimate)" if left is not None else ""
    return f"{model}{label} · {time_text(run_state)} · {done} of {total} techniques done{estimate}"


def time_text(run_state) -> str:
    """Work time and wait time apart: "work 10 s, waited 59 s in the queue"."""
    if run_state.status == "queued":
        return f"waited {numbers.seconds(run_state.wait_s)}"
    waited = f", waited {numbers.seconds(run_state.wait_s)} in the queue" \
        if run_state.wait_s >= 1 else ""
    return f"work {numbers.seconds(run_state.work_s)}{waited}"
