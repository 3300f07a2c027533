"""GPU delegate readiness by the delegate's documented op list and number formats (``rules``).

No GPU delegate can run on this host (it needs OpenCL, Vulkan or WebGPU), and TensorFlow's
``Analyzer(gpu_compatibility=True)`` is not evidence (it called models made of CUMSUM, ATAN2,
REDUCE_PROD and TOPK_V2 compatible). So this checks the file against the GPU delegate's
documented supported-op list and its float32/float16 requirement; on Android the delegate also
takes quantized models (the guide lists int8 files for the GPU on Android). Unsupported ops run
on the CPU in their own partitions; the model is ready when every op is on the GPU.
"""
from __future__ import annotations

from optimizer.guide.targets import Target
from optimizer.measuring.readiness.contract import TargetCheck
from optimizer.measuring.readiness.graph import FLOAT_TYPES, read_graph
from optimizer.measuring.readiness.report import Readiness, count_where, grouped

SOURCE = "LiteRT GPU delegate documentation (supported ops)"

SUPPORTED = frozenset({
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "EXP",
    "FULLY_CONNECTED", "LOGICAL_AND", "LOGISTIC", "LSTM", "MAX_POOL_2D", "MAXIMUM", "MINIMUM",
    "MUL", "PAD", "PRELU", "RELU", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "SOFTMAX",
    "STRIDED_SLICE", "SUB", "TRANSPOSE_CONV",
})
# float16 weights sit behind DEQUANTIZE ops that the delegate folds into float16 constants.
FOLDED = frozenset({"DEQUANTIZE"})
QUANTIZED_IO = frozenset({"QUANTIZE", "DEQUANTIZE"})


def op_problem(op, android: bool) -> str | None:
    """Why the GPU delegate would leave ``op`` to the CPU; None when it takes it."""
    if op.name in FOLDED and all(t.constant for t in op.inputs):
        return None
    if android and op.name in QUANTIZED_IO:
        return None
    if op.name not in SUPPORTED:
        return f"{op.name} is not in the GPU delegate's supported ops"
    if any(t.dtype == "int16" for t in (*op.inputs, *op.outputs)):
        return "int16 tensors (int16x8): GPU delegates do not support them"
    if not android and not op.computes_in(FLOAT_TYPES):
        return "integer op: the desktop GPU delegate runs float32/float16 models"
    if not android and any(t.constant and t.dtype in ("int8", "uint8") for t in op.inputs):
        return ("int8 weights (dynamic range): the desktop GPU delegate runs float32/float16 "
                "models")
    return None


def check(path, target, options) -> Readiness:
    """Check ``path`` against the GPU delegate's documented ops (labelled ``rules``)."""
    android = str(target) == Target.GPU_ANDROID.value
    graph = read_graph(path)
    placements = []
    for op in graph.ops:
        problem = op_problem(op, android)
        placements.append((op.name, "cpu" if problem else "accelerator", problem))
    ops = grouped(placements)
    on_cpu = count_where(ops, "cpu")
    details = {"source": SOURCE, "note": "rules: no GPU delegate ran here; TensorFlow's GPU "
                                         "compatibility analyzer is not used (it is unreliable)"}
    if not on_cpu:
        summary = (f"Ready (rules): all {len(graph.ops)} ops are in the GPU delegate's documented "
                   f"op list{'' if android else ' and compute in float'}; not run on a GPU here.")
        return Readiness(str(target), "rules", True, summary, ops, None, None, details)
    names = sorted({o.op for o in ops if o.where == "cpu"})
    summary = (f"Not ready (rules): {on_cpu} of {len(graph.ops)} ops would stay on the CPU "
               f"({', '.join(names)}), splitting the graph between GPU and CPU.")
    return Readiness(str(target), "rules", False, summary, ops, None, None, details)


CHECK = TargetCheck(method="rules", run=check, version="gpu-delegate-ops 1")
