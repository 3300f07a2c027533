"""What an uploaded model file is, checked without running anything from it.

``inspect_model_file(path)`` looks at the bytes, not the name: an HDF5 signature, a zip, or a
``TFL3`` flatbuffer. For Keras files it then reads the model config as JSON (``h5py`` for
``.h5``, ``config.json`` inside a ``.keras`` zip) and refuses Lambda layers and any class that
is not a built-in (``keras_classes``) BEFORE any Keras code deserializes the file: an ``.h5``
Lambda layer holds marshalled bytecode and ``safe_mode`` does not cover ``.h5`` files. A
SavedModel zip is checked entry by entry (``archives``) and refused if it carries code-like
files (``.py``, ``.so``, pickles...). Nothing here imports TensorFlow; ``loaders`` does the
loading, in the probe or job processes.

Formats: tf_keras ``.h5`` / ``.keras`` ("tf_keras"), Keras 3 ``.keras`` / ``.h5``
("keras3", told apart by the ``keras_version`` the file records), a zipped SavedModel folder
("saved-model") and a ``.tflite`` ("tflite").
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from optimizer.models.uploads import keras3_ops
from optimizer.models.uploads import keras_classes as kc
from optimizer.models.uploads.archives import check_zip, open_zip, read_member
from optimizer.models.uploads.errors import UnreadableFile, UnsafeModel
from optimizer.models.uploads.limits import Limits, check_upload_size, limits
from optimizer.text import N_, msg

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
MODEL_SUFFIXES = (".h5", ".hdf5", ".keras", ".zip", ".tflite")
#: Files a SavedModel never needs and that could carry code (never loaded, but refused so no
#: later tool can be tricked into it).
CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".so", ".dll", ".dylib", ".pkl", ".pickle", ".sh",
                 ".bat", ".exe", ".jar", ".whl", ".egg", ".ipynb", ".joblib")
CONFIG_MAX_BYTES = 64 * 1024 * 1024

TF_KERAS, KERAS3, SAVED_MODEL, TFLITE = "tf_keras", "keras3", "saved-model", "tflite"


@dataclass(frozen=True)
class ModelFileInfo:
    """What a model file is: format ("h5", "keras", "saved-model", "tflite"), flavor
    ("tf_keras", "keras3", "saved-model", "tflite"), the Keras version it records, the classes
    its config names (layer name -> class) and notes for the user."""

    path: str
    format: str
    flavor: str
    keras_version: str | None = None
    layers: tuple = ()
    saved_model_root: str | None = None  # folder inside the zip holding saved_model.pb
    notes: tuple = field(default=())

    @property
    def is_keras(self) -> bool:
        return self.flavor in (TF_KERAS, KERAS3)

    def to_dict(self) -> dict:
        return {"path": self.path, "format": self.format, "flavor": self.flavor,
                "keras_version": self.keras_version, "layers": [list(x) for x in self.layers],
                "saved_model_root": self.saved_model_root, "notes": list(self.notes)}


def sniff(path: Path | str) -> str:
    """"hdf5", "zip", "tflite", "text" or "unknown", from the file's first bytes."""
    with open(path, "rb") as handle:
        head = handle.read(1032)
    if head.startswith(HDF5_MAGIC) or any(head[o:o + 8] == HDF5_MAGIC for o in (512, 1024)):
        return "hdf5"
    if head[:4] in ZIP_MAGICS:
        return "zip"
    if head[4:8] == b"TFL3":
        return "tflite"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "unknown"


def inspect_model_file(path: Path | str, lim: Limits | None = None) -> ModelFileInfo:
    """Identify and statically check an uploaded model file (no TensorFlow, no deserializing).

    Raises ``TooLarge``, ``UnreadableFile`` (empty, wrong type, truncated, no config),
    ``UnsafeModel`` (Lambda, custom or code-loading classes, code files) or ``UnsafeArchive``.
    """
    lim = lim or limits()
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(msg("model file not found: {path}; check the path", path=path))
    check_upload_size(path, msg("model file {name}", name=path.name), lim)
    suffix = path.suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise UnreadableFile(msg("unsupported model file '{name}': upload a Keras .h5 or .keras file, a "
                                 "zipped SavedModel folder (.zip) or a .tflite",
                                 name=path.name))
    found = sniff(path)
    expected = {".h5": "hdf5", ".hdf5": "hdf5", ".keras": "zip", ".zip": "zip",
                ".tflite": "tflite"}[suffix]
    if found != expected:
        described = {"text": N_("a text file"), "zip": N_("a zip archive"),
                     "hdf5": N_("an HDF5 file"), "tflite": N_("a .tflite model"),
                     "unknown": N_("an unknown binary format")}[found]
        raise UnreadableFile(msg("{name} is {described}, not the {format_name} its name says; "
                                 "upload the file written by {writer}", name=path.name,
                                 described=msg(described), format_name=_format_name(suffix),
                                 writer=_writer(suffix)))
    if expected == "hdf5":
        return _inspect_h5(path)
    if suffix == ".keras":
        return _inspect_keras_zip(path, lim)
    if suffix == ".zip":
        return _inspect_saved_model_zip(path, lim)
    return ModelFileInfo(path=str(path), format="tflite", flavor=TFLITE)


def _format_name(suffix: str) -> str:
    return msg({".h5": N_("HDF5 Keras model"), ".hdf5": N_("HDF5 Keras model"),
               ".keras": N_("Keras zip (.keras)"), ".zip": N_("zip of a SavedModel folder"),
               ".tflite": N_("TFLite flatbuffer")}[suffix])


def _writer(suffix: str) -> str:
    return {".h5": "model.save('model.h5')", ".hdf5": "model.save('model.h5')",
            ".keras": "model.save('model.keras')",
            ".zip": msg("zipping the folder tf.saved_model.save wrote"),
            ".tflite": msg("the TFLite converter")}[suffix]


# -- Keras configs -----------------------------------------------------------------------------

def _flavor(version: str | None) -> str:
    return KERAS3 if str(version or "").strip().startswith("3") else TF_KERAS


def _inspect_h5(path: Path) -> ModelFileInfo:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            attrs = handle.attrs
            raw = attrs.get("model_config")
            version = attrs.get("keras_version")
            has_weights = "model_weights" in handle
    except OSError as exc:
        reason = "truncated" if "truncated" in str(exc).lower() else "damaged"
        raise UnreadableFile(msg("{name} is a {reason} HDF5 file and cannot be read; save the model again "
                                 "and upload the whole file",
                                 name=path.name, reason=reason)) from None
    if raw is None:
        raise UnreadableFile(msg("{name} holds no model config (a weights-only file?); save the whole "
                                 "model with model.save('model.h5')",
                                 name=path.name))
    version = _text(version)
    config = _json(_text(raw), path.name)
    layers = scan_config(config, path.name)
    notes = [] if has_weights else [msg("the file stores no weights group")]
    return ModelFileInfo(path=str(path), format="h5", flavor=_flavor(version),
                         keras_version=version, layers=layers, notes=tuple(notes))


def _inspect_keras_zip(path: Path, lim: Limits) -> ModelFileInfo:
    with open_zip(path, msg("model file")) as zf:
        entries = {info.filename: info
                   for info in check_zip(zf, lim, msg("model file {name}", name=path.name))}
        if "config.json" not in entries:
            raise UnreadableFile(msg("{name} is a zip without config.json, so not a .keras model; save it "
                                     "with model.save('model.keras')",
                                     name=path.name))
        config = _json(read_member(zf, entries["config.json"], CONFIG_MAX_BYTES).decode(
            "utf-8", "replace"), path.name)
        version = None
        if "metadata.json" in entries:
            meta = _json(read_member(zf, entries["metadata.json"], 1 << 20).decode(
                "utf-8", "replace"), path.name)
            version = str(meta.get("keras_version")) if isinstance(meta, dict) else None
        if "model.weights.h5" not in entries:
            raise UnreadableFile(msg("{name} has no model.weights.h5 inside; save the model again with "
                                     "model.save('model.keras')",
                                     name=path.name))
    layers = scan_config(config, path.name)
    return ModelFileInfo(path=str(path), format="keras", flavor=_flavor(version),
                         keras_version=version, layers=layers)


def _text(value) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _json(text: str, name: str):
    try:
        return json.loads(text)
    except ValueError:
        raise UnreadableFile(msg("the model config in {name} is not valid JSON (damaged file); save the "
                                 "model again",
                                 name=name)) from None


def scan_config(config, name: str | None = None) -> tuple:
    """Walk a Keras config (parsed JSON) and refuse anything that would run code.

    Returns ``((layer name, class name), ...)`` for the layers found. Raises ``UnsafeModel``
    naming the first Lambda layer, custom/unknown class or code-loading built-in. Only the
    model itself is scanned: a ``compile_config`` is never deserialized (files load with
    ``compile=False``).
    """
    name = name or msg("the model")
    if not isinstance(config, dict):
        raise UnsafeModel(msg("the config in {name} is not a Keras model config; save the model with "
                              "model.save()",
                              name=name))
    root = {k: v for k, v in config.items() if k not in ("compile_config", "training_config")}
    layers: list[tuple] = []
    _scan(root, layers, name, depth=0)
    return tuple(layers)


def _scan(node, layers: list, name: str, depth: int) -> None:
    if depth > 200:
        raise UnsafeModel(msg("the config in {name} is nested over 200 levels deep; save the model again "
                              "with standard layers",
                              name=name))
    if isinstance(node, list):
        for item in node:
            _scan(item, layers, name, depth + 1)
        return
    if not isinstance(node, dict):
        return
    cls = node.get("class_name")
    if isinstance(cls, str):
        _check_class(node, cls, name)
        config = node.get("config")
        if cls in kc.LAYERS:
            layer_name = (config or {}).get("name") if isinstance(config, dict) else None
            layers.append((str(layer_name or node.get("name") or cls), cls))
    for key, value in node.items():
        if key in ("inbound_nodes",) and not isinstance(value, (list, dict)):
            continue
        _scan(value, layers, name, depth + 1)


def _check_class(node: dict, cls: str, name: str) -> None:
    config = node.get("config")
    layer = config.get("name") if isinstance(config, dict) else None
    label = msg("layer '{layer}' ({cls})", layer=layer, cls=cls) if layer else \
        msg("class '{cls}'", cls=cls)
    if cls in ("Lambda", "__lambda__"):
        raise UnsafeModel(msg("{name} contains a Lambda {label}: it holds Python code, which is never run "
                              "from an upload; replace it with built-in Keras layers and save the model "
                              "again",
                              name=name, label=label))
    if cls in kc.CODE_LAYERS:
        raise UnsafeModel(msg("{name} contains {label}, which loads code or files of its own; replace it "
                              "with built-in Keras layers and save the model again",
                              name=name, label=label))
    module = node.get("module")
    registered = node.get("registered_name")
    if cls == "function":  # Keras 3 writes built-in activations as {"class_name": "function"}
        if str(module or "").startswith(("keras", "tf_keras")) and config in kc.ACTIVATIONS:
            return
        raise UnsafeModel(msg("{name} uses a custom function ({config!r}); only built-in activations load "
                              "from an upload: use one, and save again",
                              name=name, config=config))
    if str(module or "").startswith("keras.src.ops"):  # a Keras 3 operation node
        if cls in keras3_ops.OPS and registered in (None, cls):
            return
        raise UnsafeModel(msg("{name} uses the Keras operation {label} from {module}, which uploads do "
                              "not accept; use keras.layers or the operations {join}, ...",
                              name=name, label=label, module=module,
                              join=', '.join(sorted(keras3_ops.OPS)[:6])))
    custom = (module is not None and not str(module).startswith(("keras", "tf_keras"))) or (
        registered not in (None, cls) and ">" in str(registered))
    if custom or cls not in kc.ALLOWED:
        raise UnsafeModel(msg("{name} uses the custom or unknown {label}; custom classes are never loaded "
                              "from an upload (their code would have to run): rebuild the model from "
                              "built-in Keras layers",
                              name=name, label=label))
    if cls in ("TFOpLambda", "SlicingOpLambda"):
        function = config.get("function") if isinstance(config, dict) else None
        if not kc.tf_op_allowed(function):
            raise UnsafeModel(msg("{name}: {label} calls TensorFlow function {function!r}, which is not "
                                  "plain tensor math; rebuild it with Keras layers",
                                  name=name, label=label, function=function))


# -- SavedModel zips ---------------------------------------------------------------------------

def _inspect_saved_model_zip(path: Path, lim: Limits) -> ModelFileInfo:
    with open_zip(path, msg("model file")) as zf:
        infos = check_zip(zf, lim, msg("model file {name}", name=path.name))
    roots, notes = [], []
    for info in infos:
        entry = PurePosixPath(info.filename)
        if entry.suffix.lower() in CODE_SUFFIXES:
            raise UnsafeModel(msg("the SavedModel zip contains {filename!r}, a code or pickle file; a "
                                  "SavedModel needs only saved_model.pb, variables/ and assets/: zip just "
                                  "those",
                                  filename=info.filename))
        if entry.name == "saved_model.pb":
            roots.append(str(entry.parent))
        if entry.name == "keras_metadata.pb":
            notes.append(msg("keras_metadata.pb is ignored: only the graph is converted"))
    if not roots:
        raise UnreadableFile(msg("{name} has no saved_model.pb; zip the folder that tf.saved_model.save "
                                 "(or model.export) wrote",
                                 name=path.name))
    if len(roots) > 1:
        raise UnreadableFile(msg("{name} holds {n_roots} SavedModels; zip exactly one SavedModel folder",
                                 name=path.name, n_roots=len(roots)))
    return ModelFileInfo(path=str(path), format="saved-model", flavor=SAVED_MODEL,
                         saved_model_root="" if roots[0] == "." else roots[0],
                         notes=tuple(notes))
