"""Load a binary-labelled tabular data set selected by the `dataset` config node.

Every loader returns a `Dataset` with float32 features and int64 labels in {0, 1},
where 1 is the positive class (malignant tumour, fraudulent transaction). Loaders
reject files that would otherwise fail later or train on garbage. These are missing
or empty files and non-numeric cells. They also include non-finite cells, unless
`dataset.missing` drops or imputes them, and labels that are neither 0/1 nor two
values with `positive_label` set.
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

from research.data.csv_reader import (
    csv_features,
    describe_csv_row,
    label_column,
    numeric_column,
    read_csv,
    without_index_column,
)
from research.data.labels import binary_labels
from research.data.missing import check_missing_policy, finite_float32

CREDITCARD_FEATURES = ["Time", *(f"V{i}" for i in range(1, 29)), "Amount"]
CREDITCARD_LABEL = "Class"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Feature matrix, binary labels and provenance of one loaded data set.

    X and y are made read-only so that `fingerprint()` keeps describing the data. X
    contains NaN only when it was loaded with dataset.missing=impute_median.
    `n_duplicate_rows` counts rows equal in features and label to an earlier row.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    name: str
    source: str
    n_duplicate_rows: int = 0

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
    X = np.asarray(bunch.data, dtype=np.float32)
    return Dataset(
        X=X,
        y=y,
        feature_names=[str(n) for n in bunch.feature_names],
        name="breast_cancer",
        source="sklearn.datasets.load_breast_cancer",
        n_duplicate_rows=count_duplicate_rows(X, y),
    )


def _load_creditcard(cfg: Mapping[str, Any]) -> Dataset:
    path = _require_file(cfg.get("path"), example="/path/to/creditcard.csv")
    policy = check_missing_policy(cfg.get("missing"))
    frame = read_csv(path)
    columns = without_index_column(list(frame.columns))
    missing = [c for c in [*CREDITCARD_FEATURES, CREDITCARD_LABEL] if c not in columns]
    if missing:
        raise ValueError(
            f"{path} is missing the credit-card columns {missing}; "
            f"found columns {columns}"
        )
    return _dataset_from_frame(
        frame, CREDITCARD_FEATURES, CREDITCARD_LABEL, "creditcard", path, policy
    )


def _load_csv(cfg: Mapping[str, Any]) -> Dataset:
    path = _require_file(cfg.get("path"), example="/path/to/data.csv")
    policy = check_missing_policy(cfg.get("missing"))
    header = _check_header(cfg.get("header", True))
    frame = read_csv(path, header=header)
    columns = list(frame.columns)
    label = label_column(cfg.get("label"), columns, header, path)
    features = csv_features(columns, label, cfg.get("drop"), path, header)
    return _dataset_from_frame(
        frame, features, label, "csv", path, policy, cfg.get("positive_label")
    )


def _check_header(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        raise ValueError(
            f"invalid dataset.header={value!r}; use true for a file whose first "
            "row names the columns, or false for a file without a header"
        )
    return value


def _load_npz(cfg: Mapping[str, Any]) -> Dataset:
    path = _require_file(cfg.get("path"), example="/path/to/data.npz")
    policy = check_missing_policy(cfg.get("missing"))
    X, y = _read_npz_arrays(path)
    names = [f"x{j}" for j in range(X.shape[1])]
    features, keep = finite_float32(X, names, path, _describe_array_row, policy)
    labels = binary_labels(
        pd.Series(y[keep]), "y", path, _describe_array_row, cfg.get("positive_label")
    )
    return _make_dataset(features, labels, names, "npz", path)


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


def _dataset_from_frame(
    frame: pd.DataFrame,
    features: Sequence[str],
    label: str,
    name: str,
    path: Path,
    policy: str = "error",
    positive_label: Any = None,
) -> Dataset:
    columns = [numeric_column(frame[c], c, path) for c in features]
    X, keep = finite_float32(
        np.column_stack(columns), list(features), path, describe_csv_row, policy
    )
    # NOTE: after dataset.missing=drop, rows named in label errors are counted
    # among the kept rows, not in the file.
    labels = frame[label][keep].reset_index(drop=True)
    y = binary_labels(labels, label, path, describe_csv_row, positive_label)
    return _make_dataset(X, y, list(features), name, path)


def _make_dataset(
    X: np.ndarray, y: np.ndarray, names: list[str], name: str, path: Path
) -> Dataset:
    return Dataset(
        X=X,
        y=y,
        feature_names=names,
        name=name,
        source=str(path),
        n_duplicate_rows=count_duplicate_rows(X, y),
    )


def count_duplicate_rows(X: np.ndarray, y: np.ndarray) -> int:
    """Count rows whose features and label equal those of an earlier row.

    NaN cells count as equal to each other, as in `pandas.DataFrame.duplicated`.
    """
    frame = pd.DataFrame(X)
    frame["__label__"] = y
    return int(frame.duplicated().sum())


def _describe_array_row(position: int) -> str:
    return f"row {position} (0-based)"


_LOADERS: dict[str, Callable[[Mapping[str, Any]], Dataset]] = {
    "breast_cancer": _load_breast_cancer,
    "creditcard": _load_creditcard,
    "csv": _load_csv,
    "npz": _load_npz,
}
