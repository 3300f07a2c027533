"""Per-layer quantization error of post-training int8, and which layers to keep in float.

How it is measured -- TFLite's ``QuantizationDebugger`` (through ``quant_debug.quantization_debugger``).
The debugger quantizes the calibrated model with a float copy of every quantized op beside it
and a ``NumericVerify`` op comparing the two, runs the representative samples one by one and
averages, per op, the difference between the dequantized int8 output and the float output.

Why not the LiteRT Quantizer's ``validate`` (measured on the digits-outliers demo, 100
samples): it compares every tensor of the int8 file with the float file end to end, so error
accumulates toward the output and is in each tensor's own units: it ranked the logits (MSE
18.4) and the input (13.5) worst and the first dense layer -- the op that must stay float --
at 0.08. The debugger gives that op an RMSE / scale of 31 and every other op at most 0.7.
Selective quantization also has to go through the converter, and the debugger's denylist
names exactly the ops it reports on. (Both took about a second here.)

The ranking metric is **RMSE / scale**: the root-mean-square error of the op's output divided
by the quantization step (scale) of that output. Pure rounding to the int8 grid gives about
1/sqrt(12) = 0.29; an op far above that loses more than its own rounding: clipped outliers, a
weight or input range that swamps the rest, or an op whose float input already arrives
damaged (measured: an MLP whose inputs mix [0, 1] pixels with a few x1000 features scores 73
on its first layer and about 0.25 elsewhere). RMSE in the output's own units is kept beside
it. What it does not see (measured): an activation with a few huge channels gets one large
scale, so its own op's RMSE / scale stays near 0.29; the damage shows on the op that consumes
it -- and keeping only that consumer in float does not fully repair it, because the tensor
between them is still int8. The search therefore grows the number of float layers until the
accuracy budget is met.

TensorFlow is imported only through ``optimizer.compat`` inside functions.
"""
from __future__ import annotations

import csv
import io
import math
import warnings
from dataclasses import asdict, dataclass

from optimizer.measuring.precision import short_layer_name  # the one way layers are named

#: RMSE / scale of pure rounding to the int8 grid (uniform error over one step).
ROUNDING_RMSE_SCALE = 1.0 / math.sqrt(12.0)



@dataclass(frozen=True)
class LayerError:
    """One quantized op's error against its float copy, averaged over the debug samples.

    ``name`` is the op's output tensor name (what ``denylisted_nodes`` takes); ``layer`` a
    short name for display (usually the Keras layer); ``index`` the op's position in the graph
    (the order layers run in); ``rmse_scale`` = ``rmse / scale``.
    """

    index: int
    name: str
    layer: str
    op: str
    rmse: float
    scale: float
    rmse_scale: float
    mean_error: float
    max_abs_error: float
    elements: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "LayerError":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def layer_errors(debug, denylisted_nodes=()) -> list[LayerError]:
    """Run the debugger (``quant_debug.QuantizationDebug``) and return every quantized op's error,
    in graph order. With ``denylisted_nodes`` those ops stay float (and are not reported): the
    "after" picture of a selective quantization."""
    from optimizer import compat

    tf = compat.tf()
    nodes = [str(n) for n in denylisted_nodes]
    debugger = debug.debugger
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the debugger's own tf.lite.Interpreter is deprecated
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(
            denylisted_nodes=nodes or None)
        debugger.run()
    text = io.StringIO()
    debugger.layer_statistics_dump(text)   # public API: op, tensor index, metrics, scale, name
    rows = list(csv.DictReader(io.StringIO(text.getvalue())))
    out = []
    for row in rows:
        mse = float(row["mean_squared_error"])
        scale = float(row["scale"])
        rmse = math.sqrt(max(mse, 0.0))
        out.append(LayerError(
            index=int(row["tensor_idx"]), name=row["tensor_name"],
            layer=short_layer_name(row["tensor_name"], row["op_name"]), op=row["op_name"],
            rmse=rmse, scale=scale, rmse_scale=rmse / scale if scale > 0 else math.inf,
            mean_error=float(row["mean_error"]), max_abs_error=float(row["max_abs_error"]),
            elements=int(float(row["num_elements"]))))
    out.sort(key=lambda e: e.index)
    return _unique_layers(out)


def _unique_layers(errors: list[LayerError]) -> list[LayerError]:
    """Give repeated display names a suffix (two ops of one Keras layer, nested models)."""
    seen: dict[str, int] = {}
    out = []
    for e in errors:
        count = seen.get(e.layer, 0)
        seen[e.layer] = count + 1
        out.append(e if count == 0 else LayerError(**{**e.to_dict(),
                                                      "layer": f"{e.layer} #{count + 1}"}))
    return out


def worst_layers(errors, count: int) -> list[LayerError]:
    """The ``count`` ops with the highest RMSE / scale (the ones to keep in float first).

    Ops with nothing to quantize wrongly (error exactly 0, e.g. a reshape of an int8 tensor)
    are never chosen.
    """
    if int(count) < 0:
        raise ValueError(f"count must be 0 or more layers, not {count}")
    ranked = sorted((e for e in errors if e.rmse > 0 and math.isfinite(e.rmse_scale)),
                    key=lambda e: e.rmse_scale, reverse=True)
    return ranked[:int(count)]
