"""Warm job processes (``runs.warm``, ``engine.warm``): a job in a fork of a process that has
imported TensorFlow, isolated as a fresh process would be.

The fast tests start a warm process with ``--no-preload`` (no TensorFlow: its jobs import what
they need) and hand it jobs that need none: a job whose model file is missing (it writes error
results at once) and a job whose file is a FIFO (its process blocks opening it: a job that
runs until it is stopped). The slow ones run real jobs in a real warm process.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimizer.artifacts import store
from optimizer.artifacts.job import BASELINE, JobSpec
from optimizer.procs import child_env
from optimizer.runs import warm
from optimizer.runs.local import describe_exit, start_worker

pytestmark = pytest.mark.cost(40)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def _until(check, seconds: float = 60.0, what: str = "condition"):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _serve(where, idle: float, *flags: str) -> None:
    """Start slot ``where``'s warm process with ``flags`` (``--no-preload``: no TensorFlow)."""
    with open(where.log, "wb") as out:
        subprocess.Popen([sys.executable, "-m", "optimizer", "worker", "--serve",
                          str(where.sock), "--lock", str(where.lock), "--idle-timeout",
                          str(idle), "--fingerprint", warm.fingerprint(), *flags],
                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=child_env(), start_new_session=True)


def _light_launch(idle: float = 30.0):
    """A ``warm.launch`` that starts the warm process without TensorFlow."""
    def launch(where, attached=False):
        _serve(where, idle, "--no-preload")
    return launch


@pytest.fixture
def light(tmp_path, monkeypatch):
    """Slot 0's warm process of a private workspace, started without TensorFlow."""
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setattr(warm, "launch", _light_launch())
    where = warm.place(0)
    warm.launch(where)
    info = _until(lambda: (warm.status(where) or {}).get("ready") and warm.status(where),
                  what="the warm process")
    yield where, info["pid"]
    warm.stop(where)


def _missing_model_job(folder: Path, name: str = "job-1-baseline") -> JobSpec:
    folder.mkdir(parents=True, exist_ok=True)
    job = JobSpec(id=name, kind=BASELINE, specs=("float32", "float16"),
                  model=str(folder / "missing.h5"), data=str(folder / "missing.npz"),
                  settings=(), run_dir=str(folder), events=str(folder / "events.jsonl"))
    store.write_json_atomic(job.path, job.to_dict())
    return job


def _blocking_job(folder: Path) -> Path:
    """A job file its process blocks on (a FIFO nobody writes): a job that never ends."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "job-9-blocked.json"
    os.mkfifo(path)
    return path


def test_a_job_runs_in_a_fork_with_the_clients_environment(light, tmp_path, monkeypatch):
    where, server = light
    job = _missing_model_job(tmp_path / "run")
    # "~" is the client's HOME (not the warm process's): the client's environment reaches it
    job = JobSpec.from_dict({**job.to_dict(), "data": "~/x.npz"})
    store.write_json_atomic(job.path, job.to_dict())
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    handle = warm.start_job(job.path, job.log_path, where, cwd=str(tmp_path))
    assert handle is not None and handle.warm and handle.pid != server
    assert handle.wait(timeout=120) == 0
    doc = store.read_json(job.results_path)
    assert [r["technique"] for r in doc["results"]] == ["float32", "float16"]
    assert all(r["status"] == "error" and str(tmp_path / "home" / "x.npz") in r["error"]
               for r in doc["results"]), doc["results"]
    assert "Traceback" in job.log_path.read_text()     # the job's output went to its log
    assert _alive(server) and warm.status(where)["pid"] == server   # the server waits on


def test_the_job_gets_its_own_group_and_folder(light, tmp_path):
    where, server = light
    handle = warm.start_job(_blocking_job(tmp_path / "run"), tmp_path / "job.log", where,
                            cwd=str(tmp_path))
    try:
        assert os.getpgid(handle.pid) == handle.pid != os.getpgid(server)
        _until(lambda: Path(f"/proc/{handle.pid}/cwd").resolve() == tmp_path.resolve(), 10,
               "the job to move to the client's folder")
        assert handle.poll() is None
    finally:
        handle.kill()
    assert handle.wait(timeout=30) == -signal.SIGKILL


@pytest.mark.parametrize("sig, words", [(signal.SIGKILL, "out of memory"),
                                        (signal.SIGSEGV, "SIGSEGV")])
def test_a_job_killed_or_crashed_ends_alone_and_the_next_job_runs(light, tmp_path, sig, words):
    where, server = light
    handle = warm.start_job(_blocking_job(tmp_path / "a"), tmp_path / "a.log", where)
    os.kill(handle.pid, sig)                 # out of memory, or a crash in native code
    code = handle.wait(timeout=30)
    assert code == -sig and words in describe_exit(code, tmp_path / "a.log")
    assert _alive(server)
    job = _missing_model_job(tmp_path / "b")
    again = warm.start_job(job.path, job.log_path, where)
    assert again.wait(timeout=120) == 0 and job.results_path.exists()
    assert warm.status(where)["pid"] == server


def test_a_job_dies_with_the_process_that_asked_for_it(light, tmp_path):
    where, server = light
    fifo = _blocking_job(tmp_path / "run")
    client = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from optimizer.runs import warm\n"
        f"h = warm.start_job({str(fifo)!r}, {str(tmp_path / 'job.log')!r}, "
        f"warm.Place(Path({str(where.sock)!r}), Path({str(where.lock)!r}), "
        f"Path({str(where.log)!r})))\n"
        "print(h.pid, flush=True)\n"
        "time.sleep(120)\n")], stdout=subprocess.PIPE, text=True, env=child_env())
    job_pid = int(client.stdout.readline())
    assert _alive(job_pid)
    client.kill()                            # a cancelled or killed orchestrator
    client.wait()
    _until(lambda: not _alive(job_pid), 10, "the job to die with its client")
    assert _alive(server)


def test_a_client_gone_before_its_job_started_leaves_no_job_and_no_zombie(light, tmp_path):
    import socket

    import psutil

    from optimizer.engine.warm import send

    where, server = light
    fifo = _blocking_job(tmp_path / "run")     # a job that would run until stopped
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(where.sock))
        send(sock, {"op": "job", "job": str(fifo), "log": str(tmp_path / "job.log"),
                    "env": child_env(), "cwd": str(tmp_path), "fingerprint": warm.fingerprint()})
    # gone before the warm process could say which process runs the job: the job is ended and
    # reaped (its process never lingers, not even as a zombie), and the server goes on
    _until(lambda: "client error" in where.log.read_text(), 30, "the server to see it gone")
    _until(lambda: not psutil.Process(server).children(), 10, "the job to be ended and reaped")
    job = _missing_model_job(tmp_path / "next")
    assert warm.start_job(job.path, job.log_path, where).wait(timeout=120) == 0
    assert warm.status(where)["pid"] == server


def test_an_idle_warm_process_exits(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    where = warm.place(0)
    _light_launch(idle=1.0)(where)
    pid = _until(lambda: (warm.status(where) or {}).get("pid"), what="the warm process")
    _until(lambda: not _alive(pid), 30, "the idle warm process to exit")
    assert not warm.is_running(where) and not where.sock.exists()


def test_two_slots_mean_at_most_two_warm_processes(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("OPTIMIZER_MAX_JOBS", "2")
    monkeypatch.setattr(warm, "launch", _light_launch())
    try:
        assert warm.prewarm() == [0, 1]
        pids = [_until(lambda s=s: (warm.status(warm.place(s)) or {}).get("ready")
                       and warm.status(warm.place(s))["pid"], what=f"slot {s}")
                for s in (0, 1)]
        assert warm.prewarm() == []               # both slots have theirs
        warm.launch(warm.place(0))                # a second one for a slot gives way
        _until(lambda: len(_servers(tmp_path)) == 3, 30, "the second one to start")
        _until(lambda: len(_servers(tmp_path)) == 2, 30, "the second one to give way")
        assert sorted(warm.status(warm.place(s))["pid"] for s in (0, 1)) == sorted(pids)
    finally:
        warm.stop_all()


def test_a_warm_process_of_other_code_hands_over(light, tmp_path, monkeypatch):
    where, server = light
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")   # read when TensorFlow loads: stale now
    job = _missing_model_job(tmp_path / "run")
    handle = warm.start_job(job.path, job.log_path, where)
    assert handle is not None and handle.wait(timeout=120) == 0
    assert not _alive(server) and warm.status(where)["pid"] != server


def test_warm_processes_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv(warm.ENV_WARM, "0")
    job = _missing_model_job(tmp_path / "run")
    assert warm.start_job(job.path, job.log_path, warm.place(0)) is None
    proc = start_worker(job, slot=0)            # a fresh process instead
    assert proc.warm is False and proc.wait(timeout=180) == 0
    assert not warm.is_running(warm.place(0)) and warm.prewarm() == []


def test_settings_are_validated(monkeypatch):
    assert warm.idle_seconds({}) == warm.DEFAULT_IDLE_S
    assert warm.idle_seconds({warm.ENV_IDLE: "2.5"}) == 2.5
    for bad in ("0", "-3", "soon"):
        with pytest.raises(ValueError, match=warm.ENV_IDLE):
            warm.idle_seconds({warm.ENV_IDLE: bad})
    assert warm.enabled({}) and not warm.enabled({warm.ENV_WARM: "off"})
    base = warm.fingerprint({"HOME": "/a"})
    assert warm.fingerprint({"HOME": "/b"}) == base          # not read by the import
    assert warm.fingerprint({"HOME": "/a", "TF_NUM_INTEROP_THREADS": "1"}) != base
    # what optimizer.compat sets itself is the same whether or not it ran in the asker
    assert warm.fingerprint({"HOME": "/a", "TF_USE_LEGACY_KERAS": "1",
                             "TF_CPP_MIN_LOG_LEVEL": "2"}) == base
    assert warm.fingerprint({"HOME": "/a", "TF_CPP_MIN_LOG_LEVEL": "0"}) != base


def test_a_deep_workspace_puts_the_socket_in_a_private_folder(tmp_path, monkeypatch):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(deep))
    where = warm.place(1)
    assert len(str(where.sock)) <= 100 and where.lock.parent == deep / "slots"
    assert (where.sock.parent.stat().st_mode & 0o777) == 0o700
    assert where.sock != warm.place(0).sock


def _servers(folder: Path) -> list[list[str]]:
    return [p for p in _processes("--serve") if str(folder) in " ".join(p)]


def _processes(marker: str) -> list[list[str]]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if marker in argv and _alive(int(entry.name)):
            out.append(argv)
    return out


@pytest.mark.slow
def test_without_preloading_more_a_warm_process_is_warm_once_ready(tmp_path, monkeypatch):
    """``OPTIMIZER_WARM_PRELOAD=0``: the launch asks for no more than every job needs, and
    such a process says it is warmed as soon as it is ready (``ensure_ready`` waits for it)."""
    assert warm.preloads_more({}) and not warm.preloads_more({warm.ENV_PRELOAD: "0"})
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    commands = []

    class Started:
        def __init__(self, command, **kwargs):
            commands.append(command)

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(warm.subprocess, "Popen", Started)
    for value in ("1", "0"):
        monkeypatch.setenv(warm.ENV_PRELOAD, value)
        warm.launch(warm.place(0))
    assert "--no-preload-more" not in commands[0] and "--no-preload-more" in commands[1]
    monkeypatch.undo()
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    where = warm.place(0)
    _serve(where, 30.0, "--no-preload-more")
    try:
        info = _until(lambda: (warm.status(where) or {}).get("ready") and warm.status(where),
                      what="the warm process")
        assert info.get("warmed") is True   # TensorFlow imported, nothing more to prepare
    finally:
        warm.stop(where)
    log = where.log.read_text()
    assert "ready in" in log and "AutoGraph:" not in log
