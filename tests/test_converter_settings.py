"""Converter options and LiteRT Quantizer recipes are interpreted once: the engine applies, and
the reproduce script writes, the same list (no TensorFlow: the engine's functions run against
a stand-in that records what they set, spelled as the expressions they resolved)."""
from __future__ import annotations

import pytest

from optimizer.engine.converter import configure, describe
from optimizer.engine.quantizer import interpret, load_recipe
from optimizer.guide.configs import FinetuneConfig, IoType, PtqConfig, Settings
from optimizer.guide.registry import QAT_FAMILY, TECHNIQUES, conversions_after
from optimizer.report.reproduce import reproduce_script

FINETUNE = {kind: FinetuneConfig() for kind in ("pruning", "clustering", "qat")}


class Dotted:
    """Any attribute or call of it is another ``Dotted`` whose repr is the expression."""

    def __init__(self, path: str):
        self.path = path

    def __getattr__(self, name):
        return Dotted(f"{self.path}.{name}")

    def __call__(self, *args):
        return Dotted(f"{self.path}({', '.join(repr(a) for a in args)})")

    def __repr__(self):
        return self.path


class Converter:
    """Records ``converter.x = ...`` and ``converter.target_spec.y = ...`` as source lines."""

    def __init__(self):
        object.__setattr__(self, "lines", [])
        object.__setattr__(self, "target_spec", _Owner(self.lines, "converter.target_spec"))

    def __setattr__(self, name, value):
        self.lines.append(f"converter.{name} = {value!r}")


class _Owner:
    def __init__(self, lines, path):
        object.__setattr__(self, "_lines", lines)
        object.__setattr__(self, "_path", path)

    def __setattr__(self, name, value):
        self._lines.append(f"{self._path}.{name} = {value!r}")


def _script_assignments(source: str) -> list[str]:
    """The converter assignments of a script, one line each (wrapped lists joined)."""
    lines, out = source.replace("[\n    ", "[").splitlines(), []
    for line in lines:
        text = line.strip()
        if text.startswith("converter.") and " = " in text:
            out.append(text)
    return out


def _cases():
    for tid, row in TECHNIQUES.items():
        if row.is_conversion and row.converter is not None:
            for io in IoType:
                yield tid.value, tid.value, io.value, False
    qat_conversions = {c for t in QAT_FAMILY for c in conversions_after(t)}
    for conversion in sorted(qat_conversions):
        yield f"qat+{conversion.value}", conversion.value, "uint8", True


@pytest.mark.parametrize("spec, conversion, io, qat", list(_cases()))
def test_the_script_writes_exactly_what_the_engine_sets(spec, conversion, io, qat):
    config = PtqConfig(conversion, io_type=io)
    converter = Converter()
    applied = configure(converter, Dotted("tf"), config, Dotted("representative_dataset"),
                        qat=qat, fallback=False)
    script = reproduce_script(spec, Settings(), FINETUNE, io_type=io)
    assert _script_assignments(script) == converter.lines
    assert describe(applied, "from_keras_model", 123).startswith("TFLiteConverter.")


def test_uint8_io_reaches_the_script_and_the_engine_alike():
    converter = Converter()
    configure(converter, Dotted("tf"), PtqConfig("integer_only", io_type="uint8"),
              Dotted("representative_dataset"), qat=False, fallback=False)
    assert "converter.inference_input_type = tf.uint8" in converter.lines
    script = reproduce_script("integer_only", Settings(), {}, io_type="uint8")
    assert "converter.inference_output_type = tf.uint8" in script
    assert "tf.int8" not in script


def test_a_qat_model_calibrates_only_the_layers_it_left_float():
    with_data, without = Converter(), Converter()
    configure(with_data, Dotted("tf"), PtqConfig("integer"), Dotted("representative_dataset"),
              qat=True, fallback=False)
    configure(without, Dotted("tf"), PtqConfig("integer"), None, qat=True, fallback=False)
    assert "converter.representative_dataset = representative_dataset" in with_data.lines
    assert not any("representative" in line for line in without.lines)
    assert "if left_float:  # layers QAT left float" in reproduce_script("qat", Settings(),
                                                                         FINETUNE)


def test_int16x8_fallback_adds_the_fallback_ops_to_the_same_assignment():
    converter = Converter()
    configure(converter, Dotted("tf"), PtqConfig("int16x8"), Dotted("representative_dataset"),
              qat=False, fallback=True)
    assert ("converter.target_spec.supported_ops = [tf.lite.OpsSet."
            "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8, "
            "tf.lite.OpsSet.TFLITE_BUILTINS]") in converter.lines


class Quantizer:
    """Records the calls made on a LiteRT ``Quantizer`` as source lines."""

    def __init__(self):
        self.lines = []

    def __getattr__(self, method):
        def call(**kwargs):
            args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            self.lines.append(f"quantizer.{method}({args})")
        return call


@pytest.mark.parametrize("tid", [t.value for t, row in TECHNIQUES.items()
                                 if row.quantizer is not None])
def test_the_engine_makes_exactly_the_quantizer_calls_the_recipe_lists(tid):
    recipe = TECHNIQUES[tid].quantizer
    quantizer = Quantizer()
    load_recipe(quantizer, Dotted("recipe"), recipe)
    assert quantizer.lines == [call.source for call in recipe.calls()]


def test_recipe_expressions_are_interpreted_never_evaluated():
    names = {"recipe": Dotted("recipe")}
    assert repr(interpret("recipe.QuantGranularity('BLOCKWISE_32')", names)) == \
        "recipe.QuantGranularity('BLOCKWISE_32')"
    assert interpret("8", names) == 8 and interpret("'.*'", names) == ".*"
    for bad in ("__import__('os')", "recipe.x(y)", "[1, 2]", "open('f')"):
        with pytest.raises(ValueError):
            interpret(bad, names)
