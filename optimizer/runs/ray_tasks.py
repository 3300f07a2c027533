"""What runs on a Ray worker node: one job in a worker process, or the latency timing.

Nothing is assumed on the worker's disk but the installed ``optimizer`` package (with its demo
assets): the driver sends the model/data files and the float32 reference as bytes (``pack``),
the job runs in a temporary folder, its events are streamed back while it runs and its
folder (``.tflite`` files, recipes, results, log) comes back as one archive. A Ray worker keeps
its own warm job process (TensorFlow imported by its first job), so its later jobs start at
once (``start_job_here``). These functions are plain Python; ``runs.ray_executor`` wraps them
as Ray tasks. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import ctypes
import io
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from optimizer.artifacts.job import JobSpec
from optimizer.procs import child_env

POLL_S = 0.5
#: Polls between two messages to the driver when the job is quiet.
HEARTBEAT = 4
#: The folder names of a shipped job, inside the worker's temporary folder.
INPUTS, RUN = "inputs", "run"
#: The folder of ``inputs`` holding the files that go beside the job file.
JOB_FILES = "job-files"


def pack(root: Path | str, names=None, dereference: bool = False) -> bytes:
    """A gzip tar of ``names`` (relative to ``root``; default: everything under it);
    ``dereference`` stores what symbolic links point to."""
    root = Path(root)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", dereference=dereference) as tar:
        for name in (names if names is not None else sorted(p.name for p in root.iterdir())):
            tar.add(root / name, arcname=name)
    return buffer.getvalue()


def unpack(data: bytes, dest: Path | str) -> Path:
    """Extract an archive made by ``pack`` into ``dest`` (no links, nothing outside it)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    return dest


def rebase(value, old: str, new: str):
    """``value`` (JSON-like) with every string path under folder ``old`` moved under ``new``."""
    if isinstance(value, str):
        return new + value[len(old):] if value == old or value.startswith(old + os.sep) else value
    if isinstance(value, list):
        return [rebase(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: rebase(v, old, new) for k, v in value.items()}
    return value


def node_name() -> str:
    """This node's address as Ray names it (its IP), else its host name."""
    try:
        import ray

        return ray.util.get_node_ip_address()
    except Exception:  # outside a Ray worker: the host name still tells machines apart
        return socket.gethostname()


def _die_with_parent() -> None:
    """In the worker child: get SIGKILL when the Ray worker dies (cancel, crash) - Linux."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def run_job_remote(job_doc: dict, inputs: bytes | None, moves: dict):
    """Run one job on this node; yields ``{"events": [...]}`` while it runs, then the end:
    ``{"returncode", "results", "files", "run_dir", "node"}``.

    ``inputs`` is a ``pack`` of the driver's input folders; ``moves`` maps each driver path
    prefix to its folder name inside ``inputs`` (``rebase`` rewrites the job and manifests).
    """
    with tempfile.TemporaryDirectory(prefix="optimizer-job-") as tmp:
        tmp = Path(tmp)
        if inputs:
            unpack(inputs, tmp / INPUTS)
        doc = dict(job_doc)
        for old, name in moves.items():
            new = str(tmp / INPUTS / name)
            doc = rebase(doc, old, new)
            for manifest in (tmp / INPUTS / name).rglob("upload.json"):
                manifest.write_text(json.dumps(rebase(json.loads(manifest.read_text()),
                                                      old, new)))
        run_dir = tmp / RUN
        run_dir.mkdir()
        if (tmp / INPUTS / JOB_FILES).is_dir():
            for path in (tmp / INPUTS / JOB_FILES).iterdir():
                shutil.copy2(path, run_dir / path.name)
        doc.update(run_dir=str(run_dir), events=str(run_dir / "events.jsonl"))
        job = JobSpec.from_dict(doc)
        job.path.write_text(json.dumps(job.to_dict()))
        events, offset = Path(doc["events"]), 0
        proc = start_job_here(job)
        try:
            for tick in itertools.count():
                done = proc.poll() is not None
                lines, offset = _new_lines(events, offset)
                if lines or tick % HEARTBEAT == 0:   # a heartbeat lets the driver watch
                    yield {"events": lines}
                if done:
                    break
                time.sleep(POLL_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        results = json.loads(job.results_path.read_text()) if job.results_path.exists() else {}
        job.path.unlink()
        events.unlink(missing_ok=True)
        yield {"returncode": proc.returncode, "results": results, "files": pack(run_dir),
               "run_dir": str(run_dir), "node": node_name()}


def start_job_here(job: JobSpec):
    """Start the job on this node: in a fork of this Ray worker's own warm job process
    (``runs.warm``; started by its first job, TensorFlow imported once per Ray worker, dying
    with it), else in a fresh worker child that dies with this Ray worker."""
    from optimizer.runs import warm

    handle = warm.start_job(job.path, job.log_path, warm.private_place(), attached=True,
                            cwd=job.run_dir)
    if handle is not None:
        return handle
    command = [sys.executable, "-m", "optimizer", "worker", "--job", str(job.path)]
    with open(job.log_path, "ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=child_env(),
                                preexec_fn=_die_with_parent)


def _new_lines(path: Path, offset: int) -> tuple[list[dict], int]:
    """Whole JSON lines appended to ``path`` since ``offset``, and the new offset."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    lines = [json.loads(line) for line in data[:end].splitlines() if line.strip()]
    return lines, offset + end


def time_files_remote(files: bytes, names: list[str], config) -> dict:
    """Time the ``.tflite`` files in ``files`` (a ``pack``) one after another in one LiteRT-only
    process on this node; ``{"stats": {name: LatencyStats}, "host", "node", "cpu"}``."""
    from optimizer.measuring.latency import cpu_model, host_description, measure_latency

    with tempfile.TemporaryDirectory(prefix="optimizer-latency-") as tmp:
        unpack(files, tmp)
        paths = {name: str(Path(tmp) / name) for name in names}
        stats = measure_latency(list(paths.values()), config)
        return {"stats": {name: stats.get(path) for name, path in paths.items()},
                "host": host_description(), "node": node_name(), "cpu": cpu_model()}


def describe_node_remote() -> dict:
    """This node as a timing node (``provenance.local_node``), named as Ray names it."""
    from optimizer.artifacts.provenance import local_node

    return {**local_node("ray"), "name": node_name()}
