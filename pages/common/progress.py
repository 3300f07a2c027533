"""How a run's progress is shown: the per-technique table rows and the status line."""
from __future__ import annotations

from optimizer import numbers
from optimizer.text import N_, render, tr

# Plain symbols (in every font): emoji would need an emoji font the browser may not have.
STATE_LABELS = {
    "waiting": N_("· waiting"),
    "running": N_("▸ running"),
    "done": N_("✓ done"),
    "error": N_("✗ error"),
    "skipped": N_("– not applicable"),
    "cancelled": N_("■ cancelled"),
}
RUN_LABELS = {
    "queued": N_("Starting"),
    "running": N_("Running"),
    "finished": N_("Finished"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}


#: A history row's kind and status, as the pages name them (English ids, shown with ``tr``).
KINDS = {"run": N_("run"), "search": N_("search")}
STATUSES = {"queued": N_("queued"), "running": N_("running"), "finished": N_("finished"),
            "failed": N_("failed"), "cancelled": N_("cancelled"), "stopped": N_("stopped")}


def progress_rows(run_state) -> list[dict]:
    """One row per technique: state, step, epoch x/y, fraction done, elapsed, message (in the
    language in use)."""
    rows = []
    for spec, p in run_state.progress.items():
        epoch = f"{p.epoch}/{p.epochs}" if p.epoch is not None and p.epochs else ""
        fraction = 1.0 if p.state == "done" else max(0.0, min(1.0, float(p.fraction or 0.0)))
        state = STATE_LABELS.get(p.state)
        rows.append({
            tr("Technique"): spec,
            tr("State"): tr(state) if state else p.state,
            tr("Step"): render(p.step) if p.step else "",
            tr("Epoch"): epoch,
            tr("Progress"): fraction,
            tr("Elapsed (s)"): round(float(p.elapsed_s or 0.0), 1),
            tr("Message"): render(p.message) if p.message else "",
        })
    return rows


def status_line(run_state) -> str:
    """e.g. "digits-cnn · Running · work 42 s, waited 12 s · 3 of 5 techniques done"."""
    from .layout import plain

    done = sum(1 for p in run_state.progress.values() if p.finished)
    total = len(run_state.progress)
    label = RUN_LABELS.get(run_state.status)
    label = tr(label) if label else str(run_state.status)
    if run_state.status == "queued" and run_state.queue_position:
        wait = run_state.wait_estimate_s
        label = (tr("Queued: number {position} in the queue, about {wait} to wait",
                    position=run_state.queue_position, wait=numbers.seconds(wait))
                 if wait is not None else
                 tr("Queued: number {position} in the queue",
                    position=run_state.queue_position))
    elif run_state.status == "queued" and run_state.queue_message:
        label = tr("Queued")
    model = f"{plain(run_state.model)} · " if run_state.model else ""
    left = getattr(run_state, "seconds_left", None)
    estimate = (" · " + tr("about {time} left (estimate)", time=numbers.seconds(left))
                if left is not None else "")
    return (f"{model}{label} · {time_text(run_state)} · "
            + tr("{done} of {total} techniques done", done=done, total=total) + estimate)


def time_text(run_state) -> str:
    """Work time and wait time apart: "work 10 s, waited 59 s in the queue"."""
    if run_state.status == "queued":
        return tr("waited {time}", time=numbers.seconds(run_state.wait_s))
    if run_state.wait_s >= 1:
        return tr("work {work}, waited {wait} in the queue", work=numbers.seconds(run_state.work_s),
                  wait=numbers.seconds(run_state.wait_s))
    return tr("work {work}", work=numbers.seconds(run_state.work_s))
