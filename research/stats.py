"""Summary statistics and paired significance tests for the sweep tables."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Paired tests of `paired_test`: "auto" picks the Wilcoxon test when it can reach the
# significance level with the pairs at hand, and the bootstrap otherwise.
TESTS = ("auto", "wilcoxon", "bootstrap")
BOOTSTRAP_RESAMPLES = 10_000
# Fewer pairs get no p-value. NOTE: with 3 to 5 pairs the bootstrap p-value mostly
# shows whether all differences share a sign, so it is optimistic; the exact Wilcoxon
# test cannot go below p = 2 / 2**n there (0.25 for 3 pairs).
MIN_PAIRS = 3


@dataclass(frozen=True)
class MetricSummary:
    """Mean, sample std (ddof=1), count and values of one metric over a cell's runs.

    `mean` is None when n == 0, and `std` is None when n < 2.
    """

    mean: float | None
    std: float | None
    n: int
    values: tuple[float, ...] = ()


@dataclass(frozen=True)
class PairedTest:
    """Mean paired difference (run minus baseline) over `n` pairs, and its p-value.

    `p_value` is None when there are fewer than MIN_PAIRS pairs. `method` is
    "wilcoxon", "bootstrap" or "none".
    """

    difference: float | None
    n: int
    p_value: float | None
    method: str

    def significant(self, alpha: float) -> bool:
        """Return True when the p-value is below `alpha`."""
        return self.p_value is not None and self.p_value < alpha


def summarize(values: Sequence[float]) -> MetricSummary:
    """Return the mean and sample std (ddof=1) of `values`."""
    if not values:
        return MetricSummary(None, None, 0)
    std = statistics.stdev(values) if len(values) > 1 else None
    return MetricSummary(statistics.fmean(values), std, len(values), tuple(values))


def ci_halfwidth(summary: MetricSummary, level: float = 0.95) -> float | None:
    """Return the half-width of the Student t confidence interval of the mean.

    The interval is mean ± t(1 - (1 - level) / 2, n - 1) * std / sqrt(n). Returns None
    when n < 2.
    """
    if summary.std is None or summary.n < 2:
        return None
    # scipy.stats takes about 0.5 s to import, so only tables that need it pay.
    from scipy import stats

    quantile = stats.t.ppf(1 - (1 - level) / 2, summary.n - 1)
    return float(quantile * summary.std / math.sqrt(summary.n))


def lower_is_better(metric: str) -> bool:
    """Return True for losses (names ending in `loss`) and timings (`time/...`)."""
    return metric.endswith("loss") or metric.startswith("time/")


def min_wilcoxon_p(n_pairs: int) -> float:
    """Return the smallest two-sided p-value of an exact Wilcoxon test on n pairs.

    It is 2 / 2**n, reached when all differences have the same sign, so fewer than 6
    pairs can never give p < 0.05.
    """
    return 2.0 / 2.0**n_pairs


def min_wilcoxon_pairs(alpha: float) -> int:
    """Return the fewest pairs with which the Wilcoxon test can reach p <= alpha."""
    n_pairs = 1
    while min_wilcoxon_p(n_pairs) > alpha:
        n_pairs += 1
    return n_pairs


def wilcoxon_p(differences: Sequence[float]) -> float:
    """Return the two-sided p-value of the Wilcoxon signed-rank test.

    Zero differences are dropped (scipy's zero_method="wilcox"); when all are zero
    the p-value is 1.
    """
    if not any(differences):
        return 1.0
    from scipy import stats

    return float(stats.wilcoxon(differences, zero_method="wilcox").pvalue)


def bootstrap_p(
    differences: Sequence[float],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> float:
    """Return the two-sided p-value of a paired bootstrap of the mean difference.

    The pairs are resampled with replacement `resamples` times with a fixed seed.
    The p-value is 2 * (1 + k) / (resamples + 1), capped at 1, where k counts the
    resampled means on the far side of zero from the observed mean (zero included).
    """
    values = np.asarray(differences, dtype=float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    if values.mean() >= 0:
        beyond = int(np.sum(means <= 0))
    else:
        beyond = int(np.sum(means >= 0))
    return min(1.0, 2.0 * (1 + beyond) / (resamples + 1))


def paired_test(
    differences: Sequence[float], alpha: float = 0.05, method: str = "auto"
) -> PairedTest:
    """Test whether paired differences (run minus baseline) have a mean of zero.

    `method` is "wilcoxon", "bootstrap" or "auto". Auto uses the Wilcoxon
    signed-rank test when its smallest possible p-value on the non-zero differences
    is at most `alpha` (6 or more pairs at alpha = 0.05), and the paired bootstrap
    otherwise. Fewer than MIN_PAIRS pairs get no test. Raises ValueError for an
    unknown method.
    """
    if method not in TESTS:
        raise ValueError(f"unknown paired test {method!r}; valid: {', '.join(TESTS)}")
    n = len(differences)
    if n == 0:
        return PairedTest(None, 0, None, "none")
    difference = statistics.fmean(differences)
    if n < MIN_PAIRS:
        return PairedTest(difference, n, None, "none")
    if method == "auto":
        non_zero = sum(1 for value in differences if value != 0)
        method = "wilcoxon" if min_wilcoxon_p(non_zero) <= alpha else "bootstrap"
    if method == "wilcoxon":
        return PairedTest(difference, n, wilcoxon_p(differences), method)
    return PairedTest(difference, n, bootstrap_p(differences), method)
