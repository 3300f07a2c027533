"""Runs as background jobs: requests, planning, events, slots, state from disk, cancel, failures.

The fast tests build run folders by hand (test data describing structure, never shown as
measurements); the slow ones start real runs on a tiny saved model.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest

from optimizer.artifacts import store
from optimizer.artifacts.events import EventLog, EventType, fold_progress, read_events
from optimizer.guide.schema import Result
from optimizer.runs.background import cancel_run, list_runs, read_run, start_run
from optimizer.runs.orchestrate import describe_exit, job_key, plan_jobs, run_job
from optimizer.runs.request import RunRequest

pytestmark = pytest.mark.cost(75)

# -- requests and planning ------------------------------------------------------------------


def test_request_specs_are_canonical_with_float32_first():
    req = RunRequest(model="digits-cnn", techniques=["pruning+float32", "float16", "float16",
                                                     "pruning+clustering+dynamic_range"])
    assert req.specs == ("float32", "pruning", "float16", "pruning+clustering+dynamic_range")
    assert req.techniques == ("pruning", "float16", "pruning+clustering+dynamic_range")
    assert RunRequest(model="m", techniques=("float32",)).specs == ("float32",)
    assert RunRequest.from_dict(json.loads(json.dumps(req.to_dict()))) == req


@pytest.mark.parametrize("kwargs, fragment", [
    ({"techniques": ["bogus"]}, "unknown technique 'bogus'"),
    ({"techniques": ["qat+float16"]}, r"only \+integer"),
    ({"settings": ["pruning.sparsity=2"]}, "pruning.sparsity"),
    ({"settings": ["nokey"]}, "key=value"),
])
def test_request_rejects_bad_input_with_the_fix(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        RunRequest(model="digits-cnn", **kwargs)


def test_plan_groups_post_training_and_each_retraining_base(tmp_path):
    req = RunRequest(model="m", techniques=["float16", "pruning", "pruning+dynamic_range", "qat",
                                            "qat+integer_only", "pruning+clustering", "int16x8"])
    jobs = plan_jobs(req, tmp_path, tmp_path / "events.jsonl")
    assert [(j.kind, j.specs) for j in jobs] == [
        ("baseline", ("float32", "float16", "int16x8")),
        ("retraining", ("pruning", "pruning+dynamic_range")),
        ("retraining", ("qat", "qat+integer_only")),
        ("retraining", ("pruning+clustering",)),
    ]
    assert len({j.id for j in jobs}) == len(jobs)
    assert job_key("pcqat+integer_only") == "pcqat"
    assert job_key("clustering+integer") == "clustering"


def test_describe_exit_says_killed_means_memory(tmp_path):
    log = tmp_path / "job.log"
    assert "out of memory" in describe_exit(-signal.SIGKILL, log)
    assert "SIGSEGV" in describe_exit(-signal.SIGSEGV, log)
    assert "exit status 2" in describe_exit(2, log) and log.name in describe_exit(2, log)
    assert str(log.parent) not in describe_exit(2, log)   # no server path in a message
    assert "\n" not in describe_exit(-9, log)


def test_unusable_model_in_a_job_gives_one_line_errors(tmp_path):
    req = RunRequest(model="digits-cnn", techniques=["float16"])
    job = plan_jobs(req, tmp_path, tmp_path / "events.jsonl")[0]
    job = type(job).from_dict({**job.to_dict(), "model": str(tmp_path / "missing.h5"),
                               "data": str(tmp_path / "missing.npz")})
    results = run_job(job, EventLog(tmp_path / "events.jsonl"), "m")
    assert [r.technique for r in results] == ["float32", "float16"]
    assert all(r.status == "error" and "missing.npz" in r.error for r in results)
    assert all("\n" not in r.error and "Traceback" not in r.error for r in results)
    assert "Traceback" in job.log_path.read_text()  # the details went to the job's log


def test_a_worker_that_crashes_becomes_error_results(tmp_path):
    req = RunRequest(model="digits-cnn", techniques=["float16"])
    job = plan_jobs(req, tmp_path, tmp_path / "events.jsonl")[0]
    job = type(job).from_dict({**job.to_dict(), "model": str(tmp_path / "missing.h5"),
                               "data": str(tmp_path / "missing.npz")})
    job.results_path.mkdir()  # the worker cannot write its results: it dies with an OSError
    results = run_job(job, EventLog(tmp_path / "events.jsonl"), "m")
    assert all(r.status == "error" and "exit status 1" in r.error for r in results)
    assert all(f"(log: {job.log_path.name})" in r.error and "\n" not in r.error for r in results)


# -- events ------------------------------------------------------------------------------


def test_events_append_and_skip_a_torn_last_line(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    log.emit(EventType.RUN_STARTED, message="go")
    log.progress(["a", "b"], "fine-tune (pruning)", fraction=0.5, epoch=1, epochs=2)
    with open(tmp_path / "events.jsonl", "a") as handle:
        handle.write('{"t": 1, "type": "progre')  # a writer killed mid-line
    events = read_events(tmp_path / "events.jsonl")
    assert [e["type"] for e in events] == ["run_started", "progress", "progress"]
    assert events[1]["technique"] == "a" and events[2]["technique"] == "b"
    for event in events:
        assert set(event) >= {"t", "type", "technique", "step", "epoch", "epochs", "fraction",
                              "message"}
    assert events[1]["epoch"] == 1 and events[1]["fraction"] == 0.5
    assert read_events(tmp_path / "absent.jsonl") == []


def test_fold_progress_states():
    events = [
        {"t": 10, "type": "job_started", "technique": "float32"},
        {"t": 11, "type": "progress", "technique": "float32", "step": "convert", "fraction": 0.4},
        {"t": 12, "type": "result", "technique": "float32", "result": {"status": "ok"}},
        {"t": 12, "type": "job_started", "technique": "qat"},
        {"t": 13, "type": "progress", "technique": "qat", "step": "fine-tune (QAT)", "epoch": 1,
         "epochs": 3, "fraction": 0.2},
        {"t": 14, "type": "result", "technique": "pruning",
         "result": {"status": "error", "error": "boom"}},
        {"t": 15, "type": "result", "technique": "pcqat",
         "result": {"status": "skipped", "error": "not applicable: LSTM"}},
    ]
    progress = fold_progress(events, ["float32", "qat", "pruning", "cqat", "pcqat"], now=20)
    assert progress["float32"].state == "done" and progress["float32"].elapsed_s == 2
    assert progress["qat"].state == "running" and progress["qat"].epoch == 1
    assert progress["qat"].epochs == 3 and progress["qat"].elapsed_s == 8
    assert progress["pruning"].state == "error" and progress["pruning"].message == "boom"
    assert progress["cqat"].state == "waiting" and progress["cqat"].fraction == 0.0
    assert progress["pcqat"].state == "skipped" and progress["pcqat"].finished
    assert progress["pcqat"].message == "not applicable: LSTM"


# -- state from disk ------------------------------------------------------------------------


def _fake_run(run_dir, events, results=(), request=None):
    request = request or RunRequest(model="digits-cnn", techniques=["float16", "pruning"])
    store.write_json_atomic(run_dir / store.REQUEST, request.to_dict())
    store.write_pid(run_dir, 999999)
    with open(run_dir / store.EVENTS, "w") as handle:
        for event in events:
            handle.write(json.dumps(event) + "\n")
    if results:
        store.write_results(run_dir, "digits-cnn", results)


def test_read_run_finished_from_disk_alone(tmp_path):
    ok = Result(technique="float32", accuracy=0.9, accuracy_delta=0.0)
    _fake_run(tmp_path, [
        {"t": 100, "type": "run_started", "model": "digits-cnn"},
        {"t": 101, "type": "result", "technique": "float32", "result": ok.to_dict()},
        {"t": 102, "type": "result", "technique": "float16", "result": {"status": "ok"}},
        {"t": 103, "type": "result", "technique": "pruning",
         "result": {"status": "error", "error": "x"}},
        {"t": 110, "type": "run_finished", "status": "finished"},
    ], results=[ok, Result(technique="float16"), Result.failed("pruning", "x")])
    state = read_run(tmp_path)
    assert state.status == "finished" and state.done and state.error is None
    assert state.elapsed_s == 10 and state.overall_fraction == 1.0
    assert [r.technique for r in state.results] == ["float32", "float16", "pruning"]
    assert state.progress["pruning"].state == "error"
    assert state.result("float32").accuracy == 0.9


def test_read_run_of_a_dead_orchestrator_is_failed_and_closes_specs(tmp_path):
    _fake_run(tmp_path, [{"t": 100, "type": "run_started", "model": "digits-cnn"},
                         {"t": 101, "type": "job_started", "technique": "float32"}])
    state = read_run(tmp_path)
    assert state.status == "failed" and "run.log" in state.error
    assert {p.state for p in state.progress.values()} == {"error"}
    assert {r.status for r in state.results} == {"error"}


def test_read_run_queued_while_just_started_and_running_while_locked(tmp_path):
    store.write_json_atomic(tmp_path / store.REQUEST,
                            RunRequest(model="digits-cnn", techniques=["float16"]).to_dict())
    store.write_pid(tmp_path, os.getpid())
    assert read_run(tmp_path).status == "queued"
    with store.RunLock(tmp_path):
        EventLog(tmp_path / store.EVENTS).emit(EventType.QUEUED, message="waiting for a slot")
        state = read_run(tmp_path)
        assert state.status == "queued" and "slot" in state.queue_message
        EventLog(tmp_path / store.EVENTS).emit(EventType.RUN_STARTED, model="digits-cnn")
        assert read_run(tmp_path).status == "running"
        assert not read_run(tmp_path).done


def test_list_runs_newest_first(tmp_path):
    for name, t in (("old", 100), ("new", 200)):
        (tmp_path / name).mkdir()
        _fake_run(tmp_path / name, [{"t": t, "type": "run_started"},
                                    {"t": t + 1, "type": "run_finished", "status": "finished"}])
    (tmp_path / "not-a-run").mkdir()
    assert [r.run_dir.name for r in list_runs(tmp_path)] == ["new", "old"]
    assert list_runs(tmp_path / "none") == []


# -- slots ------------------------------------------------------------------------------------


def test_max_jobs_env_is_validated(monkeypatch):
    from optimizer.runs.slots import max_jobs

    monkeypatch.setenv("OPTIMIZER_MAX_JOBS", "2")
    assert max_jobs() == 2
    monkeypatch.setenv("OPTIMIZER_MAX_JOBS", "zero")
    with pytest.raises(ValueError, match="OPTIMIZER_MAX_JOBS"):
        max_jobs()


def test_second_run_queues_for_the_slot_and_says_so(tmp_path, monkeypatch):
    from optimizer.runs.slots import worker_slot

    monkeypatch.setenv("OPTIMIZER_MAX_JOBS", "1")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from optimizer.runs.slots import worker_slot\n"
                               "with worker_slot():\n print('in', flush=True); time.sleep(2)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ})
    assert holder.stdout.readline().strip() == "in"
    messages = []
    start = time.time()
    with worker_slot(on_wait=messages.append, poll_seconds=0.05) as index:
        waited = time.time() - start
    holder.wait()
    assert index == 0 and len(messages) == 1 and "worker slot" in messages[0]
    assert holder.returncode == 0 and waited > 0  # it had to wait for the holder to leave


# -- real runs (TensorFlow in the children) ---------------------------------------------------


@pytest.fixture(scope="module")
def layernorm_files(tmp_path_factory, tiny_dataset):
    """A tiny model with a LayerNormalization layer (QAT cannot quantize it) and its data."""
    from optimizer import compat

    keras = compat.keras()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.layers.InputLayer(input_shape=(8, 8, 1)), keras.layers.Flatten(),
        keras.layers.LayerNormalization(), keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax")], name="layernorm_mlp")
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(tiny_dataset.x_train, tiny_dataset.y_train, epochs=3, verbose=0)
    folder = tmp_path_factory.mktemp("layernorm")
    model.save(folder / "model.h5")
    tiny_dataset.save_npz(folder / "data.npz")
    return str(folder / "model.h5"), str(folder / "data.npz")


def _live_group_members(pgid: int) -> list:
    import psutil

    members = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(proc.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def _wait(run_dir, predicate, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = read_run(run_dir)
        if predicate(state):
            return state
        if state.done:  # it ended without the predicate ever holding: say why, now
            raise AssertionError(f"the run ended ({state.status}: {state.error}) before the "
                                 f"awaited state")
        time.sleep(0.5)
    raise AssertionError(f"timed out; last state {read_run(run_dir)}")


@pytest.mark.slow
def test_a_layer_qat_cannot_quantize_is_left_float_while_the_others_run(layernorm_files, tmp_path):
    model, data = layernorm_files
    request = RunRequest(model=model, data=data, techniques=["dynamic_range", "qat", "pruning"],
                         settings=["finetune.epochs=1", "pruning.sparsity=0.1234567"],
                         max_accuracy_drop=0.5, max_latency_ms=1e-9)
    run_dir = start_run(request, tmp_path / "run")
    state = _wait(run_dir, lambda s: s.done)
    assert state.status == "finished", state.error
    # the child read the whole request from request.json: an awkward float survives to the
    # recipe, and the goals (never a command-line flag of the child) judge the results
    assert json.loads((run_dir / "pruning" / "recipe.json").read_text())["settings"][
        "pruning"]["sparsity"] == 0.1234567
    assert state.request == replace(request, model=state.request.model,
                                    data=state.request.data)
    checks = json.loads((run_dir / "results.json").read_text())["checks"]
    assert set(checks) == {"dynamic_range", "qat", "pruning"}
    assert all(not c["met"] and "latency" in c["summary"] for c in checks.values())
    by = {r.technique: r for r in state.results}
    assert by["float32"].ok and by["dynamic_range"].ok and by["pruning"].ok
    qat = by["qat"]
    # TFMOT has no QAT wrapper for LayerNormalization: QAT quantizes the rest, leaves it float
    # (the converter quantizes it from representative data) and says so; the run goes on
    assert qat.ok, qat.error
    assert qat.weight_layers and qat.transformed_layers < qat.weight_layers + 1
    assert any("layer_normalization" in n or "LayerNormalization" in n for n in qat.notes), \
        qat.notes
    assert state.progress["qat"].state == "done" and state.progress["pruning"].state == "done"
    assert state.progress["qat"].finished
    doc = json.loads((run_dir / "results.json").read_text())
    assert [r["technique"] for r in doc["results"]] == ["float32", "dynamic_range", "qat",
                                                        "pruning"]
    events = read_events(run_dir / "events.jsonl")
    assert {"run_started", "job_started", "progress", "result", "run_finished"} <= {
        e["type"] for e in events}
    assert any(e["type"] == "progress" and e.get("epochs") == 1 for e in events)


@pytest.mark.slow
def test_cancel_kills_the_run_and_marks_unfinished_specs(layernorm_files, tmp_path):
    model, data = layernorm_files
    request = RunRequest(model=model, data=data, techniques=["pruning"],
                         settings=["finetune.epochs=200"])
    run_dir = start_run(request, tmp_path / "run")
    _wait(run_dir, lambda s: s.progress["pruning"].step and
          s.progress["pruning"].step.startswith("fine-tune"))
    pid = store.read_pid(run_dir)["pid"]
    assert cancel_run(run_dir) is True
    state = read_run(run_dir)
    assert state.status == "cancelled" and state.done
    assert state.result("float32").ok  # the finished baseline stays
    assert state.result("pruning").status == "cancelled"
    assert state.progress["pruning"].state == "cancelled"
    assert not store.RunLock.is_held(run_dir)
    assert _live_group_members(pid) == []  # nothing of the process group is left
    on_disk = {r.technique: r.status for r in store.read_results(run_dir)}
    assert on_disk == {"float32": "ok", "pruning": "cancelled"}
    assert cancel_run(run_dir) is False
    assert np.isfinite(state.elapsed_s)
