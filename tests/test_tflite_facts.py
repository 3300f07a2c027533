"""tflite_facts: sizes, dtypes, ops, and weights read from the flatbuffer (no TensorFlow)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.guide.configs import PtqConfig
from optimizer.measuring.facts import tflite_facts

ROOT = Path(__file__).resolve().parents[1]


def _dense_model(seed: int = 0):
    """A small MLP (two Dense layers) whose kernels the tests edit by hand."""
    from optimizer import compat

    keras = compat.keras()
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.layers.InputLayer(input_shape=(64,)),
                             keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(10)])


def _convert(model, config=PtqConfig.float32()) -> bytes:
    from optimizer.engine.convert import convert

    return convert(model, config).tflite


def _kernels(model):
    return [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]


@pytest.mark.slow
@pytest.mark.parametrize("config", [PtqConfig.float32(), PtqConfig.float16()],
                         ids=["float32", "float16"])
def test_sparsity_is_exact_on_hand_zeroed_kernels(config):
    model = _dense_model()
    rng = np.random.default_rng(1)
    first, second = _kernels(model)
    values = first.numpy()
    mask = np.zeros(values.size, bool)
    mask[rng.choice(values.size, int(0.7 * values.size), replace=False)] = True
    values.reshape(-1)[mask] = 0.0
    first.assign(values)
    expected = mask.sum() / (values.size + second.numpy().size)

    facts = tflite_facts(_convert(model, config))

    assert facts.weight_params == values.size + second.numpy().size
    assert facts.sparsity == pytest.approx(expected, abs=1e-12)
    assert facts.weight_dtypes == (("float16",) if config.technique.value == "float16"
                                   else ("float32",))


@pytest.mark.slow
def test_unique_values_per_channel_after_rounding_to_four():
    model = _dense_model()
    rng = np.random.default_rng(2)
    for kernel in _kernels(model):
        values = kernel.numpy()  # tf_keras Dense kernels are [inputs, outputs]
        for channel in range(values.shape[1]):
            levels = rng.normal(size=4).astype(np.float32)
            values[:, channel] = levels[rng.integers(0, 4, size=values.shape[0])]
        kernel.assign(values)

    float_facts = tflite_facts(_convert(model))
    int8_facts = tflite_facts(_convert(model, PtqConfig.dynamic_range()))

    assert float_facts.max_unique_weights_per_channel == 4
    assert int8_facts.max_unique_weights_per_channel <= 4
    assert float_facts.sparsity == 0.0


@pytest.mark.slow
def test_facts_of_float_and_integer_only_files(tiny_model, tiny_dataset):
    from optimizer.engine.convert import convert

    floats = tflite_facts(convert(tiny_model, PtqConfig.float32()).tflite)
    ints = tflite_facts(convert(tiny_model, PtqConfig.full_integer(True),
                                tiny_dataset.representative(100)).tflite)

    assert floats.gzip_bytes < floats.size_bytes
    assert floats.input_dtype == floats.output_dtype == "float32"
    assert floats.input_shape == (-1, 8, 8, 1) and floats.output_shape == (-1, 10)
    assert {"CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "SOFTMAX"} <= set(floats.ops)
    assert floats.op_counts["CONV_2D"] == 2 and floats.op_counts["FULLY_CONNECTED"] == 2
    assert "CONV_2D" in floats.float_ops
    assert ints.input_dtype == ints.output_dtype == "int8"
    assert ints.float_ops == () and ints.weight_dtypes == ("int8",)
    assert ints.size_bytes < floats.size_bytes / 3
    assert floats.signatures == ("serving_default",)
    assert set(floats.to_dict()) >= {"size_bytes", "gzip_bytes", "sparsity", "ops",
                                     "max_unique_weights_per_channel", "weight_params"}


def test_rejects_bytes_that_are_not_tflite(tmp_path):
    with pytest.raises(ValueError, match="not a TFLite model"):
        tflite_facts(b"definitely not a flatbuffer")
    with pytest.raises(ValueError, match="no .tflite file"):
        tflite_facts(tmp_path / "missing.tflite")


def test_importing_tflite_facts_loads_no_tensorflow():
    code = ("import sys, optimizer.measuring.facts\n"
            "print(sorted(m for m in ('tensorflow', 'tf_keras', 'litert_quantizer') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"


def test_a_scalar_tensors_shape_is_empty_not_an_error():
    """A scalar's shape vector is absent: the flatbuffer reader returns the int 0 for it (an
    int16x8 conv1d file has such constants); the shape is ()."""
    from optimizer.measuring.facts import tensor_shape

    class Scalar:
        def ShapeLength(self):  # noqa: N802 - the flatbuffer reader's names
            return 0

        def ShapeAsNumpy(self):  # noqa: N802
            return 0

    class Matrix(Scalar):
        def ShapeLength(self):  # noqa: N802
            return 2

        def ShapeAsNumpy(self):  # noqa: N802
            import numpy as np
            return np.array([3, 4], np.int32)

    assert tensor_shape(Scalar()) == () and tensor_shape(Matrix()) == (3, 4)
