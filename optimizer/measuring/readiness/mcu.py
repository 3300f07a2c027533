"""Microcontroller readiness, measured in the real TFLite Micro interpreter (``tflite-micro``).

What runs: TFLM's own Python runtime loads the file (its op resolver, its kernels' Prepare),
so an op TFLM lacks fails at load and is named from TFLM's own stderr ("Didn't find op for
builtin opcode 'ATAN2'"). The tensor arena is the smallest ``arena_size`` with which the
interpreter allocates, found by bisection to 16 bytes (TFLM has no arena getter), each try in a
forked child; it is measured with the Python runtime's default allocator, which records its
allocations, so a firmware build may need slightly less. Flash is the model's bytes (the
flatbuffer is read in place from flash); TFLM's code and the application need flash too. With
data, the test split runs one sample per ``invoke()`` (a file's fixed batch per call) through
TFLM and the metric sits next to the same file's LiteRT metric.
"""
from __future__ import annotations

import ctypes
import os
import re
import tempfile

import numpy as np

from optimizer import compat
from optimizer.measuring.facts import model_bytes
from optimizer.measuring.readiness.capture import native_stderr
from optimizer.measuring.readiness.contract import TargetCheck, could_not_check
from optimizer.measuring.readiness.graph import FLOAT_TYPES, op_counts, read_graph
from optimizer.measuring.readiness.report import OpPlacement, Readiness, grouped
from optimizer.text import figure, msg

#: Arena sizes tried: the search doubles from the first until one allocates, up to the last.
FIRST_ARENA, MAX_ARENA = 16 * 1024, 256 * 1024 * 1024
_MISSING = re.compile(r"Didn't find op for builtin opcode '([^']+)'")
_CUSTOM = re.compile(r"Didn't find op for custom opcode '([^']+)'")
FLOAT_REASON = msg("float kernel: TFLite Micro runs it (reference kernels), slowly on a "
                   "microcontroller without an FPU")


class _Load:
    def __init__(self, ok: bool, interpreter=None, log: tuple = ()):
        self.ok, self.interpreter, self.log = ok, interpreter, log


def _load(runtime, data: bytes, arena: int) -> _Load:
    """Load in this process (only with an arena already known to allocate: see _attempt)."""
    log: list[str] = []
    interpreter = None
    with native_stderr(log):  # the log is complete only once the block has exited
        try:
            interpreter = runtime.Interpreter.from_bytes(data, arena_size=int(arena))
        except (RuntimeError, ValueError):
            pass
    return _Load(interpreter is not None, interpreter, tuple(log))


def _attempt(data: bytes, arena: int) -> _Load:
    """Try one arena size in a forked child: measured, TFLM (2026-10 wheel) can crash with a
    segmentation fault after a failed Prepare on a too-small arena (MobileNetV2 at 32 kB), so
    a failed try must not take this process with it."""
    runtime = compat.tflite_micro_runtime()
    with tempfile.TemporaryFile(mode="w+b") as sink:
        pid = os.fork()
        if pid == 0:  # the child: try, report by exit status, never return
            code = 1
            try:
                os.dup2(sink.fileno(), 2)
                runtime.Interpreter.from_bytes(data, arena_size=int(arena))
                code = 0
            except BaseException:  # noqa: BLE001 - any failure is "does not allocate"
                pass
            finally:
                _flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        sink.seek(0)
        log = [line.strip() for line in sink.read().decode(errors="replace").splitlines()
               if line.strip()]
    if os.WIFSIGNALED(status):
        log.append(f"TFLM crashed (signal {os.WTERMSIG(status)}) with a {arena:,}-byte arena")
    return _Load(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, None, tuple(log))


def _flush() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


def smallest_arena(data: bytes) -> tuple[int | None, tuple]:
    """The smallest arena (bytes) with which TFLM allocates ``data``, and the failing log.

    ``(None, log)`` when it does not allocate even with ``MAX_ARENA`` (missing op, bad file).
    """
    size, last = FIRST_ARENA, None
    while True:
        attempt = _attempt(data, size)
        if attempt.ok:
            break
        last = attempt
        if not _arena_too_small(attempt.log) or size >= MAX_ARENA:
            return None, attempt.log
        size *= 2
    low, high = (size // 2 if last is not None else 0), size  # low fails (or untested), high works
    while high - low > 16:  # TFLM aligns its allocations to 16 bytes
        middle = (low + high) // 2
        if _attempt(data, middle).ok:
            high = middle
        else:
            low = middle
    return high, ()


def _arena_too_small(log) -> bool:
    """Worth trying a bigger arena: TFLM words a short arena many ways ("Failed to allocate
    tail memory", "Failed to resize buffer", a crash); a missing op is final."""
    text = " ".join(log)
    return "Didn't find op" not in text and "Failed to get registration" not in text


#: How TFLM's stderr says the arena is too small (a missing op or a crash says otherwise).
_SHORT_ARENA = ("Failed to allocate", "Failed to resize buffer", "Arena size is too small")


def _says_arena_short(log) -> bool:
    return any(phrase in line for line in log for phrase in _SHORT_ARENA)


def _crashed(log) -> bool:
    return any(line.startswith("TFLM crashed") for line in log)


def _first(log) -> str:
    line = next((line for line in log if line), "no message on stderr")
    return line[:200].rstrip(".")


def check(path, target, options) -> Readiness:
    """Run ``path`` in TFLite Micro; ``options`` may carry ``budget`` (McuBudget) and ``dataset``."""
    data = model_bytes(path)
    graph = read_graph(data)
    arena, log = smallest_arena(data)
    flash = len(data)
    if arena is None:
        missing = _MISSING.findall(" ".join(log)) + [f"CUSTOM:{c}" for c in
                                                      _CUSTOM.findall(" ".join(log))]
        counts = op_counts(graph.ops)
        if missing:
            first = next(op.index for op in graph.ops if op.name in missing)
            ops = grouped(
                (op.name, "unsupported", msg("TFLite Micro has no kernel for it (its op "
                                             "resolver did not find it)"))
                if op.name in missing else
                (op.name, "accelerator", None if op.index < first else
                 msg("not confirmed: TFLite Micro stops at the first op it lacks"))
                for op in graph.ops)
            lacks = ", ".join(dict.fromkeys(missing))
            summary = (msg("Not ready: TFLite Micro lacks {ops}; replace that op in the model or "
                           "register a custom kernel.", ops=lacks) if len(set(missing)) == 1
                       else msg("Not ready: TFLite Micro lacks {ops}; replace those ops in the "
                                "model or register a custom kernel.", ops=lacks))
        elif _says_arena_short(log) and not _crashed(log):
            ops = tuple(OpPlacement(name, n, "accelerator", None) for name, n in counts.items())
            summary = msg("Not ready: TFLite Micro does not allocate the model's tensors even in "
                          "a {arena}-byte arena ({log}).", arena=figure(MAX_ARENA),
                          log=_first(log))
        else:  # a crash, or a failure TFLM did not explain: nothing is known about the ops
            return could_not_check(target, "interpreted",
                                   msg("TFLite Micro failed to load the model without naming a "
                                       "missing op or a short arena: {log}", log=_first(log)),
                                   {"tflm_log": list(log[:20])})
        return Readiness(str(target), "interpreted", False, summary, ops,
                         {"arena_bytes": None, "flash_bytes": flash}, None,
                         {"tflm_log": list(log[:20])})
    placements = []
    for name, n in op_counts(graph.ops).items():
        floating = any(op.name == name and op.computes_in(FLOAT_TYPES) for op in graph.ops)
        placements.append(OpPlacement(name, n, "accelerator", FLOAT_REASON if floating else None))
    invoke_error = _invoke_once(data, arena)
    memory = {"arena_bytes": arena, "flash_bytes": flash}
    details: dict = {"arena_search": f"bisection to 16 bytes from {FIRST_ARENA:,} bytes"}
    accuracy = None
    if invoke_error is None and options.get("dataset") is not None:
        accuracy = tflm_accuracy(data, arena, options["dataset"], path)
    budget = options.get("budget")
    fits = None
    if budget is not None:
        verdict = budget.check_memory(arena, flash)
        fits = verdict.met
        details["budget"] = verdict.detail
    ready = invoke_error is None and fits is not False
    floats = sorted(p.op for p in placements if p.reason == FLOAT_REASON)
    if invoke_error:
        summary = msg("Not ready: TFLite Micro loaded the model but invoke() failed: {error}.",
                      error=invoke_error)
    elif fits is False:
        summary = msg("Not ready: it runs in TFLite Micro but does not fit: {budget}.",
                      budget=details["budget"])
    else:
        summary = msg("Ready: runs in TFLite Micro with a {arena}-byte tensor arena and {flash} "
                      "bytes of model flash{budget}{floats}.", arena=figure(arena),
                      flash=figure(flash),
                      budget=msg(" ({budget})", budget=details["budget"]) if budget is not None
                      else "",
                      floats=msg("; float ops ({ops}) use reference float kernels",
                                 ops=", ".join(floats)) if floats else "")
    return Readiness(str(target), "interpreted", ready, summary, tuple(placements), memory,
                     accuracy, details)


def _invoke_once(data: bytes, arena: int) -> str | None:
    runtime = compat.tflite_micro_runtime()
    interpreter = _load(runtime, data, arena).interpreter
    log: list[str] = []
    try:
        with native_stderr(log):
            inputs = len(compat.interpreter_class()(model_content=bytes(data))
                         .get_input_details())
            for i in range(inputs):
                detail = interpreter.get_input_details(i)
                interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), i)
            interpreter.invoke()
    except (RuntimeError, ValueError) as exc:
        return (log[-1] if log else str(exc))[:200]
    return None


def tflm_accuracy(data: bytes, arena: int, dataset, path) -> dict:
    """The test split through TFLM (one sample per invoke) next to LiteRT's metric."""
    from optimizer.inputs import ordered
    from optimizer.measuring.accuracy import (
        dequantize_output,
        evaluate,
        input_names,
        quantize_input,
        score,
    )
    from optimizer.measuring.batching import padded

    runtime = compat.tflite_micro_runtime()
    interpreter = _load(runtime, data, arena).interpreter
    names = input_names(compat.interpreter_class()(model_content=bytes(data)))
    arrays = [np.asarray(a) for a in ordered(dataset.x_test, names, "the test samples")]
    into = [_detail(interpreter.get_input_details(i)) for i in range(len(arrays))]
    out = _detail(interpreter.get_output_details(0))
    step = max(1, int(interpreter.get_input_details(0)["shape"][0]))  # a file's fixed batch
    outputs = []
    for j in range(0, len(arrays[0]), step):  # TFLM's input i is the subgraph's input i
        size = min(step, len(arrays[0]) - j)
        for i, (array, detail) in enumerate(zip(arrays, into)):
            interpreter.set_input(quantize_input(padded(array[j:j + size], step), detail), i)
        interpreter.invoke()
        outputs.append(dequantize_output(interpreter.get_output(0)[:size], out))
    tflm = score(np.concatenate(outputs, axis=0), dataset)
    litert = evaluate(data, dataset)
    return {"metric": tflm.metric, "tflm": tflm.value, "litert": litert.value,
            "samples": tflm.samples, "higher_is_better": tflm.higher_is_better}


def _detail(detail: dict) -> dict:
    """TFLM's tensor details in the shape the LiteRT helpers read (``quantization`` pair)."""
    params = detail.get("quantization_parameters") or {}
    scales, zeros = params.get("scales"), params.get("zero_points")
    scale = float(scales[0]) if scales is not None and len(scales) else 0.0
    zero = int(zeros[0]) if zeros is not None and len(zeros) else 0
    return {"dtype": detail["dtype"], "quantization": (scale, zero)}


CHECK = TargetCheck(method="interpreted", run=check, version="tflm 2")
