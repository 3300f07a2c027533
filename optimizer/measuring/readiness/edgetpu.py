"""Edge TPU readiness by Coral's documented requirements, checked from the file (``rules``).

The Edge TPU compiler cannot be installed here (not in Debian, not on PyPI), so this is not a
compile: it checks the requirements Coral's "TensorFlow models on the Edge TPU" page lists --
8-bit integer tensors and ops with int8/uint8 input and output, static tensor sizes, tensors with
at most 3 innermost dimensions larger than 1, and only the supported operations with their
known limitations -- and, like the compiler, maps ops in order: the first op that fails a
requirement and every op after it run on the CPU.
"""
from __future__ import annotations

from optimizer.measuring.readiness.graph import FLOAT_TYPES, INT8_TYPES, read_graph
from optimizer.measuring.readiness.report import Readiness, count_where, grouped

SOURCE = "Coral, 'TensorFlow models on the Edge TPU' (supported operations and requirements)"

#: The supported-operations table, as TFLite builtin names.
SUPPORTED = frozenset({
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "EXPAND_DIMS",
    "FULLY_CONNECTED", "L2_NORMALIZATION", "LOGISTIC", "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MUL", "PACK", "PAD", "PRELU", "QUANTIZE",
    "REDUCE_MAX", "REDUCE_MIN", "RELU", "RELU6", "RELU_N1_TO_1", "RESHAPE", "RESIZE_BILINEAR",
    "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT",
    "SQUEEZE", "SQUARED_DIFFERENCE", "STRIDED_SLICE", "SUB", "SUM", "TANH", "TRANSPOSE",
    "TRANSPOSE_CONV",
})
#: Ops the table lists with "no fused activation function".
NO_FUSED_ACTIVATION = frozenset({"AVERAGE_POOL_2D", "CONCATENATION", "MAX_POOL_2D"})
SOFTMAX_MAX_ELEMENTS = 16000


def op_problem(op) -> str | None:
    """Why the Edge TPU would not take ``op`` (a ``graph.OpInfo``); None when it would."""
    if op.name not in SUPPORTED:
        return f"{op.name} is not in the Edge TPU's supported operations"
    kinds = {t.dtype for t in op.activations}
    if kinds & FLOAT_TYPES:
        return "computes in float: the Edge TPU runs only 8-bit integer ops"
    if kinds - INT8_TYPES - {"int32"}:
        return f"{'/'.join(sorted(kinds - INT8_TYPES))} tensors: the Edge TPU needs 8-bit ones"
    if any(t.dynamic for t in op.activations):
        return "a tensor size is only known at run time: the Edge TPU needs static sizes"
    if any(len(t.shape) > 3 and sum(1 for d in t.shape[:-3] if d != 1) for t in op.activations):
        return "a tensor has more than 3 innermost dimensions larger than 1"
    if op.name in NO_FUSED_ACTIVATION and op.fused_activation:
        return f"{op.name} with a fused {op.fused_activation} (the table allows none)"
    if op.name == "FULLY_CONNECTED" and any(t.non_one_dims > 1 for t in op.outputs):
        return "FULLY_CONNECTED with a multi-dimensional output (the table: one-dimensional)"
    if op.name == "SOFTMAX":
        shape = op.inputs[0].shape if op.inputs else ()
        elements = 1
        for d in shape:
            elements *= d
        if sum(1 for d in shape if d != 1) > 1 or elements > SOFTMAX_MAX_ELEMENTS:
            return (f"SOFTMAX on {list(shape)}: the table allows a 1-D input of at most "
                    f"{SOFTMAX_MAX_ELEMENTS:,} elements")
    return None


def check(path, target, options) -> Readiness:
    """Check ``path`` against the Edge TPU's documented requirements (labelled ``rules``)."""
    graph = read_graph(path)
    io = [t for t in (*graph.inputs, *graph.outputs) if t.dtype not in INT8_TYPES]
    placements, first = [], None
    for op in graph.ops:
        if first is None:
            problem = op_problem(op)
            if problem is None:
                placements.append((op.name, "accelerator", None))
                continue
            first = (op, problem)
            placements.append((op.name, "cpu", problem))
        else:
            placements.append((op.name, "cpu", f"after the first op that falls back "
                                               f"({first[0].name} #{first[0].index})"))
    ops = grouped(placements)
    details = {"source": SOURCE, "note": "rules: checked from the file, not compiled with "
                                         "edgetpu_compiler"}
    if io:
        kinds = sorted({t.dtype for t in io})
        summary = (f"Not ready (rules): input/output is {'/'.join(kinds)}; the Edge TPU needs "
                   f"int8/uint8 input and output (convert integer-only)")
        if first is not None:
            summary += f"; first op to fall back: {first[0].name} #{first[0].index} ({first[1]})"
        return Readiness(str(target), "rules", False, summary + ".", ops, None, None, details)
    if first is None:
        return Readiness(str(target), "rules", True,
                         f"Ready (rules): all {len(graph.ops)} ops meet the Edge TPU's documented "
                         f"requirements; edgetpu_compiler itself was not run.", ops, None, None,
                         details)
    after = count_where(ops, "cpu") - 1
    return Readiness(str(target), "rules", False,
                     f"Not ready (rules): {first[0].name} #{first[0].index} would fall back to the "
                     f"CPU ({first[1]}), and the {after} op{'s' if after != 1 else ''} after it "
                     f"with it.", ops, None, None, details)
