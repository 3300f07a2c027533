"""Each layer's precision as a ``.tflite`` file really has it, and the names layers go by.

A *layer* here is one compute op of the file's main graph, named by ``short_layer_name`` from
its output tensor's name (``"model/dense/MatMul;model/dense/Relu"`` -> ``dense``), repeated
names numbered (``dense #2``) by ``unique_names``. The same names key a mixed-precision plan
(``guide.precision.LayerPlan``), the per-layer error and sensitivity reports, and a result's
``layer_precision``. QUANTIZE and DEQUANTIZE ops are conversions between layers (the LiteRT
Quantizer inserts them between int8, int16 and float layers), not layers, so they are skipped
and the other ops keep the names they had in the float file.

A layer's precision is read from the type of the activation it writes: ``int8`` (int8 or
uint8), ``int16`` (int16 activations, the int16x8 scheme) or ``float`` (float32 / float16: a
float op, including weight-only and dynamic-range ops, which compute in float). Ops writing
integer indices or shapes (int32, int64, bool) are not layers.

``short_layer_name`` and ``unique_names`` are self-contained (only ``re``): the reproduce
script embeds their source, so a script finds the same layers as the engine did.
Only LiteRT's flatbuffer schema is read (no TensorFlow, no interpreter).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from optimizer.measuring.facts import enum_names, load_model

#: Ops that convert between precisions: not layers.
CONVERSION_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})
#: Activation dtype -> precision word.
PRECISION_OF = {"int8": "int8", "uint8": "int8", "int16": "int16", "float32": "float",
                "float16": "float"}


def short_layer_name(tensor_name, op=""):
    """A readable layer name from an op's (fused) output tensor name.

    ``"sequential/dense/MatMul;sequential/dense/Relu;sequential/dense/BiasAdd"`` -> ``dense``:
    the part naming the weight op (Conv2D, MatMul, depthwise) is preferred, and its second path
    component (model/layer/op) is the Keras layer. A name without a path (the graph output,
    ``Identity``) becomes the op in lower case plus `` (output)``.
    """
    import re

    weight_ops = re.compile(r"(Conv2D|MatMul|depthwise|DepthwiseConv2dNative|conv1d)", re.I)
    parts = [p for p in str(tensor_name).split(";") if p]
    if not parts:
        return op.lower() or "?"
    ranked = sorted(parts, key=lambda p: (0 if weight_ops.search(p.split("/")[-1]) else
                                          1 if "BiasAdd" in p else 2))
    comps = ranked[0].split("/")
    if len(comps) >= 3:
        return comps[1]
    if len(comps) == 2:
        return comps[0] if comps[0] and not comps[0][0].isdigit() else comps[1]
    return f"{op.lower()} (output)" if op else comps[0]


def unique_names(names):
    """The names with repeats numbered in order: ``[a, a, b]`` -> ``[a, a #2, b]``."""
    seen = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name} #{count + 1}")
    return out


@dataclass(frozen=True)
class LayerOp:
    """One layer of a ``.tflite``: its op index in the main graph, name, op type, output
    tensor name, precision (``int8`` / ``int16`` / ``float``) and whether it reads a graph
    input or writes a graph output directly (``reads_input``, ``writes_output``: an integer
    input or output follows its layer's precision)."""

    index: int
    name: str
    op: str
    tensor: str
    precision: str
    reads_input: bool = False
    writes_output: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def layer_ops(path_or_bytes) -> list[LayerOp]:
    """Every layer of the file's main graph, in execution order (see the module docstring).
    Raises ``ValueError`` when the bytes are not a ``.tflite``."""
    _, schema, model = load_model(path_or_bytes)
    codes = enum_names(schema.BuiltinOperator)
    types = enum_names(schema.TensorType)
    graph = model.Subgraphs(0)
    inputs = {int(graph.Inputs(i)) for i in range(graph.InputsLength())}
    outputs = {int(graph.Outputs(i)) for i in range(graph.OutputsLength())}
    # a graph input reached only through QUANTIZE/DEQUANTIZE ops still counts as "read"
    produced_from_input = set(inputs)
    raw = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        name = codes.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM")
        ins = [int(t) for t in (op.InputsAsNumpy() if op.InputsLength() else ()) if int(t) >= 0]
        outs = [int(t) for t in (op.OutputsAsNumpy() if op.OutputsLength() else ())]
        if name in CONVERSION_OPS:
            if any(t in produced_from_input for t in ins):
                produced_from_input.update(outs)
            continue
        if not outs:
            continue
        tensor = graph.Tensors(outs[0])
        dtype = types.get(tensor.Type(), str(tensor.Type())).lower()
        if dtype not in PRECISION_OF:   # index and shape arithmetic (int32, bool): no layer
            continue
        raw.append((i, name, tensor.Name().decode(errors="replace"), PRECISION_OF[dtype],
                    any(t in produced_from_input for t in ins), outs[0] in outputs))
    names = unique_names([short_layer_name(t, op) for _, op, t, *_ in raw])
    return [LayerOp(i, n, op, t, p, reads, writes)
            for (i, op, t, p, reads, writes), n in zip(raw, names)]


def layer_precision(path_or_bytes) -> dict:
    """``{layer name: "int8" | "int16" | "float"}`` as the file has it, in graph order."""
    return {layer.name: layer.precision for layer in layer_ops(path_or_bytes)}


def precision_counts(precisions: dict) -> dict:
    """``{"int8": n, "int16": n, "float": n}``: how many layers have each precision."""
    out = {"int8": 0, "int16": 0, "float": 0}
    for value in precisions.values():
        out[value] = out.get(value, 0) + 1
    return out
