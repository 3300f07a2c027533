"""The warm job process: TensorFlow, TFMOT and LiteRT imported once, each job in a fresh fork.

``python -m optimizer worker --serve SOCKET --lock FILE`` runs ``serve``: it takes the slot's
lock (one warm process per worker slot, so two slots mean at most two warm processes), listens
on a Unix socket, *imports* the heavy libraries and the engine (importing starts no TensorFlow
runtime: no eager context, no thread pools -- measured, the process keeps the same 4 threads
numpy and TensorFlow's import leave), then waits for jobs. Each job runs in a fresh ``fork`` of
that process, so it starts in milliseconds instead of the 4-5 s TensorFlow's import takes, and
creates TensorFlow's runtime (threads, sessions) in the child only, never in the server: what
makes forking after the import safe (the usual forkserver rule; verified for conversions,
fine-tuning with TFMOT and the LiteRT interpreter in the child). What only some jobs need --
TFMOT, the LiteRT Quantizer, the small demos' data and AutoGraph's conversions of the
retraining wrappers (``engine.autograph_warm``: pure Python, no graph) -- it prepares when
idle or beside its first job (``preload_more``), so the first job never waits for it and a
later QAT job's set-up skips it.

Isolation stays what a fresh process gives (``engine.warm_fork``): the child is its own session
and process group, its output goes to the job's log, its environment and working folder are
the client's, its random generators are reseeded, and it is the first one the kernel's
out-of-memory killer picks. A child that crashes or is killed only ends its job: the server
reports its exit status to the client (negative: the signal) and waits for the next job. The
child dies with its client: when the client's end of the connection closes (the orchestrator
was cancelled or killed), the server kills the child's process group and the child's own
watchdog thread does the same, so a cancelled run never leaves a job running. An idle server
exits after ``idle_s`` seconds, or when its socket file is removed or replaced.

The wire format is one JSON object per line in each direction (``send`` / ``LineReader``):
``{"op": "job", "job" | "command", "log", ["err"], "env", "cwd", "fingerprint"}`` -> ``{"pid"}`` then
``{"returncode"}``; ``{"op": "ping"}`` -> ``{"pid", "fingerprint", "ready"}``; ``{"op":
"exit"}``. A job from a different code version or environment (``fingerprint``) is answered
``{"stale": true}`` and the server exits, so a new one starts with the new code. Only a peer
of the same user may connect (``SO_PEERCRED``). Nothing heavy is imported at module level.
"""
from __future__ import annotations

import fcntl
import importlib
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path

from optimizer.engine.warm_fork import run_in_fork

#: Built-in demos whose data is small enough to keep ready in every warm process (each well
#: under 1 MB; digits-mobilenetv2's upsampled images are 200 MB, built by its jobs).
SMALL_DEMOS = ("digits-cnn", "digits-outliers", "tabular-mlp", "waveforms-conv1d")
#: The engine modules a job needs, imported before the first fork (beside the libraries).
PRELOAD = ("optimizer.engine.pipeline", "optimizer.engine.posttraining",
           "optimizer.engine.retraining", "optimizer.engine.selective",
           "optimizer.engine.convert", "optimizer.engine.quantizer",
           "optimizer.measuring.accuracy", "optimizer.measuring.facts")
#: How often an idle server checks that its socket file is still its own.
CHECK_S = 5.0
#: How long a new server tries for the slot's lock before giving way to the one holding it
#: (a client waits for a stale server to exit before it starts a new one).
LOCK_WAIT_S = 1.0


def send(sock: socket.socket, message: dict) -> None:
    """Write one message (a JSON object and a newline)."""
    sock.sendall((json.dumps(message) + "\n").encode())


class LineReader:
    """Reads one JSON object per line from a stream socket (buffering partial lines)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""
        self.closed = False

    def read(self, timeout: float | None = None) -> dict | None:
        """The next message; None when the peer closed the connection. ``TimeoutError`` when
        nothing complete came within ``timeout`` seconds (None: wait)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if self.closed:
                return None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no message in time")
                ready, _, _ = select.select([self.sock], [], [], left)
                if not ready:
                    continue
            data = self.sock.recv(65536)
            if not data:
                self.closed = True
                continue
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("a message must be a JSON object")
        return message

    def pending(self) -> bool:
        """True when a message (or the end of the stream) can be read without waiting."""
        if b"\n" in self.buffer or self.closed:
            return True
        ready, _, _ = select.select([self.sock], [], [], 0)
        return bool(ready)


def preload() -> None:
    """Import TensorFlow, LiteRT and the engine, starting no TensorFlow runtime: what every
    job needs, before the first fork."""
    from optimizer import compat

    compat.tf()
    compat.keras()
    compat.interpreter_class()
    for name in PRELOAD:
        importlib.import_module(name)


def preload_more() -> None:
    """What only some jobs need, done beside the first job (``_Beside``): TFMOT and the LiteRT
    Quantizer imported, the small demos' data built (numpy and scikit-learn only) and
    AutoGraph's retraining conversions made. A job forked before it imports what it needs."""
    from optimizer import compat

    compat.tfmot()
    try:
        compat.litert_quantizer()
    except Exception:  # noqa: BLE001 - an optional extra: a job imports it again if it needs it
        pass
    from optimizer.models.demos.datasets import load_dataset

    for name in SMALL_DEMOS:      # cached per process, inherited by every later fork
        load_dataset(name)
    _warm_autograph()


def take_lock(lock_path: Path, wait_s: float = LOCK_WAIT_S) -> int | None:
    """The slot lock's descriptor, held (exclusive ``flock``), or None when another server
    still holds it after ``wait_s``."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(0.1)


def serve(socket_path: str, lock_path: str, idle_s: float, fingerprint: str,
          heavy: bool = True, more: bool = True) -> int:
    """Run the warm job process until it has been idle ``idle_s`` seconds (see module doc).
    ``heavy=False`` skips the import (each job then imports what it needs: tests of the
    process handling, which need no TensorFlow); ``more=False`` skips ``preload_more`` (the
    jobs that need TFMOT, the Quantizer or AutoGraph's conversions make them themselves)."""
    lock_fd = take_lock(Path(lock_path))
    if lock_fd is None:
        return 0   # another warm process serves this slot
    path = Path(socket_path)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(8)
    inode = path.stat().st_ino
    _describe(lock_path, {"pid": os.getpid(), "fingerprint": fingerprint, "ready": False})
    began = time.monotonic()
    if heavy:
        preload()
    print(f"warm job process {os.getpid()} ready in {time.monotonic() - began:.1f} s "
          f"(idle timeout {idle_s:g} s)", flush=True)
    _describe(lock_path, {"pid": os.getpid(), "fingerprint": fingerprint, "ready": True})

    def warm_up():
        preload_more()
        _describe(lock_path, {"pid": os.getpid(), "fingerprint": fingerprint, "ready": True,
                              "warmed": True})

    later = _Beside(warm_up if heavy and more else None)
    if later.action is None:   # nothing more to prepare: as warm as it will be
        _describe(lock_path, {"pid": os.getpid(), "fingerprint": fingerprint, "ready": True,
                              "warmed": True})
    if not select.select([listener], [], [], 0)[0]:
        later.start()    # nobody waits yet: convert now; else beside the first job
    last = time.monotonic()
    try:
        while True:
            left = idle_s - (time.monotonic() - last)
            if left <= 0:
                print("idle timeout: exiting", flush=True)
                break
            listener.settimeout(min(CHECK_S, left))
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if not _still_ours(path, inode):
                    print("socket file removed or replaced: exiting", flush=True)
                    break
                continue
            conn.settimeout(None)
            try:
                if _same_user(conn) and _handle(conn, listener, lock_fd, fingerprint,
                                                later) == "exit":
                    break
            except (OSError, ValueError) as exc:   # one bad client never stops the server
                print(f"client error: {exc}", flush=True)
            finally:
                conn.close()
            last = time.monotonic()
    finally:
        if _still_ours(path, inode):
            path.unlink(missing_ok=True)
        listener.close()
        Path(lock_path + ".json").unlink(missing_ok=True)
        os.close(lock_fd)
    return 0


def _describe(lock_path: str, info: dict) -> None:
    """Who holds the slot's warm lock (for ``runs.warm.status``); valid while it is held."""
    target = Path(lock_path + ".json")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({**info, "t": time.time()}))
    os.replace(tmp, target)


def _still_ours(path: Path, inode: int) -> bool:
    try:
        return path.stat().st_ino == inode
    except OSError:
        return False


def _same_user(conn: socket.socket) -> bool:
    """Only a process of this server's user may hand it jobs."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


class _Beside:
    """Work the server does once, in a thread beside its first job (``start``), which is
    always over before the next fork (``finish``): a fork copies only the thread that forks,
    so no other thread may hold a lock (an import's, AutoGraph's) then."""

    def __init__(self, action):
        self.action = action
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.action is not None and self.thread is None:
            self.thread = threading.Thread(target=self.action, name="warm-up", daemon=True)
            self.thread.start()

    def finish(self) -> None:
        if self.thread is not None:
            self.thread.join()


def _warm_autograph() -> None:
    """AutoGraph's conversions of the retraining wrappers, inherited by every later fork."""
    from optimizer.engine.autograph_warm import warm_autograph

    began = time.monotonic()
    done, skipped = warm_autograph()
    print(f"AutoGraph: {done} conversions in {time.monotonic() - began:.1f} s"
          + (f"; skipped: {', '.join(skipped)}" if skipped else ""), flush=True)


def _handle(conn: socket.socket, listener, lock_fd: int, fingerprint: str,
            later: _Beside | None = None) -> str | None:
    reader = LineReader(conn)
    message = reader.read(timeout=30.0)
    if message is None:
        return None
    op = message.get("op")
    if op == "ping":
        send(conn, {"pid": os.getpid(), "fingerprint": fingerprint, "ready": True})
        return None
    if op == "exit":
        send(conn, {"exiting": True})
        return "exit"
    if op != "job":
        send(conn, {"error": f"unknown op {op!r}"})
        return None
    if message.get("fingerprint") != fingerprint:
        print("a job of other code or environment: handing over to a new warm process",
              flush=True)
        send(conn, {"stale": True})   # other code or environment: a new server takes over
        return "exit"
    _run_forked(conn, reader, listener, lock_fd, message, later)
    return None


def _run_forked(conn, reader: LineReader, listener, lock_fd: int, message: dict,
                later: _Beside | None = None) -> None:
    """Fork a child for the job; relay signals asked by the client; report its exit status.
    ``later`` (the server's own warm-up) runs beside the first job, never across a fork."""
    later = later or _Beside(None)
    later.finish()
    sys.stdout.flush()
    sys.stderr.flush()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        run_in_fork(conn, listener, lock_fd, message, ready_w)   # never returns
    os.close(ready_w)
    os.read(ready_r, 1)      # the child leads its own group now (or died trying)
    os.close(ready_r)
    try:
        send(conn, {"pid": pid})
    except OSError:          # the client went away while the child started: so does the child
        _kill_group(pid, signal.SIGKILL)
        os.waitpid(pid, 0)   # reaped, never left behind as a zombie
        raise
    later.start()
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(conn, select.POLLIN | select.POLLRDHUP)
    client = True
    while True:
        ready = dict(poller.poll())
        if pidfd in ready:
            break
        if client and conn.fileno() in ready:
            try:
                asked = reader.read(timeout=0.5)
            except (TimeoutError, ValueError):
                continue
            if asked is None:   # the client is gone (cancelled or killed): so is its job
                _kill_group(pid, signal.SIGKILL)
                poller.unregister(conn)
                client = False
            elif "signal" in asked:
                _kill_group(pid, int(asked["signal"]))
    _kill_group(pid, signal.SIGKILL)   # what the job left in its group (it is a zombie now)
    _, status = os.waitpid(pid, 0)
    os.close(pidfd)
    if client:
        try:
            send(conn, {"returncode": os.waitstatus_to_exitcode(status)})
        except OSError:
            pass


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
