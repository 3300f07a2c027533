"""Intel NPU readiness, partitioned: LiteRT's AOT tool asks Intel's OpenVINO compiler plugin
which ops it takes for the NPU; the rest would stay on the CPU.

Only the partitioning runs here: the NPU compile itself needs Intel's NPU compiler library,
which is downloaded from Intel's site (unreachable), so the summary says it was not run.
"""
from __future__ import annotations

import re

from optimizer import compat
from optimizer.measuring.facts import model_bytes
from optimizer.measuring.readiness.aot import run_plugin, soc_names
from optimizer.measuring.readiness.check import SetupMissing
from optimizer.measuring.readiness.graph import read_graph
from optimizer.measuring.readiness.report import Readiness, grouped, stay
from optimizer.measuring.readiness.setup_npu import intel_missing

DEFAULT_SOC = "LNL"
_REFUSED = re.compile(r"op type (\d+) is not supported")
NOT_RUN = "ops placed by the OpenVINO plugin; the NPU compile itself was not run"


def _openvino_libs() -> list:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("openvino")
    if spec is None or not spec.origin:
        return []
    libs = Path(spec.origin).parent / "libs"
    return [libs] if libs.is_dir() else []


def check(path, target, options) -> Readiness:
    """Partition ``path`` with the OpenVINO plugin and report which ops the NPU takes."""
    missing = intel_missing()
    if missing:
        raise SetupMissing(missing)
    soc = (options.get("soc") or DEFAULT_SOC).upper()
    known = soc_names("intel_openvino")
    if soc not in known:
        raise ValueError(f"unknown Intel SoC '{soc}'; use one of {', '.join(known)}")
    data = model_bytes(path)
    graph = read_graph(data)
    run = run_plugin(data, "intel_openvino", "IntelOpenVINO", soc, "partition", _openvino_libs())
    details = {"soc": soc, "seconds": round(run.seconds, 3), "note": NOT_RUN,
               "plugin_log_tail": list(run.log[-8:])}
    if not run.ok:
        reason = (run.errors() or ["the plugin failed without a message"])[0][:300]
        ops = grouped((op.name, "unsupported", reason) for op in graph.ops)
        return Readiness(str(target), "partitioned", False,
                         f"Not ready: the OpenVINO plugin could not partition it: {reason}", ops,
                         None, None, details)
    names = {v: k for k, v in vars(compat.tflite_schema().BuiltinOperator).items()
             if not k.startswith("_") and isinstance(v, int)}
    refused = {names.get(int(code), f"BUILTIN_{code}") for line in run.log
               for code in _REFUSED.findall(line)}
    reason = "the OpenVINO plugin does not support this op type"
    ops = grouped((op.name, "cpu", reason) if op.name in refused else (op.name, "accelerator", None)
                  for op in graph.ops)
    main = next((s for s in run.stats if s[0] == 0), None)
    selected, total, partitions = (main[1], main[2], main[3]) if main else (
        sum(1 for op in graph.ops if op.name not in refused), len(graph.ops), None)
    details.update(ops_offloaded=selected, ops_total=total, partitions=partitions)
    if selected == total:
        summary = (f"Ready: the OpenVINO plugin takes all {total} ops for the NPU ({NOT_RUN}).")
        return Readiness(str(target), "partitioned", True, summary, ops, None, None, details)
    summary = (f"Not ready: the OpenVINO plugin takes {selected} / {total} ops; "
               f"{stay(sorted(refused))} on the CPU ({NOT_RUN}).")
    return Readiness(str(target), "partitioned", False, summary, ops, None, None, details)
