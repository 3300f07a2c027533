"""Will a ``.tflite`` run on the chosen target hardware? One check per target, LiteRT-only.

Each target's row (``optimizer.guide.targets.TARGETS``) names its check (a module here) and
method: ``cpu`` (LiteRT + XNNPACK, interpreted), ``mcu`` (TFLite Micro, interpreted),
``edgetpu`` and ``gpu`` (documented rules), ``qualcomm`` (AOT compile, compiled), ``intel``
(OpenVINO partitioning, partitioned). No module here imports TensorFlow.
"""
from optimizer.measuring.readiness.check import SetupMissing, check_readiness
from optimizer.measuring.readiness.report import OpPlacement, Readiness

__all__ = ["OpPlacement", "Readiness", "SetupMissing", "check_readiness"]
