"""Latency of ``.tflite`` files, timed in a separate process that loads only LiteRT.

Why a separate process: timings taken right after TensorFlow work in the same process had
outliers (one 450-sample evaluation took 3.8 s instead of 0.33 s), and a process that has
imported TensorFlow carries ~700 MB and its thread pools. ``measure_latency`` therefore runs
``python -m optimizer.measuring.latency`` (which imports only ``ai_edge_litert``, NumPy and light
``optimizer`` modules) and reads its JSON from stdout.

What is timed, for each model: the default ``Interpreter`` with ``num_threads`` as configured,
so XNNPACK is applied exactly as in a user's app (if XNNPACK cannot prepare the model, as with
sparse dynamic-range files, it is retried on builtin kernels and the note says so); a fixed
random input of the right dtype and shape; ``warmup`` untimed invokes; then ``rounds`` rounds
that visit the models round-robin (so a slow spell of the machine hits every model alike),
each timing single ``invoke()`` calls with ``perf_counter_ns``, for at most ``max_seconds`` per
model in total. The result carries median, p10 and p90 over all timed invokes and the median
of each round: sub-millisecond timings here vary up to 2x between processes, so the spread is
reported, never hidden. ``kernels`` says what ran (all ops in XNNPACK, some left to builtin
kernels, or builtin kernels only) and ``note`` names known slow paths.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from optimizer.guide.configs import LatencyConfig
from optimizer.measuring.batching import BATCH_TIMING_NOTE, batch_note, fixed_batch
from optimizer.paths import REPO_ROOT
from optimizer.procs import die_with_parent
from optimizer.text import N_, read_back

#: Most timed invokes per model per round (the time cap usually binds first on slow models).
MAX_INVOKES_PER_ROUND = 100

INT16_NOTE = N_("int16x8 runs on reference kernels: XNNPACK has no int16 activation kernels "
                "(the guide warns it is slower)")
#: The notes a timing writes (English, in ``latency_note``, joined by "; "), as message ids:
#: ``note_words`` reads a recorded note back as these messages for a reader of another language.
NOTE_NO_XNNPACK = N_("XNNPACK could not prepare this model ({error}); timed on builtin kernels "
                     "without XNNPACK")
NOTE_DYNAMIC = N_("dynamic-range ops left to builtin kernels, outside XNNPACK: {ops}")
NOTE_INT8 = N_("int8 ops left to builtin kernels, outside XNNPACK: {ops}")
NOTES = (NOTE_NO_XNNPACK, BATCH_TIMING_NOTE, INT16_NOTE, NOTE_DYNAMIC, NOTE_INT8)
#: How ``measured_on`` describes the machine (``host_description``, read back by ``host_words``).
HOST = N_("{cpu}, {cores} logical cores, ai-edge-litert {version}")


@dataclass(frozen=True)
class LatencyStats:
    """Single-invoke latency of one model: median, p10, p90 in milliseconds, and how it ran.

    ``invokes`` is the number of timed invokes (over all rounds); ``round_medians_ms`` the
    median of each round, which shows drift within the run. ``error`` is set (and the numbers
    are ``None``) when the model could not be run at all.
    """

    median_ms: float | None
    p10_ms: float | None
    p90_ms: float | None
    threads: int
    invokes: int
    kernels: str
    note: str | None = None
    round_medians_ms: tuple = ()
    builtin_ops: tuple = ()
    error: str | None = None
    # per op of the main graph, in order: "XNNPACK" (inside the delegate) or "builtin"
    op_kernels: tuple = ()

    def to_dict(self) -> dict:
        """JSON-ready dict (round-trips through ``from_dict``)."""
        data = asdict(self)
        data["round_medians_ms"] = list(self.round_medians_ms)
        data["builtin_ops"] = list(self.builtin_ops)
        data["op_kernels"] = list(self.op_kernels)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "LatencyStats":
        """Build from ``to_dict`` output, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        for key in ("round_medians_ms", "builtin_ops", "op_kernels"):
            values[key] = tuple(values.get(key) or ())
        return cls(**values)


def measure_latency(paths, config: LatencyConfig = LatencyConfig()) -> dict[str, LatencyStats]:
    """Time each ``.tflite`` in ``paths`` in a fresh LiteRT-only process; keyed by ``str(path)``.

    Needs the files on disk. Raises ``ValueError`` for a missing file. If the child process
    itself fails, every model gets a ``LatencyStats`` with ``error`` set, so a run can go on.
    """
    keys = [str(p) for p in paths]
    for key in keys:
        if not Path(key).is_file():
            raise ValueError(f"no .tflite file at {key}; latency needs the converted files")
    if not keys:
        return {}
    command = [sys.executable, "-m", "optimizer.measuring.latency", "--threads", str(config.threads),
               "--warmup", str(config.warmup), "--rounds", str(config.rounds),
               "--max-seconds", str(config.max_seconds), *keys]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    # Generous: warm-up and timing are capped per model; this only guards against a hang.
    timeout = 60 + len(keys) * (float(config.max_seconds) + 30)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=str(REPO_ROOT), preexec_fn=die_with_parent)
    except subprocess.TimeoutExpired:
        return _all_failed(keys, config, f"latency process timed out after {timeout:.0f} s")
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return _all_failed(keys, config, f"latency process failed: {tail}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {key: LatencyStats.from_dict(report["results"][key]) for key in keys}


def host_description() -> str:
    """The CPU model, logical core count and ai-edge-litert version, for ``measured_on``."""
    from importlib import metadata

    cpu = cpu_model()
    try:
        litert = metadata.version("ai-edge-litert")
    except metadata.PackageNotFoundError:
        litert = "unknown"
    return HOST.format(cpu=cpu, cores=os.cpu_count(), version=litert)


def host_words(text):
    """A recorded ``measured_on`` as its message (``HOST``), or the text as it is."""
    return read_back(text, (HOST,))


def note_words(note):
    """A recorded ``latency_note`` (notes joined by "; ") as a message in the language in
    use: each note read back from ``NOTES``; other text as it is."""
    from optimizer.text import msg

    if not note:
        return ""
    parts = [read_back(part, NOTES) for part in re.split(r"; (?!timed on builtin)", str(note))]
    while len(parts) > 1:
        parts[-2:] = [msg("{first}; {second}", first=parts[-2], second=parts[-1])]
    return parts[0]


def cpu_model() -> str:
    """This machine's CPU model name (``/proc/cpuinfo``, else the platform's words)."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if not cpu:
        import platform

        cpu = platform.processor() or platform.machine() or "unknown CPU"
    return cpu


def _all_failed(keys, config: LatencyConfig, message: str) -> dict[str, LatencyStats]:
    return {key: LatencyStats(None, None, None, int(config.threads), 0, "not run", error=message)
            for key in keys}


# -- the child process -----------------------------------------------------------------------

def _time_models(paths: list[str], config: LatencyConfig) -> dict[str, dict]:
    """Load, warm up and time every model round-robin; return ``LatencyStats`` dicts."""
    loaded, results = {}, {}
    rng = np.random.default_rng(0)
    for path in paths:
        try:
            loaded[path] = _load(path, config, rng)
        except Exception as exc:  # noqa: BLE001 - one bad model must not stop the others
            results[path] = LatencyStats(None, None, None, int(config.threads), 0, "not run",
                                         error=_one_line(exc)).to_dict()
    for model in loaded.values():
        for _ in range(int(config.warmup)):
            model["interpreter"].invoke()
    budget_ns = float(config.max_seconds) * 1e9 / int(config.rounds)
    gc.disable()  # a collection inside a timed invoke is noise, not the model's latency
    try:
        for _ in range(int(config.rounds)):
            for model in loaded.values():
                model["rounds"].append(_one_round(model["interpreter"], budget_ns))
    finally:
        gc.enable()
    for path, model in loaded.items():
        times = np.concatenate(model["rounds"]) / 1e6
        results[path] = LatencyStats(
            median_ms=float(np.median(times)), p10_ms=float(np.percentile(times, 10)),
            p90_ms=float(np.percentile(times, 90)), threads=int(config.threads),
            invokes=int(times.size), kernels=model["kernels"], note=model["note"],
            round_medians_ms=tuple(float(np.median(r) / 1e6) for r in model["rounds"]),
            builtin_ops=model["builtin_ops"], op_kernels=model["op_kernels"]).to_dict()
    return results


def _one_round(interpreter, budget_ns: float) -> np.ndarray:
    """Time single invokes until this round's time budget or invoke cap is used (at least one)."""
    times = []
    started = time.perf_counter_ns()
    while len(times) < MAX_INVOKES_PER_ROUND:
        begin = time.perf_counter_ns()
        interpreter.invoke()
        times.append(time.perf_counter_ns() - begin)
        if time.perf_counter_ns() - started >= budget_ns:
            break
    return np.asarray(times, dtype=np.float64)


def _load(path: str, config: LatencyConfig, rng) -> dict:
    """An allocated interpreter with a fixed random input, plus what kernels it uses."""
    from optimizer import compat

    interpreter_class = compat.interpreter_class()
    notes = []
    try:
        interpreter = interpreter_class(model_path=path, num_threads=int(config.threads))
        interpreter.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        # Measured: sparse (EXPERIMENTAL_SPARSITY) dynamic-range files fail to prepare under
        # XNNPACK; the builtin kernels run them.
        interpreter = interpreter_class(
            model_path=path, num_threads=int(config.threads),
            experimental_op_resolver_type=compat.op_resolver_type()
            .BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interpreter.allocate_tensors()
        notes.append(NOTE_NO_XNNPACK.format(error=_one_line(exc)[:120]))
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], _random_input(detail, rng))
    batch = batch_note(fixed_batch(interpreter.get_input_details()), timing=True)
    if batch:  # e.g. a file from elsewhere that fixes its batch at 3: one invoke, 3 samples
        notes.append(batch)
    kernels, builtin, ops = kernels_used(interpreter)
    if any(np.dtype(t) == np.int16 for op in ops
           for t in list(op["operand_types"]) + list(op["result_types"])):
        notes.append(INT16_NOTE)
    dynamic = sorted({op["op_name"] for op in builtin if _is_dynamic_range(op)})
    if dynamic and kernels.startswith("XNNPACK"):
        notes.append(NOTE_DYNAMIC.format(ops=", ".join(dynamic)))
    names = [op["op_name"] for op in builtin]
    counted = tuple(f"{n} x{names.count(n)}" if names.count(n) > 1 else n
                    for n in sorted(set(names)))
    int8 = [op["op_name"] for op in builtin if not _is_dynamic_range(op) and any(
        np.dtype(t) in (np.int8, np.uint8) for t in list(op["operand_types"]))]
    if int8 and kernels.startswith("XNNPACK"):
        # e.g. MobileNetV3's int8 HARD_SWISH: XNNPACK has no kernel, each one splits the graph
        notes.append(NOTE_INT8.format(ops=", ".join(
            f"{n} x{int8.count(n)}" if int8.count(n) > 1 else n for n in sorted(set(int8)))))
    return {"interpreter": interpreter, "kernels": kernels, "builtin_ops": counted,
            "op_kernels": op_kernels(kernels, builtin, ops),
            "note": "; ".join(notes) or None, "rounds": []}


def op_kernels(kernels: str, builtin: list, ops: list) -> tuple:
    """Per op of the main graph, in order: "XNNPACK" when a delegate partition ran it, else
    "builtin" (``kernels_used``'s answer, op by op)."""
    outside = {int(op["index"]) for op in builtin}
    delegated = kernels != "builtin kernels"
    return tuple("XNNPACK" if delegated and int(op["index"]) not in outside else "builtin"
                 for op in sorted(ops, key=lambda op: int(op["index"])))


def kernels_words(kernels) -> str:
    """``kernels_used``'s first value ("XNNPACK", "XNNPACK + 3 builtin ops", "builtin kernels",
    as results record it) as a message a page writes in its reader's language."""
    from optimizer.text import msg

    text = str(kernels or "")
    match = re.fullmatch(r"XNNPACK \+ (\d+) builtin ops", text)
    if match:
        return msg("XNNPACK + {count} builtin ops", count=int(match.group(1)))
    return msg("builtin kernels") if text == "builtin kernels" else text


def kernels_used(interpreter) -> tuple[str, list, list]:
    """What runs: "XNNPACK", "XNNPACK + N builtin ops" or "builtin kernels".

    ``_get_ops_details()`` lists every node: the model's original ops (also the ones a
    delegate replaced) and one DELEGATE node per delegated partition. Walking back from the
    graph outputs through whichever node actually produces each tensor (the DELEGATE node if
    it outputs it, else the original op) reaches exactly the nodes in the execution plan.
    """
    ops = interpreter._get_ops_details()  # noqa: SLF001 - the only way LiteRT lists nodes
    delegates = [op for op in ops if op["op_name"] == "DELEGATE"]
    producer = {}
    for op in ops:
        if op["op_name"] != "DELEGATE":
            for t in op["outputs"]:
                producer.setdefault(int(t), op)
    for op in delegates:
        for t in op["outputs"]:
            producer[int(t)] = op  # a partition's outputs come from its DELEGATE node
    executed, stack = {}, [int(d["index"]) for d in interpreter.get_output_details()]
    seen = set()
    while stack:
        tensor = stack.pop()
        if tensor in seen:
            continue
        seen.add(tensor)
        op = producer.get(tensor)
        if op is not None and op["index"] not in executed:
            executed[op["index"]] = op
            stack.extend(int(t) for t in op["inputs"] if int(t) >= 0)
    builtin = sorted((op for op in executed.values() if op["op_name"] != "DELEGATE"),
                     key=lambda op: op["index"])
    original = [op for op in ops if op["op_name"] != "DELEGATE"]
    if not delegates:
        return "builtin kernels", original, original
    if not builtin:
        return "XNNPACK", [], original
    return f"XNNPACK + {len(builtin)} builtin ops", builtin, original


def _is_dynamic_range(op: dict) -> bool:
    """A hybrid op: float activations in, int8 weights in, float out."""
    types = [np.dtype(t) for t in op["operand_types"]]
    return np.dtype(np.float32) in types and np.dtype(np.int8) in types and all(
        np.dtype(t) == np.float32 for t in op["result_types"])


def _random_input(detail: dict, rng) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    shape = [max(1, int(d)) for d in detail["shape"]]
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        # int32/int64 inputs are ids or indices (token ids into an embedding's GATHER): a
        # negative one fails the invoke, so they get small non-negative values; int8/int16
        # inputs are quantized activations and take their whole small range
        low = max(info.min, -128) if info.bits <= 16 else 0
        return rng.integers(low, min(info.max, 127) + 1 if info.bits <= 16 else 2, size=shape,
                            dtype=dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    return rng.random(shape).astype(dtype)


def _one_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:200]


def main(argv=None) -> int:
    """``python -m optimizer.measuring.latency [--threads N ...] MODEL.tflite ...``: JSON on stdout."""
    parser = argparse.ArgumentParser(prog="python -m optimizer.measuring.latency",
                                     description="Time .tflite files with LiteRT only.")
    parser.add_argument("paths", nargs="+")
    defaults = LatencyConfig()
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--warmup", type=int, default=defaults.warmup)
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--max-seconds", type=float, default=defaults.max_seconds)
    parser.add_argument("--report-modules", action="store_true",
                        help="also list the top-level modules this process imported")
    args = parser.parse_args(argv)
    try:
        config = LatencyConfig(threads=args.threads, warmup=args.warmup, rounds=args.rounds,
                               max_seconds=args.max_seconds)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = {"results": _time_models(list(args.paths), config), "host": host_description()}
    if args.report_modules:
        report["modules"] = sorted({name.split(".")[0] for name in sys.modules})
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
