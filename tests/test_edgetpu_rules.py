"""Edge TPU rules, complete: for every per-op limit of Coral's op table (and the model
requirements), a small integer-only int8 ``.tflite`` that breaks it, and the verdict naming the
op and citing the rule; the first failing op and every op after it go to the CPU."""
from __future__ import annotations

import pytest
from edgetpu_models import EXPECTED, build_all

from optimizer.measuring.readiness import check_readiness
from optimizer.measuring.readiness.edgetpu import LIMITS

pytestmark = [pytest.mark.slow, pytest.mark.cost(25)]


@pytest.fixture(scope="module")
def models():
    from optimizer import compat

    return build_all(compat.tf(), compat.keras(), compat.tflite_schema())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_broken_limit_is_named_with_its_rule(models, name):
    op, words = EXPECTED[name]
    verdict = check_readiness(models[name], "edgetpu")
    assert verdict.ready is False and verdict.method == "rules"
    first = next(o for o in verdict.ops if o.where == "cpu")
    assert first.op == op, verdict.summary
    assert first.reason.startswith(f"{op}: ") and words in first.reason, first.reason
    assert first.reason.endswith(("(Coral Edge TPU op table)", "(Coral Edge TPU requirements)"))
    assert words in verdict.summary and "Not ready (rules)" in verdict.summary


def test_a_stride_2_strided_slice_is_no_longer_ready(models):
    verdict = check_readiness(models["strided_slice_stride2"], "edgetpu")
    assert not verdict.ready
    assert "STRIDED_SLICE: strides must be 1 (it has [1, 2, 1, 1]) (Coral Edge TPU op table)" \
        in verdict.summary


def test_every_limit_of_the_table_has_a_model_that_breaks_it():
    limited = set(LIMITS)
    broken = {op for op, _ in EXPECTED.values()}
    assert limited <= broken, f"limits without a model that breaks them: {limited - broken}"


@pytest.mark.parametrize("name", ["fine", "strided_slice_plain", "concat_plain", "fc",
                                  "reshape"])
def test_files_within_the_limits_stay_ready(models, name):
    verdict = check_readiness(models[name], "edgetpu")
    assert verdict.ready is True, verdict.summary
    assert verdict.summary.startswith("Ready (rules)")


def test_ops_after_the_first_that_falls_back_go_to_the_cpu_with_it(models):
    verdict = check_readiness(models["split_batch"], "edgetpu")   # MUL, SPLIT, ADD
    where = [(o.op, o.where) for o in verdict.ops]
    assert where == [("MUL", "accelerator"), ("SPLIT", "cpu"), ("ADD", "cpu")]
    assert "after the first op that falls back (SPLIT #1)" in verdict.ops[-1].reason
    assert "and the 1 op after it" in verdict.summary


def test_unchecked_limits_are_said(models):
    verdict = check_readiness(models["fine"], "edgetpu")
    assert "RESHAPE" in verdict.details["not_checked"]
