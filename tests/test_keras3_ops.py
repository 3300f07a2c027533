"""Keras 3 operation nodes and activations written as tf_keras TFOpLambda layers (pure JSON),
and the static check accepting exactly the operations the rebuild knows."""
from __future__ import annotations

import pytest

from optimizer.models.uploads import keras3_ops as ops
from optimizer.models.uploads.errors import UnsafeModel
from optimizer.models.uploads.model_files import scan_config


def _tensor(layer):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [None, 4], "dtype": "float32", "keras_history": [layer, 0, 0]}}


def _history(value):
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return list(value["config"]["keras_history"])
    return None


def _op(cls, args, module="keras.src.ops.numpy", **config):
    return {"module": module, "class_name": cls, "config": {"name": cls.lower(), **config},
            "registered_name": cls, "name": cls.lower(),
            "inbound_nodes": [{"args": args, "kwargs": {}}]}


def test_add_of_a_constant_is_one_tf_op_layer():
    (layer,) = ops.translate_op(_op("Add", [_tensor("conv"), 3.0]), _history)
    assert layer["class_name"] == "TFOpLambda"
    assert layer["config"]["function"] == "math.add"
    assert layer["inbound_nodes"] == [["conv", 0, 0, {"y": 3.0, "name": None}]]


def test_constant_first_keeps_the_order_of_a_subtraction():
    (layer,) = ops.translate_op(_op("Subtract", [1.0, _tensor("x")]), _history)
    assert layer["inbound_nodes"] == [[ops.CONSTANT, -1, 1.0, {"y": ["x", 0, 0], "name": None}]]
    (mul,) = ops.translate_op(_op("Multiply", [2.0, _tensor("x")]), _history)
    assert mul["inbound_nodes"] == [["x", 0, 0, {"y": 2.0, "name": None}]]


def test_config_arguments_are_renamed_for_tensorflow():
    (mean,) = ops.translate_op(_op("Mean", [_tensor("x")], axis=-1, keepdims=True), _history)
    assert mean["config"]["function"] == "math.reduce_mean"
    assert mean["inbound_nodes"][0][3] == {"axis": -1, "keepdims": True, "name": None}
    (t,) = ops.translate_op(_op("Transpose", [_tensor("x")], axes=[0, 2, 1]), _history)
    assert t["inbound_nodes"][0][3]["perm"] == [0, 2, 1]


def test_hard_silu_becomes_a_chain_ending_in_the_layer_name():
    chain = ops.activation_layers("hard_silu", ["conv", 0, 0], "act")
    assert [c["config"]["function"] for c in chain] == ["math.add", "nn.relu6", "math.multiply",
                                                         "math.multiply"]
    assert chain[-1]["name"] == "act"
    assert chain[-1]["inbound_nodes"][0][3]["y"] == ["conv", 0, 0]
    assert ops.ACTIVATION_CHAINS["hard_swish"] == ops.ACTIVATION_CHAINS["hard_silu"]


def test_unknown_operation_is_named_with_its_class():
    with pytest.raises(ops.OpError, match=r"operation 'fft' \(keras.src.ops.math.Fft\)"):
        ops.translate_op(_op("Fft", [_tensor("x")], module="keras.src.ops.math"), _history)


def test_static_check_accepts_known_operations_and_refuses_others():
    model = {"class_name": "Functional", "config": {"layers": [_op("Add", [_tensor("x"), 3.0])]}}
    assert ("add", "Add") in scan_config(model)
    bad = {"class_name": "Functional",
           "config": {"layers": [_op("Fft", [_tensor("x")], module="keras.src.ops.math")]}}
    with pytest.raises(UnsafeModel, match="Keras operation layer 'fft'"):
        scan_config(bad)
