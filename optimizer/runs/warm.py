"""Warm job processes: each worker slot keeps one process with TensorFlow imported, ready.

A job of a run used to start a fresh ``python -m optimizer worker`` and wait 4-5 s for
TensorFlow's import before doing anything (twice in the default run: the post-training group,
then QAT). Now the slot a run holds (``runs.slots``) has a warm job process
(``optimizer.engine.warm``) that imported TensorFlow, TFMOT and LiteRT once; each job runs in a
fresh fork of it and starts in milliseconds. ``start_job`` hands it a job and returns a
``WarmJob`` that behaves like ``subprocess.Popen`` (``poll``, ``wait``, ``send_signal``,
``kill``), so the callers treat both alike (``runs.local.start_worker``).

Bounds and safety:

* one warm process per slot index (a lock file per slot), so ``OPTIMIZER_MAX_JOBS=2`` means
  at most two warm processes, each running at most one job (the slot's holder's) at a time;
* a job that crashes or is killed (out of memory) ends only its fork: its exit status comes
  back like a child's, and the warm process waits for the next job;
* a job dies with the process that asked for it (the orchestrator, cancelled or killed): its
  connection closes and the job's process group is killed at once;
* an idle warm process exits after ``OPTIMIZER_WARM_IDLE_S`` seconds (default 600);
* ``OPTIMIZER_WARM=0`` turns warm processes off (every job in a fresh process, as before);
  when a warm process cannot be reached or started, the job runs in a fresh process.

A warm process serves only jobs of the same code and environment: the ``fingerprint`` (the
interpreter, the package's source files' sizes and times, the variables TensorFlow reads when
it loads) changes when either does, and a stale process hands over to a new one. Its socket
and lock live in the workspace's ``slots/`` folder (``warm-<slot>.sock``, ``.lock``, ``.log``).
Nothing here imports TensorFlow.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from optimizer import paths, queueing
from optimizer.artifacts import store
from optimizer.engine.warm import LineReader, send
from optimizer.procs import child_env

ENV_WARM = "OPTIMIZER_WARM"
ENV_IDLE = "OPTIMIZER_WARM_IDLE_S"
ENV_PRELOAD = "OPTIMIZER_WARM_PRELOAD"
DEFAULT_IDLE_S = 600.0
#: How long a client waits for a new warm process to listen (Python start-up, not the import).
LISTEN_WAIT_S = 60.0
#: How long a job waits for its warm process to answer (a new one imports TensorFlow first).
REPLY_WAIT_S = 600.0
#: ``WarmJob.returncode`` when the warm process went away without saying how the job ended.
LOST_EXIT = -1000
#: Environment variables that shape the heavy libraries when they load (the fingerprint;
#: PYTHONPATH only ever adds this checkout, whose sources the fingerprint covers).
_IMPORT_ENV = ("TF_", "OMP_", "KMP_", "MKL_", "OPENBLAS_", "CUDA_", "XLA_", "PYTHON", "LD_")
#: Starts the warm process detached: its own session, its parent (this child) gone at once.
_DETACH = ("import os, sys\n"
           "os.setsid()\n"
           "if os.fork():\n"
           "    os._exit(0)\n"
           "os.execv(sys.executable, [sys.executable] + sys.argv[1:])\n")
_MAX_SOCKET_PATH = 100


def enabled(environ=None) -> bool:
    """True unless ``OPTIMIZER_WARM`` is ``0``/``off``/``false``/``no``."""
    value = (os.environ if environ is None else environ).get(ENV_WARM, "").strip().lower()
    return value not in ("0", "off", "false", "no")


def preloads_more(environ=None) -> bool:
    """True unless ``OPTIMIZER_WARM_PRELOAD`` is ``0``/``off``/``false``/``no``: whether a
    warm process also prepares what only some jobs need (TFMOT, the LiteRT Quantizer, the small
    demos' data, AutoGraph's retraining conversions: about 5 CPU-seconds and their memory once
    per warm process) or leaves it to the jobs that need it."""
    value = (os.environ if environ is None else environ).get(ENV_PRELOAD, "").strip().lower()
    return value not in ("0", "off", "false", "no")


def idle_seconds(environ=None) -> float:
    """``OPTIMIZER_WARM_IDLE_S`` (default 600): how long a warm process waits for a job."""
    raw = (os.environ if environ is None else environ).get(ENV_IDLE, "").strip()
    if not raw:
        return DEFAULT_IDLE_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{ENV_IDLE}={raw!r} must be a number of seconds > 0 (how long an idle "
                         f"warm job process stays; default {DEFAULT_IDLE_S:g})")
    return value


@functools.lru_cache(maxsize=1)
def _source_stamp() -> str:
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{sys.executable}\n{root}\n".encode())
    for path in sorted(root.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def fingerprint(environ=None) -> str:
    """The code and import-time environment a warm process must share with its jobs."""
    from optimizer import compat

    # as the warm process sees it once optimizer.compat has set its variables
    environ = {**compat.DEFAULT_ENV, **(os.environ if environ is None else environ),
               **compat.FORCED_ENV}
    digest = hashlib.sha256(_source_stamp().encode())
    for key in sorted(k for k in environ if k.startswith(_IMPORT_ENV) and k != "PYTHONPATH"):
        digest.update(f"{key}={environ[key]}\n".encode())
    return digest.hexdigest()[:24]


@dataclass(frozen=True)
class Place:
    """Where one warm process lives: its socket, its lock (held while it lives) and its log."""

    sock: Path
    lock: Path
    log: Path

    @property
    def info(self) -> Path:
        """What the holder of ``lock`` says about itself (``engine.warm``)."""
        return self.lock.with_name(self.lock.name + ".json")


def place(slot: int | str) -> Place:
    """Slot ``slot``'s warm process: ``slots/warm-<slot>.*`` in the workspace (``slot``: a
    worker slot's index, or a name such as ``check_place``'s). The socket moves to a private
    folder under the system's temporary folder when the workspace's path is too long for a
    socket's."""
    folder = queueing.pool_dir()
    sock = folder / f"warm-{slot}.sock"
    if len(str(sock)) > _MAX_SOCKET_PATH:
        key = hashlib.sha256(str(paths.workspace().resolve()).encode()).hexdigest()[:16]
        sock = _private_folder() / f"{key}-{slot}.sock"
    return Place(sock, folder / f"warm-{slot}.lock", folder / f"warm-{slot}.log")


def check_place(index: int) -> Place:
    """Where upload-check slot ``index`` keeps its warm process (``slots/warm-check-<i>.*``):
    apart from the worker slots', whose warm processes serve one job at a time."""
    return place(f"check-{int(index)}")


def private_place() -> Place:
    """A warm process of this process alone (a Ray worker's), in a private temporary folder."""
    folder = _private_folder() / f"pid-{os.getpid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return Place(folder / "warm.sock", folder / "warm.lock", folder / "warm.log")


def _private_folder() -> Path:
    folder = Path(tempfile.gettempdir()) / f"optimizer-warm-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def is_running(where: Place) -> bool:
    """True while ``where`` has a warm process (starting, idle or running a job)."""
    return store.lock_held(where.lock)


def status(where: Place) -> dict | None:
    """``{"pid", "fingerprint", "ready", "warmed", "t"}`` of the warm process at ``where``
    (``ready``: TensorFlow imported; ``warmed``: AutoGraph's conversions made too), or None."""
    if not is_running(where):
        return None
    try:
        info = json.loads(where.info.read_text())
    except (OSError, ValueError):
        info = {}
    return info if isinstance(info, dict) else {}


def launch(where: Place, attached: bool = False, more: bool | None = None,
           drop_env: tuple = (), cwd: str | None = None) -> None:
    """Start the warm process at ``where`` (it exits at once if one is already there).

    Detached (the default): its own session, outliving whoever started it (a run's
    orchestrator, the app) until its idle timeout. ``attached``: it dies with this process
    (a Ray worker keeps its own). ``more``: whether it also prepares what only some jobs
    need (default ``preloads_more()``). ``drop_env``: variables of this process it must not
    keep (a caller's private temporary folders); ``cwd``: where it starts (default here).
    """
    more = preloads_more() if more is None else more
    command = ["-m", "optimizer", "worker", "--serve", str(where.sock), "--lock",
               str(where.lock), "--idle-timeout", f"{idle_seconds():g}", "--fingerprint",
               fingerprint()] + ([] if more else ["--no-preload-more"])
    with open(where.log, "wb") as out:
        if attached:
            env = {k: v for k, v in child_env(die_with_parent=True).items() if k not in drop_env}
            subprocess.Popen([sys.executable, *command], stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env, close_fds=True, cwd=cwd)
            return
        env = {k: v for k, v in child_env().items() if k not in drop_env}
        boot = subprocess.Popen([sys.executable, "-c", _DETACH, *command], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, close_fds=True, cwd=cwd)
    boot.wait(timeout=60)   # the detaching parent exits at once; its child goes on


def ensure_ready(where: Place, timeout: float = REPLY_WAIT_S) -> dict | None:
    """Make sure a warm process of this code runs at ``where`` and has finished warming up
    (TensorFlow imported, AutoGraph's conversions made); its status, or None when it could
    not be had in ``timeout`` seconds. Benchmarks time jobs in it without its start-up."""
    current = status(where)
    if current is not None and current.get("fingerprint") not in (None, fingerprint()):
        stop(where)
    if not is_running(where):
        launch(where)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = status(where)
        if current and current.get("warmed"):
            return current
        time.sleep(0.2)
    return None


def prewarm(slots: int | None = None) -> list[int]:
    """Start the warm process of every worker slot that has none (without waiting for it);
    returns the slots started. Never raises: warming is an optimisation."""
    if not enabled():
        return []
    started = []
    try:
        from optimizer.runs.slots import max_jobs

        for slot in range(max_jobs() if slots is None else slots):
            if not is_running(place(slot)):
                launch(place(slot))
                started.append(slot)
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    return started


class WarmJob:
    """A job running in a fork of a warm process, handled like ``subprocess.Popen``."""

    warm = True

    def __init__(self, sock: socket.socket, reader: LineReader, pid: int):
        self._sock, self._reader = sock, reader
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The job's exit status (negative: the signal that ended it) or None while it runs."""
        while self.returncode is None and self._reader.pending():
            self._take(self._reader.read(timeout=5.0))
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired("warm job", timeout)
            try:
                self._take(self._reader.read(timeout=left))
            except TimeoutError:
                raise subprocess.TimeoutExpired("warm job", timeout) from None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """Signal the job's process group (through its warm process)."""
        if self.returncode is None:
            try:
                send(self._sock, {"signal": int(sig)})
            except OSError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def close(self) -> None:
        """Drop the connection: a job still running is killed by its warm process."""
        self._sock.close()

    def _take(self, message: dict | None) -> None:
        if message is None:          # the warm process went away without an answer
            self.returncode = LOST_EXIT
            self.close()
        elif "returncode" in message:
            self.returncode = int(message["returncode"])
            self.close()


def start_job(job_path: Path | str, log_path: Path | str, where: Place, attached: bool = False,
              cwd: str | None = None) -> WarmJob | None:
    """Run the job file in the warm process at ``where`` (started if needed); None when warm
    processes are off or cannot be used (the caller then starts a fresh process)."""
    return _start({"job": str(job_path), "log": str(log_path), "env": child_env()}, where,
                  attached, cwd)


def start_command(argv: list[str], stdout: Path | str, stderr: Path | str, where: Place,
                  drop_env: tuple = ()) -> WarmJob | None:
    """Run ``python -m optimizer ARGV`` in a fork of the warm process at ``where`` (started if
    needed in the workspace folder, preparing only what every job needs), with this process's
    environment and working folder and its output in the files ``stdout`` and ``stderr``; None
    when warm processes are off or cannot be used (the caller then runs it itself).
    ``drop_env``: see ``launch``."""
    return _start({"command": [str(a) for a in argv], "log": str(stdout), "err": str(stderr),
                   "env": dict(os.environ)}, where, False, None,
                  lambda: launch(where, more=False, drop_env=drop_env,
                                 cwd=str(paths.workspace())))


def _start(fields: dict, where: Place, attached: bool, cwd: str | None,
           start=None) -> WarmJob | None:
    if not enabled():
        return None
    for attempt in range(2):
        sock = _connect(where, attached, start)
        if sock is None:
            return None
        reader = LineReader(sock)
        try:
            send(sock, {"op": "job", **fields, "cwd": cwd or os.getcwd(),
                        "fingerprint": fingerprint()})
            reply = reader.read(timeout=REPLY_WAIT_S)
        except (OSError, ValueError, TimeoutError):
            sock.close()
            return None
        if reply and "pid" in reply:
            return WarmJob(sock, reader, int(reply["pid"]))
        sock.close()
        if not (reply and reply.get("stale")) or attempt:
            return None
        _wait_gone(where)   # a warm process of older code exits; a new one starts
    return None


def stop(where: Place, wait_s: float = 10.0) -> bool:
    """Ask the warm process at ``where`` to exit (after the job it runs); True if it was
    there."""
    if not is_running(where):
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(wait_s)
            sock.connect(str(where.sock))
            send(sock, {"op": "exit"})
            LineReader(sock).read(timeout=wait_s)
    except (OSError, ValueError, TimeoutError):
        pass
    _wait_gone(where, wait_s)
    return True


def stop_all(slots: int = 8) -> int:
    """Stop every slot's warm process of this workspace (tests, a shutdown); how many."""
    return sum(stop(place(slot)) for slot in range(slots))


def _connect(where: Place, attached: bool, start=None) -> socket.socket | None:
    launched = None
    deadline = time.monotonic() + LISTEN_WAIT_S
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(where.sock))
            return sock
        except OSError:
            sock.close()
        if launched is None and not is_running(where):
            try:
                start() if start is not None else launch(where, attached)
            except (OSError, subprocess.SubprocessError):
                return None
            launched = time.monotonic()
        elif launched is not None and time.monotonic() - launched > 10 and not is_running(where):
            return None   # it started and died (see warm-<slot>.log)
        time.sleep(0.05)
    return None


def _wait_gone(where: Place, wait_s: float = 15.0) -> None:
    deadline = time.monotonic() + wait_s
    while is_running(where) and time.monotonic() < deadline:
        time.sleep(0.05)
