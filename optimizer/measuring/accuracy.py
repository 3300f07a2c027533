"""Accuracy (or agreement, or error) of a ``.tflite`` measured through the LiteRT interpreter.

Every result is measured on the file that ships, not on the Keras model: the test split runs
through ``ai_edge_litert``'s Interpreter (via ``optimizer.compat``) in chunks of 32 samples
(measured bit-identical to one sample per ``invoke()`` and up to 2x faster), with the XNNPACK
delegate a user's app gets by default. Integer inputs are quantized and integer outputs
dequantized with each tensor's own scale and zero point, so int8, uint8 and int16 I/O models
are compared in the same float units as the baseline.

The metric follows the data: labelled classification -> "accuracy"; unlabelled
classification -> "agreement" with the baseline's predictions; regression -> "rmse" against
the labels, or against the baseline's outputs when there are none (lower is better).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from optimizer import compat
from optimizer.inputs import ordered
from optimizer.measuring.batching import fixed_batch, padded


@dataclass(frozen=True)
class Evaluation:
    """One measured metric on the test split, with the raw (dequantized) outputs.

    ``outputs`` are the model's first output for every test sample, in float; pass the
    baseline's as ``reference_outputs`` when evaluating variants of unlabelled data.
    """

    metric: str
    value: float
    higher_is_better: bool
    outputs: np.ndarray = field(repr=False, compare=False)
    samples: int
    seconds: float
    note: str | None = None  # e.g. why an agreement figure is not meaningful


def run_tflite(tflite: bytes | Path, x, chunk: int = 32, num_threads: int = 2,
               workers: int = 1) -> np.ndarray:
    """Run a ``.tflite`` (bytes or path) on ``x`` and return its first output, in float.

    ``x`` is an array of samples, or for a model with several inputs ``Inputs`` (matched to
    the file's inputs by name) or a list of arrays in the file's input order. Samples run
    ``chunk`` at a time (the input is resized once per chunk size); a model whose batch
    dimension is fixed at B runs B samples at a time, the last batch padded and the padding's
    outputs dropped (``optimizer.measuring.batching``). ``workers`` > 1 splits the samples
    into that many consecutive parts, each run by its own interpreter in a thread of its own
    (``invoke`` releases the GIL), ``num_threads // workers`` threads each: what keeps every
    core busy for ops that run on single-threaded reference kernels (int16x8); measured
    bit-identical to one interpreter.
    """
    interpreter, arrays, step, batch = _prepared(tflite, x, chunk, num_threads)
    parts = _parts(len(arrays[0]), step, int(workers))
    if len(parts) == 1:
        return _run_part(interpreter, arrays, step, batch)
    from concurrent.futures import ThreadPoolExecutor

    def run(part, own):
        start, end = part
        return _run_part(own, [a[start:end] for a in arrays], step, batch)

    interpreters = [_interpreter(tflite, max(1, int(num_threads) // len(parts)))
                    for _ in parts]
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        outputs = list(pool.map(run, parts, interpreters))
    return np.concatenate(outputs, axis=0)


def _prepared(tflite, x, chunk: int, num_threads: int) -> tuple:
    """(interpreter, input arrays in the file's order, samples per invoke, fixed batch or
    None) for running ``tflite`` on ``x``; ``ValueError`` naming what is wrong with ``x``."""
    if int(chunk) < 1:
        raise ValueError("chunk must be a positive number of samples (32 is a good default)")
    interpreter = _interpreter(tflite, num_threads)
    arrays = [np.asarray(a) for a in ordered(x, input_names(interpreter), "the test samples")]
    count = len(arrays[0])
    if any(len(a) != count for a in arrays):
        raise ValueError("every input array must hold the same number of samples")
    if count == 0:
        raise ValueError("no samples to evaluate: the test split is empty")
    batch = fixed_batch(interpreter.get_input_details())
    return interpreter, arrays, (int(chunk) if batch is None else batch), batch


class OutputsBeside:
    """``run_tflite``'s outputs computed beside other work: a thread starts on the samples at
    once, one single-threaded interpreter, a chunk at a time; ``finish`` has the caller's
    thread take the chunks still left with a second interpreter, then returns the outputs.

    For a file on single-threaded reference kernels (int16x8) evaluated while the job converts
    and measures its other variants: one core runs it from the start, both at the end. The
    outputs equal ``run_tflite``'s (each sample runs alone through the same kernels; chunks
    are reassembled in order).
    """

    def __init__(self, tflite: bytes | Path, x, chunk: int = 32):
        import threading

        self.started = time.perf_counter()
        self._tflite = tflite
        interpreter, self._arrays, self._step, self._batch = _prepared(tflite, x, chunk, 1)
        count = len(self._arrays[0])
        self._chunks = [(s, min(count, s + self._step)) for s in range(0, count, self._step)]
        self._outputs: list = [None] * len(self._chunks)
        self._next, self._error = 0, None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, args=(interpreter,), daemon=True,
                                        name="outputs-beside")
        self._thread.start()

    def _take(self) -> int | None:
        with self._lock:
            if self._error is not None or self._next >= len(self._chunks):
                return None
            self._next += 1
            return self._next - 1

    def _work(self, interpreter) -> None:
        try:
            while (index := self._take()) is not None:
                start, end = self._chunks[index]
                self._outputs[index] = _run_part(interpreter, [a[start:end] for a in self._arrays],
                                                 self._step, self._batch)
        except BaseException as exc:  # noqa: BLE001 - handed to finish(), in the caller's thread
            with self._lock:
                self._error = self._error or exc

    def finish(self) -> np.ndarray:
        """The outputs (every sample's first output, in float), helping with what is left;
        re-raises what went wrong in either thread."""
        if self._next < len(self._chunks):
            self._work(_interpreter(self._tflite, 1))
        self._thread.join()
        if self._error is not None:
            raise self._error
        return np.concatenate(self._outputs, axis=0)


#: Number formats whose ops run on single-threaded reference kernels (XNNPACK has no int16
#: activations): their evaluation is split over ``EVAL_WORKERS`` interpreters.
REFERENCE_KERNEL_FORMATS = ("int16x8",)
EVAL_WORKERS = 2


def workers_for(tflite) -> int:
    """How many interpreters ``evaluate`` should split a file's test run over: ``EVAL_WORKERS``
    for a format that runs on reference kernels, else 1 (XNNPACK already uses the threads)."""
    from optimizer.measuring.formats import tflite_format

    try:
        return EVAL_WORKERS if tflite_format(tflite).value in REFERENCE_KERNEL_FORMATS else 1
    except (ValueError, OSError):
        return 1


def _parts(count: int, step: int, workers: int) -> list[tuple[int, int]]:
    """Consecutive ``(start, end)`` slices for ``workers`` interpreters, whole steps each
    (one part when there are too few samples to share)."""
    steps = -(-count // step)
    workers = max(1, min(int(workers), steps))
    bounds = [min(count, steps * i // workers * step) for i in range(workers + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _run_part(interpreter, arrays: list, step: int, batch: int | None) -> np.ndarray:
    """One interpreter's run over ``arrays`` (see ``run_tflite``)."""
    inputs = interpreter.get_input_details()
    output = interpreter.get_output_details()[0]
    count = len(arrays[0])
    results, allocated = [], None
    for start in range(0, count, step):
        size = min(step, count - start)
        if batch is None and size != allocated:
            for detail, array in zip(inputs, arrays):
                interpreter.resize_tensor_input(detail["index"], [size, *array.shape[1:]])
            interpreter.allocate_tensors()
            allocated = size
        elif allocated is None:
            interpreter.allocate_tensors()
            allocated = batch
        for detail, array in zip(inputs, arrays):
            part = array[start:start + size]
            interpreter.set_tensor(detail["index"], quantize_input(
                part if batch is None else padded(part, batch), detail))
        interpreter.invoke()
        values = interpreter.get_tensor(output["index"])
        if batch is not None and len(values) != batch:
            raise ValueError(f"the model's output {list(values.shape)} does not keep its fixed "
                             f"batch of {batch} samples, so results cannot be told apart per "
                             f"sample; export it with a batch dimension on the output")
        results.append(dequantize_output(values[:size], output))
    return np.concatenate(results, axis=0)


def evaluate(tflite: bytes | Path, dataset, reference_outputs=None, chunk: int = 32,
             num_threads: int = 2, workers: int = 1,
             beside: OutputsBeside | None = None) -> Evaluation:
    """Measure a ``.tflite`` on ``dataset``'s test split (see the module docstring for metrics).

    ``reference_outputs`` are the float baseline's outputs (``Evaluation.outputs``); they are
    required when the test split has no labels. Raises ``ValueError`` when neither labels nor
    reference outputs are available, or when their lengths do not match the test split.
    ``workers``: see ``run_tflite``. ``beside``: this file's outputs on the test split already
    under way (``OutputsBeside``); the seconds then count from their start.
    """
    if beside is not None:
        return score(beside.finish(), dataset, reference_outputs,
                     time.perf_counter() - beside.started)
    start = time.perf_counter()
    outputs = run_tflite(tflite, dataset.x_test, chunk=chunk, num_threads=num_threads,
                         workers=workers)
    return score(outputs, dataset, reference_outputs, time.perf_counter() - start)


def score(outputs: np.ndarray, dataset, reference_outputs=None, seconds: float = 0.0) -> Evaluation:
    """The metric of ``outputs`` (float, one row per test sample) on ``dataset``'s test split.

    The same scoring ``evaluate`` applies, for outputs another runtime produced (TFLite Micro).
    """
    outputs = np.asarray(outputs)
    labels = dataset.y_test
    reference = None if reference_outputs is None else np.asarray(reference_outputs)
    for name, array in (("labels", labels), ("reference outputs", reference)):
        if array is not None and len(array) != len(outputs):
            raise ValueError(f"{len(array)} {name} for {len(outputs)} test samples; pass the "
                             "outputs of the same test split")
    if getattr(dataset, "task", "classification") == "regression":
        target = labels if labels is not None else reference
        if target is None:
            raise ValueError("regression without labels needs the baseline's outputs: pass "
                             "reference_outputs (the float32 Evaluation.outputs)")
        diff = outputs.reshape(len(outputs), -1) - np.asarray(target, np.float32).reshape(
            len(outputs), -1)
        return Evaluation("rmse", float(np.sqrt(np.mean(diff ** 2))), False, outputs,
                          len(outputs), seconds)
    predicted = predictions(outputs)
    if labels is not None:
        truth = np.asarray(labels)
        if truth.ndim == 2 and truth.shape[1] > 1:
            truth = truth.argmax(axis=1)  # one-hot labels
        value = float(np.mean(predicted == truth.reshape(-1).astype(predicted.dtype)))
        return Evaluation("accuracy", value, True, outputs, len(outputs), seconds)
    if reference is None:
        raise ValueError("without labels, agreement needs the baseline's outputs: pass "
                         "reference_outputs (the float32 Evaluation.outputs)")
    value = float(np.mean(predicted == predictions(reference)))
    return Evaluation("agreement", value, True, outputs, len(outputs), seconds,
                      note=degenerate_agreement(outputs, reference))


def degenerate_agreement(outputs, reference) -> str | None:
    """Why an agreement figure says nothing, or None: the baseline predicts one class for
    every sample (e.g. an untrained model), or either model's scores tie between classes
    (argmax then picks the first: an int8 softmax that rounds every class to 0 "agrees" or
    not by accident)."""
    reasons = []
    base = predictions(reference)
    if len(base) > 1 and np.unique(base).size == 1:
        reasons.append(f"the float32 baseline predicts class {int(base[0])} for every test "
                       f"sample")
    for label, scores in (("float32 baseline", reference), ("this model", outputs)):
        flat = np.asarray(scores, dtype=np.float64).reshape(len(scores), -1)
        if flat.shape[1] < 2:
            continue
        top = flat.max(axis=1, keepdims=True)
        ties = float(np.mean((np.abs(flat - top) <= 1e-12).sum(axis=1) > 1))
        if ties >= 0.1:
            reasons.append(f"the {label}'s top class scores tie on {ties:.0%} of the samples")
    if not reasons:
        return None
    return ("agreement is not meaningful here: " + "; ".join(reasons)
            + "; upload labelled data (or a trained model) to measure accuracy")


def predictions(outputs: np.ndarray) -> np.ndarray:
    """Class predictions: argmax over classes, or ``> 0.5`` for a single sigmoid output."""
    flat = np.asarray(outputs).reshape(len(outputs), -1)
    if flat.shape[1] == 1:
        return (flat[:, 0] > 0.5).astype(np.int64)
    return flat.argmax(axis=1).astype(np.int64)


def input_names(interpreter) -> list:
    """The names of an interpreter's inputs, in ``get_input_details`` order: the signature's
    names where the file has one (the model's own input names), else the tensors' names."""
    by_index = {}
    signatures = interpreter.get_signature_list()
    if signatures:
        runner = interpreter.get_signature_runner(next(iter(signatures)))
        by_index = {int(d["index"]): name for name, d in runner.get_input_details().items()}
    return [by_index.get(int(d["index"]), d["name"]) for d in interpreter.get_input_details()]


def _interpreter(tflite, num_threads: int):
    interpreter_class = compat.interpreter_class()
    if isinstance(tflite, (bytes, bytearray, memoryview)):
        return interpreter_class(model_content=bytes(tflite), num_threads=int(num_threads))
    path = Path(tflite)
    if not path.is_file():
        raise ValueError(f"no .tflite file at {path}; check the path")
    return interpreter_class(model_path=str(path), num_threads=int(num_threads))


def quantize_input(values: np.ndarray, detail: dict) -> np.ndarray:
    """Float samples -> the input tensor's dtype, using its scale and zero point if integer."""
    dtype = np.dtype(detail["dtype"])
    if not np.issubdtype(dtype, np.integer):
        return values.astype(dtype, copy=False)
    scale, zero_point = detail["quantization"]
    if scale == 0:  # an integer input that is not quantized (e.g. token ids)
        return values.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.round(values / scale + zero_point), info.min, info.max).astype(dtype)


def dequantize_output(values: np.ndarray, detail: dict) -> np.ndarray:
    """An output tensor -> float32, undoing its quantization when it has one."""
    if np.issubdtype(values.dtype, np.integer):
        scale, zero_point = detail["quantization"]
        if scale:
            return (values.astype(np.float32) - zero_point) * np.float32(scale)
    return values.astype(np.float32, copy=False)
