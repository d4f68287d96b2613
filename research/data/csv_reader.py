"""Read a CSV file into a DataFrame and choose its feature and label columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# pandas names a first column with an empty header "Unnamed: 0". DataFrame.to_csv
# writes such a column for the row index unless it is called with index=False.
_INDEX_COLUMN_NAMES = ("", "Unnamed: 0")
# The csv.yaml default for dataset.label; a file without a header has no such name.
_DEFAULT_LABEL = "label"


def read_csv(path: Path, header: bool = True) -> pd.DataFrame:
    """Read a comma-separated file; without a header, name the columns col_0, col_1."""
    try:
        # low_memory=False infers each column's dtype from the whole column instead
        # of per chunk, so a large file cannot get mixed-type columns.
        frame = pd.read_csv(path, low_memory=False, header=0 if header else None)
    except pd.errors.EmptyDataError as error:
        what = "header row" if header else "rows"
        raise ValueError(f"{path} contains no {what}: {error}") from error
    except pd.errors.ParserError as error:
        raise ValueError(f"{path} is not a valid CSV file: {error}") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text: {error}") from error
    if not header:
        frame.columns = [f"col_{j}" for j in range(len(frame.columns))]
    if frame.empty:
        raise ValueError(f"{path} has a header but no data rows")
    if header and len(frame.columns) == 1:
        _check_separator(str(frame.columns[0]), path)
    return frame


def _check_separator(header: str, path: Path) -> None:
    for separator in (";", "\t", "|"):
        if separator in header:
            raise ValueError(
                f"{path} has one column named {header!r}: its values seem to be "
                f"separated by {separator!r}. Only comma-separated files are "
                "read; convert the file to commas"
            )


def label_column(label: Any, columns: list[str], header: bool, path: Path) -> str:
    """Return the name of the label column that `dataset.label` selects.

    With a header, `label` is a column name. Without one it is a 0-based column
    index, and null or the default "label" select the last column.
    """
    if header:
        return _DEFAULT_LABEL if label is None else str(label)
    if label is None or label == _DEFAULT_LABEL:
        return columns[-1]
    try:
        index = int(str(label).strip())
    except ValueError:
        index = None
    if index is None or isinstance(label, bool | float):
        raise ValueError(
            f"dataset.label={label!r} is not a column index: with "
            "dataset.header=false set dataset.label to a 0-based column number, "
            "or to null for the last column"
        )
    if not -len(columns) <= index < len(columns):
        raise ValueError(
            f"dataset.label={index} is out of range: {path} has {len(columns)} "
            f"columns, so use an index from 0 to {len(columns) - 1}"
        )
    return columns[index]


def csv_features(
    columns: list[str], label: str, drop: Any, path: Path, header: bool = True
) -> list[str]:
    """Return the feature columns: all but the label, `drop` and an index column."""
    drop = _as_column_list(drop)
    if label not in columns:
        raise ValueError(
            f"label column {label!r} not found in {path}; found columns "
            f"{columns}. Set dataset.label=<column>"
        )
    unknown = [c for c in drop if c not in columns]
    if unknown:
        raise ValueError(
            f"dataset.drop names columns {unknown} that are not in "
            f"{path}; found columns {columns}"
        )
    if label in drop:
        raise ValueError(
            f"dataset.drop contains the label column {label!r}; "
            "remove it from dataset.drop"
        )
    if header:
        columns = without_index_column(columns)
    features = [c for c in columns if c != label]
    features = [c for c in features if c not in drop]
    if not features:
        raise ValueError(
            f"{path} has no feature columns left after removing the "
            f"label {label!r} and dataset.drop={drop}"
        )
    return features


def without_index_column(columns: list[str]) -> list[str]:
    """Return `columns` without a first column whose header is empty."""
    if columns and str(columns[0]) in _INDEX_COLUMN_NAMES:
        return columns[1:]
    return columns


def _as_column_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(column) for column in value]


def numeric_column(column: pd.Series, name: str, path: Path) -> np.ndarray:
    """Return the column as float64, NaN for empty cells; raise on a text cell."""
    # pandas counts bool columns as numeric, and they become 0.0 and 1.0.
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    numbers = pd.to_numeric(column, errors="coerce")
    invalid = np.flatnonzero(numbers.isna().to_numpy() & column.notna().to_numpy())
    if len(invalid) > 0:
        row = int(invalid[0])
        raise ValueError(
            f"{path}: column {name!r} has the non-numeric value "
            f"{column.iloc[row]!r} in {describe_csv_row(row)}; every "
            "feature must be a number (drop the column with "
            "dataset.drop or fix the file)"
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def describe_csv_row(position: int) -> str:
    """Describe a 0-based data-row position as the 1-based row a reader counts."""
    return f"data row {position + 1} (1-based, header not counted)"
