"""The selective-quantization job: per-layer int8 error, and int8 with its worst layers in float.

A job of kind ``selective`` (run by ``python -m optimizer worker`` like every job) reads its
task from ``<run_dir>/<job id>.selective.json`` (``SelectiveTask``) and:

1. loads the model, freezes it once and calibrates post-training integer quantization once
   under TFLite's QuantizationDebugger (``quant_debug.quantization_debugger``);
2. measures every quantized op's error (``layer_error.layer_errors``: RMSE / scale);
3. depending on the mode --
   * ``auto``: keeps the 1, 2, ... ``max_layers`` worst ops in float (re-quantizing without
     recalibration, a fraction of a second each) and measures each through the LiteRT
     interpreter until the accuracy budget is met; the first that meets it (or, when none
     does, the most accurate) becomes the result;
   * ``hand``: keeps exactly the ops the user picked in float;
   * ``analyse``: measures the per-layer error only (no result);
4. measures the kept file like every other result (``pipeline.measure_conversion``: size,
   accuracy against the float baseline, recipe), and the per-layer error again with those ops
   in float (the "after" picture);
5. writes the layer report (``layers.json`` in the job's folder): before and after per layer,
   which ops stayed float, every attempt with its accuracy and size.

The result's ``technique`` is the task's trial id (e.g. ``integer[keep-float]``); its
``settings["selective"]`` names the float layers. TensorFlow loads inside functions only.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

from optimizer.artifacts import store
from optimizer.guide.registry import TechniqueId
from optimizer.text import msg

MODES = ("auto", "hand", "analyse")
LAYER_REPORT = "layers.json"


@dataclass(frozen=True)
class SelectiveTask:
    """What a selective job does (see the module docstring).

    ``trial`` is the result's technique id; ``layers`` the op names to keep in float (mode
    "hand"); ``max_layers`` the most ops "auto" may keep in float; ``accuracy_goal`` the
    ``AccuracyGoal`` fields "auto" must meet (``max_drop``, ``relative``,
    ``higher_is_better``); ``debug_samples`` how many representative samples the per-layer
    statistics average over.
    """

    mode: str
    trial: str = "integer[keep-float]"
    layers: tuple = ()
    max_layers: int = 5
    accuracy_goal: dict | None = None
    debug_samples: int = 100

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"selective mode '{self.mode}' is not known; use one of "
                             f"{', '.join(MODES)}")
        object.__setattr__(self, "layers", tuple(str(n) for n in self.layers))
        if self.mode == "hand" and not self.layers:
            raise ValueError("pick at least one layer to keep in float")
        if self.mode == "auto" and not self.accuracy_goal:
            raise ValueError("automatic selective quantization needs the accuracy goal to meet")
        if not 1 <= int(self.max_layers) <= 50:
            raise ValueError("max_layers must be between 1 and 50")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["layers"] = list(self.layers)
        return data


def task_path(job) -> Path:
    """Where a selective job's task lives: beside its job file."""
    return Path(job.run_dir) / f"{job.id}.selective.json"


def write_task(job, task: SelectiveTask) -> Path:
    """Write ``task`` for ``job`` (the orchestrator, before starting the worker)."""
    return store.write_json_atomic(task_path(job), task.to_dict())


def read_task(job) -> SelectiveTask:
    """The task of ``job``; ``ValueError`` when it is missing or invalid."""
    data = store.read_json(task_path(job))
    if not isinstance(data, dict):
        raise ValueError(f"selective job {job.id} has no task file ({task_path(job)}); start it "
                         "through the search")
    return SelectiveTask(**{**data, "layers": tuple(data.get("layers") or ())})


def run_selective(ctx) -> None:
    """Run one selective job inside its worker (``ctx`` is a ``pipeline.JobContext``)."""
    from optimizer.engine.context import load_step, timer
    from optimizer.engine.convert import freeze_model
    from optimizer.engine.layer_error import layer_errors, worst_layers
    from optimizer.engine.quant_debug import quantization_debugger, selective_conversion

    task = read_task(ctx.job)
    specs = list(ctx.job.specs)
    start = timer()
    ctx.progress(specs, msg("load model"), 0.05, msg("loading {name} and its data", name=ctx.bundle.name))
    model = ctx.bundle.load_keras()
    dataset = ctx.bundle.dataset
    steps = [load_step(ctx, timer() - start)]
    ctx.progress(specs, msg("calibrate"), 0.2, msg("calibrating int8 once under the QuantizationDebugger"))
    representative = dataset.representative(ctx.settings.calibration_samples)
    debug = quantization_debugger(freeze_model(model), representative,
                                  calibration_samples=ctx.settings.calibration_samples,
                                  debug_samples=task.debug_samples)
    steps.append(f"integer calibrated once under tf.lite.experimental.QuantizationDebugger "
                 f"({debug.seconds:.1f} s, {debug.calibration_samples} samples)")
    ctx.progress(specs, msg("per-layer error"), 0.35, msg("measuring each layer's int8 error"))
    before = layer_errors(debug)
    report = {"trial": task.trial if task.mode != "analyse" else None, "mode": task.mode,
              "metric": "rmse/scale", "debug_samples": debug.debug_samples,
              "before": [e.to_dict() for e in before], "after": [], "kept_float": [],
              "attempts": []}
    plain = _attempt(ctx, debug, [], selective_conversion)
    report["plain"] = plain["facts"]
    if task.mode == "analyse":
        _write_report(ctx, report)
        return
    if task.mode == "hand":
        known = {e.name for e in before}
        unknown = [n for n in task.layers if n not in known]
        if unknown:
            raise ValueError(f"layer {unknown[0]!r} is not a quantized op of this model; pick "
                             "layers from the per-layer error chart")
        chosen = _attempt(ctx, debug, list(task.layers), selective_conversion)
        report["attempts"].append(chosen["facts"])
    else:
        chosen = _auto(ctx, task, debug, before, worst_layers, selective_conversion, report)
    kept = chosen["facts"]["layers"]
    ctx.progress(specs, msg("per-layer error"), 0.8, msg("measuring each layer's error with {n_kept} kept in "
                                                    "float",
                                                    n_kept=len(kept)))
    report["after"] = [e.to_dict() for e in layer_errors(debug, kept)]
    by_name = {e.name: e for e in before}
    report["kept_float"] = [{"name": n, "layer": by_name[n].layer, "op": by_name[n].op}
                            for n in kept if n in by_name]
    _record(ctx, task, chosen["conversion"], steps, timer() - start, report, by_name)
    _write_report(ctx, report)


def _auto(ctx, task, debug, before, worst_layers, selective_conversion, report) -> dict:
    """Keep the 1, 2, ... worst ops in float until the accuracy budget is met."""
    from optimizer.guide.goals import AccuracyGoal

    goal = AccuracyGoal(**task.accuracy_goal)
    ranked = worst_layers(before, task.max_layers)
    best = None
    for count in range(1, len(ranked) + 1):
        ctx.progress(list(ctx.job.specs), msg("keep float"), 0.4 + 0.35 * count / len(ranked),
                     msg("keeping the {count} worst layer(s) in float", count=count))
        attempt = _attempt(ctx, debug, [e.name for e in ranked[:count]], selective_conversion)
        value = attempt["facts"]["accuracy"]
        attempt["facts"]["meets_budget"] = bool(
            value is not None and ctx.reference_value is not None and
            goal.drop(ctx.reference_value, value) <= goal.max_drop + 1e-9)
        report["attempts"].append(attempt["facts"])
        if best is None or _better(value, best["facts"]["accuracy"], goal.higher_is_better):
            best = attempt
        if attempt["facts"]["meets_budget"]:
            return attempt
    if best is None:
        raise ValueError("no layer has quantization error to remove: every op is already "
                         "exact in int8")
    return best


def _better(value, other, higher: bool) -> bool:
    if value is None:
        return False
    if other is None:
        return True
    return value > other if higher else value < other


def _attempt(ctx, debug, layers: list, selective_conversion) -> dict:
    """Quantize with ``layers`` in float and measure it on the test split (no latency)."""
    from optimizer.measuring.accuracy import evaluate

    conversion = selective_conversion(debug, layers)
    evaluation = evaluate(conversion.tflite, ctx.bundle.dataset,
                          reference_outputs=ctx.reference_outputs)
    facts = {"layers": list(layers), "count": len(layers), "accuracy": evaluation.value,
             "metric": evaluation.metric, "size_bytes": len(conversion.tflite)}
    return {"conversion": conversion, "facts": facts}


def _record(ctx, task, conversion, steps, prep_seconds, report, by_name) -> None:
    """Measure the kept file like every result, under the trial's id, and fix its recipe."""
    from optimizer.engine.context import measure_conversion

    kept = report["kept_float"]
    names = ", ".join(k["layer"] for k in kept)
    notes = [f"kept in float: {names} (the {len(kept)} op(s) with the largest int8 error, "
             f"RMSE / scale)" if task.mode == "auto" else f"kept in float by hand: {names}"]
    for attempt in report["attempts"]:
        if attempt["accuracy"] is not None and attempt["metric"] in ("accuracy", "agreement"):
            notes.append(f"{attempt['count']} layer(s) in float: {attempt['metric']} "
                         f"{100 * attempt['accuracy']:.2f}%, {attempt['size_bytes']:,} B")
    all_steps = list(steps) + [f"keep in float: {names}",
                               f"re-quantize without recalibration ({conversion.seconds:.2f} s)"]
    result = measure_conversion(ctx, TechniqueId.INTEGER.value, conversion, all_steps,
                                prep_seconds, notes)
    selective = {"float_layers": [k["layer"] for k in kept],
                 "denylisted_nodes": [k["name"] for k in kept], "mode": task.mode,
                 "metric": "rmse/scale", "report": str(Path(ctx.run_dir) / LAYER_REPORT)}
    result = replace(result, technique=task.trial,
                     settings={**result.settings, "selective": selective})
    recipe = store.read_json(result.recipe_path, default={}) or {}
    recipe.update({"technique": task.trial, "selective": selective, "converter": conversion.recipe,
                   "command": None,
                   "reproduce": "convert with tf.lite.experimental.QuantizationDebugger("
                                "converter=<integer converter>, debug_dataset=...), set "
                                "debugger.options = QuantizationDebugOptions(denylisted_nodes="
                                "<selective.denylisted_nodes>) and call "
                                "get_nondebug_quantized_model()"})
    store.write_json_atomic(result.recipe_path, recipe)
    report["result"] = {"technique": task.trial, "size_bytes": result.size_bytes,
                        "accuracy": result.accuracy}
    ctx.add(result)


def _write_report(ctx, report: dict) -> None:
    store.write_json_atomic(Path(ctx.run_dir) / LAYER_REPORT, report)
