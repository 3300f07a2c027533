"""Conversion sources for uploads that have no tf_keras model: a SavedModel, a float .tflite.

``convert.convert`` accepts these besides a Keras model or a ``FrozenModel``:

- ``SavedModelSource``: a SavedModel folder (an uploaded zip, or a Keras 3 model's
  ``model.export()``), converted with ``TFLiteConverter.from_saved_model`` and the same presets
  as every other conversion. Only the graph is read; no Python object is restored from it.
- ``TfliteSource``: an uploaded float ``.tflite``. Its float32 "conversion" is the file itself
  (engine ``"uploaded"``); every other post-training variant is made by the LiteRT Quantizer
  (``engine.quantizer``), whose recipes say which variants it can express.

The dataclasses import nothing heavy; ``convert_upload`` runs in job processes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..configs import PtqConfig
from ..registry import TechniqueId

#: The ``engine`` of a result that is the uploaded .tflite itself (nothing converted it).
UPLOADED_ENGINE = "uploaded"


@dataclass(frozen=True)
class SavedModelSource:
    """A SavedModel folder and its serving signature: ``input_shapes`` use ``None`` for
    resizable dimensions; they and ``input_dtypes`` shape the calibration data."""

    path: str
    signature_key: str
    input_shapes: tuple
    input_dtypes: tuple

    @classmethod
    def from_signature(cls, path, signature: dict) -> "SavedModelSource":
        """Build from an upload signature (``optimizer.uploads.loaders.saved_model_signature``)."""
        inputs = signature.get("inputs") or []
        return cls(path=str(path),
                   signature_key=signature.get("signature_key") or "serving_default",
                   input_shapes=tuple(tuple(i["shape"]) for i in inputs),
                   input_dtypes=tuple(str(i["dtype"]) for i in inputs))


@dataclass(frozen=True)
class TfliteSource:
    """The bytes of an uploaded float ``.tflite``."""

    tflite: bytes = field(repr=False)
    name: str = ""


def convert_upload(source, config: PtqConfig, representative=None, start: float | None = None):
    """Convert a ``SavedModelSource`` or ``TfliteSource`` with one preset; returns a
    ``convert.Conversion``. Raises what ``convert`` and ``quantize_tflite`` raise."""
    from .. import compat
    from .convert import Conversion, _convert_with

    start = time.perf_counter() if start is None else start
    if isinstance(source, TfliteSource):
        if TechniqueId(config.technique) == TechniqueId.FLOAT32:
            from ..tflite_facts import tflite_facts

            stored = set(tflite_facts(source.tflite).weight_dtypes) - {"float32"}
            note = "the uploaded file, unchanged" + (
                f" (already quantized: weights stored as {', '.join(sorted(stored))})"
                if stored else "")
            return Conversion(tflite=bytes(source.tflite), engine=UPLOADED_ENGINE,
                              seconds=time.perf_counter() - start, technique=TechniqueId.FLOAT32,
                              log=(note,), recipe="uploaded .tflite (no conversion)")
        from .quantizer import quantize_tflite

        return quantize_tflite(source.tflite, config, representative=representative)
    tf = compat.tf()
    dtypes = tuple(np.dtype(d).name for d in source.input_dtypes)
    return _convert_with(
        lambda: tf.lite.TFLiteConverter.from_saved_model(
            source.path, signature_keys=[source.signature_key]),
        "from_saved_model", config, representative, source.input_shapes, dtypes, False, start)
