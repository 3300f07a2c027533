"""The ops of a ``.tflite`` as Model Explorer names them, and the precision each computes in.

Model Explorer's TFLite adapter gives each op of the main graph (subgraph 0) the node id
``str(op index)`` -- the order TFLite runs them in -- and lists its output tensor names under
``tensor_name``; overlays (node data) are keyed by either. ``read_ops`` reads both from the
flatbuffer (no TensorFlow, no interpreter, no adapter), so an overlay can be built, and
downloaded, for any file; ``tests/test_graph.py`` checks the ids against the adapter's own.

``precision`` names what an op computes in, from its tensors' types as stored in the file:
the activations it reads and writes, and its weights (a constant input, or the constant
behind the DEQUANTIZE op that feeds it -- the float16 and weight-only layouts). So it works for
every variant: plain int8, int16x8, dynamic range, float16, the keep-in-float repair (ops left
in float inside an int8 model) and a per-layer mixed plan.
"""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.measuring.facts import enum_names, load_model, op_name
from optimizer.text import N_

INT8 = frozenset({"int8", "uint8"})
FLOATS = frozenset({"float32", "float16", "float64"})
CONVERT_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})


@dataclass(frozen=True)
class Tensor:
    """One tensor an op reads or writes: its name, stored type and whether it is a constant
    (``dtype`` of a constant fed through DEQUANTIZE is the stored one, e.g. float16)."""

    name: str
    dtype: str
    constant: bool


@dataclass(frozen=True)
class Op:
    """One op of the main graph: ``node_id`` is Model Explorer's id for it."""

    index: int
    op: str
    inputs: tuple
    outputs: tuple

    @property
    def node_id(self) -> str:
        return str(self.index)

    @property
    def output_names(self) -> tuple:
        return tuple(t.name for t in self.outputs)


def read_ops(path_or_bytes) -> tuple:
    """Every op of subgraph 0 in execution order (``Op``). ``ValueError`` for a file that is
    not a ``.tflite``."""
    _data, schema, model = load_model(path_or_bytes)
    names = enum_names(schema.BuiltinOperator)
    types = enum_names(schema.TensorType)
    graph = model.Subgraphs(0)
    raw = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        name = op_name(model, op, names)
        ins = [int(t) for t in (op.InputsAsNumpy() if op.InputsLength() else ())]
        outs = [int(t) for t in (op.OutputsAsNumpy() if op.OutputsLength() else ())]
        raw.append((name, ins, outs))
    producer = {t: (name, ins) for name, ins, outs in raw for t in outs}

    def tensor(index: int) -> Tensor:
        t = graph.Tensors(index)
        buffer = model.Buffers(t.Buffer())
        constant = buffer.DataLength() > 0 or buffer.Offset() > 1
        dtype = types.get(t.Type(), str(t.Type())).lower()
        made_by = producer.get(index)
        if made_by and made_by[0] in ("DEQUANTIZE", "DENSIFY") and made_by[1]:
            source = made_by[1][0]
            stored = graph.Tensors(source)
            source_buffer = model.Buffers(stored.Buffer())
            if source_buffer.DataLength() > 0 or source_buffer.Offset() > 1:
                constant, dtype = True, types.get(stored.Type(), str(stored.Type())).lower()
        return Tensor(t.Name().decode(errors="replace"), dtype, constant)

    return tuple(Op(i, name, tuple(tensor(t) for t in ins if t >= 0),
                    tuple(tensor(t) for t in outs if t >= 0))
                 for i, (name, ins, outs) in enumerate(raw))


#: Every precision ``precision`` can name, in the order the legend lists them.
PRECISIONS = ("int8", "int16x8", N_("int4 weights (float activations)"),
              N_("int8 weights (float activations)"), N_("float16 weights (float activations)"),
              "float16", "float32", N_("int32 / other"), N_("conversion"))


def precision(op: Op) -> str:
    """What ``op`` computes in: one of ``PRECISIONS``.

    ``conversion`` is a QUANTIZE / DEQUANTIZE op (between precisions, or expanding stored
    float16 weights). Activations in int16 with
    int8 weights are ``int16x8`` (the guide's name); int8 weights on float activations are the
    dynamic-range (and weight-only) layout; float16 weights are expanded to float32 before the
    op runs, so the op itself computes in float32.
    """
    if op.op in CONVERT_OPS:
        return "conversion"
    acts = {t.dtype for t in (*op.inputs, *op.outputs) if not t.constant}
    weights = {t.dtype for t in op.inputs if t.constant} - {"int32", "int64"}
    if "int16" in acts:
        return "int16x8"
    if acts & INT8:
        return "int8"
    if "float32" in acts:
        if "int4" in weights:
            return "int4 weights (float activations)"
        if weights & INT8:
            return "int8 weights (float activations)"
        if "float16" in weights:
            return "float16 weights (float activations)"
        return "float32"
    if "float16" in acts:
        return "float16"
    return "int32 / other"
