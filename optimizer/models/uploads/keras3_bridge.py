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

from optimizer.models.uploads import keras_classes as kc

#: Outputs of the rebuilt model must match within atol + rtol * max|output|.
ATOL, RTOL = 1e-4, 1e-4
#: Keyword arguments every tf_keras layer accepts through ``Layer.__init__(**kwargs)``.
_BASE_KWARGS = {"name", "trainable", "dtype", "dynamic", "input_dim", "input_shape",
                "batch_input_shape", "batch_size", "weights", "activity_regularizer",
                "autocast", "implementation"}


class BridgeError(ValueError):
    """The model cannot be rebuilt in tf_keras; ``layer``/``layer_class`` name the blocker."""

    def __init__(self, message: str, layer: str | None = None, layer_class: str | None = None):
        super().__init__(message)
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
    verification decides whether that mattered). Raises ``BridgeError`` for a layer class
    tf_keras lacks or a call it cannot express.
    """
    dropped: list = []
    if class_name == "Sequential":
        layers = [_layer(entry, dropped, functional=False) for entry in config.get("layers", [])]
        return {"class_name": "Sequential",
                "config": {"name": config.get("name", "sequential"), "layers": layers}}, dropped
    if class_name in ("Functional", "Model"):
        layers = [_layer(entry, dropped, functional=True) for entry in config.get("layers", [])]
        return {"class_name": "Functional",
                "config": {"name": config.get("name", "model"), "layers": layers,
                           "input_layers": _endpoints(config.get("input_layers")),
                           "output_layers": _endpoints(config.get("output_layers"))}}, dropped
    raise BridgeError(f"the model is a {class_name}, not a Sequential or Functional model; "
                      f"TFMOT can only transform those", layer_class=class_name)


def _layer(entry: dict, dropped: list, functional: bool) -> dict:
    cls = entry.get("class_name")
    config = dict(entry.get("config") or {})
    name = config.get("name") or entry.get("name") or cls
    if cls in ("Sequential", "Functional", "Model"):
        inner, inner_dropped = translate_config(cls, config)
        dropped.extend(inner_dropped)
        out = dict(inner)
    else:
        if cls in kc.KERAS3_ONLY_LAYERS or cls not in kc.COMMON_LAYERS:
            raise BridgeError(f"layer '{name}' ({cls}) has no tf_keras counterpart", name, cls)
        out = {"class_name": cls, "config": _layer_config(cls, name, config, dropped)}
    if functional:
        out["name"] = name
        out["inbound_nodes"] = [_node(node, name) for node in entry.get("inbound_nodes") or []]
    return out


def _layer_config(cls: str, name: str, config: dict, dropped: list) -> dict:
    out = {}
    for key, value in config.items():
        if cls == "InputLayer" and key == "batch_shape":
            out["batch_input_shape"] = value
        elif cls == "InputLayer" and key == "optional":
            if value:
                raise BridgeError(f"input '{name}' is optional, which tf_keras cannot express",
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
        raise BridgeError(f"layer '{name}' ({cls}) has no tf_keras counterpart", name, cls)
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


def _node(node, layer: str) -> list:
    """A Keras 3 call record ``{"args": [...], "kwargs": {...}}`` -> tf_keras node data."""
    if isinstance(node, list):  # already tf_keras-style
        return node
    args, kwargs = list(node.get("args") or []), dict(node.get("kwargs") or {})
    tensors = []
    if args:
        first = args[0]
        items = first if isinstance(first, list) else [first]
        for item in items:
            history = _history(item)
            if history is None:
                raise BridgeError(f"layer '{layer}' is called with a non-tensor input, which "
                                  f"tf_keras cannot express", layer)
            tensors.append(history)
    if len(args) > 1 or any(_history(v) is not None for v in kwargs.values()):
        raise BridgeError(f"layer '{layer}' is called with several tensor arguments, which the "
                          f"tf_keras rebuild does not express", layer)
    extra = {k: v for k, v in kwargs.items() if v is not None and k != "mask"}
    return [[h[0], h[1], h[2], extra] for h in tensors]


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
        raise BridgeError(f"the model is a subclassed {class_name}; only Sequential and "
                          f"Functional models can be rebuilt", layer_class=class_name)
    translated, dropped = translate_config(class_name, keras3_model.get_config())
    try:
        model = keras.models.model_from_json(__import__("json").dumps(translated))
    except BridgeError:
        raise
    except Exception as exc:  # noqa: BLE001 - any tf_keras refusal blocks the rebuild
        raise BridgeError(f"tf_keras cannot build the model from its config "
                          f"({_first_line(exc)})") from None
    copied = _copy_weights(keras3_model, model)
    return model, tuple(dropped), copied


def _copy_weights(source, target) -> int:
    """Copy weights layer by layer (matched by name, recursing into nested models)."""
    by_name = {layer.name: layer for layer in target.layers}
    copied = 0
    for layer in source.layers:
        twin = by_name.get(layer.name)
        if twin is None:
            raise BridgeError(f"layer '{layer.name}' is missing from the tf_keras rebuild",
                              layer.name, type(layer).__name__)
        if hasattr(layer, "layers") and hasattr(twin, "layers"):
            copied += _copy_weights(layer, twin)
            continue
        weights = [np.asarray(w) for w in layer.get_weights()]
        expected = [tuple(w.shape) for w in twin.get_weights()]
        if [tuple(w.shape) for w in weights] != expected:
            raise BridgeError(f"layer '{layer.name}' ({type(layer).__name__}) stores its "
                              f"weights differently in tf_keras "
                              f"({[tuple(w.shape) for w in weights]} vs {expected})",
                              layer.name, type(layer).__name__)
        if weights:
            twin.set_weights(weights)
            copied += len(weights)
    return copied


def verify(keras3_model, tf_keras_model, samples) -> float:
    """Largest absolute difference between the two models' outputs on ``samples``."""
    a = _outputs(keras3_model.predict(samples, verbose=0))
    b = _outputs(tf_keras_model.predict(samples, verbose=0))
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        raise BridgeError("the rebuilt model's outputs have other shapes than the original's")
    return float(max(np.max(np.abs(x - y)) if x.size else 0.0 for x, y in zip(a, b)))


def tolerance_for(keras3_model, samples) -> float:
    """The allowed difference: ``ATOL + RTOL * max|output|`` of the original model."""
    outputs = _outputs(keras3_model.predict(samples, verbose=0))
    scale = max(float(np.max(np.abs(o))) if o.size else 0.0 for o in outputs)
    return ATOL + RTOL * scale


def rebuild_verified(keras3_model, samples):
    """Rebuild, copy weights and verify on ``samples``; return ``(model, BridgeReport)``.

    Raises ``BridgeError`` when the model cannot be rebuilt or its outputs differ by more
    than the tolerance (the message gives the measured difference).
    """
    model, dropped, copied = rebuild(keras3_model)
    diff = verify(keras3_model, model, samples)
    tolerance = tolerance_for(keras3_model, samples)
    if not np.isfinite(diff) or diff > tolerance:
        keys = ", ".join(f"{layer}.{key}" for layer, key in dropped) or "none"
        raise BridgeError(f"the tf_keras rebuild gives different outputs (max abs diff "
                          f"{diff:.3g} > {tolerance:.3g}; arguments tf_keras lacks: {keys})")
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
