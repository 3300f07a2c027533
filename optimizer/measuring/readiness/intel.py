"""Intel NPU readiness, partitioned: LiteRT's AOT tool asks Intel's OpenVINO compiler plugin
which ops it takes for the NPU; the rest would stay on the CPU.

Only the partitioning runs here: the NPU compile itself needs Intel's NPU compiler library,
which is downloaded from Intel's site (unreachable), so the summary says it was not run. Only
what differs from the Qualcomm check is here (the plugin logs refused ops by their builtin
code, not by index); the run and the verdict are ``aot.py``'s.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from optimizer import compat
from optimizer.measuring.readiness.aot import AotVendor, check_with_plugin
from optimizer.measuring.readiness.contract import TargetCheck
from optimizer.measuring.readiness.setup_npu import intel_missing, intel_tools

_REFUSED = re.compile(r"op type (\d+) is not supported")
REASON = "the OpenVINO plugin does not support this op type"


def _openvino_libs() -> list:
    spec = importlib.util.find_spec("openvino")
    if spec is None or not spec.origin:
        return []
    libs = Path(spec.origin).parent / "libs"
    return [libs] if libs.is_dir() else []


def refused_ops(log, graph) -> dict:
    """``{op index: reason}`` for every op whose builtin code the log says is not supported."""
    names = {v: k for k, v in vars(compat.tflite_schema().BuiltinOperator).items()
             if not k.startswith("_") and isinstance(v, int)}
    refused = {names.get(int(code), f"BUILTIN_{code}") for line in log
               for code in _REFUSED.findall(line)}
    return {op.index: REASON for op in graph.ops if op.name in refused}


VENDOR = AotVendor(
    vendor="intel_openvino", manufacturer="IntelOpenVINO", tool="the OpenVINO plugin",
    soc_kind="Intel SoC", default_soc="LNL", method="partitioned", cmd="partition",
    note="ops placed by the OpenVINO plugin; the NPU compile itself was not run",
    log_key="plugin_log_tail", libs=_openvino_libs, missing=intel_missing, refused=refused_ops)


def check(path, target, options):
    """Partition ``path`` with the OpenVINO plugin and report which ops the NPU takes."""
    return check_with_plugin(path, target, options, VENDOR)


CHECK = TargetCheck(method="partitioned", run=check, version="intel-aot 2",
                    missing=intel_missing, tools=intel_tools)
