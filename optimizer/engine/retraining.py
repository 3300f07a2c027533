"""A retraining job: one base technique fine-tuned ONCE, then every requested conversion of it.

Steps per base technique (each transform returns a new model; fine-tuning is the one
``finetune`` function; fine-tune configs come from the model per step kind, overridden by
``--set finetune.*``):

* pruning            = apply_pruning -> fine-tune -> strip
* clustering         = apply_clustering -> fine-tune -> strip
* pruning+clustering = pruning steps, then apply_clustering(preserve_sparsity) -> fine-tune -> strip
* qat                = apply_qat -> fine-tune -> int8 conversion
* pqat / cqat / pcqat = pruning / clustering / both, then apply_qat preserving them -> fine-tune

``pruning`` and ``pruning+dynamic_range`` therefore share one fine-tuned model, and each
result's pipeline says so.
"""
from __future__ import annotations

import re

from optimizer.engine.context import (
    JobContext,
    convert_and_measure,
    load_step,
    timer,
)
from optimizer.engine.weights import coverage
from optimizer.guide.registry import parse_spec
from optimizer.guide.technique import StageKind

#: Progress fractions: loading ends at FINETUNE_START, fine-tuning (all stages, in proportion
#: to their epochs) at FINETUNE_END; each spec's conversion and evaluation then runs to
#: MEASURED_END (latency follows in the orchestrator).
FINETUNE_START, FINETUNE_END, MEASURED_END = 0.05, 0.8, 0.95


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
    steps, notes, done, reports, partial_qat = [load_step(ctx, timer() - start)], [], 0, [], False
    for stage in stages:
        config = finetunes[stage.kind]
        width = FINETUNE_END - FINETUNE_START
        span = (FINETUNE_START + width * done / total,
                FINETUNE_START + width * (done + config.epochs) / total)
        try:
            model, stage_steps, stage_notes, step = _run_stage(ctx, stage, model, dataset,
                                                               config, specs, span)
        except ValueError as exc:
            reason = unsupported_layer(exc)
            if reason is None:
                raise
            _not_applicable(ctx, specs, reason)
            return
        steps += stage_steps
        notes += stage_notes
        reports.append(getattr(step, "report", None))
        if stage.kind == StageKind.QAT and (step.report.skipped or getattr(step, "left_float", ())):
            partial_qat = True
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
        needs_data = parse_spec(spec).calibrates or partial_qat
        convert_and_measure(ctx, spec, source, steps, prep_seconds, notes,
                            fraction=(FINETUNE_END, MEASURED_END), finetunes=finetunes,
                            representative=representative if needs_data else None,
                            coverage=coverage(reports))


def _run_stage(ctx, stage, model, dataset, config, specs, span):
    """Apply one transform, fine-tune it and strip it; return (model, steps, notes)."""
    from optimizer.engine.finetune import finetune

    lo, hi = span
    label = "QAT" if stage.kind == StageKind.QAT else stage.kind.value
    step_name = f"fine-tune ({label})"

    def on_progress(epoch, epochs, fraction, logs=None):
        ctx.progress(specs, step_name, lo + (hi - lo) * float(fraction), epoch=epoch,
                     epochs=epochs, message=f"{step_name}: epoch {epoch}/{epochs}")

    def ft_text(report) -> str:
        return (f"fine-tune {config.epochs} epoch(s) (lr {config.learning_rate:g}, batch "
                f"{config.batch_size}, {report.seconds:.1f} s)")

    ctx.progress(specs, f"apply {label}", lo, f"applying {label}")
    if stage.kind == StageKind.PRUNING:
        from optimizer.engine.pruning import apply_pruning, strip_pruning

        cfg = ctx.settings.pruning
        from optimizer.engine.finetune import train_steps

        steps_per_epoch = train_steps(dataset, config)
        step = apply_pruning(model, cfg, steps_per_epoch=steps_per_epoch, epochs=config.epochs)
        report = finetune(step.model, dataset, config, callbacks=tuple(step.callbacks),
                          on_progress=on_progress)
        described = (f"apply_pruning (target sparsity {cfg.sparsity:g}, {cfg.schedule} schedule, "
                     f"mask update every {step.frequency} steps, target reached at step "
                     f"{step.end_step})")
        return (strip_pruning(step.model), [described, ft_text(report), "strip_pruning"],
                _skipped_notes(step), step)
    if stage.kind == StageKind.CLUSTERING:
        from optimizer.engine.clustering import apply_clustering, strip_clustering

        cfg = ctx.settings.clustering
        step = apply_clustering(model, cfg, preserve_sparsity=stage.preserve == "sparsity")
        clustered = _model_of(step)
        report = finetune(clustered, dataset, config,
                          callbacks=tuple(getattr(step, "callbacks", ())), on_progress=on_progress)
        described = (f"apply_clustering ({cfg.clusters} clusters, {cfg.init} init"
                     f"{', per channel' if cfg.per_channel else ''}"
                     f"{', sparsity-preserving' if stage.preserve else ''})")
        return (strip_clustering(clustered), [described, ft_text(report), "strip_clustering"],
                _skipped_notes(step), step)
    from optimizer.engine.qat import apply_qat

    step = apply_qat(model, preserve=stage.preserve)
    quantized = _model_of(step)
    report = finetune(quantized, dataset, config, callbacks=tuple(getattr(step, "callbacks", ())),
                      on_progress=on_progress)
    described = "apply_qat" + (f" (preserving {stage.preserve})" if stage.preserve else "")
    notes = _skipped_notes(step)
    left = getattr(step, "left_float", ())
    if left:
        notes.append(f"{len(left)} layer(s) without a QAT quantizer trained in float and were "
                     f"quantized by the converter from the representative data: "
                     + ", ".join(left[:8]) + (", ..." if len(left) > 8 else ""))
    return quantized, [described, ft_text(report)], notes, step


def _freeze_or_keep(model, notes: list):
    """Freeze once (QAT models too: the frozen graph keeps their fake-quant ranges); when that
    fails, convert from the Keras model and say so."""
    from optimizer.engine.convert import FreezeError, freeze_model

    try:
        return freeze_model(model)
    except FreezeError as exc:
        notes.append(f"could not freeze the graph ({exc}); converted from the Keras model")
        return model


def _model_of(step):
    """Transforms return a step object with ``.model`` (or, for some, the model itself)."""
    return getattr(step, "model", step)


def _skipped_notes(step) -> list[str]:
    """The transform report's sentence about layers TFMOT left alone (e.g. DepthwiseConv2D)."""
    report = getattr(step, "report", None)
    note = report.note() if report is not None and hasattr(report, "note") else ""
    return [note] if note else []


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
