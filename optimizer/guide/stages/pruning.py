"""The pruning stage: magnitude pruning while fine-tuning, then strip (TFMOT).

Its settings (``pruning.*``), the search's sparsity levels, the schedule placement the engine
and the reproduce script share, and the script's block. The schedule: TFMOT updates the mask
only on steps that are multiples of ``frequency`` and counts steps from 1, so ``end_step`` is
a multiple of the frequency inside the fine-tune; the ramp ends at about three quarters of
it, so the last quarter recovers accuracy at the final mask.
"""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.guide.stage import (
    Knob,
    ScriptBlock,
    StageHandler,
    StageKind,
    finetune_words,
    fit_call,
)

#: Share of the fine-tune's steps over which the sparsity ramps up to the target.
RAMP_FRACTION = 0.75
_SCHEDULES = ("polynomial", "constant")


@dataclass(frozen=True)
class PruningConfig:
    """Magnitude pruning: final sparsity, schedule and how often the mask is updated.

    ``frequency`` defaults to 10 steps, not TFMOT's 100: with ~40 steps per epoch a frequency of
    100 updates the mask twice and stops short of the target sparsity (measured 46% for 50%).
    """

    sparsity: float = 0.5
    schedule: str = "polynomial"
    frequency: int = 10

    def __post_init__(self):
        if not 0.0 < float(self.sparsity) < 1.0:
            raise ValueError("pruning.sparsity must be between 0 and 1 (e.g. 0.5 zeroes half the "
                             "weights)")
        if self.schedule not in _SCHEDULES:
            raise ValueError(f"pruning.schedule must be one of {', '.join(_SCHEDULES)}")
        if int(self.frequency) < 1:
            raise ValueError("pruning.frequency must be a positive number of steps (10 works)")


def schedule_steps(total_steps: int, frequency: int) -> tuple[int, int]:
    """``(frequency, end_step)`` for a fine-tune of ``total_steps`` optimizer steps.

    ``end_step`` is the largest multiple of ``frequency`` within the first ``RAMP_FRACTION`` of
    the steps (at least one interval), so TFMOT applies the final mask before training ends.
    The frequency is lowered to ``total_steps`` when the fine-tune is shorter than it.
    """
    total = int(total_steps)
    if total < 1:
        raise ValueError("pruning needs at least one fine-tuning step; raise finetune.epochs")
    freq = max(1, min(int(frequency), total))
    end_step = max(freq, int(total * RAMP_FRACTION) // freq * freq)
    return freq, end_step


def script(number: int, config: PruningConfig, finetune, stage) -> ScriptBlock:
    """The reproduce script's pruning block (the schedule placed as ``schedule_steps`` does)."""
    p = config
    if p.schedule == "constant":
        schedule = ("schedule = tfmot.sparsity.keras.ConstantSparsity(\n"
                    f"    {float(p.sparsity)!r}, begin_step=0, frequency=frequency)")
    else:
        schedule = ("schedule = tfmot.sparsity.keras.PolynomialDecay(\n"
                    f"    initial_sparsity=0.0, final_sparsity={float(p.sparsity)!r}, "
                    "begin_step=0,\n    end_step=end_step, frequency=frequency)")
    code = f'''
# --- Step {number}: magnitude pruning to {p.sparsity:g} sparsity
# TFMOT updates the mask every `frequency` steps (counting from 1); end the ramp on a multiple
# of it within the fine-tune so the final mask is really applied, leaving the last quarter of
# the steps to recover accuracy.
total_steps = {finetune.epochs} * math.ceil(len(y_train) / {finetune.batch_size})
frequency = min({p.frequency}, total_steps)
end_step = max(frequency, int(total_steps * {RAMP_FRACTION!r}) // frequency * frequency)
{schedule}
model = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
{fit_call(finetune, "[tfmot.sparsity.keras.UpdatePruningStep()]")}
model = tfmot.sparsity.keras.strip_pruning(model)
'''
    header = (f"magnitude pruning to {p.sparsity:g} sparsity ({p.schedule} schedule, mask "
              f"update every {p.frequency} steps; {finetune_words(finetune)}), strip")
    return ScriptBlock(code=code, header=header, imports=("import math",))


STAGE = StageHandler(
    kind=StageKind.PRUNING, label="pruning",
    apply="optimizer.engine.stage_steps:run_pruning",
    script=script, evidence="sparsity", group="pruning", config=PruningConfig,
    knob=Knob(key="pruning.sparsity", short="sparsity", levels=(0.5, 0.75), low=0.05, high=0.95,
              integer=False, harsher="higher", cli_flag="--sparsities",
              help="pruning levels (default 0.5,0.75)"),
)
