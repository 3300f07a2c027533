"""How a conversion is made, as data: converter settings and LiteRT Quantizer recipes.

``ConverterOptions`` are one technique's ``TFLiteConverter`` options. ``settings()`` turns them
into the ONE list of converter assignments (``ConverterSetting``) that the engine applies
(``engine.converter``), the recipe describes and the reproduce script writes: each value is a
Python expression over ``tf`` (``tf.lite.OpsSet.TFLITE_BUILTINS_INT8``), resolved by the engine
attribute by attribute (never evaluated) and written verbatim by the script.

``QuantizerRecipe`` is what the LiteRT Quantizer does to a float ``.tflite``: a named preset of
``litert_quantizer.recipe``, or a weight-only rule with its bits, granularity (channelwise,
blockwise ...) and algorithm (uniform min/max or float casting).

Pure Python: nothing here imports TensorFlow.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from optimizer.guide.precision import PRECISIONS, LayerPlan

#: The converter's ops set when none is named.
BUILTINS = ("TFLITE_BUILTINS",)


@dataclass(frozen=True)
class ConverterSetting:
    """One assignment on a ``TFLiteConverter``.

    ``attribute`` is its path on the converter (``target_spec.supported_ops``); ``values`` are
    expressions over ``tf`` (or the name ``representative_dataset``); ``listed`` says the value
    is a list; ``only_with_data`` marks the representative dataset of a QAT model, set only
    when QAT left layers float (the engine passes data then; the script tests ``left_float``).
    """

    attribute: str
    values: tuple
    listed: bool = True
    only_with_data: bool = False

    @property
    def source(self) -> str:
        """The Python line that makes this assignment: ``converter.x = [tf.y]``."""
        value = ", ".join(self.values)
        line = f"converter.{self.attribute} = {f'[{value}]' if self.listed else value}"
        if len(line) > 90 and self.listed:  # keep the script readable
            line = f"converter.{self.attribute} = [\n    {value}]"
        return line

    def describe(self, samples: int = 0) -> str:
        """Short words for recipes: ``supported_ops=[TFLITE_BUILTINS_INT8]``."""
        name = self.attribute.rsplit(".", 1)[-1]
        if self.values == ("representative_dataset",):
            return f"{name}={samples} samples"
        short = ", ".join(v.rsplit(".", 1)[-1] for v in self.values)
        return f"{name}={f'[{short}]' if self.listed else short}"


@dataclass(frozen=True)
class ConverterOptions:
    """``TFLiteConverter`` settings of one conversion, spelled as the converter's API names.

    ``optimize``: ``optimizations = [DEFAULT]``; ``supported_types``: ``tf`` dtype names;
    ``supported_ops``: ``tf.lite.OpsSet`` names; ``calibrate``: a representative dataset is
    needed; ``integer_io``: int8 (or uint8) input and output; ``fallback_ops``: ops sets added
    when the converter rejects an op of ``supported_ops`` (int16x8 without a 16x8 kernel).
    """

    optimize: bool = False
    supported_types: tuple = ()
    supported_ops: tuple = BUILTINS
    calibrate: bool = False
    integer_io: bool = False
    fallback_ops: tuple = ()

    def for_quantization_aware(self) -> "ConverterOptions":
        """The options for a QAT model: its ranges were learned, so no calibration and no ops
        restriction (TF 2.21 demands a representative dataset with ``TFLITE_BUILTINS_INT8``
        even for QAT graphs; the output is identical, measured), only the I/O types."""
        return replace(self, optimize=True, supported_types=(), calibrate=False,
                       supported_ops=BUILTINS, fallback_ops=())

    def settings(self, io_type: str = "int8", qat: bool = False,
                 fallback: bool = False) -> tuple[ConverterSetting, ...]:
        """The converter assignments of this conversion, in the order they are made.

        ``io_type`` is the integer I/O type ("int8" or "uint8") of an ``integer_io``
        conversion; ``qat`` gives a quantization-aware model's settings (plus the
        representative dataset, only with data, for layers QAT left float); ``fallback`` adds
        the fallback ops sets.
        """
        options = self.for_quantization_aware() if qat else self
        out = []
        if options.optimize:
            out.append(ConverterSetting("optimizations", ("tf.lite.Optimize.DEFAULT",)))
        if options.supported_types:
            out.append(ConverterSetting("target_spec.supported_types",
                                        tuple(f"tf.{t}" for t in options.supported_types)))
        ops = options.supported_ops + (options.fallback_ops if fallback else ())
        if ops != BUILTINS:
            out.append(ConverterSetting("target_spec.supported_ops",
                                        tuple(f"tf.lite.OpsSet.{o}" for o in ops)))
        if options.calibrate or qat:
            out.append(ConverterSetting("representative_dataset", ("representative_dataset",),
                                        listed=False, only_with_data=qat))
        if options.integer_io:
            if io_type not in ("int8", "uint8"):
                raise ValueError(f"integer input/output type {io_type!r}: use int8 or uint8")
            for name in ("inference_input_type", "inference_output_type"):
                out.append(ConverterSetting(name, (f"tf.{io_type}",), listed=False))
        return tuple(out)


class Granularity(str, Enum):
    """How many scales a quantized weight tensor gets (``litert_quantizer``'s names)."""

    TENSORWISE = "TENSORWISE"
    CHANNELWISE = "CHANNELWISE"
    BLOCKWISE_32 = "BLOCKWISE_32"
    BLOCKWISE_64 = "BLOCKWISE_64"
    BLOCKWISE_128 = "BLOCKWISE_128"
    BLOCKWISE_256 = "BLOCKWISE_256"

    def __str__(self) -> str:
        return self.value


class QuantizerAlgorithm(str, Enum):
    """How the LiteRT Quantizer computes quantized weights (its algorithm keys)."""

    MIN_MAX = "min_max_uniform_quantize"     # uniform integer grid from min/max
    FLOAT_CASTING = "float_casting"          # cast to a smaller float (float16)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class QuantizerCall:
    """One call on a ``litert_quantizer`` ``Quantizer``: the method and its keyword arguments,
    each a Python expression over the ``recipe`` module (``litert_quantizer.recipe``): a
    literal, an attribute path, or a call with literal arguments. The engine interprets these
    expressions (``engine.quantizer``, never ``eval``); the reproduce script writes them."""

    method: str
    kwargs: tuple

    @property
    def source(self) -> str:
        """The call as Python source on a ``quantizer`` object."""
        args = ", ".join(f"{name}={value}" for name, value in self.kwargs)
        return f"quantizer.{self.method}({args})"


@dataclass(frozen=True)
class QuantizerRecipe:
    """The LiteRT Quantizer recipe of one conversion of a float ``.tflite``.

    Either ``recipe`` names a preset of ``litert_quantizer.recipe`` (e.g. ``static_wi8_ai8``),
    or ``weight_only_bits`` quantizes weights only (dequantized to float before each op; with
    ``dynamic`` the op computes in integer instead, its activations quantized on the fly) with
    ``granularity`` and ``algorithm`` (float16 is 16 bits by float casting; int8/int4 use the
    uniform min/max grid). ``float_io`` leaves a static recipe's input and output float
    (QUANTIZE/DEQUANTIZE at the edges); ``calibrate`` says the recipe needs representative data
    (static recipes quantize activations). ``per_layer`` says its calls follow a
    mixed-precision plan (``guide.precision.LayerPlan``): the plan's default precision picks the
    preset (int8: ``static_wi8_ai8``, int16: ``static_wi8_ai16``, float: none), then one rule per
    other precision names its layers. ``text`` names it in logs and recipes.
    """

    text: str
    recipe: str | None = None
    weight_only_bits: int | None = None
    granularity: Granularity = Granularity.CHANNELWISE
    algorithm: QuantizerAlgorithm = QuantizerAlgorithm.MIN_MAX
    float_io: bool = False
    calibrate: bool = False
    per_layer: bool = False
    dynamic: bool = False

    def __post_init__(self):
        object.__setattr__(self, "granularity", Granularity(self.granularity))
        if self.per_layer and (self.recipe is None or self.float_io or not self.calibrate):
            raise ValueError(f"quantizer recipe {self.text!r}: a per-layer recipe names its "
                             "int8 preset, calibrates, and takes its I/O from the plan")
        object.__setattr__(self, "algorithm", QuantizerAlgorithm(self.algorithm))
        if (self.recipe is None) == (self.weight_only_bits is None):
            raise ValueError(f"quantizer recipe {self.text!r}: give a preset recipe or "
                             "weight_only_bits, exactly one")
        if self.weight_only_bits is None:
            if self.dynamic:
                raise ValueError(f"quantizer recipe {self.text!r}: a dynamic rule needs its "
                                 "weight bits (weight_only_bits)")
            return
        if self.calibrate or self.float_io:
            raise ValueError(f"quantizer recipe {self.text!r}: weight-only quantization "
                             "needs no calibration and keeps float input/output")
        if self.algorithm == QuantizerAlgorithm.FLOAT_CASTING:
            if self.weight_only_bits != 16 or self.granularity != Granularity.CHANNELWISE:
                raise ValueError(f"quantizer recipe {self.text!r}: float casting makes "
                                 "16-bit floats, one per weight (weight_only_bits=16)")
        elif self.weight_only_bits not in (2, 4, 8):
            raise ValueError(f"quantizer recipe {self.text!r}: integer weights have 2, 4 or 8 "
                             "bits")

    @property
    def weight_only(self) -> bool:
        """True for a weight-only rule (no preset)."""
        return self.weight_only_bits is not None

    def calls(self, plan=None) -> tuple[QuantizerCall, ...]:
        """The ONE list of ``Quantizer`` calls that sets this recipe up, in order: what the
        engine applies and the reproduce script writes. A ``per_layer`` recipe takes its
        ``plan`` (a ``LayerPlan``; None: every layer int8); its rules name layers through
        ``layer_regex('<layer>', ..)``, ``input_regex('<layer>', ..)`` and
        ``output_regex('<layer>', ..)`` (the output tensors of those layers, the graph inputs
        they read and outputs they write), which the engine and the script each resolve on
        their float model."""
        if self.per_layer:
            return _plan_calls(plan)
        if self.weight_only and self.dynamic:
            return (QuantizerCall("add_dynamic_config", (
                ("regex", "'.*'"), ("operation_name", "recipe.TFLOperationName.ALL_SUPPORTED"),
                ("num_bits", str(int(self.weight_only_bits))),
                ("granularity", f"recipe.QuantGranularity({self.granularity.value!r})"),
                ("algorithm_key", f"recipe.AlgorithmName({self.algorithm.value!r})"))),)
        if self.weight_only:
            return (QuantizerCall("add_weight_only_config", (
                ("regex", "'.*'"), ("operation_name", "recipe.TFLOperationName.ALL_SUPPORTED"),
                ("num_bits", str(int(self.weight_only_bits))),
                ("granularity", f"recipe.QuantGranularity({self.granularity.value!r})"),
                ("algorithm_key", f"recipe.AlgorithmName({self.algorithm.value!r})"))),)
        out = [QuantizerCall("load_quantization_recipe", (("recipe", f"recipe.{self.recipe}()"),))]
        if self.float_io:
            # The graph's virtual INPUT/OUTPUT ops stay float; the quantizer then inserts
            # QUANTIZE after the input and DEQUANTIZE before the output.
            out += [QuantizerCall("update_quantization_recipe", (
                ("regex", "'.*'"), ("operation_name", f"recipe.TFLOperationName.{edge}"),
                ("algorithm_key", "recipe.AlgorithmName.NO_QUANTIZE")))
                for edge in ("INPUT", "OUTPUT")]
        return tuple(out)


#: The static rule of each integer precision: (activation bits, weight bits).
_STATIC_BITS = {"int8": (8, 8), "int16": (16, 8)}
_PRESET = {"int8": "static_wi8_ai8", "int16": "static_wi8_ai16"}
_ALL_OPS = "recipe.TFLOperationName.ALL_SUPPORTED"


def _names(layers) -> str:
    return ", ".join(repr(str(n)) for n in layers)


def _plan_calls(plan) -> tuple[QuantizerCall, ...]:
    """The Quantizer calls of a mixed-precision plan (see ``QuantizerRecipe.calls``)."""
    plan = plan if plan is not None else LayerPlan()
    out = []
    if plan.default in _PRESET:
        out.append(QuantizerCall("load_quantization_recipe",
                                 (("recipe", f"recipe.{_PRESET[plan.default]}()"),)))
    groups = {p: [n for n, q in plan.layers if q == p]
              for p in PRECISIONS if p != plan.default}
    for precision, layers in groups.items():
        if not layers:
            continue
        if precision == "float":
            out.append(QuantizerCall("update_quantization_recipe", (
                ("regex", f"layer_regex({_names(layers)})"), ("operation_name", _ALL_OPS),
                ("algorithm_key", "recipe.AlgorithmName.NO_QUANTIZE"))))
            continue
        activation, weight = _STATIC_BITS[precision]
        out.append(QuantizerCall("add_static_config", (
            ("regex", f"layer_regex({_names(layers)})"), ("operation_name", _ALL_OPS),
            ("activation_num_bits", str(activation)), ("weight_num_bits", str(weight)))))
        if plan.io == "integer":
            # an integer input (output) takes the precision of the layer that reads (writes) it
            out += [QuantizerCall("add_static_config", (
                ("regex", f"{side.lower()}_regex({_names(layers)})"),
                ("operation_name", f"recipe.TFLOperationName.{side}"),
                ("activation_num_bits", str(activation)), ("weight_num_bits", str(weight))))
                for side in ("INPUT", "OUTPUT")]
    if plan.io == "float":
        out += [QuantizerCall("update_quantization_recipe", (
            ("regex", "'.*'"), ("operation_name", f"recipe.TFLOperationName.{edge}"),
            ("algorithm_key", "recipe.AlgorithmName.NO_QUANTIZE"))) for edge in ("INPUT", "OUTPUT")]
    return tuple(out)
