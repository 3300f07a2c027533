"""A mixed-precision plan: the precision of each layer, as data (the ``mixed`` technique).

A plan says, for layers named as ``optimizer.measuring.precision`` names them (``dense``,
``conv2d_1``, ``softmax (output)``), whether each is ``int8`` (int8 weights and activations),
``int16`` (int16 activations, int8 weights: the int16x8 scheme) or ``float`` (left float);
layers it does not name take ``default`` (int8). ``io`` is the file's input and output:
``float`` (quantized at the edges inside the file, like ``integer``) or ``integer`` (what
integer-only targets need: an input read by an int16 layer is int16, otherwise int8).

Its text form is JSON, written canonically (sorted keys, no spaces), which is how it travels:
the ``mixed.plan`` setting (``--set mixed.plan=@plan.json`` on the command line), the run's
``request.json``, each job file and ``recipe.json``::

    {"default": "int8", "io": "float", "layers": {"normalize": "int16", "dense_3": "float"}}

``MixedConfig`` is the ``mixed`` settings group that holds it. Pure Python; no TensorFlow.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

PRECISIONS = ("int8", "int16", "float")
IO_KINDS = ("float", "integer")
#: The order precisions rise in (what "a higher precision" means to the searches).
RANK = {p: i for i, p in enumerate(PRECISIONS)}


@dataclass(frozen=True)
class LayerPlan:
    """Each named layer's precision, the default for the others, and the file's I/O."""

    layers: tuple = ()          # ((layer name, precision), ...) sorted by name
    default: str = "int8"
    io: str = "float"

    def __post_init__(self):
        items = dict(self.layers.items() if isinstance(self.layers, dict) else self.layers)
        for name, precision in items.items():
            if not str(name).strip():
                raise ValueError("a plan names a layer with an empty name; use the layer "
                                 "names of the per-layer report (e.g. dense)")
            if precision not in PRECISIONS:
                raise ValueError(f"layer {name!r}: precision {precision!r} is not one of "
                                 f"{', '.join(PRECISIONS)}")
        if self.default not in PRECISIONS:
            raise ValueError(f"plan default {self.default!r} is not one of "
                             f"{', '.join(PRECISIONS)}")
        if self.io not in IO_KINDS:
            raise ValueError(f"plan io {self.io!r} is not one of {', '.join(IO_KINDS)} "
                             "(integer: int8/int16 input and output for integer-only targets)")
        object.__setattr__(self, "layers", tuple(sorted((str(k), str(v))
                                                        for k, v in items.items())))

    # -- the text form ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"default": self.default, "io": self.io, "layers": dict(self.layers)}

    @property
    def text(self) -> str:
        """The canonical JSON (what the ``mixed.plan`` setting holds)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def parse(cls, value) -> "LayerPlan":
        """A plan from its JSON text or dict; "" is the empty plan (every layer int8, float I/O).
        ``ValueError`` names what is wrong and the valid form."""
        if isinstance(value, LayerPlan):
            return value
        if value is None or (isinstance(value, str) and not value.strip()):
            return cls()
        data = value
        if isinstance(value, str):
            try:
                data = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"the mixed-precision plan is not JSON ({exc.msg}); write "
                                 '{"layers": {"<layer>": "int8|int16|float"}, "io": '
                                 '"float|integer"}') from None
        if not isinstance(data, dict):
            raise ValueError("the mixed-precision plan must be a JSON object with 'layers' "
                             "(and optionally 'default' and 'io')")
        unknown = sorted(set(data) - {"layers", "default", "io"})
        if unknown:
            raise ValueError(f"unknown plan keys {unknown}; use layers, default, io")
        layers = data.get("layers") or {}
        if not isinstance(layers, dict):
            raise ValueError("the plan's 'layers' must map layer names to int8, int16 or float")
        return cls(layers=tuple(layers.items()), default=data.get("default", "int8"),
                   io=data.get("io", "float"))

    # -- reading it ------------------------------------------------------------------------------
    def precision_of(self, layer: str) -> str:
        """The precision the plan gives ``layer``."""
        return dict(self.layers).get(layer, self.default)

    def resolved(self, names) -> dict:
        """``{layer: precision}`` for every layer in ``names`` (a model's layers, in order).
        ``ValueError`` when the plan names a layer the model lacks, listing the valid names."""
        names = list(names)
        missing = [n for n, _ in self.layers if n not in names]
        if missing:
            shown = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
            raise ValueError(f"the plan names layer {missing[0]!r}, which this model does not "
                             f"have; its layers are: {shown}")
        return {name: self.precision_of(name) for name in names}

    def with_layers(self, changes: dict) -> "LayerPlan":
        """A copy with ``changes`` (``{layer: precision}``) applied."""
        merged = {**dict(self.layers), **changes}
        return LayerPlan(tuple(merged.items()), self.default, self.io)

    def describe(self) -> str:
        """Short words: ``normalize int16; dense_3 float; others int8``."""
        parts = [f"{n} {p}" for n, p in self.layers if p != self.default]
        return "; ".join(parts + [f"{'others' if parts else 'every layer'} {self.default}"])


@dataclass(frozen=True)
class MixedConfig:
    """The ``mixed`` settings group: ``plan`` is a ``LayerPlan``'s JSON text ("" = every
    layer int8, float I/O). Validated when built."""

    plan: str = ""

    def __post_init__(self):
        object.__setattr__(self, "plan", LayerPlan.parse(self.plan).text
                           if str(self.plan).strip() else "")

    @property
    def layer_plan(self) -> LayerPlan:
        return LayerPlan.parse(self.plan)
