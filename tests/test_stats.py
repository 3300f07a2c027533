"""The statistics behind every accuracy claim (optimizer.guide.stats) against textbook values,
and what a run keeps per sample (optimizer.artifacts.predictions)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optimizer.artifacts import predictions
from optimizer.guide import stats


@pytest.mark.parametrize("b, c, p", [
    (6, 0, 0.03125),            # the smallest one-sided count significant at 5 %
    (5, 0, 0.0625),
    (1, 0, 1.0),
    (0, 0, 1.0),
    (3, 3, 1.0),
    (10, 3, 0.09228515625),     # 2 * P(X <= 3), X ~ Bin(13, 1/2) = 2 * 378 / 8192
    (0, 12, 2 / 4096),
])
def test_exact_mcnemar_textbook_values(b, c, p):
    assert stats.mcnemar(b, c) == pytest.approx(p, rel=1e-12)
    assert stats.mcnemar(c, b) == pytest.approx(p, rel=1e-12)     # two-sided


def test_mcnemar_agrees_with_scipy_for_many_counts():
    scipy_stats = pytest.importorskip("scipy.stats")
    for b, c in [(17, 4), (40, 25), (200, 170), (1, 9), (250, 0)]:
        expected = scipy_stats.binomtest(min(b, c), b + c, 0.5).pvalue
        assert stats.mcnemar(b, c) == pytest.approx(expected, rel=1e-9)


def test_wilson_interval_textbook_values():
    low, high = stats.wilson(440, 450)
    assert (round(low, 4), round(high, 4)) == (0.9596, 0.9879)
    # Newcombe (1998), single proportion, example 81/263: 0.2553 to 0.3662
    low, high = stats.wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert stats.wilson(450, 450)[1] == 1.0 and stats.wilson(0, 10)[0] == 0.0
    with pytest.raises(ValueError, match="successes"):
        stats.wilson(5, 4)


def test_paired_interval_brackets_the_difference_and_matches_the_test():
    for counts in [(440, 0, 1, 9), (430, 12, 2, 6), (444, 0, 6, 0), (450, 0, 0, 0)]:
        a, b, c, d = counts
        diff = (b - c) / sum(counts)
        low, high = stats.paired_interval(*counts)
        assert low <= diff <= high
    assert stats.paired_interval(444, 0, 6, 0)[1] < 0              # 6 vs 0: measurable
    assert stats.paired_interval(449, 0, 1, 0)[0] < 0 < stats.paired_interval(449, 0, 1, 0)[1]


def test_compare_correct_counts_the_discordant_samples():
    first = np.ones(450, bool)
    second = first.copy()
    first[:6] = False                                               # 6 samples only second
    result = stats.compare_correct(first, second)
    assert (result.worse, result.better, result.samples) == (6, 0, 450)
    assert result.value == pytest.approx(-6 / 450) and result.p_value == pytest.approx(0.03125)
    assert result.significant and result.ci[1] < 0
    one = stats.compare_correct(np.r_[False, np.ones(449, bool)], np.ones(450, bool))
    assert one.p_value == 1.0 and not one.significant
    with pytest.raises(ValueError, match="same samples"):
        stats.compare_correct(np.ones(3, bool), np.ones(4, bool))


def test_paired_bootstrap_for_rmse_is_fixed_by_its_seed():
    rng = np.random.default_rng(3)
    base = rng.random(300) * 0.01
    worse = base * 1.5 + 1e-4
    first = stats.compare_errors(worse, base)
    assert first == stats.compare_errors(worse, base)             # same files, same answer
    assert first.value == pytest.approx(math.sqrt(worse.mean()) - math.sqrt(base.mean()))
    assert first.ci[0] <= first.value <= first.ci[1] and first.p_value < 0.05
    noise = stats.compare_errors(base + rng.normal(0, 1e-4, 300) ** 2, base)
    assert noise.ci[0] <= noise.value <= noise.ci[1]
    same = stats.compare_errors(base, base)
    assert (same.value, same.ci, same.p_value) == (0.0, (0.0, 0.0), 1.0)
    low, high = stats.bootstrap_rmse(base)
    assert low <= math.sqrt(base.mean()) <= high


def test_measured_gives_samples_interval_and_paired_change():
    truth = np.arange(450) % 10
    base = truth.copy()
    base[:8] = (base[:8] + 1) % 10
    variant = base.copy()
    variant[8:10] = (variant[8:10] + 1) % 10                       # 2 more samples wrong
    kept = predictions.measured(variant, truth, "accuracy", base)
    accuracy = 440 / 450
    assert kept["samples"] == 450
    assert kept["accuracy_ci"][0] < accuracy < kept["accuracy_ci"][1]
    delta = kept["accuracy_delta"]
    assert delta["value"] == pytest.approx(-2 / 450) and delta["p_value"] == pytest.approx(0.5)
    assert (delta["worse"], delta["better"]) == (2, 0)
    assert predictions.measured(base, truth, "accuracy")["accuracy_delta"]["value"] == 0.0


def test_predictions_round_trip_and_paired_from_files(tmp_path):
    from optimizer import Result

    truth = np.arange(100) % 4
    good, bad = truth.copy(), truth.copy()
    bad[:20] = (bad[:20] + 1) % 4
    predictions.save(tmp_path / "float32", good, truth=truth)
    predictions.save(tmp_path / "integer", bad)
    rows = {name: Result(technique=name, tflite_path=str(tmp_path / name / "model.tflite"))
            for name in ("float32", "integer")}
    test = predictions.paired(rows["integer"], rows["float32"], rows["float32"])
    assert test.worse == 20 and test.better == 0 and test.p_value < 0.001
    assert predictions.paired(rows["integer"], Result(technique="x"), rows["float32"]) is None
    regression = np.linspace(0, 1, 50, dtype=np.float32).reshape(50, 1)
    kept = predictions.per_sample(regression + 0.1, "rmse")
    stats_ = predictions.measured(kept, regression, "rmse", regression)
    assert stats_["accuracy_delta"]["value"] == pytest.approx(0.1, rel=1e-5)
    assert stats_["accuracy_ci"][0] <= 0.1 + 1e-6
