"""Loading checked model files (TensorFlow side) and reading their input/output signature.

Only called after ``model_files.inspect_model_file`` accepted the file, and only in throwaway
processes (the check process, job workers): never in the Streamlit server. Keras files load
with ``compile=False`` (a compile config can name custom losses) and ``.keras`` files with
``safe_mode=True``; ``.h5`` files, where safe mode does not apply, were scanned as JSON first.
A SavedModel is read as protobuf data (signature, op types) and converted by the TFLite
converter; nothing restores its Python objects. A ``.tflite`` is read by the LiteRT
interpreter and the flatbuffer schema.

A signature is ``{"inputs": [{"name", "shape": [None, ...], "dtype"}], "outputs": [...],
"output_activation": "softmax" | "sigmoid" | "linear" | None}``.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from optimizer import compat
from optimizer.measuring.batching import fixed_batch
from optimizer.models.uploads.errors import UnreadableFile, UnsafeModel, UploadError, first_line
from optimizer.models.uploads.model_files import KERAS3, inspect_model_file

#: Graph ops that call back into Python: an uploaded SavedModel must not contain them.
PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})


def load_tf_keras(path: Path | str):
    """Load a tf_keras ``.h5``/``.keras`` model after re-checking it statically.

    Raises ``UnsafeModel``/``UnreadableFile`` (one line) and ``ValueError`` for a Keras 3
    file (rebuild it with ``keras3_bridge`` instead).
    """
    info = inspect_model_file(path)
    if info.flavor == KERAS3:
        raise ValueError(f"{Path(path).name} was saved by Keras 3; tf_keras cannot load it, "
                         f"rebuild it with optimizer.models.uploads.keras3_bridge")
    keras = compat.keras()
    try:
        if info.format == "keras":
            model = keras.models.load_model(path, compile=False, safe_mode=True)
        else:
            model = keras.models.load_model(path, compile=False)
    except (UnsafeModel, UnreadableFile):
        raise
    except Exception as exc:  # noqa: BLE001 - any loader failure is one line for the user
        raise UnreadableFile(f"tf_keras cannot load {Path(path).name} ({first_line(exc)}); save "
                             f"the model again with model.save()") from None
    reserve_layer_names(model)
    return model


def reserve_layer_names(model) -> None:
    """Advance Keras' automatic layer names past the loaded model's own.

    A model loaded from a file keeps its layer names ("depthwise_conv2d", "conv2d_1") but the
    fresh process's naming counters start at zero, so a layer created later gets one of those
    names again. TFMOT's QAT creates layers (it splits SeparableConv2D into DepthwiseConv2D +
    Conv2D) and a clash rewires the graph: measured on a model with both DepthwiseConv2D and
    SeparableConv2D, ``quantize_model`` failed with "Dimensions must be equal". Creating one
    unnamed twin per used index (from the layer's own config) moves the counters on.
    """
    pending = list(getattr(model, "layers", []))
    while pending:
        layer = pending.pop()
        pending.extend(getattr(layer, "layers", []) or [])
        prefix = _snake_case(type(layer).__name__)
        match = re.fullmatch(re.escape(prefix) + r"(?:_(\d+))?", layer.name)
        if match is None:
            continue
        wanted = int(match.group(1) or 0)
        config = {k: v for k, v in layer.get_config().items() if k != "name"}
        for _ in range(wanted + 2):
            try:
                twin = type(layer).from_config(dict(config))
            except Exception:  # noqa: BLE001 - a layer that cannot be twinned cannot clash
                break
            index = re.fullmatch(re.escape(prefix) + r"(?:_(\d+))?", twin.name)
            if index is None or int(index.group(1) or 0) > wanted:
                break


def load_keras3(path: Path | str):
    """Load a Keras 3 ``.keras``/``.h5`` model with Keras 3 (``safe_mode=True``, no compile)."""
    info = inspect_model_file(path)
    keras3 = compat.keras3()
    try:
        if info.format == "keras":
            return keras3.saving.load_model(path, compile=False, safe_mode=True)
        return keras3.saving.load_model(path, compile=False)
    except Exception as exc:  # noqa: BLE001
        raise UnreadableFile(f"Keras 3 cannot load {Path(path).name} ({first_line(exc)}); save "
                             f"the model again with model.save()") from None


def _dims(shape) -> list:
    return [None if d is None or int(d) < 0 else int(d) for d in tuple(shape)]


def keras_signature(model) -> dict:
    """The signature of a Keras (2 or 3) model, with its last layer's activation."""
    def tensor(t, i, kind):
        name = getattr(t, "name", None) or f"{kind}_{i}"
        dtype = getattr(t, "dtype", "float32")
        dtype = getattr(dtype, "name", dtype)
        return {"name": str(name).split(":")[0], "shape": _dims(t.shape), "dtype": str(dtype)}

    return {"inputs": [tensor(t, i, "input") for i, t in enumerate(model.inputs)],
            "outputs": [tensor(t, i, "output") for i, t in enumerate(model.outputs)],
            "output_activation": output_activation(model)}


def output_activation(model) -> str | None:
    """"softmax", "sigmoid", "linear" or another activation name of the last layer."""
    layer = model.layers[-1] if getattr(model, "layers", None) else None
    while layer is not None and hasattr(layer, "layers") and layer.layers:
        layer = layer.layers[-1]
    if layer is None:
        return None
    kind = type(layer).__name__
    if kind == "Softmax":
        return "softmax"
    activation = getattr(layer, "activation", None)
    if activation is None:
        return "linear" if kind in ("Dense", "Conv1D", "Conv2D") else None
    name = getattr(activation, "__name__", None) or str(activation)
    return str(name)


def layer_rows(model) -> list[dict]:
    """Name, type, output shape and parameters of each layer (for the model card)."""
    rows = []
    for layer in model.layers:
        shape = getattr(layer, "output_shape", None)
        if shape is None:
            shape = getattr(getattr(layer, "output", None), "shape", None)
        try:
            shape = _dims(shape)[1:] if shape is not None and not isinstance(shape, list) \
                else None
        except (TypeError, ValueError):
            shape = None
        rows.append({"name": layer.name, "type": type(layer).__name__, "output_shape": shape,
                     "params": int(layer.count_params())})
    return rows


def _snake_case(name: str) -> str:
    """How Keras spells a class as a layer name (DepthwiseConv2D -> depthwise_conv2d)."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def random_inputs(signature: dict, count: int = 32, seed: int = 0):
    """Deterministic test inputs for a signature (standard normal; small whole numbers for
    integer inputs such as token ids). One array, or a list for several inputs."""
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in signature["inputs"]:
        shape = [count] + [d if d is not None else 8 for d in spec["shape"][1:]]
        if np.dtype(spec["dtype"]).kind in "iu":
            arrays.append(rng.integers(0, 8, size=shape).astype(spec["dtype"]))
        else:
            arrays.append(rng.standard_normal(shape).astype(np.float32))
    return arrays[0] if len(arrays) == 1 else arrays


# -- SavedModel --------------------------------------------------------------------------------

def saved_model_signature(folder: Path | str, key: str = "serving_default") -> dict:
    """Read the SavedModel's serving signature and refuse Python-calling ops (as data only).

    Raises ``UnsafeModel`` for PyFunc-style ops and ``UnreadableFile`` for a damaged file or
    a missing signature. The result has an extra ``"signature_key"``.
    """
    proto_module = compat.saved_model_proto()
    tf = compat.tf()
    path = Path(folder) / "saved_model.pb"
    proto = proto_module.SavedModel()
    try:
        proto.ParseFromString(path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise UnreadableFile(f"saved_model.pb cannot be parsed ({first_line(exc)}); export the "
                             f"SavedModel again") from None
    if not proto.meta_graphs:
        raise UnreadableFile("the SavedModel has no graph; export it again with "
                             "tf.saved_model.save or model.export")
    graph = proto.meta_graphs[0]
    ops = {node.op for node in graph.graph_def.node}
    for function in graph.graph_def.library.function:
        ops |= {node.op for node in function.node_def}
    if ops & PYTHON_OPS:
        raise UnsafeModel(f"the SavedModel calls Python code ({', '.join(sorted(ops & PYTHON_OPS))}"
                          f" op), which never runs from an upload; export it without "
                          f"tf.py_function / tf.numpy_function")
    signatures = graph.signature_def
    if key not in signatures:
        if not signatures:
            raise UnreadableFile("the SavedModel has no serving signature; export it with "
                                 "model.export() or tf.saved_model.save(..., signatures=...)")
        key = sorted(signatures)[0]
    signature = signatures[key]

    def tensors(mapping):
        out = []
        for name in sorted(mapping):
            info = mapping[name]
            dims = [None if d.size < 0 else int(d.size) for d in info.tensor_shape.dim]
            out.append({"name": name, "shape": dims,
                        "dtype": tf.dtypes.as_dtype(info.dtype).name})
        return out

    return {"inputs": tensors(signature.inputs), "outputs": tensors(signature.outputs),
            "output_activation": None, "signature_key": key}


# -- .tflite -----------------------------------------------------------------------------------

def tflite_signature(tflite: bytes) -> dict:
    """Inputs/outputs of a ``.tflite`` (via the LiteRT interpreter) and its last op's
    activation. Raises ``UnreadableFile`` when LiteRT cannot open the file."""
    interpreter_class = compat.interpreter_class()
    try:
        # Builtin kernels only: reading the signature needs no XNNPACK (whose creation would
        # print a line on stderr, next to a check's one-line error).
        interpreter = interpreter_class(
            model_content=bytes(tflite), experimental_op_resolver_type=compat.op_resolver_type()
            .BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interpreter.allocate_tensors()
    except Exception as exc:  # noqa: BLE001 - LiteRT's RuntimeError/ValueError
        raise UnreadableFile(f"LiteRT cannot open the .tflite ({first_line(exc)}); convert the "
                             f"model again with the TFLite converter") from None

    def tensors(details):
        # "quantized": an integer tensor with a scale takes (gives) real values, quantized
        # with its own scale and zero point: its data are floats, not whole-number ids.
        return [{"name": d["name"], "shape": _dims(d.get("shape_signature", d["shape"])),
                 "dtype": np.dtype(d["dtype"]).name,
                 "quantized": bool(np.dtype(d["dtype"]).kind in "iu" and d["quantization"][0])}
                for d in details]

    signature = {"inputs": tensors(interpreter.get_input_details()),
                 "outputs": tensors(interpreter.get_output_details()),
                 "output_activation": _tflite_output_activation(tflite)}
    try:
        signature["fixed_batch"] = fixed_batch(interpreter.get_input_details())
    except ValueError as exc:
        raise UploadError(f"{exc}") from None
    for spec in signature["inputs"]:
        if spec["shape"] and spec["shape"][0] is None:
            continue
        # A fixed batch (1, or 3 for a file that fixes it) still takes any number of samples:
        # they are fed that many at a time (optimizer.measuring.batching).
        spec["shape"] = [None] + spec["shape"][1:]
    return signature


def _tflite_output_activation(tflite: bytes) -> str | None:
    schema = compat.tflite_schema()
    model = schema.Model.GetRootAs(tflite, 0)
    graph = model.Subgraphs(0)
    if not graph.OutputsLength():
        return None
    target = int(graph.Outputs(0))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        if target in [int(op.Outputs(j)) for j in range(op.OutputsLength())]:
            code = model.OperatorCodes(op.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            return {"SOFTMAX": "softmax", "LOGISTIC": "sigmoid"}.get(names.get(builtin), "linear")
    return None
