"""Damaged run folders, a full disk and a killed orchestrator: one line each, nothing lost.

Every case is a synthetic run folder written by hand (no TensorFlow): ``request.json``,
``events.jsonl`` and ``results.json`` in the shapes a real run writes, then broken.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_folders import make_run
from run_folders import result as _result

from optimizer.artifacts import space, store
from optimizer.artifacts.events import EventLog, EventType, read_events
from optimizer.guide.schema import results_frame
from optimizer.runs.background import list_runs, read_run


def _ok(run) -> dict:
    return {r.technique: r.status for r in run.results}


def test_a_sound_run_is_not_called_damaged(tmp_path):
    run = read_run(make_run(tmp_path / "r"))
    assert run.status == "finished" and run.damaged is None
    assert _ok(run) == {"float32": "ok", "float16": "ok"}


@pytest.mark.parametrize("content, what", [
    ('{"model": "digits-cnn", "results": [{"techni', "truncated"),
    ("", "truncated"),
    ("[1, 2, 3]", "list"),
    ('{"results": [{"status": "ok", "size_bytes": 3}]}', "no technique"),
    ('{"results": "lots"}', "not a list"),
])
def test_damaged_results_json_is_named_and_rebuilt_from_events(tmp_path, content, what):
    folder = make_run(tmp_path / "r")
    (folder / store.RESULTS).write_text(content)
    run = read_run(folder)
    assert run.status == "finished", run.error      # not "the run stopped early"
    assert run.damaged.startswith("this run's files are damaged: ") and what in run.damaged
    assert _ok(run) == {"float32": "ok", "float16": "ok"}   # every finished result kept
    assert "\n" not in run.damaged


def test_text_where_numbers_belong_is_dropped_and_named(tmp_path):
    folder = make_run(tmp_path / "r")
    doc = store.read_json(folder / store.RESULTS)
    doc["results"][1]["size_bytes"] = "big"
    doc["results"][1]["accuracy"] = [1, 2]
    doc["results"][1]["notes"] = "not a list"
    store.write_json_atomic(folder / store.RESULTS, doc)
    run = read_run(folder)
    assert "float16" in run.damaged and "size_bytes" in run.damaged
    f16 = run.result("float16")
    assert f16.size_bytes is None and f16.accuracy is None and f16.gzip_bytes == 1000
    import pyarrow as pa

    pa.Table.from_pandas(results_frame(run.results))   # what st.dataframe does: no Arrow error


def test_missing_results_json_is_rebuilt_from_events(tmp_path):
    run = read_run(make_run(tmp_path / "r", results_json=False))
    assert _ok(run) == {"float32": "ok", "float16": "ok"}
    assert "rebuilt from events.jsonl" in run.damaged


def test_half_written_and_empty_events(tmp_path):
    folder = make_run(tmp_path / "r")
    with open(folder / store.EVENTS, "a") as f:
        f.write('{"t": 1.0, "type": "resu')                 # a writer killed mid-line
    assert read_run(folder).status == "finished"
    (folder / store.EVENTS).write_text('{"t": "soon", "type": 5}\n\n')
    run = read_run(folder)                                   # dead, no events, results kept
    assert run.status == "failed" and _ok(run) == {"float32": "ok", "float16": "ok"}
    assert "/" not in run.error.split("see ")[-1].split(" in ")[0]   # no server path


def test_one_bad_folder_never_breaks_the_others(tmp_path):
    make_run(tmp_path / "runs" / "good")
    bad = tmp_path / "runs" / "bad"
    bad.mkdir()
    (bad / store.REQUEST).write_text('["not", "a", "request"]')
    (bad / store.EVENTS).write_text('{"t": 1, "type": "run_started", "techniques": 7}\n')
    (bad / store.PID).write_text('{"pid": 1, "t": "yesterday"}')
    runs = {r.run_dir.name: r for r in list_runs(tmp_path / "runs")}
    assert set(runs) == {"good", "bad"}
    assert runs["good"].damaged is None and runs["bad"].damaged
    assert runs["bad"].status == "failed"


def test_a_short_write_is_rolled_back(tmp_path, monkeypatch):
    from optimizer.artifacts import events as events_module

    log = EventLog(tmp_path / store.EVENTS)
    log.emit(EventType.RUN_STARTED)
    real_write = os.write
    monkeypatch.setattr(events_module.os, "write", lambda fd, data: real_write(fd, data[:7]))
    with pytest.raises(OSError):
        log.emit(EventType.PROGRESS, "float16", message="x" * 100)
    monkeypatch.undo()
    log.emit(EventType.RUN_FINISHED)
    assert [e["type"] for e in read_events(tmp_path / store.EVENTS)] == ["run_started",
                                                                         "run_finished"]


def test_write_json_atomic_keeps_the_old_file_on_a_full_disk(tmp_path, monkeypatch):
    import errno
    from pathlib import Path

    store.write_json_atomic(tmp_path / "results.json", {"results": [1]})

    def full(self, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError) as info:
        store.write_json_atomic(tmp_path / "results.json", {"results": [2]})
    assert info.value.filename == str(tmp_path / "results.json")   # the disk can be named
    monkeypatch.undo()
    assert store.read_json(tmp_path / "results.json") == {"results": [1]}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]   # no temporary left


@pytest.mark.parametrize("free", [0, 250 * 1024])
def test_disk_full_names_the_disk_and_the_space_needed(tmp_path, monkeypatch, free):
    from optimizer.models.uploads.saving import save_upload

    monkeypatch.setattr(space, "free_bytes", lambda path: free)
    with pytest.raises(space.NoSpace) as info:
        save_upload(tmp_path / "up", "model.h5", b"x" * 100)
    message = str(info.value)
    assert "no space left on the server's disk /" in message and "needs about" in message
    assert str(tmp_path) not in message and "\n" not in message
    folder = make_run(tmp_path / "r", finished=False)       # a run that died on a full disk
    run = read_run(folder)
    assert run.status == "failed" and "no space left on the server's disk" in run.error
    assert _ok(run)["float16"] == "ok"


def test_run_refuses_to_start_on_a_full_disk(tmp_path, monkeypatch, capsys):
    from optimizer.cli import main
    from optimizer.runs.background import start_run
    from optimizer.runs.orchestrate import execute_run
    from optimizer.runs.request import RunRequest

    monkeypatch.setattr(space, "free_bytes", lambda path: 250 * 1024)
    with pytest.raises(space.NoSpace, match="this run needs about"):
        execute_run(RunRequest(model="digits-cnn"), tmp_path / "r")
    with pytest.raises(space.NoSpace, match="a run needs about"):
        start_run(RunRequest(model="digits-cnn"), tmp_path / "app-run")
    assert not (tmp_path / "app-run").exists()

    def full(path, data):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(store, "write_json_atomic", full)          # a disk with 0 bytes left
    assert main(["run", "--model", "digits-cnn", "--out", str(tmp_path / "cli")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no space left on the server's disk") and err.count("\n") == 1


def test_results_of_a_killed_orchestrator_are_kept(tmp_path):
    folder = make_run(tmp_path / "r", results_json=False, finished=False)
    lines = (folder / store.EVENTS).read_text().splitlines()
    (folder / store.EVENTS).write_text("\n".join(lines[:-1]) + "\n")   # float16 not recorded
    store.write_results(folder, "digits-cnn", [_result("float16", 2000)],
                        path=folder / "job-2-baseline.results.json")
    run = read_run(folder)
    assert run.status == "failed"
    assert _ok(run) == {"float32": "ok", "float16": "ok"}
    assert run.progress["float16"].state == "done"
    assert "latency not measured" in run.result("float16").notes[-1]


def test_a_worker_dies_with_its_orchestrator(tmp_path):
    """The orchestrator starts workers with ``die_with_parent``: killing it kills them."""
    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        "from optimizer.procs import die_with_parent\n"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
        " preexec_fn=die_with_parent)\n"
        f"open({str(pid_file)!r}, 'w').write(str(c.pid))\n"
        "time.sleep(60)\n")], cwd=os.getcwd())
    deadline = time.time() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.time() < deadline
        time.sleep(0.05)
    child = int(pid_file.read_text())
    parent.kill()
    parent.wait()
    deadline = time.time() + 10
    while _alive(child) and time.time() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_a_live_run_between_its_result_event_and_results_json_is_not_damaged(tmp_path):
    folder = make_run(tmp_path / "r", results_json=False, finished=False)
    with store.RunLock(folder):
        run = read_run(folder)
    assert run.status == "running" and run.damaged is None
    assert _ok(run) == {"float32": "ok", "float16": "ok"}


def test_show_of_a_killed_run_says_failed_and_lists_the_unfinished_technique(tmp_path, monkeypatch,
                                                                            capsys):
    import json

    from optimizer.cli import main
    from optimizer.workspace import index

    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    folder = make_run(tmp_path / "killed", finished=False)
    store.write_json_atomic(folder / store.REQUEST, {"model": "digits-cnn", "data": None,
                                                     "techniques": ["float16", "pruning"],
                                                     "settings": []})   # pruning never ran
    store.write_pid(folder, 1)
    run_id = index.record(folder)
    listed = {r["id"]: r for r in index.runs()}[run_id]
    assert listed["status"] == "failed"
    assert main(["show", run_id, "--json", "-"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == listed["status"] == read_run(folder).status
    assert "stopped unexpectedly" in shown["error"]
    by_spec = {r["technique"]: r for r in shown["results"]}
    assert by_spec["pruning"]["status"] == "error" and by_spec["pruning"]["error"]
    assert by_spec["float32"]["status"] == by_spec["float16"]["status"] == "ok"
    assert shown["run_id"] == run_id


@pytest.mark.parametrize("keep", [40, 12])
def test_a_cut_last_line_of_a_finished_run_is_not_read_as_a_kill(tmp_path, keep):
    folder = make_run(tmp_path / "r")
    data = (folder / store.EVENTS).read_bytes()
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    assert b'"type": "run_finished"' in last
    cut = last[:keep]                          # 40: the type survives; 12: only '{"t": 17...'
    (folder / store.EVENTS).write_bytes(data[:len(data) - len(last) - 1] + cut)
    if b"run_finished" not in cut:             # the end is told by results.json's insights
        assert read_run(folder).status == "failed"          # nothing says it ended: killed
        store.add_to_results(folder / store.RESULTS, insights=[])
    run = read_run(folder)
    assert run.status == "finished" and run.error is None, run.error
    assert _ok(run) == {"float32": "ok", "float16": "ok"}


def test_the_upload_check_dies_with_the_run_that_started_it(tmp_path):
    """A `run` killed while it checks an upload leaves no check running outside the pool."""
    import signal

    # The check runs as run_check starts it (its environment, its pool) but loads nothing: it
    # does what `python -m optimizer` does first (watch_parent), then takes its time.
    slow_check = ("import sys\nfrom optimizer.procs import watch_parent\nwatch_parent()\n"
                  "import time\ntime.sleep(60)  # check\n")
    parent = subprocess.Popen([sys.executable, "-c", (
        "import sys\nfrom optimizer.models.uploads import check\n"
        f"check.check_command = lambda *a, **k: [sys.executable, '-c', {slow_check!r}]\n"
        f"check.run_check('model.h5', None, {str(tmp_path / 'w')!r})\n")],
        env={**os.environ, "OPTIMIZER_WORKSPACE": str(tmp_path / "ws")})
    deadline, child = time.time() + 60, None
    while child is None and time.time() < deadline:
        child = next((pid for pid in _children(parent.pid)
                      if b"check" in Path(f"/proc/{pid}/cmdline").read_bytes()), None)
        time.sleep(0.05)
    assert child is not None, "the check never started"
    time.sleep(0.5)
    parent.send_signal(signal.SIGKILL)         # the run is killed mid-check
    parent.wait()
    deadline = time.time() + 15
    while _alive(child) and time.time() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_python_m_optimizer_dies_at_once_when_its_parent_is_already_gone():
    from optimizer.procs import ENV_PARENT

    done = subprocess.run([sys.executable, "-m", "optimizer", "techniques", "--json", "-"],
                          env={**os.environ, ENV_PARENT: "1"}, capture_output=True, timeout=60)
    assert done.returncode == 137 and not done.stdout          # pid 1 is not its parent
    done = subprocess.run([sys.executable, "-m", "optimizer", "techniques", "--json", "-"],
                          env={**os.environ, ENV_PARENT: str(os.getpid())}, capture_output=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout                 # its real parent: it runs


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out
