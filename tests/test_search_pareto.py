"""The Pareto front over (accuracy, size, latency) of a search's trials."""
from __future__ import annotations

import pytest
from search_helpers import result

from optimizer.guide.pareto import dominates
from optimizer.guide.schema import Result
from optimizer.search.pareto import pareto_front, size_of


def test_dominance_needs_better_somewhere():
    assert dominates((1, 1, 1), (1, 2, 1))
    assert not dominates((1, 1, 1), (1, 1, 1))
    assert not dominates((0, 2, 1), (1, 1, 1))


def test_front_over_three_axes_smallest_first():
    trials = [result("float32", 1000, 0.97, latency=0.3),
              result("float16", 500, 0.97, latency=0.3),     # beats float32 on size alone
              result("dynamic_range", 250, 0.965, latency=0.8),
              result("integer", 260, 0.95, latency=0.5),     # faster than dynamic: stays
              result("int16x8", 300, 0.94, latency=9.0)]     # worse than integer everywhere
    assert pareto_front(trials) == ["dynamic_range", "integer", "float16"]


def test_gzip_measure_and_failed_trials():
    trials = [result("a", 100, 0.9, gzip=90), result("b", 100, 0.9, gzip=50),
              Result.failed("c", "conversion failed")]
    assert pareto_front(trials, "gzip") == ["b"]
    assert pareto_front(trials, "raw") == ["a", "b"]      # identical points are both kept
    assert size_of(trials[1], "gzip") == 50
    with pytest.raises(ValueError, match="raw"):
        size_of(trials[0], "zip")


def test_lower_is_better_metric_and_missing_latency():
    trials = [result("a", 100, 0.20, metric="rmse", higher_is_better=False),
              result("b", 100, 0.10, metric="rmse", higher_is_better=False, latency=None)]
    # b has the lower error at the same size; its unmeasured latency counts as slowest
    assert pareto_front(trials, higher_is_better=False) == ["b", "a"]
    trials[1].latency_ms_median = 0.1
    assert pareto_front(trials, higher_is_better=False) == ["b"]
