"""A retraining job: one base technique fine-tuned ONCE, then every requested conversion of it.

Steps per base technique (each transform returns a new model; fine-tuning is the one
``finetune`` function; fine-tune configs come from the model per step kind, overridden by
``--set finetune.*``):

* pruning            = apply_pruning -> fine-tune -> strip
* clustering         = apply_clustering -> fine-tune -> strip
* pruning+clustering = pruning steps, then apply_clustering(preserve_sparsity) -> fine-tune -> strip
* qat                = apply_qat -> fine-tune -> int8 conversion
* pqat / cqat / pcqat = pruning / clustering / both, then apply_qat preserving them -> fine-tune

Each stage kind's step is its handler's ``apply`` (``optimizer.guide.stages``), resolved here
at import (``engine.stage_steps``). ``pruning`` and ``pruning+dynamic_range`` therefore share
one fine-tuned model, and each result's pipeline says so.
"""
from __future__ import annotations

import importlib
import re

from optimizer.engine.context import (
    JobContext,
    convert_and_measure,
    load_step,
    timer,
)
from optimizer.engine.weights import coverage
from optimizer.guide.registry import parse_spec
from optimizer.guide.stage_handlers import STAGES

#: Progress fractions: loading ends at FINETUNE_START, fine-tuning (all stages, in proportion
#: to their epochs) at FINETUNE_END; each spec's conversion and evaluation then runs to
#: MEASURED_END (latency follows in the orchestrator).
FINETUNE_START, FINETUNE_END, MEASURED_END = 0.05, 0.8, 0.95


def _resolve_steps() -> dict:
    """Each stage handler's engine step (``apply`` = "optimizer.engine.<module>:<function>"),
    resolved once; a step that does not resolve fails this module's import, naming it."""
    steps = {}
    for kind, handler in STAGES.items():
        module, _, name = handler.apply.partition(":")
        try:
            step = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise ImportError(f"stage '{kind}': its engine step {handler.apply} does not "
                              f"resolve ({exc})") from exc
        if not callable(step):
            raise ImportError(f"stage '{kind}': {handler.apply} is not callable")
        steps[kind] = step
    return steps


#: The engine step of every stage kind (complete: ``STAGES`` is).
STAGE_STEPS = _resolve_steps()


def run_retraining(ctx: JobContext) -> None:
    """Fine-tune the job's base technique once and convert every spec of the job from it."""
    specs = list(ctx.job.specs)
    spec0 = parse_spec(specs[0])
    stages = spec0.stages
    start = timer()
    if ctx.bundle.retrain_blocker:  # e.g. a .tflite upload: there is no Keras model to train
        _not_applicable(ctx, specs, f"{spec0.base.value} needs a Keras model: "
                                    f"{ctx.bundle.retrain_blocker}")
        return
    ctx.progress(specs, "load model", 0.01, f"loading {ctx.bundle.name} and its data")
    model = ctx.bundle.load_keras()
    dataset = ctx.bundle.dataset
    finetunes = {s.kind: ctx.settings.finetune_for(ctx.bundle.finetune_for(s.kind))
                 for s in stages}
    total = sum(finetunes[s.kind].epochs for s in stages) or 1
    steps, notes, done, reports, leaves_float = [load_step(ctx, timer() - start)], [], 0, [], False
    losses = {}
    for stage in stages:
        config = finetunes[stage.kind]
        width = FINETUNE_END - FINETUNE_START
        span = (FINETUNE_START + width * done / total,
                FINETUNE_START + width * (done + config.epochs) / total)
        try:
            run = _run_stage(ctx, stage, model, dataset, config, specs, span)
        except ValueError as exc:
            reason = unsupported_layer(exc)
            if reason is None:
                raise
            _not_applicable(ctx, specs, reason)
            return
        model = run.model
        steps += run.steps
        notes += run.notes
        reports.append(run.report)
        leaves_float = leaves_float or run.leaves_float
        losses[stage.kind] = run.loss
        done += config.epochs
    if len(specs) > 1:
        steps.append("one fine-tuned model shared by " + ", ".join(specs))
    source = _freeze_or_keep(model, notes)  # one frozen graph for every conversion of it
    prep_seconds = timer() - start
    cache: dict = {}

    def representative():
        if "rep" not in cache:
            cache["rep"] = dataset.representative(ctx.settings.calibration_samples)
        return cache["rep"]

    for spec in specs:
        # QAT that left layers float needs the data to quantize those in the converter
        needs_data = parse_spec(spec).calibrates or leaves_float
        convert_and_measure(ctx, spec, source, steps, prep_seconds, notes,
                            fraction=(FINETUNE_END, MEASURED_END), finetunes=finetunes,
                            representative=representative if needs_data else None,
                            coverage=coverage(reports), losses=losses)


def _run_stage(ctx, stage, model, dataset, config, specs, span):
    """Run one stage's engine step (its handler's ``apply``) with progress events."""
    lo, hi = span
    label = STAGES[stage.kind].label
    step_name = f"fine-tune ({label})"

    def on_progress(epoch, epochs, fraction, logs=None):
        ctx.progress(specs, step_name, lo + (hi - lo) * float(fraction), epoch=epoch,
                     epochs=epochs, message=f"{step_name}: epoch {epoch}/{epochs}")

    ctx.progress(specs, f"apply {label}", lo, f"applying {label}")
    return STAGE_STEPS[stage.kind](model, dataset, stage, ctx.settings, config, on_progress)


def _freeze_or_keep(model, notes: list):
    """Freeze once (QAT models too: the frozen graph keeps their fake-quant ranges); when that
    fails, convert from the Keras model and say so."""
    from optimizer.engine.convert import FreezeError, freeze_model

    try:
        return freeze_model(model)
    except FreezeError as exc:
        notes.append(f"could not freeze the graph ({exc}); converted from the Keras model")
        return model


# TFMOT's refusal of a layer it has no wrapper for (prune_low_magnitude / cluster_weights).
_TFMOT_UNSUPPORTED = re.compile(r"initialize `(?P<what>\w+)` with a supported layer.*?"
                                r"You passed: <class '(?P<cls>[\w.]+)'>", re.S)


def unsupported_layer(exc: BaseException) -> str | None:
    """"not applicable: ..." when ``exc`` says TFMOT cannot transform a layer of the model
    (QAT's ``UnsupportedLayerError``, or pruning/clustering refusing a layer class), else None."""
    from optimizer.engine.qat import UnsupportedLayerError

    if isinstance(exc, UnsupportedLayerError):
        return f"not applicable: {exc}"
    if "cannot transform any layer" in str(exc):
        return f"not applicable: {exc}; use a post-training quantization for this model"
    match = _TFMOT_UNSUPPORTED.search(str(exc))
    if match:
        verb = {"Prune": "pruning", "Cluster": "clustering"}.get(match["what"], match["what"])
        layer = match["cls"].rsplit(".", 1)[-1]
        return (f"not applicable: {verb} cannot wrap {layer} layers (TFMOT has no {verb} "
                f"support for them); use a post-training quantization for this model")
    return None


def _not_applicable(ctx: JobContext, specs, message: str) -> None:
    """Record every spec of the job as skipped, with why it does not apply to this model."""
    from optimizer.guide.schema import Result, Status

    text = message if message.startswith("not applicable") else f"not applicable: {message}"
    for spec in specs:
        ctx.add(Result.failed(spec, text, model=ctx.bundle.name, status=Status.SKIPPED))
