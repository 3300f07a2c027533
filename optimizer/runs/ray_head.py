"""A throwaway local Ray head (127.0.0.1, its own temp folder, ``N`` CPUs) for tests and
benchmarks: ``with local_head(2) as address: ...`` starts ``ray start --head --block`` in its
own process group and stops that whole group at the end. A workshop starts its cluster with
``ray start`` itself (README, "Running a workshop")."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 120.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_head(num_cpus: int = 2):
    """Start a local Ray head with ``num_cpus`` CPUs; yields ``{"address", "pid"}`` (``pid``
    leads the head's process group: its raylet, workers and their children)."""
    port = free_port()
    temp = tempfile.mkdtemp(prefix="rayh", dir="/tmp")  # short: Ray's socket paths are limited
    ray_cli = str(Path(sys.executable).parent / "ray")
    head = subprocess.Popen([ray_cli, "start", "--head", "--block", "--node-ip-address",
                             "127.0.0.1", "--port", str(port), "--num-cpus", str(num_cpus),
                             "--disable-usage-stats", "--include-dashboard=false",
                             "--temp-dir", temp], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or head.poll() is not None:
                    raise RuntimeError("the local Ray head did not start; see `ray start "
                                       "--head` run by hand for the reason") from None
                time.sleep(0.5)
        yield {"address": f"127.0.0.1:{port}", "pid": head.pid}
    finally:
        _stop_group(head)
        shutil.rmtree(temp, ignore_errors=True)


def _stop_group(head: subprocess.Popen) -> None:
    try:
        os.killpg(head.pid, signal.SIGTERM)
        head.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()
    except ProcessLookupError:
        pass
