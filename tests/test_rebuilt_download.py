"""Fix 10: a Keras 3 upload's downloads carry the tf_keras model the app rebuilt (what the
runs and the reproduce script load); other models' downloads do not."""
from __future__ import annotations

import io
import json
import zipfile

from optimizer import Result
from optimizer.models.uploads.prepare import MANIFEST, MANIFEST_VERSION
from optimizer.report.downloads import REBUILT_NAME, rebuilt_keras_model, technique_zip
from optimizer.report.reproduce import reproduce_script


def _manifest(folder, flavor):
    rebuilt = folder / "rebuilt_tf_keras.keras"
    rebuilt.write_bytes(b"tf_keras model bytes")
    doc = {"version": MANIFEST_VERSION, "manifest_path": str(folder / MANIFEST), "name": "m",
           "title": "m.keras", "flavor": flavor, "source": "keras", "artifact": str(rebuilt),
           "sha256": "0" * 64, "signature": {}}
    (folder / MANIFEST).write_text(json.dumps(doc))
    return folder / MANIFEST


def test_only_a_keras3_upload_has_a_rebuilt_model(tmp_path):
    (tmp_path / "k3").mkdir()
    (tmp_path / "tk").mkdir()
    assert rebuilt_keras_model(str(_manifest(tmp_path / "k3", "keras3"))).name == \
        "rebuilt_tf_keras.keras"
    assert rebuilt_keras_model(str(_manifest(tmp_path / "tk", "tf_keras"))) is None
    assert rebuilt_keras_model("digits-cnn") is None


def test_the_zip_and_the_script_use_the_rebuilt_model(tmp_path):
    (tmp_path / "k3").mkdir()
    rebuilt = rebuilt_keras_model(str(_manifest(tmp_path / "k3", "keras3")))
    tflite = tmp_path / "model.tflite"
    tflite.write_bytes(b"TFL3")
    result = Result(technique="dynamic_range", model="m", tflite_path=str(tflite))
    data = technique_zip(result, {REBUILT_NAME: rebuilt.read_bytes()})
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert f"m-dynamic_range/{REBUILT_NAME}" in names
    from optimizer.guide.configs import Settings

    script = reproduce_script("dynamic_range", Settings(), {}, model_path=REBUILT_NAME)
    assert f'MODEL_PATH = "{REBUILT_NAME}"' in script and "model.h5" not in script
