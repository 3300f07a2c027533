"""The engine step of each kind of retraining stage: transform, fine-tune, strip.

Each function is a stage handler's ``apply`` (``optimizer.guide.stages.<kind>``), resolved by
``engine.retraining`` when it imports, and has one signature::

    run_<kind>(model, dataset, stage, settings, finetune, on_progress) -> StageRun

``model`` is the model so far (never changed: every transform works on a copy); ``stage`` the
``guide.stage.Stage`` (what it preserves); ``settings`` the run's ``Settings`` (the stage's
config group); ``finetune`` its ``FinetuneConfig``; ``on_progress(epoch, epochs, fraction,
logs)`` is handed to ``finetune``. TensorFlow is imported only inside the transforms.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from optimizer.guide.stage import StageKind


@dataclass(eq=False)
class StageRun:
    """What one stage made: the model, its pipeline steps in words, notes (layers left alone),
    the transform's report and, for QAT, the layers it left float."""

    model: object
    steps: list
    notes: list
    report: object = None
    left_float: tuple = field(default_factory=tuple)
    loss: str | None = None  # the loss it fine-tuned with (``finetune.LossKind`` value)
    partly_float: tuple = field(default_factory=tuple)   # QAT: attention internals

    @property
    def leaves_float(self) -> bool:
        """True when a quantizing stage left layers (or a layer's internals) float: the
        converter then needs representative data to quantize them."""
        return bool(self.left_float or self.partly_float)


def finetune_words(config, report) -> str:
    """The pipeline step of one fine-tune: epochs, learning rate, batch and its time."""
    return (f"fine-tune {config.epochs} epoch(s) (lr {config.learning_rate:g}, batch "
            f"{config.batch_size}, {report.seconds:.1f} s)")


def skipped_notes(step) -> list[str]:
    """The transform report's sentence about layers TFMOT left alone (e.g. DepthwiseConv2D)."""
    report = getattr(step, "report", None)
    note = report.note() if report is not None and hasattr(report, "note") else ""
    return [note] if note else []


def run_pruning(model, dataset, stage, settings, finetune, on_progress) -> StageRun:
    """apply_pruning -> fine-tune (with ``UpdatePruningStep``) -> strip_pruning."""
    from optimizer.engine.finetune import finetune as fit
    from optimizer.engine.finetune import train_steps
    from optimizer.engine.pruning import apply_pruning, strip_pruning

    cfg = settings.stage_config(StageKind.PRUNING)
    step = apply_pruning(model, cfg, steps_per_epoch=train_steps(dataset, finetune),
                         epochs=finetune.epochs)
    report = fit(step.model, dataset, finetune, callbacks=tuple(step.callbacks),
                 on_progress=on_progress)
    described = (f"apply_pruning (target sparsity {cfg.sparsity:g}, {cfg.schedule} schedule, "
                 f"mask update every {step.frequency} steps, target reached at step "
                 f"{step.end_step})")
    return StageRun(strip_pruning(step.model),
                    [described, finetune_words(finetune, report), "strip_pruning"],
                    skipped_notes(step), step.report, loss=str(report.loss_kind))


def run_clustering(model, dataset, stage, settings, finetune, on_progress) -> StageRun:
    """apply_clustering (sparsity-preserving when the stage says so) -> fine-tune -> strip."""
    from optimizer.engine.clustering import apply_clustering, strip_clustering
    from optimizer.engine.finetune import finetune as fit
    from optimizer.guide.stage import Preserve

    cfg = settings.stage_config(StageKind.CLUSTERING)
    preserve = stage.preserve == Preserve.SPARSITY
    step = apply_clustering(model, cfg, preserve_sparsity=preserve)
    clustered = getattr(step, "model", step)
    report = fit(clustered, dataset, finetune, callbacks=tuple(getattr(step, "callbacks", ())),
                 on_progress=on_progress)
    described = (f"apply_clustering ({cfg.clusters} clusters, {cfg.init} init"
                 f"{', per channel' if cfg.per_channel else ''}"
                 f"{', sparsity-preserving' if preserve else ''})")
    return StageRun(strip_clustering(clustered),
                    [described, finetune_words(finetune, report), "strip_clustering"],
                    skipped_notes(step), getattr(step, "report", None),
                    loss=str(report.loss_kind))


def run_qat(model, dataset, stage, settings, finetune, on_progress) -> StageRun:
    """apply_qat with the stage's scheme -> fine-tune (the model stays fake-quantized)."""
    from optimizer.engine.finetune import finetune as fit
    from optimizer.engine.qat import apply_qat

    step = apply_qat(model, preserve=stage.preserve)
    quantized = getattr(step, "model", step)
    report = fit(quantized, dataset, finetune, callbacks=tuple(getattr(step, "callbacks", ())),
                 on_progress=on_progress)
    described = "apply_qat" + (f" (preserving {stage.preserve})" if stage.preserve else "")
    notes = skipped_notes(step)
    left = tuple(getattr(step, "left_float", ()))
    if left:
        notes.append(f"{len(left)} layer(s) without a QAT quantizer trained in float and were "
                     f"quantized by the converter from the representative data: "
                     + ", ".join(left[:8]) + (", ..." if len(left) > 8 else ""))
    partly = tuple(getattr(step, "partly_float", ()))
    if partly:
        notes.append("attention trained with fake-quantized projection weights; its internal "
                     "activations (scores, softmax) stayed float and were quantized by the "
                     "converter from the representative data: " + ", ".join(partly))
    return StageRun(quantized, [described, finetune_words(finetune, report)], notes,
                    getattr(step, "report", None), left, loss=str(report.loss_kind),
                    partly_float=partly)
