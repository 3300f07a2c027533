"""Facts about a ``.tflite`` file read straight from its flatbuffer: no TensorFlow, no interpreter.

``tflite_facts(path_or_bytes)`` reports size (raw and gzip level 9), input/output dtypes and
shapes, the builtin ops, and two numbers that show whether pruning or clustering survived
conversion: the fraction of exact zeros in the weights (``sparsity``) and the largest number of
distinct weight values in any output channel (``max_unique_weights_per_channel``).

How weights are read, and why from the flatbuffer: the interpreter only exposes tensors it
keeps (XNNPACK may repack constants, and float16 weights sit behind a DEQUANTIZE op), while
the flatbuffer holds exactly the bytes that ship. A weight is input 1 of a CONV_2D,
DEPTHWISE_CONV_2D or FULLY_CONNECTED op; when that input is produced by a DEQUANTIZE op (the
converter's float16 layout, the LiteRT Quantizer's weight-only layout) the DEQUANTIZE op's
constant input is the stored weight. Values are counted *as stored*: int8 values for
quantized weights (zero means int8 zero point 0, which symmetric weight quantization uses),
float16 values for float16 weights, float32 otherwise. Sparse-encoded tensors
(``EXPERIMENTAL_SPARSITY``) and weights stored outside the flatbuffer give ``None`` with the
reason in ``unavailable_reason``. Only LiteRT's generated schema (via ``optimizer.compat``),
``flatbuffers`` and NumPy are used, so the UI and the latency process can import this module.
"""
from __future__ import annotations

import gzip
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from optimizer import compat

#: Ops whose weights (input 1) count for sparsity and distinct values per channel.
WEIGHT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
# Output-channel axis of each op's weight tensor: CONV_2D is [out, h, w, in],
# FULLY_CONNECTED [out, in], DEPTHWISE_CONV_2D [1, h, w, out].
_CHANNEL_AXIS = {"CONV_2D": 0, "FULLY_CONNECTED": 0, "DEPTHWISE_CONV_2D": -1}

# TensorType enum value -> NumPy dtype of the stored values (INT4 is unpacked separately).
_NUMPY_TYPES = {
    "FLOAT32": np.float32, "FLOAT16": np.float16, "INT32": np.int32, "UINT8": np.uint8,
    "INT64": np.int64, "BOOL": np.bool_, "INT16": np.int16, "INT8": np.int8,
    "FLOAT64": np.float64, "UINT64": np.uint64, "UINT32": np.uint32, "UINT16": np.uint16,
}


@dataclass(frozen=True)
class TfliteFacts:
    """What a ``.tflite`` file contains, measured from its bytes.

    ``sparsity`` is the fraction of exact zeros over the stored values of the CONV_2D,
    DEPTHWISE_CONV_2D and FULLY_CONNECTED weight tensors (``weight_params`` values in all);
    ``max_unique_weights_per_channel`` is the largest count of distinct stored values in any
    output channel of those tensors. Both are ``None`` when the weights cannot be read as
    plain arrays (``unavailable_reason`` says why). Shapes use -1 for dimensions that can be
    resized at run time (usually the batch). ``float_ops`` names the main graph's ops that
    compute on float activations (QUANTIZE / DEQUANTIZE excluded): every op of a float model,
    none of a fully integer one, and the float-fallback ops of a mixed one.
    """

    size_bytes: int
    gzip_bytes: int
    input_dtype: str
    output_dtype: str
    input_shape: tuple
    output_shape: tuple
    ops: tuple
    op_counts: dict = field(default_factory=dict)
    float_ops: tuple = ()
    sparsity: float | None = None
    max_unique_weights_per_channel: int | None = None
    weight_params: int | None = None
    weight_dtypes: tuple = ()
    inputs: int = 1
    outputs: int = 1
    signatures: tuple = ()
    unavailable_reason: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples become lists)."""
        data = asdict(self)
        for key in ("input_shape", "output_shape", "ops", "float_ops", "weight_dtypes",
                    "signatures"):
            data[key] = list(data[key])
        return data


def tflite_facts(path_or_bytes) -> TfliteFacts:
    """Read a ``.tflite`` (a path or its bytes) and return its ``TfliteFacts``.

    Needs only the file. Raises ``ValueError`` when the bytes are not a TFLite flatbuffer.
    """
    data, schema, model = load_model(path_or_bytes)
    names = enum_names(schema.BuiltinOperator)
    type_names = enum_names(schema.TensorType)
    main = model.Subgraphs(0)

    op_counts: dict[str, int] = {}
    for g in range(model.SubgraphsLength()):
        graph = model.Subgraphs(g)
        for i in range(graph.OperatorsLength()):
            name = op_name(model, graph.Operators(i), names)
            op_counts[name] = op_counts.get(name, 0) + 1

    first_in = main.Tensors(int(main.Inputs(0))) if main.InputsLength() else None
    first_out = main.Tensors(int(main.Outputs(0))) if main.OutputsLength() else None
    weights = _weights(data, model, main, names, type_names)
    signatures = tuple(model.SignatureDefs(i).SignatureKey().decode()
                       for i in range(model.SignatureDefsLength()))
    return TfliteFacts(
        size_bytes=len(data),
        gzip_bytes=len(gzip.compress(data, compresslevel=9, mtime=0)),
        input_dtype=_dtype_name(first_in, type_names),
        output_dtype=_dtype_name(first_out, type_names),
        input_shape=_shape(first_in),
        output_shape=_shape(first_out),
        ops=tuple(sorted(op_counts)),
        op_counts=dict(sorted(op_counts.items())),
        float_ops=_float_ops(model, main, names),
        inputs=main.InputsLength(),
        outputs=main.OutputsLength(),
        signatures=signatures,
        **weights,
    )


def load_model(path_or_bytes) -> tuple:
    """``(bytes, schema module, flatbuffer Model)`` of a ``.tflite`` given as a path or bytes;
    ``ValueError`` when it is not a TFLite flatbuffer. Every reader of the file starts here."""
    data = model_bytes(path_or_bytes)
    schema = compat.tflite_schema()
    if len(data) < 8 or not schema.Model.ModelBufferHasIdentifier(data, 0):
        raise ValueError("not a TFLite model (the file lacks the 'TFL3' flatbuffer identifier); "
                         "give a .tflite produced by the TFLite converter or LiteRT")
    return data, schema, schema.Model.GetRootAs(data, 0)


def model_bytes(path_or_bytes) -> bytes:
    """The bytes of a ``.tflite`` given as a path or as bytes."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes)
    path = Path(path_or_bytes)
    if not path.is_file():
        raise ValueError(f"no .tflite file at {path}; check the path")
    return path.read_bytes()


def enum_names(enum_class) -> dict[int, str]:
    """Value -> name of a flatbuffer schema enum (BuiltinOperator, TensorType, ...)."""
    return {v: k for k, v in vars(enum_class).items() if not k.startswith("_") and isinstance(v, int)}


def op_name(model, op, names: dict[int, str]) -> str:
    """An operator's name: its builtin's (``names`` from ``enum_names``; BUILTIN_<n> when
    unknown), or CUSTOM:<its custom code>."""
    code = model.OperatorCodes(op.OpcodeIndex())
    # The schema kept an 8-bit field for old files and added a 32-bit one; the real code is
    # the larger of the two (the rule TFLite's own reader applies).
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    name = names.get(builtin, f"BUILTIN_{builtin}")
    if name == "CUSTOM" and code.CustomCode():
        return f"CUSTOM:{code.CustomCode().decode(errors='replace')}"
    return name


def _dtype_name(tensor, type_names: dict[int, str]) -> str:
    if tensor is None:
        return "none"
    return type_names.get(tensor.Type(), str(tensor.Type())).lower()


def _shape(tensor) -> tuple:
    if tensor is None:
        return ()
    if tensor.ShapeSignatureLength():
        return tuple(int(v) for v in tensor.ShapeSignatureAsNumpy())
    return tuple(int(v) for v in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()


def _float_ops(model, graph, names) -> tuple:
    """Ops whose non-constant inputs or outputs are floating point (activations in float)."""
    schema = compat.tflite_schema()
    floats = {schema.TensorType.FLOAT32, schema.TensorType.FLOAT16, schema.TensorType.FLOAT64}
    found = set()
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        name = op_name(model, op, names)
        if name in ("QUANTIZE", "DEQUANTIZE"):
            continue
        indices = [int(t) for t in (op.InputsAsNumpy() if op.InputsLength() else ())]
        indices += [int(t) for t in (op.OutputsAsNumpy() if op.OutputsLength() else ())]
        for t in indices:
            if t < 0:
                continue
            tensor = graph.Tensors(t)
            buffer = model.Buffers(tensor.Buffer())
            constant = buffer.DataLength() > 0 or buffer.Offset() > 1
            if not constant and tensor.Type() in floats:
                found.add(name)
                break
    return tuple(sorted(found))


def _weights(data: bytes, model, graph, names, type_names) -> dict:
    """Sparsity and distinct values per channel over the weight tensors of the main graph."""
    producers = {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        for t in (op.OutputsAsNumpy() if op.OutputsLength() else ()):
            producers[int(t)] = op
    seen: set[int] = set()
    zeros = total = max_unique = 0
    dtypes: set[str] = set()
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        kind = op_name(model, op, names)
        if kind not in WEIGHT_OPS or op.InputsLength() < 2:
            continue
        index = _stored_weight_index(model, graph, int(op.Inputs(1)), producers, names)
        if index is None or index in seen:
            continue
        seen.add(index)
        values, reason = tensor_values(data, model, graph.Tensors(index), type_names)
        if values is None:
            return {"unavailable_reason": reason}
        dtypes.add(str(values.dtype))
        zeros += int(np.count_nonzero(values == 0))
        total += int(values.size)
        max_unique = max(max_unique, _max_unique_per_channel(values, _CHANNEL_AXIS[kind]))
    if total == 0:
        return {"unavailable_reason": "no constant CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED "
                                      "weights in the main graph"}
    return {"sparsity": zeros / total, "max_unique_weights_per_channel": max_unique,
            "weight_params": total, "weight_dtypes": tuple(sorted(dtypes))}


def _stored_weight_index(model, graph, index: int, producers: dict, names) -> int | None:
    """The tensor holding a weight's stored bytes: itself, or the constant input of the
    DEQUANTIZE / DENSIFY op that produces it."""
    if index < 0:
        return None
    producer = producers.get(index)
    if producer is None:
        return index
    # DEQUANTIZE: float16 / weight-only layouts; DENSIFY: sparse-encoded weights.
    if op_name(model, producer, names) in ("DEQUANTIZE", "DENSIFY") and producer.InputsLength():
        source = int(producer.Inputs(0))
        return source if source not in producers else None
    return None  # computed at run time (e.g. a weight fed as an activation): not a stored weight


def tensor_shape(tensor) -> tuple:
    """A tensor's shape from the flatbuffer: ``()`` for a scalar, whose shape vector is absent
    (the generated reader then returns the int 0, not an array)."""
    return tuple(int(v) for v in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()


def tensor_values(data: bytes, model, tensor, type_names) -> tuple[np.ndarray | None, str | None]:
    """The stored values of a constant tensor as a shaped array, or ``(None, reason)``."""
    name = tensor.Name().decode(errors="replace")
    if tensor.Sparsity() is not None:
        return None, (f"weight '{name}' is sparse-encoded (EXPERIMENTAL_SPARSITY); its zeros are "
                      "not stored, so sparsity is not measured from the file")
    if hasattr(tensor, "ExternalBuffer") and tensor.ExternalBuffer():
        return None, f"weight '{name}' is stored outside the .tflite file"
    buffer = model.Buffers(tensor.Buffer())
    if buffer.Offset() > 1:
        # Large models keep buffers after the flatbuffer and point at them by offset.
        raw = np.frombuffer(data, np.uint8, count=buffer.Size(), offset=buffer.Offset())
    elif buffer.DataLength():
        raw = buffer.DataAsNumpy()
    else:
        return None, f"weight '{name}' has no stored data"
    type_name = type_names.get(tensor.Type(), "")
    shape = tensor_shape(tensor)
    if type_name == "INT4":
        # Two signed 4-bit values per byte, low nibble first.
        low = (raw & 0x0F).astype(np.int8)
        high = (raw >> 4).astype(np.int8)
        values = np.stack([low, high], axis=-1).reshape(-1)
        values = np.where(values > 7, values - 16, values).astype(np.int8)[: int(np.prod(shape))]
    elif type_name in _NUMPY_TYPES:
        values = raw.view(_NUMPY_TYPES[type_name])
    else:
        return None, f"weight '{name}' has type {type_name or tensor.Type()}, which is not read"
    if values.size != int(np.prod(shape)):
        return None, f"weight '{name}' holds {values.size} values for shape {list(shape)}"
    return values.reshape(shape), None


def _max_unique_per_channel(values: np.ndarray, axis: int) -> int:
    if values.ndim == 0:
        return 1
    channels = np.moveaxis(values, axis, 0).reshape(values.shape[axis], -1)
    # Sorting each row and counting changes is one vectorised pass (np.unique per row is slow
    # on models with thousands of channels).
    ordered = np.sort(channels, axis=1)
    distinct = 1 + np.count_nonzero(ordered[:, 1:] != ordered[:, :-1], axis=1)
    return int(distinct.max()) if distinct.size else 0
