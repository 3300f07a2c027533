"""The ``ray`` executor against a real local Ray head (started here on 127.0.0.1, 2 CPUs).

Fast tests cover choosing the executor and the file shipping helpers; the slow ones run
``digits-cnn`` through the cluster and compare with the local executor, cancel a run on the
cluster, and kill a Ray worker in the middle of a job.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from optimizer.artifacts import store
from optimizer.runs.background import cancel_run, read_run, start_run
from optimizer.runs.executor import ExecutorChoice, ExecutorKind, choose_executor
from optimizer.runs.ray_head import local_head
from optimizer.runs.ray_tasks import pack, rebase, unpack
from optimizer.runs.request import RunRequest

pytestmark = pytest.mark.cost(150)

SPECS = "float16,dynamic_range,pruning"

# -- choosing an executor -------------------------------------------------------------------


def test_flags_win_over_the_environment_and_local_is_the_default():
    assert choose_executor(environ={}) == ExecutorChoice(ExecutorKind.LOCAL)
    env = {"OPTIMIZER_EXECUTOR": "ray", "OPTIMIZER_RAY_ADDRESS": "10.0.0.5:6379"}
    assert choose_executor(environ=env) == ExecutorChoice(ExecutorKind.RAY, "10.0.0.5:6379")
    assert choose_executor("local", environ=env).kind == ExecutorKind.LOCAL
    assert choose_executor(None, "h:1", environ=env).address == "h:1"
    assert ExecutorChoice("ray", "h:1").to_args() == ["--executor", "ray", "--ray-address", "h:1"]


@pytest.mark.parametrize("kind, address, fragment", [
    ("ray", None, "--ray-address HOST:PORT"), ("ray", "nohost", "is not HOST:PORT"),
    ("spark", None, "unknown executor 'spark'")])
def test_bad_executor_choices_name_the_fix(kind, address, fragment):
    with pytest.raises(ValueError, match=fragment):
        ExecutorChoice(kind, address)


def test_cli_refuses_ray_without_an_address_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTIMIZER_RAY")}
    proc = subprocess.run([sys.executable, "-m", "optimizer", "run", "--model", "digits-cnn",
                           "--technique", "float16", "--executor", "ray",
                           "--out", str(tmp_path / "r")], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert "--ray-address HOST:PORT" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_pack_unpack_and_rebase_move_a_folder(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "m.tflite").write_bytes(b"x" * 10)
    unpack(pack(tmp_path, ["a"]), tmp_path / "out")
    assert (tmp_path / "out" / "a" / "b" / "m.tflite").read_bytes() == b"x" * 10
    doc = {"p": "/r/run/f/m.tflite", "q": ["/r/run", "/r/runner/x"], "n": 3}
    assert rebase(doc, "/r/run", "/l") == {"p": "/l/f/m.tflite", "q": ["/l", "/r/runner/x"],
                                           "n": 3}


# -- a real cluster -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_head():
    """One local Ray head for this module: 127.0.0.1, 2 CPUs, stopped at the end."""
    with local_head(2) as head:
        yield head


def _run(tmp_path, name, *extra) -> dict:
    out = tmp_path / name
    proc = subprocess.run([sys.executable, "-m", "optimizer", "run", "--model", "digits-cnn",
                           "--technique", SPECS, "--set", "finetune.epochs=1", "--out", str(out),
                           "--json", "-", *extra], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {r["technique"]: r for r in json.loads(proc.stdout)["results"]}


def _cluster_workers(head_pid: int) -> list[psutil.Process]:
    """The job processes running under the test's Ray head: ``optimizer worker --job``
    children, and forks of a Ray worker's warm job process (``worker --serve``; the warm
    process itself, idle between jobs, is not a job)."""
    found = []
    for proc in psutil.Process(head_pid).children(recursive=True):
        try:
            command = proc.cmdline()
            if "worker" not in command or "optimizer" not in command:
                continue
            if "--serve" not in command or "--serve" in proc.parent().cmdline():
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _runs_job(proc: psutil.Process, name: str) -> bool:
    """True when ``proc`` runs the job named ``name`` (its job file or its log)."""
    try:
        return any(name in part for part in proc.cmdline()) or any(
            name in f.path for f in proc.open_files())
    except psutil.Error:
        return False


def _ray_worker_of(proc: psutil.Process) -> psutil.Process:
    """The Ray worker process above a job process (its parent, or its warm process's)."""
    while "--serve" in proc.parent().cmdline() or "optimizer" in proc.parent().cmdline():
        proc = proc.parent()
    return proc.parent()


@pytest.mark.slow
def test_a_run_through_ray_matches_the_local_executor(ray_head, tmp_path):
    on_ray = _run(tmp_path, "ray", "--executor", "ray", "--ray-address", ray_head["address"])
    local = _run(tmp_path, "local")
    assert list(on_ray) == ["float32", "float16", "dynamic_range", "pruning"]
    for spec, r in on_ray.items():
        assert r["status"] == "ok", r["error"]
        assert r["executor"] == "ray" and r["node"] == on_ray["float32"]["node"] and r["cpu"]
        assert r["size_bytes"] == local[spec]["size_bytes"]
        assert r["accuracy"] == pytest.approx(local[spec]["accuracy"], abs=0.02)
        assert r["latency_ms_median"] is not None
        assert Path(r["tflite_path"]).is_file()  # the file came back into the run folder
        assert str(tmp_path / "ray") in r["tflite_path"]
        assert local[spec]["executor"] == "local" and local[spec]["node"]
    for spec in ("float32", "float16", "dynamic_range"):  # post-training: deterministic
        assert on_ray[spec]["accuracy"] == local[spec]["accuracy"]
    docs = {name: store.read_json(tmp_path / name / store.RESULTS) for name in ("ray", "local")}
    node = docs["ray"]["provenance"]["node"]               # the timing node, not the app server
    assert node["executor"] == "ray" and node["name"] == on_ray["float32"]["node"]
    assert node["host"] == on_ray["float32"]["measured_on"]
    assert docs["ray"]["cache_key"] != docs["local"]["cache_key"]
    events = [json.loads(line) for line in (tmp_path / "ray" / store.EVENTS).read_text().splitlines()]
    assert any(e["type"] == "progress" and e["technique"] == "pruning"
               and (e.get("step") or "").startswith("fine-tune") for e in events)


def _wait(run_dir, predicate, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = read_run(run_dir)
        if predicate(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"timed out; state: {read_run(run_dir)}")


@pytest.mark.slow
def test_a_killed_worker_is_an_error_the_others_go_on_and_cancel_stops_the_tasks(
        ray_head, tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_EXECUTOR", "ray")
    monkeypatch.setenv("OPTIMIZER_RAY_ADDRESS", ray_head["address"])
    request = RunRequest(model="digits-cnn", techniques=["float16", "pruning", "clustering"],
                         settings=["finetune.epochs=200"])
    run_dir = start_run(request, tmp_path / "run")
    _wait(run_dir, lambda s: (s.progress["pruning"].step or "").startswith("fine-tune"))
    workers = [p for p in _cluster_workers(ray_head["pid"]) if _runs_job(p, "pruning")]
    assert workers
    _ray_worker_of(workers[0]).kill()  # the Ray worker process running the task dies
    state = _wait(run_dir, lambda s: (s.progress["clustering"].step or "").startswith("fine-tune"))
    pruning = state.result("pruning")
    assert pruning.status == "error" and "Ray worker" in pruning.error
    assert pruning.executor == "ray"
    assert state.result("float32").ok and state.result("float16").ok
    # the next job runs on the cluster; Cancel stops it there
    assert _cluster_workers(ray_head["pid"])
    assert cancel_run(run_dir) is True
    state = read_run(run_dir)
    assert state.status == "cancelled" and state.result("clustering").status == "cancelled"
    deadline = time.time() + 30
    while _cluster_workers(ray_head["pid"]) and time.time() < deadline:
        time.sleep(0.5)
    assert _cluster_workers(ray_head["pid"]) == []  # the task was cancelled, its child gone


def test_results_name_where_they_were_timed_and_mixed_nodes_are_flagged():
    from optimizer.guide.schema import Result, results_frame
    from optimizer.report.insights import result_insights
    from optimizer.report.table import results_table

    def ok(technique, node):
        return Result(technique=technique, status="ok", size_bytes=100, gzip_bytes=90,
                      accuracy=0.9, metric="accuracy", executor="ray", node=node, cpu="EPYC")

    same = [ok("float32", "10.0.0.5"), ok("float16", "10.0.0.5")]
    table = results_table(results_frame(same))
    assert list(table["Timed on"]) == ["ray · 10.0.0.5 (EPYC)"] * 2
    assert not [n for n in result_insights(same) if n.kind == "mixed_nodes"]
    mixed = [ok("float32", "10.0.0.5"), ok("float16", "10.0.0.6")]
    notes = [n for n in result_insights(mixed) if n.kind == "mixed_nodes"]
    assert notes and "10.0.0.5, 10.0.0.6" in notes[0].text


def test_cluster_status_is_none_locally_and_names_a_bad_setting():
    from optimizer.runs.cluster import cluster_status

    assert cluster_status(environ={}) is None
    status = cluster_status(environ={"OPTIMIZER_EXECUTOR": "ray"})
    assert status.error and "OPTIMIZER_RAY_ADDRESS" in status.error and "OPTIMIZER" in status.text


@pytest.mark.slow
def test_cluster_status_reads_the_size_of_the_cluster(ray_head):
    from optimizer.runs.cluster import cluster_status

    env = {"OPTIMIZER_EXECUTOR": "ray", "OPTIMIZER_RAY_ADDRESS": ray_head["address"]}
    status = cluster_status(environ=env)
    assert status.error is None, status.error
    assert status.nodes == 1 and status.cpus == 2 and 0 <= status.free_cpus <= 2
    assert "1 node, 2 CPUs" in status.text


def test_ship_sends_the_model_file_the_reference_and_the_files_beside_the_job(tmp_path):
    from optimizer.artifacts.job import JobSpec
    from optimizer.runs.ray_executor import ship
    from optimizer.runs.ray_tasks import JOB_FILES

    run_dir = tmp_path / "run"
    (run_dir / "float32").mkdir(parents=True)
    (run_dir / "float32" / "outputs.npy").write_bytes(b"ref")
    (run_dir / "job-3-x.selective.json").write_text("{}")
    (run_dir / "job-3-x.json").write_text("{}")             # the job file itself stays
    model = tmp_path / "m.keras"
    model.write_bytes(b"model")
    job = JobSpec(id="job-3-x", kind="selective", specs=("integer",), model=str(model),
                  data=None, settings=(), run_dir=str(run_dir), events=None,
                  reference={"outputs": str(run_dir / "float32" / "outputs.npy")})
    doc, data, moves = ship(job)
    unpack(data, tmp_path / "got")
    got = sorted(str(p.relative_to(tmp_path / "got")) for p in (tmp_path / "got").rglob("*")
                 if p.is_file())
    assert f"{JOB_FILES}/job-3-x.selective.json" in got and f"{JOB_FILES}/job-3-x.json" not in got
    assert {moves[str(model)], moves[job.reference["outputs"]]} <= set(got)
    assert (tmp_path / "got" / moves[str(model)]).read_bytes() == b"model"
    demo = JobSpec(id="job-1-b", kind="baseline", specs=("float32",), model="digits-cnn",
                   data=None, settings=(), run_dir=str(tmp_path / "empty"), events=None)
    assert ship(demo)[1:] == (None, {})   # a demo needs nothing: workers have its assets


@pytest.mark.slow
def test_a_search_on_the_cluster_runs_independent_batches_side_by_side(ray_head, tmp_path):
    out = tmp_path / "search"
    proc = subprocess.run([sys.executable, "-m", "optimizer", "search", "--model", "digits-cnn",
                           "--target", "cpu", "--max-accuracy-drop", "0.02", "--size-measure",
                           "gzip", "--sparsities", "0.5,0.75", "--technique", "pruning",
                           "--time-budget", "1800",
                           "--set", "finetune.epochs=1", "--executor", "ray", "--ray-address",
                           ray_head["address"], "--out", str(out), "--json", "-"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    trials = {t["technique"]: t for t in doc["trials"]}
    assert trials["float32"]["status"] == "ok" and trials["float32"]["executor"] == "ray"
    assert trials["float32"]["node"] and trials["float32"]["latency_ms_median"] is not None
    events = [json.loads(line) for line in (out / store.EVENTS).read_text().splitlines()]
    running, overlapped = set(), False
    for e in events:   # two batches' jobs were running at the same time
        if e["type"] == "job_started" and e.get("batch"):
            running.add(e["batch"])
            overlapped |= len(running) > 1
        elif e["type"] == "job_finished" and e.get("batch"):
            running.discard(e["batch"])
    assert overlapped
    # a fixed set of trials far within its budget: load changes the time, not what ran
    assert doc["status"] == "finished" and doc["stopped"] is None
    assert set(trials) == {"float32", "pruning[sparsity=0.5]", "pruning[sparsity=0.75]"}
