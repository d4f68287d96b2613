"""Select row indices for stratified splits, labeled rows and autoencoder fit rows.

All draws use `np.random.default_rng(seed)`, so the same labels, settings and seed give
the same indices on every run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np

SPLIT_NAMES = ("train", "val", "test")
AE_FIT_CHOICES = ("all", "normal")
# A class needs one row in each of the three splits.
_MIN_ROWS_PER_CLASS = len(SPLIT_NAMES)
_VALID_BUDGETS = (
    'valid budgets are "all", a count >= 1 such as 50, or a fraction in (0, 1] '
    "such as 0.1"
)


@dataclass(frozen=True, eq=False)
class Split:
    """Sorted int64 row indices of the train, validation and test rows."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def split_indices(y: np.ndarray, fractions: Mapping[str, float], seed: int) -> Split:
    """Split rows into disjoint train, val and test indices, stratified by class.

    Each class with n_c rows gets round(f * n_c) rows per split (Python's round, so
    halves go to the even number), raised to at least 1 row. When that overshoots
    n_c, the largest splits give rows back. Sizes depend only on the class counts and
    `fractions`, never on `seed`. Rows left over are in no split, both when the
    fractions sum to less than 1 and when rounding down leaves a row or two per class
    (breast_cancer at 0.6/0.2/0.2 uses 567 of 569 rows). Raises ValueError for invalid
    fractions or a class with fewer than 3 rows.
    """
    values = _validate_fractions(fractions)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        sizes = _class_split_sizes(len(rows), values, label)
        shuffled = rng.permutation(rows)
        bounds = np.cumsum([0, *sizes])
        for k in range(len(SPLIT_NAMES)):
            parts[k].append(shuffled[bounds[k] : bounds[k + 1]])
    train, val, test = (np.sort(np.concatenate(p)).astype(np.int64) for p in parts)
    return Split(train=train, val=val, test=test)


def _validate_fractions(fractions: Mapping[str, float]) -> list[float]:
    keys = set(fractions.keys())
    if keys != set(SPLIT_NAMES):
        raise ValueError(
            f"split fractions must have exactly the keys {SPLIT_NAMES}, "
            f"got {sorted(keys)}"
        )
    values = [fractions[name] for name in SPLIT_NAMES]
    fractions_text = ", ".join(
        f"{n}={v!r}" for n, v in zip(SPLIT_NAMES, values, strict=True)
    )
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValueError(f"split fractions must be numbers, got {fractions_text}")
        if not 0 < value < 1:
            raise ValueError(
                f"each split fraction must be in (0, 1), got {fractions_text}"
            )
    if sum(values) > 1 + 1e-9:
        raise ValueError(
            f"split fractions must sum to at most 1, got {fractions_text} "
            f"(sum {sum(values):g})"
        )
    return [float(v) for v in values]


def _class_split_sizes(count: int, fractions: list[float], label: Any) -> list[int]:
    if count < _MIN_ROWS_PER_CLASS:
        raise ValueError(
            f"class {label.item()!r} has {count} rows; stratified splitting "
            f"needs at least {_MIN_ROWS_PER_CLASS} per class (one per "
            "split)"
        )
    sizes = [max(1, round(f * count)) for f in fractions]
    while sum(sizes) > count:
        sizes[int(np.argmax(sizes))] -= 1
    return sizes


def label_budget_indices(
    y_train: np.ndarray, budget: Any, min_per_class: int, seed: int
) -> np.ndarray:
    """Draw the labeled rows of the training split and return their sorted positions.

    `budget` is "all", a count (an int >= 1, or a string of one such as "50") or a
    fraction: a float in (0, 1], where round(f * n_train) is raised to at least 1, and
    1.0 means all rows. Each class first gets `min_per_class` rows. The rest of the
    budget goes to classes in proportion to their frequency (largest remainder,
    capped at each class's size), and rows within a class are drawn at random.
    Raises ValueError when the budget is invalid or cannot be met.
    """
    y_train = np.asarray(y_train)
    if len(y_train) == 0:
        raise ValueError("the training split is empty, so no rows can be labeled")
    _validate_min_per_class(min_per_class)
    count = _budget_count(budget, len(y_train))
    labels, class_sizes = np.unique(y_train, return_counts=True)
    _check_budget_feasible(budget, count, labels, class_sizes, min_per_class)
    quotas = _class_quotas(count, class_sizes, min_per_class)
    rng = np.random.default_rng(seed)
    chosen = [
        rng.permutation(np.flatnonzero(y_train == label))[:quota]
        for label, quota in zip(labels, quotas, strict=True)
    ]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def _budget_count(budget: Any, n_train: int) -> int:
    if isinstance(budget, str):
        if budget.strip().lower() == "all":
            return n_train
        budget = _parse_budget_text(budget)
    if isinstance(budget, bool) or not isinstance(budget, Real):
        raise ValueError(f"invalid labels.budget={budget!r}; {_VALID_BUDGETS}")
    if isinstance(budget, Integral):
        if budget < 1:
            raise ValueError(f"invalid labels.budget={budget}; {_VALID_BUDGETS}")
        return int(budget)
    if not 0 < budget <= 1:
        raise ValueError(
            f"invalid labels.budget={budget!r}: a float is a fraction "
            f"and must be in (0, 1]; write an int for a count. {_VALID_BUDGETS}"
        )
    return max(1, round(float(budget) * n_train))


def _parse_budget_text(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"invalid labels.budget={text!r}; {_VALID_BUDGETS}") from None


def _validate_min_per_class(min_per_class: Any) -> None:
    if isinstance(min_per_class, bool) or not isinstance(min_per_class, Integral):
        raise ValueError(
            f"labels.min_per_class must be an int >= 0, got {min_per_class!r}"
        )
    if min_per_class < 0:
        raise ValueError(f"labels.min_per_class must be >= 0, got {min_per_class}")


def _check_budget_feasible(
    budget: Any,
    count: int,
    labels: np.ndarray,
    class_sizes: np.ndarray,
    min_per_class: int,
) -> None:
    n_train = int(class_sizes.sum())
    if count > n_train:
        raise ValueError(
            f"labels.budget={budget} exceeds the {n_train} training rows; "
            "use a smaller budget or `all`"
        )
    for label, size in zip(labels, class_sizes, strict=True):
        if size < min_per_class:
            raise ValueError(
                f"class {label.item()!r} has {size} training rows, fewer "
                f"than labels.min_per_class={min_per_class}; lower "
                "min_per_class or give the training split more rows"
            )
    needed = min_per_class * len(labels)
    if count < needed:
        raise ValueError(
            f"labels.budget={budget} gives {count} labeled rows, fewer "
            f"than labels.min_per_class={min_per_class} x {len(labels)} "
            f"classes = {needed}; raise the budget or lower min_per_class"
        )


def _class_quotas(count: int, class_sizes: np.ndarray, min_per_class: int) -> list[int]:
    sizes = [int(size) for size in class_sizes]
    quotas = [min_per_class] * len(sizes)
    # Each round shares the remaining budget among classes that still have unlabeled
    # rows. Shares beyond a class's free rows wait for the next round.
    while sum(quotas) < count:
        grants = _share_round(count - sum(quotas), sizes, quotas)
        quotas = [q + g for q, g in zip(quotas, grants, strict=True)]
    return quotas


def _share_round(remaining: int, sizes: list[int], quotas: list[int]) -> list[int]:
    """Split `remaining` by class size (largest remainder), capped at free rows."""
    free = [size - quota for size, quota in zip(sizes, quotas, strict=True)]
    weight = sum(size for size, rows in zip(sizes, free, strict=True) if rows > 0)
    shares = [
        remaining * size / weight if rows > 0 else 0.0
        for size, rows in zip(sizes, free, strict=True)
    ]
    grants = [
        min(math.floor(share), rows) for share, rows in zip(shares, free, strict=True)
    ]
    leftover = remaining - sum(grants)
    for k in sorted(range(len(sizes)), key=lambda k: shares[k] % 1, reverse=True):
        if leftover > 0 and grants[k] < free[k]:
            grants[k] += 1
            leftover -= 1
    return grants


def ae_fit_indices(y_train: np.ndarray, fit_on: str) -> np.ndarray:
    """Return the training-split positions the autoencoder is fit on.

    "all" selects every training row and ignores the labels. "normal" selects the
    rows with label 0, the usual setting for anomaly detection.
    """
    y_train = np.asarray(y_train)
    if fit_on == "all":
        return np.arange(len(y_train), dtype=np.int64)
    if fit_on == "normal":
        positions = np.flatnonzero(y_train == 0).astype(np.int64)
        if len(positions) == 0:
            raise ValueError(
                "ae.fit_on=normal selects no rows: the training split has "
                "no rows with label 0; use ae.fit_on=all"
            )
        return positions
    raise ValueError(
        f"invalid ae.fit_on={fit_on!r}; valid values are {list(AE_FIT_CHOICES)}"
    )


def ae_budget_indices(positions: np.ndarray, budget: Any, seed: int) -> np.ndarray:
    """Return `budget` of `positions` drawn at random (fixed by `seed`), sorted.

    `budget` is "all" or a count >= 1; a count above len(positions) raises
    ValueError, since drawing fewer rows than asked would change the experiment.
    """
    positions = np.asarray(positions, dtype=np.int64)
    if isinstance(budget, str) and budget.strip().lower() == "all":
        return positions
    if isinstance(budget, str) and budget.strip().isdigit():
        budget = int(budget)
    if isinstance(budget, bool) or not isinstance(budget, Integral) or budget < 1:
        raise ValueError(f"invalid ae.budget={budget!r}; use `all` or a row count >= 1")
    if budget > len(positions):
        raise ValueError(
            f"ae.budget={budget} exceeds the {len(positions)} training rows that "
            "ae.fit_on selects; use a smaller count or `all`"
        )
    # Offset the seed so this draw is independent of the label-budget draw.
    rng = np.random.default_rng([seed, 1])
    return np.sort(rng.choice(positions, size=budget, replace=False))
