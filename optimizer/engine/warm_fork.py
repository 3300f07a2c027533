"""What a fork of the warm job process does before and while it runs a job (``engine.warm``).

It makes itself what a fresh ``python -m optimizer worker`` would be: the leader of its own
session and process group (cancel and clean-up reach everything it starts), without the
server's listening socket and slot lock, with default signal handlers, the client's environment
and working folder (a fork starts with the server's), ``TMPDIR`` and the random generators
found and seeded anew, its output in the job's log, and first in line for the kernel's
out-of-memory killer (before the warm process and the app). A watchdog thread kills its whole
group the moment the client's end of the connection closes -- the orchestrator was cancelled
or killed -- even when the warm process itself is gone. Then it runs the job
(``engine.pipeline.run_job``) and leaves with ``os._exit``: never TensorFlow's slow teardown,
never the server's code after the fork.

A job is a job file (``engine.pipeline.run_job``) or a command: ``python -m optimizer ARGV``
run in the fork as a fresh process would run it (how an upload check skips TensorFlow's
import: ``cli.check``), its standard output and error in files of the client's choosing.
"""
from __future__ import annotations

import os
import select
import signal
import socket
import sys
import threading
import traceback

#: The kernel's out-of-memory killer prefers a job's fork to its server (and to the app).
CHILD_OOM_SCORE_ADJ = 500


def run_in_fork(conn, listener, lock_fd: int, message: dict, ready: int) -> None:
    """In the fork of a warm job process: isolate it like a fresh process (see module doc),
    tell the server on ``ready`` once it leads its own group, run the job, exit."""
    code = 1
    try:
        os.setsid()                       # its own group: cancel and clean-up reach it all
        os.write(ready, b"1")
        os.close(ready)
        listener.close()
        os.close(lock_fd)                 # the slot lock belongs to the server alone
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        _oom_first()
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in (message.get("env") or {}).items()})
        os.chdir(message.get("cwd") or "/")
        import tempfile

        tempfile.tempdir = None           # found again from this job's TMPDIR, not the server's
        _output_to(message["log"], 1)
        _output_to(message.get("err") or message["log"], 2)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        _reseed()
        threading.Thread(target=_die_with_client, args=(conn,), daemon=True).start()
        if message.get("command"):
            code = _run_command([str(a) for a in message["command"]])
        else:
            from optimizer.artifacts.job import JobSpec
            from optimizer.engine.pipeline import run_job

            run_job(JobSpec.load(message["job"]))
            code = 0
    except BaseException:  # noqa: BLE001 - the log gets the traceback, the server the status
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)   # never TensorFlow's slow teardown, never the server's code


def _output_to(path: str, fd: int) -> None:
    out = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(out, fd)
    os.close(out)


def _run_command(argv: list[str]) -> int:
    """``python -m optimizer ARGV`` in this fork: the package's entry point run as a fresh
    process would run it (no import of the command-line layer from here); its exit status."""
    import runpy

    sys.argv = ["python -m optimizer", *argv]
    try:
        runpy.run_module("optimizer", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return int(done.code or 0)
        print(done.code, file=sys.stderr)
        return 1
    return 0


def _oom_first() -> None:
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(CHILD_OOM_SCORE_ADJ))
    except OSError:
        pass


def _reseed() -> None:
    """Fresh random state, as a new process would have (a fork copies the server's)."""
    import random

    import numpy as np

    random.seed()
    np.random.seed()


def _die_with_client(conn: socket.socket) -> None:
    """End the job's whole group when the client's end closes (even if the server is gone)."""
    poller = select.poll()
    poller.register(conn, select.POLLRDHUP)
    while True:
        for _fd, flags in poller.poll():
            if flags & (select.POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL):
                os.killpg(0, signal.SIGKILL)
