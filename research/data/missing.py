"""Check, drop or impute empty, NaN and infinite feature cells.

`dataset.missing` selects the policy. "error" rejects any such cell, "drop" removes
the rows that contain one, and "impute_median" keeps them as NaN at load time so that
`impute_median` can fill them after the split from training-row medians only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

MISSING_POLICIES = ("error", "drop", "impute_median")

log = logging.getLogger(__name__)


def check_missing_policy(value: Any) -> str:
    """Return `dataset.missing`, "error" when unset. Raise ValueError if invalid."""
    if value is None:
        return "error"
    if value not in MISSING_POLICIES:
        raise ValueError(
            f"invalid dataset.missing={value!r}; valid values are "
            f"{list(MISSING_POLICIES)}"
        )
    return str(value)


def finite_float32(
    values: np.ndarray,
    names: Sequence[str],
    path: Path,
    describe_row: Callable[[int], str],
    policy: str = "error",
) -> tuple[np.ndarray, np.ndarray]:
    """Cast `values` to float32 and apply the missing-value `policy`.

    Returns the features and a boolean mask of the rows to keep. Under "error" a
    non-finite cell raises ValueError, under "drop" its row is masked out, and under
    "impute_median" it becomes NaN and its row is kept.
    """
    # Casting first also catches finite float64 values beyond the float32 range.
    with np.errstate(over="ignore", invalid="ignore"):
        X = np.ascontiguousarray(values, dtype=np.float32)
    finite = np.isfinite(X)
    keep = finite.all(axis=1)
    if keep.all():
        return X, keep
    if policy == "error":
        row, column = (int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{path}: {int((~finite).sum())} cells are empty, NaN, infinite or too "
            f"large for float32; the first is column {names[column]!r} "
            f"in {describe_row(row)}. Clean the file (fill or drop "
            "those rows) before loading it, or set dataset.missing=drop or "
            "dataset.missing=impute_median"
        )
    if policy == "drop":
        return _drop_rows(X, keep, path)
    X = np.where(finite, X, np.float32(np.nan))
    log.info(
        "%s: %d rows have empty, NaN or infinite cells; they are kept for "
        "dataset.missing=impute_median",
        path,
        int((~keep).sum()),
    )
    return X, np.ones(len(X), dtype=bool)


def _drop_rows(
    X: np.ndarray, keep: np.ndarray, path: Path
) -> tuple[np.ndarray, np.ndarray]:
    n_dropped = int((~keep).sum())
    if n_dropped == len(X):
        raise ValueError(
            f"{path}: all {len(X)} rows have an empty, NaN or infinite cell, so "
            "dataset.missing=drop leaves no rows; clean the file or set "
            "dataset.missing=impute_median"
        )
    log.info(
        "%s: dropped %d of %d rows with empty, NaN or infinite cells "
        "(dataset.missing=drop)",
        path,
        n_dropped,
        len(X),
    )
    return X[keep], keep


def impute_median(
    x_by_split: Mapping[str, np.ndarray],
    train_key: str = "train",
    feature_names: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Replace NaN and infinite cells with the median of their column's training rows.

    The medians come from `x_by_split[train_key]` only, so validation and test rows
    do not leak into them. Arrays without such cells are returned unchanged, so this
    is a no-op for data loaded under dataset.missing=error or drop. Raises ValueError
    when a column with missing cells has no finite training value.
    """
    if train_key not in x_by_split:
        raise ValueError(
            f"impute_median needs the training rows under {train_key!r}, "
            f"got splits {sorted(x_by_split)}"
        )
    if all(np.isfinite(x).all() for x in x_by_split.values()):
        return dict(x_by_split)
    train = np.asarray(x_by_split[train_key], dtype=np.float32)
    medians = _train_medians(train, x_by_split, feature_names)
    imputed = {}
    for name, x in x_by_split.items():
        x = np.asarray(x, dtype=np.float32)
        rows, columns = np.nonzero(~np.isfinite(x))
        x = x.copy()
        x[rows, columns] = medians[columns]
        imputed[name] = x
    return imputed


def _train_medians(
    train: np.ndarray,
    x_by_split: Mapping[str, np.ndarray],
    feature_names: Sequence[str] | None,
) -> np.ndarray:
    finite_train = np.where(np.isfinite(train), train, np.nan)
    needed = np.zeros(train.shape[1], dtype=bool)
    for x in x_by_split.values():
        needed |= ~np.isfinite(np.asarray(x)).all(axis=0)
    empty = needed & np.isnan(finite_train).all(axis=0)
    if empty.any():
        column = int(np.flatnonzero(empty)[0])
        label = feature_names[column] if feature_names is not None else column
        raise ValueError(
            f"column {label!r} has missing cells but no finite value in the "
            "training rows, so dataset.missing=impute_median has no median for "
            "it; drop the column with dataset.drop or set dataset.missing=drop"
        )
    medians = np.zeros(train.shape[1], dtype=np.float32)
    for column in np.flatnonzero(needed):
        medians[column] = np.nanmedian(finite_train[:, column])
    return medians
