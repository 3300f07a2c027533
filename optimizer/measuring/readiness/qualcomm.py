"""Qualcomm NPU readiness, compiled: LiteRT's AOT tool with Qualcomm's compiler plugin compiles
the file for one Snapdragon SoC with the QNN host libraries ``make setup-npu`` installs.

What it says: which ops the compiler offloads to the HTP (and in how many partitions) and which
stay on the CPU, each with the compiler's own reason. What it does not: it is compiled for the
NPU, not run on one (no latency, no on-device accuracy; the HTP runs float graphs in float16).
"""
from __future__ import annotations

import re

from optimizer.measuring.facts import model_bytes
from optimizer.measuring.readiness.aot import run_plugin, soc_names
from optimizer.measuring.readiness.check import SetupMissing
from optimizer.measuring.readiness.graph import read_graph
from optimizer.measuring.readiness.report import Readiness, grouped, stay
from optimizer.measuring.readiness.setup_npu import qnn_libs, qualcomm_missing

DEFAULT_SOC = "SM8650"
_REFUSED = re.compile(r"LiteRT Op #(\d+) '([^']+)' \(code=(\d+)\) is not supported in Qualcomm "
                      r"Compiler\.?")
NOT_RUN = "compiled for the NPU by Qualcomm's compiler, not run on one"


def check(path, target, options) -> Readiness:
    """Compile ``path`` for ``options["soc"]`` (default SM8650) and place its ops."""
    missing = qualcomm_missing()
    if missing:
        raise SetupMissing(missing)
    soc = (options.get("soc") or DEFAULT_SOC).upper()
    known = soc_names("qualcomm")
    if soc not in known:
        raise ValueError(f"unknown Snapdragon SoC '{soc}'; use one of {', '.join(known)}")
    data = model_bytes(path)
    graph = read_graph(data)
    run = run_plugin(data, "qualcomm", "Qualcomm", soc, "apply", [qnn_libs()])
    details = {"soc": soc, "seconds": round(run.seconds, 3), "note": NOT_RUN,
               "compiler_log_tail": list(run.log[-8:])}
    if not run.ok:
        reason = (run.errors() or ["the compiler failed without a message"])[0][:300]
        ops = grouped((op.name, "unsupported", reason) for op in graph.ops)
        return Readiness(str(target), "compiled", False,
                         f"Not ready: Qualcomm's compiler failed for {soc}: {reason}", ops, None,
                         None, details)
    refused = {int(m.group(1)): m.group(0) for line in run.log for m in [_REFUSED.search(line)]
               if m}
    ops = grouped((op.name, "cpu", refused[op.index]) if op.index in refused else
                  (op.name, "accelerator", None) for op in graph.ops)
    main = next((s for s in run.stats if s[0] == 0), None)
    selected, total, partitions = (main[1], main[2], main[3]) if main else (
        len(graph.ops) - len(refused), len(graph.ops), None)
    details.update(ops_offloaded=selected, ops_total=total, partitions=partitions)
    where = f"{partitions} partition{'s' if partitions != 1 else ''}" if partitions else "the NPU"
    if selected == total and not refused:
        summary = (f"Ready: fully compiled for {soc}: {selected} / {total} ops offloaded to "
                   f"{where} in {run.seconds:.1f} s ({NOT_RUN}).")
        return Readiness(str(target), "compiled", True, summary, ops, None, None, details)
    names = sorted({op.name for op in graph.ops if op.index in refused})
    summary = (f"Not ready: partially compiled for {soc}: {selected} / {total} ops offloaded to "
               f"{where}; {stay(names)} on the CPU ({NOT_RUN}).")
    return Readiness(str(target), "compiled", False, summary, ops, None, None, details)
