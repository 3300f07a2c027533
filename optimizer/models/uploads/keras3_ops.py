"""Keras 3 operation nodes and activations rewritten as tf_keras ``TFOpLambda`` layers (JSON).

A Keras 3 functional model saves tensor math done outside layers (``x + 3.0`` in MobileNetV3's
hard-sigmoid, ``keras.ops.mean``) as *operation* nodes (``"module": "keras.src.ops.numpy"``).
tf_keras has no such class; its own functional models record the same math as ``TFOpLambda``
layers that name a TensorFlow function (``"math.add"``). This module writes those layers
from a fixed table of our own (``OPS``): the upload only chooses table rows and constant
arguments, never a function name. Activations tf_keras lacks or computes differently
(``hard_silu``/``hard_swish``, Keras 3's ``hard_sigmoid``, ``hard_tanh``, ``log_sigmoid``)
become a short chain of the same layers (``ACTIVATION_CHAINS``).

Everything here is pure JSON work; the rebuilt model is verified against the original by
``keras3_bridge``.
"""
from __future__ import annotations

from optimizer.text import msg

#: Activation names tf_keras computes exactly as Keras 3 does (kept as they are).
SAME_ACTIVATIONS = frozenset("""
elu exponential gelu leaky_relu linear log_softmax mish relu relu6 selu sigmoid silu softmax
softplus softsign swish tanh
""".split())

#: Activations rewritten as op chains: each step is (tf function, constant second argument or
#: "input" for the activation's input, or None for a one-argument function).
ACTIVATION_CHAINS = {
    # Keras 3: relu6(x + 3) / 6 (tf_keras' hard_sigmoid has another slope)
    "hard_sigmoid": (("math.add", 3.0), ("nn.relu6", None), ("math.multiply", 1.0 / 6.0)),
    "hard_silu": (("math.add", 3.0), ("nn.relu6", None), ("math.multiply", 1.0 / 6.0),
                  ("math.multiply", "input")),
    "hard_tanh": (("clip_by_value", (-1.0, 1.0)),),
    "log_sigmoid": (("math.log_sigmoid", None),),
}
ACTIVATION_CHAINS["hard_swish"] = ACTIVATION_CHAINS["hard_silu"]

#: Keras 3 operation class -> (tf function, names of its tensor arguments after the first,
#: {Keras 3 config key: tf keyword}). Only pure tensor math (see ``keras_classes.tf_op_allowed``).
_BINARY = ("y",)
OPS = {
    "Add": ("math.add", _BINARY, {}),
    "Subtract": ("math.subtract", _BINARY, {}),
    "Multiply": ("math.multiply", _BINARY, {}),
    "Divide": ("math.truediv", _BINARY, {}),
    "TrueDivide": ("math.truediv", _BINARY, {}),
    "Maximum": ("math.maximum", _BINARY, {}),
    "Minimum": ("math.minimum", _BINARY, {}),
    "Power": ("math.pow", _BINARY, {}),
    "Matmul": ("linalg.matmul", ("b",), {}),
    "Negative": ("math.negative", (), {}),
    "Absolute": ("math.abs", (), {}),
    "Abs": ("math.abs", (), {}),
    "Sqrt": ("math.sqrt", (), {}),
    "Square": ("math.square", (), {}),
    "Exp": ("math.exp", (), {}),
    "Log": ("math.log", (), {}),
    "Tanh": ("math.tanh", (), {}),
    "Reciprocal": ("math.reciprocal", (), {}),
    "Mean": ("math.reduce_mean", (), {"axis": "axis", "keepdims": "keepdims"}),
    "Sum": ("math.reduce_sum", (), {"axis": "axis", "keepdims": "keepdims"}),
    "Max": ("math.reduce_max", (), {"axis": "axis", "keepdims": "keepdims"}),
    "Min": ("math.reduce_min", (), {"axis": "axis", "keepdims": "keepdims"}),
    "Reshape": ("reshape", (), {"newshape": "shape"}),
    "Transpose": ("transpose", (), {"axes": "perm"}),
    "Clip": ("clip_by_value", (), {"x_min": "clip_value_min", "x_max": "clip_value_max"}),
    "Concatenate": ("concat", (), {"axis": "axis"}),
    "ExpandDims": ("expand_dims", (), {"axis": "axis"}),
    "Squeeze": ("squeeze", (), {"axis": "axis"}),
    "Sigmoid": ("math.sigmoid", (), {}),
    "Relu": ("nn.relu", (), {}),
    "Relu6": ("nn.relu6", (), {}),
    "Silu": ("nn.silu", (), {}),
    "Softmax": ("nn.softmax", (), {"axis": "axis"}),
    "LogSoftmax": ("nn.log_softmax", (), {"axis": "axis"}),
    "Gelu": ("nn.gelu", (), {"approximate": "approximate"}),
    "LeakyRelu": ("nn.leaky_relu", (), {"negative_slope": "alpha"}),
    "HardSigmoid": ("activation", "hard_sigmoid", {}),
    "HardSilu": ("activation", "hard_silu", {}),
}

#: tf functions whose arguments after the first are keywords with these names (for chains).
_SECOND_ARG = {"math.add": "y", "math.multiply": "y"}
CONSTANT = "_CONSTANT_VALUE"


class OpError(ValueError):
    """An operation or activation that cannot be written as tf_keras layers."""


def is_op_node(entry: dict) -> bool:
    """True for a Keras 3 operation node (``keras.src.ops.*``), not a layer."""
    return str(entry.get("module") or "").startswith("keras.src.ops")


def op_layer(name: str, function: str, first, kwargs: dict | None = None) -> dict:
    """One tf_keras ``TFOpLambda`` layer entry calling ``function(first, **kwargs)``.

    ``first`` is a tensor reference ``[layer, node, index]``, a list of them, or a constant.
    """
    kwargs = dict(kwargs or {})
    kwargs.setdefault("name", None)
    # TFOpLambda keeps its input structure: a node is one reference (not a list of them)
    # unless the first argument is itself a list of tensors.
    if isinstance(first, list) and first and isinstance(first[0], list):
        node = [[*ref, kwargs] for ref in first]
    elif isinstance(first, list) and len(first) == 3 and isinstance(first[0], str):
        node = [*first, kwargs]
    else:
        node = [CONSTANT, -1, first, kwargs]
    return {"class_name": "TFOpLambda",
            "config": {"name": name, "trainable": True, "dtype": "float32", "function": function},
            "name": name, "inbound_nodes": [node]}


def activation_layers(activation: str, source: list, final_name: str) -> list[dict]:
    """The op layers computing ``activation`` of the tensor ``source``; the last one is
    called ``final_name``. Raises ``OpError`` for an activation without a rewrite."""
    chain = ACTIVATION_CHAINS.get(activation)
    if chain is None:
        raise OpError(msg("activation '{activation}' has no tf_keras counterpart", activation=activation))
    layers, current = [], list(source)
    for i, (function, arg) in enumerate(chain):
        name = final_name if i == len(chain) - 1 else f"{final_name}__{activation}_{i}"
        if function == "clip_by_value":
            kwargs = {"clip_value_min": arg[0], "clip_value_max": arg[1]}
        elif arg is None:
            kwargs = {}
        else:
            kwargs = {_SECOND_ARG[function]: list(source) if arg == "input" else arg}
        layers.append(op_layer(name, function, current, kwargs))
        current = [name, 0, 0]
    return layers


def translate_op(entry: dict, history) -> list[dict]:
    """The tf_keras layers for one Keras 3 operation node (usually one ``TFOpLambda``).

    ``history`` maps a serialized argument to a tensor reference (or None for a constant).
    Raises ``OpError`` naming the operation for one outside ``OPS`` or an unusual call.
    """
    cls = entry.get("class_name")
    config = dict(entry.get("config") or {})
    name = config.get("name") or entry.get("name") or cls
    label = f"operation '{name}' ({entry.get('module')}.{cls})"
    if cls not in OPS:
        raise OpError(msg("{label} has no tf_keras counterpart", label=label))
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) != 1 or not isinstance(nodes[0], dict):
        raise OpError(msg("{label} is used {n_nodes} times, which the rebuild does not express",
                          label=label, n_nodes=len(nodes)))
    args = list(nodes[0].get("args") or [])
    kwargs = {k: v for k, v in dict(nodes[0].get("kwargs") or {}).items() if v is not None}
    function, rest, keys = OPS[cls]
    if not args:
        raise OpError(msg("{label} has no tensor argument", label=label))
    refs = [_argument(a, history, label) for a in args]
    if function == "activation":
        if len(refs) != 1 or not _is_ref(refs[0]):
            raise OpError(msg("{label} is called with other arguments than one tensor", label=label))
        return activation_layers(rest, refs[0], name)
    if len(refs) > 1 + len(rest) or kwargs:
        raise OpError(msg("{label} is called with arguments the rebuild does not express", label=label))
    call = {tf_key: config[key] for key, tf_key in keys.items() if key in config}
    for arg_name, ref in zip(rest, refs[1:]):
        call[arg_name] = ref
    first = refs[0]
    if not _is_ref(first) and not (isinstance(first, list) and first and _is_ref(first[0])):
        commutative = function in ("math.add", "math.multiply", "math.maximum", "math.minimum")
        if len(refs) == 2 and _is_ref(refs[1]) and commutative:
            first, call[rest[0]] = refs[1], refs[0]
        elif not any(_is_ref(r) for r in refs):
            raise OpError(msg("{label} is called without a tensor", label=label))
    return [op_layer(name, function, first, call)]


def _is_ref(value) -> bool:
    return isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)


def _argument(value, history, label: str):
    """A tensor reference, a list of them, or a plain constant (numbers, lists of numbers)."""
    if isinstance(value, list):
        items = [_argument(v, history, label) for v in value]
        return items
    ref = history(value)
    if ref is not None:
        return ref
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    raise OpError(msg("{label} is called with a constant the rebuild does not express ({name})",
                      label=label, name=type(value).__name__))
