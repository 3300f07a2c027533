"""What a run optimizes: a built-in demo or a user's model file, with its data.

``resolve_model(ref, data)`` turns what the user typed (``--model``/``--data``) into a
``ModelBundle``: a name, a content hash (the cache key of model cards), the data splits, a
way to load a fresh tf_keras model, and the fine-tuning defaults per retraining step.
Resolving is cheap and imports no TensorFlow (the orchestrator validates input with it);
the data and the model load lazily, in the job processes.

Accepted: demo names; an upload manifest (``upload.json`` written by
``optimizer.models.uploads.prepare_upload``: tf_keras or Keras 3 files, SavedModel zips, ``.tflite``,
with data from an ``.npz``, an image zip or a CSV, all checked); and, directly, Keras
``.h5``/``.keras`` files (statically checked before loading, Keras 3 files rebuilt in tf_keras)
or a ``.tflite``, with an ``.npz`` data file.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Callable

import numpy as np

from optimizer.guide.configs import FinetuneConfig
from optimizer.inputs import as_float32, from_npz
from optimizer.models.dataset import REPRESENTATIVE_MAX, Dataset
from optimizer.paths import file_sha256
from optimizer.text import msg

#: Model file types ``resolve_model`` accepts directly (an upload manifest takes more).
KERAS_SUFFIXES = (".h5", ".keras")
TFLITE_SUFFIXES = (".tflite",)
DATA_SUFFIXES = (".npz",)


@dataclass(frozen=True)
class ModelBundle:
    """A model and its data, ready for a run.

    ``kind`` is "demo", "keras-file", "keras3-file", "saved-model" or "tflite"; ``sha256``
    hashes the model file (or the demo's weights) so caches are keyed by content. ``dataset``
    loads on first access. ``load_keras()`` returns a NEW tf_keras model on every call
    (transforms may then change it freely); ``load_source()`` returns what the converter starts
    from (that Keras model, or a ``SavedModelSource`` / ``TfliteSource`` for uploads without a
    Keras model). ``retrain_blocker`` says why QAT, pruning and clustering cannot run on this
    model (None when they can). ``finetune_for(step)`` gives the fine-tuning defaults for
    "pruning", "clustering" or "qat".
    """

    name: str
    ref: str
    kind: str
    sha256: str
    data: str | None
    _load_model: Callable
    _load_data: Callable
    _finetune: Callable
    title: str = ""
    description: str = ""
    retrain_blocker: str | None = None
    _load_source: Callable | None = None
    notes: tuple = ()

    @cached_property
    def dataset(self) -> Dataset:
        """The train / representative / test splits (loaded once per bundle)."""
        return self._load_data()

    def load_keras(self):
        """A fresh tf_keras model (imports TensorFlow); ``ValueError`` saying why not when the
        model has none (a ``.tflite`` or SavedModel upload)."""
        if self._load_model is None:
            raise ValueError(msg("not applicable: {value}", value=self.retrain_blocker or 'no Keras model'))
        return self._load_model()

    def load_source(self):
        """What conversion starts from: a fresh tf_keras model, or a SavedModel / .tflite
        source (``optimizer.engine.convert``) when the upload has no Keras model."""
        if self._load_source is not None:
            return self._load_source()
        return self.load_keras()

    def finetune_for(self, step: str) -> FinetuneConfig:
        """The model's fine-tuning defaults for a step kind ("pruning", "clustering", "qat")."""
        return self._finetune(step)

    def to_dict(self) -> dict:
        """JSON-ready identity of the model (recipes and results record it)."""
        return {"name": self.name, "ref": self.ref, "kind": self.kind, "sha256": self.sha256,
                "data": self.data}


def resolve_model(ref: str, data: str | None = None) -> ModelBundle:
    """Resolve a demo name or a model file path (plus optional ``.npz`` data) to a bundle.

    Raises ``ValueError`` naming the demos and the accepted file types when ``ref`` is neither,
    and ``FileNotFoundError``/``ValueError`` for a missing or unsupported data file.
    """
    ref = str(ref or "").strip()
    data = str(data).strip() if data else None
    if data is not None:
        _check_data_path(data)
        data = str(Path(data).expanduser().resolve())  # jobs run in other working folders
    for loader in _LOADERS:
        bundle = loader(ref, data)
        if bundle is not None:
            return bundle
    raise ValueError(msg("unknown model '{ref}': give a built-in demo ({join}) or a path to a model file "
                         "({join2}, .zip SavedModel, .tflite) with --data PATH (.npz, image .zip or .csv)",
                         ref=ref, join=', '.join(_demo_names()), join2=', '.join(KERAS_SUFFIXES)))


def _demo_names() -> list[str]:
    from optimizer.models.demos import list_demos

    return [d.name for d in list_demos()]


def _demo_bundle(ref: str, data: str | None) -> ModelBundle | None:
    if ref not in _demo_names():
        return None
    from optimizer.models.demos import get_demo

    demo = get_demo(ref)
    weights = Path(demo.weights_path)
    if not weights.exists():
        raise FileNotFoundError(msg("the weights of demo '{ref}' are missing ({weights}); regenerate "
                                    "them with python -m optimizer.models.demos.train --model {ref}",
                                    ref=ref, weights=weights))
    load_data = (lambda: load_npz(data)) if data else demo.dataset
    return ModelBundle(name=demo.name, ref=ref, kind="demo", sha256=file_sha256(weights),
                       data=data, _load_model=demo.build_model, _load_data=load_data,
                       _finetune=demo.finetune_for, title=demo.title,
                       description=demo.description)


def _keras_file_bundle(ref: str, data: str | None) -> ModelBundle | None:
    path = Path(ref).expanduser()
    suffix = path.suffix.lower()
    if suffix not in KERAS_SUFFIXES + TFLITE_SUFFIXES:
        return None
    if not path.is_file():
        raise FileNotFoundError(msg("model file not found: {path}; check the path", path=path))
    if data is None:
        raise ValueError(msg("a model file needs data to measure accuracy: add --data PATH.npz with "
                             "x_train, y_train, x_test, y_test (or only x, unlabelled)"))
    path = path.resolve()
    data_path = data
    common = dict(name=path.stem, ref=str(path), sha256=file_sha256(path), data=data_path,
                  _load_data=lambda: load_npz(data_path), _finetune=lambda step: FinetuneConfig(),
                  title=path.name)
    if suffix in TFLITE_SUFFIXES:
        from optimizer.models.uploads.prepare import NO_KERAS

        return ModelBundle(kind="tflite", _load_model=None, retrain_blocker=NO_KERAS["tflite"],
                           _load_source=lambda: _tflite_source(path),
                           description=f".tflite file {path.name}", **common)

    def load_model():
        # Checked statically (Lambda / custom classes refused from the config JSON) before
        # anything deserializes; Keras 3 files are rebuilt in tf_keras and verified.
        from optimizer.models.uploads.loaders import (
            keras_signature,
            load_keras3,
            load_tf_keras,
            random_inputs,
            reserve_layer_names,
        )
        from optimizer.models.uploads.model_files import KERAS3, inspect_model_file

        if inspect_model_file(path).flavor != KERAS3:
            return load_tf_keras(path)
        from optimizer.models.uploads.keras3_bridge import rebuild_verified

        original = load_keras3(path)
        model = rebuild_verified(original, random_inputs(keras_signature(original)))[0]
        reserve_layer_names(model)
        return model

    return ModelBundle(kind="keras-file", _load_model=load_model,
                       description=f"Keras model file {path.name}", **common)


def _tflite_source(path: Path):
    from optimizer.models.sources import TfliteSource

    return TfliteSource(tflite=path.read_bytes(), name=path.name)


def _load_checked_keras(path: Path):
    from optimizer.models.uploads.loaders import load_tf_keras

    return load_tf_keras(path)


def _saved_model_source(path: Path, signature: dict):
    from optimizer.models.sources import SavedModelSource

    return SavedModelSource.from_signature(path, signature)


def _upload_bundle(ref: str, data: str | None) -> ModelBundle | None:
    """A checked upload: the manifest ``optimizer.models.uploads.prepare_upload`` wrote."""
    from optimizer.models.uploads.prepare import PreparedUpload, is_manifest

    if not ref or not is_manifest(ref):
        return None
    upload = PreparedUpload.load(Path(ref).expanduser().resolve())
    data_path = data or upload.data
    if data_path is None:
        raise ValueError(msg("the upload {title} has no data: check it again with a data file (.npz, "
                             "image zip or CSV)",
                             title=upload.title))
    artifact = Path(upload.artifact)
    kinds = {"tf_keras": "keras-file", "keras3": "keras3-file", "saved-model": "saved-model",
             "tflite": "tflite"}
    load_model = load_source = None
    if upload.source == "keras":
        load_model = partial(_load_checked_keras, artifact)
    elif upload.source == "saved-model":
        load_source = partial(_saved_model_source, artifact, upload.signature)
    else:
        load_source = partial(_tflite_source, artifact)
    description = " ".join([f"uploaded {upload.title}"] + [n for n in upload.notes[:1]])
    return ModelBundle(name=upload.name, ref=str(upload.folder / "upload.json"),
                       kind=kinds.get(upload.flavor, upload.flavor), sha256=upload.sha256,
                       data=str(data_path), _load_model=load_model,
                       _load_data=lambda: load_npz(data_path),
                       _finetune=lambda step: FinetuneConfig(), title=upload.title,
                       description=description, retrain_blocker=upload.retrain_blocker,
                       _load_source=load_source, notes=tuple(upload.notes))


#: Resolvers tried in order; each returns a bundle, None (not its kind) or raises.
_LOADERS = [_demo_bundle, _upload_bundle, _keras_file_bundle]


def _check_data_path(data: str) -> None:
    path = Path(data).expanduser()
    if path.suffix.lower() not in DATA_SUFFIXES:
        raise ValueError(msg("unsupported data file '{name}': give an .npz with x_train, y_train, "
                             "x_test, y_test (or only x for unlabelled samples)",
                             name=path.name))
    if not path.is_file():
        raise FileNotFoundError(msg("data file not found: {path}; check the path", path=path))


def load_npz(path: str | Path) -> Dataset:
    """Load a ``Dataset`` from an ``.npz`` (never unpickling).

    Labelled: ``x_train, y_train, x_test, y_test`` (optional ``x_rep``). Unlabelled: only ``x``
    (used as the test split, compared with the float baseline's predictions, and as
    representative samples). A prepared upload (``uploads.prepare.save_prepared``) also
    records ``task`` ("regression" keeps float targets), ``num_classes`` and ``class_names``.
    Raises ``ValueError`` naming the missing arrays.
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    x_test = from_npz(arrays, "x_test")
    if x_test is not None:
        x_train = from_npz(arrays, "x_train")
        y_test = arrays.get("y_test")
        y_train = arrays.get("y_train")
        x_rep = from_npz(arrays, "x_rep")
        if x_rep is None and x_train is not None:
            x_rep = x_train[:200]
        task = str(arrays["task"]) if "task" in arrays else "classification"
        labels = [y for y in (y_train, y_test) if y is not None]
        if "num_classes" in arrays:
            classes = int(arrays["num_classes"])
        else:
            classes = (int(max(int(np.max(y)) for y in labels)) + 1
                       if labels and task == "classification" else None)
        target = _float if task == "regression" else _int
        return Dataset(name=path.stem, x_test=as_float32(x_test), y_test=target(y_test),
                       x_train=as_float32(x_train), y_train=target(y_train),
                       x_rep=as_float32(x_rep), task=task, num_classes=classes,
                       class_names=tuple(str(c) for c in arrays.get("class_names", ())))
    x = from_npz(arrays, "x")
    if x is not None:
        x = as_float32(x)
        return Dataset(name=path.stem, x_test=x, x_rep=x[:REPRESENTATIVE_MAX])
    raise ValueError(msg("{name} has arrays {arrays}; expected x_train, y_train, x_test, y_test "
                         "(labelled) or x (unlabelled samples); a model with several inputs takes "
                         "x_train.<input name>, x_test.<input name> (or x.<input name>)",
                         name=path.name, arrays=sorted(arrays)))


def _float(a):
    return None if a is None else np.asarray(a, dtype=np.float32)


def _int(a):
    return None if a is None else np.asarray(a).astype(np.int64)
