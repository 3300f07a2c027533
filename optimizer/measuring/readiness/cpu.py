"""CPU readiness, interpreted: LiteRT's interpreter loads the file with XNNPACK as a user's app
gets it, and reports which ops XNNPACK took and which run on LiteRT's builtin kernels.

Both run on the CPU, so the model is ready when it loads and runs once; ``where`` is
``accelerator`` for ops inside XNNPACK and ``cpu`` for builtin kernels (usually slower).
"""
from __future__ import annotations

import numpy as np

from optimizer import compat
from optimizer.measuring.facts import model_bytes
from optimizer.measuring.latency import kernels_used
from optimizer.measuring.readiness.contract import TargetCheck
from optimizer.measuring.readiness.graph import read_graph
from optimizer.measuring.readiness.report import Readiness, count_where, grouped


def check(path, target, options) -> Readiness:
    """Load and invoke ``path`` once in LiteRT; report XNNPACK's share of the ops."""
    data = model_bytes(path)
    read_graph(data)  # a clear error for a file that is not a .tflite
    interpreter_class = compat.interpreter_class()
    try:
        interpreter = interpreter_class(model_content=data, num_threads=2)
        interpreter.allocate_tensors()
        for detail in interpreter.get_input_details():
            shape = [max(1, int(d)) for d in detail["shape"]]
            interpreter.set_tensor(detail["index"], np.zeros(shape, detail["dtype"]))
        interpreter.invoke()
    except (RuntimeError, ValueError) as exc:
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return Readiness(str(target), "interpreted", False,
                         f"Not ready: LiteRT could not run the model on this CPU: {line}.")
    kernels, builtin, ops = kernels_used(interpreter)
    builtin_ids = {op["index"] for op in builtin}
    delegated = kernels != "builtin kernels"
    placements = []
    for op in ops:
        if not delegated or op["index"] in builtin_ids:
            placements.append((op["op_name"], "cpu", "LiteRT builtin kernel (outside XNNPACK)"))
        else:
            placements.append((op["op_name"], "accelerator", "XNNPACK"))
    rows = grouped(placements)
    outside = count_where(rows, "cpu")
    summary = (f"Ready: LiteRT ran it on this CPU; {kernels}"
               + (f" ({outside} of {len(ops)} ops on builtin kernels)" if outside and delegated
                  else "") + ".")
    return Readiness(str(target), "interpreted", True, summary, rows, None, None,
                     {"kernels": kernels})


CHECK = TargetCheck(method="interpreted", run=check, version="litert-cpu 1")
