"""The search's candidates: what each target allows, the knobs, the order, what is left out."""
from __future__ import annotations

import pytest

from optimizer.guide.registry import DataNeed, parse_spec
from optimizer.guide.targets import Target
from optimizer.recommendation.decide import Answers
from optimizer.recommendation.rules import runnable
from optimizer.search.candidates import (
    REPAIR_ID,
    Kind,
    plan_candidates,
    repair_allowed,
    repair_batch,
    split_trial,
    trial_id,
    trial_spec,
)

EPOCHS = {"pruning": 6, "clustering": 4, "qat": 2}


@pytest.mark.parametrize("target", list(Target))
def test_every_candidate_runs_on_its_target_and_ids_are_unique(target):
    plan = plan_candidates(target, DataNeed.LABELLED, EPOCHS)
    answers = Answers(target=target, data="labelled", can_retrain=True)
    ids = [c.id for c in plan.candidates]
    assert len(ids) == len(set(ids))
    for cand in plan.candidates:
        assert runnable(cand.spec, answers), cand
        assert trial_spec(cand.id) == cand.spec


def test_cpu_plan_is_cheap_to_expensive_with_knobs():
    plan = plan_candidates("cpu", "labelled", EPOCHS)
    first = plan.batches[0]
    assert first.kind == Kind.POST_TRAINING and first.epochs == 0
    assert first.ids == ["float16", "dynamic_range", "integer", "integer_only", "int16x8",
                         "int4_weights", "int4_blockwise"]     # mixed: planned, never plain
    epochs = [b.epochs for b in plan.batches]
    assert epochs == sorted(epochs) and epochs[1] == 2          # QAT (2 epochs) first
    groups = [b.group for b in plan.batches]
    assert {"pruning[sparsity=0.5]", "pruning[sparsity=0.75]", "clustering[clusters=16]",
            "clustering[clusters=8]", "qat", "pqat[sparsity=0.5]", "cqat[clusters=16]",
            "pcqat[sparsity=0.5,clusters=16]",
            "pruning+clustering[sparsity=0.5,clusters=16]"} <= set(groups)
    pruning = next(b for b in plan.batches if b.group == "pruning[sparsity=0.75]")
    assert pruning.knobs == ("pruning.sparsity=0.75",) and pruning.stages == ("pruning",)
    assert "pruning+integer[sparsity=0.75]" in pruning.ids
    assert "pruning+int16x8[sparsity=0.75]" not in pruning.ids   # reference kernels only
    assert plan.excluded == ()


def test_edgetpu_gets_integer_only_forms_and_reasons_for_the_rest():
    plan = plan_candidates("edgetpu", "labelled", EPOCHS)
    for cand in plan.candidates:
        assert parse_spec(cand.spec).conversion.value == "integer_only"
    excluded = dict(plan.excluded)
    assert {"float16", "dynamic_range", "integer", "int16x8"} <= set(excluded)
    assert "full-integer" in excluded["float16"]


def test_gpu_gets_float16_forms_only():
    plan = plan_candidates("gpu", "labelled", EPOCHS)
    conversions = {parse_spec(c.spec).conversion.value for c in plan.candidates}
    assert conversions <= {"float16", "float32"}
    assert "qat" in dict(plan.excluded)


def test_without_labels_nothing_retrains():
    plan = plan_candidates("cpu", "unlabelled", EPOCHS)
    assert [b.kind for b in plan.batches] == [Kind.POST_TRAINING]
    assert "labelled" in dict(plan.excluded)["pruning"]
    none = plan_candidates("cpu", "none", EPOCHS)
    assert none.batches[0].ids == ["float16", "dynamic_range", "int4_weights", "int4_blockwise"]


def test_knob_levels_are_validated():
    with pytest.raises(ValueError, match="sparsity level"):
        plan_candidates("cpu", "labelled", EPOCHS, {"pruning.sparsity": (1.5,)})
    with pytest.raises(ValueError, match="clusters level"):
        plan_candidates("cpu", "labelled", EPOCHS, {"clustering.clusters": (1,)})
    with pytest.raises(ValueError, match="unknown knob 'qat.bits'"):
        plan_candidates("cpu", "labelled", EPOCHS, {"qat.bits": (4,)})
    plan = plan_candidates("cpu", "labelled", EPOCHS,
                           {"pruning.sparsity": (0.6,), "clustering.clusters": (32,)})
    assert "pruning+integer[sparsity=0.6]" in [c.id for c in plan.candidates]
    assert "clustering+integer[clusters=32]" in [c.id for c in plan.candidates]


def test_trial_ids_round_trip():
    assert trial_id("pruning+integer", ("pruning.sparsity=0.75",)) == \
        "pruning+integer[sparsity=0.75]"
    assert split_trial("pcqat[sparsity=0.5,clusters=16]") == ("pcqat", "sparsity=0.5,clusters=16")
    assert split_trial("dynamic_range") == ("dynamic_range", "")
    assert trial_spec(REPAIR_ID) == "integer"
    assert trial_spec("integer[keep-float#2]") == "integer"


def test_repair_only_where_float_ops_run():
    assert repair_allowed("cpu") is None and repair_allowed("gpu-android") is None
    assert "float ops" in repair_allowed("edgetpu")
    batch = repair_batch()
    assert batch.kind == Kind.REPAIR and batch.ids == [REPAIR_ID]


def test_a_model_that_cannot_be_fine_tuned_gets_the_reason():
    why = "an uploaded .tflite has no Keras model to fine-tune"
    plan = plan_candidates("cpu", "labelled", EPOCHS, retrain_blocker=why)
    assert [b.kind for b in plan.batches] == [Kind.POST_TRAINING]
    assert dict(plan.excluded)["qat"] == why and dict(plan.excluded)["pruning"] == why
