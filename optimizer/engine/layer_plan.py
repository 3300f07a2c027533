"""A mixed-precision plan on a real float ``.tflite``: which ops its layer names mean, and
whether the quantized file has the precisions the plan asked for.

The ``mixed`` technique's Quantizer calls (``QuantizerRecipe.calls(plan)``) name layers through
``layer_regex('<layer>', ..)``, ``input_regex(..)`` and ``output_regex(..)``; ``plan_names``
gives those functions for one float model. The LiteRT Quantizer matches a rule's regex against
an op's *scope*: its output tensor names, each followed by ``;`` (``litert_quantizer``'s
``get_op_scope``); the graph's inputs form one virtual INPUT op whose scope is every input name,
so an integer input follows the layers that read it as one (all inputs int16 when any int16
layer reads one), and likewise the outputs the layers that write them. ``plan_notes`` compares
the plan with the precisions read back from the file: an op the Quantizer has no int16 or float
rule for keeps another precision, and the result says so. No TensorFlow here.
"""
from __future__ import annotations

import re

from optimizer.guide.precision import LayerPlan
from optimizer.measuring.precision import LayerOp, layer_ops

#: A regex that matches no scope (an input rule when no planned layer reads an input).
NOTHING = "(?!)"


def plan_names(float_tflite: bytes, plan: LayerPlan) -> dict:
    """``{"layer_regex": f, "input_regex": g}`` for ``plan`` on this float model; raises
    ``ValueError`` when the plan names a layer the model does not have (listing its layers)."""
    layers = layer_ops(float_tflite)
    plan.resolved([layer.name for layer in layers])
    by_name = {layer.name: layer for layer in layers}

    def layer_regex(*names) -> str:
        tensors = [re.escape(by_name[n].tensor) for n in names]
        return "^(?:" + "|".join(tensors) + ");" if tensors else NOTHING

    def input_regex(*names) -> str:
        return ".*" if any(by_name[n].reads_input for n in names) else NOTHING

    def output_regex(*names) -> str:
        return ".*" if any(by_name[n].writes_output for n in names) else NOTHING

    return {"layer_regex": layer_regex, "input_regex": input_regex,
            "output_regex": output_regex}


def plan_notes(float_tflite: bytes, quantized: list[LayerOp], plan: LayerPlan) -> list[str]:
    """Sentences for the layers whose precision in the quantized file differs from the plan
    (the Quantizer has no rule of that precision for the op), and the file's input type."""
    wanted = plan.resolved([layer.name for layer in layer_ops(float_tflite)])
    notes = []
    for layer in quantized:
        asked = wanted.get(layer.name)
        if asked is not None and asked != layer.precision:
            notes.append(f"layer {layer.name} ({layer.op}): the plan asked for {asked}, the "
                         f"LiteRT Quantizer made it {layer.precision} (it has no {asked} rule "
                         f"for {layer.op})")
    return notes
