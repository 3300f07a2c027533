"""Will a ``.tflite`` run on the chosen target hardware? One check per target, LiteRT-only.

``registry.CHECKS`` holds each target's check (a callable with its method), complete against
``optimizer.guide.targets.TARGETS`` when ``registry`` is imported: ``cpu`` (LiteRT + XNNPACK,
interpreted), ``mcu`` (TFLite Micro, interpreted), ``edgetpu`` and ``gpu`` (documented rules),
``qualcomm`` (AOT compile, compiled), ``intel`` (OpenVINO partitioning, partitioned); the two
NPU checks share ``aot``. A verdict is ready, not ready, or "could not check" (``ready``
None). No module here imports TensorFlow; the names below load on first use.
"""
from optimizer.lazy import lazy_getattr

_LAZY = {
    "CHECKS": "optimizer.measuring.readiness.registry",
    "check_fingerprint": "optimizer.measuring.readiness.registry",
    "check_readiness": "optimizer.measuring.readiness.registry",
    "readiness_unavailable": "optimizer.measuring.readiness.registry",
    "SetupMissing": "optimizer.measuring.readiness.contract",
    "TargetCheck": "optimizer.measuring.readiness.contract",
    "OpPlacement": "optimizer.measuring.readiness.report",
    "Readiness": "optimizer.measuring.readiness.report",
}

__getattr__ = lazy_getattr("optimizer.measuring.readiness", _LAZY, globals())

__all__ = ["CHECKS", "OpPlacement", "Readiness", "SetupMissing", "TargetCheck",
           "check_fingerprint", "check_readiness", "readiness_unavailable"]
