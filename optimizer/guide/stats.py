"""The statistics every accuracy claim rests on (pure NumPy; no SciPy needed).

A test split of n samples measures accuracy in steps of 1/n, so two variants measured on the
same samples are compared as a pair (``reference/precision-graphs-tracking.md``):

* ``wilson(k, n)``: the 95 % Wilson score interval of one accuracy (or agreement).
* ``mcnemar(b, c)``: the exact two-sided McNemar p-value from the discordant samples (b: only
  the first is right, c: only the second), p = min(1, 2·P(X ≤ min(b, c))), X ~ Bin(b+c, 1/2).
* ``paired_interval(both, first, second, neither)``: the 95 % interval of the difference of two
  paired proportions (Newcombe's score method 10, built from the two Wilson intervals).
* ``bootstrap_rmse`` / ``paired_bootstrap_rmse``: a percentile bootstrap of one RMSE, and of
  the difference of two RMSEs resampling the same samples for both, with a fixed seed (the
  same files always give the same interval and p-value).

``compare_correct`` and ``compare_errors`` return a ``Paired`` (the difference first minus
second, its interval, its p-value); ``Paired.to_dict()`` is a result's ``accuracy_delta``.
A difference counts as measured only when ``p < SIGNIFICANCE``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054
#: A difference is claimed only below this p-value.
SIGNIFICANCE = 0.05
#: Bootstrap resamples and the fixed seed (an interval must not change between two readings).
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``n``: 440/450 -> (0.9596, 0.9878)."""
    successes, n = int(successes), int(n)
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"wilson needs 0 <= successes <= n and n > 0, not {successes}/{n}")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _binomial_cdf_half(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), summed in log space (exact for any n)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2)
            for i in range(k + 1)]
    top = max(logs)
    return math.exp(top) * sum(math.exp(v - top) for v in logs)


def mcnemar(b: int, c: int) -> float:
    """The exact two-sided McNemar p-value: b=6, c=0 -> 0.03125; b=1, c=0 -> 1.0; no
    discordant sample -> 1.0."""
    b, c = int(b), int(c)
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, not {b}, {c}")
    if b + c == 0:
        return 1.0
    return min(1.0, 2.0 * _binomial_cdf_half(min(b, c), b + c))


def paired_interval(both: int, first: int, second: int, neither: int,
                    z: float = Z95) -> tuple[float, float]:
    """The 95 % interval of p1 - p2 for paired proportions (Newcombe 1998, method 10):
    ``both`` right, only ``first`` right, only ``second`` right, ``neither`` right."""
    a, b, c, d = (int(v) for v in (both, first, second, neither))
    n = a + b + c + d
    if n <= 0 or min(a, b, c, d) < 0:
        raise ValueError("paired_interval needs non-negative counts and at least one sample")
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, z)
    l2, u2 = wilson(a + c, n, z)
    product = (a + b) * (c + d) * (a + c) * (b + d)
    # Newcombe's phi: a positive association shrunk by n/2 (a continuity correction), a
    # negative one kept as it is
    cross = a * d - b * c
    cross = cross - n / 2 if cross > n / 2 else (cross if cross < 0 else 0.0)
    phi = cross / math.sqrt(product) if product > 0 else 0.0
    delta = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    epsilon = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
                            + (p2 - l2) ** 2))
    theta = p1 - p2
    return max(-1.0, theta - delta), min(1.0, theta + epsilon)


@dataclass(frozen=True)
class Paired:
    """A paired comparison of the first against the second on the same samples.

    ``value`` is first minus second in the metric's units, ``ci`` its 95 % interval,
    ``p_value`` the test's (exact McNemar, or the paired bootstrap for RMSE); ``worse`` and
    ``better`` count the samples only the second / only the first got right (classification),
    ``samples`` how many were compared.
    """

    value: float
    ci: tuple[float, float]
    p_value: float
    samples: int
    worse: int | None = None
    better: int | None = None

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE

    def to_dict(self) -> dict:
        """``{"value", "ci": [lo, hi], "p_value", "samples"}`` plus the discordant counts."""
        out = {"value": float(self.value), "ci": [float(self.ci[0]), float(self.ci[1])],
               "p_value": float(self.p_value), "samples": int(self.samples)}
        if self.worse is not None:
            out.update(worse=int(self.worse), better=int(self.better))
        return out


def compare_correct(first, second) -> Paired:
    """Accuracy of ``first`` minus ``second`` from two boolean arrays (right or wrong on each
    of the same samples), with Newcombe's interval and the exact McNemar p-value."""
    import numpy as np

    first, second = np.asarray(first, bool).reshape(-1), np.asarray(second, bool).reshape(-1)
    if first.shape != second.shape or first.size == 0:
        raise ValueError(f"a paired comparison needs the same samples: {first.size} vs "
                         f"{second.size} results")
    both = int(np.sum(first & second))
    only_first = int(np.sum(first & ~second))
    only_second = int(np.sum(~first & second))
    neither = first.size - both - only_first - only_second
    return Paired(value=(only_first - only_second) / first.size,
                  ci=paired_interval(both, only_first, only_second, neither),
                  p_value=mcnemar(only_first, only_second), samples=int(first.size),
                  worse=only_second, better=only_first)


def _indices(n: int, seed: int, resamples: int):
    import numpy as np

    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_rmse(squared_errors, seed: int = BOOTSTRAP_SEED,
                   resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """The 95 % percentile-bootstrap interval of the RMSE of per-sample squared errors."""
    import numpy as np

    errors = np.asarray(squared_errors, np.float64).reshape(-1)
    if errors.size == 0:
        raise ValueError("no samples to bootstrap")
    rmse = np.sqrt(errors[_indices(errors.size, seed, resamples)].mean(axis=1))
    low, high = np.percentile(rmse, [2.5, 97.5])
    return float(low), float(high)


def compare_errors(first, second, seed: int = BOOTSTRAP_SEED,
                   resamples: int = BOOTSTRAP_RESAMPLES) -> Paired:
    """RMSE of ``first`` minus ``second`` from per-sample squared errors on the same samples:
    a paired percentile bootstrap (the same resampled samples for both) with a fixed seed;
    two-sided p = twice the share of resampled differences on the far side of zero."""
    import numpy as np

    first = np.asarray(first, np.float64).reshape(-1)
    second = np.asarray(second, np.float64).reshape(-1)
    if first.shape != second.shape or first.size == 0:
        raise ValueError(f"a paired comparison needs the same samples: {first.size} vs "
                         f"{second.size} results")
    value = float(np.sqrt(first.mean()) - np.sqrt(second.mean()))
    if np.array_equal(first, second):
        return Paired(value=0.0, ci=(0.0, 0.0), p_value=1.0, samples=int(first.size))
    index = _indices(first.size, seed, resamples)
    diffs = np.sqrt(first[index].mean(axis=1)) - np.sqrt(second[index].mean(axis=1))
    low, high = np.percentile(diffs, [2.5, 97.5])
    tail = min(float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0)))
    p_value = min(1.0, max(2.0 * tail, 1.0 / resamples))
    return Paired(value=value, ci=(float(low), float(high)), p_value=p_value,
                  samples=int(first.size))


def significant(p_value) -> bool:
    """True when a recorded p-value says the difference is measurable (p < 0.05); False when
    it is not, or was not recorded (an older run)."""
    try:
        return float(p_value) < SIGNIFICANCE
    except (TypeError, ValueError):
        return False
