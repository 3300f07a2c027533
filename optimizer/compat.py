"""The one place that knows how TensorFlow, Keras 2 (tf_keras), TFMOT and LiteRT are imported.

TFMOT 0.8.1 only works with Keras 2, and which Keras ``tf.keras`` resolves to is decided when
TensorFlow is first imported. So ``TF_USE_LEGACY_KERAS=1`` is set here, before anything heavy
loads, and every other module asks this one for the libraries instead of importing them.
The imports are lazy: importing ``optimizer`` must stay cheap (the Streamlit pages and the
latency process import it and must not pay for TensorFlow).
"""
from __future__ import annotations

import os

#: Set before TensorFlow loads: always (legacy Keras), and unless the user chose otherwise
#: (TensorFlow's C++ start-up chatter -- CUDA probing, oneDNN notices -- is noise for users).
FORCED_ENV = {"TF_USE_LEGACY_KERAS": "1"}
DEFAULT_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2"}
os.environ.update(FORCED_ENV)
for _key, _value in DEFAULT_ENV.items():
    os.environ.setdefault(_key, _value)


def tf():
    """Return the ``tensorflow`` module, imported with legacy Keras enabled."""
    import tensorflow

    return tensorflow


def keras():
    """Return Keras 2 (``tf_keras``), the Keras that TFMOT can transform."""
    import tf_keras

    return tf_keras


def keras3():
    """Return Keras 3 (``keras``); used only to read models saved by Keras 3."""
    import keras as keras_3

    return keras_3


def tfmot():
    """Return ``tensorflow_model_optimization``."""
    import tensorflow_model_optimization

    return tensorflow_model_optimization


def interpreter_class():
    """Return LiteRT's ``Interpreter`` (``ai_edge_litert``), never the deprecated ``tf.lite`` one."""
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter


def op_resolver_type():
    """Return LiteRT's ``OpResolverType`` enum (to run without the default XNNPACK delegate)."""
    from ai_edge_litert.interpreter import OpResolverType

    return OpResolverType


def litert_quantizer():
    """Return the LiteRT Quantizer modules ``(quantizer, recipe)``."""
    from litert_quantizer import quantizer, recipe

    return quantizer, recipe


def tflite_schema():
    """Return LiteRT's generated flatbuffer schema (``ai_edge_litert.schema_py_generated``).

    It reads and writes ``.tflite`` files with only the ``flatbuffers`` package: no TensorFlow.
    """
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


def freeze_variables():
    """Return TensorFlow's ``convert_variables_to_constants_v2`` (freezes a concrete function).

    Private TF API, so it is reached through here only: freezing once and converting from the
    frozen function is what makes every post-training variant take seconds, not half a minute.
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    return convert_variables_to_constants_v2


def autograph_internals():
    """Return TensorFlow's AutoGraph transpiler, its ``ConversionOptions`` and
    ``ProgramContext`` (``tensorflow.python.autograph``, private API): what converts a
    function the first time a graph calls it. Converting only parses and rewrites Python
    source, so a warm job process can convert the retraining wrappers' functions before it
    forks (``engine.autograph_warm``)."""
    from tensorflow.python.autograph.core import converter
    from tensorflow.python.autograph.impl import api

    return api._TRANSPILER, converter.ConversionOptions, converter.ProgramContext


def tflite_calibrator():
    """Return TensorFlow's TFLite calibrator module (``tensorflow.lite.python.optimize.
    calibrator``, private API): the converter calibrates through its ``Calibrator``, which
    ``engine.shared_conversion`` lets the variants of one graph share."""
    tf()
    from tensorflow.lite.python.optimize import calibrator

    return calibrator


def tfmot_experimental_clustering():
    """Return TFMOT's experimental clustering module (``cluster_weights(preserve_sparsity=...)``)."""
    from tensorflow_model_optimization.python.core.clustering.keras.experimental import cluster

    return cluster


def tfmot_8bit_transforms():
    """Return TFMOT's default 8-bit layout transforms module (``InputLayerQuantize``, ...)."""
    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
        default_8bit_transforms,
    )

    return default_8bit_transforms


def saved_model_proto():
    """Return TensorFlow's ``saved_model_pb2`` (reads ``saved_model.pb`` as data, loading
    nothing: how an uploaded SavedModel's signature and ops are checked before conversion)."""
    tf()  # TF_USE_LEGACY_KERAS is set above; importing TensorFlow first keeps the order
    from tensorflow.core.protobuf import saved_model_pb2

    return saved_model_pb2


def tflite_micro_runtime():
    """Return TFLite Micro's Python runtime (``tflite_micro.python.tflite_micro.runtime``).

    The real TFLM interpreter with its own kernels (PyPI ``tflite-micro``, no TensorFlow).
    Raises ``ModuleNotFoundError`` when the package is not installed.
    """
    from tflite_micro.python.tflite_micro import runtime

    return runtime


def litert_package_dir():
    """Return the folder of the installed ``ai_edge_litert`` package (its AOT tool and vendor
    compiler plugins ship inside it: ``tools/apply_plugin_main``, ``vendors/<vendor>/compiler``)."""
    from pathlib import Path

    import ai_edge_litert

    return Path(ai_edge_litert.__file__).resolve().parent


def litert_aot_target(vendor: str):
    """Return the ``target`` module of a LiteRT AOT vendor (``qualcomm``, ``intel_openvino``):
    its ``SocModel`` enum lists the SoCs the vendor's compiler plugin accepts."""
    import importlib

    return importlib.import_module(f"ai_edge_litert.aot.vendors.{vendor}.target")


def ray():
    """Return the ``ray`` module (the cluster executor's engine; heavy, so imported only by
    ``optimizer.runs.ray_executor`` when ``--executor ray`` is chosen). Raises
    ``ModuleNotFoundError`` when Ray is not installed."""
    import ray

    return ray
