"""Qualcomm NPU readiness, compiled: LiteRT's AOT tool with Qualcomm's compiler plugin compiles
the file for one Snapdragon SoC with the QNN host libraries ``make setup-npu`` installs.

What it says: which ops the compiler offloads to the HTP (and in how many partitions) and which
stay on the CPU, each with the compiler's own reason. What it does not: it is compiled for the
NPU, not run on one (no latency, no on-device accuracy; the HTP runs float graphs in float16).
Only what differs from the Intel check is here; the run and the verdict are ``aot.py``'s.
"""
from __future__ import annotations

import re

from optimizer.measuring.readiness.aot import AotVendor, check_with_plugin
from optimizer.measuring.readiness.contract import TargetCheck
from optimizer.measuring.readiness.setup_npu import qnn_libs, qualcomm_missing, qualcomm_tools

_REFUSED = re.compile(r"LiteRT Op #(\d+) '([^']+)' \(code=(\d+)\) is not supported in Qualcomm "
                      r"Compiler\.?")


def refused_ops(log, graph) -> dict:
    """``{op index: the compiler's sentence}`` for every op the log says it does not support."""
    return {int(m.group(1)): m.group(0) for line in log for m in [_REFUSED.search(line)] if m}


VENDOR = AotVendor(
    vendor="qualcomm", manufacturer="Qualcomm", tool="Qualcomm's compiler",
    soc_kind="Snapdragon SoC", default_soc="SM8650", method="compiled", cmd="apply",
    note="compiled for the NPU by Qualcomm's compiler, not run on one",
    log_key="compiler_log_tail", libs=lambda: [qnn_libs()], missing=qualcomm_missing,
    refused=refused_ops)


def check(path, target, options):
    """Compile ``path`` for ``options["soc"]`` (default SM8650) and place its ops."""
    return check_with_plugin(path, target, options, VENDOR)


CHECK = TargetCheck(method="compiled", run=check, version="qualcomm-aot 2",
                    missing=qualcomm_missing, tools=qualcomm_tools)
