"""Will a ``.tflite`` run on the chosen target hardware? One check per target, LiteRT-only.

``registry.CHECKS`` holds each target's check (a callable with its method), complete against
``optimizer.guide.targets.TARGETS`` at import: ``cpu`` (LiteRT + XNNPACK, interpreted), ``mcu``
(TFLite Micro, interpreted), ``edgetpu`` and ``gpu`` (documented rules), ``qualcomm`` (AOT
compile, compiled), ``intel`` (OpenVINO partitioning, partitioned); the two NPU checks share
``aot``. A verdict is ready, not ready, or "could not check" (``ready`` None). No module here
imports TensorFlow.
"""
from optimizer.measuring.readiness.contract import SetupMissing, TargetCheck
from optimizer.measuring.readiness.registry import (
    CHECKS,
    check_fingerprint,
    check_readiness,
    readiness_unavailable,
)
from optimizer.measuring.readiness.report import OpPlacement, Readiness

__all__ = ["CHECKS", "OpPlacement", "Readiness", "SetupMissing", "TargetCheck",
           "check_fingerprint", "check_readiness", "readiness_unavailable"]
