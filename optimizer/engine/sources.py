"""Converting uploads that have no tf_keras model (``optimizer.models.sources``).

``convert.convert`` hands these to ``convert_upload``:

- a ``SavedModelSource`` converts with ``TFLiteConverter.from_saved_model`` and the same
  presets as every other conversion (``engine.converter``);
- a ``TfliteSource``'s float32 "conversion" is the file itself (engine ``"uploaded"``); every
  other post-training variant is made by the LiteRT Quantizer (``engine.quantizer``), whose
  recipes say which variants it can express.
"""
from __future__ import annotations

import time

import numpy as np

from optimizer.guide.configs import PtqConfig
from optimizer.guide.registry import TechniqueId
from optimizer.models.sources import TfliteSource

#: The ``engine`` of a result that is the uploaded .tflite itself (nothing converted it).
UPLOADED_ENGINE = "uploaded"


def convert_upload(source, config: PtqConfig, representative=None, start: float | None = None):
    """Convert a ``SavedModelSource`` or ``TfliteSource`` with one preset; returns a
    ``convert.Conversion``. Raises what ``convert`` and ``quantize_tflite`` raise."""
    from optimizer import compat
    from optimizer.engine.converter import Conversion, convert_with

    start = time.perf_counter() if start is None else start
    if isinstance(source, TfliteSource):
        if TechniqueId(config.technique) == TechniqueId.FLOAT32:
            from optimizer.measuring.formats import tflite_format, uploaded_label

            label = uploaded_label(tflite_format(source.tflite))
            note = "the uploaded file, unchanged" + (
                f": measured {label}, already quantized, in the float32 baseline's place"
                if label else "")
            return Conversion(tflite=bytes(source.tflite), engine=UPLOADED_ENGINE,
                              seconds=time.perf_counter() - start, technique=TechniqueId.FLOAT32,
                              log=(note,), recipe="uploaded .tflite (no conversion)")
        from optimizer.engine.quantizer import quantize_tflite

        return quantize_tflite(source.tflite, config, representative=representative)
    tf = compat.tf()
    dtypes = tuple(np.dtype(d).name for d in source.input_dtypes)
    return convert_with(
        lambda: tf.lite.TFLiteConverter.from_saved_model(
            source.path, signature_keys=[source.signature_key]),
        "from_saved_model", config, representative, source.input_shapes, dtypes, False, start,
        names=(source.input_names, ()) if source.input_names else None, by_name=True)
