"""Work TFLiteConverter repeats for every variant of one frozen graph, done once and shared.

Each post-training variant (float32, float16, dynamic_range, integer, integer_only, int16x8)
converts the same frozen graph with its own ``TFLiteConverter``, and TensorFlow redoes two
things each time whose result depends only on what they are given:

* it freezes the concrete function again (``_freeze_concrete_function``: variables to
  constants and a graph copy, measured 0.86 s of a 2.5 s MobileNetV2 conversion), although our
  graph holds no variable any more: ``reuse_frozen_graph`` hands every later converter of
  the same ``FrozenModel`` the first one's result;
* it calibrates: it runs the float model over the representative samples to record each
  tensor's range, once for integer, once for integer_only and twice for int16x8 (its legacy
  quantizer feeds the samples again after the new quantizer's calibration), about 1 s each
  on MobileNetV2 under load. ``shared_calibration`` keys a calibration by the float model's
  bytes, the calibrator's settings and the samples' bytes, and serves the same result again:
  the same input gives the same output, so each file is byte for byte what an unshared
  conversion gives (``tests/test_convert.py`` checks it for every technique).

Both reach into TensorFlow's private API (through ``optimizer.compat``); where it changed, the
converter simply does the work again (``reuse_frozen_graph`` and ``shared_calibration`` check
what they patch and otherwise leave it alone).
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(eq=False)
class SharedWork:
    """What the conversions of one frozen graph share (kept on its ``FrozenModel``)."""

    graph: tuple | None = None                        # _freeze_concrete_function()'s result
    calibrations: dict = field(default_factory=dict)  # key -> _Calibration
    reused: int = 0                                   # how often either was served again


@dataclass(eq=False)
class _Calibration:
    calibrated: bytes | None = None   # Calibrator.calibrate(): the model with its ranges
    fed: object = None                # the calibrator that recorded them (until quantized)


def reuse_frozen_graph(converter, shared: SharedWork):
    """``converter`` (from ``from_concrete_functions``) freezing its function only once per
    ``shared``: later converters get the first one's graph, input and output tensors."""
    original = getattr(converter, "_freeze_concrete_function", None)
    if not callable(original):
        return converter

    def freeze():
        if shared.graph is None:
            shared.graph = original()
        else:
            shared.reused += 1
        return shared.graph

    converter._freeze_concrete_function = freeze
    return converter


def data_key(arrays, names=None, by_name: bool = False) -> str:
    """A digest of the representative samples (their bytes, shapes and dtypes, in order)."""
    digest = hashlib.sha256(repr((tuple(names or ()), by_name)).encode())
    for array in arrays:
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(memoryview(array.tobytes()))
    return digest.hexdigest()


@contextmanager
def shared_calibration(shared: SharedWork | None, samples_key: str | None):
    """While converting: calibrations keyed by (float model, calibrator settings, samples) are
    made once per ``shared`` and served again (see module doc). No-op without both."""
    if shared is None or samples_key is None:
        yield
        return
    from optimizer import compat

    module = compat.tflite_calibrator()
    real = getattr(module, "Calibrator", None)
    if real is None or not all(hasattr(real, name) for name in
                               ("calibrate", "calibrate_and_quantize", "_feed_tensors")):
        yield
        return

    class SharingCalibrator:
        """Stands in for TensorFlow's ``Calibrator`` (same calls), sharing its results."""

        def __init__(self, model_content, *args, **kwargs):
            self.key = (hashlib.sha256(bytes(model_content)).hexdigest(), repr(args),
                        repr(sorted(kwargs.items())), samples_key)
            self._args = (model_content, args, kwargs)
            self._real = None

        def real(self):
            if self._real is None:
                model_content, args, kwargs = self._args
                self._real = real(model_content, *args, **kwargs)
            return self._real

        def calibrate(self, dataset_gen):
            entry = shared.calibrations.get(self.key)
            if entry is not None and entry.calibrated is not None:
                shared.reused += 1
                return entry.calibrated
            calibrator = self.real()
            calibrated = calibrator.calibrate(dataset_gen)
            shared.calibrations[self.key] = _Calibration(calibrated, calibrator)
            return calibrated

        def calibrate_and_quantize(self, dataset_gen, *args, **kwargs):
            entry = shared.calibrations.get(self.key)
            if entry is None or entry.fed is None:
                return self.real().calibrate_and_quantize(dataset_gen, *args, **kwargs)
            fed, entry.fed = entry.fed, None   # quantizing changes its model: used once
            shared.reused += 1
            fed._feed_tensors = lambda *a, **k: None   # its ranges are recorded already
            return fed.calibrate_and_quantize(dataset_gen, *args, **kwargs)

        def __getattr__(self, name):   # anything else TensorFlow asks of a calibrator
            return getattr(self.real(), name)

    module.Calibrator = SharingCalibrator
    try:
        yield
    finally:
        module.Calibrator = real
