"""The main graph of a ``.tflite`` as the rule checks need it: ops in execution order, each
with its tensors' types, shapes and (for constants) stored values, and the builtin options the
rules read (strides masks, dilations, axes), from the flatbuffer (no TensorFlow, no interpreter).

TFLite runs the operators of subgraph 0 in the order they are stored, which is also the order
the Edge TPU compiler maps them ("the first op it cannot map and everything after it run on the
CPU"), so ``graph_ops`` keeps that order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.measuring.facts import enum_names, load_model, op_name, tensor_shape, tensor_values

FLOAT_TYPES = frozenset({"float32", "float16", "float64"})
INT8_TYPES = frozenset({"int8", "uint8"})


@dataclass(frozen=True)
class TensorInfo:
    """One tensor an op reads or writes: dtype name, stored shape, dynamic dims, constant, and
    a constant's stored values (None for activations or values that cannot be read)."""

    dtype: str
    shape: tuple
    signature: tuple
    constant: bool
    values: np.ndarray | None = field(default=None, compare=False, repr=False)
    zero_points: tuple = ()

    @property
    def all_zero(self) -> bool | None:
        """True when every stored value is a real zero (its zero point, when quantized);
        None when the values cannot be read."""
        if self.values is None:
            return None
        zero = self.zero_points[0] if len(set(self.zero_points)) == 1 else 0
        return bool(np.all(self.values.astype(np.int64 if self.values.dtype.kind in "iub"
                                              else np.float64) == zero))

    @property
    def dynamic(self) -> bool:
        """True when a dimension after the batch is only known at run time (-1 signature)."""
        return any(d == -1 for d in self.signature[1:])

    @property
    def non_one_dims(self) -> int:
        return sum(1 for d in self.shape if d != 1)


@dataclass(frozen=True)
class OpInfo:
    """One operator of the main graph, in execution order."""

    index: int
    name: str
    inputs: tuple
    outputs: tuple
    fused_activation: str | None = None
    options: dict = field(default_factory=dict, compare=False)

    @property
    def activations(self) -> tuple:
        """The non-constant tensors it reads and writes (what the op computes on)."""
        return tuple(t for t in (*self.inputs, *self.outputs) if not t.constant)

    def computes_in(self, kinds: frozenset) -> bool:
        return any(t.dtype in kinds for t in self.activations)


@dataclass(frozen=True)
class Graph:
    """Ops of subgraph 0 plus the model's input and output tensors."""

    ops: tuple
    inputs: tuple
    outputs: tuple
    subgraphs: int


def read_graph(path_or_bytes) -> Graph:
    """Parse a ``.tflite`` (path or bytes). Raises ``ValueError`` when it is not one."""
    data, schema, model = load_model(path_or_bytes)
    names = enum_names(schema.BuiltinOperator)
    types = enum_names(schema.TensorType)
    activations = enum_names(schema.ActivationFunctionType)
    graph = model.Subgraphs(0)

    def tensor(i: int) -> TensorInfo:
        t = graph.Tensors(i)
        buffer = model.Buffers(t.Buffer())
        shape = tensor_shape(t)
        signature = (tuple(int(v) for v in t.ShapeSignatureAsNumpy())
                     if t.ShapeSignatureLength() else shape)
        constant = buffer.DataLength() > 0 or buffer.Offset() > 1
        values = tensor_values(data, model, t, types)[0] if constant else None
        quantization = t.Quantization()
        zeros = (tuple(int(v) for v in quantization.ZeroPointAsNumpy())
                 if quantization is not None and quantization.ZeroPointLength() else ())
        return TensorInfo(types.get(t.Type(), str(t.Type())).lower(), shape, signature, constant,
                          values, zeros)

    ops = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        name = op_name(model, op, names)
        ins = tuple(tensor(int(t)) for t in (op.InputsAsNumpy() if op.InputsLength() else ())
                    if int(t) >= 0)
        outs = tuple(tensor(int(t)) for t in (op.OutputsAsNumpy() if op.OutputsLength() else ()))
        options = _options(schema, op)
        fused = options.pop("fused_activation_function", None)
        ops.append(OpInfo(i, name, ins, outs,
                          None if fused in (None, 0) else activations.get(fused, str(fused)),
                          options))
    return Graph(tuple(ops), tuple(tensor(int(graph.Inputs(i))) for i in range(graph.InputsLength())),
                 tuple(tensor(int(graph.Outputs(i))) for i in range(graph.OutputsLength())),
                 model.SubgraphsLength())


def op_counts(ops) -> dict:
    """``{op name: count}`` in first-seen order."""
    counts: dict[str, int] = {}
    for op in ops:
        counts[op.name] = counts.get(op.name, 0) + 1
    return counts


#: The builtin options the rules read, by their BuiltinOptions union name (snake_case keys).
_OPTION_FIELDS = {
    "Pool2DOptions": ("FusedActivationFunction",),
    "ConcatenationOptions": ("FusedActivationFunction", "Axis"),
    "Conv2DOptions": ("FusedActivationFunction", "DilationWFactor", "DilationHFactor"),
    "DepthwiseConv2DOptions": ("FusedActivationFunction", "DilationWFactor", "DilationHFactor"),
    "FullyConnectedOptions": ("FusedActivationFunction", "WeightsFormat"),
    "AddOptions": ("FusedActivationFunction",),
    "MulOptions": ("FusedActivationFunction",),
    "SubOptions": ("FusedActivationFunction",),
    "StridedSliceOptions": ("BeginMask", "EndMask", "EllipsisMask", "NewAxisMask",
                            "ShrinkAxisMask"),
    "PackOptions": ("Axis", "ValuesCount"),
    "UnpackOptions": ("Axis", "Num"),
    "SqueezeOptions": ("SqueezeDims",),
    "ReducerOptions": ("KeepDims",),
}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _options(schema, op) -> dict:
    """``{snake_case field: value}`` of the op's builtin options that the rules read."""
    kind = op.BuiltinOptionsType()
    for name, wanted in _OPTION_FIELDS.items():
        if kind != getattr(schema.BuiltinOptions, name, -1):
            continue
        table = op.BuiltinOptions()
        if table is None:
            return {}
        options = getattr(schema, name)()
        options.Init(table.Bytes, table.Pos)
        values = {}
        for attr in wanted:
            if hasattr(options, f"{attr}AsNumpy"):  # a vector field, e.g. SqueezeDims
                length = getattr(options, f"{attr}Length")()
                values[_snake(attr)] = (tuple(int(v) for v in getattr(options, f"{attr}AsNumpy")())
                                        if length else ())
            elif hasattr(options, attr):
                values[_snake(attr)] = int(getattr(options, attr)())
        return values
    return {}
