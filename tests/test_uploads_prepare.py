"""The checked upload folder: manifests, resolve_model on them, the check subprocess and its
failure modes, the Keras 3 bridge, and a killed job that leaves the other results intact."""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from optimizer.models.uploads import ProbeFailed, UnsafeModel, UploadError, run_check
from optimizer.models.uploads import check as check_module
from optimizer.models.uploads.keras3_bridge import BridgeError, _endpoints, _node, translate_config

pytestmark = pytest.mark.cost(30)

# -- fast: the subprocess boundary -------------------------------------------------------------

def _fake_child(monkeypatch, code: str):
    monkeypatch.setattr(check_module, "check_command",
                        lambda *a, **k: [sys.executable, "-c", code])


def test_a_crashing_check_is_one_line(monkeypatch, tmp_path):
    _fake_child(monkeypatch, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(ProbeFailed, match="crashed the process that loads it \\(SIGSEGV\\)"):
        run_check(tmp_path / "m.h5", None, tmp_path / "work")
    _fake_child(monkeypatch, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(ProbeFailed, match="ran out of memory"):
        run_check(tmp_path / "m.h5", None, tmp_path / "work")
    assert not (tmp_path / "work" / "tmp").exists()       # the child's temp folder is removed


def test_a_slow_check_times_out(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTIMIZER_PROBE_TIMEOUT_S", "0.5")
    _fake_child(monkeypatch, "import time; time.sleep(30)")
    start = time.time()
    with pytest.raises(ProbeFailed, match="took over 0.5 s.*OPTIMIZER_PROBE_TIMEOUT_S"):
        run_check(tmp_path / "m.h5", None, tmp_path / "work")
    assert time.time() - start < 20


def test_the_childs_own_error_comes_back_with_its_class(monkeypatch, tmp_path):
    _fake_child(monkeypatch, "import json; print(json.dumps({'error': 'bad; fix it', "
                             "'kind': 'unsafe-model'})); raise SystemExit(2)")
    with pytest.raises(UnsafeModel, match="bad; fix it"):
        run_check(tmp_path / "m.h5", None, tmp_path / "work")


def test_keras3_call_records_translate_to_tf_keras_nodes():
    tensor = lambda name: {"class_name": "__keras_tensor__",  # noqa: E731
                           "config": {"shape": [None, 4], "keras_history": [name, 0, 0]}}
    assert _node({"args": [tensor("a")], "kwargs": {"mask": None}}, "x") == [["a", 0, 0, {}]]
    assert _node({"args": [[tensor("a"), tensor("b")]], "kwargs": {}}, "add") == [
        ["a", 0, 0, {}], ["b", 0, 0, {}]]
    # a second positional tensor becomes the keyword tf_keras' call names (query, value)
    assert _node({"args": [tensor("q"), tensor("v")], "kwargs": {}}, "mha",
                 "MultiHeadAttention") == [["q", 0, 0, {"value": ["v", 0, 0]}]]
    with pytest.raises(BridgeError, match=r"layer 'f' \(Flatten\) is called with 2 positional"):
        _node({"args": [tensor("q"), tensor("v")], "kwargs": {}}, "f", "Flatten")
    assert _endpoints(["in", 0, 0]) == [["in", 0, 0]]
    assert _endpoints([["a", 0, 0], ["b", 0, 0]]) == [["a", 0, 0], ["b", 0, 0]]


def test_a_layer_without_counterpart_names_itself():
    config = {"name": "m", "layers": [{"class_name": "RMSNormalization",
                                       "config": {"name": "rms"}, "inbound_nodes": []}],
              "input_layers": [], "output_layers": []}
    with pytest.raises(BridgeError) as info:
        translate_config("Functional", config)
    assert (info.value.layer, info.value.layer_class) == ("rms", "RMSNormalization")


# -- slow: real models -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def files(tmp_path_factory, tiny_model, tiny_dataset):
    folder = tmp_path_factory.mktemp("prepare")
    tiny_model.save(folder / "tiny.h5")
    tiny_dataset.save_npz(folder / "tiny.npz")
    return folder


@pytest.mark.slow
def test_a_checked_upload_resolves_and_loads(files, tmp_path, tiny_model, tiny_dataset):
    from optimizer import resolve_model

    upload = run_check(files / "tiny.h5", files / "tiny.npz", tmp_path / "up")
    assert upload.flavor == "tf_keras" and upload.source == "keras"
    assert upload.retrain_blocker is None and upload.data_kind == "labelled"
    assert Path(upload.artifact).parent == tmp_path / "up" / "model"     # a checked copy
    assert upload.signature["inputs"][0]["shape"] == [None, 8, 8, 1]
    assert upload.signature["output_activation"] == "softmax"
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["data", "data.npz", "model",
                                                                    "upload.json"]
    bundle = resolve_model(upload.manifest_path)
    assert bundle.kind == "keras-file" and bundle.name == "tiny"
    assert bundle.data == upload.data and bundle.dataset.labelled
    np.testing.assert_array_equal(bundle.dataset.x_test, tiny_dataset.x_test)
    model = bundle.load_keras()
    np.testing.assert_allclose(model.predict(tiny_dataset.x_test[:4], verbose=0),
                               tiny_model.predict(tiny_dataset.x_test[:4], verbose=0), atol=1e-6)
    assert bundle.load_source() is not model                             # fresh each call


def _job_process(run_dir, technique: str):
    """The process running ``technique``'s job of ``run_dir``: the one writing its job log (a
    fresh worker or a fork of the slot's warm job process, whose command line names no job)."""
    import psutil

    for proc in psutil.process_iter(["pid"]):
        try:
            logs = [Path(f.path) for f in proc.open_files()]
        except psutil.Error:
            continue
        if any(log.parent == Path(run_dir).resolve() and log.suffix == ".log" and technique in log.stem
               for log in logs):
            return proc
    return None


@pytest.mark.slow
def test_a_killed_job_of_an_upload_run_keeps_the_other_results(files, tmp_path):
    """A retraining worker killed mid-run (as the OOM killer would): the run finishes, the
    post-training results stay, the killed technique says it was killed, the app can read it."""

    from optimizer import RunRequest, read_run, start_run

    upload = run_check(files / "tiny.h5", files / "tiny.npz", tmp_path / "up")
    request = RunRequest(model=upload.manifest_path, data=upload.data,
                         techniques=("dynamic_range", "qat"), settings=("finetune.epochs=50",))
    run_dir = start_run(request, tmp_path / "run")
    deadline = time.time() + 600
    victim = None
    while time.time() < deadline and victim is None:
        victim = _job_process(run_dir, "qat")
        time.sleep(0.5)
    assert victim is not None, (run_dir / "run.log").read_text()[-2000:]
    time.sleep(3)
    victim.send_signal(signal.SIGKILL)
    while not read_run(run_dir).done and time.time() < deadline:
        time.sleep(1)
    state = read_run(run_dir)
    assert state.status == "finished", state.error
    by = {r.technique: r for r in state.results}
    assert by["float32"].ok and by["dynamic_range"].ok
    assert by["qat"].status == "error" and "killed" in by["qat"].error
    doc = json.loads((run_dir / "results.json").read_text())
    assert [r["technique"] for r in doc["results"]] == ["float32", "dynamic_range", "qat"]


# -- the check in a fork of the check slot's warm process ---------------------------------------

def _normalized(upload, folder) -> str:
    return json.dumps(upload.to_dict(), sort_keys=True).replace(str(folder), "W")


def _forks_of(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children()]
    except psutil.Error:
        return []


def test_a_file_refused_before_loading_starts_no_warm_process(tmp_path, monkeypatch):
    # refused by the checks that need no TensorFlow: no warm process is started (or waited
    # for), and the error is the one a fresh check process gives
    from optimizer.runs import warm

    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    (tmp_path / "empty.h5").write_text("\n")
    with pytest.raises(UploadError, match="text file, not the HDF5 Keras model") as warm_on:
        run_check(tmp_path / "empty.h5", None, tmp_path / "a")
    assert warm.status(warm.check_place(0)) is None
    monkeypatch.setenv("OPTIMIZER_WARM", "0")
    with pytest.raises(type(warm_on.value)) as warm_off:
        run_check(tmp_path / "empty.h5", None, tmp_path / "b")
    assert str(warm_off.value) == str(warm_on.value)


@pytest.mark.slow
def test_a_check_runs_in_a_fork_of_the_check_slots_warm_process(files, tmp_path, monkeypatch):
    from optimizer.runs import warm

    first = run_check(files / "tiny.h5", files / "tiny.npz", tmp_path / "a")
    info = warm.status(warm.check_place(0))
    assert info and info.get("ready"), "the check did not start the check slot's warm process"
    assert warm.check_place(0).lock != warm.place(0).lock      # never a worker slot's process
    server = int(info["pid"])
    second = run_check(files / "tiny.h5", files / "tiny.npz", tmp_path / "b")
    assert warm.status(warm.check_place(0))["pid"] == server    # the same process served both
    assert _normalized(second, tmp_path / "b") == _normalized(first, tmp_path / "a")
    monkeypatch.setenv("OPTIMIZER_WARM", "0")                  # a fresh process checks alike
    fresh = run_check(files / "tiny.h5", files / "tiny.npz", tmp_path / "c")
    assert _normalized(fresh, tmp_path / "c") == _normalized(first, tmp_path / "a")
    # the fork's own error comes back with its class and message, as from a fresh process
    # (data that passes its own checks but does not fit the model: found after loading it)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, x_train=np.zeros((20, 5), np.float32), y_train=np.zeros(20, np.int64),
             x_test=np.zeros((10, 5), np.float32), y_test=np.zeros(10, np.int64))
    with pytest.raises(UploadError) as fresh_error:
        run_check(files / "tiny.h5", wrong, tmp_path / "d")
    monkeypatch.delenv("OPTIMIZER_WARM")
    with pytest.raises(type(fresh_error.value)) as warm_error:
        run_check(files / "tiny.h5", wrong, tmp_path / "e")
    assert str(warm_error.value) == str(fresh_error.value) and "shape" in str(warm_error.value)
    assert warm.status(warm.check_place(0))["pid"] == server and not _forks_of(server)


@pytest.mark.slow
def test_a_warm_check_killed_or_abandoned_is_one_line_and_leaves_no_fork(files, tmp_path):
    import threading

    import psutil

    from optimizer.runs import warm

    run_check(files / "tiny.h5", files / "tiny.npz", tmp_path / "a")   # warm process ready
    server = int(warm.status(warm.check_place(0))["pid"])

    def check_in_thread(folder, outcome):
        def check():
            try:
                run_check(files / "tiny.h5", files / "tiny.npz", folder)
            except ProbeFailed as exc:
                outcome["error"] = str(exc)
        thread = threading.Thread(target=check)
        thread.start()
        deadline, forks = time.time() + 60, []
        while not forks and time.time() < deadline and thread.is_alive():
            forks = _forks_of(server)
            time.sleep(0.002)
        assert forks, "the check never reached the warm process"
        return thread, forks[0]

    # the fork killed as the out-of-memory killer would: run_check reads it as before
    outcome = {}
    thread, fork = check_in_thread(tmp_path / "b", outcome)
    os.kill(fork, signal.SIGKILL)
    thread.join(60)
    assert "ran out of memory" in outcome.get("error", ""), outcome
    # the process run_check started is killed (its timeout, or its parent gone): the fork too
    outcome = {}
    thread, fork = check_in_thread(tmp_path / "c", outcome)
    relay = next(p for p in psutil.Process().children()
                 if "--warm" in p.cmdline() and "check" in p.cmdline())
    relay.kill()
    thread.join(60)
    assert outcome.get("error"), "a killed check must fail"
    deadline = time.time() + 15
    while fork in _forks_of(server) and time.time() < deadline:
        time.sleep(0.05)
    assert fork not in _forks_of(server), "the fork outlived the check that asked for it"
    # the warm process goes on serving
    assert run_check(files / "tiny.h5", files / "tiny.npz", tmp_path / "d").title == "tiny.h5"
    assert warm.status(warm.check_place(0))["pid"] == server
