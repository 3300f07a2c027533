"""Real runs in warm job processes (TensorFlow imported once per slot): a killed job, a
cancelled run and two slots under three runs, on the digits-cnn demo."""
from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from optimizer.artifacts import store
from optimizer.runs import warm
from optimizer.runs.background import cancel_run, read_run, start_run
from optimizer.runs.request import RunRequest

pytestmark = [pytest.mark.slow, pytest.mark.cost(240)]

LONG = ("finetune.epochs=200",)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv(warm.ENV_IDLE, "120")
    yield tmp_path / "ws"
    warm.stop_all()


def _wait(run_dir, predicate, timeout=900):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = read_run(run_dir)
        if predicate(state):
            return state
        if state.done:
            raise AssertionError(f"the run ended ({state.status}: {state.error}; "
                                 f"{[(r.technique, r.error) for r in state.results]}) first")
        time.sleep(0.3)
    raise AssertionError(f"timed out; last state {read_run(run_dir)}")


def _fine_tuning(spec):
    return lambda s: (s.progress[spec].step or "").startswith("fine-tune")


def _server(slot: int = 0) -> int:
    return (warm.status(warm.place(slot)) or {}).get("pid")


def _jobs_of(server: int) -> list[int]:
    try:
        return [c.pid for c in psutil.Process(server).children()
                if c.status() != psutil.STATUS_ZOMBIE]
    except psutil.Error:
        return []


def test_a_killed_warm_job_fails_alone_and_cancel_stops_a_warm_job(workspace, tmp_path):
    # 1. the retraining job is killed (out of memory, say) in the warm process
    first = start_run(RunRequest(model="digits-cnn", techniques=("float16", "pruning"),
                                 settings=LONG), tmp_path / "a")
    _wait(first, _fine_tuning("pruning"))
    server = _server()
    (job,) = _jobs_of(server)
    os.kill(job, signal.SIGKILL)
    state = _wait(first, lambda s: s.done)
    by = {r.technique: r for r in state.results}
    assert state.status == "finished"
    assert by["float32"].ok and by["float16"].ok            # the other job's results stand
    assert by["pruning"].status == "error" and "SIGKILL" in by["pruning"].error
    assert "out of memory" in by["pruning"].error
    finished = [e for e in _events(first) if e["type"] == "job_finished"]
    assert [e.get("warm") for e in finished] == [True, True]
    assert _server() == server and psutil.pid_exists(server)   # the warm process goes on

    # 2. a run in the same warm process is cancelled: its job dies with it
    second = start_run(RunRequest(model="digits-cnn", techniques=("pruning",), settings=LONG),
                       tmp_path / "b")
    _wait(second, _fine_tuning("pruning"))
    (job,) = _jobs_of(server)
    assert cancel_run(second) is True
    deadline = time.time() + 10
    while psutil.pid_exists(job) and psutil.Process(job).status() != psutil.STATUS_ZOMBIE \
            and time.time() < deadline:
        time.sleep(0.05)
    assert not psutil.pid_exists(job) or psutil.Process(job).status() == psutil.STATUS_ZOMBIE
    state = read_run(second)
    assert state.status == "cancelled" and state.result("pruning").status == "cancelled"
    assert state.result("float32").ok
    assert _server() == server and _jobs_of(server) == []


def test_two_slots_three_runs_at_most_two_warm_processes(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_MAX_JOBS", "2")
    monkeypatch.setenv("OPTIMIZER_MAX_QUEUED", "3")
    runs = [start_run(RunRequest(model="digits-cnn", techniques=("float16",)),
                      tmp_path / f"r{i}", use_cache=False) for i in range(3)]
    most_servers, most_jobs = 0, 0
    deadline = time.time() + 900
    while not all(read_run(r).done for r in runs):
        assert time.time() < deadline, "the runs did not finish"
        servers = [p for p in (_server(0), _server(1)) if p]
        most_servers = max(most_servers, len(servers))
        most_jobs = max([most_jobs] + [len(_jobs_of(s)) for s in servers])
        time.sleep(0.2)
    assert all(read_run(r).status == "finished" for r in runs)
    assert all(read_run(r).result("float16").ok for r in runs)
    assert most_servers <= 2 and most_jobs <= 1, (most_servers, most_jobs)
    assert not warm.is_running(warm.place(2))
    marker = str(workspace / "slots")
    live = [p for p in psutil.process_iter(["cmdline"])
            if "--serve" in (p.info["cmdline"] or []) and marker in " ".join(p.info["cmdline"])]
    assert len(live) <= 2


def _events(run_dir):
    from optimizer.artifacts.events import read_events

    return read_events(run_dir / store.EVENTS)


FORK_CHECK = r"""
import json, os, sys
from optimizer.engine.warm import preload, preload_more
from optimizer.engine.autograph_warm import warm_autograph
preload()
preload_more()
done, skipped = warm_autograph()
threads = len(os.listdir('/proc/self/task'))
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    from tensorflow.python.autograph.pyct import transpiler
    original, misses = transpiler.PyToPy.transform_function, []
    def watched(self, fn, context):
        if not self._cache.has(fn, self.get_caching_key(context)):
            misses.append(fn.__qualname__)
        return original(self, fn, context)
    transpiler.PyToPy.transform_function = watched
    from optimizer.engine.convert import freeze_model
    from optimizer.engine.finetune import finetune, train_steps
    from optimizer.engine.pruning import apply_pruning
    from optimizer.engine.qat import apply_qat
    from optimizer.guide.configs import FinetuneConfig, PruningConfig
    from optimizer.models.resolve import resolve_model
    bundle = resolve_model("digits-cnn", None)
    model, data, config = bundle.load_keras(), bundle.dataset, FinetuneConfig(epochs=1)
    step = apply_qat(model)
    report = finetune(step.model, data, config)
    freeze_model(step.model)
    pruned = apply_pruning(model, PruningConfig(), steps_per_epoch=train_steps(data, config),
                           epochs=1)
    finetune(pruned.model, data, config, callbacks=tuple(pruned.callbacks))
    os.write(write, json.dumps({"misses": misses}).encode())
    os._exit(0)
os.close(write)
_, status = os.waitpid(pid, 0)
print(json.dumps({"done": done, "skipped": skipped, "threads": threads, "status": status,
                  "child": json.loads(os.read(read, 1 << 16) or b"{}")}))
"""


def test_a_fork_of_a_warm_process_converts_nothing_again():
    """AutoGraph's conversions made in the warm process (no graph, no runtime: its threads
    stay those of the import) are the ones a QAT and a pruning job need in its fork."""
    import json
    import subprocess
    import sys

    from optimizer.procs import child_env

    proc = subprocess.run([sys.executable, "-c", FORK_CHECK], capture_output=True, text=True,
                          timeout=900, env=child_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == 0 and out["skipped"] == [] and out["done"] >= 30
    assert out["threads"] <= 4, out          # converting started no TensorFlow thread
    assert out["child"]["misses"] == [], out["child"]
