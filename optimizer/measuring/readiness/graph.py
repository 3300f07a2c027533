"""The main graph of a ``.tflite`` as the rule checks need it: ops in execution order, each
with its tensors' types and shapes, read from the flatbuffer (no TensorFlow, no interpreter).

TFLite runs the operators of subgraph 0 in the order they are stored, which is also the order
the Edge TPU compiler maps them ("the first op it cannot map and everything after it run on the
CPU"), so ``graph_ops`` keeps that order.
"""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.measuring.facts import enum_names, load_model

FLOAT_TYPES = frozenset({"float32", "float16", "float64"})
INT8_TYPES = frozenset({"int8", "uint8"})


@dataclass(frozen=True)
class TensorInfo:
    """One tensor an op reads or writes: dtype name, stored shape, dynamic dims, constant."""

    dtype: str
    shape: tuple
    signature: tuple
    constant: bool

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
    _data, schema, model = load_model(path_or_bytes)
    names = enum_names(schema.BuiltinOperator)
    types = enum_names(schema.TensorType)
    activations = enum_names(schema.ActivationFunctionType)
    graph = model.Subgraphs(0)

    def tensor(i: int) -> TensorInfo:
        t = graph.Tensors(i)
        buffer = model.Buffers(t.Buffer())
        shape = tuple(int(v) for v in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        signature = (tuple(int(v) for v in t.ShapeSignatureAsNumpy())
                     if t.ShapeSignatureLength() else shape)
        constant = buffer.DataLength() > 0 or buffer.Offset() > 1
        return TensorInfo(types.get(t.Type(), str(t.Type())).lower(), shape, signature, constant)

    ops = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = names.get(builtin, f"BUILTIN_{builtin}")
        if name == "CUSTOM" and code.CustomCode():
            name = f"CUSTOM:{code.CustomCode().decode()}"
        ins = tuple(tensor(int(t)) for t in (op.InputsAsNumpy() if op.InputsLength() else ())
                    if int(t) >= 0)
        outs = tuple(tensor(int(t)) for t in (op.OutputsAsNumpy() if op.OutputsLength() else ()))
        ops.append(OpInfo(i, name, ins, outs, _fused(schema, op, activations)))
    return Graph(tuple(ops), tuple(tensor(int(graph.Inputs(i))) for i in range(graph.InputsLength())),
                 tuple(tensor(int(graph.Outputs(i))) for i in range(graph.OutputsLength())),
                 model.SubgraphsLength())


def op_counts(ops) -> dict:
    """``{op name: count}`` in first-seen order."""
    counts: dict[str, int] = {}
    for op in ops:
        counts[op.name] = counts.get(op.name, 0) + 1
    return counts


# Options tables that carry a fused activation, by their BuiltinOptions union name.
_FUSED = ("Pool2DOptions", "ConcatenationOptions", "Conv2DOptions", "DepthwiseConv2DOptions",
          "FullyConnectedOptions", "AddOptions", "MulOptions", "SubOptions")


def _fused(schema, op, activations: dict) -> str | None:
    kind = op.BuiltinOptionsType()
    for name in _FUSED:
        if kind == getattr(schema.BuiltinOptions, name, -1):
            table = op.BuiltinOptions()
            options = getattr(schema, name)()
            options.Init(table.Bytes, table.Pos)
            value = activations.get(options.FusedActivationFunction(), "NONE")
            return None if value == "NONE" else value
    return None
