"""AppTest: the Model page's "Your own model and data" path, through st.file_uploader.

Hostile files end in one line on the page, leave the session on its previous model and leave
nothing behind (the failed upload's folder is removed; nothing appears outside the session's
folder). A real upload (slow: TensorFlow in the check process) becomes the session's model,
its data decides the tree's data answer, and "start over" removes the session's files.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from app_helpers import button, new_app
from hostile.builders import (
    CANARY,
    _sequential,
    _write_h5,
    h5_with_lambda,
    image_zip_slip,
    npz_object_arrays,
    text_renamed_h5,
)

pytestmark = pytest.mark.cost(40)

NPZ = "application/octet-stream"


def _upload_app(sid: str):
    at = new_app(session_id=sid).run()
    at.segmented_control(key="model_source").set_value("upload").run()
    return at


def _listing(root: Path) -> set:
    """Every path under the workspace but the server's slot queue (an upload check waits
    its turn there: optimizer.queueing), which is no upload's content."""
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if not str(p.relative_to(root)).startswith("slots")}


def _good_npz(folder: Path) -> Path:
    x = np.random.default_rng(0).random((60, 8, 8, 1), dtype=np.float32)
    path = folder / "good.npz"
    np.savez(path, x_train=x, y_train=np.arange(60) % 10, x_test=x, y_test=np.arange(60) % 10)
    return path


def test_the_upload_path_offers_two_uploaders_and_waits_for_a_check():
    at = _upload_app("apptest-up0")
    assert not at.exception, at.exception
    labels = [u.label for u in at.file_uploader]
    assert labels == ["Model file", "Data file"]
    assert ".h5" in at.file_uploader[0].allowed_type and ".csv" in at.file_uploader[1].allowed_type
    assert button(at, "Next: your situation").disabled
    assert button(at, "Check my model and data").disabled          # nothing uploaded yet
    assert at.session_state["model_ref"] == "digits-cnn"


@pytest.mark.parametrize("build,role,words", [
    (text_renamed_h5, "model", "is a text file"),
    (h5_with_lambda, "model", "Lambda"),
    (npz_object_arrays, "data", "object arrays"),
    (image_zip_slip, "data", "outside the archive folder"),
], ids=["text-renamed-h5", "h5-lambda", "npz-objects", "image-zip-slip"])
def test_hostile_uploads_are_one_line_on_the_page(build, role, words, tmp_path,
                                                   _private_workspace):
    sid = f"apptest-h{abs(hash(build.__name__)) % 10**6}"
    at = _upload_app(sid)
    files = tmp_path / "files"
    files.mkdir()
    model = build(files) if role == "model" else _write_h5(files / "ok.h5", _sequential([]))
    data = build(files) if role == "data" else _good_npz(files)
    before = _listing(_private_workspace) - {p for p in _listing(_private_workspace)
                                             if p.startswith(f"sessions/{sid}")}
    at.file_uploader[0].set_value((model.name, model.read_bytes(), NPZ))
    at.file_uploader[1].set_value((data.name, data.read_bytes(), NPZ))
    at.run()
    button(at, "Check my model and data").click().run()
    assert not at.exception, at.exception
    assert at.error and words in at.error[0].value, [e.value for e in at.error]
    assert "Your upload was not accepted" in at.error[0].value
    assert "\n" not in at.error[0].value.strip()
    assert at.session_state["model_ref"] == "digits-cnn"          # nothing changed
    session = _private_workspace / "sessions" / sid
    assert not any((session / "uploads").iterdir())                # the failed upload is gone
    after = {p for p in _listing(_private_workspace) if not p.startswith(f"sessions/{sid}")}
    assert after == before                                         # nothing outside the session
    assert not list(_private_workspace.rglob(CANARY)) and not (files / CANARY).exists()


@pytest.mark.slow
def test_a_real_upload_becomes_the_sessions_model_and_can_be_removed(tmp_path, tiny_model,
                                                                     tiny_dataset,
                                                                     _private_workspace):
    sid = "apptest-real"
    tiny_model.save(tmp_path / "digits_cnn.keras")
    tiny_dataset.save_npz(tmp_path / "digits.npz")
    at = _upload_app(sid)
    at.file_uploader[0].set_value(("digits_cnn.keras",
                                   (tmp_path / "digits_cnn.keras").read_bytes(), NPZ))
    at.file_uploader[1].set_value(("digits.npz", (tmp_path / "digits.npz").read_bytes(), NPZ))
    at.run()
    button(at, "Check my model and data").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "digits\\_cnn\\.keras** checked" in at.success[0].value   # the name is escaped
    assert "Labelled training data" in at.info[0].value
    manifest = Path(at.session_state["model_ref"])
    session = _private_workspace / "sessions" / sid
    assert manifest.name == "upload.json" and session in manifest.parents
    assert at.session_state["data_path"].startswith(str(session))
    answers = at.session_state["answers"]
    assert answers.data.value == "labelled" and answers.can_retrain
    assert not button(at, "Next: your situation").disabled
    # the same model card as a demo's: parameters, float size, shapes, layers, ops
    facts = {m.label: m.value for m in at.metric}
    assert list(facts) == ["Parameters", "Float32 size", "Input shape", "Classes", "Layers"]
    assert facts["Parameters"] == f"{tiny_model.count_params():,}"
    assert facts["Float32 size"].endswith(" kB") and facts["Input shape"] == "8 × 8 × 1"
    assert facts["Classes"] == "10" and facts["Layers"] == str(len(tiny_model.layers))
    layers = at.dataframe[0].value
    assert list(layers["Layer"]) == [layer.name for layer in tiny_model.layers]
    assert any("CONV\\_2D" in m.value and "FULLY\\_CONNECTED" in m.value for m in at.markdown)
    button(at, "Remove my uploaded files and start over").click().run()
    assert at.session_state["model_ref"] == "digits-cnn"
    assert not (session / "uploads").exists()
    assert os.path.isdir(session)          # the session itself lives on (its marker)


def test_a_new_session_marks_itself_active_and_sweeps_long_idle_sessions():
    from optimizer import paths
    from optimizer.workspace import browser

    root = paths.sessions_root()
    idle, recent = root / "apptest-idle", root / "apptest-recent"
    for folder, age_h in ((idle, 48), (recent, 1)):
        (folder / "uploads" / "u1").mkdir(parents=True, exist_ok=True)
        (folder / browser.LAST_SEEN).write_text(str(time.time() - age_h * 3600))
    at = new_app().run()                 # a new browser session: no id yet
    assert not at.exception, at.exception
    sid = at.session_state["session_id"]
    assert not idle.exists() and recent.exists()
    assert time.time() - browser.last_activity(root / sid) < 60
