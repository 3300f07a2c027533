"""The overall progress of a run weights each technique by its expected cost, and the time
left is an estimate from the progress so far (optimizer.runs.background.RunState)."""
from __future__ import annotations

import pytest

from optimizer.artifacts.events import TechniqueProgress
from optimizer.runs.background import RETRAINING_COST, RunState, expected_cost


def _state(status="running", elapsed=20.0, **fractions):
    progress = {spec:
                TechniqueProgress(technique=spec, state="done" if f == 1 else "running",
                                  fraction=f) for spec, f in fractions.items()}
    return RunState(run_dir="x", status=status, elapsed_s=elapsed, progress=progress,
                    results=[])


def test_post_training_done_is_not_most_of_a_run_with_qat():
    # the case: float32 and post-training variants done, QAT just started
    state = _state(float32=1, float16=1, dynamic_range=1, integer=1, qat=0.0)
    assert expected_cost("qat") == RETRAINING_COST > expected_cost("integer")
    assert state.overall_fraction == pytest.approx(4 / (4 + RETRAINING_COST))
    assert state.overall_fraction < 0.5            # an equal-weight bar said 80 %


def test_time_left_is_an_estimate_only_while_running():
    state = _state(elapsed=30.0, float32=1, qat=0.5)
    fraction = (1 + RETRAINING_COST * 0.5) / (1 + RETRAINING_COST)
    assert state.seconds_left == pytest.approx(30.0 * (1 - fraction) / fraction)
    assert _state(status="finished", float32=1, qat=1).seconds_left is None
    assert _state(float32=0.0, qat=0.0).seconds_left is None    # nothing to go on yet
