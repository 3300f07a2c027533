"""Rebuild a Keras 3 model in tf_keras, carry its weights over and prove the outputs match.

TFMOT (pruning, clustering, QAT) only transforms tf_keras models, and tf_keras cannot load a
Keras 3 file (measured: ``TypeError ... batch_shape``). For models made of standard layers
the two Keras versions share layer classes and weight layouts, so the model is rebuilt from
its Keras 3 config: ``translate_config`` rewrites the config into tf_keras' format (pure
JSON work: ``batch_shape`` -> ``batch_input_shape``, dtype-policy objects -> names, Keras 3
call records -> tf_keras inbound nodes, arguments tf_keras does not know dropped and listed),
``rebuild`` builds it with tf_keras, copies every layer's weights by name and shape, and
``verify`` runs both models on the same inputs and reports the largest absolute difference.
A rebuilt model is only used when that difference is within ``tolerance``.

A layer without a tf_keras counterpart (e.g. ``RMSNormalization``), a call tf_keras cannot
express, or outputs that differ raise ``BridgeError`` naming the layer; the caller then runs
the post-training techniques from the Keras 3 model's SavedModel export instead and says which
layer blocks the training techniques.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np

from optimizer.models.uploads import keras3_ops as ops
from optimizer.models.uploads import keras_classes as kc
from optimizer.text import Message, msg

#: Outputs of the rebuilt model must match within atol + rtol * max|output|.
ATOL, RTOL = 1e-4, 1e-4
#: Keyword arguments every tf_keras layer accepts through ``Layer.__init__(**kwargs)``.
_BASE_KWARGS = {"name", "trainable", "dtype", "dynamic", "input_dim", "input_shape",
                "batch_input_shape", "batch_size", "weights", "activity_regularizer",
                "autocast", "implementation"}


class BridgeError(ValueError):
    """The model cannot be rebuilt in tf_keras; ``layer``/``layer_class`` name the blocker."""

    def __init__(self, message, layer: str | None = None, layer_class: str | None = None):
        super().__init__(str(message))
        self.message = message if isinstance(message, Message) else None
        self.layer = layer
        self.layer_class = layer_class


@dataclass(frozen=True)
class BridgeReport:
    """How a Keras 3 model was rebuilt: the largest output difference over ``samples`` inputs,
    the config keys tf_keras does not know (dropped, per layer) and the weights copied."""

    max_abs_diff: float
    tolerance: float
    samples: int
    weights_copied: int
    dropped: tuple = field(default=())

    def to_dict(self) -> dict:
        return {"max_abs_diff": self.max_abs_diff, "tolerance": self.tolerance,
                "samples": self.samples, "weights_copied": self.weights_copied,
                "dropped": [list(d) for d in self.dropped]}


# -- config translation (pure JSON) ------------------------------------------------------------

def translate_config(class_name: str, config: dict) -> tuple[dict, list]:
    """Translate a Keras 3 model config (``model.get_config()``) into a tf_keras one.

    Returns ``({"class_name": ..., "config": ...}, dropped)`` where ``dropped`` lists
    ``(layer, key)`` pairs of arguments removed because tf_keras does not take them (the
    verification decides whether that mattered). Keras 3 operation nodes and activations
    tf_keras lacks become ``TFOpLambda`` layers (``keras3_ops``). Raises ``BridgeError`` for
    a layer class tf_keras lacks or a call it cannot express, naming the layer and its class.
    """
    dropped: list = []
    if class_name == "Sequential":
        layers = []
        for entry in config.get("layers", []):
            layers.extend(_layer(entry, dropped, functional=False, renames={}))
        return {"class_name": "Sequential",
                "config": {"name": config.get("name", "sequential"), "layers": layers}}, dropped
    if class_name in ("Functional", "Model"):
        layers, renames = [], {}
        for entry in config.get("layers", []):
            layers.extend(_layer(entry, dropped, functional=True, renames=renames))
        outputs = _endpoints(config.get("output_layers"))
        if renames:
            # the chain layers themselves read the renamed layer's own output
            chained = {e["name"] for e in layers if str(e.get("name")).split("__")[0] in renames
                       and "__" in str(e.get("name"))}
            layers = [entry if entry["name"] in chained else
                      dict(entry, inbound_nodes=_renamed(entry.get("inbound_nodes"), renames))
                      for entry in layers]
            outputs = _renamed(outputs, renames)
        return {"class_name": "Functional",
                "config": {"name": config.get("name", "model"), "layers": layers,
                           "input_layers": _endpoints(config.get("input_layers")),
                           "output_layers": outputs}}, dropped
    raise BridgeError(msg("the model is a {class_name}, not a Sequential or Functional model; TFMOT can "
                          "only transform those",
                          class_name=class_name), layer_class=class_name)


def _layer(entry: dict, dropped: list, functional: bool, renames: dict) -> list[dict]:
    """The tf_keras layer entries for one Keras 3 entry (one, or several for an op chain)."""
    cls = entry.get("class_name")
    config = dict(entry.get("config") or {})
    name = config.get("name") or entry.get("name") or cls
    if ops.is_op_node(entry):
        if not functional:
            raise BridgeError(msg("operation '{name}' ({cls}) inside a Sequential model cannot be rebuilt",
                                  name=name, cls=cls), name, cls)
        try:
            return ops.translate_op(entry, _history)
        except ops.OpError as exc:
            raise BridgeError(str(exc), name, cls) from None
    if cls in ("Sequential", "Functional", "Model"):
        inner, inner_dropped = translate_config(cls, config)
        dropped.extend(inner_dropped)
        out = dict(inner)
    else:
        if cls in kc.KERAS3_ONLY_LAYERS or cls not in kc.COMMON_LAYERS:
            raise BridgeError(msg("layer '{name}' ({cls}) has no tf_keras counterpart", name=name,
                                  cls=cls), name, cls)
        out = {"class_name": cls, "config": _layer_config(cls, name, config, dropped)}
    chain = _activation_rewrite(cls, name, out.get("config") or {})
    if chain and not functional:
        raise BridgeError(msg("layer '{name}' ({cls}) uses activation '{chain}', which tf_keras lacks; "
                              "only a Functional model can be rebuilt with it",
                              name=name, cls=cls, chain=chain), name, cls)
    if not functional:
        return [out]
    out["name"] = name
    out["inbound_nodes"] = [_node(node, name, cls) for node in entry.get("inbound_nodes") or []]
    if cls == "MultiHeadAttention":
        _attention_shapes(out["config"], entry.get("inbound_nodes") or [])
    if not chain:
        return [out]
    if len(out["inbound_nodes"]) != 1:
        raise BridgeError(msg("layer '{name}' ({cls}) with activation '{chain}' is shared, which the "
                              "rebuild does not express",
                              name=name, cls=cls, chain=chain), name, cls)
    if cls == "Activation":  # the chain replaces the layer and keeps its name
        node = out["inbound_nodes"][0]
        if len(node) != 1:
            raise BridgeError(msg("layer '{name}' ({cls}) takes several tensors", name=name,
                                  cls=cls), name, cls)
        return ops.activation_layers(chain, node[0][:3], name)
    out["config"]["activation"] = "linear"
    final = f"{name}__{chain}"
    renames[name] = final
    return [out] + ops.activation_layers(chain, [name, 0, 0], final)


def _attention_shapes(config: dict, nodes: list) -> None:
    """tf_keras' MultiHeadAttention is rebuilt from the shapes of its query, value and key
    (Keras 3 keeps them in the call record instead)."""
    if config.get("query_shape") or not nodes or not isinstance(nodes[0], dict):
        return
    args, kwargs = list(nodes[0].get("args") or []), dict(nodes[0].get("kwargs") or {})
    named = dict(zip(("query", "value", "key"), args))
    named.update({k: v for k, v in kwargs.items() if k in ("query", "value", "key")})

    def shape(tensor):
        if isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__":
            return list(tensor["config"].get("shape") or [])
        return None

    config["query_shape"] = shape(named.get("query"))
    config["value_shape"] = shape(named.get("value"))
    config["key_shape"] = shape(named.get("key")) or config["value_shape"]


def _activation_rewrite(cls: str, name: str, config: dict) -> str | None:
    """The activation of a layer that must become an op chain (None when tf_keras has it)."""
    activation = config.get("activation")
    if not isinstance(activation, str) or activation in ops.SAME_ACTIVATIONS:
        return None
    if activation in ops.ACTIVATION_CHAINS:
        return activation
    raise BridgeError(msg("layer '{name}' ({cls}) uses activation '{activation}', which tf_keras lacks",
                          name=name, cls=cls, activation=activation), name, cls)


def _renamed(value, renames: dict):
    """Node data with references to renamed layers pointed at their new names (the chain
    that now ends a layer with a rewritten activation)."""
    if isinstance(value, list):
        if len(value) >= 3 and isinstance(value[0], str) and value[0] in renames \
                and isinstance(value[1], int):
            return [renames[value[0]], *(_renamed(v, renames) for v in value[1:])]
        return [_renamed(v, renames) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, renames) for k, v in value.items()}
    return value


def _layer_config(cls: str, name: str, config: dict, dropped: list) -> dict:
    out = {}
    for key, value in config.items():
        if cls == "InputLayer" and key == "batch_shape":
            out["batch_input_shape"] = value
        elif cls == "InputLayer" and key == "optional":
            if value:
                raise BridgeError(msg("input '{name}' is optional, which tf_keras cannot express", name=name),
                                  name, cls)
        elif key in ("layer", "backward_layer", "cell") and isinstance(value, dict):
            out[key] = _wrapped(value, key, dropped)  # Bidirectional, TimeDistributed, RNN
        else:
            out[key] = _value(value, name, key, dropped)
    return _known_kwargs(cls, name, out, dropped)


def _wrapped(entry: dict, key: str, dropped: list) -> dict:
    cls = entry.get("class_name")
    sub = dict(entry.get("config") or {})
    name = sub.get("name", key)
    if cls not in kc.COMMON_LAYERS:
        raise BridgeError(msg("layer '{name}' ({cls}) has no tf_keras counterpart", name=name,
                              cls=cls), name, cls)
    return {"class_name": cls, "config": _layer_config(cls, name, sub, dropped)}


def _value(value, layer: str, key: str, dropped: list):
    """Strip Keras 3 serialization wrappers from one argument (dtype policies, tuples,
    functions, initializers/regularizers/constraints with arguments tf_keras lacks)."""
    if isinstance(value, list):
        return [_value(v, layer, key, dropped) for v in value]
    if not isinstance(value, dict):
        return value
    cls = value.get("class_name")
    inner = value.get("config")
    if cls == "__tuple__":
        return [_value(v, layer, key, dropped) for v in (inner or {}).get("value", [])]
    if cls == "function":
        return inner  # a built-in activation, e.g. "relu"
    if cls in kc.POLICIES:
        return (inner or {}).get("name", "float32")
    if cls is None:
        return {k: _value(v, layer, key, dropped) for k, v in value.items()
                if k not in ("module", "registered_name", "shared_object_id")}
    target = _tf_keras_object(cls)
    if target is None:
        dropped.append((layer, key))
        return None
    accepted = _init_names(target)
    config = {}
    for k, v in dict(inner or {}).items():
        if accepted is None or k in accepted:
            config[k] = _value(v, layer, key, dropped)
        elif v is not None:
            dropped.append((layer, f"{key}.{k}"))
    return {"class_name": cls, "config": config}


def _tf_keras_object(cls: str):
    """The tf_keras initializer / regularizer / constraint class of that name, or None."""
    from optimizer import compat

    keras = compat.keras()
    for module in (keras.initializers, keras.regularizers, keras.constraints):
        found = getattr(module, cls, None)
        if inspect.isclass(found):
            return found
    return None


def _init_names(klass, strict: bool = True):
    """The argument names the ``__init__`` methods of ``klass`` and its bases take; None when
    ``strict`` and the class's own ``__init__`` takes ``**kwargs`` (it cannot be told)."""
    names = set()
    for base in klass.__mro__:
        init = base.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters
        except (TypeError, ValueError):
            continue
        if strict and base is klass and any(p.kind == p.VAR_KEYWORD for p in params.values()):
            return None
        names |= {p for p in params if p not in ("self", "args", "kwargs")}
    return names


def _known_kwargs(cls: str, name: str, config: dict, dropped: list) -> dict:
    """Drop arguments the tf_keras class does not accept (listed in ``dropped``)."""
    accepted = _accepted_kwargs(cls)
    if accepted is None:
        return config
    out = {}
    for key, value in config.items():
        if key in accepted:
            out[key] = value
        elif value not in (None, False, [], {}):  # a non-default setting tf_keras lacks
            dropped.append((name, key))
    return out


def _accepted_kwargs(cls: str):
    """The argument names tf_keras' ``cls`` takes (None when it cannot be told)."""
    from optimizer import compat

    layer_class = getattr(compat.keras().layers, cls, None)
    if layer_class is None:
        return None
    return _init_names(layer_class, strict=False) | _BASE_KWARGS


def _history(tensor) -> list | None:
    if isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__":
        return list(tensor["config"]["keras_history"])
    return None


def _node(node, layer: str, cls: str | None = None) -> list:
    """A Keras 3 call record ``{"args": [...], "kwargs": {...}}`` -> tf_keras node data.

    The first argument (a tensor or a list of tensors) becomes the node's inputs; further
    positional arguments become keywords named after tf_keras' ``call`` signature (e.g.
    ``MultiHeadAttention(query, value)`` -> ``value=``); tensors in keywords become references.
    """
    if isinstance(node, list):  # already tf_keras-style
        return node
    args, kwargs = list(node.get("args") or []), dict(node.get("kwargs") or {})
    label = f"layer '{layer}'" + (f" ({cls})" if cls else "")
    tensors = []
    if args:
        first = args[0]
        items = first if isinstance(first, list) else [first]
        for item in items:
            history = _history(item)
            if history is None:
                raise BridgeError(msg("{label} is called with a non-tensor input, which tf_keras cannot "
                                      "express",
                                      label=label), layer, cls)
            tensors.append(history)
    extra = {}
    if len(args) > 1:
        names = _call_names(cls)
        if names is None or len(args) - 1 > len(names):
            raise BridgeError(msg("{label} is called with {n_args} positional arguments, which the "
                                  "tf_keras rebuild does not express",
                                  label=label, n_args=len(args)), layer, cls)
        extra.update(zip(names, args[1:]))
    extra.update(kwargs)
    out = {}
    for key, value in extra.items():
        if value is None or key == "mask":
            continue
        out[key] = _tensor_argument(value, label, layer, cls)
    return [[h[0], h[1], h[2], out] for h in tensors]


def _tensor_argument(value, label: str, layer: str, cls: str | None):
    """A call argument: a tensor reference, a list of them, or a plain value."""
    history = _history(value)
    if history is not None:
        return history
    if isinstance(value, list):
        return [_tensor_argument(v, label, layer, cls) for v in value]
    if isinstance(value, dict):
        raise BridgeError(msg("{label} is called with a {get} argument, which the tf_keras rebuild does "
                              "not express",
                              label=label, get=value.get('class_name', 'structured')), layer, cls)
    return value


def _call_names(cls: str | None) -> list | None:
    """The names of tf_keras ``cls.call``'s arguments after the first (None when unknown)."""
    from optimizer import compat

    layer_class = getattr(compat.keras().layers, cls or "", None)
    if layer_class is None:
        return None
    try:
        params = list(inspect.signature(layer_class.call).parameters.values())
    except (TypeError, ValueError):
        return None
    return [p.name for p in params[2:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _endpoints(value) -> list:
    if not value:
        return []
    if isinstance(value[0], str):  # a single ["name", node, index]
        return [list(value)]
    return [list(v) for v in value]


# -- rebuilding (TensorFlow) -------------------------------------------------------------------

def rebuild(keras3_model):
    """Build the tf_keras twin of a Keras 3 model and copy its weights; return
    ``(model, dropped, weights_copied)``. Raises ``BridgeError`` naming the blocking layer."""
    from optimizer import compat

    keras = compat.keras()
    class_name = type(keras3_model).__name__
    if class_name not in ("Sequential", "Functional", "Model"):
        raise BridgeError(msg("the model is a subclassed {class_name}; only Sequential and Functional "
                              "models can be rebuilt",
                              class_name=class_name), layer_class=class_name)
    translated, dropped = translate_config(class_name, keras3_model.get_config())
    try:
        model = keras.models.model_from_json(__import__("json").dumps(translated))
    except BridgeError:
        raise
    except Exception as exc:  # noqa: BLE001 - any tf_keras refusal blocks the rebuild
        raise BridgeError(msg("tf_keras cannot build the model from its config ({first_line})",
                              first_line=_first_line(exc))) from None
    copied = _copy_weights(keras3_model, model)
    return model, tuple(dropped), copied


def _copy_weights(source, target) -> int:
    """Copy weights layer by layer (matched by name, recursing into nested models)."""
    by_name = {layer.name: layer for layer in target.layers}
    copied = 0
    for layer in source.layers:
        twin = by_name.get(layer.name)
        if twin is None:
            raise BridgeError(msg("layer '{name}' is missing from the tf_keras rebuild", name=layer.name),
                              layer.name, type(layer).__name__)
        if hasattr(layer, "layers") and hasattr(twin, "layers"):
            copied += _copy_weights(layer, twin)
            continue
        weights = [np.asarray(w) for w in layer.get_weights()]
        expected = [tuple(w.shape) for w in twin.get_weights()]
        if [tuple(w.shape) for w in weights] != expected:
            raise BridgeError(msg("layer '{name}' ({name2}) stores its weights differently in tf_keras "
                                  "({value} vs {expected})",
                                  name=layer.name, name2=type(layer).__name__,
                                  value=[tuple(w.shape) for w in weights], expected=expected),
                              layer.name, type(layer).__name__)
        if weights:
            twin.set_weights(weights)
            copied += len(weights)
    return copied


def verify(keras3_model, tf_keras_model, samples, expected: list | None = None) -> float:
    """Largest absolute difference between the two models' outputs on ``samples``
    (``expected``: the original's outputs when already computed, see ``outputs_of``)."""
    a = outputs_of(keras3_model, samples) if expected is None else expected
    b = outputs_of(tf_keras_model, samples)
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        raise BridgeError(msg("the rebuilt model's outputs have other shapes than the original's"))
    return float(max(np.max(np.abs(x - y)) if x.size else 0.0 for x, y in zip(a, b)))


def tolerance_for(keras3_model, samples, outputs: list | None = None) -> float:
    """The allowed difference: ``ATOL + RTOL * max|output|`` of the original model."""
    outputs = outputs_of(keras3_model, samples) if outputs is None else outputs
    scale = max(float(np.max(np.abs(o))) if o.size else 0.0 for o in outputs)
    return ATOL + RTOL * scale


def outputs_of(model, samples) -> list:
    """``model``'s outputs on the few verification ``samples``, as float64 arrays: one eager
    call in inference mode (what ``predict`` runs, without tracing a graph function for a
    few samples; loading, rebuilding and verifying an EfficientNetB0 upload: 6.5 -> 4.4 CPU-s
    measured)."""
    return _outputs(model(samples, training=False))


def rebuild_verified(keras3_model, samples):
    """Rebuild, copy weights and verify on ``samples``; return ``(model, BridgeReport)``.

    Raises ``BridgeError`` when the model cannot be rebuilt or its outputs differ by more
    than the tolerance (the message gives the measured difference).
    """
    model, dropped, copied = rebuild(keras3_model)
    original = outputs_of(keras3_model, samples)
    diff = verify(keras3_model, model, samples, expected=original)
    tolerance = tolerance_for(keras3_model, samples, original)
    if not np.isfinite(diff) or diff > tolerance:
        keys = ", ".join(f"{layer}.{key}" for layer, key in dropped) or "none"
        raise BridgeError(msg("the tf_keras rebuild gives different outputs (max abs diff {diff:.3g} > "
                              "{tolerance:.3g}; arguments tf_keras lacks: {keys})",
                              diff=diff, tolerance=tolerance, keys=keys))
    n = len(samples[0]) if isinstance(samples, (list, tuple)) else len(samples)
    return model, BridgeReport(max_abs_diff=diff, tolerance=tolerance, samples=int(n),
                               weights_copied=copied, dropped=dropped)


def _outputs(value) -> list:
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, (list, tuple)):
        value = [value]
    return [np.asarray(v, dtype=np.float64) for v in value]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
