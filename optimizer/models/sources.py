"""Model sources for uploads that have no tf_keras model: a SavedModel folder, a float .tflite.

- ``SavedModelSource``: a SavedModel folder (an uploaded zip, or a Keras 3 model's
  ``model.export()``), converted with ``TFLiteConverter.from_saved_model``. Only the graph is
  read; no Python object is restored from it.
- ``TfliteSource``: an uploaded float ``.tflite``; its post-training variants come from the
  LiteRT Quantizer.

Plain dataclasses (nothing heavy); ``optimizer.engine.sources`` converts them in job processes.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SavedModelSource:
    """A SavedModel folder and its serving signature: ``input_shapes`` use ``None`` for
    resizable dimensions; they and ``input_dtypes`` shape the calibration data."""

    path: str
    signature_key: str
    input_shapes: tuple
    input_dtypes: tuple
    input_names: tuple = ()

    @classmethod
    def from_signature(cls, path, signature: dict) -> "SavedModelSource":
        """Build from an upload signature (``optimizer.models.uploads.loaders.saved_model_signature``)."""
        inputs = signature.get("inputs") or []
        return cls(path=str(path),
                   signature_key=signature.get("signature_key") or "serving_default",
                   input_shapes=tuple(tuple(i["shape"]) for i in inputs),
                   input_dtypes=tuple(str(i["dtype"]) for i in inputs),
                   input_names=tuple(str(i.get("name", "")) for i in inputs))


@dataclass(frozen=True)
class TfliteSource:
    """The bytes of an uploaded float ``.tflite``."""

    tflite: bytes = field(repr=False)
    name: str = ""
