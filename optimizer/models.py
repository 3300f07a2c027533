"""What a run optimizes: a built-in demo or a user's model file, with its data.

``resolve_model(ref, data)`` turns what the user typed (``--model``/``--data``) into a
``ModelBundle``: a name, a content hash (the cache key of model cards), the data splits, a
way to load a fresh tf_keras model, and the fine-tuning defaults per retraining step.
Resolving is cheap and imports no TensorFlow (the orchestrator validates input with it);
the data and the model load lazily, in the job processes.

Accepted today: demo names and tf_keras ``.h5``/``.keras`` files with an ``.npz`` data file.
Other kinds (safe loading, Keras 3, SavedModel, ``.tflite``) are added as new loaders in
``_LOADERS`` by issue 4 without touching the callers.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from .configs import FinetuneConfig
from .data import REPRESENTATIVE_MAX, Dataset

#: Model file types accepted by ``resolve_model`` (issue 4 extends this).
KERAS_SUFFIXES = (".h5", ".keras")
DATA_SUFFIXES = (".npz",)


@dataclass(frozen=True)
class ModelBundle:
    """A model and its data, ready for a run.

    ``kind`` is "demo" or "keras-file"; ``sha256`` hashes the model file (or the demo's
    weights) so caches are keyed by content. ``dataset`` loads on first access. ``load_keras()``
    returns a NEW tf_keras model on every call (transforms may then change it freely).
    ``finetune_for(step)`` gives the fine-tuning defaults for "pruning", "clustering" or "qat".
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

    @cached_property
    def dataset(self) -> Dataset:
        """The train / representative / test splits (loaded once per bundle)."""
        return self._load_data()

    def load_keras(self):
        """A fresh tf_keras model (imports TensorFlow)."""
        return self._load_model()

    def finetune_for(self, step: str) -> FinetuneConfig:
        """The model's fine-tuning defaults for a step kind ("pruning", "clustering", "qat")."""
        return self._finetune(step)

    def to_dict(self) -> dict:
        """JSON-ready identity of the model (recipes and results record it)."""
        return {"name": self.name, "ref": self.ref, "kind": self.kind, "sha256": self.sha256,
                "data": self.data}


def file_sha256(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    raise ValueError(f"unknown model '{ref}': give a built-in demo ({', '.join(_demo_names())}) "
                     f"or a path to a tf_keras model file ({', '.join(KERAS_SUFFIXES)}) with "
                     f"--data PATH.npz")


def _demo_names() -> list[str]:
    from .demos import list_demos

    return [d.name for d in list_demos()]


def _demo_bundle(ref: str, data: str | None) -> ModelBundle | None:
    if ref not in _demo_names():
        return None
    from .demos import get_demo

    demo = get_demo(ref)
    weights = Path(demo.weights_path)
    if not weights.exists():
        raise FileNotFoundError(f"the weights of demo '{ref}' are missing ({weights}); "
                                f"regenerate them with python -m optimizer.demos.train "
                                f"--model {ref}")
    load_data = (lambda: load_npz(data)) if data else demo.dataset
    return ModelBundle(name=demo.name, ref=ref, kind="demo", sha256=file_sha256(weights),
                       data=data, _load_model=demo.build_model, _load_data=load_data,
                       _finetune=demo.finetune_for, title=demo.title,
                       description=demo.description)


def _keras_file_bundle(ref: str, data: str | None) -> ModelBundle | None:
    path = Path(ref).expanduser()
    if path.suffix.lower() not in KERAS_SUFFIXES:
        return None
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}; check the path")
    if data is None:
        raise ValueError(f"a model file needs data to measure accuracy: add --data PATH.npz "
                         f"with x_train, y_train, x_test, y_test (or only x, unlabelled)")
    path = path.resolve()
    data_path = data

    def load_model():
        from . import compat

        return compat.keras().models.load_model(path, compile=False)

    return ModelBundle(name=path.stem, ref=str(path), kind="keras-file",
                       sha256=file_sha256(path), data=data_path, _load_model=load_model,
                       _load_data=lambda: load_npz(data_path),
                       _finetune=lambda step: FinetuneConfig(),
                       title=path.name, description=f"tf_keras model file {path.name}")


#: Resolvers tried in order; each returns a bundle, None (not its kind) or raises.
_LOADERS = [_demo_bundle, _keras_file_bundle]


def _check_data_path(data: str) -> None:
    path = Path(data).expanduser()
    if path.suffix.lower() not in DATA_SUFFIXES:
        raise ValueError(f"unsupported data file '{path.name}': give an .npz with x_train, "
                         f"y_train, x_test, y_test (or only x for unlabelled samples)")
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}; check the path")


def load_npz(path: str | Path) -> Dataset:
    """Load a ``Dataset`` from an ``.npz`` (never unpickling).

    Labelled: ``x_train, y_train, x_test, y_test`` (optional ``x_rep``). Unlabelled: only ``x``
    (used as the test split, compared with the float baseline's predictions, and as
    representative samples). Raises ``ValueError`` naming the missing arrays.
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    if "x_test" in arrays:
        x_train = arrays.get("x_train")
        y_test = arrays.get("y_test")
        y_train = arrays.get("y_train")
        x_rep = arrays.get("x_rep", x_train[:200] if x_train is not None else None)
        labels = [y for y in (y_train, y_test) if y is not None]
        classes = int(max(int(np.max(y)) for y in labels)) + 1 if labels else None
        return Dataset(name=path.stem, x_test=_float(arrays["x_test"]), y_test=_int(y_test),
                       x_train=_float(x_train), y_train=_int(y_train), x_rep=_float(x_rep),
                       num_classes=classes)
    if "x" in arrays:
        x = _float(arrays["x"])
        return Dataset(name=path.stem, x_test=x, x_rep=x[:REPRESENTATIVE_MAX])
    raise ValueError(f"{path.name} has arrays {sorted(arrays)}; expected x_train, y_train, "
                     f"x_test, y_test (labelled) or x (unlabelled samples)")


def _float(a):
    return None if a is None else np.asarray(a, dtype=np.float32)


def _int(a):
    return None if a is None else np.asarray(a).astype(np.int64)
