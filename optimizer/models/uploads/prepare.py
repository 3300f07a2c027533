"""Turn an uploaded model (and its data) into a checked, runnable upload folder.

``prepare_upload(model, data, workdir)`` does every check in order, cheapest first, so a
hostile file is refused before TensorFlow even loads:

1. size limits, then the model file's static checks (``model_files``: type from its bytes,
   Lambda / custom classes refused from the config JSON, archive entries checked);
2. loading it (TensorFlow; in the caller's throwaway process): tf_keras files directly; Keras 3
   files rebuilt in tf_keras and verified (``keras3_bridge``), or exported as a SavedModel when
   a layer has no tf_keras counterpart; a SavedModel zip unpacked safely and read as data; a
   ``.tflite`` opened by LiteRT;
3. the data file parsed (``data_files``) and checked against the model (``validate``);
4. ``<workdir>/upload.json`` (the manifest ``optimizer.models.resolve_model`` accepts as a
   model reference) and ``<workdir>/data.npz`` (the prepared splits) written.

Everything lands under ``workdir`` (the session's or the run's folder); the uploaded files are
copied there first, so what was checked is exactly what runs. ``check.run_check`` runs this in
a subprocess with a timeout (the app and ``python -m optimizer run`` use that).
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from optimizer.measuring.batching import batch_note
from optimizer.measuring.formats import quantized_blocker, tflite_format, uploaded_label
from optimizer.models.dataset import Dataset
from optimizer.models.uploads.archives import check_zip, open_zip
from optimizer.models.uploads.data_files import load_data_file
from optimizer.models.uploads.errors import UnreadableFile, UploadError
from optimizer.models.uploads.limits import Limits, check_upload_size, limits
from optimizer.models.uploads.model_files import (
    KERAS3,
    SAVED_MODEL,
    TF_KERAS,
    TFLITE,
    ModelFileInfo,
    inspect_model_file,
)
from optimizer.models.uploads.raw_data import DataOptions
from optimizer.models.uploads.validate import validate
from optimizer.text import Message, figure, msg, render

MANIFEST = "upload.json"
DATA_FILE = "data.npz"
MANIFEST_VERSION = 1

#: Why the training techniques cannot run, per kind of upload that has no Keras model.
NO_KERAS = {
    TFLITE: msg("a .tflite holds no trainable Keras model; upload the Keras model (.h5/.keras) "
                "to use QAT, pruning or clustering"),
    SAVED_MODEL: msg("a SavedModel is converted as a graph, not as a Keras model; upload the "
                     "Keras model (.h5/.keras) to use QAT, pruning or clustering"),
}


@dataclass(frozen=True)
class PreparedUpload:
    """A checked upload, as recorded in its manifest (``upload.json``).

    ``flavor`` is what was uploaded ("tf_keras", "keras3", "saved-model", "tflite");
    ``source`` how jobs load it ("keras": a tf_keras file, "saved-model": a folder converted
    with ``from_saved_model``, "tflite": quantized by the LiteRT Quantizer); ``artifact`` the
    path they load. ``retrain_blocker`` says why QAT/pruning/clustering cannot run (None when
    they can). ``validation`` is the ``ValidationReport`` as a dict (None without data).
    ``notes``, ``warnings`` and ``retrain_blocker`` are English; ``messages`` holds the same as
    data (``{"notes": [..], "warnings": [..], "retrain_blocker": ..}``, each ``Message.to_dict``
    or None) for ``shown`` to write in the reader's language.
    """

    manifest_path: str
    name: str
    title: str
    flavor: str
    source: str
    artifact: str
    sha256: str
    signature: dict
    data: str | None = None
    data_title: str | None = None
    layers: list = field(default_factory=list)
    params: int | None = None
    bridge: dict | None = None
    retrain_blocker: str | None = None
    validation: dict | None = None
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    messages: dict = field(default_factory=dict)

    def shown(self, key: str) -> list[str]:
        """``notes`` or ``warnings`` (or ``retrain_blocker``, as a list) in the language in use:
        from ``messages`` where the check recorded them as data, else as recorded."""
        english = getattr(self, key)
        english = [english] if isinstance(english, str) else list(english or [])
        kept = (self.messages or {}).get(key)
        kept = [kept] if key == "retrain_blocker" and kept else kept
        if not isinstance(kept, list) or len(kept) != len(english):
            return english
        return [render(m) if m else text for m, text in zip(kept, english)]

    @property
    def folder(self) -> Path:
        return Path(self.manifest_path).parent

    @property
    def data_kind(self) -> str | None:
        """"labelled", "unlabelled" or None: the decision tree's data answer from the upload."""
        return (self.validation or {}).get("data_kind")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def load(cls, path: Path | str) -> "PreparedUpload":
        """Read a manifest (``upload.json`` or the folder holding it)."""
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            raise UnreadableFile(msg("cannot read the upload manifest {path}; check the upload again",
                                     path=path)) from None
        if doc.get("version") != MANIFEST_VERSION:
            raise UnreadableFile(msg("{path} was written by another version; check the upload again",
                                     path=path))
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in doc.items() if k in names})


def is_manifest(ref) -> bool:
    """True when ``ref`` names an upload manifest (the file or its folder)."""
    path = Path(str(ref)).expanduser()
    return (path.name == MANIFEST and path.is_file()) or (path.is_dir() and
                                                          (path / MANIFEST).is_file())


def prepare_upload(model: Path | str, data: Path | str | None, workdir: Path | str,
                   options: DataOptions | None = None, lim: Limits | None = None) -> PreparedUpload:
    """Check a model file (and data file) and write the upload folder; see the module doc.

    Raises ``UploadError`` subclasses (one line, cause and fix) for anything unusable.
    """
    from optimizer.paths import file_sha256

    lim = lim or limits()
    options = options or DataOptions()
    workdir = Path(workdir).resolve()
    model_path, info, data_path, raw = screen_upload(model, data, workdir, options, lim)
    probe = probe_model(info, workdir / "model")
    notes, warnings = list(info.notes) + probe.pop("notes", []), []
    manifest = {"version": MANIFEST_VERSION, "manifest_path": str(workdir / MANIFEST),
                "name": _stem(Path(model).name), "title": Path(model).name,
                "sha256": file_sha256(model_path), "flavor": info.flavor, **probe}
    if data_path is not None:
        if raw is None:  # images are resized to the model's input
            raw = load_data_file(data_path, options, _input_shape(probe["signature"]), lim)
        dataset, report = validate(probe["signature"], raw, name=_stem(Path(data).name))
        out = workdir / DATA_FILE
        save_prepared(dataset, out)
        manifest.update(data=str(out), data_title=Path(data).name, validation=report.to_dict())
        notes += list(report.notes)
        warnings += list(report.warnings)
    blocker = manifest.get("retrain_blocker")
    manifest.update(notes=[str(n) for n in notes], warnings=[str(w) for w in warnings],
                    retrain_blocker=str(blocker) if blocker else None,
                    messages={"notes": [_data(n) for n in notes],
                              "warnings": [_data(w) for w in warnings],
                              "retrain_blocker": _data(blocker) if blocker else None})
    (workdir / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return PreparedUpload.load(workdir / MANIFEST)


def screen_upload(model: Path | str, data: Path | str | None, workdir: Path | str,
                  options: DataOptions | None = None, lim: Limits | None = None) -> tuple:
    """Every check that needs no TensorFlow, in ``prepare_upload``'s order (sizes, the model
    file's static checks, the data's own checks), the files copied into ``workdir``:
    ``(model_path, ModelFileInfo, data_path or None, parsed data or None)``. Raises the same
    ``UploadError`` ``prepare_upload`` would for a file refused before loading."""
    lim = lim or limits()
    options = options or DataOptions()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    model_path = _bring(Path(model), workdir / "model", msg("model file"), lim)
    info = inspect_model_file(model_path, lim)
    data_path = raw = None
    if data is not None:  # everything about the data that needs no model, before TensorFlow
        data_path = _bring(Path(data), workdir / "data", msg("data file"), lim)
        if data_path.suffix.lower() == ".zip":
            with open_zip(data_path, msg("image zip")) as zf:
                check_zip(zf, lim, msg("image zip {name}", name=data_path.name))
        else:
            raw = load_data_file(data_path, options, None, lim)
    return model_path, info, data_path, raw


def _stem(name: str) -> str:
    stem = Path(name).stem or "model"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "model"


def _data(message) -> dict | None:
    """A recorded message as data (None for a plain string: shown as recorded)."""
    return message.to_dict() if isinstance(message, Message) else None


def _bring(path: Path, folder: Path, what, lim: Limits) -> Path:
    """Copy an uploaded file into the upload folder (unless it is already inside it)."""
    if not path.is_file():
        raise UnreadableFile(msg("{what} not found: {path}; check the path", what=what, path=path))
    check_upload_size(path, msg("{what} {name}", what=what, name=path.name), lim)
    folder.mkdir(parents=True, exist_ok=True)
    resolved = path.resolve()
    if folder.resolve() in resolved.parents:
        return resolved
    target = folder / (_stem(path.name) + path.suffix.lower())
    shutil.copyfile(resolved, target, follow_symlinks=True)
    return target


def _input_shape(signature: dict):
    inputs = signature.get("inputs") or []
    return tuple(inputs[0]["shape"][1:]) if len(inputs) == 1 else None


def probe_model(info: ModelFileInfo, folder: Path) -> dict:
    """Load the checked model (TensorFlow) and describe how jobs will load it.

    Returns the manifest fields ``source``, ``artifact``, ``signature``, ``layers``,
    ``params``, ``bridge``, ``retrain_blocker`` and ``notes``.
    """
    if info.flavor == TFLITE:
        return _probe_tflite(info)
    if info.flavor == SAVED_MODEL:
        return _probe_saved_model(info, folder)
    from optimizer.models.uploads import loaders

    if info.flavor == TF_KERAS:
        model = loaders.load_tf_keras(info.path)
        return {"source": "keras", "artifact": info.path,
                "signature": loaders.keras_signature(model), "layers": loaders.layer_rows(model),
                "params": int(model.count_params()), "bridge": None, "retrain_blocker": None,
                "notes": [msg("tf_keras model (Keras {version}): every technique applies",
                              version=info.keras_version or "2")]}
    assert info.flavor == KERAS3  # noqa: S101 - inspect_model_file returns only these flavors
    return _probe_keras3(info, folder)


def _probe_keras3(info: ModelFileInfo, folder: Path) -> dict:
    from optimizer.models.uploads import loaders
    from optimizer.models.uploads.keras3_bridge import BridgeError, rebuild_verified

    original = loaders.load_keras3(info.path)
    signature = loaders.keras_signature(original)
    base = {"signature": signature, "layers": loaders.layer_rows(original),
            "params": int(original.count_params())}
    samples = loaders.random_inputs(signature, count=32)
    try:
        model, report = rebuild_verified(original, samples)
    except BridgeError as exc:
        return {**base, **_export_keras3(original, folder, exc, info)}
    target = folder / "rebuilt_tf_keras.keras"
    model.save(target)
    return {**base, "source": "keras", "artifact": str(target), "bridge": report.to_dict(),
            "retrain_blocker": None,
            "notes": [msg("Keras {version} model rebuilt in tf_keras (TFMOT needs tf_keras): "
                          "{copied} weight arrays copied, outputs match within max abs diff "
                          "{diff} on {samples} random inputs", version=info.keras_version,
                          copied=report.weights_copied, diff=figure(float(report.max_abs_diff), "sig"),
                          samples=report.samples)]}


def _export_keras3(original, folder: Path, error, info: ModelFileInfo) -> dict:
    """When the rebuild fails: export a SavedModel for the post-training techniques."""
    from optimizer.models.uploads import loaders

    target = folder / "saved_model"
    if target.exists():
        shutil.rmtree(target)
    try:
        original.export(str(target), verbose=False)
    except TypeError:  # older Keras 3 without the verbose argument
        original.export(str(target))
    signature = loaders.saved_model_signature(target)
    reason = getattr(error, "message", None) or str(error)
    blocker = msg("{error} (Keras {version} model), so TFMOT cannot transform it; post-training "
                  "quantization works through the model's SavedModel export", error=reason,
                  version=info.keras_version)
    return {"source": "saved-model", "artifact": str(target), "bridge": {
        "error": str(error), "layer": error.layer, "layer_class": error.layer_class},
        "saved_model_signature": signature.get("signature_key"), "retrain_blocker": blocker,
        "notes": [msg("cannot rebuild the Keras {version} model in tf_keras: {error}; "
                      "post-training techniques run from its SavedModel export (model.export)",
                      version=info.keras_version, error=reason)]}


def _probe_saved_model(info: ModelFileInfo, folder: Path) -> dict:
    from optimizer.models.uploads import loaders
    from optimizer.models.uploads.archives import safe_extract

    target = folder / "saved_model_zip"
    if target.exists():
        shutil.rmtree(target)
    safe_extract(info.path, target, what=msg("model file {name}", name=Path(info.path).name))
    root = target / info.saved_model_root if info.saved_model_root else target
    signature = loaders.saved_model_signature(root)
    return {"source": "saved-model", "artifact": str(root), "signature": signature,
            "saved_model_signature": signature.get("signature_key"), "layers": [],
            "params": None, "bridge": None, "retrain_blocker": NO_KERAS[SAVED_MODEL],
            "notes": [msg("SavedModel: read as a graph for conversion only (no Python objects "
                          "are restored); post-training techniques apply")]}


def _probe_tflite(info: ModelFileInfo) -> dict:
    from optimizer.measuring.facts import tflite_facts
    from optimizer.models.uploads import loaders

    data = Path(info.path).read_bytes()
    try:
        facts = tflite_facts(data)
    except Exception as exc:  # noqa: BLE001 - a damaged flatbuffer
        raise UnreadableFile(msg("{name} is a damaged .tflite ({exc}); convert the model again",
                                 name=Path(info.path).name, exc=exc)) from None
    signature = loaders.tflite_signature(data)
    fmt = tflite_format(data)
    notes = [msg("float .tflite: post-training quantization runs through the LiteRT Quantizer")]
    if quantized_blocker(fmt):
        notes = [msg("measured {label} in the float32 baseline's place; the post-training "
                     "techniques do not apply: {why}", label=uploaded_label(fmt),
                     why=quantized_blocker(fmt))]
    notes += _batch_notes(info, signature)
    return {"source": "tflite", "artifact": info.path, "signature": signature, "layers": [],
            "params": facts.weight_params, "bridge": None, "retrain_blocker": NO_KERAS[TFLITE],
            "ops": list(facts.ops), "notes": notes}


def _batch_notes(info: ModelFileInfo, signature: dict) -> list:
    """A note for a file that fixes its batch (3, say), or a refusal when its output does not
    keep that batch (its results could not be told apart per sample)."""
    batch = signature.get("fixed_batch")
    if not batch or batch == 1:
        return []
    outputs = [o["shape"][0] if o["shape"] else None for o in signature.get("outputs") or []]
    if any(d not in (batch, None) for d in outputs):
        raise UploadError(msg("{name} fixes its batch at {batch} but its output batch is {value}, so "
                              "results cannot be told apart per sample; export the model with a resizable "
                              "(or batch-1) input",
                              name=Path(info.path).name, batch=batch, value=outputs[0]))
    return [batch_note(batch)]


# -- the prepared data file ----------------------------------------------------------------------

def save_prepared(dataset: Dataset, path: Path | str) -> Path:
    """Write a Dataset as ``.npz`` with its task and class names (plain arrays, no pickles)."""
    arrays = {**dataset.arrays(), "task": np.array(dataset.task)}
    if dataset.num_classes:
        arrays["num_classes"] = np.array(int(dataset.num_classes))
    if dataset.class_names:
        arrays["class_names"] = np.array([str(c) for c in dataset.class_names])
    np.savez_compressed(path, **arrays)
    return Path(path)
