"""The sensitivity pass of the precision search: each layer's measured cost and benefit at each
precision the target allows, in one worker process.

A job of kind ``sensitivity`` reads its task (``SensitivityTask``: the precisions to try, the
plan's input/output, how many samples) from ``<run_dir>/<job id>.sensitivity.json`` and:

1. converts the float model once and calibrates the LiteRT Quantizer once (the ``mixed``
   recipe's int8 plan); every variant below reuses that calibration (min/max of the float
   model's tensors: the same whatever precision a layer then gets);
2. quantizes the all-int8 plan, then, for each layer and each precision, the plan with only
   that layer changed (the ``mixed`` technique's own calls), and measures each file: its metric
   on the *sensitivity samples* (the first training samples, labels where there are any, else
   agreement with the float model: never the test split, which verifies the plan afterwards)
   and the RMSE of its outputs against the float model's there (``error``), its bytes, and its
   single-invoke latency (all variants timed together in one LiteRT-only
   process, short rounds: a cost to compare, the trial's own latency is measured as usual);
3. writes ``sensitivity.json`` in the job's folder (``SENSITIVITY_REPORT``): the float and
   all-int8 reference, and per layer and precision the value, bytes, latency and the precision
   the file really has (the Quantizer may lack a rule for an op).

The search's solver (``optimizer.search.precision``) turns the report into plans. TensorFlow
loads inside functions only.
"""
from __future__ import annotations

import contextlib
import io
import shutil
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from optimizer.artifacts import store
from optimizer.guide.precision import IO_KINDS, PRECISIONS, LayerPlan
from optimizer.text import N_

SENSITIVITY_REPORT = "sensitivity.json"
#: How latency is timed for the report: a cost to compare variants, kept short.
TIMING = {"threads": 1, "warmup": 5, "rounds": 3, "max_seconds": 0.25}


@dataclass(frozen=True)
class SensitivityTask:
    """What a sensitivity job measures: ``precisions`` besides int8 (``int16``, ``float``),
    the plans' ``io``, ``samples`` (sensitivity samples), ``max_layers`` (layers measured, in
    graph order; the rest are left int8) and ``latency`` (time the variants)."""

    precisions: tuple = ("int16", "float")
    io: str = "float"
    samples: int = 1000
    max_layers: int = 64
    latency: bool = True

    def __post_init__(self):
        object.__setattr__(self, "precisions", tuple(str(p) for p in self.precisions))
        bad = [p for p in self.precisions if p not in PRECISIONS or p == "int8"]
        if bad or not self.precisions:
            raise ValueError(f"sensitivity precisions {list(self.precisions)}: give int16 "
                             "and/or float (int8 is the reference)")
        if self.io not in IO_KINDS:
            raise ValueError(f"sensitivity io {self.io!r}: use {' or '.join(IO_KINDS)}")
        if not 10 <= int(self.samples) <= 100_000 or not 1 <= int(self.max_layers) <= 1000:
            raise ValueError("sensitivity samples must be 10-100000 and max_layers 1-1000")

    def to_dict(self) -> dict:
        return {**asdict(self), "precisions": list(self.precisions)}


def task_path(job) -> Path:
    return Path(job.run_dir) / f"{job.id}.sensitivity.json"


def write_task(job, task: SensitivityTask) -> Path:
    """Write ``task`` beside ``job`` (the search, before it starts the worker)."""
    return store.write_json_atomic(task_path(job), task.to_dict())


def read_task(job) -> SensitivityTask:
    data = store.read_json(task_path(job))
    if not isinstance(data, dict):
        raise ValueError(f"sensitivity job {job.id} has no task file; start it through the "
                         "search")
    return SensitivityTask(**{**data, "precisions": tuple(data.get("precisions") or ())})


def run_sensitivity(ctx) -> None:
    """Run one sensitivity job inside its worker (``ctx`` is a ``pipeline.JobContext``)."""
    from optimizer.engine.context import load_step, timer
    from optimizer.engine.convert import convert, freeze_model
    from optimizer.engine.signature import add_signature
    from optimizer.guide.configs import PtqConfig
    from optimizer.measuring.precision import layer_ops

    task = read_task(ctx.job)
    start = timer()
    ctx.progress([], "load model", 0.05, f"loading {ctx.bundle.name} and its data")
    model = ctx.bundle.load_source()
    source = freeze_model(model) if hasattr(model, "layers") else model
    float_file = add_signature(convert(source, PtqConfig.float32()).tflite)
    steps = [load_step(ctx, timer() - start)]
    samples = _sensitivity_samples(ctx.bundle.dataset, task.samples)
    quantize = _quantizer(float_file, ctx.bundle.dataset, ctx.settings.calibration_samples,
                          task.io)
    layers = layer_ops(float_file)
    measured = layers[: task.max_layers]
    base = LayerPlan(io=task.io)
    folder = Path(ctx.run_dir) / "sensitivity-files"
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def measure(key: str, tflite: bytes) -> dict:
        path = folder / f"{len(files)}.tflite"
        path.write_bytes(tflite)
        files[key] = path
        value, error = samples.score(tflite)
        return {"value": value, "error": error, "size_bytes": len(tflite)}

    report = {"metric": samples.metric, "higher_is_better": samples.higher_is_better,
              "samples": samples.count, "split": samples.split, "io": task.io,
              "precisions": ["int8", *task.precisions],
              "calibration_samples": ctx.settings.calibration_samples,
              "float": measure("float", float_file), "int8": measure("int8", quantize(base)),
              "layers": [], "left_int8": [layer.name for layer in layers[task.max_layers:]]}
    total = len(measured) * len(task.precisions)
    for n, layer in enumerate(measured):
        entry = {"name": layer.name, "op": layer.op, "index": layer.index, "choices": {}}
        for precision in task.precisions:
            done = (n * len(task.precisions) + len(entry["choices"])) / max(total, 1)
            ctx.progress([], "sensitivity", 0.2 + 0.6 * done,
                         f"{layer.name} ({layer.op}) at {precision}")
            tflite = quantize(base.with_layers({layer.name: precision}))
            choice = measure(f"{layer.name}|{precision}", tflite)
            got = next((x.precision for x in layer_ops(tflite) if x.name == layer.name), None)
            choice["precision_read"] = got
            entry["choices"][precision] = choice
        report["layers"].append(entry)
    if task.latency:
        ctx.progress([], "latency", 0.85, f"timing {len(files)} variants (short rounds)")
        _time(files, report)
    shutil.rmtree(folder, ignore_errors=True)
    report["seconds"] = round(timer() - start, 1)
    report["steps"] = steps
    store.write_json_atomic(Path(ctx.run_dir) / SENSITIVITY_REPORT, report)


#: Which samples a report was measured on (English in the report; message ids a page reads
#: back with ``text.read_back``).
TRAINING_SAMPLES = N_("the first {count} training samples")
REPRESENTATIVE_SAMPLES = N_("the first {count} representative samples")


class _Samples:
    """The sensitivity samples and how a file is scored on them (see the module docstring)."""

    def __init__(self, dataset, x, y, split: str):
        from optimizer.models.dataset import Dataset

        self.data = Dataset(name="sensitivity", x_test=x, y_test=y, task=dataset.task)
        self.split = split
        self.count = len(x)
        self.reference = None
        self.metric, self.higher_is_better = "accuracy", True

    def score(self, tflite: bytes) -> tuple[float, float]:
        """(the metric, the RMSE of the outputs against the float model's): the metric is what
        the budget is in; the error still tells layers apart when the metric cannot (a loss of
        a sample or two)."""
        import numpy as np

        from optimizer.measuring.accuracy import run_tflite, score

        outputs = run_tflite(tflite, self.data.x_test)
        if self.reference is None:       # the first file scored is the float model
            self.reference = outputs
        result = score(outputs, self.data, reference_outputs=self.reference)
        self.metric, self.higher_is_better = result.metric, bool(result.higher_is_better)
        diff = np.asarray(outputs, np.float64) - np.asarray(self.reference, np.float64)
        return float(result.value), float(np.sqrt(np.mean(diff ** 2)))


def _sensitivity_samples(dataset, count: int) -> _Samples:
    """The first ``count`` training samples (with their labels), else representative ones."""
    if dataset.x_train is not None and len(dataset.x_train):
        x = dataset.x_train[:count]
        y = dataset.y_train[:count] if dataset.y_train is not None else None
        return _Samples(dataset, x, y, TRAINING_SAMPLES.format(count=len(x)))
    x = dataset.representative(count)
    return _Samples(dataset, x, None, REPRESENTATIVE_SAMPLES.format(count=len(x)))


def _quantizer(float_file: bytes, dataset, calibration_samples: int, io_kind: str):
    """``quantize(plan) -> bytes``: the ``mixed`` recipe's calls for ``plan`` on the float file,
    all from ONE calibration."""
    from optimizer import compat
    from optimizer.engine.quantizer import calibration_data, load_recipe
    from optimizer.guide.configs import PtqConfig
    from optimizer.guide.registry import TECHNIQUES, TechniqueId

    quantizer_module, recipe_module = compat.litert_quantizer()
    recipe = TECHNIQUES[TechniqueId.MIXED].quantizer
    config = PtqConfig(TechniqueId.MIXED, calibration_samples=calibration_samples)
    data = calibration_data(float_file, config, dataset.representative(calibration_samples))

    def quiet():
        stack = contextlib.ExitStack()
        sink = io.StringIO()
        stack.enter_context(contextlib.redirect_stdout(sink))
        stack.enter_context(contextlib.redirect_stderr(sink))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        return stack

    with quiet():
        first = quantizer_module.Quantizer(bytearray(float_file))
        load_recipe(first, recipe_module, recipe, plan=LayerPlan(io=io_kind), model=float_file)
        calibration = first.calibrate(data, num_threads=2)

    def quantize(plan: LayerPlan) -> bytes:
        with quiet():
            quantizer = quantizer_module.Quantizer(bytearray(float_file))
            load_recipe(quantizer, recipe_module, recipe, plan=plan, model=float_file)
            result = quantizer.quantize(calibration if quantizer.need_calibration else None)
        return bytes(result.quantized_model)

    return quantize


def _time(files: dict, report: dict) -> None:
    """Each variant's median single-invoke latency (ms) into the report, timed together."""
    from optimizer.guide.configs import LatencyConfig
    from optimizer.measuring.latency import measure_latency

    started = time.perf_counter()
    stats = measure_latency([str(p) for p in files.values()], LatencyConfig(**TIMING))
    by_key = {key: stats.get(str(path)) for key, path in files.items()}

    def put(target: dict, key: str) -> None:
        found = by_key.get(key)
        target["latency_ms"] = None if found is None else found.median_ms

    put(report["float"], "float")
    put(report["int8"], "int8")
    for entry in report["layers"]:
        for precision, choice in entry["choices"].items():
            put(choice, f"{entry['name']}|{precision}")
    report["latency"] = {**TIMING, "seconds": round(time.perf_counter() - started, 1),
                         "note": "short rounds in one LiteRT-only process: a cost to compare "
                                 "variants, not a reported latency"}
