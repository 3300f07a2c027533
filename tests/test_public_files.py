"""Nothing leaks, nothing renders: downloads without server paths or session ids, escaped
user strings, long upload names that keep their extension."""
from __future__ import annotations

import io
import json
import zipfile

from optimizer import paths
from optimizer.artifacts import store
from optimizer.guide.schema import Result, results_frame
from optimizer.report.downloads import results_csv, technique_zip
from optimizer.report.public import public_record, public_text

SESSION = "5e55104abc12"


def _run_dir():
    run_dir = paths.workspace() / "sessions" / SESSION / "runs" / "20261201-r1"
    upload = paths.workspace() / "sessions" / SESSION / "uploads" / "u1" / "upload.json"
    spec_dir = run_dir / "float16"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "model.tflite").write_bytes(b"TFL3" + b"\0" * 64)
    store.write_recipe(run_dir, "float16", {"model": {"ref": str(upload), "name": "my_model"},
                                            "data": str(upload.parent / "data.npz"),
                                            "log": f"see {run_dir}/job-1-baseline.log"})
    result = Result(technique="float16", model="my_model", size_bytes=68, gzip_bytes=30,
                    tflite_path=str(spec_dir / "model.tflite"),
                    recipe_path=str(spec_dir / "recipe.json"),
                    error=f"the job failed (log: {run_dir}/job-1-baseline.log)")
    return run_dir, result


def _assert_clean(text: str):
    assert str(paths.workspace()) not in text and SESSION not in text, text
    assert str(paths.REPO_ROOT) not in text


def test_the_technique_zip_names_files_relative_to_the_run():
    run_dir, result = _run_dir()
    with zipfile.ZipFile(io.BytesIO(technique_zip(result))) as zf:
        names = zf.namelist()
        texts = {n: zf.read(n).decode("utf-8", "replace") for n in names}
    assert sorted(n.split("/")[-1] for n in names) == ["model.tflite", "recipe.json",
                                                       "result.json"]
    for name, text in texts.items():
        if name.endswith(".json"):
            _assert_clean(text)
    back = json.loads(next(t for n, t in texts.items() if n.endswith("result.json")))
    assert back["tflite_path"] == "float16/model.tflite"
    recipe = json.loads(next(t for n, t in texts.items() if n.endswith("recipe.json")))
    assert recipe["model"]["ref"] == "upload.json" and recipe["data"] == "data.npz"
    assert recipe["log"] == "see job-1-baseline.log"


def test_the_csv_has_no_server_path_or_session_id():
    run_dir, result = _run_dir()
    base = Result(technique="float32", model="my_model", size_bytes=136, gzip_bytes=60,
                  tflite_path=str(run_dir / "float32" / "model.tflite"),
                  notes=[f"written to {run_dir}"])
    text = results_csv(results_frame([base, result])).decode()
    _assert_clean(text)
    assert "float16/model.tflite" in text


def test_public_record_drops_folder_keys_and_keeps_numbers():
    doc = {"model": "m", "run_dir": str(paths.workspace()), "results": [{"size_bytes": 3}]}
    assert public_record(doc) == {"model": "m", "results": [{"size_bytes": 3}]}
    assert public_text("no paths here: a/b") == "no paths here: a/b"


def test_a_long_upload_name_keeps_its_extension():
    from optimizer.models.uploads.saving import safe_filename

    name = safe_filename("m" * 250 + ".h5")
    assert name.endswith(".h5") and len(name) <= 120
    assert safe_filename("x" * 300 + ".tar.gz").endswith(".tar.gz")
    assert safe_filename("../../etc/passwd") == "passwd"


def test_user_strings_are_escaped_for_markdown():
    from pages.common.layout import plain

    hostile = "cat![x](http://evil.example/p.png) <b>bold</b> :red[x] **y** `z`"
    shown = plain(hostile)
    assert "](" not in shown.replace("\\](", "") and "<b>" not in shown
    assert ":red[" not in shown and "**" not in shown
    import re

    assert re.sub(r"\\(.)", r"\1", shown) == hostile      # the text itself is kept


def test_a_model_is_named_by_the_users_file_name(tmp_path):
    from optimizer import model_label

    manifest = tmp_path / "upload.json"
    manifest.write_text(json.dumps({"version": 0}))
    assert model_label("digits-cnn") == "digits-cnn"
    assert "/" not in model_label(str(manifest))
    assert model_label(str(tmp_path / "a" / "weights.h5")) == "weights.h5"
