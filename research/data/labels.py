"""Turn a label column into int64 labels in {0, 1}, where 1 is the positive class."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_MAX_VALUES_SHOWN = 10


def binary_labels(
    labels: pd.Series,
    name: str,
    path: Path,
    describe_row: Callable[[int], str],
    positive_label: Any = None,
) -> np.ndarray:
    """Map a label column to int64 0/1 labels, or raise ValueError naming its values.

    Without `positive_label` the column must contain only 0 and 1 (as numbers,
    booleans or the strings "0" and "1"). With it, the column must have exactly two
    distinct values, and rows equal to `positive_label` become 1 and the others 0.
    """
    missing = np.flatnonzero(labels.isna().to_numpy())
    if len(missing) > 0:
        raise ValueError(
            f"{path}: label {name!r} is empty or NaN in "
            f"{describe_row(int(missing[0]))}; every row needs a label"
        )
    distinct = pd.unique(labels)
    if positive_label is not None:
        y = _labels_from_positive(labels, distinct, positive_label, name, path)
    else:
        y = _labels_from_zero_one(labels, distinct, name, path)
    if len(np.unique(y)) < 2:
        raise ValueError(
            f"{path}: label {name!r} contains only the class {y[0]}; "
            "a classifier needs rows of both classes 0 and 1"
        )
    return y


def _labels_from_zero_one(
    labels: pd.Series, distinct: np.ndarray, name: str, path: Path
) -> np.ndarray:
    if len(distinct) > 2:
        raise ValueError(
            f"{path}: label {name!r} must contain only 0 and 1, found "
            f"{show_values(distinct)}; only binary labels are supported, so "
            "map the classes to 0 (normal) and 1 (positive) first"
        )
    if not all(_is_zero_or_one(value) for value in distinct):
        raise ValueError(
            f"{path}: label {name!r} must contain only 0 and 1, found "
            f"{show_values(distinct)}; set dataset.positive_label=<value> to "
            "mark the positive class (it becomes 1, the other value 0)"
        )
    return np.array([int(_as_number(v)) for v in labels.to_numpy()], dtype=np.int64)


def _labels_from_positive(
    labels: pd.Series, distinct: np.ndarray, positive: Any, name: str, path: Path
) -> np.ndarray:
    if len(distinct) != 2:
        raise ValueError(
            f"{path}: dataset.positive_label needs a label {name!r} with exactly "
            f"two distinct values, found {len(distinct)}: {show_values(distinct)}"
        )
    matches = [_same_label(value, positive) for value in distinct]
    if not any(matches):
        raise ValueError(
            f"{path}: dataset.positive_label={positive!r} is not a value of label "
            f"{name!r}, found {show_values(distinct)}; set it to one of them"
        )
    positive_value = distinct[matches.index(True)]
    return (labels.to_numpy() == positive_value).astype(np.int64)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.number):
        return float(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return float(value.strip())
    return None


def _is_zero_or_one(value: Any) -> bool:
    return _as_number(value) in (0.0, 1.0)


def _same_label(value: Any, positive: Any) -> bool:
    """Compare as numbers when both are numbers (1 matches 1.0), else as text."""
    try:
        return float(value) == float(positive)
    except (TypeError, ValueError):
        return str(value).strip() == str(positive).strip()


def show_values(values: np.ndarray) -> str:
    """Format up to 10 distinct values, sorted, for an error message."""
    try:
        ordered = sorted(values)
    except TypeError:
        # Mixed numbers and strings do not compare with each other.
        ordered = sorted(values, key=str)
    first_values = ordered[:_MAX_VALUES_SHOWN]
    text = repr([v.item() if isinstance(v, np.generic) else v for v in first_values])
    if len(values) > _MAX_VALUES_SHOWN:
        text += f" (first {_MAX_VALUES_SHOWN} of {len(values)} distinct values)"
    return text
