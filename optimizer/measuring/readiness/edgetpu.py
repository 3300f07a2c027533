"""Edge TPU readiness by Coral's documented requirements, checked from the file (``rules``).

The Edge TPU compiler cannot be installed here (not in Debian, not on PyPI), so this is not a
compile: it checks what Coral's "TensorFlow models on the Edge TPU" page lists -- its model
requirements (8-bit integer tensors, no non-constant int32 tensor, static tensor sizes,
constant parameters, at most 3 innermost dimensions larger than 1) and every per-op limit of its
"Supported operations" table (``LIMITS``) -- and, like the compiler, maps ops in order: the
first op that fails a requirement and every op after it run on the CPU. Each reason cites its
rule: "STRIDED_SLICE: strides must be 1 (Coral Edge TPU op table)".

Two limits of the table depend on sizes Coral does not publish ("certain reshapes might not be
mapped for large tensor sizes"; a resize "might not be mapped ... to avoid loss in precision")
and are not checked; the details say so.
"""
from __future__ import annotations

from optimizer.measuring.readiness.contract import TargetCheck
from optimizer.measuring.readiness.graph import FLOAT_TYPES, INT8_TYPES, read_graph
from optimizer.measuring.readiness.report import Readiness, count_where, grouped

SOURCE = "Coral, 'TensorFlow models on the Edge TPU' (model requirements, supported operations)"
TABLE = "Coral Edge TPU op table"
REQUIREMENTS = "Coral Edge TPU requirements"
NOT_CHECKED = ("not checked (Coral gives no sizes): RESHAPE of large tensors, RESIZE_* sizes "
               "that would lose precision; the compiler may leave those on the CPU")

#: The supported-operations table, as TFLite builtin names. UNPACK, SPLIT_V, PADV2 and the
#: bidirectional LSTM are not in it: they fall back as unsupported.
SUPPORTED = frozenset({
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "EXPAND_DIMS",
    "FULLY_CONNECTED", "L2_NORMALIZATION", "LOGISTIC", "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MUL", "PACK", "PAD", "PRELU", "QUANTIZE",
    "REDUCE_MAX", "REDUCE_MIN", "RELU", "RELU6", "RELU_N1_TO_1", "RESHAPE", "RESIZE_BILINEAR",
    "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT",
    "SQUEEZE", "SQUARED_DIFFERENCE", "STRIDED_SLICE", "SUB", "SUM", "TANH", "TRANSPOSE",
    "TRANSPOSE_CONV",
})
SOFTMAX_MAX_ELEMENTS = 16000
#: Inputs that are model parameters (weights, biases, axes, paddings, shapes, strides): the
#: requirements say they must be constant at compile time.
PARAMETERS = {
    "CONV_2D": (1, 2), "DEPTHWISE_CONV_2D": (1, 2), "FULLY_CONNECTED": (1, 2),
    "TRANSPOSE_CONV": (0, 1, 3), "PRELU": (1,), "MEAN": (1,), "SUM": (1,), "REDUCE_MAX": (1,),
    "REDUCE_MIN": (1,), "PAD": (1,), "STRIDED_SLICE": (1, 2, 3), "SLICE": (1, 2), "SPLIT": (0,),
    "RESHAPE": (1,), "TRANSPOSE": (1,), "RESIZE_BILINEAR": (1,), "RESIZE_NEAREST_NEIGHBOR": (1,),
    "EXPAND_DIMS": (1,),
}


def _input(op, i: int):
    return op.inputs[i] if len(op.inputs) > i else None


def _axes(op, i: int, rank: int) -> set | None:
    """The op's axes (a constant input) normalized to ``0..rank-1``; None when not readable."""
    tensor = _input(op, i)
    if tensor is None or tensor.values is None:
        return None
    return {int(a) % rank for a in tensor.values.reshape(-1)} if rank else set()


def _batch(axes, rank: int) -> bool:
    """True when ``axes`` include the batch dimension (axis 0 of a tensor of rank 2 or more)."""
    return rank >= 2 and axes is not None and 0 in axes


def _no_fused(op) -> str | None:
    return "no fused activation function" if op.fused_activation else None


def _concatenation(op) -> str | None:
    if op.fused_activation:
        return "no fused activation function"
    constants = [t for t in op.inputs if t.constant]
    if constants and (len(op.inputs) != 2 or constants[0].all_zero is not True):
        return ("a constant input is allowed only as one of exactly 2 inputs and all zeros "
                "(a zero padding)")
    return None


def _dilation(op) -> str | None:
    w, h = op.options.get("dilation_w_factor", 1), op.options.get("dilation_h_factor", 1)
    return None if w == h else f"must use the same dilation in x and y (it has {h} and {w})"


def _fully_connected(op) -> str | None:
    if op.options.get("weights_format", 0) != 0:
        return "only the default weights format is supported"
    if any(t.non_one_dims > 1 for t in op.outputs):
        return "the output tensor must be one-dimensional"
    return None


def _reduction(z_multiple: bool):
    def limit(op) -> str | None:
        rank = len(op.inputs[0].shape)
        axes = _axes(op, 1, rank)
        if _batch(axes, rank):
            return "no reduction in the batch dimension"
        z = rank - 1
        if z_multiple and axes and z in axes and op.inputs[0].shape[z] % 4:
            return (f"a z-reduction needs a z-dimension that is a multiple of 4 (it has "
                    f"{op.inputs[0].shape[z]})")
        return None
    return limit


def _pack(op) -> str | None:
    rank = len(op.outputs[0].shape)
    axis = op.options.get("axis", 0) % rank if rank else 0
    return "no packing in the batch dimension" if _batch({axis}, rank) else None


def _pad(op) -> str | None:
    paddings = _input(op, 1)
    if paddings is None or paddings.values is None or len(op.inputs[0].shape) < 2:
        return None
    return ("no padding in the batch dimension"
            if any(int(v) for v in paddings.values.reshape(-1, 2)[0]) else None)


def _split(op) -> str | None:
    rank = len(op.inputs[1].shape) if len(op.inputs) > 1 else 0
    return "no splitting in the batch dimension" if _batch(_axes(op, 0, rank), rank) else None


def _prelu(op) -> str | None:
    alpha = _input(op, 1)
    if alpha is not None and any(d != 1 for d in alpha.shape[:-1]):
        return (f"alpha must be 1-dimensional (only its innermost dimension larger than 1; it "
                f"is {list(alpha.shape)}: use Keras PReLU with shared_axes=[1, 2])")
    return None


def _resize(op) -> str | None:
    tensors = (op.inputs[0], *op.outputs)
    if any(len(t.shape) == 4 and t.shape[0] != 1 for t in tensors):
        return "input and output must be 3-dimensional tensors (a batch of 1)"
    return None


def _softmax(op) -> str | None:
    shape = op.inputs[0].shape if op.inputs else ()
    elements = 1
    for d in shape:
        elements *= d
    if sum(1 for d in shape if d != 1) > 1 or elements > SOFTMAX_MAX_ELEMENTS:
        return (f"only a 1-D input of at most {SOFTMAX_MAX_ELEMENTS:,} elements (it has "
                f"{list(shape)})")
    return None


def _squeeze(op) -> str | None:
    shape = op.inputs[0].shape
    dims = op.options.get("squeeze_dims") or tuple(i for i, d in enumerate(shape) if d == 1)
    first = next((i for i, d in enumerate(shape) if d != 1), len(shape))
    if any(int(d) % max(len(shape), 1) > first for d in dims):
        return (f"only leading dimensions of 1 may be squeezed (no relayout; it squeezes "
                f"{sorted(int(d) for d in dims)} of {list(shape)})")
    return None


def _strided_slice(op) -> str | None:
    strides = _input(op, 3)
    if strides is not None and strides.values is not None and \
            any(int(s) != 1 for s in strides.values.reshape(-1)):
        return f"strides must be 1 (it has {[int(s) for s in strides.values.reshape(-1)]})"
    if op.options.get("ellipsis_mask", 0):
        return "ellipsis_mask must be 0"
    if op.options.get("new_axis_mask", 0):
        return "new_axis_mask must be 0"
    return None


#: Every per-op limit of the table, by TFLite builtin name (ops without limits are absent).
LIMITS = {
    "AVERAGE_POOL_2D": _no_fused, "MAX_POOL_2D": _no_fused, "CONCATENATION": _concatenation,
    "CONV_2D": _dilation, "DEPTHWISE_CONV_2D": _dilation, "FULLY_CONNECTED": _fully_connected,
    "MEAN": _reduction(True), "SUM": _reduction(True), "REDUCE_MAX": _reduction(False),
    "REDUCE_MIN": _reduction(False), "PACK": _pack, "PAD": _pad, "SPLIT": _split,
    "PRELU": _prelu, "RESIZE_BILINEAR": _resize, "RESIZE_NEAREST_NEIGHBOR": _resize,
    "SOFTMAX": _softmax, "SQUEEZE": _squeeze, "STRIDED_SLICE": _strided_slice,
}


def _requirement(op) -> str | None:
    """The model requirement ``op`` breaks before its own limits are looked at, or None."""
    kinds = {t.dtype for t in op.activations}
    if kinds & FLOAT_TYPES:
        return "computes in float: only 8-bit integer ops run on the Edge TPU"
    if "int32" in kinds:
        return "non-constant int32 tensors are not supported (8-bit tensors only)"
    if kinds - INT8_TYPES:
        return f"{'/'.join(sorted(kinds - INT8_TYPES))} tensors: only 8-bit tensors are supported"
    if any(t.dynamic for t in op.activations):
        return "a tensor size is only known at run time: sizes must be static"
    variable = [i for i in PARAMETERS.get(op.name, ()) if len(op.inputs) > i
                and not op.inputs[i].constant]
    if variable:
        return f"model parameters must be constant (input {variable[0]} is computed)"
    return None


def op_problem(op) -> str | None:
    """Why the Edge TPU would not take ``op`` (a ``graph.OpInfo``), citing the rule; None
    when it would."""
    if op.name not in SUPPORTED:
        return f"{op.name}: not in the Edge TPU's supported operations ({TABLE})"
    broken = _requirement(op)
    if broken:
        return f"{op.name}: {broken} ({REQUIREMENTS})"
    limit = LIMITS.get(op.name)
    broken = limit(op) if limit is not None else None
    if broken:
        return f"{op.name}: {broken} ({TABLE})"
    if any(len(t.shape) > 3 and sum(1 for d in t.shape[:-3] if d != 1) for t in op.activations):
        return (f"{op.name}: a tensor has more than 3 innermost dimensions larger than 1 "
                f"({REQUIREMENTS})")
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
                                         "edgetpu_compiler", "not_checked": NOT_CHECKED}
    if io:
        kinds = sorted({t.dtype for t in io})
        summary = (f"Not ready (rules): input/output is {'/'.join(kinds)}; the Edge TPU needs "
                   f"int8/uint8 input and output (convert integer-only)")
        if first is not None:
            summary += f"; first op to fall back: #{first[0].index} {first[1]}"
        return Readiness(str(target), "rules", False, summary + ".", ops, None, None, details)
    if first is None:
        return Readiness(str(target), "rules", True,
                         f"Ready (rules): all {len(graph.ops)} ops meet the Edge TPU's documented "
                         f"requirements and op limits; edgetpu_compiler itself was not run.", ops,
                         None, None, details)
    after = count_where(ops, "cpu") - 1
    return Readiness(str(target), "rules", False,
                     f"Not ready (rules): op #{first[0].index} would fall back to the CPU "
                     f"({first[1]}), and the {after} op{'s' if after != 1 else ''} after it "
                     f"with it.", ops, None, None, details)


CHECK = TargetCheck(method="rules", run=check, version="coral-op-table 2")
