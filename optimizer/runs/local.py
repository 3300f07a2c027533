"""The local executor's pieces: a job in a worker process, latency in a LiteRT-only child, on
this machine (the default; a Ray cluster is ``runs.ray_executor``).

A job runs in a fork of the worker slot's warm job process (``runs.warm``: TensorFlow already
imported) when the caller holds a slot, else (or when warm processes are off or unusable) in a
fresh ``python -m optimizer worker`` child: ``start_worker`` decides, and both are handled like
a ``subprocess.Popen``. ``run_job`` always returns one result per spec: a worker that fails in
any way (exception, non-zero exit, killed, out of memory) becomes ``status: "error"`` results
with a one-line message, its traceback in ``<run_dir>/<job>.log``. Nothing here imports
TensorFlow.
"""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

from optimizer.artifacts import space, store
from optimizer.artifacts.events import EventLog, EventType
from optimizer.artifacts.job import JobSpec
from optimizer.guide.configs import Settings
from optimizer.guide.schema import Result
from optimizer.procs import child_env, die_with_parent
from optimizer.runs import warm
from optimizer.text import msg


def describe_exit(returncode: int, log_path: Path) -> str:
    """A one-line message for a worker that ended without writing its results.

    The log is named relative to the run folder (messages never carry server paths); a worker
    that died on a nearly full disk is said to have done so, with the disk and the space needed.
    """
    folder, log_path = Path(log_path).parent, Path(log_path).name
    if returncode == warm.LOST_EXIT:
        return (f"the job's warm process went away before the job reported how it ended "
                f"(log: {log_path})")
    if returncode != 0 and space.free_bytes(folder) < space.RUN_OVERHEAD_BYTES // 4:
        return "the job could not write its files: " + space.no_space_message(
            folder, space.RUN_OVERHEAD_BYTES, "a job")
    if returncode < 0:
        sig = -returncode
        name = signal.Signals(sig).name if sig in {s.value for s in signal.Signals} else str(sig)
        if sig == signal.SIGKILL:
            return (f"the job process was killed ({name}), most likely out of memory; run fewer "
                    f"or smaller jobs at once (log: {log_path})")
        return f"the job process stopped on signal {name} (log: {log_path})"
    if returncode == 0:
        return f"the job process ended without a result (log: {log_path})"
    return f"the job process failed with exit status {returncode} (log: {log_path})"


def start_worker(job: JobSpec, slot: int | None = None, threaded_parent: bool = False):
    """Start ``job`` (its file already written) and return its process handle (``poll``,
    ``wait``, ``kill``, ``returncode``; ``warm`` says which kind): a fork of slot ``slot``'s
    warm job process, or a fresh ``python -m optimizer worker`` child when no slot is given
    or the warm process cannot be used. Either dies with this process. ``threaded_parent``:
    this process may have threads (a fresh child then arranges its own death)."""
    if slot is not None:
        handle = warm.start_job(job.path, job.log_path, warm.place(slot))
        if handle is not None:
            return handle
    command = [sys.executable, "-m", "optimizer", "worker", "--job", str(job.path)]
    with open(job.log_path, "ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                env=child_env(die_with_parent=threaded_parent),
                                preexec_fn=None if threaded_parent else die_with_parent)
    proc.warm = False
    return proc


def run_job(job: JobSpec, log: EventLog, model_name: str, slot: int | None = None
            ) -> list[Result]:
    """Run one job in a worker process (warm when ``slot`` is the worker slot this process
    holds); always returns one result per spec."""
    store.write_json_atomic(job.path, job.to_dict())
    for spec in job.specs:
        log.emit(EventType.JOB_STARTED, spec, message=msg("{id} started", id=job.id), job=job.id)
    proc = start_worker(job, slot)
    try:
        returncode = proc.wait()
    finally:
        if proc.poll() is None:   # interrupted here: the job must not outlive its run
            proc.kill()
    doc = store.read_json(job.results_path, default={}) or {}
    produced = {r["technique"]: Result.from_dict(r) for r in doc.get("results", [])}
    failure = describe_exit(returncode, job.log_path)
    results = [produced.get(spec) or Result.failed(spec, failure, model=model_name)
               for spec in job.specs]
    log.emit(EventType.JOB_FINISHED, None, job=job.id, returncode=returncode, warm=proc.warm,
             message=msg("{id} finished with exit status {returncode} (in a warm job process)",
                         id=job.id, returncode=returncode) if proc.warm else
             msg("{id} finished with exit status {returncode}", id=job.id,
                 returncode=returncode))
    return results


def measure_job_latency(results: list[Result], settings: Settings, log: EventLog) -> None:
    """Time the job's files in the LiteRT-only process and fill the latency fields in place."""
    timed = [r for r in results if r.ok and r.tflite_path]
    if not timed:
        return
    log.progress([r.technique for r in timed], msg("latency"), fraction=0.97,
                 message=msg("timing latency in a LiteRT-only process"))
    try:
        from optimizer.measuring.latency import cpu_model, host_description, measure_latency

        stats = measure_latency([r.tflite_path for r in timed], settings.latency)
        host = host_description()
    except Exception as exc:  # latency is one measurement among several: keep the result
        for r in timed:
            r.notes = list(r.notes) + [f"latency not measured: {_first_line(exc)}"]
        return
    fill_latency(timed, stats, host)
    for r in timed:
        r.node, r.cpu = socket.gethostname(), cpu_model()


def fill_latency(timed: list[Result], stats: dict, host: str) -> None:
    """Copy each file's ``LatencyStats`` (keyed by path) into its result, in place."""
    for r in timed:
        s = stats.get(r.tflite_path) or stats.get(str(Path(r.tflite_path)))
        if s is None or s.error:
            why = s.error if s is not None else "the timing process gave no result"
            r.notes = list(r.notes) + [f"latency not measured: {why}"]
            if s is None:
                continue
        r.latency_ms_median, r.latency_ms_p10, r.latency_ms_p90 = s.median_ms, s.p10_ms, s.p90_ms
        r.latency_threads, r.latency_invokes = s.threads, s.invokes
        r.latency_kernels, r.latency_note = s.kernels, s.note
        r.latency_op_kernels = list(s.op_kernels) or None
        r.measured_on = host


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


