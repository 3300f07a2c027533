"""Magnitude pruning with TFMOT: ``apply_pruning`` -> ``finetune`` -> ``strip_pruning``.

The schedule is placed so the target sparsity is really reached: TFMOT updates the mask only
on steps that are multiples of ``frequency`` and counts steps from 1, so ``end_step`` is a
multiple of the frequency inside the fine-tune. The sparsity ramp ends at about three
quarters of the fine-tune so the last quarter recovers accuracy at the final mask. The
default frequency is 10, not TFMOT's 100: measured here, 100 with ~43 steps per epoch left
sparsity at 46% instead of 50%.

TensorFlow is imported only inside functions, through ``optimizer.compat``.
"""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.engine.weights import (
    TransformReport,
    copy_model,
    require_plain_model,
    require_tf_keras_model,
    transform_report,
    wrap_supported,
)
from optimizer.guide.stages.pruning import RAMP_FRACTION, PruningConfig, schedule_steps

__all__ = ["RAMP_FRACTION", "PruningStep", "apply_pruning", "schedule_steps", "strip_pruning"]


@dataclass(frozen=True, eq=False)
class PruningStep:
    """A model wrapped for pruning, the callbacks ``finetune`` must get (``UpdatePruningStep``),
    the report of wrapped/skipped layers, and where the schedule lands.

    ``frequency`` is the mask-update interval actually used (the configured one, lowered to
    the fine-tune's length when that is shorter) and ``end_step`` the step at which the
    target sparsity is applied.
    """

    model: object
    callbacks: tuple
    report: TransformReport
    schedule: str
    frequency: int
    end_step: int
    total_steps: int


def apply_pruning(model, config: PruningConfig, steps_per_epoch: int, epochs: int) -> PruningStep:
    """Wrap a copy of ``model`` for magnitude pruning towards ``config.sparsity``.

    Needs a built tf_keras Sequential/Functional model without TFMOT wrappers, and the
    fine-tune's ``steps_per_epoch`` (see ``finetune.train_steps``) and ``epochs`` to place the
    schedule. Fine-tune the returned ``model`` with the returned ``callbacks``, then call
    ``strip_pruning``. The input model is never changed.
    """
    require_tf_keras_model(model, "pruning")
    require_plain_model(model, "pruning")
    if int(steps_per_epoch) < 1 or int(epochs) < 1:
        raise ValueError("pruning needs steps_per_epoch >= 1 and epochs >= 1 to place its "
                         "schedule")
    from optimizer import compat

    sparsity_api = compat.tfmot().sparsity.keras
    total = int(steps_per_epoch) * int(epochs)
    frequency, end_step = schedule_steps(total, config.frequency)
    if config.schedule == "constant":
        # Prunes straight to the target at the first update, then keeps the mask.
        schedule = sparsity_api.ConstantSparsity(float(config.sparsity), begin_step=0,
                                                 frequency=frequency)
        end_step = frequency
    else:
        schedule = sparsity_api.PolynomialDecay(
            initial_sparsity=0.0, final_sparsity=float(config.sparsity), begin_step=0,
            end_step=end_step, frequency=frequency)
    # Only layers TFMOT can prune are wrapped; the others (Rescaling, attention, ...) stay
    # as they are.
    wrapped, refused = wrap_supported(
        model, lambda layer: sparsity_api.prune_low_magnitude(layer, pruning_schedule=schedule),
        "pruning", "TFMOT has no pruning support for it")
    acted_on = [layer.layer.name for layer in wrapped.layers
                if getattr(layer, "prunable_weights", None)]
    return PruningStep(model=wrapped, callbacks=(sparsity_api.UpdatePruningStep(),),
                       report=transform_report(model, acted_on, "pruned", refused),
                       schedule=config.schedule, frequency=frequency, end_step=end_step,
                       total_steps=total)


def strip_pruning(model):
    """Remove the pruning wrappers and return an independent plain model with the sparse
    weights (what is converted or transformed next)."""
    require_tf_keras_model(model, "strip_pruning")
    from optimizer import compat

    return copy_model(compat.tfmot().sparsity.keras.strip_pruning(model))
