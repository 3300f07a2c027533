"""The number format of a ``.tflite``, read from the file itself, and how a file measured as it
was uploaded is named ("as uploaded (int8)").

A ``.tflite`` from elsewhere may already be quantized; its measurement is then not a float32
baseline, and the post-training techniques (which start from float weights) do not apply to
it. ``tflite_format`` tells which of ``optimizer.guide.targets.Format`` a file is in, from the
dtypes of what its ops compute on (QUANTIZE / DEQUANTIZE excluded) and of its constant weights:

- int16 activations: ``int16x8``;
- int8 activations: ``int8-only`` with 8-bit input and output and no float op, else
  ``int8-float-io``;
- float activations with int8 weights: ``dynamic-range``; with float16 weights: ``float16``;
- otherwise ``float32``.
"""
from __future__ import annotations

from optimizer.guide.targets import Format
from optimizer.measuring.readiness.graph import FLOAT_TYPES, INT8_TYPES, read_graph
from optimizer.text import N_

#: How each format is named after "as uploaded" (message ids).
FORMAT_WORDS = {
    Format.FLOAT32: "float32",
    Format.FLOAT16: N_("float16 weights"),
    Format.DYNAMIC_RANGE: N_("dynamic range: int8 weights"),
    Format.INT8_FLOAT_IO: N_("int8, float input/output"),
    Format.INT8_ONLY: "int8",
    Format.INT16X8: "int16x8",
}
#: The recorded name of a file measured as uploaded (a message id, read back where shown).
UPLOADED = N_("as uploaded ({format})")
_EDGES = frozenset({"QUANTIZE", "DEQUANTIZE"})


def tflite_format(path_or_bytes) -> Format:
    """The ``Format`` of a ``.tflite`` (path or bytes); ``ValueError`` when it is not one."""
    graph = read_graph(path_or_bytes)
    computed = {t.dtype for op in graph.ops if op.name not in _EDGES for t in op.activations}
    weights = {t.dtype for op in graph.ops for t in op.inputs if t.constant}
    if "int16" in computed:
        return Format.INT16X8
    if computed & INT8_TYPES:
        io = {t.dtype for t in (*graph.inputs, *graph.outputs)}
        return (Format.INT8_ONLY if io <= INT8_TYPES and not computed & FLOAT_TYPES
                else Format.INT8_FLOAT_IO)
    if weights & INT8_TYPES or "int4" in weights:
        return Format.DYNAMIC_RANGE
    if "float16" in weights:
        return Format.FLOAT16
    return Format.FLOAT32


def uploaded_label(fmt: Format) -> str | None:
    """The name of a file measured as uploaded when it is not float32: "as uploaded (int8)"."""
    fmt = Format(fmt)
    return None if fmt == Format.FLOAT32 else UPLOADED.format(format=FORMAT_WORDS[fmt])


def quantized_blocker(fmt: Format) -> str | None:
    """Why post-training quantization cannot start from a file in ``fmt`` (None for float32)."""
    fmt = Format(fmt)
    if fmt == Format.FLOAT32:
        return None
    return (f"this .tflite is already quantized ({FORMAT_WORDS[fmt]}), and post-training "
            f"quantization starts from float weights: upload the float .tflite or the Keras "
            f"model to compare techniques")
