"""What every step of a job shares: the job's context, measuring a converted file into a
``Result`` (saved with its recipe, evaluated through LiteRT against the float32 baseline), the
command that reproduces it, and one-line error messages.

``engine.pipeline`` dispatches a job to ``posttraining``, ``retraining`` or ``selective``; those
build on this module (never on the dispatcher), so the engine has no import cycle.
"""
from __future__ import annotations

import shlex
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from optimizer.artifacts import store
from optimizer.artifacts.events import EventLog, EventType
from optimizer.artifacts.job import REFERENCE_OUTPUTS, JobSpec
from optimizer.guide.configs import Settings
from optimizer.guide.registry import TechniqueId, parse_spec
from optimizer.guide.schema import Result
from optimizer.guide.stage_handlers import STAGES
from optimizer.models.resolve import ModelBundle
from optimizer.text import msg


@dataclass
class JobContext:
    """Everything a job's steps share: the job, its model bundle, settings, events and outputs."""

    job: JobSpec
    bundle: ModelBundle
    settings: Settings
    log: EventLog
    results: dict = field(default_factory=dict)
    reference_value: float | None = None
    reference_outputs: np.ndarray | None = None

    @property
    def run_dir(self) -> Path:
        return Path(self.job.run_dir)

    def progress(self, specs, step: str, fraction: float | None = None, message: str = "",
                 **fields) -> None:
        """Emit a progress event for each of ``specs`` (a job's shared steps)."""
        self.log.progress(specs, step, fraction=fraction, message=message, **fields)

    def add(self, result: Result) -> None:
        """Record a finished spec and rewrite the job's results file (survives a later crash);
        a measured one is announced at once (a ``measured`` event: its latency comes later,
        timed by the orchestrator after the job), so the pages draw it while the run goes on."""
        self.results[result.technique] = result
        store.write_results(self.run_dir, self.bundle.name, list(self.results.values()),
                            path=self.job.results_path)
        if result.ok:
            self.log.emit(EventType.MEASURED, result.technique, result=result.to_dict(),
                          latency="pending", message="accuracy and size measured; latency is "
                                                     "timed after the job")

    def fail_remaining(self, message: str) -> None:
        """Give every spec of the job without a result an error result with ``message``."""
        for spec in self.job.specs:
            if spec not in self.results:
                self.add(Result.failed(spec, message, model=self.bundle.name))


def error_message(exc: BaseException, log_path: Path | None = None) -> str:
    """One line naming the cause (and the fix where known) for a failed step; no traceback.

    Our own errors (ValueError subclasses such as ``ConversionError``) already say cause and
    fix; anything else gets its type name and a pointer to the job's log.
    """
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else ""
    if isinstance(exc, MemoryError):
        return ("ran out of memory; close other runs, run fewer techniques at once or use a "
                "smaller model")
    where = f" (details in {log_path})" if log_path else ""
    if isinstance(exc, ValueError) and first:
        return first[:400]
    return f"{type(exc).__name__}: {first[:300] or 'no message'}{where}"


def cli_command(bundle: ModelBundle, spec: str, settings_pairs) -> str:
    """The exact ``python -m optimizer run`` command that reproduces one spec."""
    args = ["python", "-m", "optimizer", "run", "--model", bundle.ref]
    if bundle.data:
        args += ["--data", bundle.data]
    args += ["--technique", spec]
    for pair in settings_pairs:
        args += ["--set", pair]
    return shlex.join(args + ["--json", "-"])


def uploaded_files(bundle: ModelBundle) -> dict | None:
    """For a checked upload: what the user uploaded (file names, model sha256, flavor), since
    ``model.ref`` and ``data`` then name the checked copies the command reruns on."""
    from optimizer.models.uploads.prepare import PreparedUpload, is_manifest

    if not is_manifest(bundle.ref):
        return None
    upload = PreparedUpload.load(bundle.ref)
    return {"model": upload.title, "sha256": upload.sha256, "flavor": upload.flavor,
            "data": upload.data_title}


def relevant_settings(spec_text: str, settings: Settings, finetunes: dict) -> dict:
    """The settings that shaped this spec's file (for its result and recipe): each stage's
    config group (with ``preserve_<what>`` flags for what a stage may preserve), the
    fine-tuning configs and, when the conversion calibrates, the calibration size."""
    spec = parse_spec(spec_text)
    out = {}
    for stage in spec.stages:
        handler = STAGES[stage.kind]
        if handler.group is None:
            continue
        record = asdict(settings.stage_config(stage.kind))
        for option in handler.preserves:
            if option is not None:
                record["preserve_" + option.value.replace("+", "_and_")] = stage.preserve == option
        out[handler.group] = record
    if finetunes:
        out["finetune"] = {str(kind): asdict(cfg) for kind, cfg in finetunes.items()}
    if spec.calibrates:
        out["calibration"] = {"samples": settings.calibration_samples}
    row = spec.conversion_row
    if row.settings_group:   # the conversion's own settings (mixed: its per-layer plan)
        out[row.settings_group] = asdict(getattr(settings, row.settings_group))
    return out


def conversion_record(spec_text: str, config) -> dict:
    """What the final conversion was, for ``recipe.json``: the technique, its integer I/O type
    and calibration size, and whether the model was quantization-aware (the reproduce script
    rebuilds the converter settings from exactly these, as the engine did)."""
    spec = parse_spec(spec_text)
    return {"technique": spec.conversion.value, "io_type": str(getattr(config.io_type, "value",
                                                                        config.io_type)),
            "calibration_samples": int(config.calibration_samples),
            "quantization_aware": spec.quantization_aware,
            "quantizer": (spec.conversion_row.quantizer.text
                          if spec.conversion_row.quantizer_only else None),
            **_quantizer_calls(spec, config)}


def _quantizer_calls(spec, config) -> dict:
    """A per-layer recipe's Quantizer calls for the run's plan (what the script writes)."""
    recipe = spec.conversion_row.quantizer
    if recipe is None or not recipe.per_layer:
        return {}
    plan = config.own_config.layer_plan
    return {"plan": plan.to_dict(), "quantizer_calls": [c.source for c in recipe.calls(plan)]}


def measure_conversion(ctx: JobContext, spec: str, conversion, steps: list, prep_seconds: float,
                       notes: list, finetunes: dict | None = None, losses: dict | None = None,
                       config=None, beside=None) -> Result:
    """Save, inspect and evaluate one converted file; return its ``Result``.

    Writes ``<run_dir>/<spec>/model.tflite`` and ``recipe.json``; accuracy is measured through
    the LiteRT interpreter against the float32 baseline's outputs; for the float32 spec this
    also stores those outputs as the reference of every later result. ``losses`` maps each
    fine-tuned stage kind to the loss it used and ``config`` is the conversion's ``PtqConfig``:
    both go into the recipe, from which the reproduce script is written. ``beside``: the file's
    test outputs already under way (``measuring.accuracy.OutputsBeside``).
    """
    from optimizer.engine.sources import UPLOADED_ENGINE
    from optimizer.measuring.accuracy import evaluate, run_tflite, workers_for
    from optimizer.measuring.batching import batch_note
    from optimizer.measuring.facts import tflite_facts
    from optimizer.measuring.formats import tflite_format, uploaded_label
    from optimizer.measuring.precision import layer_precision, precision_counts

    finetunes = finetunes or {}
    path = store.save_tflite(ctx.run_dir, spec, conversion.tflite)
    facts = tflite_facts(conversion.tflite)
    is_baseline = spec == TechniqueId.FLOAT32.value
    reference = ctx.reference_outputs
    if is_baseline and not ctx.bundle.dataset.labelled:
        # Without labels the baseline is its own reference (agreement 1.0 / error 0 by
        # definition); its outputs are what every other variant is compared with.
        reference = run_tflite(conversion.tflite, ctx.bundle.dataset.x_test)
    elif is_baseline:
        reference = None
    evaluation = evaluate(conversion.tflite, ctx.bundle.dataset, reference_outputs=reference,
                          workers=workers_for(conversion.tflite), beside=beside)
    if is_baseline:
        ctx.reference_value = evaluation.value
        ctx.reference_outputs = np.asarray(evaluation.outputs)
        np.save(store.spec_dir(ctx.run_dir, spec) / REFERENCE_OUTPUTS, ctx.reference_outputs)
    delta = None
    if evaluation.value is not None and ctx.reference_value is not None:
        delta = float(evaluation.value) - float(ctx.reference_value)
    uncertainty = keep_predictions(ctx, spec, evaluation, reference, is_baseline)
    if uncertainty.get("accuracy_delta") is not None:
        delta = uncertainty["accuracy_delta"]
    notes = list(notes) + [str(line) for line in (conversion.log or ())]
    first = facts.input_shape[0] if len(facts.input_shape) else -1
    batch = batch_note(first if first > 0 else None)
    if batch:  # a file from elsewhere that fixes its batch at 3, say
        notes.append(batch)
    label = None
    if getattr(conversion.engine, "value", conversion.engine) == UPLOADED_ENGINE:
        label = uploaded_label(tflite_format(conversion.tflite))  # "as uploaded (int8)"
    if evaluation.metric == "agreement":
        notes.append("no labels: the metric is agreement with the float32 baseline's predictions")
        if evaluation.note:
            notes.append(evaluation.note)
    settings = relevant_settings(spec, ctx.settings, finetunes)
    engine = getattr(conversion.engine, "value", conversion.engine)
    recipe = {"technique": spec, "model": ctx.bundle.to_dict(), "data": ctx.bundle.data or
              f"built-in splits of demo {ctx.bundle.name}", "steps": steps, "engine": engine,
              "settings": settings,
              "finetune": {str(kind): asdict(cfg) for kind, cfg in finetunes.items()},
              "task": ctx.bundle.dataset.task,
              "loss": {str(kind): loss for kind, loss in (losses or {}).items()},
              "conversion": conversion_record(spec, config or ctx.settings.ptq(
                  parse_spec(spec).conversion)),
              "command": cli_command(ctx.bundle, spec, ctx.job.settings)}
    origin = uploaded_files(ctx.bundle)
    if origin:
        recipe["uploaded"] = origin
    recipe_path = store.write_recipe(ctx.run_dir, spec, recipe)
    precisions = layer_precision(conversion.tflite)
    return Result(
        technique=spec, model=ctx.bundle.name, pipeline=list(steps), settings=settings,
        size_bytes=facts.size_bytes, gzip_bytes=facts.gzip_bytes,
        accuracy=None if evaluation.value is None else float(evaluation.value),
        accuracy_delta=delta, samples=uncertainty.get("samples"),
        accuracy_ci=uncertainty.get("accuracy_ci"), metric=evaluation.metric,
        higher_is_better=bool(evaluation.higher_is_better),
        input_dtype=str(facts.input_dtype), output_dtype=str(facts.output_dtype), engine=engine,
        tflite_path=str(path), recipe_path=str(recipe_path), sparsity=facts.sparsity,
        max_unique_weights_per_channel=facts.max_unique_weights_per_channel,
        ops=list(facts.ops), prep_seconds=round(prep_seconds, 3),
        convert_seconds=round(float(conversion.seconds), 3),
        eval_seconds=round(float(evaluation.seconds), 3), notes=notes, label=label,
        layer_precision=precisions, precision_counts=precision_counts(precisions))


def keep_predictions(ctx: JobContext, spec: str, evaluation, reference, is_baseline: bool) -> dict:
    """Save the variant's per-sample predictions next to its file (the baseline: with what
    every variant is scored against) and return ``samples``, ``accuracy_ci`` and the paired
    test against the baseline (``artifacts.predictions.measured``); {} when the baseline's
    outputs are not at hand (the change then stays the plain difference)."""
    from optimizer.artifacts import predictions as kept

    metric = evaluation.metric
    pred = kept.per_sample(evaluation.outputs, metric)
    truth_from = reference if is_baseline else ctx.reference_outputs
    if truth_from is None and ctx.bundle.dataset.y_test is None:
        kept.save(store.spec_dir(ctx.run_dir, spec), pred)
        return {}
    truth = kept.truth_of(ctx.bundle.dataset, truth_from, metric)
    labelled = ctx.bundle.dataset.y_test is not None and metric != "agreement"
    kept.save(store.spec_dir(ctx.run_dir, spec), pred,
              truth=truth if is_baseline and labelled else None)
    if is_baseline:
        return kept.measured(pred, truth, metric)
    if ctx.reference_outputs is None:
        return {}
    return kept.measured(pred, truth, metric, base_pred=kept.per_sample(ctx.reference_outputs,
                                                                        metric))


def convert_and_measure(ctx: JobContext, spec: str, source, steps: list, prep_seconds: float,
                        notes: list, fraction: tuple, finetunes: dict | None = None,
                        representative=None, coverage: dict | None = None,
                        losses: dict | None = None, converted: tuple | None = None) -> None:
    """Convert ``source`` for one spec, measure it and record the result (or its error).

    A failure here (e.g. an op that cannot be integer-only) only fails this spec.
    ``converted``: ``(conversion, OutputsBeside)`` when ``convert_early`` converted it already.
    """
    spec_obj = parse_spec(spec)
    config = ctx.settings.ptq(spec_obj.conversion)
    start, end = fraction
    try:
        conversion, beside = converted or (convert_spec(ctx, spec, source, start,
                                                        representative), None)
        ctx.progress([spec], msg("evaluate"), start + 0.6 * (end - start),
                     msg("measuring accuracy through the LiteRT interpreter"))
        engine = getattr(conversion.engine, "value", conversion.engine)
        all_steps = list(steps) + [f"convert to {spec_obj.conversion.value} ({engine}, "
                                   f"{conversion.seconds:.1f} s)"]
        result = measure_conversion(ctx, spec, conversion, all_steps, prep_seconds, notes,
                                    finetunes, losses=losses, config=config, beside=beside)
        for key, value in (coverage or {}).items():  # retraining: what the transform covered
            setattr(result, key, value)
        ctx.add(result)
        ctx.progress([spec], msg("measured"), end, msg("converted and evaluated; waiting for latency"))
    except Exception as exc:
        print(f"--- {spec} failed ---", file=sys.stderr)
        traceback.print_exc()
        ctx.add(Result.failed(spec, error_message(exc, ctx.job.log_path), model=ctx.bundle.name))


def convert_spec(ctx: JobContext, spec: str, source, fraction: float, representative=None):
    """Convert ``source`` for one spec (its progress said first); the ``Conversion``."""
    from optimizer.engine.convert import convert

    spec_obj = parse_spec(spec)
    ctx.progress([spec], msg("convert ({value})", value=spec_obj.conversion.value), fraction,
                 msg("converting to {value}", value=spec_obj.conversion.value))
    rep = representative() if callable(representative) else representative
    return convert(source, ctx.settings.ptq(spec_obj.conversion), representative=rep)


def load_step(ctx: JobContext, seconds: float) -> str:
    """The pipeline step that loaded the model and data (its time includes importing TF)."""
    return f"load {ctx.bundle.name} and its data ({seconds:.1f} s, including the TensorFlow import)"


def timer() -> float:
    """Seconds on a monotonic clock (for step timings)."""
    return time.perf_counter()
