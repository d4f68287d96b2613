"""Load a binary-labelled tabular data set selected by the `dataset` config node.

Every loader returns a `Dataset` with float32 features and int64 labels in {0, 1},
where 1 is the positive class (malignant tumour, fraudulent transaction). Loaders
reject files that would otherwise fail later or train on garbage: missing or empty
files, non-numeric or non-finite cells, and labels that are not a binary 0/1 column.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

CREDITCARD_FEATURES = ["Time", *(f"V{i}" for i in range(1, 29)), "Amount"]
CREDITCARD_LABEL = "Class"
# pandas names a first column with an empty header "Unnamed: 0". DataFrame.to_csv
# writes such a column for the row index unless it is called with index=False.
_INDEX_COLUMN_NAMES = ("", "Unnamed: 0")
_MAX_VALUES_SHOWN = 10


@dataclass(frozen=True, eq=False)
class Dataset:
    """Feature matrix, binary labels and provenance of one loaded data set.

    X and y are made read-only so that `fingerprint()` keeps describing the data.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    name: str
    source: str

    def __post_init__(self) -> None:
        if self.X.ndim != 2 or self.X.dtype != np.float32:
            raise ValueError(
                f"X must be a 2-D float32 array, got {self.X.dtype} "
                f"with shape {self.X.shape}"
            )
        if self.y.ndim != 1 or self.y.dtype != np.int64:
            raise ValueError(
                f"y must be a 1-D int64 array, got {self.y.dtype} "
                f"with shape {self.y.shape}"
            )
        if len(self.y) != len(self.X):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)}")
        if len(self.feature_names) != self.X.shape[1]:
            raise ValueError(
                f"X has {self.X.shape[1]} columns but there are "
                f"{len(self.feature_names)} feature names"
            )
        self.X.setflags(write=False)
        self.y.setflags(write=False)

    def fingerprint(self) -> str:
        """Return the SHA-256 hex digest of X, y and the feature names.

        Arrays are hashed as little-endian bytes together with their shapes, so the
        digest is the same on every platform and independent of `name` and `source`.
        """
        digest = hashlib.sha256()
        for array, dtype in ((self.X, "<f4"), (self.y, "<i8")):
            digest.update(repr(array.shape).encode())
            digest.update(np.ascontiguousarray(array, dtype=dtype).tobytes())
        digest.update(json.dumps(list(self.feature_names)).encode())
        return digest.hexdigest()


def load_dataset(cfg: Mapping[str, Any]) -> Dataset:
    """Load the data set that `cfg.name` selects, using that source's keys in `cfg`.

    `cfg` is the `dataset` config node (a DictConfig or a plain dict). Raises
    ValueError or FileNotFoundError with a message that names the offending path,
    column or value.
    """
    name = cfg.get("name")
    loader = _LOADERS.get(name)
    if loader is None:
        raise ValueError(
            f"unknown dataset.name={name!r}; valid names are {sorted(_LOADERS)}"
        )
    return loader(cfg)


def _load_breast_cancer(cfg: Mapping[str, Any]) -> Dataset:
    bunch = load_breast_cancer()
    # scikit-learn codes malignant as 0 and benign as 1, but malignant is positive here.
    y = 1 - np.asarray(bunch.target, dtype=np.int64)
    return Dataset(
        X=np.asarray(bunch.data, dtype=np.float32),
        y=y,
        feature_names=[str(n) for n in bunch.feature_names],
        name="breast_cancer",
        source="sklearn.datasets.load_breast_cancer",
    )


def _load_creditcard(cfg: Mapping[str, Any]) -> Dataset:
    path = _require_file(cfg.get("path"), example="/path/to/creditcard.csv")
    frame = _read_csv(path)
    columns = _without_index_column(list(frame.columns))
    missing = [c for c in [*CREDITCARD_FEATURES, CREDITCARD_LABEL] if c not in columns]
    if missing:
        raise ValueError(
            f"{path} is missing the credit-card columns {missing}; "
            f"found columns {columns}"
        )
    return _dataset_from_frame(
        frame, CREDITCARD_FEATURES, CREDITCARD_LABEL, name="creditcard", path=path
    )


def _load_csv(cfg: Mapping[str, Any]) -> Dataset:
    path = _require_file(cfg.get("path"), example="/path/to/data.csv")
    label = cfg.get("label") or "label"
    frame = _read_csv(path)
    features = _csv_features(list(frame.columns), label, cfg.get("drop"), path)
    return _dataset_from_frame(frame, features, label, name="csv", path=path)


def _csv_features(columns: list[str], label: str, drop: Any, path: Path) -> list[str]:
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
    features = [c for c in _without_index_column(columns) if c != label]
    features = [c for c in features if c not in drop]
    if not features:
        raise ValueError(
            f"{path} has no feature columns left after removing the "
            f"label {label!r} and dataset.drop={drop}"
        )
    return features


def _load_npz(cfg: Mapping[str, Any]) -> Dataset:
    path = _require_file(cfg.get("path"), example="/path/to/data.npz")
    X, y = _read_npz_arrays(path)
    names = [f"x{j}" for j in range(X.shape[1])]
    features = _finite_float32(X, names, path, _describe_array_row)
    labels = _binary_labels(pd.Series(y), "y", path, _describe_array_row)
    return Dataset(
        X=features, y=labels, feature_names=names, name="npz", source=str(path)
    )


def _read_npz_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not an .npz archive; write one with numpy.savez(path, X=X, y=y)"
        )
    with np.load(path, allow_pickle=False) as archive:
        missing = [key for key in ("X", "y") if key not in archive.files]
        if missing:
            raise ValueError(
                f"{path} has no array {missing}; found arrays "
                f"{archive.files}. Save the arrays under the names X, y"
            )
        X, y = archive["X"], archive["y"]
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            f"{path}: X must be 2-D and y 1-D with one label per row; "
            f"got X shape {X.shape} and y shape {y.shape}"
        )
    if len(X) == 0:
        raise ValueError(f"{path} contains no rows")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: X must be a real-valued array, got dtype {X.dtype}")
    return X, y


def _require_file(value: Any, example: str) -> Path:
    if value is None or str(value).strip() == "":
        raise ValueError(f"dataset.path is not set; set dataset.path={example}")
    path = Path(str(value)).expanduser().resolve()
    if not path.exists():
        raise FileNotFoundError(
            f"dataset.path={value} not found (resolved to {path}); "
            "check the path and the working directory"
        )
    if path.is_dir():
        raise ValueError(
            f"dataset.path={value} is a directory, not a file; "
            "set it to the data file itself"
        )
    if not path.is_file():
        raise ValueError(f"dataset.path={value} is not a regular file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty (0 bytes)")
    return path


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        # low_memory=False infers each column's dtype from the whole column instead
        # of per chunk, so a large file cannot get mixed-type columns.
        frame = pd.read_csv(path, low_memory=False)
    except pd.errors.EmptyDataError as error:
        raise ValueError(f"{path} contains no header row: {error}") from error
    except pd.errors.ParserError as error:
        raise ValueError(f"{path} is not a valid CSV file: {error}") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text: {error}") from error
    if frame.empty:
        raise ValueError(f"{path} has a header but no data rows")
    if len(frame.columns) == 1:
        header = str(frame.columns[0])
        for separator in (";", "\t", "|"):
            if separator in header:
                raise ValueError(
                    f"{path} has one column named {header!r}: its values seem to be "
                    f"separated by {separator!r}. Only comma-separated files are "
                    "read; convert the file to commas"
                )
    return frame


def _without_index_column(columns: list[str]) -> list[str]:
    if columns and str(columns[0]) in _INDEX_COLUMN_NAMES:
        return columns[1:]
    return columns


def _as_column_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(column) for column in value]


def _dataset_from_frame(
    frame: pd.DataFrame, features: Sequence[str], label: str, name: str, path: Path
) -> Dataset:
    columns = [_numeric_column(frame[c], c, path) for c in features]
    X = _finite_float32(
        np.column_stack(columns), list(features), path, _describe_csv_row
    )
    y = _binary_labels(frame[label], label, path, _describe_csv_row)
    return Dataset(X=X, y=y, feature_names=list(features), name=name, source=str(path))


def _numeric_column(column: pd.Series, name: str, path: Path) -> np.ndarray:
    # pandas counts bool columns as numeric, and they become 0.0 and 1.0.
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    numbers = pd.to_numeric(column, errors="coerce")
    invalid = np.flatnonzero(numbers.isna().to_numpy() & column.notna().to_numpy())
    if len(invalid) > 0:
        row = int(invalid[0])
        raise ValueError(
            f"{path}: column {name!r} has the non-numeric value "
            f"{column.iloc[row]!r} in {_describe_csv_row(row)}; every "
            "feature must be a number (drop the column with "
            "dataset.drop or fix the file)"
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _finite_float32(
    values: np.ndarray,
    names: Sequence[str],
    path: Path,
    describe_row: Callable[[int], str],
) -> np.ndarray:
    # Casting first also catches finite float64 values beyond the float32 range.
    with np.errstate(over="ignore"):
        X = np.ascontiguousarray(values, dtype=np.float32)
    bad = np.argwhere(~np.isfinite(X))
    if len(bad) > 0:
        row, column = (int(i) for i in bad[0])
        raise ValueError(
            f"{path}: {len(bad)} cells are empty, NaN, infinite or too "
            f"large for float32; the first is column {names[column]!r} "
            f"in {describe_row(row)}. Clean the file (fill or drop "
            "those rows) before loading it"
        )
    return X


def _binary_labels(
    labels: pd.Series, name: str, path: Path, describe_row: Callable[[int], str]
) -> np.ndarray:
    missing = np.flatnonzero(labels.isna().to_numpy())
    if len(missing) > 0:
        raise ValueError(
            f"{path}: label {name!r} is empty or NaN in "
            f"{describe_row(int(missing[0]))}; every row needs a label"
        )
    distinct = pd.unique(labels)
    if not _is_binary(distinct):
        raise ValueError(
            f"{path}: label {name!r} must contain only 0 and 1, found "
            f"{_show_values(distinct)}; map the classes to 0 (normal) "
            "and 1 (positive) first"
        )
    y = labels.to_numpy().astype(np.int64)
    if len(np.unique(y)) < 2:
        raise ValueError(
            f"{path}: label {name!r} contains only the class {y[0]}; "
            "a classifier needs rows of both classes 0 and 1"
        )
    return y


def _is_binary(values: np.ndarray) -> bool:
    for value in values:
        if isinstance(value, bool | np.bool_):
            continue
        if not isinstance(value, int | float | np.number) or value not in (0, 1):
            return False
    return True


def _show_values(values: np.ndarray) -> str:
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


def _describe_csv_row(position: int) -> str:
    return f"data row {position + 1} (1-based, header not counted)"


def _describe_array_row(position: int) -> str:
    return f"row {position} (0-based)"


_LOADERS: dict[str, Callable[[Mapping[str, Any]], Dataset]] = {
    "breast_cancer": _load_breast_cancer,
    "creditcard": _load_creditcard,
    "csv": _load_csv,
    "npz": _load_npz,
}
