"""Bytes for the Results page's downloads: a zip per technique and the results CSV."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from optimizer.artifacts.store import read_json
from optimizer.guide.schema import Result
from optimizer.report.public import public_record


#: Columns whose values are lists or dicts; the CSV stores them as JSON text.
def _cell(value):
    """A CSV cell: lists and dicts (pipeline, settings, readiness, intervals, ...) as JSON
    text, never a Python repr; None as empty."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else value


def results_csv(frame) -> bytes:
    """The results DataFrame as UTF-8 CSV bytes (every list or dict cell as JSON text).

    Files are named relative to the run (``float16/model.tflite``); no server path or session
    id is written (``report.public``).
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    out = frame.copy()
    for column in out.columns:
        if not (is_numeric_dtype(out[column]) or is_bool_dtype(out[column])):
            out[column] = out[column].map(lambda v: _cell(public_record(v)))
    return out.to_csv(index=False).encode("utf-8")


def safe_name(text: str) -> str:
    """A file-name-safe version of a model or technique name (``pruning+integer`` stays)."""
    keep = "".join(c if c.isalnum() or c in "+-_." else "-" for c in str(text))
    return keep.strip("-.") or "model"


def technique_zip(result: Result | dict, extra: dict | None = None) -> bytes | None:
    """A zip with the result's ``model.tflite`` and ``recipe.json`` (and ``extra`` files).

    ``extra`` maps a file name to text (e.g. a reproduce script). Returns None when the
    result has no .tflite on disk (a failed or cancelled technique).
    """
    r = result if isinstance(result, Result) else Result.from_dict(dict(result))
    if not r.tflite_path or not Path(r.tflite_path).is_file():
        return None
    prefix = safe_name(f"{r.model or 'model'}-{r.technique}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        run_dir = Path(r.tflite_path).parent.parent   # <run_dir>/<spec>/model.tflite
        zf.write(r.tflite_path, f"{prefix}/model.tflite")
        recipe = read_json(r.recipe_path) if r.recipe_path else None
        if recipe is not None:
            zf.writestr(f"{prefix}/recipe.json",
                        json.dumps(public_record(recipe, run_dir), indent=2, default=str))
        zf.writestr(f"{prefix}/result.json",
                    json.dumps(public_record(r.to_dict(), run_dir), indent=2, default=str))
        for name, text in (extra or {}).items():
            zf.writestr(f"{prefix}/{safe_name(name)}", text)
    return buffer.getvalue()


#: The file name the rebuilt tf_keras model of a Keras 3 upload gets in downloads.
REBUILT_NAME = "model_tf_keras.keras"


def rebuilt_keras_model(model_ref: str | None) -> Path | None:
    """The tf_keras model the app rebuilt from a Keras 3 upload (what its runs and the
    reproduce script load: TFMOT needs tf_keras), or None for any other model."""
    from optimizer.models.uploads.prepare import PreparedUpload, is_manifest

    if not model_ref or not is_manifest(model_ref):
        return None
    try:
        upload = PreparedUpload.load(model_ref)
    except (OSError, ValueError):
        return None
    path = Path(upload.artifact)
    if upload.flavor != "keras3" or upload.source != "keras" or not path.is_file():
        return None
    return path
